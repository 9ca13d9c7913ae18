/* input.c -- the token sequence a command runs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "run.h"
#include "sha256.h"
#include "tokenizer.h"

int tc_input_count(const tc_input *in)
{
    return (in->token_list != NULL) + (in->prompt != NULL) + (in->corpus != NULL) + (in->n_random > 0) +
           (in->tokens != NULL);
}

/* The whole file as a NUL-terminated string (malloc'd). */
static tc_status read_text(const char *path, char **out, size_t *len, tc_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return tc_fail(err, TC_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap + 1);
    while (buf && (k = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += k;
        if (n == cap) {
            char *nb = realloc(buf, (cap *= 2) + 1);
            if (!nb) { free(buf); buf = NULL; }
            buf = nb;
        }
    }
    int bad = ferror(fp);
    fclose(fp);
    if (!buf) return tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    if (bad) {
        free(buf);
        return tc_fail(err, TC_E_IO, "%s: read error", path);
    }
    if (memchr(buf, '\0', n)) {
        free(buf);
        return tc_fail(err, TC_E_USAGE, "%s: expected text, found a NUL byte", path);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return TC_OK;
}

/* A prompt (special tokens recognised) or a corpus (all of it plain
 * text), after BOS, through the model's tokenizer; the tokenizer's hash
 * goes into the description. */
static tc_status text_tokens(const tc_input *in, const tc_model *m, int32_t **out, size_t *n, cJSON *d, tc_err *err)
{
    char *text = NULL;
    size_t len = 0;
    unsigned flags = TC_TOK_ADD_BOS;
    tc_status s;
    if (in->corpus) {
        char sha[TC_SHA256_HEX];
        if ((s = read_text(in->corpus, &text, &len, err))) return s;
        tc_sha256_hex(text, len, sha);
        cJSON_AddStringToObject(d, "source", "corpus");
        cJSON_AddStringToObject(d, "corpus", in->corpus);
        cJSON_AddStringToObject(d, "corpus_sha256", sha);
        cJSON_AddNumberToObject(d, "corpus_bytes", (double)len);
    } else {
        cJSON_AddStringToObject(d, "source", "prompt");
        cJSON_AddStringToObject(d, "prompt", in->prompt);
        flags |= TC_TOK_PARSE_SPECIAL;
    }
    tc_tokenizer *tok;
    if ((s = tc_tokenizer_load(m->gguf, &tok, err))) {
        free(text);
        return s;
    }
    cJSON_AddStringToObject(d, "tokenizer_sha256", tc_tokenizer_sha256(tok));
    s = tc_tokenizer_encode(tok, text ? text : in->prompt, text ? len : strlen(in->prompt), flags, out, n, err);
    if (s && err) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        tc_fail(err, s, "%s: %s", in->corpus ? in->corpus : m->gguf->path, msg);
    }
    tc_tokenizer_free(tok);
    free(text);
    return s;
}

tc_status tc_input_tokens(const tc_input *in, const tc_model *m, int32_t **out, size_t *n, cJSON *desc,
                          tc_err *err)
{
    cJSON *d = desc ? desc : cJSON_CreateObject();
    tc_status s;
    if (in->tokens) {
        cJSON_AddStringToObject(d, "source", "tokens");
        *out = malloc((in->n_tokens ? in->n_tokens : 1) * sizeof **out);
        if (!*out) s = tc_fail(err, TC_E_NOMEM, "out of memory");
        else {
            memcpy(*out, in->tokens, in->n_tokens * sizeof **out);
            *n = in->n_tokens;
            s = TC_OK;
        }
    } else if (in->token_list) {
        cJSON_AddStringToObject(d, "source", "tokens");
        s = tc_parse_token_list(in->token_list, out, n, err);
    } else if (in->prompt || in->corpus) {
        s = text_tokens(in, m, out, n, d, err);
    } else {
        uint32_t nr = in->n_random ? in->n_random : 16;
        cJSON_AddStringToObject(d, "source", "random: GSL mt19937, uniform over the vocabulary");
        cJSON_AddNumberToObject(d, "seed", (double)in->seed);
        *n = nr;
        s = tc_random_tokens(nr, in->seed, m->hp.n_vocab, out, err);
    }
    if (!desc) cJSON_Delete(d);
    return s;
}

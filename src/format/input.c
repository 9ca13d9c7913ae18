/* input.c -- the token sequence a command runs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "base/fileio.h"
#include "base/sha256.h"
#include "format/input.h"
#include "format/tokenizer.h"

/* ---- the prompt, through the model's tokenizer ---- */

/* The prompt text as token ids: BOS as add_bos_token says, special tokens
 * such as <|eot_id|> recognised (prompts carry chat templates). */
tc_status tc_prompt_encode(const tc_tokenizer *tok, const char *path, const char *text, int32_t **out, size_t *n,
                           tc_err *err)
{
    tc_status s = tc_tokenizer_encode(tok, text, strlen(text), TC_TOK_ADD_BOS | TC_TOK_PARSE_SPECIAL, out, n, err);
    return s ? tc_err_prefix(err, path) : TC_OK;
}

tc_status tc_prompt_to_tokens(const tc_model *m, const char *text, int32_t **out, size_t *n, tc_err *err)
{
    tc_tokenizer *tok;
    tc_status s = tc_tokenizer_load(m->gguf, &tok, err);
    if (s) return s;
    s = tc_prompt_encode(tok, m->gguf->path, text, out, n, err);
    tc_tokenizer_free(tok);
    return s;
}

tc_status tc_parse_token_list(const char *list, int32_t **out, size_t *n_out, tc_err *err)
{
    size_t n = 1;
    for (const char *p = list; *p; p++) n += *p == ',';
    int32_t *t = malloc(n * sizeof *t);
    if (!t) return tc_fail(err, TC_E_NOMEM, "out of memory");
    const char *p = list;
    for (size_t i = 0; i < n; i++) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || end == p || (*end && *end != ',') || v < INT32_MIN || v > INT32_MAX) {
            free(t);
            return tc_fail(err, TC_E_USAGE, "invalid token list '%s' (expected ids like 1,2,3)", list);
        }
        t[i] = (int32_t)v;
        p = end + (*end == ',');
    }
    *out = t;
    *n_out = n;
    return TC_OK;
}

tc_status tc_random_tokens(uint32_t n, uint64_t seed, uint32_t n_vocab, int32_t **out, tc_err *err)
{
    int32_t *t = malloc((n ? n : 1) * sizeof *t);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!t || !r) {
        free(t);
        gsl_rng_free(r);
        return tc_fail(err, TC_E_NOMEM, "out of memory");
    }
    gsl_rng_set(r, (unsigned long)seed);
    for (uint32_t i = 0; i < n; i++) t[i] = (int32_t)gsl_rng_uniform_int(r, n_vocab);
    gsl_rng_free(r);
    *out = t;
    return TC_OK;
}

int tc_input_count(const tc_input *in)
{
    return (in->token_list != NULL) + (in->prompt != NULL) + (in->corpus != NULL) + (in->n_random > 0) +
           (in->tokens != NULL);
}

/* The whole text file (at most 1 GiB) as a NUL-terminated string. */
static tc_status read_text(const char *path, char **out, size_t *len, tc_err *err)
{
    tc_status s = tc_read_file(path, (size_t)1 << 30, "a text file", out, len, err);
    if (s) return s;
    if (memchr(*out, '\0', *len)) {
        free(*out);
        *out = NULL;
        return tc_fail(err, TC_E_USAGE, "%s: expected text, found a NUL byte", path);
    }
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
    if (s) tc_err_prefix(err, in->corpus ? in->corpus : m->gguf->path);
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

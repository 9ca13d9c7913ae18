/* run.c -- `tritcheck run`: prompt -> prefill -> greedy decode, with an
 * optional dump of every tap (see run.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dump.h"
#include <gsl/gsl_rng.h>

#include "run.h"

/* ---- helpers ---- */

/* Make err's message start with "path: " (engine messages do not know the
 * file); returns err's status. */
static tc_status prefixed(tc_err *err, const char *path)
{
    size_t n = strlen(path);
    if (!strncmp(err->msg, path, n) && err->msg[n] == ':') return err->status;
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    return tc_fail(err, err->status, "%s: %s", path, msg);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the vocabulary's byte tokens ---- */

/* GPT-2's byte-level alphabet: printable bytes stand for themselves, the
 * other 68 for U+0100 + their rank.  Returns the byte of code point cp, or
 * -1 when cp is not in the alphabet. */
static int gpt2_byte_of(unsigned cp)
{
    static int table[324];
    static int ready = 0;
    if (!ready) {
        for (unsigned i = 0; i < 324; i++) table[i] = -1;
        unsigned k = 0;
        for (unsigned b = 0; b < 256; b++) {
            bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
            table[printable ? b : 256 + k++] = (int)b;
        }
        ready = 1;
    }
    return cp < 324 ? table[cp] : -1;
}

/* Decode one UTF-8 code point from s[0..n); its length in *len, or -1. */
static long utf8_cp(const unsigned char *s, size_t n, size_t *len)
{
    if (n >= 1 && s[0] < 0x80) return *len = 1, s[0];
    if (n >= 2 && (s[0] & 0xe0) == 0xc0 && (s[1] & 0xc0) == 0x80)
        return *len = 2, ((long)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
    return -1;
}

/* The model's token strings and which ids stand for single bytes. */
typedef struct vocab {
    const tc_gguf_value *tokens;   /* array of strings, or NULL */
    bool gpt2;                     /* tokenizer.ggml.model == "gpt2" */
    int32_t byte_token[256];       /* id of byte b's token, or -1 */
} vocab;

/* The bytes token id stands for, appended to buf (cap bytes); false when
 * its string is not a byte token, a byte-level string or plain text. */
static bool token_bytes(const vocab *v, uint32_t id, char *buf, size_t cap, size_t *len)
{
    if (!v->tokens || id >= v->tokens->v.arr.n) return false;
    const tc_gguf_value *t = &v->tokens->v.arr.items[id];
    const unsigned char *s = (const unsigned char *)t->v.str.ptr;
    size_t n = (size_t)t->v.str.len;
    unsigned hex;
    char tail;
    if (n == 6 && !memcmp(s, "<0x", 3) && s[5] == '>' && sscanf((const char *)s + 3, "%2x%c", &hex, &tail) == 2) {
        if (*len + 1 > cap) return false;
        buf[(*len)++] = (char)hex;
        return true;
    }
    for (size_t i = 0, k; i < n; i += k) {
        long cp = utf8_cp(s + i, n - i, &k);
        int b = cp < 0 ? -1 : v->gpt2 ? gpt2_byte_of((unsigned)cp) : (cp < 0x80 ? (int)cp : -1);
        if (cp < 0 && !v->gpt2) {   /* plain text: copy the bytes as they are */
            k = 1;
            b = s[i];
        }
        if (b < 0 || *len + 1 > cap) return false;
        buf[(*len)++] = (char)b;
    }
    return true;
}

static void vocab_init(vocab *v, const tc_gguf *g)
{
    memset(v, 0, sizeof *v);
    for (int b = 0; b < 256; b++) v->byte_token[b] = -1;
    const tc_gguf_kv *kv = tc_gguf_find(g, "tokenizer.ggml.tokens");
    if (!kv || kv->value.type != TC_GGUF_ARRAY || kv->value.v.arr.type != TC_GGUF_STRING) return;
    v->tokens = &kv->value;
    const tc_gguf_kv *model = tc_gguf_find(g, "tokenizer.ggml.model");
    v->gpt2 = model && model->value.type == TC_GGUF_STRING && model->value.v.str.len == 4 &&
              !memcmp(model->value.v.str.ptr, "gpt2", 4);
    /* byte b's token: <0xNN> first, else a one-byte byte-level string */
    for (uint64_t id = 0; id < v->tokens->v.arr.n && id < INT32_MAX; id++) {
        const tc_gguf_value *t = &v->tokens->v.arr.items[id];
        char buf[8];
        size_t len = 0;
        if (t->v.str.len > 6 || !token_bytes(v, (uint32_t)id, buf, sizeof buf, &len) || len != 1) continue;
        unsigned char b = (unsigned char)buf[0];
        bool hex_form = t->v.str.len == 6;
        if (v->byte_token[b] < 0 || hex_form) v->byte_token[b] = (int32_t)id;
    }
}

/* The prompt text as byte tokens, after BOS when the model has one. */
static tc_status prompt_tokens(const tc_model *m, const vocab *v, const char *text, int32_t **out, size_t *n,
                               tc_err *err)
{
    const char *path = m->gguf->path;
    size_t len = strlen(text), k = 0;
    int32_t *t = malloc((len + 1) * sizeof *t);
    if (!t) return tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    uint64_t bos;
    tc_err ignore;
    if (tc_gguf_find(m->gguf, "tokenizer.ggml.bos_token_id") &&
        tc_gguf_get_uint(m->gguf, "tokenizer.ggml.bos_token_id", INT32_MAX, &bos, &ignore) == TC_OK)
        t[k++] = (int32_t)bos;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)text[i];
        if (v->byte_token[b] < 0) {
            free(t);
            return tc_fail(err, TC_E_UNSUPPORTED, "%s: the vocabulary has no token for byte 0x%02X of the prompt "
                           "(the BPE tokenizer is not built yet: use --tokens)", path, b);
        }
        t[k++] = v->byte_token[b];
    }
    *out = t;
    *n = k;
    return TC_OK;
}

tc_status tc_prompt_to_tokens(const tc_model *m, const char *text, int32_t **out, size_t *n, tc_err *err)
{
    vocab v;
    vocab_init(&v, m->gguf);
    return prompt_tokens(m, &v, text, out, n, err);
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

/* Print ids, then the text where every token's string allows it. */
static void print_tokens(FILE *out, const char *label, const vocab *v, const int32_t *t, size_t n)
{
    fprintf(out, "%s:", label);
    for (size_t i = 0; i < n; i++) fprintf(out, " %" PRId32, t[i]);
    fputc('\n', out);
    size_t cap = 64 * n + 1, len = 0;
    char *buf = malloc(cap);
    bool ok = buf != NULL;
    for (size_t i = 0; ok && i < n; i++) ok = token_bytes(v, (uint32_t)t[i], buf, cap, &len);
    if (ok) {
        fprintf(out, "%s text: \"", label);
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)buf[i];
            if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
            else if (c < 0x20 || c == 0x7f) fprintf(out, "\\x%02x", c);
            else fputc(c, out);
        }
        fprintf(out, "\"\n");
    }
    free(buf);
}

/* ---- the run ---- */

/* Generate greedily after the prompt; fills gen[0..*n_gen) and records
 * the fed tokens in the dump. */
static tc_status generate(tc_engine *e, const tc_model *m, const int32_t *prompt, size_t n_prompt,
                          const tc_run_opts *o, int32_t *gen, size_t *n_gen, tc_dump *dump, FILE *info,
                          tc_err *err)
{
    tc_status s;
    uint64_t eos = UINT64_MAX;
    tc_err ignore;
    if (tc_gguf_find(m->gguf, "tokenizer.ggml.eos_token_id"))
        tc_gguf_get_uint(m->gguf, "tokenizer.ggml.eos_token_id", INT32_MAX, &eos, &ignore);
    double t0 = now_s();
    if ((s = tc_engine_prefill(e, prompt, (uint32_t)n_prompt, 0, err))) return s;
    if (dump && (s = tc_dump_add_tokens(dump, prompt, n_prompt, err))) return s;
    double t1 = now_s();
    size_t k = 0, steps = 0;
    const char *why = NULL;
    while (k < o->n_predict) {
        gen[k] = (int32_t)tc_argmax(tc_engine_logits(e), m->hp.n_vocab);
        k++;
        if ((uint64_t)gen[k - 1] == eos) { why = "end of text"; break; }
        if (k == o->n_predict) break;
        if (tc_engine_n_past(e) >= tc_engine_options(e)->n_ctx) { why = "context full"; break; }
        if ((s = tc_engine_decode(e, gen[k - 1], err))) return s;
        if (dump && (s = tc_dump_add_tokens(dump, &gen[k - 1], 1, err))) return s;
        steps++;
    }
    double t2 = now_s();
    *n_gen = k;
    if (info) {
        fprintf(info, "%s %s, %d thread%s: prefill %zu tokens in %.3f s; %zu decode steps in %.3f s (%.3f s/token)%s%s\n",
                tc_engine_name(e), tc_precision_name(tc_engine_options(e)->precision), tc_engine_options(e)->n_threads,
                tc_engine_options(e)->n_threads == 1 ? "" : "s", n_prompt, t1 - t0, steps, t2 - t1,
                steps ? (t2 - t1) / (double)steps : 0.0, why ? "; stopped: " : "", why ? why : "");
    }
    return TC_OK;
}

tc_status tc_run(const char *model_path, const tc_run_opts *o, FILE *out, FILE *info, tc_err *err)
{
    tc_model *m = NULL;
    tc_engine *e = NULL;
    tc_dump *dump = NULL;
    int32_t *owned = NULL, *gen = NULL;
    const int32_t *prompt = o->tokens;
    size_t n_prompt = o->n_tokens, n_gen = 0;
    vocab v;
    tc_status s = tc_model_load(model_path, &m, err);
    if (s) return s;
    const char *path = m->gguf->path;
    vocab_init(&v, m->gguf);

    /* the prompt: ids checked here, so that errors name the file */
    if (o->prompt && (s = prompt_tokens(m, &v, o->prompt, &owned, &n_prompt, err))) goto done;
    if (o->prompt) prompt = owned;
    const uint32_t n_ctx = o->eng.n_ctx ? o->eng.n_ctx : m->hp.n_ctx;
    if (n_prompt == 0) {
        s = tc_fail(err, TC_E_USAGE, "%s: empty prompt", path);
        goto done;
    }
    if (n_prompt > n_ctx) {
        s = tc_fail(err, TC_E_RANGE, "%s: prompt of %zu tokens is longer than the context (%" PRIu32 ")", path,
                    n_prompt, n_ctx);
        goto done;
    }
    for (size_t i = 0; i < n_prompt; i++)
        if (prompt[i] < 0 || (uint32_t)prompt[i] >= m->hp.n_vocab) {
            s = tc_fail(err, TC_E_RANGE, "%s: token %" PRId32 " (index %zu) is outside the vocabulary (0..%" PRIu32 ")",
                        path, prompt[i], i, m->hp.n_vocab - 1);
            goto done;
        }

    /* the engine, with the dump as its tap callback */
    if ((s = tc_engine_open(o->engine ? o->engine : "ref", m, &o->eng, &e, err))) goto done;
    if (o->dump_dir) {
        if (!(dump = tc_dump_new())) {
            s = tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
            goto done;
        }
        tc_dump_set_engine(dump, tc_engine_name(e), tc_precision_name(o->eng.precision), err);
        tc_engine_set_tap(e, tc_dump_tap_fn, dump);
    }
    if (!(gen = malloc(((size_t)o->n_predict + 1) * sizeof *gen))) {
        s = tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((s = generate(e, m, prompt, n_prompt, o, gen, &n_gen, dump, info, err))) goto done;

    /* results, then the dump (written whole or not at all) */
    if (dump && (s = tc_dump_write(dump, o->dump_dir, err))) goto done;
    print_tokens(out, "prompt", &v, prompt, n_prompt);
    print_tokens(out, "generated", &v, gen, n_gen);
done:
    if (s) prefixed(err, m ? m->gguf->path : model_path);
    free(gen);
    free(owned);
    tc_dump_free(dump);
    tc_engine_free(e);
    tc_model_free(m);
    return s;
}

/* tokenizer_vocab.c -- a tokenizer built from GGUF metadata: the token
 * strings turned into raw bytes, the vocabulary and merge tables, the
 * SentencePiece ranks, the special tokens, the pre-tokenizer expression and
 * the SHA-256 that identifies it all (see tokenizer.h and tokenizer_impl.h;
 * encoding and decoding are in tokenizer.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "format/tokenizer_impl.h"

/* The pre-tokenizer expressions, as llama.cpp and Hugging Face spell them. */
static const char LLAMA3_RE[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char GPT2_RE[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/* ---- hash tables ---- */

/* Smallest power of two >= 2n (load factor <= 1/2), at least 16. */
static size_t table_size(size_t n)
{
    size_t c = 16;
    while (c < 2 * n) c <<= 1;
    return c;
}

/* Insert id under its raw bytes unless an earlier token has them. */
static void text_insert(tc_tokenizer *t, int32_t id)
{
    size_t mask = t->text_cap - 1, n = raw_len(t, id);
    const uint8_t *s = t->bytes + t->off[id];
    size_t i = (size_t)hash_bytes(s, n) & mask;
    for (; t->text_slot[i] >= 0; i = (i + 1) & mask) {
        int32_t o = t->text_slot[i];
        if (raw_len(t, o) == n && !memcmp(t->bytes + t->off[o], s, n)) return;
    }
    t->text_slot[i] = id;
}

/* ---- metadata ---- */

/* The tokenizer.ggml.<name> value, checked to be an array of n elements
 * (n = 0: any length) of strings (want_str) or numbers. */
static tc_status get_array(const tc_gguf *g, const char *name, bool want_str, uint64_t n, bool required,
                           const tc_gguf_value **out, tc_err *err)
{
    char key[64];
    snprintf(key, sizeof key, "tokenizer.ggml.%s", name);
    const tc_gguf_kv *kv = tc_gguf_find(g, key);
    *out = NULL;
    if (!kv) return required ? tc_fail(err, TC_E_MODEL, "%s: %s: missing (expected an array of %s)", g->path, key,
                                       want_str ? "strings" : "numbers") : TC_OK;
    const tc_gguf_value *v = &kv->value;
    bool is_str = v->type == TC_GGUF_ARRAY && v->v.arr.type == TC_GGUF_STRING;
    bool is_num = v->type == TC_GGUF_ARRAY && tc_gguf_vtype_size(v->v.arr.type) > 0;
    if (want_str ? !is_str : !is_num)
        return tc_fail(err, TC_E_MODEL, "%s: %s: expected an array of %s", g->path, key,
                       want_str ? "strings" : "numbers");
    if (n && v->v.arr.n != n)
        return tc_fail(err, TC_E_MODEL, "%s: %s: %" PRIu64 " entries, expected %" PRIu64 " (one per token)",
                       g->path, key, v->v.arr.n, n);
    *out = v;
    return TC_OK;
}

/* An optional token id key: -1 when absent; must name a token. */
static tc_status get_id(const tc_gguf *g, const char *key, uint32_t n_vocab, int32_t *out, tc_err *err)
{
    uint64_t v;
    *out = -1;
    if (!tc_gguf_find(g, key)) return TC_OK;
    tc_status s = tc_gguf_get_uint(g, key, UINT32_MAX, &v, err);
    if (s) return s;
    if (v >= n_vocab)
        return tc_fail(err, TC_E_MODEL, "%s: %s: %" PRIu64 " is outside the vocabulary (expected < %" PRIu32 ")",
                       g->path, key, v, n_vocab);
    *out = (int32_t)v;
    return TC_OK;
}

/* An optional bool key, else dflt. */
static tc_status get_bool(const tc_gguf *g, const char *key, bool dflt, bool *out, tc_err *err)
{
    const tc_gguf_kv *kv = tc_gguf_find(g, key);
    *out = dflt;
    if (!kv) return TC_OK;
    if (kv->value.type != TC_GGUF_BOOL)
        return tc_fail(err, TC_E_MODEL, "%s: %s: expected a bool, found %s", g->path, key,
                       tc_gguf_vtype_name(kv->value.type));
    *out = kv->value.v.b;
    return TC_OK;
}

/* An optional string key compared against expected values; "" when absent. */
static bool str_is(const tc_gguf_kv *kv, const char *s)
{
    return kv && kv->value.type == TC_GGUF_STRING && kv->value.v.str.len == strlen(s) &&
           !memcmp(kv->value.v.str.ptr, s, strlen(s));
}

/* ---- token strings to raw bytes ---- */

/* GPT-2's byte-level alphabet: printable bytes stand for themselves, the
 * other 68 for U+0100 + their rank.  byte_of[cp] for cp < 324, -1 outside. */
static void gpt2_alphabet(int16_t byte_of[324])
{
    for (unsigned i = 0; i < 324; i++) byte_of[i] = -1;
    unsigned k = 0;
    for (unsigned b = 0; b < 256; b++) {
        bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
        byte_of[printable ? b : 256 + k++] = (int16_t)b;
    }
}

/* A byte token "<0xNN>"; the byte, or -1. */
static int hex_byte(const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (n != 6 || memcmp(s, "<0x", 3) || s[5] != '>') return -1;
    const char *hi = memchr(hex, s[3], 16), *lo = memchr(hex, s[4], 16);
    return hi && lo && s[3] && s[4] ? (int)((hi - hex) << 4 | (lo - hex)) : -1;
}

/* Token string s[0..n) as raw bytes into out (room for n bytes: no form
 * is longer than its string); returns the byte count. */
static size_t raw_bytes(const tc_tokenizer *t, const int16_t *byte_of, uint8_t type, const char *s, size_t n,
                        uint8_t *out)
{
    int b = hex_byte(s, n);
    if (b >= 0 && (type == TYPE_BYTE || (!t->bpe && type == TYPE_UNDEFINED))) {
        out[0] = (uint8_t)b;
        return 1;
    }
    if (type == TYPE_CONTROL || type == TYPE_USER_DEFINED || type == TYPE_UNKNOWN) {
        memcpy(out, s, n);   /* specials are written as they are */
        return n;
    }
    size_t k = 0;
    for (size_t i = 0, len = 1; i < n; i += len) {
        long cp = utf8_decode((const uint8_t *)s + i, n - i, &len);
        if (t->bpe && cp >= 0 && cp < 324 && byte_of[cp] >= 0) {
            out[k++] = (uint8_t)byte_of[cp];
        } else if (!t->bpe && cp == 0x2581) {   /* "▁" is SentencePiece's space */
            out[k++] = ' ';
        } else {
            /* not in the alphabet: keep the bytes as written (lenient, like
             * a plain-text token) */
            len = cp < 0 ? 1 : len;
            memcpy(out + k, s + i, len);
            k += len;
        }
    }
    return k;
}

/* ---- loading ---- */

/* Copy the strings and types, build raw bytes and the text table. */
static tc_status load_tokens(tc_tokenizer *t, const tc_gguf *g, const tc_gguf_value *tokens,
                             const tc_gguf_value *types, tc_err *err)
{
    size_t total = 0, n = t->n_vocab;
    for (size_t i = 0; i < n; i++) total += (size_t)tokens->v.arr.items[i].v.str.len;
    t->piece = calloc(n, sizeof *t->piece);
    t->piece_len = malloc(n * sizeof *t->piece_len);
    t->off = malloc((n + 1) * sizeof *t->off);
    t->type = malloc(n);
    t->bytes = malloc(total + 1);
    t->text_cap = table_size(n);
    t->text_slot = malloc(t->text_cap * sizeof *t->text_slot);
    if (!t->piece || !t->piece_len || !t->off || !t->type || !t->bytes || !t->text_slot)
        return tc_fail(err, TC_E_NOMEM, "%s: out of memory for the vocabulary", g->path);
    int16_t byte_of[324];
    gpt2_alphabet(byte_of);
    t->off[0] = 0;
    for (size_t i = 0; i < n; i++) {
        const tc_gguf_value *s = &tokens->v.arr.items[i];
        size_t len = (size_t)s->v.str.len;
        if (len > UINT32_MAX) return tc_fail(err, TC_E_MODEL, "%s: tokenizer.ggml.tokens[%zu]: too long", g->path, i);
        if (!(t->piece[i] = malloc(len + 1))) return tc_fail(err, TC_E_NOMEM, "%s: out of memory", g->path);
        memcpy(t->piece[i], s->v.str.ptr, len);
        t->piece[i][len] = 0;
        t->piece_len[i] = (uint32_t)len;
        double ty = types ? tc_gguf_array_num(types, i) : TYPE_NORMAL;
        t->type[i] = ty >= 0 && ty <= TYPE_BYTE && ty == (int)ty ? (uint8_t)ty : TYPE_UNDEFINED;
        if (!types && !t->bpe && hex_byte(t->piece[i], len) >= 0) t->type[i] = TYPE_BYTE;
        t->off[i + 1] = t->off[i] + raw_bytes(t, byte_of, t->type[i], t->piece[i], len, t->bytes + t->off[i]);
    }
    /* the text table holds the tokens that text may become by merging */
    memset(t->text_slot, 0xff, t->text_cap * sizeof *t->text_slot);
    for (int b = 0; b < 256; b++) t->byte_token[b] = -1;
    for (size_t i = 0; i < n; i++) {
        uint8_t ty = t->type[i];
        if (ty == TYPE_BYTE && raw_len(t, (int32_t)i) == 1) {
            if (t->byte_token[t->bytes[t->off[i]]] < 0) t->byte_token[t->bytes[t->off[i]]] = (int32_t)i;
        } else if (ty != TYPE_CONTROL && ty != TYPE_UNKNOWN && ty != TYPE_USER_DEFINED && raw_len(t, (int32_t)i) > 0) {
            text_insert(t, (int32_t)i);
        }
    }
    return TC_OK;
}

/* Byte-level BPE needs a token for every byte (they are where merging starts). */
static tc_status load_byte_tokens(tc_tokenizer *t, const tc_gguf *g, tc_err *err)
{
    for (int b = 0; b < 256; b++) {
        uint8_t c = (uint8_t)b;
        int32_t id = text_find(t, &c, 1);
        if (t->byte_token[b] < 0) t->byte_token[b] = id;
        if (t->bpe && t->byte_token[b] < 0)
            return tc_fail(err, TC_E_MODEL, "%s: tokenizer.ggml.tokens: no token for byte 0x%02X "
                           "(a byte-level BPE vocabulary must cover all 256 bytes)", g->path, b);
    }
    return TC_OK;
}

/* The merges "A B" -> (id A, id B) -> (rank, id AB). */
static tc_status load_merges(tc_tokenizer *t, const tc_gguf *g, const tc_gguf_value *merges, tc_err *err)
{
    size_t n = (size_t)merges->v.arr.n;
    if (n >= UINT32_MAX) return tc_fail(err, TC_E_MODEL, "%s: tokenizer.ggml.merges: too many", g->path);
    t->merge_cap = table_size(n);
    if (!(t->merge = malloc(t->merge_cap * sizeof *t->merge)))
        return tc_fail(err, TC_E_NOMEM, "%s: out of memory for the merges", g->path);
    for (size_t i = 0; i < t->merge_cap; i++) t->merge[i].key = UINT64_MAX;
    int16_t byte_of[324];
    gpt2_alphabet(byte_of);
    uint8_t buf[512];
    for (size_t r = 0; r < n; r++) {
        const char *s = merges->v.arr.items[r].v.str.ptr;
        size_t len = (size_t)merges->v.arr.items[r].v.str.len;
        /* split at the first space after the first byte, as llama.cpp does */
        const char *sp = len > 1 ? memchr(s + 1, ' ', len - 1) : NULL;
        if (!sp || len > sizeof buf)
            return tc_fail(err, TC_E_MODEL, "%s: tokenizer.ggml.merges[%zu] '%.*s': expected two tokens "
                           "separated by a space", g->path, r, (int)(len > 80 ? 80 : len), s);
        size_t la = (size_t)(sp - s), lb = len - la - 1;
        size_t ra = raw_bytes(t, byte_of, TYPE_NORMAL, s, la, buf);
        size_t rb = raw_bytes(t, byte_of, TYPE_NORMAL, sp + 1, lb, buf + ra);
        int32_t a = text_find(t, buf, ra), b = text_find(t, buf + ra, rb), ab = text_find(t, buf, ra + rb);
        if (a < 0 || b < 0)
            return tc_fail(err, TC_E_MODEL, "%s: tokenizer.ggml.merges[%zu] '%.*s': names an unknown token '%.*s'",
                           g->path, r, (int)(len > 80 ? 80 : len), s, a < 0 ? (int)la : (int)lb, a < 0 ? s : sp + 1);
        if (ab < 0)
            return tc_fail(err, TC_E_MODEL, "%s: tokenizer.ggml.merges[%zu] '%.*s': the merged token is not in the "
                           "vocabulary", g->path, r, (int)(len > 80 ? 80 : len), s);
        uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
        size_t mask = t->merge_cap - 1, k = (size_t)hash_u64(key) & mask;
        while (t->merge[k].key != UINT64_MAX && t->merge[k].key != key) k = (k + 1) & mask;
        if (t->merge[k].key == key) continue;   /* a repeated merge keeps its first rank */
        t->merge[k] = (merge_slot){ key, (uint32_t)r, ab };
    }
    t->n_merges = n;
    return TC_OK;
}

/* SentencePiece merges by score: each token's rank, highest score first;
 * equal scores share a rank so that ties fall to the leftmost pair. */
typedef struct scored { float score; int32_t id; } scored;

static int by_score(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    return x->score > y->score ? -1 : x->score < y->score ? 1 : (x->id > y->id) - (x->id < y->id);
}

static tc_status load_scores(tc_tokenizer *t, const tc_gguf *g, const tc_gguf_value *scores, tc_err *err)
{
    size_t n = t->n_vocab;
    scored *order = malloc(n * sizeof *order);
    t->spm_rank = malloc(n * sizeof *t->spm_rank);
    if (!order || !t->spm_rank) {
        free(order);
        return tc_fail(err, TC_E_NOMEM, "%s: out of memory for the scores", g->path);
    }
    for (size_t i = 0; i < n; i++)
        order[i] = (scored){ scores ? (float)tc_gguf_array_num(scores, i) : 0.0f, (int32_t)i };
    qsort(order, n, sizeof *order, by_score);
    for (size_t i = 0; i < n; i++)
        t->spm_rank[order[i].id] = i && order[i].score == order[i - 1].score ? t->spm_rank[order[i - 1].id]
                                                                             : (uint32_t)i;
    free(order);
    return TC_OK;
}

/* Specials grouped by first byte, longest first, so the longest match wins. */
typedef struct special_key { uint8_t first; size_t len; int32_t id; } special_key;

static int by_first_byte_longest(const void *a, const void *b)
{
    const special_key *x = a, *y = b;
    if (x->first != y->first) return x->first - y->first;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static bool is_special(const tc_tokenizer *t, uint32_t id)
{
    return (t->type[id] == TYPE_CONTROL || t->type[id] == TYPE_USER_DEFINED) && raw_len(t, (int32_t)id) > 0;
}

static tc_status load_specials(tc_tokenizer *t, const tc_gguf *g, tc_err *err)
{
    size_t n = 0;
    for (uint32_t i = 0; i < t->n_vocab; i++) n += is_special(t, i);
    special_key *keys = malloc((n ? n : 1) * sizeof *keys);
    t->special = malloc((n ? n : 1) * sizeof *t->special);
    if (!keys || !t->special) {
        free(keys);
        return tc_fail(err, TC_E_NOMEM, "%s: out of memory", g->path);
    }
    n = 0;
    for (uint32_t i = 0; i < t->n_vocab; i++)
        if (is_special(t, i)) keys[n++] = (special_key){ t->bytes[t->off[i]], raw_len(t, (int32_t)i), (int32_t)i };
    qsort(keys, n, sizeof *keys, by_first_byte_longest);
    /* special_start[b]..special_start[b + 1]: the specials starting with byte b */
    size_t k = 0;
    for (int b = 0; b < 256; b++) {
        t->special_start[b] = k;
        while (k < n && keys[k].first == b) t->special[k] = keys[k].id, k++;
    }
    t->special_start[256] = k;
    free(keys);
    return TC_OK;
}

static tc_status compile_regex(tc_tokenizer *t, const tc_gguf *g, const char *pattern, tc_err *err)
{
    int code;
    PCRE2_SIZE at;
    uint32_t opts = PCRE2_UTF | PCRE2_UCP;
#ifdef PCRE2_MATCH_INVALID_UTF
    opts |= PCRE2_MATCH_INVALID_UTF;   /* stray bytes never match: they become byte tokens */
#endif
    t->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &code, &at, NULL);
    if (!t->re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        return tc_fail(err, TC_E_UNSUPPORTED, "%s: the pre-tokenizer expression does not compile at %zu: %s",
                       g->path, (size_t)at, (const char *)msg);
    }
    pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE);   /* the interpreter serves where JIT is absent */
    return TC_OK;
}

/* Settings that decide the pre-tokenizer. */
static tc_status load_pre(tc_tokenizer *t, const tc_gguf *g, tc_err *err)
{
    const tc_gguf_kv *pre = tc_gguf_find(g, "tokenizer.ggml.pre");
    if (!t->bpe) return TC_OK;
    if (!pre || str_is(pre, "default") || str_is(pre, "gpt2")) {
        snprintf(t->pre, sizeof t->pre, "gpt2");
        return compile_regex(t, g, GPT2_RE, err);
    }
    if (str_is(pre, "llama-bpe") || str_is(pre, "llama3")) {
        snprintf(t->pre, sizeof t->pre, "llama-bpe");
        t->ignore_merges = true;
        return compile_regex(t, g, LLAMA3_RE, err);
    }
    if (pre->value.type != TC_GGUF_STRING)
        return tc_fail(err, TC_E_MODEL, "%s: tokenizer.ggml.pre: expected a string", g->path);
    return tc_fail(err, TC_E_UNSUPPORTED, "%s: tokenizer.ggml.pre '%.*s' is not supported (expected llama-bpe or gpt2)",
                   g->path, (int)(pre->value.v.str.len > 60 ? 60 : pre->value.v.str.len), pre->value.v.str.ptr);
}

/* ---- the SHA-256 over everything that decides the ids ---- */

/* A length-prefixed string (little-endian u64 length) into the digest. */
static void put_str(tc_sha256_stream *h, const void *s, uint64_t n)
{
    tc_sha256_update(h, &n, sizeof n);
    tc_sha256_update(h, s, (size_t)n);
}

static tc_status hash_settings(tc_tokenizer *t, const tc_gguf *g, const tc_gguf_value *merges,
                               const tc_gguf_value *scores, tc_err *err)
{
    tc_sha256_stream *h = tc_sha256_begin();
    if (!h) return tc_fail(err, TC_E_NOMEM, "%s: out of memory hashing the tokenizer", g->path);
    static const char tag[] = "tritcheck.tokenizer/1";
    const char *model = t->bpe ? "gpt2" : "llama";
    const char *re = !t->bpe ? "" : t->ignore_merges ? LLAMA3_RE : GPT2_RE;
    put_str(h, tag, sizeof tag - 1);
    put_str(h, model, strlen(model));
    put_str(h, t->pre, strlen(t->pre));
    put_str(h, re, strlen(re));
    int64_t v[6] = { t->n_vocab, t->bos, t->eos, t->add_bos, t->add_eos, t->add_space_prefix };
    tc_sha256_update(h, v, sizeof v);
    for (uint32_t i = 0; i < t->n_vocab; i++) {
        float sc = scores ? (float)tc_gguf_array_num(scores, i) : 0.0f;
        put_str(h, t->piece[i], t->piece_len[i]);
        tc_sha256_update(h, &t->type[i], 1);
        tc_sha256_update(h, &sc, sizeof sc);
    }
    uint64_t nm = merges ? merges->v.arr.n : 0;
    tc_sha256_update(h, &nm, sizeof nm);
    for (uint64_t i = 0; i < nm; i++) put_str(h, merges->v.arr.items[i].v.str.ptr, merges->v.arr.items[i].v.str.len);
    tc_status s = tc_sha256_end(h, t->sha256);
    return s ? tc_fail(err, s, "%s: out of memory hashing the tokenizer", g->path) : TC_OK;
}

tc_status tc_tokenizer_load(const tc_gguf *g, tc_tokenizer **out, tc_err *err)
{
    const tc_gguf_value *tokens, *types = NULL, *merges = NULL, *scores = NULL;
    *out = NULL;
    tc_status s = get_array(g, "tokens", true, 0, true, &tokens, err);
    if (s) return s;
    uint64_t n = tokens->v.arr.n;
    if (n == 0 || n > INT32_MAX)
        return tc_fail(err, TC_E_MODEL, "%s: tokenizer.ggml.tokens: %" PRIu64 " tokens (expected 1..%d)", g->path, n,
                       INT32_MAX);
    const tc_gguf_kv *model = tc_gguf_find(g, "tokenizer.ggml.model");
    if (!model) return tc_fail(err, TC_E_MODEL, "%s: tokenizer.ggml.model: missing (expected gpt2 or llama)", g->path);
    if (!str_is(model, "gpt2") && !str_is(model, "llama"))
        return tc_fail(err, model->value.type == TC_GGUF_STRING ? TC_E_UNSUPPORTED : TC_E_MODEL,
                       "%s: tokenizer.ggml.model '%.*s' is not supported (expected gpt2 or llama)", g->path,
                       model->value.type == TC_GGUF_STRING ? (int)(model->value.v.str.len > 60 ? 60 : model->value.v.str.len) : 0,
                       model->value.type == TC_GGUF_STRING ? model->value.v.str.ptr : "");
    tc_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return tc_fail(err, TC_E_NOMEM, "%s: out of memory", g->path);
    t->bpe = str_is(model, "gpt2");
    if (!(t->path = strdup(g->path))) {
        free(t);
        return tc_fail(err, TC_E_NOMEM, "%s: out of memory", g->path);
    }
    t->n_vocab = (uint32_t)n;
    if ((s = get_array(g, "token_type", false, n, false, &types, err)) ||
        (t->bpe && (s = get_array(g, "merges", true, 0, true, &merges, err))) ||
        (!t->bpe && (s = get_array(g, "scores", false, n, false, &scores, err))) ||
        (s = get_id(g, "tokenizer.ggml.bos_token_id", t->n_vocab, &t->bos, err)) ||
        (s = get_id(g, "tokenizer.ggml.eos_token_id", t->n_vocab, &t->eos, err)) ||
        (s = get_id(g, "tokenizer.ggml.unknown_token_id", t->n_vocab, &t->unk, err)) ||
        (s = get_bool(g, "tokenizer.ggml.add_bos_token", true, &t->add_bos, err)) ||
        (s = get_bool(g, "tokenizer.ggml.add_eos_token", false, &t->add_eos, err)) ||
        (!t->bpe && (s = get_bool(g, "tokenizer.ggml.add_space_prefix", true, &t->add_space_prefix, err))) ||
        (s = load_pre(t, g, err)) || (s = load_tokens(t, g, tokens, types, err)) ||
        (s = load_byte_tokens(t, g, err)) || (t->bpe && (s = load_merges(t, g, merges, err))) ||
        (!t->bpe && (s = load_scores(t, g, scores, err))) || (s = load_specials(t, g, err)) ||
        (s = hash_settings(t, g, t->bpe ? merges : NULL, scores, err))) {
        tc_tokenizer_free(t);
        return s;
    }
    *out = t;
    return TC_OK;
}

void tc_tokenizer_free(tc_tokenizer *t)
{
    if (!t) return;
    free(t->path);
    for (uint32_t i = 0; t->piece && i < t->n_vocab; i++) free(t->piece[i]);
    free(t->piece);
    free(t->piece_len);
    free(t->bytes);
    free(t->off);
    free(t->type);
    free(t->spm_rank);
    free(t->text_slot);
    free(t->merge);
    free(t->special);
    pcre2_code_free(t->re);
    free(t);
}

/* ---- accessors ---- */

const char *tc_tokenizer_piece(const tc_tokenizer *t, int32_t id, size_t *len)
{
    if (id < 0 || (uint32_t)id >= t->n_vocab) return NULL;
    *len = t->piece_len[id];
    return t->piece[id];
}

uint32_t tc_tokenizer_n_vocab(const tc_tokenizer *t) { return t->n_vocab; }
int32_t tc_tokenizer_bos(const tc_tokenizer *t) { return t->bos; }
int32_t tc_tokenizer_eos(const tc_tokenizer *t) { return t->eos; }
const char *tc_tokenizer_model(const tc_tokenizer *t) { return t->bpe ? "gpt2" : "llama"; }
const char *tc_tokenizer_pre(const tc_tokenizer *t) { return t->pre; }
size_t tc_tokenizer_n_merges(const tc_tokenizer *t) { return t->n_merges; }
const char *tc_tokenizer_sha256(const tc_tokenizer *t) { return t->sha256; }

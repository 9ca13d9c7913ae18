/* tokenizer.c -- byte-level BPE (Llama 3) and SentencePiece-style byte
 * fallback tokenizers built from GGUF metadata (see tokenizer.h).
 *
 * Everything works on raw bytes: at load every token string is turned into
 * the bytes it stands for (GPT-2's byte-level alphabet decoded, "▁" read as
 * a space, <0xNN> as one byte), and the vocabulary and merge tables are
 * hash tables keyed by those bytes and by id pairs.  Decoding is then a
 * concatenation, and encoding never builds byte-level strings.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "format/tokenizer.h"

/* token_type values, as llama.cpp numbers them */
enum { TYPE_UNDEFINED = 0, TYPE_NORMAL = 1, TYPE_UNKNOWN = 2, TYPE_CONTROL = 3,
       TYPE_USER_DEFINED = 4, TYPE_UNUSED = 5, TYPE_BYTE = 6 };

/* The pre-tokenizer expressions, as llama.cpp and Hugging Face spell them. */
static const char LLAMA3_RE[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char GPT2_RE[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

#define MAX_TEXT ((size_t)INT32_MAX)   /* symbol positions are int32 */

/* ---- hash tables ---- */

/* FNV-1a over bytes: the keys are short token strings. */
static uint64_t hash_bytes(const uint8_t *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

/* A 64-bit mix (splitmix64's finaliser) for id pairs. */
static uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27; x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Smallest power of two >= 2n (load factor <= 1/2), at least 16. */
static size_t table_size(size_t n)
{
    size_t c = 16;
    while (c < 2 * n) c <<= 1;
    return c;
}

/* One merge: (left, right) -> result, applied in rank order. */
typedef struct merge_slot {
    uint64_t key;       /* left << 32 | right; UINT64_MAX when empty */
    uint32_t rank;      /* 0 = applied first */
    int32_t result;     /* id of left's bytes + right's bytes */
} merge_slot;

/* ---- the tokenizer ---- */

struct tc_tokenizer {
    char *path;               /* the file, for messages */
    bool bpe;                 /* gpt2 (byte-level BPE) or llama (SentencePiece) */
    bool ignore_merges;       /* llama-bpe: a piece that is a token is taken whole */
    char pre[16];             /* "llama-bpe", "gpt2" or "" */
    uint32_t n_vocab;
    char **piece;             /* [n_vocab] the file's strings, NUL-terminated copies */
    uint32_t *piece_len;      /* [n_vocab] */
    uint8_t *bytes;           /* arena of every token's raw bytes */
    size_t *off;              /* [n_vocab + 1] token i's raw bytes: bytes[off[i]..off[i+1]) */
    uint8_t *type;            /* [n_vocab] TYPE_* */
    uint32_t *spm_rank;       /* [n_vocab] llama: 0 = highest score; NULL for gpt2 */
    int32_t *text_slot;       /* raw bytes -> id, open addressing; -1 empty */
    size_t text_cap;
    merge_slot *merge;        /* gpt2: id pair -> (rank, result) */
    size_t merge_cap, n_merges;
    int32_t byte_token[256];  /* the token of each single byte, or -1 */
    int32_t *special;         /* CONTROL/USER_DEFINED ids, by first byte then longest first */
    size_t special_start[257];
    int32_t bos, eos, unk;    /* -1 when none */
    bool add_bos, add_eos, add_space_prefix;
    pcre2_code *re;           /* gpt2 pre-tokenizer, JIT-compiled where possible */
    char sha256[TC_SHA256_HEX];
};

static size_t raw_len(const tc_tokenizer *t, int32_t id) { return t->off[id + 1] - t->off[id]; }

/* Id of the normal token whose raw bytes are s[0..n), or -1. */
static int32_t text_find(const tc_tokenizer *t, const uint8_t *s, size_t n)
{
    size_t mask = t->text_cap - 1;
    for (size_t i = (size_t)hash_bytes(s, n) & mask;; i = (i + 1) & mask) {
        int32_t id = t->text_slot[i];
        if (id < 0) return -1;
        if (raw_len(t, id) == n && !memcmp(t->bytes + t->off[id], s, n)) return id;
    }
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

static const merge_slot *merge_find(const tc_tokenizer *t, int32_t left, int32_t right)
{
    uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
    size_t mask = t->merge_cap - 1;
    for (size_t i = (size_t)hash_u64(key) & mask;; i = (i + 1) & mask) {
        if (t->merge[i].key == UINT64_MAX) return NULL;
        if (t->merge[i].key == key) return &t->merge[i];
    }
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

/* Decode one UTF-8 character of s[0..n) (any length 1..4, no overlong or
 * surrogate checks: token strings come from the file); -1 if malformed. */
static long utf8_decode(const uint8_t *s, size_t n, size_t *len)
{
    static const uint8_t lead_len[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 3, 4 };
    size_t k = lead_len[s[0] >> 4];
    if (!k || k > n) return -1;
    long cp = k == 1 ? s[0] : s[0] & (0x7f >> k);
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80) return -1;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    *len = k;
    return cp;
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

typedef struct buf { uint8_t *p; size_t n, cap; bool oom; } buf;

static void put(buf *b, const void *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) { b->oom = true; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

/* A length-prefixed string (little-endian u64 length). */
static void put_str(buf *b, const void *s, uint64_t n)
{
    put(b, &n, sizeof n);
    put(b, s, (size_t)n);
}

static tc_status hash_settings(tc_tokenizer *t, const tc_gguf *g, const tc_gguf_value *merges,
                               const tc_gguf_value *scores, tc_err *err)
{
    buf b = { 0 };
    static const char tag[] = "tritcheck.tokenizer/1";
    const char *model = t->bpe ? "gpt2" : "llama";
    const char *re = !t->bpe ? "" : t->ignore_merges ? LLAMA3_RE : GPT2_RE;
    put_str(&b, tag, sizeof tag - 1);
    put_str(&b, model, strlen(model));
    put_str(&b, t->pre, strlen(t->pre));
    put_str(&b, re, strlen(re));
    int64_t v[6] = { t->n_vocab, t->bos, t->eos, t->add_bos, t->add_eos, t->add_space_prefix };
    put(&b, v, sizeof v);
    for (uint32_t i = 0; i < t->n_vocab; i++) {
        float sc = scores ? (float)tc_gguf_array_num(scores, i) : 0.0f;
        put_str(&b, t->piece[i], t->piece_len[i]);
        put(&b, &t->type[i], 1);
        put(&b, &sc, sizeof sc);
    }
    uint64_t nm = merges ? merges->v.arr.n : 0;
    put(&b, &nm, sizeof nm);
    for (uint64_t i = 0; i < nm; i++) put_str(&b, merges->v.arr.items[i].v.str.ptr, merges->v.arr.items[i].v.str.len);
    tc_status s = b.oom ? TC_E_NOMEM : tc_sha256_hex(b.p, b.n, t->sha256);
    free(b.p);
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

/* ---- encoding ---- */

/* A growing id array, a symbol list and a merge heap, reused across words. */
typedef struct ids { int32_t *p; size_t n, cap; } ids;

/* One candidate merge of the pair starting at symbol `left`. */
typedef struct cand {
    uint32_t rank;
    int32_t left;         /* position of the left symbol: ties go leftmost */
    int32_t lid, rid;     /* the pair's ids when queued; stale if either changed */
    int32_t result;
} cand;

typedef struct work {
    ids out;
    int32_t *id, *prev, *next;   /* symbols [n]: a doubly linked list over positions */
    int32_t *start, *len;        /* llama: each symbol's bytes in the text */
    cand *heap;
    size_t n_heap, cap_sym;
    pcre2_match_data *md;
    pcre2_match_context *mc;
    pcre2_jit_stack *js;
} work;

static bool push_id(ids *v, int32_t id)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 256;
        int32_t *p = realloc(v->p, cap * sizeof *p);
        if (!p) return false;
        v->p = p;
        v->cap = cap;
    }
    v->p[v->n++] = id;
    return true;
}

/* Room for words of n bytes: symbols, and n initial pairs + 2 per merge. */
static bool reserve(work *w, size_t n)
{
    if (n <= w->cap_sym) return true;
    size_t cap = n < 64 ? 64 : n;
    int32_t **arr[5] = { &w->id, &w->prev, &w->next, &w->start, &w->len };
    for (int i = 0; i < 5; i++) {
        int32_t *p = realloc(*arr[i], cap * sizeof *p);
        if (!p) return false;
        *arr[i] = p;
    }
    cand *h = realloc(w->heap, 3 * cap * sizeof *h);
    if (!h) return false;
    w->heap = h;
    w->cap_sym = cap;
    return true;
}

/* Min-heap order: lower rank, then leftmost. */
static bool before(const cand *a, const cand *b)
{
    return a->rank != b->rank ? a->rank < b->rank : a->left < b->left;
}

static void heap_push(work *w, cand c)
{
    size_t i = w->n_heap++;
    while (i > 0 && before(&c, &w->heap[(i - 1) / 2])) {
        w->heap[i] = w->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->heap[i] = c;
}

static cand heap_pop(work *w)
{
    cand top = w->heap[0], last = w->heap[--w->n_heap];
    size_t i = 0, n = w->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(&w->heap[c + 1], &w->heap[c])) c++;
        if (!before(&w->heap[c], &last)) break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (n) w->heap[i] = last;
    return top;
}

/* Queue the pair (left, next[left]) if the vocabulary can merge it. */
static void queue_pair(const tc_tokenizer *t, work *w, const uint8_t *text, int32_t left)
{
    int32_t right = w->next[left];
    if (left < 0 || right < 0) return;
    cand c = { 0, left, w->id[left], w->id[right], -1 };
    if (t->bpe) {
        const merge_slot *m = merge_find(t, c.lid, c.rid);
        if (!m) return;
        c.rank = m->rank;
        c.result = m->result;
    } else {
        c.result = text_find(t, text + w->start[left], (size_t)(w->len[left] + w->len[right]));
        if (c.result < 0) return;
        c.rank = t->spm_rank[c.result];
    }
    heap_push(w, c);
}

/* Merge the linked symbols [0, n) in queue order until no pair merges. */
static void merge_symbols(const tc_tokenizer *t, work *w, const uint8_t *text, int32_t n)
{
    w->n_heap = 0;
    for (int32_t i = 0; i + 1 < n; i++) queue_pair(t, w, text, i);
    while (w->n_heap) {
        cand c = heap_pop(w);
        int32_t r = w->next[c.left];
        /* stale: the left symbol was absorbed (len 0) or a side changed */
        if (w->len[c.left] == 0 || r < 0 || w->id[c.left] != c.lid || w->id[r] != c.rid) continue;
        w->id[c.left] = c.result;
        w->len[c.left] += w->len[r];
        w->len[r] = 0;
        w->next[c.left] = w->next[r];
        if (w->next[r] >= 0) w->prev[w->next[r]] = c.left;
        if (w->prev[c.left] >= 0) queue_pair(t, w, text, w->prev[c.left]);
        queue_pair(t, w, text, c.left);
    }
}

/* One pre-tokenizer piece s[0..n) of byte-level BPE. */
static tc_status bpe_piece(const tc_tokenizer *t, work *w, const uint8_t *s, size_t n)
{
    int32_t whole = t->ignore_merges || n == 1 ? text_find(t, s, n) : -1;
    if (whole >= 0) return push_id(&w->out, whole) ? TC_OK : TC_E_NOMEM;
    if (!reserve(w, n)) return TC_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        w->id[i] = t->byte_token[s[i]];   /* every byte has one: checked at load */
        w->prev[i] = (int32_t)i - 1;
        w->next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
        w->start[i] = (int32_t)i;
        w->len[i] = 1;
    }
    merge_symbols(t, w, s, (int32_t)n);
    for (int32_t i = 0; i >= 0; i = w->next[i])
        if (!push_id(&w->out, w->id[i])) return TC_E_NOMEM;
    return TC_OK;
}

/* A stretch of text without special tokens, split by the pre-tokenizer. */
static tc_status bpe_fragment(const tc_tokenizer *t, work *w, const uint8_t *s, size_t n, tc_err *err)
{
    size_t at = 0;
    while (at < n) {
        int rc = pcre2_match(t->re, s, n, at, 0, w->md, w->mc);
        size_t b = n, e = n;
        if (rc >= 0) {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(w->md);
            b = ov[0];
            e = ov[1];
        } else if (rc != PCRE2_ERROR_NOMATCH) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(rc, msg, sizeof msg);
            return tc_fail(err, TC_E_RANGE, "%s: the pre-tokenizer failed at text byte %zu: %s", t->path, at,
                           (const char *)msg);
        }
        if (e == b && b < n) e = b + 1;   /* an empty match cannot happen here; never loop on one */
        tc_status s2;
        if (b > at && (s2 = bpe_piece(t, w, s + at, b - at))) return s2;   /* bytes no branch matched */
        if (e > b && (s2 = bpe_piece(t, w, s + b, e - b))) return s2;
        at = e;
    }
    return TC_OK;
}

/* SentencePiece: UTF-8 characters merged by score, then byte fallback. */
static tc_status spm_fragment(const tc_tokenizer *t, work *w, const uint8_t *s, size_t n, tc_err *err)
{
    if (!reserve(w, n)) return TC_E_NOMEM;
    int32_t k = 0;
    for (size_t i = 0, len; i < n; i += len, k++) {
        if (utf8_decode(s + i, n - i, &len) < 0) len = 1;   /* a stray byte is its own symbol */
        w->start[k] = (int32_t)i;
        w->len[k] = (int32_t)len;
        w->id[k] = text_find(t, s + i, len);
        w->prev[k] = k - 1;
        w->next[k] = i + len < n ? k + 1 : -1;
    }
    merge_symbols(t, w, s, k);
    for (int32_t i = 0; k > 0 && i >= 0; i = w->next[i]) {
        if (w->id[i] >= 0) {
            if (!push_id(&w->out, w->id[i])) return TC_E_NOMEM;
            continue;
        }
        for (int32_t j = 0; j < w->len[i]; j++) {
            uint8_t b = s[w->start[i] + j];
            int32_t id = t->byte_token[b] >= 0 ? t->byte_token[b] : t->unk;
            if (id < 0)
                return tc_fail(err, TC_E_UNSUPPORTED, "%s: byte 0x%02X of the text has no token and the vocabulary "
                               "has no <unk>", t->path, b);
            if (!push_id(&w->out, id)) return TC_E_NOMEM;
        }
    }
    return TC_OK;
}

/* Text between special tokens; llama vocabularies prefix a space after
 * the start and after each special token when add_space_prefix says so. */
static tc_status fragment(const tc_tokenizer *t, work *w, const uint8_t *s, size_t n, bool after_special,
                          tc_err *err)
{
    if (t->bpe) return bpe_fragment(t, w, s, n, err);
    if (!(t->add_space_prefix && after_special)) return spm_fragment(t, w, s, n, err);
    uint8_t *p = malloc(n + 1);
    if (!p) return TC_E_NOMEM;
    p[0] = ' ';
    memcpy(p + 1, s, n);
    tc_status st = spm_fragment(t, w, p, n + 1, err);
    free(p);
    return st;
}

/* The longest special token at s[0..n), or -1. */
static int32_t special_at(const tc_tokenizer *t, const uint8_t *s, size_t n)
{
    for (size_t k = t->special_start[s[0]]; k < t->special_start[s[0] + 1]; k++) {
        int32_t id = t->special[k];
        size_t len = raw_len(t, id);
        if (len <= n && !memcmp(t->bytes + t->off[id], s, len)) return id;
    }
    return -1;
}

static tc_status encode_all(const tc_tokenizer *t, work *w, const uint8_t *s, size_t n, unsigned flags, tc_err *err)
{
    tc_status st;
    if ((flags & TC_TOK_ADD_BOS) && t->add_bos && t->bos >= 0 && !push_id(&w->out, t->bos)) return TC_E_NOMEM;
    size_t from = 0;
    bool after_special = true;
    for (size_t i = 0; (flags & TC_TOK_PARSE_SPECIAL) && i < n; i++) {
        if (t->special_start[s[i]] == t->special_start[s[i] + 1]) continue;   /* no special starts so */
        int32_t id = special_at(t, s + i, n - i);
        if (id < 0) continue;
        if (i > from && (st = fragment(t, w, s + from, i - from, after_special, err))) return st;
        if (!push_id(&w->out, id)) return TC_E_NOMEM;
        from = i + raw_len(t, id);
        i = from - 1;
        after_special = true;
    }
    if (n > from && (st = fragment(t, w, s + from, n - from, after_special, err))) return st;
    if ((flags & TC_TOK_ADD_BOS) && t->add_eos && t->eos >= 0 && !push_id(&w->out, t->eos)) return TC_E_NOMEM;
    return TC_OK;
}

tc_status tc_tokenizer_encode(const tc_tokenizer *t, const char *text, size_t len, unsigned flags,
                              int32_t **out, size_t *n, tc_err *err)
{
    if (len >= MAX_TEXT) return tc_fail(err, TC_E_RANGE, "%s: text of %zu bytes (expected < 2 GiB)", t->path, len);
    work w = { 0 };
    tc_status st = TC_E_NOMEM;
    if (t->re) {
        /* a JIT stack of up to 1 MiB: long runs of spaces backtrack through \s+(?!\S) */
        w.md = pcre2_match_data_create_from_pattern(t->re, NULL);
        w.mc = pcre2_match_context_create(NULL);
        w.js = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
        if (!w.md || !w.mc) goto done;
        if (w.js) pcre2_jit_stack_assign(w.mc, NULL, w.js);
    }
    if (!push_id(&w.out, 0)) goto done;   /* so that *out is never NULL */
    w.out.n = 0;
    st = encode_all(t, &w, (const uint8_t *)text, len, flags, err);
done:
    if (st == TC_E_NOMEM) tc_fail(err, st, "%s: out of memory encoding %zu bytes", t->path, len);
    if (st) free(w.out.p);
    else *out = w.out.p, *n = w.out.n;
    free(w.id); free(w.prev); free(w.next); free(w.start); free(w.len); free(w.heap);
    pcre2_match_data_free(w.md);
    pcre2_match_context_free(w.mc);
    pcre2_jit_stack_free(w.js);
    return st;
}

/* ---- decoding ---- */

/* Length of the valid UTF-8 character at s[0..n), or 0 (RFC 3629: no
 * overlong forms, surrogates or code points above U+10FFFF). */
static size_t utf8_valid(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    if (c < 0x80) return 1;
    size_t k = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!k || n < 2) return 0;
    uint8_t lo = 0x80, hi = 0xbf;   /* the second byte's range depends on the first */
    if (c == 0xe0) lo = 0xa0;
    else if (c == 0xed) hi = 0x9f;
    else if (c == 0xf0) lo = 0x90;
    else if (c == 0xf4) hi = 0x8f;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < k; i++)
        if (i >= n || (s[i] & 0xc0) != 0x80) return 0;
    return k;
}

/* s[0] starts no valid character: the bytes one U+FFFD replaces, i.e. the
 * longest prefix that could still have become a character (the WHATWG
 * decoder's "maximal subpart", which TextDecoder and Python follow). */
static size_t invalid_prefix(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    size_t need = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    uint8_t lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80, hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
    size_t i = 1;
    for (; i <= need && i < n; i++) {
        if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf)) break;
    }
    return i;
}

/* s[0..n) with every invalid sequence replaced by U+FFFD (malloc'd). */
static char *sanitize(const uint8_t *s, size_t n, size_t *out_len)
{
    char *o = malloc(3 * n + 1);   /* one byte becomes at most three */
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_valid(s + i, n - i);
        if (len) {
            memcpy(o + k, s + i, len);
            k += len;
            i += len;
        } else {
            memcpy(o + k, "\xef\xbf\xbd", 3);
            k += 3;
            i += invalid_prefix(s + i, n - i);
        }
    }
    o[k] = 0;
    *out_len = k;
    return o;
}

tc_status tc_tokenizer_decode(const tc_tokenizer *t, const int32_t *ids, size_t n, unsigned flags, char **text,
                              size_t *len, tc_err *err)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || (uint32_t)ids[i] >= t->n_vocab)
            return tc_fail(err, TC_E_RANGE, "%s: token %" PRId32 " (index %zu) is outside the vocabulary "
                           "(0..%" PRIu32 ")", t->path, ids[i], i, t->n_vocab - 1);
        total += raw_len(t, ids[i]);
    }
    uint8_t *o = malloc(total + 1);
    if (!o) return tc_fail(err, TC_E_NOMEM, "%s: out of memory decoding %zu tokens", t->path, n);
    size_t k = 0;
    bool after_special = true;
    for (size_t i = 0; i < n; i++) {
        uint8_t ty = t->type[ids[i]];
        bool special = ty == TYPE_CONTROL || ty == TYPE_UNKNOWN;
        size_t from = t->off[ids[i]], m = raw_len(t, ids[i]);
        if (special && (flags & TC_DETOK_SKIP_SPECIAL)) continue;
        /* undo the space that encoding prefixed (llama vocabularies) */
        if (t->add_space_prefix && after_special && !special && m && t->bytes[from] == ' ') from++, m--;
        memcpy(o + k, t->bytes + from, m);
        k += m;
        after_special = special || ty == TYPE_USER_DEFINED;
    }
    o[k] = 0;
    if (flags & TC_DETOK_VALID_UTF8) {
        char *v = sanitize(o, k, len);
        free(o);
        if (!v) return tc_fail(err, TC_E_NOMEM, "%s: out of memory decoding %zu tokens", t->path, n);
        *text = v;
        return TC_OK;
    }
    *text = (char *)o;
    *len = k;
    return TC_OK;
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

/* tokenizer_impl.h -- the tokenizer's insides, shared by the file that
 * builds it from GGUF metadata (tokenizer_vocab.c) and the file that
 * encodes and decodes with it (tokenizer.c).  Not for other users: they
 * see the opaque handle of tokenizer.h.
 *
 * Everything works on raw bytes: at load every token string is turned into
 * the bytes it stands for (GPT-2's byte-level alphabet decoded, "▁" read as
 * a space, <0xNN> as one byte), and the vocabulary and merge tables are
 * hash tables keyed by those bytes and by id pairs.  Decoding is then a
 * concatenation, and encoding never builds byte-level strings.  The
 * lookups below are inline: encoding calls them for every symbol pair.
 */
#ifndef TC_TOKENIZER_IMPL_H
#define TC_TOKENIZER_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "format/tokenizer.h"

/* token_type values, as llama.cpp numbers them */
enum { TYPE_UNDEFINED = 0, TYPE_NORMAL = 1, TYPE_UNKNOWN = 2, TYPE_CONTROL = 3,
       TYPE_USER_DEFINED = 4, TYPE_UNUSED = 5, TYPE_BYTE = 6 };

/* ---- hash tables ---- */

/* FNV-1a over bytes: the keys are short token strings. */
static inline uint64_t hash_bytes(const uint8_t *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

/* A 64-bit mix (splitmix64's finaliser) for id pairs. */
static inline uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27; x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
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

static inline size_t raw_len(const tc_tokenizer *t, int32_t id) { return t->off[id + 1] - t->off[id]; }

/* Id of the normal token whose raw bytes are s[0..n), or -1. */
static inline int32_t text_find(const tc_tokenizer *t, const uint8_t *s, size_t n)
{
    size_t mask = t->text_cap - 1;
    for (size_t i = (size_t)hash_bytes(s, n) & mask;; i = (i + 1) & mask) {
        int32_t id = t->text_slot[i];
        if (id < 0) return -1;
        if (raw_len(t, id) == n && !memcmp(t->bytes + t->off[id], s, n)) return id;
    }
}

static inline const merge_slot *merge_find(const tc_tokenizer *t, int32_t left, int32_t right)
{
    uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
    size_t mask = t->merge_cap - 1;
    for (size_t i = (size_t)hash_u64(key) & mask;; i = (i + 1) & mask) {
        if (t->merge[i].key == UINT64_MAX) return NULL;
        if (t->merge[i].key == key) return &t->merge[i];
    }
}

/* ---- UTF-8 ---- */

/* Decode one UTF-8 character of s[0..n) (any length 1..4, no overlong or
 * surrogate checks: token strings come from the file); -1 if malformed. */
static inline long utf8_decode(const uint8_t *s, size_t n, size_t *len)
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

#endif

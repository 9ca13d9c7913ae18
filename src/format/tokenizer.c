/* tokenizer.c -- encoding text to token ids and decoding them back, with
 * a tokenizer tokenizer_vocab.c built (see tokenizer.h): byte-level BPE
 * (Llama 3) by merge rank, SentencePiece-style by score with byte
 * fallback, special tokens when asked. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/tokenizer_impl.h"

#define MAX_TEXT ((size_t)INT32_MAX)   /* symbol positions are int32 */

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
        /* a run of n spaces is one piece, but matching it costs about n
         * steps per alternative tried (\s*[\r\n]+ backtracks through the
         * whole run before \s+(?!\S) takes it): PCRE2's default limit of
         * ten million steps failed on 10 MB of spaces.  The limit grows
         * with the text, so any whitespace a text holds tokenizes. */
        const uint64_t limit = 10000000u + 16u * (uint64_t)len;
        pcre2_set_match_limit(w.mc, limit > UINT32_MAX ? UINT32_MAX : (uint32_t)limit);
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

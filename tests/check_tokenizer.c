/* check_tokenizer.c -- the BPE and byte-fallback tokenizers (src/tokenizer.c):
 * parity with llama3-tokenizer-js on vectors/tokenizer/parity.json, round
 * trips, the gen and bitnet.cpp vocabularies, and malformed metadata. */
#include <check.h>
#include <cjson/cJSON.h>
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/gen.h"
#include "format/gguf.h"
#include "format/tokenizer.h"
#include "testutil.h"

/* ---- helpers ---- */

/* The Llama 3 vocabulary, loaded once before the tests fork. */
static tc_gguf *llama3_gguf;
static tc_tokenizer *llama3;

static void load_llama3(void)
{
    tc_err err;
    char *p = tu_gunzip_temp(tu_vector_path("tokenizer/llama3-vocab.gguf.gz"));
    ck_assert_ptr_nonnull(p);
    ck_assert_msg(tc_gguf_open(p, &llama3_gguf, &err) == TC_OK, "%s", err.msg);
    unlink(p);   /* the mapping stays valid */
    free(p);
    ck_assert_msg(tc_tokenizer_load(llama3_gguf, &llama3, &err) == TC_OK, "%s", err.msg);
}

static void free_llama3(void)
{
    tc_tokenizer_free(llama3);
    tc_gguf_close(llama3_gguf);
}

/* Load a tokenizer from a GGUF file; the gguf is returned for closing. */
static tc_status load_file(const char *path, tc_gguf **g, tc_tokenizer **t, tc_err *err)
{
    tc_status s = tc_gguf_open(path, g, err);
    return s ? s : tc_tokenizer_load(*g, t, err);
}

/* Encode then decode, checking the text comes back byte for byte. */
static void round_trip(const tc_tokenizer *t, const char *text, size_t len, unsigned flags)
{
    int32_t *ids;
    size_t n, back_len;
    char *back;
    tc_err err;
    ck_assert_msg(tc_tokenizer_encode(t, text, len, flags, &ids, &n, &err) == TC_OK, "%s", err.msg);
    ck_assert_msg(tc_tokenizer_decode(t, ids, n, 0, &back, &back_len, &err) == TC_OK, "%s", err.msg);
    ck_assert_msg(back_len == len && !memcmp(back, text, len), "round trip of '%.*s' gave '%s'", (int)len, text, back);
    free(ids);
    free(back);
}

/* A small vocabulary-only GGUF for the error tests: model, tokens, types
 * and merges as given (NULL: key absent). */
typedef struct vocab_spec {
    const char *model, *pre;
    size_t n_tokens;
    const char *const *tokens;
    size_t n_types;
    const int32_t *types;
    int n_merges;            /* -1: key absent */
    const char *const *merges;
    int64_t bos;             /* -1: absent */
} vocab_spec;

static char *write_vocab(const vocab_spec *v)
{
    tc_err err;
    char *p = tu_temp_path(".gguf");
    tc_gguf_writer *w = tc_gguf_writer_new(3, 0);
    ck_assert_ptr_nonnull(w);
    if (v->model) ck_assert_int_eq(tc_gguf_writer_set_str(w, "tokenizer.ggml.model", v->model, &err), TC_OK);
    if (v->pre) ck_assert_int_eq(tc_gguf_writer_set_str(w, "tokenizer.ggml.pre", v->pre, &err), TC_OK);
    if (v->tokens)
        ck_assert_int_eq(tc_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", v->n_tokens, v->tokens, &err), TC_OK);
    if (v->types)
        ck_assert_int_eq(tc_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", TC_GGUF_I32, v->n_types, v->types, &err),
                         TC_OK);
    if (v->n_merges >= 0)
        ck_assert_int_eq(tc_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", (uint64_t)v->n_merges, v->merges, &err),
                         TC_OK);
    if (v->bos >= 0) ck_assert_int_eq(tc_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)v->bos, &err), TC_OK);
    ck_assert_msg(tc_gguf_writer_begin(w, p, &err) == TC_OK && tc_gguf_writer_finish(w, &err) == TC_OK, "%s", err.msg);
    tc_gguf_writer_free(w);
    return p;
}

/* GPT-2 byte-level strings of the 256 bytes, plus extra tokens. */
static const char **byte_level_tokens(size_t extra, size_t *n)
{
    static char store[256][4];
    const char **t = calloc(256 + extra, sizeof *t);
    for (unsigned b = 0, k = 0; b < 256; b++) {
        bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
        unsigned cp = printable ? b : 256 + k++;
        if (cp < 0x80) store[b][0] = (char)cp, store[b][1] = 0;
        else store[b][0] = (char)(0xc0 | cp >> 6), store[b][1] = (char)(0x80 | (cp & 0x3f)), store[b][2] = 0;
        t[b] = store[b];
    }
    *n = 256 + extra;
    return t;
}

/* Load a spec and expect status s with `needle` in the message. */
static void expect_load_error(const vocab_spec *v, tc_status want, const char *needle)
{
    char *p = write_vocab(v);
    tc_gguf *g = NULL;
    tc_tokenizer *t = NULL;
    tc_err err = { 0 };
    tc_status s = load_file(p, &g, &t, &err);
    ck_assert_msg(s == want, "status %d (%s), expected %d", s, err.msg, want);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
    ck_assert_msg(strstr(err.msg, p) != NULL, "message '%s' does not name the file", err.msg);
    ck_assert_ptr_null(t);
    tc_gguf_close(g);
    unlink(p);
    free(p);
}

/* ---- core ---- */

/* Every case of a parity file: identical ids, and decoded back to the text.
 * Returns the number of cases. */
static int check_parity(const char *rel)
{
    size_t n;
    char *json = (char *)tu_read_gz(tu_vector_path(rel), &n);
    ck_assert_ptr_nonnull(json);
    cJSON *root = cJSON_ParseWithLength(json, n);
    ck_assert_ptr_nonnull(root);
    const cJSON *cases = cJSON_GetObjectItem(root, "cases"), *c;
    int count = 0;
    cJSON_ArrayForEach(c, cases) {
        const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(c, "text"));
        const cJSON *want = cJSON_GetObjectItem(c, "ids");
        unsigned flags = cJSON_IsTrue(cJSON_GetObjectItem(c, "special")) ? TC_TOK_PARSE_SPECIAL : 0;
        int32_t *ids;
        size_t k;
        tc_err err;
        ck_assert_ptr_nonnull(text);
        ck_assert_msg(tc_tokenizer_encode(llama3, text, strlen(text), flags, &ids, &k, &err) == TC_OK, "%s", err.msg);
        ck_assert_msg((int)k == cJSON_GetArraySize(want), "%s case %d '%s': %zu ids, expected %d", rel, count, text, k,
                      cJSON_GetArraySize(want));
        for (size_t i = 0; i < k; i++)
            ck_assert_msg(ids[i] == cJSON_GetArrayItem(want, (int)i)->valueint,
                          "%s case %d '%s': id %zu is %d, expected %d", rel, count, text, i, ids[i],
                          cJSON_GetArrayItem(want, (int)i)->valueint);
        free(ids);
        round_trip(llama3, text, strlen(text), flags);
        count++;
    }
    cJSON_Delete(root);
    free(json);
    return count;
}

START_TEST(parity_with_llama3_tokenizer_js)
{
    ck_assert_int_eq(check_parity("tokenizer/parity.json"), 42);
    ck_assert_int_eq(check_parity("tokenizer/parity-random.json.gz"), 500);
}
END_TEST

START_TEST(llama3_settings_bos_and_specials)
{
    int32_t *ids;
    size_t n;
    tc_err err;
    ck_assert_int_eq(tc_tokenizer_n_vocab(llama3), 128256);
    ck_assert_uint_eq(tc_tokenizer_n_merges(llama3), 280147);
    ck_assert_int_eq(tc_tokenizer_bos(llama3), 128000);
    ck_assert_int_eq(tc_tokenizer_eos(llama3), 128001);
    ck_assert_str_eq(tc_tokenizer_model(llama3), "gpt2");
    ck_assert_str_eq(tc_tokenizer_pre(llama3), "llama-bpe");
    /* "Hello world!" with BOS, as the package's README shows */
    ck_assert_int_eq(tc_tokenizer_encode(llama3, "Hello world!", 12, TC_TOK_ADD_BOS, &ids, &n, &err), TC_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(ids[0], 128000);
    ck_assert_int_eq(ids[1], 9906);
    ck_assert_int_eq(ids[2], 1917);
    ck_assert_int_eq(ids[3], 0);
    free(ids);
    /* without TC_TOK_PARSE_SPECIAL a special token is plain text */
    ck_assert_int_eq(tc_tokenizer_encode(llama3, "<|eot_id|>", 10, 0, &ids, &n, &err), TC_OK);
    ck_assert_uint_gt(n, 1);
    for (size_t i = 0; i < n; i++) ck_assert_int_lt(ids[i], 128000);
    free(ids);
    ck_assert_int_eq(tc_tokenizer_encode(llama3, "<|eot_id|>", 10, TC_TOK_PARSE_SPECIAL, &ids, &n, &err), TC_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(ids[0], 128009);
    free(ids);
    /* decoding can leave the specials out */
    int32_t seq[] = { 128000, 9906, 128009 };
    char *text;
    size_t len;
    ck_assert_int_eq(tc_tokenizer_decode(llama3, seq, 3, 0, &text, &len, &err), TC_OK);
    ck_assert_str_eq(text, "<|begin_of_text|>Hello<|eot_id|>");
    free(text);
    ck_assert_int_eq(tc_tokenizer_decode(llama3, seq, 3, TC_DETOK_SKIP_SPECIAL, &text, &len, &err), TC_OK);
    ck_assert_str_eq(text, "Hello");
    free(text);
    size_t plen;
    const char *piece = tc_tokenizer_piece(llama3, 1917, &plen);
    ck_assert_int_eq((int)plen, 7);
    ck_assert(!memcmp(piece, "\xc4\xa0world", 7));   /* "Ġworld" */
    ck_assert_ptr_null(tc_tokenizer_piece(llama3, 128256, &plen));
}
END_TEST

/* Random valid UTF-8 from GSL's mt19937: code points from ASCII, Latin,
 * CJK, emoji and the whole range (no surrogates). */
START_TEST(random_utf8_round_trips)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 2385);
    static const unsigned long lo[] = { 0x20, 0x09, 0xa0, 0x370, 0x4e00, 0x1f300, 0x0 };
    static const unsigned long span[] = { 0x5f, 0x5, 0x1e0, 0x200, 0x5000, 0x300, 0x110000 };
    char buf[4 * 200 + 1];
    for (int s = 0; s < 300; s++) {
        size_t len = 0, n = 1 + gsl_rng_uniform_int(r, 200);
        for (size_t i = 0; i < n; i++) {
            size_t k = gsl_rng_uniform_int(r, 7);
            unsigned long cp = lo[k] + gsl_rng_uniform_int(r, span[k]);
            if (cp >= 0xd800 && cp <= 0xdfff) cp = 'x';   /* surrogates are not characters */
            if (cp < 0x80) buf[len++] = (char)cp;
            else if (cp < 0x800) buf[len++] = (char)(0xc0 | cp >> 6), buf[len++] = (char)(0x80 | (cp & 0x3f));
            else if (cp < 0x10000)
                buf[len++] = (char)(0xe0 | cp >> 12), buf[len++] = (char)(0x80 | ((cp >> 6) & 0x3f)),
                buf[len++] = (char)(0x80 | (cp & 0x3f));
            else
                buf[len++] = (char)(0xf0 | cp >> 18), buf[len++] = (char)(0x80 | ((cp >> 12) & 0x3f)),
                buf[len++] = (char)(0x80 | ((cp >> 6) & 0x3f)), buf[len++] = (char)(0x80 | (cp & 0x3f));
        }
        round_trip(llama3, buf, len, 0);
    }
    gsl_rng_free(r);
}
END_TEST

/* gen's vocabulary: byte-level bytes, no merges, specials at the end. */
START_TEST(gen_vocabulary_is_bytes)
{
    tc_gen_opts o;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset("tiny", &o, &err), TC_OK);
    char *p = tu_temp_path(".gguf");
    ck_assert_msg(tc_gen_write(&o, p, &err) == TC_OK, "%s", err.msg);
    tc_gguf *g;
    tc_tokenizer *t;
    ck_assert_msg(load_file(p, &g, &t, &err) == TC_OK, "%s", err.msg);
    int32_t *ids;
    size_t n;
    ck_assert_int_eq(tc_tokenizer_encode(t, "Hi é", 5, TC_TOK_ADD_BOS, &ids, &n, &err), TC_OK);
    int32_t want[] = { 256, 'H', 'i', ' ', 0xc3, 0xa9 };
    ck_assert_uint_eq(n, 6);
    for (size_t i = 0; i < n; i++) ck_assert_int_eq(ids[i], want[i]);
    free(ids);
    round_trip(t, "Grüße, 世界 🦙\n", strlen("Grüße, 世界 🦙\n"), 0);
    tc_tokenizer_free(t);
    tc_gguf_close(g);
    unlink(p);
    free(p);
}
END_TEST

/* bitnet.cpp's tiny model: SentencePiece-style with <0xNN> byte fallback. */
START_TEST(bitnet_cpp_byte_fallback)
{
    char *p = tu_gunzip_temp(tu_vector_path("external/bitnet-cpp/tiny-bitnet-b158-i2_s.gguf.gz"));
    ck_assert_ptr_nonnull(p);
    tc_gguf *g;
    tc_tokenizer *t;
    tc_err err;
    ck_assert_msg(load_file(p, &g, &t, &err) == TC_OK, "%s", err.msg);
    ck_assert_str_eq(tc_tokenizer_model(t), "llama");
    int32_t *ids;
    size_t n;
    ck_assert_int_eq(tc_tokenizer_encode(t, "Hello, world!", 13, TC_TOK_ADD_BOS, &ids, &n, &err), TC_OK);
    int32_t want[] = { 1, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100, 33 };
    ck_assert_uint_eq(n, 14);
    for (size_t i = 0; i < n; i++) ck_assert_int_eq(ids[i], want[i]);
    char *text;
    size_t len;
    ck_assert_int_eq(tc_tokenizer_decode(t, ids, n, 0, &text, &len, &err), TC_OK);
    ck_assert_str_eq(text, "<s>Hello, world!");
    free(text);
    free(ids);
    /* bytes 0..2 have no <0xNN> token: they fall back to <unk> (id 0) */
    ck_assert_int_eq(tc_tokenizer_encode(t, "\x01", 1, 0, &ids, &n, &err), TC_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(ids[0], 0);
    free(ids);
    round_trip(t, "ünïcödé ✓", strlen("ünïcödé ✓"), 0);
    tc_tokenizer_free(t);
    tc_gguf_close(g);
    unlink(p);
    free(p);
}
END_TEST

START_TEST(sha256_covers_vocab_and_settings)
{
    size_t n;
    const char **tok = byte_level_tokens(1, &n);
    tok[256] = "<|begin_of_text|>";
    vocab_spec v = { "gpt2", "llama-bpe", n, tok, 0, NULL, 0, NULL, 256 };
    char *a = write_vocab(&v), *b = write_vocab(&v);
    v.bos = -1;
    char *c = write_vocab(&v);
    tc_gguf *ga, *gb, *gc;
    tc_tokenizer *ta, *tb, *tc;
    tc_err err;
    ck_assert_msg(load_file(a, &ga, &ta, &err) == TC_OK, "%s", err.msg);
    ck_assert_msg(load_file(b, &gb, &tb, &err) == TC_OK, "%s", err.msg);
    ck_assert_msg(load_file(c, &gc, &tc, &err) == TC_OK, "%s", err.msg);
    ck_assert_uint_eq(strlen(tc_tokenizer_sha256(ta)), 64);
    ck_assert_str_eq(tc_tokenizer_sha256(ta), tc_tokenizer_sha256(tb));
    ck_assert_str_ne(tc_tokenizer_sha256(ta), tc_tokenizer_sha256(tc));
    ck_assert_str_ne(tc_tokenizer_sha256(ta), tc_tokenizer_sha256(llama3));
    tc_tokenizer_free(ta); tc_tokenizer_free(tb); tc_tokenizer_free(tc);
    tc_gguf_close(ga); tc_gguf_close(gb); tc_gguf_close(gc);
    unlink(a); unlink(b); unlink(c);
    free(a); free(b); free(c);
    free(tok);
}
END_TEST

/* Decoding a split character: raw bytes, or U+FFFD when asked. */
START_TEST(decode_invalid_utf8)
{
    int32_t *ids;
    size_t n, len;
    char *text;
    tc_err err;
    ck_assert_int_eq(tc_tokenizer_encode(llama3, "世", 3, 0, &ids, &n, &err), TC_OK);
    ck_assert_uint_ge(n, 1);
    free(ids);
    /* the byte tokens of 0xE4 0xB8 (a cut-off "世") and then 'A' */
    int32_t bytes[3] = { -1, -1, -1 };
    for (int32_t id = 0; id < 256; id++) {
        size_t plen;
        const char *piece = tc_tokenizer_piece(llama3, id, &plen);
        if (plen == 2 && !memcmp(piece, "\xc3\xa4", 2)) bytes[0] = id;   /* byte-level U+00E4 = byte 0xE4 */
        if (plen == 2 && !memcmp(piece, "\xc2\xb8", 2)) bytes[1] = id;   /* U+00B8 = byte 0xB8 */
        if (plen == 1 && piece[0] == 'A') bytes[2] = id;
    }
    ck_assert(bytes[0] >= 0 && bytes[1] >= 0 && bytes[2] >= 0);
    ck_assert_int_eq(tc_tokenizer_decode(llama3, bytes, 3, 0, &text, &len, &err), TC_OK);
    ck_assert_uint_eq(len, 3);
    ck_assert(!memcmp(text, "\xe4\xb8" "A", 3));
    free(text);
    ck_assert_int_eq(tc_tokenizer_decode(llama3, bytes, 3, TC_DETOK_VALID_UTF8, &text, &len, &err), TC_OK);
    ck_assert_str_eq(text, "\xef\xbf\xbd" "A");
    free(text);
    /* invalid input bytes encode to byte tokens and come back exactly */
    round_trip(llama3, "a\xff\xfe b\xc3 \xe4\xb8\n\x80z", 12, 0);
}
END_TEST

/* ---- errors ---- */

START_TEST(missing_merges_for_gpt2)
{
    size_t n;
    const char **tok = byte_level_tokens(0, &n);
    vocab_spec v = { "gpt2", "llama-bpe", n, tok, 0, NULL, -1, NULL, -1 };
    expect_load_error(&v, TC_E_MODEL, "tokenizer.ggml.merges: missing");
    free(tok);
}
END_TEST

START_TEST(merge_naming_unknown_token)
{
    size_t n;
    const char **tok = byte_level_tokens(1, &n);
    tok[256] = "ab";
    const char *merges[] = { "a b", "ab zz" };
    vocab_spec v = { "gpt2", "llama-bpe", n, tok, 0, NULL, 2, merges, -1 };
    expect_load_error(&v, TC_E_MODEL, "tokenizer.ggml.merges[1] 'ab zz': names an unknown token 'zz'");
    const char *merges2[] = { "a c" };   /* both known, but "ac" is not a token */
    vocab_spec v2 = { "gpt2", "llama-bpe", n, tok, 0, NULL, 1, merges2, -1 };
    expect_load_error(&v2, TC_E_MODEL, "merges[0] 'a c': the merged token is not in the vocabulary");
    const char *merges3[] = { "abc" };
    vocab_spec v3 = { "gpt2", "llama-bpe", n, tok, 0, NULL, 1, merges3, -1 };
    expect_load_error(&v3, TC_E_MODEL, "expected two tokens separated by a space");
    free(tok);
}
END_TEST

START_TEST(token_type_of_wrong_length)
{
    size_t n;
    const char **tok = byte_level_tokens(0, &n);
    int32_t types[255];
    for (int i = 0; i < 255; i++) types[i] = 1;
    vocab_spec v = { "gpt2", "llama-bpe", n, tok, 255, types, 0, NULL, -1 };
    expect_load_error(&v, TC_E_MODEL, "tokenizer.ggml.token_type: 255 entries, expected 256 (one per token)");
    free(tok);
}
END_TEST

START_TEST(other_bad_metadata)
{
    size_t n;
    const char **tok = byte_level_tokens(0, &n);
    vocab_spec v = { "gpt2", "llama-bpe", n, tok, 0, NULL, 0, NULL, 256 };
    expect_load_error(&v, TC_E_MODEL, "tokenizer.ggml.bos_token_id: 256 is outside the vocabulary");
    v.bos = -1;
    v.model = "bert";
    expect_load_error(&v, TC_E_UNSUPPORTED, "tokenizer.ggml.model 'bert' is not supported");
    v.model = NULL;
    expect_load_error(&v, TC_E_MODEL, "tokenizer.ggml.model: missing");
    v.model = "gpt2";
    v.pre = "qwen2";
    expect_load_error(&v, TC_E_UNSUPPORTED, "tokenizer.ggml.pre 'qwen2' is not supported");
    v.pre = "llama-bpe";
    v.tokens = NULL;
    expect_load_error(&v, TC_E_MODEL, "tokenizer.ggml.tokens: missing");
    /* a byte-level vocabulary without byte 0x41 ("A" renamed) */
    v.tokens = tok;
    tok[0x41] = "AA";
    expect_load_error(&v, TC_E_MODEL, "no token for byte 0x41");
    free(tok);
}
END_TEST

START_TEST(decode_out_of_range)
{
    int32_t ids[] = { 9906, 128256 }, neg[] = { -1 };
    char *text = NULL;
    size_t len;
    tc_err err;
    ck_assert_int_eq(tc_tokenizer_decode(llama3, ids, 2, 0, &text, &len, &err), TC_E_RANGE);
    ck_assert_ptr_null(text);
    ck_assert_ptr_nonnull(strstr(err.msg, "token 128256 (index 1) is outside the vocabulary (0..128255)"));
    ck_assert_int_eq(tc_tokenizer_decode(llama3, neg, 1, 0, &text, &len, &err), TC_E_RANGE);
}
END_TEST

/* ---- limits ---- */

START_TEST(empty_and_nul)
{
    int32_t *ids;
    size_t n;
    tc_err err;
    ck_assert_int_eq(tc_tokenizer_encode(llama3, "", 0, 0, &ids, &n, &err), TC_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_nonnull(ids);
    free(ids);
    ck_assert_int_eq(tc_tokenizer_encode(llama3, "", 0, TC_TOK_ADD_BOS, &ids, &n, &err), TC_OK);
    ck_assert_uint_eq(n, 1);
    free(ids);
    round_trip(llama3, "a\0b\0\0c", 6, 0);
    char *text;
    size_t len;
    ck_assert_int_eq(tc_tokenizer_decode(llama3, NULL, 0, 0, &text, &len, &err), TC_OK);
    ck_assert_uint_eq(len, 0);
    free(text);
}
END_TEST

/* Long runs: one 200 kB word, 200 kB of spaces (the \s+(?!\S) branch),
 * 200 kB of digits, and text cut inside a special token. */
START_TEST(long_runs)
{
    size_t n = 200000;
    char *s = malloc(n);
    const char fill[] = { 'a', ' ', '7', '\n' };
    for (size_t k = 0; k < sizeof fill; k++) {
        memset(s, fill[k], n);
        round_trip(llama3, s, n, 0);
    }
    /* the same spaces with a word after them (backtracking of \s+(?!\S)) */
    memset(s, ' ', n);
    s[n - 1] = 'x';
    round_trip(llama3, s, n, 0);
    free(s);
    round_trip(llama3, "<|eot_id", 8, TC_TOK_PARSE_SPECIAL);
    round_trip(llama3, "<|eot_id|><|eot_id|>", 20, TC_TOK_PARSE_SPECIAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tokenizer");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors"), *limits = tcase_create("limits");
    TCase *all[] = { core, errors, limits };
    for (int i = 0; i < 3; i++) {
        tcase_add_unchecked_fixture(all[i], load_llama3, free_llama3);
        tcase_set_timeout(all[i], 120);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_test(core, parity_with_llama3_tokenizer_js);
    tcase_add_test(core, llama3_settings_bos_and_specials);
    tcase_add_test(core, random_utf8_round_trips);
    tcase_add_test(core, gen_vocabulary_is_bytes);
    tcase_add_test(core, bitnet_cpp_byte_fallback);
    tcase_add_test(core, sha256_covers_vocab_and_settings);
    tcase_add_test(core, decode_invalid_utf8);
    tcase_add_test(errors, missing_merges_for_gpt2);
    tcase_add_test(errors, merge_naming_unknown_token);
    tcase_add_test(errors, token_type_of_wrong_length);
    tcase_add_test(errors, other_bad_metadata);
    tcase_add_test(errors, decode_out_of_range);
    tcase_add_test(limits, empty_and_nul);
    tcase_add_test(limits, long_runs);
    return tu_run(s);
}

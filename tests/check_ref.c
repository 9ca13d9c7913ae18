/* check_ref.c -- the reference engine (src/ref/, src/engine.c, src/dump.c):
 * known answers per kernel, bitnet.cpp's own dumps of the tiny model in
 * both precisions, prefill against decode, determinism, tap replacement,
 * and a negative control showing the bitnet.cpp comparison can fail. */
#include <check.h>
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/dump.h"
#include "engine/engine.h"
#include "engine/registry.h"
#include "format/gguf.h"
#include "format/model.h"
#include "engine/q8.h"
#include "ref/ref_kernels.h"
#include "base/sha256.h"
#include "testutil.h"

#define BITNET_DIR "external/bitnet-cpp/"

/* ---- helpers ---- */

/* max|c - r| / max|r| over n elements */
static double scaled_err(const float *c, const float *r, size_t n)
{
    double md = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        if (fabs((double)c[i] - r[i]) > md || isnan(c[i])) md = isnan(c[i]) ? INFINITY : fabs((double)c[i] - r[i]);
        if (fabs((double)r[i]) > mr) mr = fabs((double)r[i]);
    }
    return mr > 0 ? md / mr : md;
}

/* Decompress a vector model into a temporary file and load it. */
static tc_model *load_vector_model(const char *gz, char **path_out)
{
    char *p = tu_gunzip_temp(tu_vector_path(gz));
    ck_assert_ptr_nonnull(p);
    tc_model *m;
    tc_err err;
    ck_assert_msg(tc_model_load(p, &m, &err) == TC_OK, "%s", err.msg);
    if (path_out) *path_out = p;
    else {
        unlink(p);
        free(p);
    }
    return m;
}

/* Open the ref engine on m and record one prefill of tokens[0..n). */
static tc_dump *run_prefill(const tc_model *m, tc_precision prec, int threads, uint32_t n_ctx,
                            const int32_t *tokens, uint32_t n)
{
    tc_engine_opts o = { .precision = prec, .n_threads = threads, .n_ctx = n_ctx };
    tc_engine *e;
    tc_err err;
    ck_assert_msg(tc_engine_open("ref", m, &o, &e, &err) == TC_OK, "%s", err.msg);
    tc_dump *d = tc_dump_new();
    tc_engine_set_tap(e, tc_dump_tap_fn, d);
    ck_assert_msg(tc_engine_prefill(e, tokens, n, 0, &err) == TC_OK, "%s", err.msg);
    tc_engine_free(e);
    return d;
}

/* The 14 tokens bitnet.cpp ran. */
static const int32_t bitnet_tokens[14] = { 1, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100, 33 };

/* Compare a recording with a bitnet.cpp dump directory ("i2_s" or "f32").
 * Returns the name of the first tap over tol (static buffer) or NULL, and
 * the worst scaled error over all taps in *worst (its tap in worst_tap). */
static const char *compare_bitnet(const tc_dump *d, const char *sub, double tol, double *worst, char *worst_tap,
                                  int *argmax_mismatch)
{
    static char first_fail[64];
    char rel[256];
    size_t n;
    snprintf(rel, sizeof rel, BITNET_DIR "%s/index.json", sub);
    uint8_t *json = tu_read_gz(tu_vector_path(rel), &n);
    ck_assert_ptr_nonnull(json);
    cJSON *root = cJSON_ParseWithLength((const char *)json, n);
    ck_assert_ptr_nonnull(root);
    const cJSON *taps = cJSON_GetObjectItem(root, "taps"), *t;
    ck_assert_int_eq(cJSON_GetArraySize(taps), 37);
    const char *fail = NULL;
    *worst = 0;
    *argmax_mismatch = 0;
    cJSON_ArrayForEach(t, taps) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(t, "tap"));
        const cJSON *shape = cJSON_GetObjectItem(t, "shape");
        int rows = cJSON_GetArrayItem(shape, 0)->valueint, width = cJSON_GetArrayItem(shape, 1)->valueint;
        snprintf(rel, sizeof rel, BITNET_DIR "%s/%s.f32.gz", sub, name);
        size_t nb;
        float *ref = (float *)tu_read_gz(tu_vector_path(rel), &nb);
        ck_assert_ptr_nonnull(ref);
        ck_assert_uint_eq(nb, (size_t)rows * width * sizeof(float));
        const tc_dump_tap *c = tc_dump_find(d, name);
        ck_assert_msg(c != NULL, "tap %s not reported", name);
        ck_assert_uint_eq(c->n_pos, (uint32_t)rows);
        ck_assert_uint_eq(c->width, (uint32_t)width);
        double e = scaled_err(c->f, ref, (size_t)rows * width);
        if (e > *worst) {
            *worst = e;
            strcpy(worst_tap, name);
        }
        if (e > tol && !fail) {
            snprintf(first_fail, sizeof first_fail, "%s", name);
            fail = first_fail;
        }
        if (!strcmp(name, "logits"))
            for (int r = 0; r < rows; r++)
                *argmax_mismatch += tc_argmax(c->f + (size_t)r * width, width) != tc_argmax(ref + (size_t)r * width, width);
        free(ref);
    }
    cJSON_Delete(root);
    free(json);
    return fail;
}

/* ---- core: kernels on known answers ---- */

START_TEST(rmsnorm_known_answer)
{
    const float x[4] = { 2.385f, -1.25f, 0.5f, 3.0f }, w[4] = { 1.5f, -0.75f, 2.0f, 0.25f };
    float y[4];
    tc_ref_rmsnorm(x, w, 4, 1e-5f, y);
    double ms = (2.385 * 2.385 + 1.25 * 1.25 + 0.25 + 9.0) / 4;
    for (int i = 0; i < 4; i++) {
        double expect = (double)x[i] / sqrt(ms + (double)1e-5f) * w[i];
        ck_assert_double_eq_tol(y[i], expect, 1e-6 * fabs(expect));
    }
}
END_TEST

START_TEST(quantize_ties_round_half_to_even)
{
    /* amax = 127 makes s = 1 exactly: x * s = x, so the ties are visible */
    const float x[8] = { 127.0f, 68.5f, 67.5f, -2.5f, -3.5f, 0.5f, 1.5f, -0.5f };
    int8_t q[8];
    float s = tc_q8_quantize(x, 8, q);
    ck_assert_float_eq(s, 1.0f);
    const int8_t expect[8] = { 127, 68, 68, -2, -4, 0, 2, 0 };
    for (int i = 0; i < 8; i++) ck_assert_int_eq(q[i], expect[i]);
}
END_TEST

START_TEST(quantize_saturates_and_uses_float_product)
{
    /* amax = 2.385: s = (float)(127 / 2.385); the largest maps to 127, a
     * -amax to -127; q_i from the float product x_i * s */
    const float x[5] = { 2.385f, -2.385f, 1.1925f, 0.01f, -0.7f };
    int8_t q[5];
    float s = tc_q8_quantize(x, 5, q);
    ck_assert_float_eq(s, (float)(127.0 / (double)2.385f));
    ck_assert_int_eq(q[0], 127);
    ck_assert_int_eq(q[1], -127);
    for (int i = 2; i < 5; i++) ck_assert_int_eq(q[i], (int)nearbyintf(x[i] * s));
    /* all tiny: amax clamps to 1e-5, s = 12.7e6; nothing overflows */
    const float t[3] = { 0.0f, 1e-7f, -1e-7f };
    s = tc_q8_quantize(t, 3, q);
    ck_assert_float_eq(s, (float)(127.0 / 1e-5));
    ck_assert_int_eq(q[0], 0);
    ck_assert_int_eq(q[1], 1);
    ck_assert_int_eq(q[2], -1);
}
END_TEST

START_TEST(quantize_clamps_to_int8_range)
{
    /* amax from a double larger than any float in x cannot happen, so the
     * clamp guards the float product: x*s for x = amax may round to 127 +
     * ulp; check a spread of amax values never leaves [-128, 127] */
    float x[2];
    int8_t q[2];
    for (int k = 1; k < 2000; k++) {
        x[0] = (float)k * 0.013f + 2.385f;
        x[1] = -x[0];
        tc_q8_quantize(x, 2, q);
        ck_assert_int_eq(q[0], 127);
        ck_assert_int_eq(q[1], -127);
    }
}
END_TEST

START_TEST(i2s_dot_matches_unpacked)
{
    enum { K = 256 };
    int8_t w[K], q[K];
    uint8_t packed[K / 4 + 32];
    int64_t expect = 0;
    for (int i = 0; i < K; i++) {
        w[i] = (int8_t)((i * 7 + 3) % 3 - 1);
        q[i] = (int8_t)((i * 37) % 256 - 128);
        expect += w[i] * q[i];
    }
    ck_assert_int_eq(tc_i2s_pack(w, K, 2.385f, packed), TC_OK);
    ck_assert_int_eq(tc_ref_i2s_dot_q8(packed, q, K), expect);
    float row[K];
    tc_ref_i2s_row_f32(packed, K, 2.385f, row);
    for (int i = 0; i < K; i++) ck_assert_float_eq(row[i], (float)w[i] * 2.385f);
    /* saturated: all +1 against all -128 */
    memset(packed, 0xAA, K / 4);
    memset(q, -128, K);
    ck_assert_int_eq(tc_ref_i2s_dot_q8(packed, q, K), -128 * K);
    /* code 3 reads as 0 */
    memset(packed, 0xFF, K / 4);
    ck_assert_int_eq(tc_ref_i2s_dot_q8(packed, q, K), 0);
}
END_TEST

START_TEST(rope_position_zero_is_identity)
{
    float v[64], orig[64];
    for (int i = 0; i < 64; i++) orig[i] = v[i] = 2.385f * (float)(i - 31) / 7.0f;
    tc_ref_rope_neox(v, 64, 0, 500000.0);
    for (int i = 0; i < 64; i++) ck_assert_float_eq(v[i], orig[i]);
}
END_TEST

START_TEST(rope_position_4095_matches_double_reference)
{
    enum { HD = 128 };
    float v[HD];
    double ref[HD];
    for (int i = 0; i < HD; i++) v[i] = 2.385f * sinf((float)i * 0.37f) + 0.125f;
    for (int i = 0; i < HD / 2; i++) {
        /* the NEOX pair (i, i + 64), angle 4095 * 500000^(-2i/128) */
        double th = 4095.0 * exp(-2.0 * i / HD * log(500000.0));
        double a = v[i], b = v[i + HD / 2];
        ref[i] = a * cos(th) - b * sin(th);
        ref[i + HD / 2] = a * sin(th) + b * cos(th);
    }
    tc_ref_rope_neox(v, HD, 4095, 500000.0);
    for (int i = 0; i < HD; i++) ck_assert_double_eq_tol(v[i], ref[i], 2e-7 * (fabs(ref[i]) + 1));
    /* a float angle would be off by ~1e-4 rad at i = 0: make sure we are
     * much closer than that on the fastest pair */
    ck_assert_double_lt(fabs(v[0] - ref[0]), 1e-5);
}
END_TEST

START_TEST(softmax_large_negative_scores)
{
    double s[4] = { -1e30, -2.385e4, -2.385e4 - log(3.0), -INFINITY };
    tc_ref_softmax(s, 4);
    ck_assert_double_eq(s[0], 0.0);
    ck_assert_double_eq_tol(s[1], 0.75, 1e-12);
    ck_assert_double_eq_tol(s[2], 0.25, 1e-12);
    ck_assert_double_eq(s[3], 0.0);
    double one[1] = { -5e300 };
    tc_ref_softmax(one, 1);
    ck_assert_double_eq(one[0], 1.0);
}
END_TEST

START_TEST(gqa_head_mapping)
{
    /* 2B4T: 20 query heads over 5 KV heads, 4 per group */
    ck_assert_uint_eq(tc_ref_kv_head(0, 20, 5), 0);
    ck_assert_uint_eq(tc_ref_kv_head(3, 20, 5), 0);
    ck_assert_uint_eq(tc_ref_kv_head(4, 20, 5), 1);
    ck_assert_uint_eq(tc_ref_kv_head(19, 20, 5), 4);
    /* the tiny model: 4 over 2; MHA: identity */
    ck_assert_uint_eq(tc_ref_kv_head(1, 4, 2), 0);
    ck_assert_uint_eq(tc_ref_kv_head(2, 4, 2), 1);
    ck_assert_uint_eq(tc_ref_kv_head(7, 8, 8), 7);
}
END_TEST

START_TEST(attention_known_answer)
{
    /* two keys, hd 2: scores q.k / sqrt 2; out the softmax-weighted values */
    const float q[2] = { 2.385f, -1.5f };
    const float kv[2 * 4] = { 1.0f, 0.5f, 0, 0, -0.25f, 2.0f, 0, 0 };   /* stride 4 */
    const float vv[2 * 4] = { 3.0f, -1.0f, 0, 0, 0.5f, 4.0f, 0, 0 };
    double scores[2];
    float out[2];
    tc_ref_attention_head(q, kv, vv, 4, 2, 2, scores, out);
    double s0 = (2.385 * 1.0 - 1.5 * 0.5) / sqrt(2.0), s1 = (2.385 * -0.25 - 1.5 * 2.0) / sqrt(2.0);
    double p0 = 1.0 / (1.0 + exp(s1 - s0)), p1 = 1.0 - p0;
    ck_assert_double_eq_tol(out[0], p0 * 3.0 + p1 * 0.5, 1e-6);
    ck_assert_double_eq_tol(out[1], p0 * -1.0 + p1 * 4.0, 1e-6);
}
END_TEST

START_TEST(relu2_and_silu)
{
    ck_assert_float_eq(tc_ref_relu2(2.385f), 2.385f * 2.385f);
    ck_assert_float_eq(tc_ref_relu2(-2.385f), 0.0f);
    ck_assert_float_eq(tc_ref_relu2(0.0f), 0.0f);
    ck_assert_double_eq_tol(tc_ref_silu(2.385f), 2.385 / (1.0 + exp(-2.385)), 1e-6);
    ck_assert_double_eq_tol(tc_ref_silu(-2.385f), -2.385 / (1.0 + exp(2.385)), 1e-6);
}
END_TEST

/* ---- core: against bitnet.cpp ---- */

static void check_against_bitnet(const char *model_gz, tc_precision prec, const char *sub)
{
    tc_model *m = load_vector_model(model_gz, NULL);
    tc_dump *d = run_prefill(m, prec, 1, 0, bitnet_tokens, 14);
    double worst;
    char worst_tap[64] = "";
    int mismatch;
    const char *fail = compare_bitnet(d, sub, 1e-5, &worst, worst_tap, &mismatch);
    printf("bitnet.cpp %s: worst scaled error %.3g at %s; argmax mismatches %d\n", sub, worst, worst_tap, mismatch);
    ck_assert_msg(fail == NULL, "%s: tap %s over 1e-5 (worst %.3g at %s)", sub, fail, worst, worst_tap);
    ck_assert_int_eq(mismatch, 0);
    tc_dump_free(d);
    tc_model_free(m);
}

START_TEST(matches_bitnet_cpp_i2s)
{
    check_against_bitnet(BITNET_DIR "tiny-bitnet-b158-i2_s.gguf.gz", TC_PRECISION_I2S, "i2_s");
}
END_TEST

START_TEST(matches_bitnet_cpp_f32)
{
    check_against_bitnet(BITNET_DIR "tiny-bitnet-b158-f32.gguf.gz", TC_PRECISION_FP32, "f32");
}
END_TEST

/* The I2_S model at fp32 precision is the F32 model (its codes decode to
 * exactly the F32 file's weights): same numbers as bitnet.cpp's f32 run. */
START_TEST(i2s_model_at_fp32_matches_f32_dump)
{
    check_against_bitnet(BITNET_DIR "tiny-bitnet-b158-i2_s.gguf.gz", TC_PRECISION_FP32, "f32");
}
END_TEST

/* ---- core: prefill, decode, determinism, taps ---- */

/* A deterministic token sequence over the byte vocabulary. */
static void make_tokens(int32_t *t, uint32_t n, uint32_t vocab)
{
    uint32_t x = 2385;
    t[0] = 1;
    for (uint32_t i = 1; i < n; i++) {
        x = x * 1103515245u + 12345u;
        t[i] = (int32_t)(3 + (x >> 16) % (vocab - 3));
    }
}

/* ---- core: llama.cpp's Q8_K arithmetic (precision q8k, doc/q8k.md) ---- */

START_TEST(q8k_quantize_known_answer)
{
    /* block 0: -2.385 comes first among the two largest, so max = -2.385
     * and iscale = -127 / max = +53.249477; block 1: +2.385 first, so the
     * codes are negated and d < 0; block 2: all zero, d = 0 */
    float x[3 * 256] = { 0 };
    x[0] = -2.385f, x[1] = 2.385f;
    x[2] = 0x1.5a24eep-4f;   /* x * iscale: exactly 4.50000019 in real numbers, 4.5f as a float product: 4 */
    x[3] = 0x1.33af0cp-7f;   /* 0.5000000097 -> 0.5f: ties to even, 0 (an FMA would give 1) */
    x[4] = 0x1.0d392ap-4f;   /* 3.4999999687 -> 3.5f: ties to even, 4 */
    x[5] = 1.0f;             /* 53.249477 -> 53 */
    x[256] = 2.385f, x[257] = -2.385f, x[258] = 1.0f;
    int8_t q[3 * 256];
    float d[3];
    tc_ref_quantize_q8k(x, 3 * 256, q, d);
    const float iscale = -127.0f / -2.385f;
    ck_assert_float_eq(iscale, 53.2494774f);
    ck_assert_float_eq(d[0], 1.0f / iscale);
    const int8_t want0[6] = { -127, 127, 4, 0, 4, 53 };
    for (int i = 0; i < 6; i++) ck_assert_int_eq(q[i], want0[i]);
    for (int i = 6; i < 256; i++) ck_assert_int_eq(q[i], 0);
    ck_assert_float_eq(d[1], -d[0]);
    ck_assert_int_eq(q[256], -127);
    ck_assert_int_eq(q[257], 127);
    ck_assert_int_eq(q[258], -53);
    ck_assert_float_eq(d[2], 0.0f);
    for (int i = 512; i < 768; i++) ck_assert_int_eq(q[i], 0);
}
END_TEST

/* The hand-derived blocks of tests/check_tq.c against known codes. */
START_TEST(q8k_tq_dot_known_answer)
{
    uint8_t tq2[2 * 66];
    memset(tq2, 0x55, sizeof tq2);   /* all zero trits */
    tq2[0] = 0x56, tq2[1] = 0x51, tq2[32] = 0x54, tq2[63] = 0x95;   /* +1 @0, -1 @33, -1 @128, +1 @255 */
    tq2[64] = 0xc5, tq2[65] = 0x40;                                  /* d = 2.384765625 */
    memcpy(tq2 + 66, tq2, 66);
    tq2[130] = 0x00, tq2[131] = 0x3c;                                /* second block: d = 1 */
    int8_t q[512];
    for (int i = 0; i < 512; i++) q[i] = 3;
    q[0] = 10, q[33] = -7, q[128] = 5, q[255] = 100;   /* block 0: 10 + 7 - 5 + 100 = 112 */
    q[256] = -1, q[256 + 255] = 2;                      /* block 1: -1 - 3 - 3 + 2 = -5 */
    const float da[2] = { 0.0187795274f, -0.5f };
    double want = 112.0 * (double)(float)(da[0] * 2.384765625f) - 5.0 * (double)(float)(da[1] * 1.0f);
    ck_assert_double_eq(tc_ref_tq_dot_q8k(tq2, 0, q, da, 512), want);

    uint8_t tq1[54];
    memset(tq1, 0x80, 48);
    tq1[0] = 0x2b, tq1[1] = 0x9c, tq1[42] = 0x2b;                    /* -1 @0, +1 @33, -1 @170 */
    tq1[48] = 0x62, tq1[49] = 0x7f, tq1[50] = 0x7f, tq1[51] = 0x82;  /* -1 @244, +1 @255 */
    tq1[52] = 0x00, tq1[53] = 0x38;                                  /* d = 0.5 */
    for (int i = 0; i < 256; i++) q[i] = 1;
    q[0] = 10, q[33] = 20, q[170] = 30, q[244] = 40, q[255] = 50;   /* -10 + 20 - 30 - 40 + 50 = -10 */
    ck_assert_double_eq(tc_ref_tq_dot_q8k(tq1, 1, q, da, 256), -10.0 * (double)(float)(da[0] * 0.5f));
}
END_TEST

START_TEST(q8k_round_f16)
{
    const float x[3] = { 2.385f, 1.0f + 0x1p-11f, 65520.0f };
    float y[3];
    tc_ref_round_f16(x, 3, y);
    ck_assert_float_eq(y[0], 2.384765625f);
    ck_assert_float_eq(y[1], 1.0f);        /* a tie, to even */
    ck_assert(isinf(y[2]));
}
END_TEST

#define LLAMA_TQ2 "external/llama-cpp/tq-1block-tq2_0.gguf.gz"

/* q8k on llama.cpp's TQ2_0 file: every float tap, no .q8 tap; the kernel
 * counters name the Q8_K kernels; prefill and decode agree; and the
 * result stays near fp32 on the same weights (top-1 on every position). */
START_TEST(q8k_engine_on_llama_tq2_0)
{
    enum { N = 40 };
    tc_model *m = load_vector_model(LLAMA_TQ2, NULL);
    int32_t tok[N];
    make_tokens(tok, N, m->hp.n_vocab);
    tc_dump *a = run_prefill(m, TC_PRECISION_Q8K, 1, 64, tok, N);
    tc_dump *f = run_prefill(m, TC_PRECISION_FP32, 1, 64, tok, N);
    ck_assert_uint_eq(tc_dump_n_taps(a), 3 + 17 * m->hp.n_layer);
    ck_assert_ptr_null(tc_dump_find(a, "blk.0.attn_norm.q8"));
    const tc_dump_tap *la = tc_dump_find(a, "logits"), *lf = tc_dump_find(f, "logits");
    for (uint32_t p = 0; p < N; p++)
        ck_assert_uint_eq(tc_argmax(la->f + (size_t)p * la->width, la->width),
                          tc_argmax(lf->f + (size_t)p * lf->width, lf->width));
    double e = scaled_err(la->f, lf->f, (size_t)N * la->width);
    ck_assert_msg(e > 1e-6 && e < 0.05, "q8k against fp32: scaled error %.3g", e);   /* quantized, but close */

    tc_engine_opts o = { .precision = TC_PRECISION_Q8K, .n_threads = 2, .n_ctx = 64 };
    tc_engine *eng;
    tc_err err;
    ck_assert_int_eq(tc_engine_open("ref", m, &o, &eng, &err), TC_OK);
    tc_dump *b = tc_dump_new();
    tc_engine_set_tap(eng, tc_dump_tap_fn, b);
    ck_assert_msg(tc_engine_prefill(eng, tok, 5, 0, &err) == TC_OK, "%s", err.msg);
    for (uint32_t i = 5; i < N; i++) ck_assert_int_eq(tc_engine_decode(eng, tok[i], &err), TC_OK);
    for (size_t i = 0; i < tc_dump_n_taps(a); i++) {
        const tc_dump_tap *ta = tc_dump_get(a, i), *tb = tc_dump_find(b, ta->name);
        double e1 = scaled_err(tb->f, ta->f, (size_t)N * ta->width);
        ck_assert_msg(e1 <= 1e-6, "%s: prefill vs decode %.3g", ta->name, e1);
    }
    size_t n;
    const tc_kernel_count *k = tc_engine_kernels(eng, &n);
    uint64_t tq2 = 0, qk = 0, r16 = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(k[i].name, "ref.tq2_q8k_gemv")) tq2 = k[i].calls;
        if (!strcmp(k[i].name, "ref.quantize_q8k")) qk = k[i].calls;
        if (!strcmp(k[i].name, "ref.round_f16")) r16 = k[i].calls;
    }
    const uint64_t batches = 1 + (N - 5);
    ck_assert_uint_eq(tq2, batches * 7 * m->hp.n_layer);
    ck_assert_uint_eq(qk, batches * 4 * m->hp.n_layer);
    ck_assert_uint_eq(r16, batches);
    tc_engine_free(eng);
    tc_dump_free(a), tc_dump_free(b), tc_dump_free(f);
    tc_model_free(m);
}
END_TEST

static void prefill_vs_decode(tc_precision prec)
{
    enum { N = 300 };
    tc_model *m = load_vector_model(BITNET_DIR "tiny-bitnet-b158-i2_s.gguf.gz", NULL);
    int32_t tok[N];
    make_tokens(tok, N, m->hp.n_vocab);
    tc_dump *a = run_prefill(m, prec, 1, 512, tok, N);
    /* token by token, after a short prefill of 5 */
    tc_engine_opts o = { .precision = prec, .n_threads = 1, .n_ctx = 512 };
    tc_engine *e;
    tc_err err;
    ck_assert_int_eq(tc_engine_open("ref", m, &o, &e, &err), TC_OK);
    tc_dump *b = tc_dump_new();
    tc_engine_set_tap(e, tc_dump_tap_fn, b);
    ck_assert_msg(tc_engine_prefill(e, tok, 5, 0, &err) == TC_OK, "%s", err.msg);
    for (uint32_t i = 5; i < N; i++) ck_assert_msg(tc_engine_decode(e, tok[i], &err) == TC_OK, "%s", err.msg);
    ck_assert_uint_eq(tc_engine_n_past(e), N);
    ck_assert_uint_eq(tc_dump_n_taps(a), tc_dump_n_taps(b));
    double worst = 0;
    for (size_t i = 0; i < tc_dump_n_taps(a); i++) {
        const tc_dump_tap *ta = tc_dump_get(a, i), *tb = tc_dump_find(b, ta->name);
        ck_assert_ptr_nonnull(tb);
        ck_assert_uint_eq(tb->n_pos, N);
        size_t n = (size_t)N * ta->width;
        if (ta->kind == TC_TAP_Q8) {
            ck_assert_msg(memcmp(ta->q8, tb->q8, n) == 0, "%s codes differ", ta->name);
            ck_assert_msg(memcmp(ta->scale, tb->scale, N * sizeof(float)) == 0, "%s scales differ", ta->name);
            continue;
        }
        double e1 = scaled_err(tb->f, ta->f, n);
        ck_assert_msg(e1 <= 1e-6, "%s: prefill vs decode scaled error %.3g", ta->name, e1);
        if (e1 > worst) worst = e1;
    }
    /* the last logits row equals the engine's logits */
    const tc_dump_tap *lg = tc_dump_find(b, "logits");
    ck_assert_int_eq(memcmp(lg->f + (size_t)(N - 1) * lg->width, tc_engine_logits(e), lg->width * sizeof(float)), 0);
    printf("prefill vs decode (%s, %d positions): worst scaled error %.3g\n", tc_precision_name(prec), N, worst);
    tc_engine_free(e);
    tc_dump_free(a);
    tc_dump_free(b);
    tc_model_free(m);
}

START_TEST(prefill_equals_decode_i2s) { prefill_vs_decode(TC_PRECISION_I2S); }
END_TEST

START_TEST(prefill_equals_decode_fp32) { prefill_vs_decode(TC_PRECISION_FP32); }
END_TEST

/* SHA-256 of every tap of a recording, concatenated. */
static char *tap_hashes(const tc_dump *d)
{
    size_t n = tc_dump_n_taps(d);
    char *all = calloc(n, TC_SHA256_HEX + 64);
    for (size_t i = 0; i < n; i++) {
        const tc_dump_tap *t = tc_dump_get(d, i);
        char hex[TC_SHA256_HEX];
        size_t n_el = (size_t)t->n_pos * t->width;
        if (t->kind == TC_TAP_Q8) tc_sha256_hex(t->q8, n_el, hex);
        else tc_sha256_hex(t->f, n_el * sizeof(float), hex);
        strcat(all, t->name);
        strcat(all, hex);
    }
    return all;
}

START_TEST(two_runs_are_bit_identical)
{
    tc_model *m = load_vector_model(BITNET_DIR "tiny-bitnet-b158-i2_s.gguf.gz", NULL);
    int32_t tok[40];
    make_tokens(tok, 40, m->hp.n_vocab);
    tc_dump *a = run_prefill(m, TC_PRECISION_I2S, 1, 64, tok, 40);
    tc_dump *b = run_prefill(m, TC_PRECISION_I2S, 1, 64, tok, 40);
    tc_dump *c = run_prefill(m, TC_PRECISION_I2S, 3, 64, tok, 40);   /* threads split rows only */
    char *ha = tap_hashes(a), *hb = tap_hashes(b), *hc = tap_hashes(c);
    ck_assert_str_eq(ha, hb);
    ck_assert_str_eq(ha, hc);
    /* every tap of SPEC 3.1, q8 included: 3 + 21 per layer */
    ck_assert_uint_eq(tc_dump_n_taps(a), 3 + 21 * m->hp.n_layer);
    ck_assert_ptr_nonnull(tc_dump_find(a, "blk.1.ffn_sub_norm.q8"));
    free(ha); free(hb); free(hc);
    tc_dump_free(a); tc_dump_free(b); tc_dump_free(c);
    tc_model_free(m);
}
END_TEST

START_TEST(kernel_counters_observe_dispatch)
{
    tc_model *m = load_vector_model(BITNET_DIR "tiny-bitnet-b158-i2_s.gguf.gz", NULL);
    tc_engine *e;
    tc_err err;
    ck_assert_int_eq(tc_engine_open("ref", m, NULL, &e, &err), TC_OK);
    ck_assert_int_eq(tc_engine_prefill(e, bitnet_tokens, 14, 0, &err), TC_OK);
    ck_assert_int_eq(tc_engine_decode(e, 72, &err), TC_OK);
    size_t n;
    const tc_kernel_count *k = tc_engine_kernels(e, &n);
    uint64_t i2s = 0, f16 = 0, i2s_f32 = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(k[i].name, "ref.i2s_gemv")) i2s = k[i].calls;
        if (!strcmp(k[i].name, "ref.f16_gemv")) f16 = k[i].calls;
        if (!strcmp(k[i].name, "ref.i2s_f32_gemv")) i2s_f32 = k[i].calls;
    }
    ck_assert_uint_eq(i2s, 2 * 7 * m->hp.n_layer);   /* 7 linears per layer, per batch */
    ck_assert_uint_eq(f16, 2);                        /* the tied LM head */
    ck_assert_uint_eq(i2s_f32, 0);
    tc_engine_free(e);
    tc_model_free(m);
}
END_TEST

/* A tap callback that zeroes "blk.1.out": the engine must continue with
 * the replaced values, so rmsnorm gives 0 and every logit is 0. */
static tc_status zero_last_out(void *user, const tc_tap *tap, tc_err *err)
{
    (void)user; (void)err;
    if (!strcmp(tap->name, "blk.1.out")) memset(tap->f, 0, (size_t)tap->n_pos * tap->width * sizeof(float));
    return TC_OK;
}

START_TEST(tap_replacement_is_used)
{
    tc_model *m = load_vector_model(BITNET_DIR "tiny-bitnet-b158-i2_s.gguf.gz", NULL);
    tc_engine *e;
    tc_err err;
    ck_assert_int_eq(tc_engine_open("ref", m, NULL, &e, &err), TC_OK);
    tc_engine_set_tap(e, zero_last_out, NULL);
    ck_assert_int_eq(tc_engine_prefill(e, bitnet_tokens, 14, 0, &err), TC_OK);
    for (uint32_t i = 0; i < m->hp.n_vocab; i++) ck_assert_float_eq(tc_engine_logits(e)[i], 0.0f);
    tc_engine_free(e);
    tc_model_free(m);
}
END_TEST

START_TEST(dump_writes_vectors_layout)
{
    tc_model *m = load_vector_model(BITNET_DIR "tiny-bitnet-b158-i2_s.gguf.gz", NULL);
    tc_dump *d = run_prefill(m, TC_PRECISION_I2S, 1, 0, bitnet_tokens, 14);
    tc_err err;
    ck_assert_int_eq(tc_dump_add_tokens(d, bitnet_tokens, 14, &err), TC_OK);
    char *dir = tu_temp_path(".dump");
    ck_assert_msg(tc_dump_write(d, dir, &err) == TC_OK, "%s", err.msg);
    char path[4096], hex[TC_SHA256_HEX];
    snprintf(path, sizeof path, "%s/index.json", dir);
    size_t n;
    uint8_t *json = tu_read_gz(path, &n);
    cJSON *root = cJSON_ParseWithLength((const char *)json, n);
    ck_assert_ptr_nonnull(root);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "tokens")), 14);
    const cJSON *t;
    int count = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(root, "taps")) {
        snprintf(path, sizeof path, "%s/%s", dir, cJSON_GetStringValue(cJSON_GetObjectItem(t, "file")));
        ck_assert_int_eq(tc_sha256_file(path, hex, &err), TC_OK);
        ck_assert_str_eq(hex, cJSON_GetStringValue(cJSON_GetObjectItem(t, "sha256")));
        unlink(path);
        const cJSON *sf = cJSON_GetObjectItem(t, "scale_file");
        if (sf) {
            snprintf(path, sizeof path, "%s/%s", dir, cJSON_GetStringValue(sf));
            ck_assert_int_eq(tc_sha256_file(path, hex, &err), TC_OK);
            unlink(path);
        }
        count++;
    }
    ck_assert_int_eq(count, 3 + 21 * 2);
    /* the f32 tap matches what was recorded, byte for byte */
    const tc_dump_tap *lg = tc_dump_find(d, "logits");
    tc_sha256_hex(lg->f, (size_t)14 * lg->width * sizeof(float), hex);
    snprintf(path, sizeof path, "%s/index.json", dir);
    unlink(path);
    ck_assert_int_eq(rmdir(dir), 0);   /* nothing else was left */
    cJSON_Delete(root);
    free(json);
    free(dir);
    tc_dump_free(d);
    tc_model_free(m);
}
END_TEST

/* ---- errors ---- */

/* Negative control: one weight code of blk.1.attn_q changed in a copy of
 * the I2_S file.  Everything before blk.1.q still matches bitnet.cpp; the
 * comparison then fails exactly there. */
START_TEST(perturbed_weight_fails_at_its_layer)
{
    size_t n;
    uint8_t *buf = tu_read_gz(tu_vector_path(BITNET_DIR "tiny-bitnet-b158-i2_s.gguf.gz"), &n);
    ck_assert_ptr_nonnull(buf);
    tc_gguf *g;
    tc_err err;
    ck_assert_int_eq(tc_gguf_parse(buf, n, "copy", &g, &err), TC_OK);
    const tc_gguf_tensor *t = tc_gguf_find_tensor(g, "blk.1.attn_q.weight");
    ck_assert_ptr_nonnull(t);
    size_t off = (size_t)(t->data - buf) + 5;   /* row 0, byte 5: elements 5, 37, 69, 101 */
    tc_gguf_close(g);
    unsigned code = (buf[off] >> 6) & 3;        /* element 5 */
    unsigned flipped = code == 2 ? 0 : 2;       /* -1 <-> +1, or 0 -> +1 */
    buf[off] = (uint8_t)((buf[off] & 0x3f) | (flipped << 6));
    char *p = tu_temp_path(".gguf");
    FILE *fp = fopen(p, "wb");
    ck_assert_uint_eq(fwrite(buf, 1, n, fp), n);
    fclose(fp);
    free(buf);
    tc_model *m;
    ck_assert_msg(tc_model_load(p, &m, &err) == TC_OK, "%s", err.msg);
    tc_dump *d = run_prefill(m, TC_PRECISION_I2S, 1, 0, bitnet_tokens, 14);
    double worst;
    char worst_tap[64] = "";
    int mismatch;
    const char *fail = compare_bitnet(d, "i2_s", 1e-5, &worst, worst_tap, &mismatch);
    ck_assert_ptr_nonnull(fail);
    ck_assert_str_eq(fail, "blk.1.q");
    printf("negative control: first failing tap %s, worst scaled error %.3g at %s\n", fail, worst, worst_tap);
    tc_dump_free(d);
    tc_model_free(m);
    unlink(p);
    free(p);
}
END_TEST

START_TEST(bad_tokens_and_positions_are_range_errors)
{
    tc_model *m = load_vector_model(BITNET_DIR "tiny-bitnet-b158-i2_s.gguf.gz", NULL);
    tc_engine_opts o = { .precision = TC_PRECISION_I2S, .n_threads = 1, .n_ctx = 16 };
    tc_engine *e;
    tc_err err;
    ck_assert_int_eq(tc_engine_open("ref", m, &o, &e, &err), TC_OK);
    int32_t bad[3] = { 1, 256, 2 };
    ck_assert_int_eq(tc_engine_prefill(e, bad, 3, 0, &err), TC_E_RANGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "256"));
    bad[1] = -1;
    ck_assert_int_eq(tc_engine_prefill(e, bad, 3, 0, &err), TC_E_RANGE);
    ck_assert_int_eq(tc_engine_prefill(e, bitnet_tokens, 0, 0, &err), TC_E_RANGE);
    ck_assert_int_eq(tc_engine_prefill(e, bitnet_tokens, 3, 1, &err), TC_E_RANGE);   /* past the cache */
    ck_assert_int_eq(tc_engine_prefill(e, bitnet_tokens, 14, 0, &err), TC_OK);
    ck_assert_int_eq(tc_engine_prefill(e, bitnet_tokens, 3, 14, &err), TC_E_RANGE);  /* 17 > 16 */
    ck_assert_uint_eq(tc_engine_n_past(e), 14);
    ck_assert_int_eq(tc_engine_decode(e, 5, &err), TC_OK);
    ck_assert_int_eq(tc_engine_decode(e, 5, &err), TC_OK);
    ck_assert_int_eq(tc_engine_decode(e, 5, &err), TC_E_RANGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "context"));
    tc_engine_reset(e);
    ck_assert_uint_eq(tc_engine_n_past(e), 0);
    ck_assert_int_eq(tc_engine_decode(e, 1, &err), TC_OK);
    tc_engine_free(e);
    tc_model_free(m);
}
END_TEST

START_TEST(bad_options_are_rejected)
{
    tc_model *m = load_vector_model(BITNET_DIR "tiny-bitnet-b158-f32.gguf.gz", NULL);
    tc_engine *e;
    tc_err err;
    tc_engine_opts o = { .precision = TC_PRECISION_I2S, .n_threads = 1, .n_ctx = 0 };
    /* precision i2s on F32 linears: unsupported, naming the tensor */
    ck_assert_int_eq(tc_engine_open("ref", m, &o, &e, &err), TC_E_UNSUPPORTED);
    ck_assert_ptr_null(e);
    ck_assert_ptr_nonnull(strstr(err.msg, "blk.0.attn_q.weight"));
    o.precision = TC_PRECISION_FP32;
    o.n_threads = 0;
    ck_assert_int_eq(tc_engine_open("ref", m, &o, &e, &err), TC_E_USAGE);
    o.n_threads = 1;
    ck_assert_int_eq(tc_engine_open("nonesuch", m, &o, &e, &err), TC_E_USAGE);
    tc_precision p;
    ck_assert_int_eq(tc_precision_from_name("fp16", &p), TC_E_USAGE);
    ck_assert_int_eq(tc_precision_from_name("fp32", &p), TC_OK);
    ck_assert_int_eq(p, TC_PRECISION_FP32);
    tc_model_free(m);
}
END_TEST

static tc_status stop_at_attn(void *user, const tc_tap *tap, tc_err *err)
{
    (void)user;
    if (!strcmp(tap->name, "blk.0.attn")) return tc_fail(err, TC_E_USAGE, "stopped at %s", tap->name);
    return TC_OK;
}

START_TEST(tap_callback_error_stops_the_batch)
{
    tc_model *m = load_vector_model(BITNET_DIR "tiny-bitnet-b158-i2_s.gguf.gz", NULL);
    tc_engine *e;
    tc_err err;
    ck_assert_int_eq(tc_engine_open("ref", m, NULL, &e, &err), TC_OK);
    tc_engine_set_tap(e, stop_at_attn, NULL);
    ck_assert_int_eq(tc_engine_prefill(e, bitnet_tokens, 14, 0, &err), TC_E_USAGE);
    ck_assert_str_eq(err.msg, "stopped at blk.0.attn");
    ck_assert_uint_eq(tc_engine_n_past(e), 0);
    tc_engine_free(e);
    tc_model_free(m);
}
END_TEST

START_TEST(dump_write_failure_leaves_nothing)
{
    tc_model *m = load_vector_model(BITNET_DIR "tiny-bitnet-b158-i2_s.gguf.gz", NULL);
    tc_dump *d = run_prefill(m, TC_PRECISION_I2S, 1, 0, bitnet_tokens, 2);
    tc_err err;
    /* a file where the directory should be */
    char *p = tu_temp_path(".notadir");
    FILE *fp = fopen(p, "w");
    fclose(fp);
    ck_assert_int_eq(tc_dump_write(d, p, &err), TC_E_IO);
    unlink(p);
    /* a directory inside a missing one */
    char deep[4096];
    snprintf(deep, sizeof deep, "%s/missing/dir", p);
    ck_assert_int_eq(tc_dump_write(d, deep, &err), TC_E_IO);
    struct stat st;
    ck_assert_int_ne(stat(p, &st), 0);
    /* rows out of position order are refused */
    tc_tap tap = { .name = "inp_embd", .pos0 = 7, .n_pos = 1, .width = 256, .kind = TC_TAP_F32 };
    ck_assert_int_eq(tc_dump_tap_fn(d, &tap, &err), TC_E_USAGE);
    free(p);
    tc_dump_free(d);
    tc_model_free(m);
}
END_TEST

/* ---- limits ---- */

START_TEST(context_of_one_position)
{
    tc_model *m = load_vector_model(BITNET_DIR "tiny-bitnet-b158-i2_s.gguf.gz", NULL);
    tc_engine_opts o = { .precision = TC_PRECISION_I2S, .n_threads = 1, .n_ctx = 1 };
    tc_engine *e;
    tc_err err;
    ck_assert_int_eq(tc_engine_open("ref", m, &o, &e, &err), TC_OK);
    ck_assert_int_eq(tc_engine_decode(e, 1, &err), TC_OK);
    ck_assert_int_eq(tc_engine_decode(e, 1, &err), TC_E_RANGE);
    /* rewinding to position 0 is allowed: the cache forgets the rest */
    ck_assert_int_eq(tc_engine_prefill(e, bitnet_tokens + 1, 1, 0, &err), TC_OK);
    tc_engine_free(e);
    o.n_ctx = (1u << 24) + 1;
    ck_assert_int_eq(tc_engine_open("ref", m, &o, &e, &err), TC_E_RANGE);
    tc_model_free(m);
}
END_TEST

START_TEST(full_context_in_one_batch)
{
    tc_model *m = load_vector_model(BITNET_DIR "tiny-bitnet-b158-i2_s.gguf.gz", NULL);
    enum { N = 512 };
    int32_t *tok = malloc(N * sizeof *tok);
    make_tokens(tok, N, m->hp.n_vocab);
    tc_engine *e;
    tc_err err;
    ck_assert_int_eq(tc_engine_open("ref", m, NULL, &e, &err), TC_OK);
    ck_assert_uint_eq(tc_engine_options(e)->n_ctx, 512);
    ck_assert_int_eq(tc_engine_prefill(e, tok, N, 0, &err), TC_OK);
    const float *lg = tc_engine_logits(e);
    for (uint32_t i = 0; i < m->hp.n_vocab; i++) ck_assert(isfinite(lg[i]));
    ck_assert_int_eq(tc_engine_decode(e, 1, &err), TC_E_RANGE);
    free(tok);
    tc_engine_free(e);
    tc_model_free(m);
}
END_TEST

/* q8k needs TQ1_0/TQ2_0 linears; i2s refuses them */
START_TEST(q8k_precision_needs_tq_weights)
{
    tc_model *m = load_vector_model(BITNET_DIR "tiny-bitnet-b158-i2_s.gguf.gz", NULL);
    tc_engine_opts o = { .precision = TC_PRECISION_Q8K, .n_threads = 1 };
    tc_engine *e = NULL;
    tc_err err;
    ck_assert_int_eq(tc_engine_open("ref", m, &o, &e, &err), TC_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "precision q8k needs TQ1_0 or TQ2_0"));
    ck_assert_int_eq(tc_engine_open("fast", m, &o, &e, &err), TC_E_UNSUPPORTED);
    tc_model_free(m);
    m = load_vector_model(LLAMA_TQ2, NULL);
    o.precision = TC_PRECISION_I2S;
    ck_assert_int_eq(tc_engine_open("ref", m, &o, &e, &err), TC_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "is TQ2_0"));
    tc_precision p;
    ck_assert_int_eq(tc_precision_from_name("q8k", &p), TC_OK);
    ck_assert_int_eq(p, TC_PRECISION_Q8K);
    ck_assert_str_eq(tc_precision_name(p), "q8k");
    ck_assert_int_eq(tc_precision_from_name("q8", &p), TC_E_USAGE);
    tc_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ref");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors"), *limits = tcase_create("limits");
    tcase_add_test(core, rmsnorm_known_answer);
    tcase_add_test(core, quantize_ties_round_half_to_even);
    tcase_add_test(core, quantize_saturates_and_uses_float_product);
    tcase_add_test(core, quantize_clamps_to_int8_range);
    tcase_add_test(core, i2s_dot_matches_unpacked);
    tcase_add_test(core, rope_position_zero_is_identity);
    tcase_add_test(core, rope_position_4095_matches_double_reference);
    tcase_add_test(core, softmax_large_negative_scores);
    tcase_add_test(core, gqa_head_mapping);
    tcase_add_test(core, attention_known_answer);
    tcase_add_test(core, relu2_and_silu);
    tcase_add_test(core, matches_bitnet_cpp_i2s);
    tcase_add_test(core, matches_bitnet_cpp_f32);
    tcase_add_test(core, i2s_model_at_fp32_matches_f32_dump);
    tcase_add_test(core, prefill_equals_decode_i2s);
    tcase_add_test(core, prefill_equals_decode_fp32);
    tcase_add_test(core, two_runs_are_bit_identical);
    tcase_add_test(core, kernel_counters_observe_dispatch);
    tcase_add_test(core, tap_replacement_is_used);
    tcase_add_test(core, dump_writes_vectors_layout);
    tcase_add_test(core, q8k_quantize_known_answer);
    tcase_add_test(core, q8k_tq_dot_known_answer);
    tcase_add_test(core, q8k_round_f16);
    tcase_add_test(core, q8k_engine_on_llama_tq2_0);
    tcase_add_test(errors, q8k_precision_needs_tq_weights);
    tcase_add_test(errors, perturbed_weight_fails_at_its_layer);
    tcase_add_test(errors, bad_tokens_and_positions_are_range_errors);
    tcase_add_test(errors, bad_options_are_rejected);
    tcase_add_test(errors, tap_callback_error_stops_the_batch);
    tcase_add_test(errors, dump_write_failure_leaves_nothing);
    tcase_add_test(limits, context_of_one_position);
    tcase_add_test(limits, full_context_in_one_batch);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    suite_add_tcase(s, limits);
    return tu_run(s);
}

/* check_cuda.c -- the CUDA kernels (src/fast/cuda/kernels.cu) against the
 * reference engine's kernels (src/ref/kernels.h) on GSL-random inputs, with
 * the fast CPU tests' shapes and the 2b4t shapes:
 *   integer sums exact; q8 codes and scales identical; the kernels built to
 *   be bit-exact (I2_S output, RoPE, ReLU^2 * up, add) bit-exact; float
 *   reductions within 1e-6 scaled.
 * Every output buffer is poisoned before each launch (NaN bytes for
 * floats; for integers two runs with two different byte patterns, so no
 * unwritten element can match the reference twice) and every element is
 * checked.
 *
 * Exits 77 (skip) when CUDA is not built, when there is no GPU, or when the
 * GPU is older than the sm_90 code this build carries.  Runs without
 * fork (CK_NOFORK): a CUDA context does not survive fork().
 * TC_CUDA_QUICK=1 drops the largest shapes (for compute-sanitizer runs). */
#include "config.h"

#include <stdio.h>

#ifndef HAVE_CUDA
int main(void)
{
    fprintf(stderr, "check_cuda: this build has no CUDA engine (configure --enable-cuda): skipped\n");
    return 77;
}
#else

#include <check.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/gpu.h"
#include "fast/cuda/cuda_kernels.h"
#include "engine/q8.h"
#include "ref/ref_kernels.h"
#include "format/types.h"

static tc_err err;   /* the last call's error, for the assertion messages */
static int quick;    /* TC_CUDA_QUICK: skip the largest shapes */

#define OK(call) \
    do { \
        tc_status s_ = (call); \
        ck_assert_msg(s_ == TC_OK, "%s -> %s: %s", #call, tc_strerror(s_), err.msg); \
    } while (0)

/* ---- helpers ---- */

static gsl_rng *rng_new(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    return r;
}

static void *dalloc(size_t bytes)
{
    void *p;
    OK(tc_cuda_alloc(&p, bytes, &err));
    return p;
}

static void *dup_to_device(const void *h, size_t bytes)
{
    void *d = dalloc(bytes);
    OK(tc_cuda_upload(d, h, bytes, &err));
    return d;
}

static void poison(void *d, int byte, size_t bytes) { OK(tc_cuda_memset(d, byte, bytes, NULL, &err)); }

static void fetch(void *h, const void *d, size_t bytes)
{
    OK(tc_cuda_sync(&err));
    OK(tc_cuda_download(h, d, bytes, &err));
}

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float *gauss(gsl_rng *g, size_t n, double sigma)
{
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = (float)gsl_ran_gaussian(g, sigma);
    return x;
}

/* max|c - r| / max|r| (NaN in c where r has none: infinite) */
static double scaled_err(const float *c, const float *r, size_t n)
{
    double md = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)c[i] - r[i]);
        if (isnan(c[i]) != isnan(r[i])) d = INFINITY;
        if (d > md) md = d;
        if (fabs((double)r[i]) > mr) mr = fabs((double)r[i]);
    }
    return mr > 0 ? md / mr : md;
}

/* ---- core: I2_S x int8 ---- */

/* rows x K random packed codes (all four codes, 3 included), scale 2.385
 * at byte rows*K/4, random padding; q random over the whole int8 range;
 * per-token scales s.  GEMM over all tokens (and GEMV on the first and
 * last token), each twice with different integer poison. */
static void check_i2s(gsl_rng *g, size_t rows, size_t K, size_t n_tok, size_t ld)
{
    const size_t nb = rows * K / 4, wbytes = nb + 32;
    const float m = 2.385f;
    uint8_t *w = malloc(wbytes);
    for (size_t i = 0; i < wbytes; i++) w[i] = (uint8_t)gsl_rng_uniform_int(g, 256);
    memcpy(w + nb, &m, 4);
    int8_t *q = malloc(n_tok * K);
    for (size_t i = 0; i < n_tok * K; i++) q[i] = (int8_t)((int)gsl_rng_uniform_int(g, 256) - 128);
    float *s = malloc(n_tok * sizeof *s);
    for (size_t t = 0; t < n_tok; t++) s[t] = (float)(0.5 + 100.0 * gsl_rng_uniform(g));

    const size_t n_out = n_tok * ld;
    int32_t *want = malloc(n_out * 4), *got = malloc(n_out * 4);
    float *want_y = malloc(n_out * 4), *got_y = malloc(n_out * 4);
    for (size_t t = 0; t < n_tok; t++)
        for (size_t r = 0; r < rows; r++) {
            int64_t d = tc_ref_i2s_dot_q8(w + r * K / 4, q + t * K, K);
            want[t * ld + r] = (int32_t)d;
            want_y[t * ld + r] = (float)d / s[t] * m;   /* SPEC 2.2 */
        }

    uint8_t *dw = dup_to_device(w, wbytes);
    int8_t *dq = dup_to_device(q, n_tok * K);
    float *ds = dup_to_device(s, n_tok * 4), *dy = dalloc(n_out * 4);
    int32_t *dsum = dalloc(n_out * 4);
    static const int poisons[2] = { 0x5a, 0xa5 };
    for (int pass = 0; pass < 2; pass++) {
        poison(dy, 0xff, n_out * 4);   /* NaN */
        poison(dsum, poisons[pass], n_out * 4);
        OK(tc_cuda_i2s_gemm(dw, rows, K, dq, n_tok, ds, m, dy, dsum, ld, NULL, &err));
        fetch(got, dsum, n_out * 4);
        fetch(got_y, dy, n_out * 4);
        for (size_t t = 0; t < n_tok; t++) {
            for (size_t r = 0; r < rows; r++) {
                const size_t o = t * ld + r;
                ck_assert_msg(got[o] == want[o], "i2s gemm rows %zu K %zu tokens %zu: sum[%zu][%zu] %d != %d", rows,
                              K, n_tok, t, r, got[o], want[o]);
                ck_assert_msg(bits(got_y[o]) == bits(want_y[o]),
                              "i2s gemm rows %zu K %zu: y[%zu][%zu] %.9g != %.9g", rows, K, t, r, (double)got_y[o],
                              (double)want_y[o]);
            }
            for (size_t r = rows; r < ld; r++) {   /* the gap between rows and ld is not written */
                ck_assert(got[t * ld + r] == (int32_t)(0x01010101u * (uint32_t)poisons[pass]));
                ck_assert(isnan(got_y[t * ld + r]));
            }
        }
        /* GEMV on the first and the last token */
        for (size_t k = 0; k < 2; k++) {
            const size_t t = k ? n_tok - 1 : 0;
            poison(dy, 0xff, rows * 4);
            poison(dsum, poisons[pass], rows * 4);
            OK(tc_cuda_i2s_gemv(dw, rows, K, dq + t * K, ds + t, m, dy, dsum, NULL, &err));
            fetch(got, dsum, rows * 4);
            fetch(got_y, dy, rows * 4);
            for (size_t r = 0; r < rows; r++) {
                ck_assert_msg(got[r] == want[t * ld + r], "i2s gemv rows %zu K %zu: sum[%zu] %d != %d", rows, K, r,
                              got[r], want[t * ld + r]);
                ck_assert_msg(bits(got_y[r]) == bits(want_y[t * ld + r]), "i2s gemv rows %zu K %zu: y[%zu]", rows, K,
                              r);
            }
        }
    }
    tc_cuda_free(dw), tc_cuda_free(dq), tc_cuda_free(ds), tc_cuda_free(dy), tc_cuda_free(dsum);
    free(w), free(q), free(s), free(want), free(got), free(want_y), free(got_y);
}

START_TEST(i2s_matches_reference)
{
    gsl_rng *g = rng_new(7);
    /* the fast CPU tests' small shapes: every K from 128 to 6912 */
    for (size_t K = 128; K <= 6912; K += quick ? 640 : 128) {
        check_i2s(g, 1, K, 5, 1);
        check_i2s(g, 3, K, 5, 3);
        check_i2s(g, 17, K, 5, 17);
    }
    check_i2s(g, 17, 384, 9, 20);   /* ld > rows: the gap stays untouched */
    check_i2s(g, 640, 2560, 3, 640);
    if (!quick) {
        /* 2b4t: attn_q / attn_output, attn_k / attn_v, ffn_gate / ffn_up, ffn_down */
        const size_t shapes[4][2] = { { 2560, 2560 }, { 640, 2560 }, { 6912, 2560 }, { 2560, 6912 } };
        for (int i = 0; i < 4; i++) {
            check_i2s(g, shapes[i][0], shapes[i][1], 1, shapes[i][0]);
            check_i2s(g, shapes[i][0], shapes[i][1], 17, shapes[i][0]);
        }
    }
    gsl_rng_free(g);
}
END_TEST

/* ---- core: RMSNorm and quantization ---- */

/* GPU rmsnorm_q8 on n_tok rows; its own float output h, quantized by the
 * reference, must give the GPU's codes and scales exactly; h must match
 * the reference RMSNorm within 1e-6 scaled. */
static void check_rmsnorm_q8(gsl_rng *g, size_t n, size_t n_tok, int kind)
{
    float *x = gauss(g, n * n_tok, 2.385), *w = malloc(n * 4);
    for (size_t i = 0; i < n; i++) w[i] = (float)(0.5 + gsl_rng_uniform(g));
    for (size_t t = 0; t < n_tok; t++)
        for (size_t i = 0; i < n; i++) {
            if (kind == 1) x[t * n + i] = i == (n / 2 + t) % n ? 1e4f : 1e-3f * x[t * n + i];   /* one outlier */
            if (kind == 2) x[t * n + i] = 0.0f;                                                /* amax floor */
        }
    float *dx = dup_to_device(x, n * n_tok * 4), *dw = dup_to_device(w, n * 4);
    float *dh = dalloc(n * n_tok * 4), *ds = dalloc(n_tok * 4);
    int8_t *dq = dalloc(n * n_tok);
    float *h = malloc(n * n_tok * 4), *s = malloc(n_tok * 4), *rh = malloc(n * 4);
    int8_t *q = malloc(n * n_tok), *rq = malloc(n), *q0 = malloc(n * n_tok);
    for (int pass = 0; pass < 2; pass++) {
        poison(dh, 0xff, n * n_tok * 4);
        poison(ds, 0xff, n_tok * 4);
        poison(dq, pass ? 0xa5 : 0x5a, n * n_tok);
        OK(tc_cuda_rmsnorm_q8(dx, dw, n, n_tok, 1e-5f, dq, ds, dh, NULL, &err));
        fetch(h, dh, n * n_tok * 4);
        fetch(s, ds, n_tok * 4);
        fetch(q, dq, n * n_tok);
        if (pass == 1) ck_assert_msg(!memcmp(q, q0, n * n_tok), "rmsnorm_q8 n %zu: codes differ between runs", n);
        memcpy(q0, q, n * n_tok);
        for (size_t t = 0; t < n_tok; t++) {
            tc_ref_rmsnorm(x + t * n, w, n, 1e-5f, rh);
            double e = scaled_err(h + t * n, rh, n);
            ck_assert_msg(e <= 1e-6, "rmsnorm_q8 n %zu kind %d token %zu: h scaled error %g", n, kind, t, e);
            float rs = tc_q8_quantize(h + t * n, n, rq);
            ck_assert_msg(bits(s[t]) == bits(rs), "rmsnorm_q8 n %zu kind %d token %zu: s %.9g != %.9g", n, kind, t,
                          (double)s[t], (double)rs);
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(q[t * n + i] == rq[i], "rmsnorm_q8 n %zu kind %d token %zu element %zu: code %d != %d",
                              n, kind, t, i, q[t * n + i], rq[i]);
        }
    }
    tc_cuda_free(dx), tc_cuda_free(dw), tc_cuda_free(dh), tc_cuda_free(ds), tc_cuda_free(dq);
    free(x), free(w), free(h), free(s), free(rh), free(q), free(rq), free(q0);
}

START_TEST(rmsnorm_q8_matches_reference)
{
    gsl_rng *g = rng_new(11);
    const size_t ns[] = { 128, 256, 2560, 6912, 136 }, toks[] = { 1, 3, 17 };
    for (size_t a = 0; a < 5; a++)
        for (size_t b = 0; b < 3; b++)
            for (int kind = 0; kind < 3; kind++) check_rmsnorm_q8(g, ns[a], toks[b], kind);
    gsl_rng_free(g);
}
END_TEST

/* quantize alone: random rows and rows whose products land exactly on
 * .5 (s = 1 and s = 2): codes and scales identical to the reference */
START_TEST(quantize_q8_matches_reference)
{
    gsl_rng *g = rng_new(19);
    const size_t n = 256, n_tok = 4;
    float *x = gauss(g, n * n_tok, 2.385);
    /* token 2: amax 127 -> s = 1; token 3: amax 63.5 -> s = 2 */
    static const float halves[] = { 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 68.5f, 126.5f, -127.0f, 127.0f };
    for (size_t i = 0; i < n; i++) {
        x[2 * n + i] = halves[i % 10];
        x[3 * n + i] = halves[i % 10] / 2.0f;
    }
    x[3 * n + 9] = 63.5f;
    float *dx = dup_to_device(x, n * n_tok * 4), *ds = dalloc(n_tok * 4), s[4];
    int8_t *dq = dalloc(n * n_tok), q[1024], rq[256];
    for (int pass = 0; pass < 2; pass++) {
        poison(dq, pass ? 0xa5 : 0x5a, n * n_tok);
        poison(ds, 0xff, n_tok * 4);
        OK(tc_cuda_quantize_q8(dx, n, n_tok, dq, ds, NULL, &err));
        fetch(q, dq, n * n_tok);
        fetch(s, ds, n_tok * 4);
        for (size_t t = 0; t < n_tok; t++) {
            float rs = tc_q8_quantize(x + t * n, n, rq);
            ck_assert_msg(bits(s[t]) == bits(rs), "quantize token %zu: s %.9g != %.9g", t, (double)s[t], (double)rs);
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(q[t * n + i] == rq[i], "quantize token %zu element %zu (x %.9g): %d != %d", t, i,
                              (double)x[t * n + i], q[t * n + i], rq[i]);
        }
    }
    ck_assert(s[2] == 1.0f && s[3] == 2.0f);
    ck_assert_int_eq(q[2 * n + 0], 0);    /* 0.5 -> 0  */
    ck_assert_int_eq(q[2 * n + 2], 2);    /* 2.5 -> 2  */
    ck_assert_int_eq(q[2 * n + 6], 68);   /* 68.5 -> 68: the FMA trap of SPEC 2.2 */
    ck_assert_int_eq(q[3 * n + 6], 68);   /* 34.25 * 2 */
    tc_cuda_free(dx), tc_cuda_free(ds), tc_cuda_free(dq);
    free(x);
    gsl_rng_free(g);
}
END_TEST

START_TEST(rmsnorm_matches_reference)
{
    gsl_rng *g = rng_new(23);
    const size_t ns[] = { 128, 2560, 6912, 136 }, n_tok = 3;
    for (size_t a = 0; a < 4; a++) {
        const size_t n = ns[a];
        float *x = gauss(g, n * n_tok, 2.385), *w = gauss(g, n, 1.0), *y = malloc(n * n_tok * 4),
              *y2 = malloc(n * n_tok * 4), *ry = malloc(n * 4);
        float *dx = dup_to_device(x, n * n_tok * 4), *dw = dup_to_device(w, n * 4), *dy = dalloc(n * n_tok * 4);
        poison(dy, 0xff, n * n_tok * 4);
        OK(tc_cuda_rmsnorm(dx, dw, n, n_tok, 1e-5f, dy, NULL, &err));
        fetch(y, dy, n * n_tok * 4);
        for (size_t t = 0; t < n_tok; t++) {
            tc_ref_rmsnorm(x + t * n, w, n, 1e-5f, ry);
            double e = scaled_err(y + t * n, ry, n);
            ck_assert_msg(e <= 1e-6, "rmsnorm n %zu token %zu: scaled error %g", n, t, e);
        }
        OK(tc_cuda_rmsnorm(dx, dw, n, n_tok, 1e-5f, dx, NULL, &err));   /* in place */
        fetch(y2, dx, n * n_tok * 4);
        ck_assert_msg(!memcmp(y, y2, n * n_tok * 4), "rmsnorm n %zu: in place differs", n);
        tc_cuda_free(dx), tc_cuda_free(dw), tc_cuda_free(dy);
        free(x), free(w), free(y), free(y2), free(ry);
    }
    gsl_rng_free(g);
}
END_TEST

/* ---- core: RoPE ---- */

START_TEST(rope_matches_reference)
{
    gsl_rng *g = rng_new(29);
    const uint32_t n_pos = 4160;
    const struct { size_t hd, n_heads, n_tok; uint32_t pos0; double base; } cs[] = {
        { 128, 20, 1, 0, 500000.0 }, { 128, 5, 7, 4000, 500000.0 }, { 128, 20, 33, 99, 500000.0 },
        { 64, 4, 17, 4090, 10000.0 }, { 40, 3, 5, 1234, 10000.0 },
    };
    for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++) {
        const size_t hd = cs[c].hd, width = cs[c].n_heads * hd, n = cs[c].n_tok * width;
        double *dt = dalloc((size_t)n_pos * hd * sizeof(double));
        OK(tc_cuda_rope_table_upload(dt, n_pos, hd, cs[c].base, &err));
        float *x = gauss(g, n, 2.385), *want = malloc(n * 4), *got = malloc(n * 4);
        memcpy(want, x, n * 4);
        for (size_t t = 0; t < cs[c].n_tok; t++)
            for (size_t h = 0; h < cs[c].n_heads; h++)
                tc_ref_rope_neox(want + t * width + h * hd, hd, cs[c].pos0 + (uint32_t)t, cs[c].base);
        float *dx = dup_to_device(x, n * 4), *dy = dalloc(n * 4);
        poison(dy, 0xff, n * 4);
        OK(tc_cuda_rope(dx, dy, cs[c].n_tok, cs[c].n_heads, hd, cs[c].pos0, dt, NULL, &err));
        fetch(got, dy, n * 4);
        /* same double table, same double arithmetic, one rounding: exact */
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(bits(got[i]) == bits(want[i]), "rope hd %zu pos0 %u: element %zu %.9g != %.9g", hd,
                          cs[c].pos0, i, (double)got[i], (double)want[i]);
        OK(tc_cuda_rope(dx, dx, cs[c].n_tok, cs[c].n_heads, hd, cs[c].pos0, dt, NULL, &err));   /* in place */
        fetch(got, dx, n * 4);
        ck_assert(!memcmp(got, want, n * 4));
        tc_cuda_free(dt), tc_cuda_free(dx), tc_cuda_free(dy);
        free(x), free(want), free(got);
    }
    gsl_rng_free(g);
}
END_TEST

/* ---- core: attention ---- */

/* n_tok queries at positions pos0.. against a cache of pos0 + n_tok random
 * keys and values; each (token, head) against tc_ref_attention_head within
 * 1e-6 of max|v| (the output is a convex combination of values) */
static void check_attention(gsl_rng *g, size_t n_head, size_t n_kv, size_t hd, uint32_t pos0, size_t n_tok)
{
    const size_t n_ctx = pos0 + n_tok, kvw = n_kv * hd, qw = n_head * hd;
    float *q = gauss(g, n_tok * qw, 1.0), *k = gauss(g, n_ctx * kvw, 1.0), *v = gauss(g, n_ctx * kvw, 2.385);
    float *got = malloc(n_tok * qw * 4), *got2 = malloc(n_tok * qw * 4), *want = malloc(hd * 4);
    double *scores = malloc(n_ctx * sizeof *scores), vmax = 0;
    for (size_t i = 0; i < n_ctx * kvw; i++)
        if (fabs(v[i]) > vmax) vmax = fabs(v[i]);
    float *dq = dup_to_device(q, n_tok * qw * 4), *dk = dup_to_device(k, n_ctx * kvw * 4),
          *dv = dup_to_device(v, n_ctx * kvw * 4), *dout = dalloc(n_tok * qw * 4);
    for (int run = 0; run < 2; run++) {
        poison(dout, 0xff, n_tok * qw * 4);
        OK(tc_cuda_attention(dq, dk, dv, dout, n_tok, pos0, n_head, n_kv, hd, NULL, &err));
        fetch(run ? got2 : got, dout, n_tok * qw * 4);
    }
    ck_assert_msg(!memcmp(got, got2, n_tok * qw * 4), "attention: two runs differ");
    for (size_t t = 0; t < n_tok; t++)
        for (size_t h = 0; h < n_head; h++) {
            const size_t kvh = tc_ref_kv_head((uint32_t)h, (uint32_t)n_head, (uint32_t)n_kv);
            tc_ref_attention_head(q + t * qw + h * hd, k + kvh * hd, v + kvh * hd, kvw, pos0 + t + 1, hd, scores,
                                  want);
            for (size_t i = 0; i < hd; i++) {
                const float c = got[t * qw + h * hd + i];
                ck_assert_msg(fabs((double)c - want[i]) <= 1e-6 * vmax,
                              "attention heads %zu/%zu hd %zu pos0 %u token %zu head %zu dim %zu: %.9g vs %.9g",
                              n_head, n_kv, hd, pos0, t, h, i, (double)c, (double)want[i]);
            }
        }
    tc_cuda_free(dq), tc_cuda_free(dk), tc_cuda_free(dv), tc_cuda_free(dout);
    free(q), free(k), free(v), free(got), free(got2), free(want), free(scores);
}

START_TEST(attention_matches_reference)
{
    gsl_rng *g = rng_new(31);
    check_attention(g, 20, 5, 128, 0, 7);      /* 2b4t prefill */
    check_attention(g, 20, 5, 128, 99, 1);     /* 2b4t decode */
    check_attention(g, 2, 2, 128, 0, 1);       /* one key */
    check_attention(g, 4, 2, 64, 0, 100);
    check_attention(g, 4, 1, 40, 950, 50);     /* 1000 keys, odd head_dim */
    check_attention(g, 3, 3, 512, 10, 3);      /* head_dim > block: one part */
    if (!quick) check_attention(g, 20, 5, 128, 4000, 96);   /* the 2b4t context */
    gsl_rng_free(g);
}
END_TEST

/* ---- core: element-wise ---- */

START_TEST(elementwise_matches_reference)
{
    gsl_rng *g = rng_new(37);
    const size_t n = 6912 * 3 + 5;
    float *a = gauss(g, n, 2.385), *b = gauss(g, n, 1.0), *got = malloc(n * 4), *want = malloc(n * 4);
    float *da = dup_to_device(a, n * 4), *db = dup_to_device(b, n * 4), *dy = dalloc(n * 4);

    poison(dy, 0xff, n * 4);
    OK(tc_cuda_relu2_mul(da, db, n, dy, NULL, &err));
    fetch(got, dy, n * 4);
    for (size_t i = 0; i < n; i++) {
        want[i] = tc_ref_relu2(a[i]) * b[i];
        ck_assert_msg(bits(got[i]) == bits(want[i]), "relu2_mul %zu: %.9g != %.9g", i, (double)got[i],
                      (double)want[i]);
    }
    poison(dy, 0xff, n * 4);
    OK(tc_cuda_act_mul(da, db, n, TC_CUDA_ACT_SILU, dy, NULL, &err));
    fetch(got, dy, n * 4);
    for (size_t i = 0; i < n; i++) want[i] = tc_ref_silu(a[i]) * b[i];
    ck_assert_msg(scaled_err(got, want, n) <= 1e-6, "silu_mul: scaled error %g", scaled_err(got, want, n));
    poison(dy, 0xff, n * 4);
    OK(tc_cuda_add(da, db, n, dy, NULL, &err));
    fetch(got, dy, n * 4);
    for (size_t i = 0; i < n; i++) ck_assert(bits(got[i]) == bits(a[i] + b[i]));
    OK(tc_cuda_add(da, db, n, da, NULL, &err));   /* residual in place */
    fetch(got, da, n * 4);
    for (size_t i = 0; i < n; i++) ck_assert(bits(got[i]) == bits(a[i] + b[i]));

    tc_cuda_free(da), tc_cuda_free(db), tc_cuda_free(dy);
    free(a), free(b), free(got), free(want);
    gsl_rng_free(g);
}
END_TEST

/* ---- core: F16 weights ---- */

/* each element within 1e-6 of its own sum |w x| (a float sum's error
 * scales with that, not with |sum|) */
static void check_f16(gsl_rng *g, size_t rows, size_t K, size_t n_tok)
{
    uint16_t *w = malloc(rows * K * 2);
    for (size_t i = 0; i < rows * K; i++) w[i] = tc_f32_to_f16((float)gsl_ran_gaussian(g, 0.05));
    float *x = gauss(g, n_tok * K, 1.0), *got = malloc(n_tok * rows * 4), *got2 = malloc(n_tok * rows * 4);
    uint16_t *dw = dup_to_device(w, rows * K * 2);
    float *dx = dup_to_device(x, n_tok * K * 4), *dy = dalloc(n_tok * rows * 4);
    for (int run = 0; run < 2; run++) {
        poison(dy, 0xff, n_tok * rows * 4);
        if (n_tok == 1)
            OK(tc_cuda_f16_gemv(dw, rows, K, dx, dy, NULL, &err));
        else
            OK(tc_cuda_f16_gemm(dw, rows, K, dx, n_tok, dy, rows, NULL, &err));
        fetch(run ? got2 : got, dy, n_tok * rows * 4);
    }
    ck_assert_msg(!memcmp(got, got2, n_tok * rows * 4), "f16 rows %zu K %zu: two runs differ", rows, K);
    float *wf = malloc(K * 4);
    for (size_t r = 0; r < rows; r++) {
        for (size_t i = 0; i < K; i++) wf[i] = tc_f16_to_f32(w[r * K + i]);
        for (size_t t = 0; t < n_tok; t++) {
            double s = 0, mag = 0;
            for (size_t i = 0; i < K; i++) {
                s += (double)wf[i] * x[t * K + i];
                mag += fabs((double)wf[i] * x[t * K + i]);
            }
            const float c = got[t * rows + r];
            ck_assert_msg(fabs((double)c - s) <= 1e-6 * mag, "f16 rows %zu K %zu tokens %zu: y[%zu][%zu] %.9g vs %.9g",
                          rows, K, n_tok, t, r, (double)c, s);
        }
    }
    tc_cuda_free(dw), tc_cuda_free(dx), tc_cuda_free(dy);
    free(w), free(x), free(got), free(got2), free(wf);
}

START_TEST(f16_matches_reference)
{
    gsl_rng *g = rng_new(41);
    const size_t rowsv[] = { 1, 3, 17, 640 }, ks[] = { 128, 2560, 384 }, toks[] = { 1, 3, 9 };
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < 3; b++)
            for (size_t c = 0; c < 3; c++) check_f16(g, rowsv[a], ks[b], toks[c]);
    if (!quick) {
        check_f16(g, 128256, 2560, 1);   /* the 2b4t tied LM head, decode */
        check_f16(g, 128256, 2560, 3);
    }
    gsl_rng_free(g);
}
END_TEST

/* ---- determinism: the I2_S and norm kernels, twice, bit for bit ---- */

START_TEST(runs_are_bit_identical)
{
    gsl_rng *g = rng_new(43);
    const size_t rows = 2560, K = 2560, n_tok = 17;
    uint8_t *w = malloc(rows * K / 4);
    for (size_t i = 0; i < rows * K / 4; i++) w[i] = (uint8_t)gsl_rng_uniform_int(g, 256);
    float *x = gauss(g, n_tok * K, 2.385), *nw = gauss(g, K, 1.0);
    float *y1 = malloc(n_tok * rows * 4), *y2 = malloc(n_tok * rows * 4);
    uint8_t *dw = dup_to_device(w, rows * K / 4);
    float *dx = dup_to_device(x, n_tok * K * 4), *dnw = dup_to_device(nw, K * 4), *ds = dalloc(n_tok * 4),
          *dy = dalloc(n_tok * rows * 4);
    int8_t *dq = dalloc(n_tok * K);
    for (int run = 0; run < 2; run++) {
        poison(dy, 0xff, n_tok * rows * 4);
        OK(tc_cuda_rmsnorm_q8(dx, dnw, K, n_tok, 1e-5f, dq, ds, NULL, NULL, &err));
        OK(tc_cuda_i2s_gemm(dw, rows, K, dq, n_tok, ds, 2.385f, dy, NULL, rows, NULL, &err));
        fetch(run ? y2 : y1, dy, n_tok * rows * 4);
    }
    ck_assert(!memcmp(y1, y2, n_tok * rows * 4));
    for (size_t i = 0; i < n_tok * rows; i++) ck_assert(!isnan(y1[i]));
    tc_cuda_free(dw), tc_cuda_free(dx), tc_cuda_free(dnw), tc_cuda_free(ds), tc_cuda_free(dy), tc_cuda_free(dq);
    free(w), free(x), free(nw), free(y1), free(y2);
    gsl_rng_free(g);
}
END_TEST

/* ---- errors: every argument check, and device errors as TC_E_DEVICE ---- */

START_TEST(bad_arguments_are_refused)
{
    uint8_t *dw = dalloc(4096);
    int8_t *dq = dalloc(4096);
    float *df = dalloc(4096 * 4);
    int32_t *di = dalloc(4096 * 4);
    ck_assert_int_eq(tc_cuda_i2s_gemm(dw, 4, 100, dq, 1, df, 1.0f, df, NULL, 4, NULL, &err), TC_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "multiple of 128"));
    ck_assert_int_eq(tc_cuda_i2s_gemm(dw + 1, 4, 128, dq, 1, df, 1.0f, df, NULL, 4, NULL, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_cuda_i2s_gemm(dw, 4, 128, dq, 1, df, 1.0f, NULL, NULL, 4, NULL, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_cuda_i2s_gemm(dw, 4, 128, dq, 1, df, 1.0f, df, di, 3, NULL, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_cuda_i2s_gemv(NULL, 4, 128, dq, df, 1.0f, df, NULL, NULL, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_cuda_rmsnorm_q8(df, df, 128, 1, 1e-5f, dq, df, df, NULL, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_cuda_rmsnorm_q8(df, df, 0, 1, 1e-5f, dq, df + 1024, NULL, NULL, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_cuda_quantize_q8(NULL, 128, 1, dq, df, NULL, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_cuda_rmsnorm(df, NULL, 128, 1, 1e-5f, df, NULL, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_cuda_rope(df, df, 1, 1, 127, 0, (const double *)df, NULL, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_cuda_rope_table_upload((double *)df, 4, 7, 1e4, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_cuda_attention(df, df, df, df, 1, 0, 20, 6, 128, NULL, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_cuda_attention(df, df, df, df, 1, 0, 20, 5, 0, NULL, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_cuda_act_mul(df, df, 16, (tc_cuda_act)7, df, NULL, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_cuda_add(df, NULL, 16, df, NULL, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_cuda_f16_gemm((const uint16_t *)dw, 4, 12, df, 1, df, 4, NULL, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_cuda_f16_gemv((const uint16_t *)dw, 4, 128, df + 1, df, NULL, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_cuda_upload(NULL, dw, 16, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_cuda_alloc(NULL, 16, &err), TC_E_USAGE);
    /* a context longer than shared memory holds: refused before launch */
    ck_assert_int_eq(tc_cuda_attention(df, df, df, df, 1, 1000000, 20, 5, 128, NULL, &err), TC_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "shared memory"));
    tc_cuda_free(dw), tc_cuda_free(dq), tc_cuda_free(df), tc_cuda_free(di);
}
END_TEST

START_TEST(device_errors_carry_the_cuda_message)
{
    void *p = (void *)1;
    ck_assert_int_eq(tc_cuda_alloc(&p, (size_t)1 << 60, &err), TC_E_DEVICE);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(err.msg, "cudaMalloc"));
    ck_assert_ptr_nonnull(strstr(err.msg, "cudaErrorMemoryAllocation"));
    /* the failure is not sticky: the device still works */
    float a[4] = { 2.385f, 1, 2, 3 }, y[4];
    float *da = dup_to_device(a, 16);
    OK(tc_cuda_add(da, da, 4, da, NULL, &err));
    fetch(y, da, 16);
    ck_assert(y[0] == 2 * 2.385f && y[3] == 6.0f);
    tc_cuda_free(da);
    ck_assert_int_eq(tc_cuda_alloc(&p, 0, &err), TC_OK);
    ck_assert_ptr_null(p);
    tc_cuda_free(NULL);
}
END_TEST

/* ---- limits ---- */

START_TEST(empty_and_large_shapes)
{
    gsl_rng *g = rng_new(47);
    /* zero tokens or rows: TC_OK and nothing written */
    float *dy = dalloc(64 * 4), y[64];
    poison(dy, 0xff, 64 * 4);
    uint8_t *dw = dalloc(4096);
    int8_t *dq = dalloc(4096);
    OK(tc_cuda_i2s_gemm(dw, 8, 128, dq, 0, dy, 1.0f, dy, NULL, 8, NULL, &err));
    OK(tc_cuda_i2s_gemm(dw, 0, 128, dq, 3, dy, 1.0f, dy, NULL, 0, NULL, &err));
    OK(tc_cuda_rmsnorm_q8(dy, dy, 64, 0, 1e-5f, dq, dy, NULL, NULL, &err));
    OK(tc_cuda_attention(dy, dy, dy, dy, 0, 5, 4, 2, 8, NULL, &err));
    OK(tc_cuda_add(dy, dy, 0, dy, NULL, &err));
    fetch(y, dy, 64 * 4);
    for (int i = 0; i < 64; i++) ck_assert(isnan(y[i]));
    tc_cuda_free(dy), tc_cuda_free(dw), tc_cuda_free(dq);

    /* more elements than one grid-stride pass covers */
    const size_t n = 65536 * 256 + 123;
    float *a = gauss(g, n, 2.385), *b = gauss(g, n, 1.0), *got = malloc(n * 4);
    float *da = dup_to_device(a, n * 4), *db = dup_to_device(b, n * 4), *dz = dalloc(n * 4);
    poison(dz, 0xff, n * 4);
    OK(tc_cuda_add(da, db, n, dz, NULL, &err));
    fetch(got, dz, n * 4);
    for (size_t i = 0; i < n; i++) ck_assert(bits(got[i]) == bits(a[i] + b[i]));
    tc_cuda_free(da), tc_cuda_free(db), tc_cuda_free(dz);
    free(a), free(b), free(got);

    /* a long context: scores over 48 KB of shared memory (opt-in path) */
    check_attention(g, 4, 2, 128, 8000, 2);
    gsl_rng_free(g);
}
END_TEST

int main(void)
{
    tc_gpu_info info[8];
    int count = 0;
    tc_err e;
    tc_status st = tc_cuda_devices(info, 8, &count, &e);
    if (st != TC_OK) {
        fprintf(stderr, "check_cuda: %s: skipped\n", e.msg);
        return 77;
    }
    if (count == 0) {
        fprintf(stderr, "check_cuda: no CUDA GPU on this machine: skipped\n");
        return 77;
    }
    if (info[0].cc_major < 9) {
        fprintf(stderr, "check_cuda: %s is compute capability %d.%d; this build carries sm_90 code only: skipped\n",
                info[0].name, info[0].cc_major, info[0].cc_minor);
        return 77;
    }
    quick = getenv("TC_CUDA_QUICK") && *getenv("TC_CUDA_QUICK") && strcmp(getenv("TC_CUDA_QUICK"), "0");
    fprintf(stderr, "check_cuda: %s (cc %d.%d, driver %d, runtime %d)%s\n", info[0].name, info[0].cc_major,
            info[0].cc_minor, info[0].driver_version, info[0].runtime_version, quick ? ", quick shapes" : "");

    Suite *s = suite_create("cuda");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors"), *limits = tcase_create("limits");
    tcase_set_timeout(core, 600);
    tcase_set_timeout(limits, 600);
    tcase_add_test(core, i2s_matches_reference);
    tcase_add_test(core, rmsnorm_q8_matches_reference);
    tcase_add_test(core, quantize_q8_matches_reference);
    tcase_add_test(core, rmsnorm_matches_reference);
    tcase_add_test(core, rope_matches_reference);
    tcase_add_test(core, attention_matches_reference);
    tcase_add_test(core, elementwise_matches_reference);
    tcase_add_test(core, f16_matches_reference);
    tcase_add_test(core, runs_are_bit_identical);
    tcase_add_test(errors, bad_arguments_are_refused);
    tcase_add_test(errors, device_errors_carry_the_cuda_message);
    tcase_add_test(limits, empty_and_large_shapes);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    suite_add_tcase(s, limits);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);   /* a CUDA context does not survive fork() */
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

#endif /* HAVE_CUDA */

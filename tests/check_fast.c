/* check_fast.c -- the fast CPU engine (src/fast/cpu/): every kernel of
 * every ISA this CPU runs against a straightforward scalar reference on
 * GSL-random inputs; the whole engine against the reference engine in
 * isolated mode (each tap compared, then replaced by the reference's) on
 * generated tiny/small models and bitnet.cpp's tiny model, for 1 and 2
 * threads; determinism across thread counts; dispatch and error paths.
 * ISAs the CPU lacks are skipped with a note on stderr. */
#include <check.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/dump.h"
#include "engine/q8.h"
#include "engine/engine.h"
#include "engine/registry.h"
#include "fast/cpu/dispatch.h"
#include "fast/cpu/x16.h"
#include "tools/gen.h"
#include "format/model.h"
#include "testutil.h"
#include "format/types.h"

static const char *const isas[] = { "scalar", "avx2", "avx512", "amx", "neon", "neon_dotprod", "neon_i8mm" };
enum { N_ISA = 7 };

/* ---- helpers ---- */

static gsl_rng *rng_new(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    return r;
}

/* max|c - r| / max|r| */
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

static void skip_note(const char *isa)
{
    static int noted[N_ISA];
    for (int i = 0; i < N_ISA; i++)
        if (!strcmp(isas[i], isa) && !noted[i]++)
            fprintf(stderr, "check_fast: this CPU lacks %s: not run here\n", isa);
}

/* ---- core: I2_S kernels ---- */

/* ternary[rows][K] -> packed rows (row r at r*K/4), tensor scale 2.385 */
static uint8_t *pack_rows(const int8_t *tern, size_t rows, size_t K)
{
    uint8_t *p = malloc(rows * K / 4 + 32);
    ck_assert_int_eq(tc_i2s_pack(tern, rows * K, 2.385f, p), TC_OK);
    return p;
}

/* out[t][r] = sum_i tern[r][i] q[t][i], the obvious way */
static void ref_gemm(const int8_t *tern, size_t rows, size_t K, const int8_t *q, size_t n, int32_t *out)
{
    for (size_t t = 0; t < n; t++)
        for (size_t r = 0; r < rows; r++) {
            int32_t s = 0;
            for (size_t i = 0; i < K; i++) s += tern[r * K + i] * q[t * K + i];
            out[t * rows + r] = s;
        }
}

/* random codes; row 0 all -1 (code 0), row 1 all 0 where rows allow */
static void random_ternary(gsl_rng *g, int8_t *tern, size_t rows, size_t K)
{
    for (size_t i = 0; i < rows * K; i++) tern[i] = (int8_t)gsl_rng_uniform_int(g, 3) - 1;
    if (rows > 1) memset(tern, -1, K);
    if (rows > 2) memset(tern + K, 0, K);
}

/* token 0 random, 1 all -128, 2 all 127, 3 alternating extremes, 4 random */
static void random_q8(gsl_rng *g, int8_t *q, size_t n, size_t K)
{
    for (size_t t = 0; t < n; t++)
        for (size_t i = 0; i < K; i++) {
            int v = (int)gsl_rng_uniform_int(g, 256) - 128;
            if (t == 1) v = -128;
            if (t == 2) v = 127;
            if (t == 3) v = i % 2 ? 127 : -128;
            q[t * K + i] = (int8_t)v;
        }
}

/* The codes as kt reads them: packed I2_S rows w, or (a table that names
 * a layout) rewritten into it as the engine does; free() either. */
static uint8_t *as_table_reads(const tc_fast_kernels *kt, uint8_t *w, size_t K, size_t rows)
{
    if (!kt->repack) return w;
    const size_t bytes = kt->layout_bytes(K, rows);
    uint8_t *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    ck_assert_ptr_nonnull(p);
    kt->repack(w, K, rows, p);
    free(w);
    return p;
}

static void check_i2s_shape(const tc_fast_kernels *kt, gsl_rng *g, size_t rows, size_t K, size_t n)
{
    int8_t *tern = malloc(rows * K), *q = malloc(n * K);
    int32_t *want = malloc(n * rows * sizeof *want), *got = malloc(n * rows * sizeof *got), qsum[64];
    ck_assert_uint_le(n, 64);
    random_ternary(g, tern, rows, K);
    random_q8(g, q, n, K);
    uint8_t *w = as_table_reads(kt, pack_rows(tern, rows, K), K, rows);
    for (size_t t = 0; t < n; t++) qsum[t] = tc_fast_q8_sum(q + t * K, K);
    ref_gemm(tern, rows, K, q, n, want);
    /* gemm over all rows in two ranges (a split like two threads) */
    memset(got, 0x5a, n * rows * sizeof *got);
    kt->i2s_gemm(w, K, 0, rows / 3, q, qsum, n, got, rows);
    kt->i2s_gemm(w, K, rows / 3, rows, q, qsum, n, got, rows);
    for (size_t i = 0; i < n * rows; i++)
        ck_assert_msg(got[i] == want[i], "%s gemm rows %zu K %zu: element %zu: %d != %d", kt->isa, rows, K, i,
                      got[i], want[i]);
    /* gemv on each token */
    for (size_t t = 0; t < n; t++) {
        kt->i2s_gemv(w, K, 0, rows, q + t * K, &qsum[t], got);
        for (size_t r = 0; r < rows; r++)
            ck_assert_msg(got[r] == want[t * rows + r], "%s gemv rows %zu K %zu token %zu row %zu: %d != %d",
                          kt->isa, rows, K, t, r, got[r], want[t * rows + r]);
    }
    free(tern);
    free(q);
    free(want);
    free(got);
    free(w);
}

START_TEST(i2s_kernels_match_reference)
{
    gsl_rng *g = rng_new(2385);
    for (int v = 0; v < N_ISA; v++) {
        if (!tc_fast_isa_supported(isas[v])) {
            skip_note(isas[v]);
            continue;
        }
        const tc_fast_kernels *kt = tc_fast_kernels_for(isas[v]);
        /* small row counts over every K from 128 to 6912 */
        for (size_t K = 128; K <= 6912; K += 128) {
            check_i2s_shape(kt, g, 1, K, 5);
            check_i2s_shape(kt, g, 3, K, 5);
            check_i2s_shape(kt, g, 17, K, 5);
        }
        /* large row counts at both ends and the model widths */
        const size_t ks[] = { 128, 1152, 2560, 6912 };
        for (size_t i = 0; i < 4; i++) {
            check_i2s_shape(kt, g, 640, ks[i], 5);
            check_i2s_shape(kt, g, 2560, ks[i], i == 3 ? 2 : 5);
        }
        /* prefill-sized batches: 32-token tiles and what is left over */
        check_i2s_shape(kt, g, 17, 2560, 41);
        check_i2s_shape(kt, g, 50, 1152, 64);
        check_i2s_shape(kt, g, 100, 6912, 33);
    }
    gsl_rng_free(g);
}
END_TEST

/* The i2s-x16 layout as x16.h documents it: super-block (g, c), packed
 * byte p, bits 2f+1:2f hold code(row 16g + r, input 64c + 4kk + j) for
 * p + 256 f = 64 kk + 4 r + j; padding rows hold code 1; code 3 reads 1. */
START_TEST(x16_layout_as_documented)
{
    const size_t K = 384, rows = 37;   /* 3 groups, the last with 5 rows */
    gsl_rng *g = rng_new(16);
    uint8_t *w = malloc(rows * K / 4), *x = malloc(tc_x16_bytes(K, rows));
    for (size_t i = 0; i < rows * K / 4; i++) w[i] = (uint8_t)gsl_rng_uniform_int(g, 256);   /* codes 0..3 */
    ck_assert_uint_eq(tc_x16_bytes(K, rows), 3 * (K / 64) * 256);
    tc_x16_repack(w, K, rows, x);
    for (size_t gr = 0; gr < 3; gr++)
        for (size_t c = 0; c < K / 64; c++)
            for (size_t p = 0; p < 256; p++)
                for (unsigned f = 0; f < 4; f++) {
                    const size_t b = p + 256 * f, kk = b / 64, r = b % 64 / 4, j = b % 4, row = 16 * gr + r;
                    unsigned want = 1;
                    if (row < rows) {
                        want = (unsigned)(tc_i2s_code_value(tc_i2s_code(w + row * K / 4, 64 * c + 4 * kk + j)) + 1);
                    }
                    const unsigned got = x[(gr * (K / 64) + c) * 256 + p] >> (2 * f) & 3u;
                    ck_assert_msg(got == want, "group %zu chunk %zu byte %zu field %u: %u, want %u", gr, c, p, f, got,
                                  want);
                }
    /* every table's rewrite into the layout is this one's, byte for byte */
    for (int v = 0; v < N_ISA; v++) {
        const tc_fast_kernels *kt = tc_fast_kernels_for(isas[v]);
        if (!tc_fast_isa_supported(isas[v]) || !kt->repack) continue;
        ck_assert_str_eq(kt->layout, "i2s-x16");
        ck_assert_uint_eq(kt->layout_bytes(K, rows), tc_x16_bytes(K, rows));
        uint8_t *y = malloc(tc_x16_bytes(K, rows));
        kt->repack(w, K, rows, y);
        ck_assert_msg(!memcmp(x, y, tc_x16_bytes(K, rows)), "%s: its rewrite differs", isas[v]);
        free(y);
    }
    free(w), free(x);
    gsl_rng_free(g);
}
END_TEST

/* code 3 reads as 0: sanitized copies give the same sums as the reference */
START_TEST(code3_is_sanitized)
{
    const size_t K = 256, rows = 4;
    gsl_rng *g = rng_new(7);
    uint8_t w[256], clean[256];
    int8_t q[256], tern[4 * 256];
    for (size_t i = 0; i < sizeof w; i++) w[i] = (uint8_t)gsl_rng_uniform_int(g, 256);   /* codes 0..3 */
    random_q8(g, q, 1, K);
    ck_assert(tc_fast_i2s_has_code3(w, sizeof w));
    /* one code 3 anywhere in a clean buffer (word scan, 4 KiB chunks, tail) */
    enum { NB = 9000 + 5 };
    uint8_t *big = malloc(NB);
    memset(big, 0x96, NB);   /* codes 2,1,1,2: no 3 */
    ck_assert(!tc_fast_i2s_has_code3(big, NB));
    const size_t at[] = { 0, 7, 8, 4095, 4096, 8191, 9000, NB - 1 };
    const uint8_t bad[] = { 0xc0, 0x30, 0x0c, 0x03 };
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
        for (size_t b = 0; b < 4; b++) {
            big[at[i]] = (uint8_t)(0x55 | bad[b]);   /* codes 1 and one 3 */
            ck_assert_msg(tc_fast_i2s_has_code3(big, NB), "code 3 at byte %zu field %zu", at[i], b);
            big[at[i]] = 0x96;
        }
    free(big);
    tc_fast_i2s_sanitize(w, sizeof w, clean);
    ck_assert(!tc_fast_i2s_has_code3(clean, sizeof clean));
    for (size_t r = 0; r < rows; r++)
        for (size_t i = 0; i < K; i++) {
            ck_assert_int_eq(tc_i2s_code_value(tc_i2s_code(w + r * K / 4, i)),
                             tc_i2s_code_value(tc_i2s_code(clean + r * K / 4, i)));
            tern[r * K + i] = (int8_t)tc_i2s_code_value(tc_i2s_code(w + r * K / 4, i));
        }
    int32_t want[4], got[4], qsum = tc_fast_q8_sum(q, K);
    ref_gemm(tern, rows, K, q, 1, want);
    for (int v = 0; v < N_ISA; v++) {
        if (!tc_fast_isa_supported(isas[v])) continue;
        const tc_fast_kernels *kt = tc_fast_kernels_for(isas[v]);
        uint8_t *copy = malloc(sizeof clean);
        memcpy(copy, clean, sizeof clean);
        copy = as_table_reads(kt, copy, K, rows);
        kt->i2s_gemv(copy, K, 0, rows, q, &qsum, got);
        for (size_t r = 0; r < rows; r++) ck_assert_int_eq(got[r], want[r]);
        free(copy);
    }
    gsl_rng_free(g);
}
END_TEST

/* ---- core: RMSNorm + quantization ---- */

/* SPEC 2.1/2.2 written out: rmsnorm in double scale, then quantize */
static float ref_norm_q8(const float *x, const float *w, size_t n, float eps, float *h, int8_t *q)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    double scale = 1.0 / sqrt(ss / (double)n + (double)eps), amax = 1e-5;
    for (size_t i = 0; i < n; i++) {
        h[i] = (float)(x[i] * scale) * w[i];
        if (fabs((double)h[i]) > amax) amax = fabs((double)h[i]);
    }
    float s = (float)(127.0 / amax);
    for (size_t i = 0; i < n; i++) {
        float r = nearbyintf(h[i] * s);
        q[i] = (int8_t)(r > 127 ? 127 : r < -128 ? -128 : r);
    }
    return s;
}

/* |x*s| within margin of a .5 boundary */
static int near_boundary(float xs, double margin)
{
    double f = xs - floor(xs);
    return fabs(f - 0.5) <= margin;
}

START_TEST(rmsnorm_q8_matches_reference)
{
    gsl_rng *g = rng_new(11);
    const size_t ns[] = { 128, 256, 2560, 6912, 136 };
    for (int v = 0; v < N_ISA; v++) {
        if (!tc_fast_isa_supported(isas[v])) continue;
        const tc_fast_kernels *kt = tc_fast_kernels_for(isas[v]);
        for (size_t c = 0; c < 5; c++)
            for (int kind = 0; kind < 3; kind++) {
                const size_t n = ns[c];
                float *x = malloc(n * 4), *w = malloc(n * 4), *h = malloc(n * 4), *y = malloc(n * 4);
                int8_t *q = malloc(n), *rq = malloc(n);
                for (size_t i = 0; i < n; i++) {
                    x[i] = (float)gsl_ran_gaussian(g, 2.385);
                    w[i] = (float)(0.5 + gsl_rng_uniform(g));
                    if (kind == 1 && i == n / 2) x[i] = 1e4f;   /* one outlier: everything else near 0 */
                    if (kind == 2) x[i] = 0.0f;                 /* amax floor 1e-5 */
                }
                int32_t qsum;
                float s = kt->rmsnorm_q8(x, w, n, 1e-5f, q, &qsum);
                float rs = ref_norm_q8(x, w, n, 1e-5f, h, rq);
                ck_assert_msg(fabsf(s - rs) <= 1e-6f * rs, "%s n %zu: s %.9g vs %.9g", kt->isa, n, s, rs);
                int32_t sum = 0;
                for (size_t i = 0; i < n; i++) {
                    sum += q[i];
                    if (q[i] != rq[i])
                        ck_assert_msg(abs(q[i] - rq[i]) == 1 && near_boundary(h[i] * rs, 1e-3),
                                      "%s n %zu element %zu: code %d vs %d (x*s %.9g)", kt->isa, n, i, q[i], rq[i],
                                      (double)(h[i] * rs));
                    if (!strcmp(kt->isa, "scalar")) ck_assert_int_eq(q[i], rq[i]);   /* same arithmetic, same order */
                }
                ck_assert_int_eq(qsum, sum);
                kt->rmsnorm(x, w, n, 1e-5f, y);
                ck_assert(scaled_err(y, h, n) <= 1e-6);
                free(x), free(w), free(h), free(y), free(q), free(rq);
            }
    }
    gsl_rng_free(g);
}
END_TEST

/* ---- core: F16 head and attention ---- */

START_TEST(f16_gemm_matches_reference)
{
    gsl_rng *g = rng_new(13);
    const size_t rowsv[] = { 1, 3, 17, 640 }, ks[] = { 128, 2560, 384 }, n = 3;
    for (int v = 0; v < N_ISA; v++) {
        if (!tc_fast_isa_supported(isas[v])) continue;
        const tc_fast_kernels *kt = tc_fast_kernels_for(isas[v]);
        for (size_t a = 0; a < 4; a++)
            for (size_t b = 0; b < 3; b++) {
                const size_t rows = rowsv[a], K = ks[b];
                uint16_t *w = malloc(rows * K * 2);
                float *x = malloc(n * K * 4), *y = malloc(n * rows * 4), *ry = malloc(n * rows * 4);
                for (size_t i = 0; i < rows * K; i++) w[i] = tc_f32_to_f16((float)gsl_ran_gaussian(g, 0.05));
                for (size_t i = 0; i < n * K; i++) x[i] = (float)gsl_ran_gaussian(g, 1.0);
                double mag = 0;   /* a float sum's error scales with sum |w x|, not with |sum| */
                for (size_t t = 0; t < n; t++)
                    for (size_t r = 0; r < rows; r++) {
                        double s = 0, a = 0;
                        for (size_t i = 0; i < K; i++) {
                            s += (double)tc_f16_to_f32(w[r * K + i]) * x[t * K + i];
                            a += fabs((double)tc_f16_to_f32(w[r * K + i]) * x[t * K + i]);
                        }
                        ry[t * rows + r] = (float)s;
                        if (a > mag) mag = a;
                    }
                kt->f16_gemm(w, K, 0, rows / 2, x, n, y, rows);
                kt->f16_gemm(w, K, rows / 2, rows, x, n, y, rows);
                for (size_t i = 0; i < n * rows; i++)
                    ck_assert_msg(fabs((double)y[i] - ry[i]) <= 1e-6 * mag, "%s f16 rows %zu K %zu: %g vs %g (scale %g)",
                                  kt->isa, rows, K, (double)y[i], (double)ry[i], mag);
                free(w), free(x), free(y), free(ry);
            }
    }
    gsl_rng_free(g);
}
END_TEST

START_TEST(attention_matches_reference)
{
    gsl_rng *g = rng_new(17);
    const size_t nk[] = { 1, 7, 100, 1000 }, hds[] = { 64, 128, 40 };
    for (int v = 0; v < N_ISA; v++) {
        if (!tc_fast_isa_supported(isas[v])) continue;
        const tc_fast_kernels *kt = tc_fast_kernels_for(isas[v]);
        for (size_t a = 0; a < 4; a++)
            for (size_t b = 0; b < 3; b++) {
                const size_t n = nk[a], hd = hds[b];
                float *q = malloc(hd * 4), *k = malloc(n * hd * 4), *vv = malloc(n * hd * 4), *out = malloc(hd * 4),
                      *want = malloc(hd * 4), *scores = malloc(n * 4);
                double *p = malloc(n * 8);
                for (size_t i = 0; i < hd; i++) q[i] = (float)gsl_ran_gaussian(g, 1.0);
                for (size_t i = 0; i < n * hd; i++) {
                    k[i] = (float)gsl_ran_gaussian(g, 1.0);
                    vv[i] = (float)gsl_ran_gaussian(g, 2.385);
                }
                double mx = -INFINITY, sum = 0;
                for (size_t j = 0; j < n; j++) {
                    double d = 0;
                    for (size_t i = 0; i < hd; i++) d += (double)q[i] * k[j * hd + i];
                    p[j] = d / sqrt((double)hd);
                    if (p[j] > mx) mx = p[j];
                }
                for (size_t j = 0; j < n; j++) sum += p[j] = exp(p[j] - mx);
                for (size_t i = 0; i < hd; i++) {
                    double acc = 0;
                    for (size_t j = 0; j < n; j++) acc += p[j] / sum * vv[j * hd + i];
                    want[i] = (float)acc;
                }
                kt->attention_head(q, k, vv, n, hd, scores, out);
                double vmax = 0;   /* out is a convex combination of the values: max|v| is its scale */
                for (size_t i = 0; i < n * hd; i++)
                    if (fabs(vv[i]) > vmax) vmax = fabs(vv[i]);
                for (size_t i = 0; i < hd; i++)
                    ck_assert_msg(fabs((double)out[i] - want[i]) <= 1e-6 * vmax, "%s attention keys %zu hd %zu: %g vs %g",
                                  kt->isa, n, hd, (double)out[i], (double)want[i]);
                free(q), free(k), free(vv), free(out), free(want), free(scores), free(p);
            }
    }
    gsl_rng_free(g);
}
END_TEST

/* ---- core: the NEON tables give the scalar table's bits ----
 * neon.c promises more than the tolerance: every kernel of the three NEON
 * tables performs the scalar kernel's operations in its order, so every
 * output is bit-identical to the scalar table's, on awkward shapes (tails
 * of every vector width) and awkward values alike.  (The x86 tables sum
 * some float reductions in other orders and are held to the tolerance.) */

static bool same_f32(const float *a, const float *b, size_t n, size_t *at)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], 4) && !(isnan(a[i]) && isnan(b[i]))) return *at = i, false;
    return true;
}

/* a float of every kind the kernels meet: mostly N(0, 2.385), sometimes
 * huge, tiny, subnormal or zero of either sign */
static float odd_float(gsl_rng *g)
{
    switch (gsl_rng_uniform_int(g, 16)) {
    case 0: return (float)gsl_ran_gaussian(g, 1e30);
    case 1: return (float)gsl_ran_gaussian(g, 1e-40);   /* subnormal */
    case 2: return gsl_rng_uniform_int(g, 2) ? 0.0f : -0.0f;
    case 3: return (float)gsl_ran_gaussian(g, 1e4);
    default: return (float)gsl_ran_gaussian(g, 2.385);
    }
}

static void neon_i2s_bits(const tc_fast_kernels *kt, gsl_rng *g)
{
    const tc_fast_kernels *sc = tc_fast_kernels_for("scalar");
    const size_t rowsv[] = { 1, 2, 3, 5, 8, 9, 70 }, ks[] = { 128, 384, 2560 }, ns[] = { 1, 2, 3, 4, 5, 8, 9 };
    for (size_t a = 0; a < 7; a++)
        for (size_t b = 0; b < 3; b++)
            for (size_t c = 0; c < 7; c++) {
                const size_t rows = rowsv[a], K = ks[b], n = ns[c], ld = rows + 3;
                int8_t *tern = malloc(rows * K), *q = malloc(n * K);
                int32_t *want = malloc(n * ld * 4), *got = malloc(n * ld * 4), qsum[9];
                random_ternary(g, tern, rows, K);
                random_q8(g, q, n, K);
                uint8_t *w = pack_rows(tern, rows, K);
                for (size_t t = 0; t < n; t++) qsum[t] = tc_fast_q8_sum(q + t * K, K);
                memset(want, 0, n * ld * 4);
                memset(got, 0, n * ld * 4);
                sc->i2s_gemm(w, K, 0, rows, q, qsum, n, want, ld);
                /* three ranges, as three threads would split the rows */
                kt->i2s_gemm(w, K, 0, rows / 3, q, qsum, n, got, ld);
                kt->i2s_gemm(w, K, rows / 3, 2 * rows / 3, q, qsum, n, got, ld);
                kt->i2s_gemm(w, K, 2 * rows / 3, rows, q, qsum, n, got, ld);
                ck_assert_msg(!memcmp(got, want, n * ld * 4), "%s i2s_gemm %zux%zu n %zu", kt->isa, rows, K, n);
                kt->i2s_gemv(w, K, rows / 2, rows, q, qsum, got);
                kt->i2s_gemv(w, K, 0, rows / 2, q, qsum, got);
                ck_assert_msg(!memcmp(got, want, rows * 4), "%s i2s_gemv %zux%zu", kt->isa, rows, K);
                free(tern), free(q), free(want), free(got), free(w);
            }
}

static void neon_norm_bits(const tc_fast_kernels *kt, gsl_rng *g)
{
    const tc_fast_kernels *sc = tc_fast_kernels_for("scalar");
    const size_t ns[] = { 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 128, 136, 2560, 2563 };
    for (size_t c = 0; c < 14; c++)
        for (int kind = 0; kind < 4; kind++) {
            const size_t n = ns[c];
            float *x = malloc(n * 4), *w = malloc(n * 4), *y = malloc(n * 4), *ys = malloc(n * 4);
            int8_t *q = malloc(n), *qs = malloc(n);
            for (size_t i = 0; i < n; i++) {
                x[i] = kind == 0 ? (float)gsl_ran_gaussian(g, 2.385) : kind == 1 ? odd_float(g)
                     : kind == 2 ? 0.0f : (float)gsl_ran_gaussian(g, 1e-41);   /* zeros: the 1e-5 floor; subnormals */
                w[i] = (float)(0.5 + gsl_rng_uniform(g));
            }
            int32_t qsum, qsums;
            const float s = kt->rmsnorm_q8(x, w, n, 1e-5f, q, &qsum), ss = sc->rmsnorm_q8(x, w, n, 1e-5f, qs, &qsums);
            ck_assert_msg(!memcmp(&s, &ss, 4), "%s rmsnorm_q8 n %zu kind %d: s %.9g, scalar %.9g", kt->isa, n, kind,
                          (double)s, (double)ss);
            ck_assert_msg(!memcmp(q, qs, n) && qsum == qsums, "%s rmsnorm_q8 n %zu kind %d: codes", kt->isa, n, kind);
            size_t at = 0;
            kt->rmsnorm(x, w, n, 1e-5f, y);
            sc->rmsnorm(x, w, n, 1e-5f, ys);
            ck_assert_msg(same_f32(y, ys, n, &at), "%s rmsnorm n %zu kind %d: element %zu %.9g, scalar %.9g", kt->isa,
                          n, kind, at, (double)y[at], (double)ys[at]);
            kt->rmsnorm(x, w, n, 1e-5f, x);   /* in place */
            ck_assert_msg(same_f32(x, ys, n, &at), "%s rmsnorm in place n %zu", kt->isa, n);
            free(x), free(w), free(y), free(ys), free(q), free(qs);
        }
}

static void neon_f16_bits(const tc_fast_kernels *kt, gsl_rng *g)
{
    const tc_fast_kernels *sc = tc_fast_kernels_for("scalar");
    const size_t rowsv[] = { 1, 3, 4, 5, 9 }, ks[] = { 1, 7, 8, 13, 128, 136, 2560 }, ns[] = { 1, 2, 4, 5, 7 };
    for (size_t a = 0; a < 5; a++)
        for (size_t b = 0; b < 7; b++)
            for (size_t c = 0; c < 5; c++) {
                const size_t rows = rowsv[a], K = ks[b], n = ns[c], ld = rows + 2;
                uint16_t *w = malloc(rows * K * 2);
                float *x = malloc(n * K * 4), *y = calloc(n * ld, 4), *ys = calloc(n * ld, 4);
                for (size_t i = 0; i < rows * K; i++) {
                    const unsigned kind = (unsigned)gsl_rng_uniform_int(g, 10);
                    w[i] = kind == 0 ? (uint16_t)gsl_rng_uniform_int(g, 0x400)   /* subnormal half */
                         : kind == 1 ? 0x7bffu /* 65504 */ : tc_f32_to_f16((float)gsl_ran_gaussian(g, 0.05));
                    if (gsl_rng_uniform_int(g, 2)) w[i] |= 0x8000u;
                }
                for (size_t i = 0; i < n * K; i++) x[i] = (float)gsl_ran_gaussian(g, 2.385);
                sc->f16_gemm(w, K, 0, rows, x, n, ys, ld);
                kt->f16_gemm(w, K, 0, rows / 2, x, n, y, ld);
                kt->f16_gemm(w, K, rows / 2, rows, x, n, y, ld);
                size_t at = 0;
                ck_assert_msg(same_f32(y, ys, n * ld, &at), "%s f16_gemm %zux%zu n %zu: element %zu %.9g, scalar %.9g",
                              kt->isa, rows, K, n, at, (double)y[at], (double)ys[at]);
                free(w), free(x), free(y), free(ys);
            }
}

static void neon_attention_bits(const tc_fast_kernels *kt, gsl_rng *g)
{
    const tc_fast_kernels *sc = tc_fast_kernels_for("scalar");
    const size_t nk[] = { 1, 3, 4, 5, 9, 100 }, hds[] = { 1, 3, 4, 7, 8, 9, 40, 64, 128 };
    for (size_t a = 0; a < 6; a++)
        for (size_t b = 0; b < 9; b++) {
            const size_t n = nk[a], hd = hds[b];
            float *q = malloc(hd * 4), *k = malloc(n * hd * 4), *v = malloc(n * hd * 4), *out = malloc(hd * 4),
                  *outs = malloc(hd * 4), *sc1 = malloc(n * 4), *sc2 = malloc(n * 4);
            for (size_t i = 0; i < hd; i++) q[i] = (float)gsl_ran_gaussian(g, 1.0);
            for (size_t i = 0; i < n * hd; i++) {
                k[i] = (float)gsl_ran_gaussian(g, 1.0);
                v[i] = (float)gsl_ran_gaussian(g, 2.385);
            }
            kt->attention_head(q, k, v, n, hd, sc1, out);
            sc->attention_head(q, k, v, n, hd, sc2, outs);
            size_t at = 0;
            ck_assert_msg(same_f32(out, outs, hd, &at), "%s attention keys %zu hd %zu: element %zu %.9g, scalar %.9g",
                          kt->isa, n, hd, at, (double)out[at], (double)outs[at]);
            free(q), free(k), free(v), free(out), free(outs), free(sc1), free(sc2);
        }
}

static void neon_elementwise_bits(const tc_fast_kernels *kt, gsl_rng *g)
{
    const tc_fast_kernels *sc = tc_fast_kernels_for("scalar");
    const float specials[] = { 0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-45f, -3e38f, 2.385f };
    for (size_t n = 1; n <= 37; n += 4) {
        int32_t *acc = malloc(n * 4);
        float *a = malloc(n * 4), *b = malloc(n * 4), *y = malloc(n * 4), *ys = malloc(n * 4), *x2 = malloc(n * 4);
        for (size_t i = 0; i < n; i++) {
            acc[i] = i % 9 == 0 ? INT32_MIN : i % 9 == 1 ? INT32_MAX : (int32_t)gsl_rng_uniform_int(g, 1u << 30) - (1 << 29);
            a[i] = i % 3 == 0 ? specials[gsl_rng_uniform_int(g, 8)] : odd_float(g);
            b[i] = odd_float(g);
        }
        size_t at = 0;
        const float mul = 0.8125f;
        for (int m = 0; m < 2; m++) {
            kt->i2s_scale(acc, n, 52.9f, 2.385f, m ? &mul : NULL, y);
            sc->i2s_scale(acc, n, 52.9f, 2.385f, m ? &mul : NULL, ys);
            ck_assert_msg(same_f32(y, ys, n, &at), "%s i2s_scale n %zu: element %zu", kt->isa, n, at);
        }
        kt->relu2_mul(a, b, n, y);
        sc->relu2_mul(a, b, n, ys);
        ck_assert_msg(same_f32(y, ys, n, &at), "%s relu2_mul n %zu: element %zu %g", kt->isa, n, at, (double)a[at]);
        memcpy(x2, a, n * 4);
        kt->add(a, b, n);
        sc->add(x2, b, n);
        ck_assert_msg(same_f32(a, x2, n, &at), "%s add n %zu: element %zu", kt->isa, n, at);
        free(acc), free(a), free(b), free(y), free(ys), free(x2);
    }
}

START_TEST(neon_tables_give_scalar_bits)
{
    gsl_rng *g = rng_new(2385);
    for (int v = 0; v < N_ISA; v++) {
        if (strncmp(isas[v], "neon", 4)) continue;
        if (!tc_fast_isa_supported(isas[v])) {
            skip_note(isas[v]);
            continue;
        }
        const tc_fast_kernels *kt = tc_fast_kernels_for(isas[v]);
        neon_i2s_bits(kt, g);
        neon_norm_bits(kt, g);
        neon_f16_bits(kt, g);
        neon_attention_bits(kt, g);
        neon_elementwise_bits(kt, g);
    }
    gsl_rng_free(g);
}
END_TEST

/* ---- core: the whole engine against the reference, isolated ---- */

/* a generated model in a temporary file (path returned for unlinking) */
static tc_model *gen_model(const char *preset, tc_type wt, char **path)
{
    tc_gen_opts o;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset(preset, &o, &err), TC_OK);
    o.weight_type = wt;
    *path = tu_temp_path(".gguf");
    ck_assert_msg(tc_gen_write(&o, *path, &err) == TC_OK, "%s", err.msg);
    tc_model *m;
    ck_assert_msg(tc_model_load(*path, &m, &err) == TC_OK, "%s", err.msg);
    return m;
}

static tc_model *vector_model(char **path)
{
    *path = tu_gunzip_temp(tu_vector_path("external/bitnet-cpp/tiny-bitnet-b158-i2_s.gguf.gz"));
    ck_assert_ptr_nonnull(*path);
    tc_model *m;
    tc_err err;
    ck_assert_msg(tc_model_load(*path, &m, &err) == TC_OK, "%s", err.msg);
    return m;
}

static void drop_model(tc_model *m, char *path)
{
    tc_model_free(m);
    unlink(path);
    free(path);
}

/* prefill tokens[0..n_pre), then decode the rest one by one */
static void run_sequence(tc_engine *e, const int32_t *tokens, uint32_t n_pre, uint32_t n)
{
    tc_err err;
    ck_assert_msg(tc_engine_prefill(e, tokens, n_pre, 0, &err) == TC_OK, "%s", err.msg);
    for (uint32_t i = n_pre; i < n; i++) ck_assert_msg(tc_engine_decode(e, tokens[i], &err) == TC_OK, "%s", err.msg);
}

typedef struct cmp_ctx {
    const tc_dump *ref;
    double worst;
    char worst_tap[64];
    char fail[256];
    int taps, q8_taps, flips, argmax_mismatch;
} cmp_ctx;

/* compare the fast tap with the reference's rows, then overwrite it */
static tc_status cmp_tap(void *user, const tc_tap *tap, tc_err *err)
{
    (void)err;
    cmp_ctx *c = user;
    const tc_dump_tap *r = tc_dump_find(c->ref, tap->name);
    if (!r || r->width != tap->width || r->kind != tap->kind || tap->pos0 + tap->n_pos > r->n_pos) {
        if (!c->fail[0]) snprintf(c->fail, sizeof c->fail, "tap %s has no matching reference tap", tap->name);
        return TC_OK;
    }
    const size_t n = (size_t)tap->n_pos * tap->width, off = (size_t)tap->pos0 * tap->width;
    c->taps++;
    if (tap->kind == TC_TAP_F32) {
        double e = scaled_err(tap->f, r->f + off, n);
        if (e > c->worst) {
            c->worst = e;
            snprintf(c->worst_tap, sizeof c->worst_tap, "%s", tap->name);
        }
        if (e > 1e-5 && !c->fail[0])
            snprintf(c->fail, sizeof c->fail, "%s at positions %u..: scaled error %g", tap->name, tap->pos0, e);
        if (!strcmp(tap->name, "logits"))
            for (uint32_t t = 0; t < tap->n_pos; t++)
                c->argmax_mismatch += tc_argmax(tap->f + (size_t)t * tap->width, tap->width) !=
                                      tc_argmax(r->f + off + (size_t)t * tap->width, tap->width);
        memcpy(tap->f, r->f + off, n * sizeof(float));
        return TC_OK;
    }
    /* q8: equal codes, except a flip by one where the reference's x*s is
     * within 1e-3 of a rounding boundary (x = the reference's float norm) */
    c->q8_taps++;
    char hname[64];
    snprintf(hname, sizeof hname, "%.*s", (int)(strlen(tap->name) - 3), tap->name);
    const tc_dump_tap *h = tc_dump_find(c->ref, hname);
    for (uint32_t t = 0; t < tap->n_pos; t++) {
        const float rs = r->scale[tap->pos0 + t];
        if (fabsf(tap->scale[t] - rs) > 1e-6f * rs && !c->fail[0])
            snprintf(c->fail, sizeof c->fail, "%s position %u: scale %.9g vs %.9g", tap->name, tap->pos0 + t,
                     (double)tap->scale[t], (double)rs);
        for (uint32_t i = 0; i < tap->width; i++) {
            const size_t k = (size_t)t * tap->width + i;
            const int a = tap->q8[k], b = r->q8[off + k];
            if (a == b) continue;
            if (h && abs(a - b) == 1 && near_boundary(h->f[off + k] * rs, 1e-3)) c->flips++;
            else if (!c->fail[0])
                snprintf(c->fail, sizeof c->fail, "%s position %u element %u: code %d vs %d", tap->name,
                         tap->pos0 + t, i, a, b);
        }
    }
    memcpy(tap->q8, r->q8 + off, n);
    memcpy(tap->scale, r->scale + tap->pos0, tap->n_pos * sizeof(float));
    return TC_OK;
}

/* ref run recorded, then fast (each ISA here, 1 and 2 threads) compared
 * and replaced tap by tap */
static void isolated_vs_ref_ctx(tc_model *m, uint32_t n_pre, uint32_t n, uint32_t n_ctx)
{
    int32_t *tokens = malloc(n * sizeof *tokens);
    ck_assert_ptr_nonnull(tokens);
    gsl_rng *g = rng_new(99);
    for (uint32_t i = 0; i < n; i++) tokens[i] = (int32_t)gsl_rng_uniform_int(g, m->hp.n_vocab);
    gsl_rng_free(g);
    tc_engine_opts o = { .precision = TC_PRECISION_I2S, .n_threads = 1, .n_ctx = n_ctx };
    tc_engine *e;
    tc_err err;
    ck_assert_msg(tc_engine_open("ref", m, &o, &e, &err) == TC_OK, "%s", err.msg);
    tc_dump *d = tc_dump_new();
    tc_engine_set_tap(e, tc_dump_tap_fn, d);
    run_sequence(e, tokens, n_pre, n);
    tc_engine_free(e);
    for (int v = 0; v < N_ISA; v++) {
        if (!tc_fast_isa_supported(isas[v])) continue;
        for (int threads = 1; threads <= 2; threads++) {
            char name[32];
            snprintf(name, sizeof name, "fast:%s", isas[v]);
            o.n_threads = threads;
            ck_assert_msg(tc_engine_open(name, m, &o, &e, &err) == TC_OK, "%s", err.msg);
            cmp_ctx c = { .ref = d };
            tc_engine_set_tap(e, cmp_tap, &c);
            run_sequence(e, tokens, n_pre, n);
            ck_assert_msg(!c.fail[0], "%s, %d threads: %s", name, threads, c.fail);
            ck_assert_int_eq(c.argmax_mismatch, 0);
            /* every batch: inp_embd, per layer 17 float (the fused norms' float
             * outputs included, SPEC 3.1) + 4 q8 taps, output_norm, logits */
            ck_assert_int_eq(c.taps, (int)(1 + n - n_pre) * (int)(3 + 21 * m->hp.n_layer));
            ck_assert_int_eq(c.q8_taps, (int)(1 + n - n_pre) * (int)(4 * m->hp.n_layer));
            /* fed the reference's float norm output, the fused engine quantizes
             * exactly the same values: not one code may differ */
            ck_assert_int_eq(c.flips, 0);
            fprintf(stderr, "check_fast: %s %d thread(s): worst %.3g at %s, %d q8 boundary flips\n", name, threads,
                    c.worst, c.worst_tap, c.flips);
            tc_engine_free(e);
        }
    }
    tc_dump_free(d);
    free(tokens);
}

static void isolated_vs_ref(tc_model *m, uint32_t n_pre, uint32_t n) { isolated_vs_ref_ctx(m, n_pre, n, 64); }

START_TEST(engine_matches_ref_tiny)
{
    char *p;
    tc_model *m = gen_model("tiny", TC_TYPE_I2_S, &p);
    isolated_vs_ref(m, 9, 13);
    drop_model(m, p);
}
END_TEST

/* a prefill long enough for the 32-token tiles (amx) and a remainder */
START_TEST(engine_matches_ref_long_prefill)
{
    char *p;
    tc_model *m = gen_model("tiny", TC_TYPE_I2_S, &p);
    isolated_vs_ref(m, 45, 47);
    drop_model(m, p);
}
END_TEST

START_TEST(engine_matches_ref_small)
{
    char *p;
    tc_model *m = gen_model("small", TC_TYPE_I2_S, &p);
    isolated_vs_ref(m, 6, 9);
    drop_model(m, p);
}
END_TEST

START_TEST(engine_matches_ref_bitnet_cpp_vector)
{
    char *p;
    tc_model *m = vector_model(&p);
    isolated_vs_ref(m, 14, 18);
    drop_model(m, p);
}
END_TEST

/* The KV cache grows by doubling (256, 512, then the context's 700
 * positions) and copies what it holds: decoding across every growth, and
 * a prefill of 300 (one growth to 512) decoding across the last. */
START_TEST(engine_matches_ref_as_the_cache_grows)
{
    char *p;
    tc_model *m = gen_model("tiny", TC_TYPE_I2_S, &p);
    isolated_vs_ref_ctx(m, 1, 600, 700);
    isolated_vs_ref_ctx(m, 300, 600, 700);
    drop_model(m, p);
}
END_TEST

/* ---- core: determinism ---- */

typedef struct hash_ctx {
    uint64_t h;
    int taps;
} hash_ctx;

static void fnv(uint64_t *h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) *h = (*h ^ b[i]) * 1099511628211ull;
}

static tc_status hash_tap(void *user, const tc_tap *tap, tc_err *err)
{
    (void)err;
    hash_ctx *c = user;
    const size_t n = (size_t)tap->n_pos * tap->width;
    fnv(&c->h, tap->name, strlen(tap->name));
    if (tap->kind == TC_TAP_F32) fnv(&c->h, tap->f, n * sizeof(float));
    else {
        fnv(&c->h, tap->q8, n);
        fnv(&c->h, tap->scale, tap->n_pos * sizeof(float));
    }
    c->taps++;
    return TC_OK;
}

static uint64_t run_hash(const tc_model *m, const char *name, int threads, const int32_t *tokens, uint32_t n_pre,
                         uint32_t n)
{
    tc_engine_opts o = { .precision = TC_PRECISION_I2S, .n_threads = threads, .n_ctx = 64 };
    tc_engine *e;
    tc_err err;
    ck_assert_msg(tc_engine_open(name, m, &o, &e, &err) == TC_OK, "%s", err.msg);
    hash_ctx c = { 14695981039346656037ull, 0 };
    tc_engine_set_tap(e, hash_tap, &c);
    run_sequence(e, tokens, n_pre, n);
    fnv(&c.h, tc_engine_logits(e), m->hp.n_vocab * sizeof(float));
    tc_engine_free(e);
    ck_assert_int_gt(c.taps, 0);
    return c.h;
}

START_TEST(bit_identical_for_any_thread_count)
{
    char *p;
    tc_model *m = gen_model("small", TC_TYPE_I2_S, &p);
    const int32_t tokens[10] = { 5, 1000, 17, 2047, 3, 99, 512, 7, 1500, 42 };
    for (int v = 0; v < N_ISA; v++) {
        if (!tc_fast_isa_supported(isas[v])) continue;
        char name[32];
        snprintf(name, sizeof name, "fast:%s", isas[v]);
        uint64_t h1 = run_hash(m, name, 1, tokens, 7, 10), h2 = run_hash(m, name, 2, tokens, 7, 10),
                 h2b = run_hash(m, name, 2, tokens, 7, 10), h3 = run_hash(m, name, 3, tokens, 7, 10);
        ck_assert_msg(h1 == h2 && h2 == h2b && h2 == h3, "%s: taps differ across thread counts", name);
        /* a prefill of 40: a 32-token tile and a rest, split differently */
        int32_t long_tokens[42];
        for (int i = 0; i < 42; i++) long_tokens[i] = (tokens[i % 10] + 7 * i) % 2000;
        h1 = run_hash(m, name, 1, long_tokens, 40, 42), h3 = run_hash(m, name, 3, long_tokens, 40, 42);
        ck_assert_msg(h1 == h3, "%s: a long prefill differs across thread counts", name);
    }
    drop_model(m, p);
}
END_TEST

START_TEST(kernel_counters_name_the_variant)
{
    char *p;
    tc_model *m = gen_model("tiny", TC_TYPE_I2_S, &p);
    const int32_t tokens[4] = { 1, 2, 3, 4 };
    for (int v = 0; v < N_ISA; v++) {
        if (!tc_fast_isa_supported(isas[v])) continue;
        char name[32], want[64];
        snprintf(name, sizeof name, "fast:%s", isas[v]);
        tc_engine *e;
        tc_err err;
        ck_assert_int_eq(tc_engine_open(name, m, NULL, &e, &err), TC_OK);
        ck_assert_str_eq(tc_engine_name(e), name);
        run_sequence(e, tokens, 3, 4);
        size_t nk;
        const tc_kernel_count *k = tc_engine_kernels(e, &nk);
        uint64_t gemm = 0, gemv = 0;
        /* the variant that ran, by name: the AVX-512 table's are VNNI's,
         * the AMX table's GEMV is AVX-512 VNNI's, and the I8MM table's
         * GEMV is the DotProd one (one token leaves smmla half idle) */
        const char *vnni = !strcmp(isas[v], "avx512") || !strcmp(isas[v], "amx") ? "avx512vnni" : isas[v];
        char want_gemv[64];
        snprintf(want, sizeof want, "fast.cpu.%s.i2s_gemm", !strcmp(isas[v], "amx") ? "amx" : vnni);
        snprintf(want_gemv, sizeof want_gemv, "fast.cpu.%s.i2s_gemv",
                 !strcmp(isas[v], "neon_i8mm") ? "neon_dotprod" : vnni);
        for (size_t i = 0; i < nk; i++) {
            ck_assert(!strncmp(k[i].name, "fast.cpu.", 9));
            if (!strcmp(k[i].name, want)) gemm = k[i].calls;
            if (!strcmp(k[i].name, want_gemv)) gemv = k[i].calls;
        }
        ck_assert_uint_eq(gemm, 7 * m->hp.n_layer);   /* one prefill: 7 linears per layer */
        ck_assert_uint_eq(gemv, 7 * m->hp.n_layer);   /* one decode */
        tc_engine_free(e);
    }
    /* "fast" is the best ISA; TC_ISA forces one */
    tc_engine *e;
    tc_err err;
    setenv("TC_ISA", "scalar", 1);
    ck_assert_int_eq(tc_engine_open("fast", m, NULL, &e, &err), TC_OK);
    ck_assert_str_eq(tc_engine_name(e), "fast:scalar");
    tc_engine_free(e);
    unsetenv("TC_ISA");
    ck_assert_int_eq(tc_engine_open("fast", m, NULL, &e, &err), TC_OK);
    /* the best: AMX over AVX-512 over AVX2 on x86; I8MM over DotProd
     * over plain NEON on aarch64 */
    const char *best = "fast:scalar";
    const char *const order[] = { "amx", "avx512", "avx2", "neon_i8mm", "neon_dotprod", "neon" };
    char bestname[32];
    for (int i = 5; i >= 0; i--)
        if (tc_fast_isa_supported(order[i])) snprintf(bestname, sizeof bestname, "fast:%s", order[i]), best = bestname;
    ck_assert_str_eq(tc_engine_name(e), best);
    tc_engine_free(e);
    drop_model(m, p);
}
END_TEST

/* SPEC 3.1: a fused norm shows its float output while tapping, and when
 * the callback replaces it, the codes that follow are quantized from the
 * replaced values; without a callback none of that work happens. */
typedef struct halve_ctx {
    int float_taps, q8_taps;
    bool codes_follow;     /* every .q8 tap equals the quantized replacement */
    float *last;           /* [width] the replaced row 0 of the last float norm tap */
    uint32_t width;
} halve_ctx;

static tc_status halve_norms(void *user, const tc_tap *tap, tc_err *err)
{
    halve_ctx *c = user;
    (void)err;
    if (tap->id == TC_TAP_ATTN_NORM || tap->id == TC_TAP_FFN_NORM || tap->id == TC_TAP_ATTN_SUB_NORM ||
        tap->id == TC_TAP_FFN_SUB_NORM) {
        c->float_taps++;
        for (size_t i = 0; i < (size_t)tap->n_pos * tap->width; i++) tap->f[i] *= -0.5f;   /* replaced */
        memcpy(c->last, tap->f, tap->width * sizeof(float));
        c->width = tap->width;
    } else if (tap->kind == TC_TAP_Q8) {
        int8_t want[8192];
        c->q8_taps++;
        const float s = tc_q8_quantize(c->last, c->width, want);
        c->codes_follow &= tap->width == c->width && s == tap->scale[0] && !memcmp(want, tap->q8, c->width);
    }
    return TC_OK;
}

START_TEST(fused_norms_show_float_and_requantize)
{
    char *p;
    tc_model *m = gen_model("tiny", TC_TYPE_I2_S, &p);
    const int32_t tokens[3] = { 7, 8, 9 };
    for (int v = 0; v < N_ISA; v++) {
        if (!tc_fast_isa_supported(isas[v])) continue;
        char name[32];
        snprintf(name, sizeof name, "fast:%s", isas[v]);
        tc_engine *e;
        tc_err err;
        float last[8192];
        halve_ctx c = { .codes_follow = true, .last = last };
        ck_assert_int_eq(tc_engine_open(name, m, NULL, &e, &err), TC_OK);
        tc_engine_set_tap(e, halve_norms, &c);
        run_sequence(e, tokens, 2, 3);
        ck_assert_int_eq(c.float_taps, 2 * 4 * (int)m->hp.n_layer);   /* two batches, four norms a layer */
        ck_assert_int_eq(c.q8_taps, c.float_taps);
        ck_assert_msg(c.codes_follow, "%s: codes not quantized from the replaced float norm", name);
        /* the extra work is counted: the plain rmsnorm and the requantization */
        size_t nk;
        const tc_kernel_count *k = tc_engine_kernels(e, &nk);
        uint64_t quant = 0;
        for (size_t i = 0; i < nk; i++)
            if (strstr(k[i].name, "quantize_q8")) quant = k[i].calls;
        ck_assert_uint_eq(quant, (uint64_t)c.float_taps);
        tc_engine_free(e);
        /* without a callback: fused only, nothing requantized */
        ck_assert_int_eq(tc_engine_open(name, m, NULL, &e, &err), TC_OK);
        run_sequence(e, tokens, 2, 3);
        k = tc_engine_kernels(e, &nk);
        for (size_t i = 0; i < nk; i++)
            if (strstr(k[i].name, "quantize_q8")) ck_assert_uint_eq(k[i].calls, 0);
        tc_engine_free(e);
    }
    drop_model(m, p);
}
END_TEST

/* ---- errors ---- */

START_TEST(isa_errors)
{
    char *p;
    tc_model *m = gen_model("tiny", TC_TYPE_I2_S, &p);
    tc_engine *e;
    tc_err err;
    ck_assert_int_eq(tc_engine_open("fast:sse9", m, NULL, &e, &err), TC_E_USAGE);
    ck_assert_ptr_null(e);
    ck_assert_ptr_nonnull(strstr(err.msg, "sse9"));
    ck_assert_int_eq(tc_engine_open("fastest", m, NULL, &e, &err), TC_E_USAGE);
    for (int v = 0; v < N_ISA; v++) {
        char name[32];
        snprintf(name, sizeof name, "fast:%s", isas[v]);
        tc_status s = tc_engine_open(name, m, NULL, &e, &err);
        ck_assert_int_eq(s, tc_fast_isa_supported(isas[v]) ? TC_OK : TC_E_UNSUPPORTED);
        if (s != TC_OK) ck_assert_ptr_nonnull(strstr(err.msg, isas[v]));
        tc_engine_free(e);
    }
    setenv("TC_ISA", "bogus", 1);
    ck_assert_int_eq(tc_engine_open("fast", m, NULL, &e, &err), TC_E_USAGE);
    unsetenv("TC_ISA");
    drop_model(m, p);
}
END_TEST

START_TEST(unsupported_models_and_options)
{
    char *p;
    tc_model *m = gen_model("tiny", TC_TYPE_F32, &p);
    tc_engine *e;
    tc_err err;
    ck_assert_int_eq(tc_engine_open("fast:scalar", m, NULL, &e, &err), TC_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "blk.0.attn_q.weight"));
    drop_model(m, p);
    m = gen_model("tiny", TC_TYPE_I2_S, &p);
    tc_engine_opts o = { .precision = TC_PRECISION_FP32, .n_threads = 1 };
    ck_assert_int_eq(tc_engine_open("fast:scalar", m, &o, &e, &err), TC_E_UNSUPPORTED);
    o = (tc_engine_opts){ .precision = TC_PRECISION_I2S, .n_threads = 0 };
    ck_assert_int_eq(tc_engine_open("fast:scalar", m, &o, &e, &err), TC_E_USAGE);
    drop_model(m, p);
}
END_TEST

static tc_status stop_at_attn(void *user, const tc_tap *tap, tc_err *err)
{
    (void)user;
    if (!strcmp(tap->name, "blk.1.attn")) return tc_fail(err, TC_E_RANGE, "stopped at %s", tap->name);
    return TC_OK;
}

START_TEST(tap_error_stops_the_batch)
{
    char *p;
    tc_model *m = gen_model("tiny", TC_TYPE_I2_S, &p);
    tc_engine *e;
    tc_err err;
    const int32_t tokens[3] = { 1, 2, 3 };
    ck_assert_int_eq(tc_engine_open("fast", m, NULL, &e, &err), TC_OK);
    tc_engine_set_tap(e, stop_at_attn, NULL);
    ck_assert_int_eq(tc_engine_prefill(e, tokens, 3, 0, &err), TC_E_RANGE);
    ck_assert_str_eq(err.msg, "stopped at blk.1.attn");
    ck_assert_uint_eq(tc_engine_n_past(e), 0);
    const int32_t bad = 100000;
    ck_assert_int_eq(tc_engine_prefill(e, &bad, 1, 0, &err), TC_E_RANGE);
    tc_engine_free(e);
    drop_model(m, p);
}
END_TEST

/* ---- limits ---- */

/* one position of context, more threads than some weights have rows */
START_TEST(tiny_context_and_many_threads)
{
    char *p;
    tc_model *m = gen_model("tiny", TC_TYPE_I2_S, &p);
    const int32_t tokens[2] = { 7, 8 };
    tc_engine_opts o = { .precision = TC_PRECISION_I2S, .n_threads = 1, .n_ctx = 1 };
    tc_engine *e;
    tc_err err;
    ck_assert_int_eq(tc_engine_open("fast", m, &o, &e, &err), TC_OK);
    ck_assert_int_eq(tc_engine_prefill(e, tokens, 1, 0, &err), TC_OK);
    ck_assert_int_eq(tc_engine_decode(e, 8, &err), TC_E_RANGE);
    float *l1 = malloc(m->hp.n_vocab * sizeof(float));
    memcpy(l1, tc_engine_logits(e), m->hp.n_vocab * sizeof(float));
    tc_engine_free(e);
    o.n_threads = 16;
    ck_assert_int_eq(tc_engine_open("fast", m, &o, &e, &err), TC_OK);
    ck_assert_int_eq(tc_engine_prefill(e, tokens, 1, 0, &err), TC_OK);
    ck_assert(!memcmp(l1, tc_engine_logits(e), m->hp.n_vocab * sizeof(float)));
    tc_engine_free(e);
    free(l1);
    drop_model(m, p);
}
END_TEST

/* prefill of n equals n decodes, bit for bit (the integer sums are exact
 * and every float step is per row) */
START_TEST(prefill_equals_decode)
{
    char *p;
    tc_model *m = gen_model("tiny", TC_TYPE_I2_S, &p);
    const int32_t tokens[6] = { 11, 22, 33, 44, 55, 66 };
    for (int v = 0; v < N_ISA; v++) {
        if (!tc_fast_isa_supported(isas[v])) continue;
        char name[32];
        snprintf(name, sizeof name, "fast:%s", isas[v]);
        tc_engine_opts o = { .precision = TC_PRECISION_I2S, .n_threads = 2, .n_ctx = 8 };
        tc_engine *a, *b;
        tc_err err;
        ck_assert_int_eq(tc_engine_open(name, m, &o, &a, &err), TC_OK);
        ck_assert_int_eq(tc_engine_open(name, m, &o, &b, &err), TC_OK);
        ck_assert_int_eq(tc_engine_prefill(a, tokens, 6, 0, &err), TC_OK);
        for (int i = 0; i < 6; i++) ck_assert_int_eq(tc_engine_decode(b, tokens[i], &err), TC_OK);
        float ea = scaled_err(tc_engine_logits(a), tc_engine_logits(b), m->hp.n_vocab);
        ck_assert_msg(ea <= 1e-6, "%s: %g", name, ea);
        tc_engine_free(a);
        tc_engine_free(b);
    }
    drop_model(m, p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fast");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors"), *limits = tcase_create("limits");
    tcase_set_timeout(core, 600);
    tcase_add_test(core, i2s_kernels_match_reference);
    tcase_add_test(core, x16_layout_as_documented);
    tcase_add_test(core, code3_is_sanitized);
    tcase_add_test(core, rmsnorm_q8_matches_reference);
    tcase_add_test(core, f16_gemm_matches_reference);
    tcase_add_test(core, attention_matches_reference);
    tcase_add_test(core, neon_tables_give_scalar_bits);
    tcase_add_test(core, engine_matches_ref_tiny);
    tcase_add_test(core, engine_matches_ref_long_prefill);
    tcase_add_test(core, engine_matches_ref_small);
    tcase_add_test(core, engine_matches_ref_bitnet_cpp_vector);
    tcase_add_test(core, engine_matches_ref_as_the_cache_grows);
    tcase_add_test(core, bit_identical_for_any_thread_count);
    tcase_add_test(core, kernel_counters_name_the_variant);
    tcase_add_test(core, fused_norms_show_float_and_requantize);
    tcase_add_test(errors, isa_errors);
    tcase_add_test(errors, unsupported_models_and_options);
    tcase_add_test(errors, tap_error_stops_the_batch);
    tcase_add_test(limits, tiny_context_and_many_threads);
    tcase_add_test(limits, prefill_equals_decode);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    suite_add_tcase(s, limits);
    return tu_run(s);
}

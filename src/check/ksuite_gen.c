/* ksuite_gen.c -- the kernel suite's seeded generator: a case's inputs
 * drawn from GSL's mt19937 (seeded per case, so a filtered run draws the
 * same inputs) and the reference kernels' answers (src/ref/ref_kernels.h).
 * The draws follow a fixed order per kernel: changing it changes every
 * case's inputs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "check/ksuite_impl.h"
#include "fast/cpu/dispatch.h"
#include "format/types.h"
#include "engine/q8.h"
#include "ref/ref_kernels.h"

/* A zeroed buffer of n elements of size bytes that d owns; NULL when out
 * of memory. */
static void *own(tc_ks_data *d, size_t n, size_t size)
{
    size_t i = 0;
    while (i < sizeof d->own / sizeof d->own[0] && d->own[i]) i++;
    if (i == sizeof d->own / sizeof d->own[0]) return NULL;
    return d->own[i] = calloc(n ? n : 1, size);
}

void tc_ks_data_free(tc_ks_data *d)
{
    for (size_t i = 0; i < sizeof d->own / sizeof d->own[0]; i++) free(d->own[i]);
    memset(d, 0, sizeof *d);
}

/* ---- I2_S ---- */

static int8_t rand_q8(gsl_rng *g) { return (int8_t)((int)gsl_rng_uniform_int(g, 256) - 128); }

/* I2_S rows {rows x K} packed; codes per the input kind */
static void fill_i2s(gsl_rng *g, uint8_t *w, size_t rows, size_t K, tc_ks_input in)
{
    const size_t rb = K / 4;
    for (size_t r = 0; r < rows; r++)
        for (size_t b = 0; b < rb; b++) {
            unsigned byte = 0;
            for (int f = 0; f < 4; f++) {
                unsigned code = (unsigned)gsl_rng_uniform_int(g, in == TC_KS_IN_CODE3 ? 4 : 3);
                if (in == TC_KS_IN_ZERO_ROWS && r % 2 == 0) code = 1;
                if (in == TC_KS_IN_SIGN_ROWS) code = r % 2 ? 2 : 0;
                if (in == TC_KS_IN_EXTREME_SUMS) code = 2;
                byte = byte << 2 | code;
            }
            w[r * rb + b] = (uint8_t)byte;
        }
}

static void fill_q8(gsl_rng *g, int8_t *q, size_t n, size_t K, tc_ks_input in)
{
    for (size_t i = 0; i < n; i++) {
        int v = rand_q8(g);
        if (in == TC_KS_IN_Q8_MIN) v = -128;
        if (in == TC_KS_IN_Q8_MAX) v = 127;
        if (in == TC_KS_IN_Q8_ALT) v = i % 2 ? 127 : -128;
        if (in == TC_KS_IN_SIGN_ROWS) v = v < 0 ? -128 : 127;
        if (in == TC_KS_IN_EXTREME_SUMS) v = (i / K) % 2 ? 127 : -128;   /* token 0 all -128, token 1 all 127, ... */
        q[i] = (int8_t)v;
    }
}

static bool gen_i2s(const tc_ks_case *c, gsl_rng *g, tc_ks_data *d)
{
    const size_t rows = c->rows, K = c->K, n = c->n, ld = c->ld;
    uint8_t *raw = own(d, rows * K / 4, 1);
    int8_t *q = own(d, n * K, 1);
    int32_t *want = own(d, (n - 1) * ld + rows, sizeof *want);
    if (!raw || !q || !want) return false;
    fill_i2s(g, raw, rows, K, c->input);
    fill_q8(g, q, n * K, K, c->input);
    uint8_t *w = raw;
    if (c->input == TC_KS_IN_CODE3) {   /* code 3 never reaches a kernel: the engine rewrites it at load (ABI) */
        if (!(w = own(d, rows * K / 4, 1))) return false;
        tc_fast_i2s_sanitize(raw, rows * K / 4, w);
    }
    /* the reference reads the raw bytes (code 3 as 0) */
    for (size_t t = 0; t < n; t++)
        for (size_t r = 0; r < rows; r++) want[t * ld + r] = (int32_t)tc_ref_i2s_dot_q8(raw + r * (K / 4), q + t * K, K);
    d->w_i2s = w;
    d->q8 = q;
    d->want_sums = want;
    return true;
}

/* ---- RMSNorm (+ q8): one row ---- */

void tc_ks_tie_row(float *x, float *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        x[i] = i % 2 ? -100.0f : 100.0f;
        w[i] = (float)((i / 2) % 127) + 0.5f;
    }
    x[n - 1] = 100.0f;
    w[n - 1] = 127.0f;   /* the largest: s = 127 / 127 = 1 */
}

static void fill_norm_input(gsl_rng *g, float *x, float *w, size_t n, tc_ks_input in)
{
    if (in == TC_KS_IN_TIES) {
        tc_ks_tie_row(x, w, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        double v = gsl_ran_gaussian(g, 2.385);
        if (in == TC_KS_IN_ZEROS) v = 0;
        if (in == TC_KS_IN_DENORMAL) v *= 1e-39;   /* below FLT_MIN = 1.18e-38 */
        if (in == TC_KS_IN_HUGE) v *= 1e30;
        x[i] = (float)v;
        w[i] = (float)(0.5 + gsl_rng_uniform(g));
    }
    if (in == TC_KS_IN_SPIKE) {
        x[n / 2] = 1e4f;
        x[n / 3] = -1e4f;   /* n = 1: the same element */
    }
}

static bool gen_norm(const tc_ks_case *c, gsl_rng *g, tc_ks_data *d)
{
    const size_t n = c->K;
    float *x = own(d, n, 4), *w = own(d, n, 4), *h = own(d, n, 4);
    if (!x || !w || !h) return false;
    fill_norm_input(g, x, w, n, c->input);
    d->eps = 1e-5f;
    tc_ref_rmsnorm(x, w, n, d->eps, h);
    d->x = x;
    d->w = w;
    if (c->kernel == TC_KS_RMSNORM) {
        d->want = h;
        return true;
    }
    int8_t *rq = own(d, n, 1);
    float *rs = own(d, 1, 4);
    if (!rq || !rs) return false;
    *rs = tc_q8_quantize(h, n, rq);
    d->want_q8 = rq;
    d->want_scale = rs;
    d->want_h = h;
    return true;
}

/* ---- F16 ---- */

static bool gen_f16(const tc_ks_case *c, gsl_rng *g, tc_ks_data *d)
{
    const size_t rows = c->rows, K = c->K, n = c->n, ld = c->ld;
    uint16_t *w = own(d, rows * K, 2);
    float *x = own(d, n * K, 4), *want = own(d, (n - 1) * ld + rows, 4), *wf = own(d, K, 4);
    if (!w || !x || !want || !wf) return false;
    /* random halves straight from bits where the table is large (the LM head) */
    for (size_t i = 0; i < rows * K; i++) {
        float v = (float)gsl_ran_gaussian(g, 0.05);
        uint16_t hv = tc_f32_to_f16(v);
        if (c->input == TC_KS_IN_F16_SUBNORMAL && i % 2) hv = (uint16_t)((hv & 0x8000u) | gsl_rng_uniform_int(g, 0x400));
        if (c->input == TC_KS_IN_F16_MAX && i % 97 == 0) hv = (uint16_t)((hv & 0x8000u) | 0x7bffu);   /* +-65504 */
        w[i] = hv;
    }
    for (size_t i = 0; i < n * K; i++) x[i] = (float)gsl_ran_gaussian(g, 1.0);
    /* the reference: the dot in double (tc_ref_dot) */
    for (size_t r = 0; r < rows; r++) {
        for (size_t i = 0; i < K; i++) wf[i] = tc_f16_to_f32(w[r * K + i]);
        for (size_t t = 0; t < n; t++) want[t * ld + r] = (float)tc_ref_dot(wf, x + t * K, K);
    }
    d->w_f16 = w;
    d->x = x;
    d->want = want;
    return true;
}

/* ---- attention ---- */

static bool gen_attention(const tc_ks_case *c, gsl_rng *g, tc_ks_data *d)
{
    const size_t nk = c->rows, hd = c->K;
    float *q = own(d, hd, 4), *k = own(d, nk * hd, 4), *v = own(d, nk * hd, 4), *want = own(d, hd, 4);
    double *ds = own(d, nk, sizeof *ds);
    if (!q || !k || !v || !want || !ds) return false;
    for (size_t i = 0; i < hd; i++) q[i] = (float)gsl_ran_gaussian(g, 1.0);
    for (size_t j = 0; j < nk; j++)
        for (size_t i = 0; i < hd; i++) {
            double kv = gsl_ran_gaussian(g, 1.0);
            if (c->input == TC_KS_IN_NEG_SCORES) kv = j == 0 ? q[i] : -100.0 * q[i] + 0.01 * kv;   /* scores ~ -1e4 */
            if (c->input == TC_KS_IN_EQUAL_SCORES) kv = q[i] * 0.5;
            k[j * hd + i] = (float)kv;
            v[j * hd + i] = (float)gsl_ran_gaussian(g, 1.0);
        }
    tc_ref_attention_head(q, k, v, hd, nk, hd, ds, want);
    d->q = q;
    d->k = k;
    d->v = v;
    d->want = want;
    return true;
}

/* ---- element-wise steps: the scalar formulas ---- */

static float special_float(gsl_rng *g, size_t i)
{
    static const float sp[] = { 0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-40f, -1e-40f, 3.4e38f, -3.4e38f };
    return i % 3 == 0 ? sp[gsl_rng_uniform_int(g, sizeof sp / sizeof sp[0])] : (float)gsl_ran_gaussian(g, 3.0);
}

static bool gen_elementwise(const tc_ks_case *c, gsl_rng *g, tc_ks_data *d)
{
    const size_t n = c->K;
    const bool sp = c->input == TC_KS_IN_SPECIALS;
    int32_t *acc = own(d, n, sizeof *acc);
    float *a = own(d, n, 4), *b = own(d, n, 4), *want = own(d, n, 4);
    if (!acc || !a || !b || !want) return false;
    static const int32_t extremes[] = { INT32_MAX, INT32_MIN, 16777217, -16777217, 0 };
    for (size_t i = 0; i < n; i++) {
        acc[i] = sp && i % 2 ? extremes[gsl_rng_uniform_int(g, 5)] : (int32_t)gsl_rng_uniform_int(g, 400001) - 200000;
        a[i] = sp ? special_float(g, i) : (float)gsl_ran_gaussian(g, 3.0);
        b[i] = sp ? special_float(g, i + 1) : (float)gsl_ran_gaussian(g, 1.0);
    }
    d->s = sp ? 0.0127f : (float)(127.0 / (1.0 + gsl_rng_uniform(g)));
    d->m = 0.75f;
    d->mul = 1.0f / 3.0f;
    for (size_t i = 0; i < n; i++) {
        if (c->kernel == TC_KS_I2S_SCALE) {   /* the reference engine's bitlinear output */
            want[i] = (float)acc[i] / d->s * d->m;
            if (c->n == 2) want[i] *= d->mul;
        } else if (c->kernel == TC_KS_RELU2_MUL) {
            want[i] = tc_ref_relu2(a[i]) * b[i];
        } else {
            want[i] = a[i] + b[i];
        }
    }
    d->acc = acc;
    d->a = a;
    d->b = b;
    d->want = want;
    return true;
}

tc_status tc_ks_generate(const tc_ks_case *c, gsl_rng *g, tc_ks_data *d, tc_err *err)
{
    bool ok;
    memset(d, 0, sizeof *d);
    switch (c->kernel) {
    case TC_KS_I2S_GEMV:
    case TC_KS_I2S_GEMM: ok = gen_i2s(c, g, d); break;
    case TC_KS_RMSNORM_Q8:
    case TC_KS_RMSNORM: ok = gen_norm(c, g, d); break;
    case TC_KS_F16_GEMV:
    case TC_KS_F16_GEMM: ok = gen_f16(c, g, d); break;
    case TC_KS_ATTENTION: ok = gen_attention(c, g, d); break;
    default: ok = gen_elementwise(c, g, d); break;
    }
    if (ok) return TC_OK;
    tc_ks_data_free(d);
    return tc_fail(err, TC_E_NOMEM, "kernels: out of memory for %s %zux%zu", tc_ks_kernel_name[c->kernel], c->rows,
                   c->K);
}

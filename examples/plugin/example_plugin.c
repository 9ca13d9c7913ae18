/* example_plugin.c -- a complete tritcheck kernel plug-in (ABI version 1,
 * include/tritcheck/kernels.h): straightforward scalar C, one function per
 * kernel, nothing from tritcheck but the header.  Build it as a porter
 * would:
 *
 *     cc -std=c11 -O2 -fPIC -shared -ffp-contract=off \
 *        -I/usr/local/include -o libtc_example_plugin.so example_plugin.c -lm
 *     tritcheck kernels --engine ./libtc_example_plugin.so
 *     tritcheck compare MODEL --cand plugin:./libtc_example_plugin.so
 *
 * Test variants (make check builds them; they exist to be refused or to
 * fail, proving the checks can):
 *   -DTC_EXAMPLE_BUG=1     i2s_gemv writes one element past its row range
 *                          (out[r1]): an off-by-one the suite must name;
 *   -DTC_EXAMPLE_ABI=2     claims ABI version 2;
 *   -DTC_EXAMPLE_NOSYM=1   exports no tritcheck_kernels();
 *   -DTC_EXAMPLE_NULLFN=1  leaves attention_head NULL;
 *   -DTC_EXAMPLE_ROUND=1   rmsnorm_q8 rounds exact ties away from zero
 *                          (roundf), not half to even as SPEC 2.2 says;
 *   -DTC_EXAMPLE_ROUND=2   rmsnorm_q8 truncates toward zero.
 * -ffp-contract=off matters: rmsnorm_q8 must round h * s to float before
 * rounding it to an integer, as the reference does.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <tritcheck/kernels.h>

#ifndef TC_EXAMPLE_BUG
#define TC_EXAMPLE_BUG 0
#endif
#ifndef TC_EXAMPLE_ABI
#define TC_EXAMPLE_ABI TC_KERNELS_ABI_VERSION
#endif
#ifndef TC_EXAMPLE_ROUND
#define TC_EXAMPLE_ROUND 0
#endif

/* ---- I2_S x int8 ---- */

/* sum_i (c_i - 1) q_i over one row of K elements (K % 128 == 0) */
static int32_t i2s_dot(const uint8_t *row, const int8_t *q, size_t K)
{
    int32_t sum = 0;
    for (size_t b = 0; b < K / 128; b++)
        for (size_t j = 0; j < 32; j++) {
            const unsigned byte = row[b * 32 + j];
            for (unsigned g = 0; g < 4; g++) {   /* element 128b + 32g + j in bits 7-2g:6-2g */
                const int code = (int)((byte >> (6 - 2 * g)) & 3u);
                sum += (code - 1) * q[b * 128 + 32 * g + j];
            }
        }
    return sum;
}

static void i2s_gemm(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q, const int32_t *qsum,
                     size_t n, int32_t *out, size_t ld)
{
    (void)qsum;   /* this version sums (c - 1) q directly */
    for (size_t t = 0; t < n; t++)
        for (size_t r = r0; r < r1; r++) out[t * ld + r] = i2s_dot(w + r * (K / 4), q + t * K, K);
}

static void i2s_gemv(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q, const int32_t *qsum,
                     int32_t *out)
{
    (void)qsum;
#if TC_EXAMPLE_BUG
    for (size_t r = r0; r <= r1; r++)   /* BUG (on purpose): one row too many */
        out[r] = r < r1 ? i2s_dot(w + r * (K / 4), q, K) : 0;
#else
    for (size_t r = r0; r < r1; r++) out[r] = i2s_dot(w + r * (K / 4), q, K);
#endif
}

/* ---- RMSNorm (+ int8 quantization), bit for bit as the header says ---- */

static double rms_scale(const float *x, size_t n, float eps)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * (double)x[i];
    return 1.0 / sqrt(ss / (double)n + (double)eps);
}

static float rmsnorm_q8(const float *x, const float *w, size_t n, float eps, int8_t *q, int32_t *qsum)
{
    const double scale = rms_scale(x, n, eps);
    double amax = 1e-5;
    for (size_t i = 0; i < n; i++) {
        const float h = (float)((double)x[i] * scale) * w[i];
        if (fabs((double)h) > amax) amax = fabs((double)h);
    }
    const float s = (float)(127.0 / amax);
    int32_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        const float h = (float)((double)x[i] * scale) * w[i];
        const float hs = h * s;          /* rounded to float (no FMA) */
#if TC_EXAMPLE_ROUND == 1
        float r = roundf(hs);            /* the bug: ties away from zero */
#elif TC_EXAMPLE_ROUND == 2
        float r = truncf(hs);            /* the bug: toward zero */
#else
        float r = nearbyintf(hs);        /* half to even */
#endif
        r = r > 127.0f ? 127.0f : r < -128.0f ? -128.0f : r;
        q[i] = (int8_t)r;
        sum += q[i];
    }
    *qsum = sum;
    return s;
}

static void rmsnorm(const float *x, const float *w, size_t n, float eps, float *y)
{
    const double scale = rms_scale(x, n, eps);
    for (size_t i = 0; i < n; i++) y[i] = (float)((double)x[i] * scale) * w[i];   /* y may be x */
}

/* ---- F16 x float ---- */

static float half_to_float(uint16_t h)
{
    const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    const float sign = (h & 0x8000u) ? -1.0f : 1.0f;
    if (e == 0) return sign * ldexpf((float)m, -24);                      /* zero, subnormal */
    if (e == 31) return m ? NAN : sign * INFINITY;
    return sign * ldexpf((float)(m | 0x400), e - 25);
}

static void f16_gemm(const uint16_t *w, size_t K, size_t r0, size_t r1, const float *x, size_t n, float *y,
                     size_t ld)
{
    for (size_t t = 0; t < n; t++)
        for (size_t r = r0; r < r1; r++) {
            double acc = 0.0;
            for (size_t i = 0; i < K; i++) acc += (double)half_to_float(w[r * K + i]) * x[t * K + i];
            y[t * ld + r] = (float)acc;
        }
}

/* ---- attention ---- */

static void attention_head(const float *q, const float *k, const float *v, size_t n_keys, size_t hd,
                           float *scores, float *out)
{
    const double scale = 1.0 / sqrt((double)hd);
    double mx = -INFINITY, sum = 0.0;
    for (size_t j = 0; j < n_keys; j++) {
        double d = 0.0;
        for (size_t i = 0; i < hd; i++) d += (double)q[i] * k[j * hd + i];
        scores[j] = (float)(d * scale);
        if (scores[j] > mx) mx = scores[j];
    }
    for (size_t j = 0; j < n_keys; j++) sum += exp((double)scores[j] - mx);
    for (size_t i = 0; i < hd; i++) {
        double acc = 0.0;
        for (size_t j = 0; j < n_keys; j++) acc += exp((double)scores[j] - mx) * v[j * hd + i];
        out[i] = (float)(acc / sum);
    }
}

/* ---- the table ---- */

static const struct tc_kernels_abi table = {
    .abi_version = TC_EXAMPLE_ABI,
    .struct_size = sizeof(struct tc_kernels_abi),
    .name = TC_EXAMPLE_BUG ? "example-bug" : TC_EXAMPLE_ROUND == 1 ? "example-round-away"
            : TC_EXAMPLE_ROUND == 2 ? "example-trunc" : "example",
    .i2s_gemm = i2s_gemm,
    .i2s_gemv = i2s_gemv,
    .rmsnorm_q8 = rmsnorm_q8,
    .rmsnorm = rmsnorm,
    .f16_gemm = f16_gemm,
#if !defined TC_EXAMPLE_NULLFN
    .attention_head = attention_head,
#endif
};

#if defined TC_EXAMPLE_NULLFN
/* keep the compiler quiet about the unused kernel */
void tc_example_unused(void);
void tc_example_unused(void) { (void)attention_head; }
#endif

#if !defined TC_EXAMPLE_NOSYM
const struct tc_kernels_abi *tritcheck_kernels(void) { return &table; }
#else
const struct tc_kernels_abi *not_the_entry(void);
const struct tc_kernels_abi *not_the_entry(void) { return &table; }
#endif

/* scalar.c -- the portable kernels of the fast CPU engine (plain C11, no
 * intrinsics) and the pieces every variant shares.  This is the fallback
 * on any CPU and the baseline the SIMD variants are tested against.
 * Built with -ffp-contract=off: each float product is rounded before use. */
#include <math.h>
#include <string.h>

#include "fast/cpu/dispatch.h"

/* ---- shared pieces ---- */

int32_t tc_fast_q8_sum(const int8_t *q, size_t n)
{
    int32_t s = 0;   /* |sum| <= 128 n: exact for n < 2^24 */
    for (size_t i = 0; i < n; i++) s += q[i];
    return s;
}

/* a 2-bit field is 3 when both its bits are set; 8 bytes at a time (the
 * mask keeps the even bits, so no bit shifted across a byte counts), one
 * test per 4 KiB, so that the scan of a 2B4T model at open runs at memory
 * speed */
int tc_fast_i2s_has_code3(const uint8_t *packed, size_t nbytes)
{
    const uint64_t even = 0x5555555555555555ull;
    size_t i = 0;
    while (i + 8 <= nbytes) {
        uint64_t any = 0;
        for (size_t end = i + 4096 < nbytes ? i + 4096 : nbytes; i + 8 <= end; i += 8) {
            uint64_t x;
            memcpy(&x, packed + i, 8);
            any |= x & (x >> 1) & even;
        }
        if (any) return 1;
    }
    for (; i < nbytes; i++)
        if (packed[i] & (packed[i] >> 1) & 0x55) return 1;
    return 0;
}

/* code 3 (reads as 0) -> code 1 (value 0): clear the high bit of the field */
void tc_fast_i2s_sanitize(const uint8_t *in, size_t nbytes, uint8_t *out)
{
    for (size_t i = 0; i < nbytes; i++) {
        uint8_t both = in[i] & (in[i] >> 1) & 0x55;   /* low bit of each code-3 field */
        out[i] = (uint8_t)(in[i] & ~(both << 1));
    }
}

/* ---- I2_S x int8 ---- */

/* sum_i c_i q_i - qsum over one row; K % 128 == 0, codes in {0,1,2} */
static int32_t i2s_dot(const uint8_t *row, const int8_t *q, size_t K, int32_t qsum)
{
    int32_t sum = 0;   /* |sum| <= 2 * 128 * K < 2^31 for K < 2^22 */
    for (size_t b = 0; b < K / 128; b++) {
        const uint8_t *by = row + b * 32;   /* [32] */
        const int8_t *qb = q + b * 128;     /* [128] */
        for (size_t j = 0; j < 32; j++) {
            unsigned x = by[j];
            sum += (int32_t)(x >> 6) * qb[j] + (int32_t)((x >> 4) & 3) * qb[32 + j] +
                   (int32_t)((x >> 2) & 3) * qb[64 + j] + (int32_t)(x & 3) * qb[96 + j];
        }
    }
    return sum - qsum;
}

static void i2s_gemm_scalar(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q,
                            const int32_t *qsum, size_t n, int32_t *out, size_t ld)
{
    for (size_t r = r0; r < r1; r++)
        for (size_t t = 0; t < n; t++) out[t * ld + r] = i2s_dot(w + r * (K / 4), q + t * K, K, qsum[t]);
}

static void i2s_gemv_scalar(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q,
                            const int32_t *qsum, int32_t *out)
{
    i2s_gemm_scalar(w, K, r0, r1, q, qsum, 1, out, 0);
}

/* ---- RMSNorm (+ quantization): the reference's arithmetic, in order ---- */

static double rms_scale(const float *x, size_t n, float eps)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    return 1.0 / sqrt(ss / (double)n + (double)eps);
}

static void rmsnorm_scalar(const float *x, const float *w, size_t n, float eps, float *y)
{
    const double scale = rms_scale(x, n, eps);
    for (size_t i = 0; i < n; i++) y[i] = (float)(x[i] * scale) * w[i];
}

static float rmsnorm_q8_scalar(const float *x, const float *w, size_t n, float eps, int8_t *q, int32_t *qsum)
{
    const double scale = rms_scale(x, n, eps);
    double amax = 1e-5;
    for (size_t i = 0; i < n; i++) {
        float h = (float)(x[i] * scale) * w[i];
        if (fabs((double)h) > amax) amax = fabs((double)h);
    }
    const float s = (float)(127.0 / amax);
    int32_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        q[i] = tc_fast_q8_one(x[i], scale, w[i], s);   /* h recomputed: the same float */
        sum += q[i];
    }
    *qsum = sum;
    return s;
}

/* ---- F16 LM head ---- */

/* exact half -> float (normals, subnormals, inf, NaN) without a table */
static inline float h2f(uint16_t h)
{
    union { uint32_t u; float f; } o = { .u = (uint32_t)(h & 0x7fffu) << 13 };
    o.f *= 0x1p112f;                          /* rebias the exponent; subnormals exact */
    if (o.f >= 65536.0f) o.u |= 255u << 23;   /* inf / NaN */
    o.u |= (uint32_t)(h & 0x8000u) << 16;
    return o.f;
}

/* eight float partial sums in a fixed order, then a fixed tree */
static void f16_gemm_scalar(const uint16_t *w, size_t K, size_t r0, size_t r1, const float *x, size_t n,
                            float *y, size_t ld)
{
    for (size_t r = r0; r < r1; r++) {
        const uint16_t *wr = w + r * K;
        for (size_t t = 0; t < n; t++) {
            const float *xt = x + t * K;
            float acc[8] = { 0 };
            size_t i = 0;
            for (; i + 8 <= K; i += 8)
                for (size_t l = 0; l < 8; l++) acc[l] += h2f(wr[i + l]) * xt[i + l];
            float tail = 0.0f;
            for (; i < K; i++) tail += h2f(wr[i]) * xt[i];
            y[t * ld + r] = (((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))) + tail;
        }
    }
}

/* ---- attention: double reductions, like the reference ---- */

static void attention_head_scalar(const float *q, const float *k, const float *v, size_t n_keys, size_t hd,
                                  float *scores, float *out)
{
    const double scale = 1.0 / sqrt((double)hd);
    float mx = -INFINITY;
    for (size_t j = 0; j < n_keys; j++) {
        double d = 0.0;
        for (size_t i = 0; i < hd; i++) d += (double)q[i] * k[j * hd + i];
        scores[j] = (float)(d * scale);
        if (scores[j] > mx) mx = scores[j];
    }
    double sum = 0.0;
    for (size_t j = 0; j < n_keys; j++) {
        scores[j] = expf(scores[j] - mx);
        sum += scores[j];
    }
    for (size_t i = 0; i < hd; i++) {
        double acc = 0.0;
        for (size_t j = 0; j < n_keys; j++) acc += (double)scores[j] * v[j * hd + i];
        out[i] = (float)(acc / sum);
    }
}

/* ---- element-wise ---- */

void tc_fast_scalar_i2s_scale(const int32_t *acc, size_t n, float s, float m, const float *mul, float *y)
{
    for (size_t i = 0; i < n; i++) y[i] = tc_fast_i2s_scale(acc[i], s, m);
    if (mul)
        for (size_t i = 0; i < n; i++) y[i] *= *mul;
}

void tc_fast_scalar_relu2_mul(const float *gate, const float *up, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) {
        float r = gate[i] > 0.0f ? gate[i] : 0.0f;
        float a = r * r;
        out[i] = a * up[i];
    }
}

void tc_fast_scalar_add(float *x, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] += y[i];
}

const tc_fast_kernels tc_fast_kernels_scalar = {
    .isa = "scalar",
    .i2s_gemv = i2s_gemv_scalar, .i2s_gemm = i2s_gemm_scalar,
    .i2s_gemv_name = "fast.cpu.scalar.i2s_gemv", .i2s_gemm_name = "fast.cpu.scalar.i2s_gemm",
    .rmsnorm_q8 = rmsnorm_q8_scalar, .rmsnorm = rmsnorm_scalar,
    .rmsnorm_q8_name = "fast.cpu.scalar.rmsnorm_q8", .rmsnorm_name = "fast.cpu.scalar.rmsnorm",
    .f16_gemm = f16_gemm_scalar,
    .f16_gemv_name = "fast.cpu.scalar.f16_gemv", .f16_gemm_name = "fast.cpu.scalar.f16_gemm",
    .attention_head = attention_head_scalar, .attention_name = "fast.cpu.scalar.attention",
    .i2s_scale = tc_fast_scalar_i2s_scale, .relu2_mul = tc_fast_scalar_relu2_mul, .add = tc_fast_scalar_add,
    .relu2_mul_name = "fast.cpu.scalar.relu2_mul", .add_name = "fast.cpu.scalar.add",
};

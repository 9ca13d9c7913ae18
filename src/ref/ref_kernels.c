/* kernels.c -- the reference engine's math (SPEC 2.1-2.3), one formula per
 * function.  Built with -ffp-contract=off: every float product below is
 * rounded to float before it is used. */
#include <math.h>

#include "format/types.h"
#include "ref/ref_kernels.h"

/* ---- normalization ---- */

/* y = x / sqrt(mean(x^2) + eps) (.) w */
void tc_ref_rmsnorm(const float *x, const float *w, size_t n, float eps, float *y)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    /* the scale in double; each output is rounded once to float, then
     * multiplied by the norm weight in float, as ggml's rms_norm + mul */
    double scale = 1.0 / sqrt(ss / (double)n + (double)eps);
    for (size_t i = 0; i < n; i++) y[i] = (float)(x[i] * scale) * w[i];
}

/* (the SPEC 2.2 quantizer is engine/q8.c's tc_q8_quantize) */

/* ---- llama.cpp's activation quantization: Q8_K (doc/q8k.md) ---- */

/* per block of 256: iscale = -127 / (the signed value of largest |x|),
 * q = min(127, rint((float)(iscale * x))), d = 1 / iscale */
void tc_ref_quantize_q8k(const float *x, size_t n, int8_t *q, float *d)
{
    for (size_t b = 0; b < n / TC_QK_K; b++) {
        const float *xb = x + b * TC_QK_K;   /* [256] */
        int8_t *qb = q + b * TC_QK_K;        /* [256] */
        float amax = 0.0f, max = 0.0f;
        for (size_t i = 0; i < TC_QK_K; i++)
            if (fabsf(xb[i]) > amax) {       /* the first of equal magnitudes wins */
                amax = fabsf(xb[i]);
                max = xb[i];
            }
        if (amax == 0.0f) {
            d[b] = 0.0f;
            for (size_t i = 0; i < TC_QK_K; i++) qb[i] = 0;
            continue;
        }
        const float iscale = -127.0f / max;
        for (size_t i = 0; i < TC_QK_K; i++) {
            float v = nearbyintf(iscale * xb[i]);   /* the float product, then half to even */
            qb[i] = (int8_t)(v > 127.0f ? 127.0f : v);
        }
        d[b] = 1.0f / iscale;
    }
}

/* sumi_b exact per block; each block's float scale d_b * w_d_b rounded
 * to float as llama.cpp forms it; the sum over blocks in double */
double tc_ref_tq_dot_q8k(const uint8_t *row, int tq1, const int8_t *q, const float *d, size_t K)
{
    const size_t bb = tq1 ? TC_TQ1_BLOCK_BYTES : TC_TQ2_BLOCK_BYTES;
    double sum = 0.0;
    for (size_t b = 0; b < K / TC_QK_K; b++) {
        const uint8_t *blk = row + b * bb;
        const int8_t *qb = q + b * TC_QK_K;
        int32_t sumi = 0;   /* |sumi| <= 256 * 2 * 127: exact */
        if (tq1)
            for (unsigned i = 0; i < TC_QK_K; i++) sumi += tc_tq1_value(blk, i) * qb[i];
        else
            for (unsigned i = 0; i < TC_QK_K; i++) sumi += tc_tq2_value(blk, i) * qb[i];
        const float wd = tc_f16_to_f32(tq1 ? tc_tq1_scale_bits(blk) : tc_tq2_scale_bits(blk));
        const float scale = d[b] * wd;
        sum += (double)sumi * scale;
    }
    return sum;
}

/* ---- ternary weights ---- */

/* code 0 -> -1, 1 -> 0, 2 -> +1, 3 (unused) -> 0 */
static const int code_value[4] = { -1, 0, 1, 0 };

/* The value of a 2-bit code without a table (so that the loop below
 * vectorizes): c - 1, except that the unused code 3 reads as 0. */
static inline int code_to_int(unsigned c)
{
    return (int)c - 1 - 2 * (int)((c >> 1) & c & 1u);
}

/* sum_i w(i) q_i over K elements: block b, byte j holds elements
 * 128b + j, +32, +64, +96 in bits 7:6, 5:4, 3:2, 1:0 (SPEC 1.2) */
int64_t tc_ref_i2s_dot_q8(const uint8_t *row, const int8_t *q, size_t K)
{
    int64_t sum = 0;
    for (size_t b = 0; b < K / TC_I2S_BLOCK; b++) {
        const uint8_t *bytes = row + b * TC_I2S_BLOCK_BYTES;   /* [32] */
        const int8_t *qb = q + b * TC_I2S_BLOCK;               /* [128] */
        int32_t block_sum = 0;   /* |sum| <= 128 * 128: exact in int32 */
        /* one pass per 32-element group: group g sits in bits 7-2g:6-2g */
        for (unsigned g = 0; g < 4; g++) {
            const unsigned shift = 6 - 2 * g;
            for (size_t j = 0; j < 32; j++)
                block_sum += code_to_int((bytes[j] >> shift) & 3u) * qb[32 * g + j];
        }
        sum += block_sum;
    }
    return sum;
}

/* out_i = code(i) * m: exact in float (m, 0 or -m) */
void tc_ref_i2s_row_f32(const uint8_t *row, size_t K, float m, float *out)
{
    for (size_t i = 0; i < K; i++) out[i] = (float)code_value[tc_i2s_code(row, i)] * m;
}

/* ---- reductions ---- */

/* F16 round trip, round to nearest even */
void tc_ref_round_f16(const float *x, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) out[i] = tc_f16_to_f32(tc_f32_to_f16(x[i]));
}

/* sum a_i b_i in double; each product is exact in double */
double tc_ref_dot(const float *a, const float *b, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += (double)a[i] * b[i];
    return sum;
}

/* s_i <- exp(s_i - max s) / sum_j exp(s_j - max s) */
void tc_ref_softmax(double *s, size_t n)
{
    double mx = -INFINITY, sum = 0.0;
    for (size_t i = 0; i < n; i++)
        if (s[i] > mx) mx = s[i];
    for (size_t i = 0; i < n; i++) {
        s[i] = exp(s[i] - mx);
        sum += s[i];
    }
    for (size_t i = 0; i < n; i++) s[i] /= sum;
}

/* ---- position ---- */

/* NEOX pairs (i, i + hd/2); the angle in double: at position 4096 a float
 * angle is already off by ~2e-4 rad (SPEC 2.1) */
void tc_ref_rope_neox(float *v, size_t head_dim, uint32_t pos, double base)
{
    const size_t half = head_dim / 2;
    for (size_t i = 0; i < half; i++) {
        double theta = (double)pos * pow(base, -2.0 * (double)i / (double)head_dim);
        double c = cos(theta), s = sin(theta);
        double a = v[i], b = v[i + half];
        v[i] = (float)(a * c - b * s);
        v[i + half] = (float)(a * s + b * c);
    }
}

/* ---- attention ---- */

/* out = sum_j softmax_j(q.k_j / sqrt(hd)) v_j over the n_keys cached keys */
void tc_ref_attention_head(const float *q, const float *k, const float *v, size_t stride,
                           size_t n_keys, size_t hd, double *scores, float *out)
{
    const double scale = 1.0 / sqrt((double)hd);
    for (size_t j = 0; j < n_keys; j++) scores[j] = tc_ref_dot(q, k + j * stride, hd) * scale;
    tc_ref_softmax(scores, n_keys);
    for (size_t i = 0; i < hd; i++) {
        double acc = 0.0;
        for (size_t j = 0; j < n_keys; j++) acc += scores[j] * v[j * stride + i];
        out[i] = (float)acc;
    }
}

/* ---- FFN activations ---- */

/* relu(x)^2, the square rounded to float */
float tc_ref_relu2(float x)
{
    float r = x > 0.0f ? x : 0.0f;
    return r * r;
}

/* x / (1 + exp(-x)) in double */
float tc_ref_silu(float x)
{
    return (float)((double)x / (1.0 + exp(-(double)x)));
}

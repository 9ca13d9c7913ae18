/* kernels.h -- the reference engine's math, one small function per formula
 * of SPEC 2.  Plain C11, float reductions accumulated in double, integer
 * dot products exact.  No kernel allocates: callers pass workspaces.
 * Exposed (not static) so that tests/check_ref.c can test each one on
 * known answers. */
#ifndef TC_REF_KERNELS_H
#define TC_REF_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* y = x / sqrt(mean(x^2) + eps) (.) w      x, w, y: [n]; y may alias x */
void tc_ref_rmsnorm(const float *x, const float *w, size_t n, float eps, float *y);

/* The int8 activation quantizer of SPEC 2.2 is engine/q8.h's
 * tc_q8_quantize, shared with every engine and the comparator. */

/* llama.cpp's Q8_K activation quantization (doc/q8k.md), per block of
 * 256 elements b:
 *   amax = max|x_i|;  max = the first x_i with |x_i| = amax
 *   amax == 0:  d_b = 0, q_i = 0
 *   else:       iscale = (float)(-127 / max)        (a float division)
 *               q_i = min(127, round_half_even((float)(iscale * x_i)))
 *               d_b = (float)(1 / iscale)           (negative when max > 0)
 * so that x_i ~ q_i * d_b.  x: [n], n % 256 == 0 -> q: [n], d: [n/256]. */
void tc_ref_quantize_q8k(const float *x, size_t n, int8_t *q, float *d);

/* One TQ1_0 or TQ2_0 row of K elements (K % 256 == 0, K/256 blocks)
 * against Q8_K activations q: [K], d: [K/256] (doc/q8k.md):
 *   sum_b (double)sumi_b * (float)(d_b * w_d_b),   sumi_b = sum_i t_i q_i exact,
 * accumulated in double.  tq1: TQ1_0, else TQ2_0. */
double tc_ref_tq_dot_q8k(const uint8_t *row, int tq1, const int8_t *q, const float *d, size_t K);

/* Exact integer sum  sum_i w_code(i) * q_i  of one I2_S row of K elements
 * (K % 128 == 0) read straight from its packed bytes [K/4]. */
int64_t tc_ref_i2s_dot_q8(const uint8_t *row, const int8_t *q, size_t K);

/* Decode one I2_S row of K elements into floats code * m: [K]. */
void tc_ref_i2s_row_f32(const uint8_t *row, size_t K, float m, float *out);

/* x_i rounded to F16 and back (what llama.cpp feeds an F16 matmul). */
void tc_ref_round_f16(const float *x, size_t n, float *out);

/* sum_i a_i * b_i accumulated in double.   a, b: [n] */
double tc_ref_dot(const float *a, const float *b, size_t n);

/* NEOX rotary embedding of one head v: [head_dim] at position pos:
 *   theta_i = pos * base^(-2i/head_dim)  (double), i < head_dim/2
 *   (v_i, v_{i+h/2}) <- (v_i cos - v_{i+h/2} sin, v_i sin + v_{i+h/2} cos) */
void tc_ref_rope_neox(float *v, size_t head_dim, uint32_t pos, double base);

/* s <- softmax(s) in place, in double (max subtracted first). s: [n] */
void tc_ref_softmax(double *s, size_t n);

/* The KV head that query head h reads (GQA): h / (n_head / n_head_kv). */
static inline uint32_t tc_ref_kv_head(uint32_t h, uint32_t n_head, uint32_t n_head_kv)
{
    return h / (n_head / n_head_kv);
}

/* One head of causal attention for one query q: [hd]:
 *   out = sum_j softmax_j(q . k_j / sqrt(hd)) v_j,   j < n_keys
 * key j at k + j*stride, value j at v + j*stride; scores: [n_keys] workspace. */
void tc_ref_attention_head(const float *q, const float *k, const float *v, size_t stride,
                           size_t n_keys, size_t hd, double *scores, float *out);

/* FFN activations: relu(x)^2 and x * sigmoid(x). */
float tc_ref_relu2(float x);
float tc_ref_silu(float x);

#endif

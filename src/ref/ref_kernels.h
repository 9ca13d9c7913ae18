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

/* Exact integer sum  sum_i w_code(i) * q_i  of one I2_S row of K elements
 * (K % 128 == 0) read straight from its packed bytes [K/4]. */
int64_t tc_ref_i2s_dot_q8(const uint8_t *row, const int8_t *q, size_t K);

/* Decode one I2_S row of K elements into floats code * m: [K]. */
void tc_ref_i2s_row_f32(const uint8_t *row, size_t K, float m, float *out);

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

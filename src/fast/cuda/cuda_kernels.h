/* kernels.h -- the CUDA engine's kernels behind a plain-C host API.
 *
 * Every function here takes device pointers (from tc_cuda_alloc), launches
 * on the given stream (NULL: the legacy default stream), checks the launch,
 * and returns a tc_status:
 *   TC_OK             launched (the work may still be running: errors that
 *                     happen on the device surface at the next tc_cuda_sync
 *                     or tc_cuda_download)
 *   TC_E_USAGE        a bad argument (NULL pointer, K % 128 != 0, a
 *                     pointer not 16-byte aligned where one must be, ...)
 *   TC_E_UNSUPPORTED  a shape the kernel cannot take on this device (an
 *                     attention context longer than shared memory holds)
 *   TC_E_DEVICE       a CUDA call failed; err->msg names the call and
 *                     carries cudaGetErrorName / cudaGetErrorString
 * Nothing here exits, allocates behind the caller's back (only
 * tc_cuda_alloc and tc_cuda_rope_table_upload's host scratch allocate), or
 * keeps global state.
 *
 * Numerics (SPEC 2.2): the I2_S kernels read the packed bytes exactly as
 * stored in the GGUF -- no repacking, code 3 read as 0 in registers -- and
 * accumulate exactly in int32 with dp4a; y = (float)sum / s * m with
 * IEEE-rounded division and product, so y is bit-identical to the CPU
 * engines' for the same s.  The quantizer is bit-identical to
 * tc_q8_quantize for the same float input.  RoPE (double table),
 * ReLU^2 * up and residual adds are bit-identical to the reference.
 * RMSNorm, attention, SiLU and the F16 head are float reductions: equal to
 * the reference within rounding, and deterministic (fixed reduction trees,
 * no atomics) run after run.
 *
 * Layouts: activations are row-major [n_tok][width]; an I2_S tensor is
 * {K, rows}, row r at w + r*K/4 (SPEC 1.2); the scale m is passed as a host
 * float (read from byte rows*K/4 at load time).
 */
#ifndef TC_FAST_CUDA_KERNELS_H
#define TC_FAST_CUDA_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A cudaStream_t, opaque to C callers; NULL is the default stream. */
typedef void *tc_cuda_stream;

/* ---- device buffers ---- */

/* *p = a new device buffer of bytes (256-byte aligned).  bytes == 0 gives
 * *p = NULL and TC_OK.  Returns TC_OK, TC_E_USAGE (p NULL), TC_E_DEVICE. */
tc_status tc_cuda_alloc(void **p, size_t bytes, tc_err *err);

/* Free a device buffer; NULL is a no-op. */
void tc_cuda_free(void *p);

/* Host -> device, device -> host, device -> device copies, synchronous
 * with respect to the host (download waits for the work before it).
 * Returns TC_OK, TC_E_USAGE (NULL with bytes > 0), TC_E_DEVICE. */
tc_status tc_cuda_upload(void *dst, const void *src, size_t bytes, tc_err *err);
tc_status tc_cuda_download(void *dst, const void *src, size_t bytes, tc_err *err);
tc_status tc_cuda_copy(void *dst, const void *src, size_t bytes, tc_cuda_stream st, tc_err *err);

/* Set bytes of device memory to the byte value (poisoning, clearing).
 * Returns TC_OK, TC_E_USAGE, TC_E_DEVICE. */
tc_status tc_cuda_memset(void *p, int value, size_t bytes, tc_cuda_stream st, tc_err *err);

/* Wait for all work on the device; reports any error a kernel raised.
 * Returns TC_OK or TC_E_DEVICE. */
tc_status tc_cuda_sync(tc_err *err);

/* ---- I2_S x int8 (bitlinear, SPEC 2.2) ---- */

/* For tokens t < n_tok and rows r < rows of the I2_S codes w:
 *   sum(t, r)       = sum_i code(r, i) * q[t*K + i]      exact, int32
 *   y[t*ld + r]     = (float)sum / s[t] * m              (y may be NULL)
 *   isum[t*ld + r]  = sum                                (isum may be NULL)
 * K % 128 == 0; w, q 16-byte aligned; s: [n_tok] per-token scales on the
 * device (as tc_cuda_rmsnorm_q8 writes them); ld >= rows.  gemv is gemm
 * with n_tok == 1 through a kernel without the token tile.
 * Returns TC_OK, TC_E_USAGE, TC_E_DEVICE. */
tc_status tc_cuda_i2s_gemv(const uint8_t *w, size_t rows, size_t K, const int8_t *q, const float *s, float m,
                           float *y, int32_t *isum, tc_cuda_stream st, tc_err *err);
tc_status tc_cuda_i2s_gemm(const uint8_t *w, size_t rows, size_t K, const int8_t *q, size_t n_tok,
                           const float *s, float m, float *y, int32_t *isum, size_t ld, tc_cuda_stream st,
                           tc_err *err);

/* ---- normalization and activation quantization ---- */

/* Fused RMSNorm + int8 quantization of n_tok rows x[t*n ..] (SPEC 2.1, 2.2):
 *   h_i = (float)(x_i * (1/sqrt(mean(x^2) + eps))) * w_i  (sum of squares in double)
 *   s_t = (float)(127.0 / max(1e-5, max_i |h_i|))
 *   q_i = clamp(rint(h_i * s_t), -128, 127)               (h_i * s_t rounded to float first)
 * q: [n_tok][n], s: [n_tok]; h: [n_tok][n] or NULL (the float tap).
 * The codes and s are what tc_q8_quantize gives for the same h.
 * Returns TC_OK, TC_E_USAGE, TC_E_DEVICE. */
tc_status tc_cuda_rmsnorm_q8(const float *x, const float *w, size_t n, size_t n_tok, float eps, int8_t *q,
                             float *s, float *h, tc_cuda_stream st, tc_err *err);

/* Quantization alone (no norm): rows x[t*n ..] -> q, s as above. */
tc_status tc_cuda_quantize_q8(const float *x, size_t n, size_t n_tok, int8_t *q, float *s, tc_cuda_stream st,
                              tc_err *err);

/* Plain RMSNorm y = h (output_norm), same arithmetic as h above; y may
 * alias x.  Returns TC_OK, TC_E_USAGE, TC_E_DEVICE. */
tc_status tc_cuda_rmsnorm(const float *x, const float *w, size_t n, size_t n_tok, float eps, float *y,
                          tc_cuda_stream st, tc_err *err);

/* ---- rotary embedding ---- */

/* Fill a host-computed table for positions [0, n_pos) and upload it:
 *   table[(p*half + i)*2 + 0] = cos(theta), [.. + 1] = sin(theta),
 *   theta = p * base^(-2i/head_dim) in double, i < half = head_dim/2.
 * d_table: n_pos * head_dim doubles on the device.  head_dim even.
 * Returns TC_OK, TC_E_USAGE, TC_E_NOMEM, TC_E_DEVICE. */
tc_status tc_cuda_rope_table_upload(double *d_table, uint32_t n_pos, size_t head_dim, double base, tc_err *err);

/* NEOX RoPE of n_tok rows of n_heads heads, token t at position pos0 + t:
 *   (v_i, v_{i+h/2}) <- (v_i cos - v_{i+h/2} sin, v_i sin + v_{i+h/2} cos)
 * computed in double from the table and rounded once, as tc_ref_rope_neox.
 * x, y: [n_tok][n_heads*head_dim]; y may alias x (or point into a KV
 * cache row).  pos0 + n_tok <= the table's n_pos (the caller's promise).
 * Returns TC_OK, TC_E_USAGE, TC_E_DEVICE. */
tc_status tc_cuda_rope(const float *x, float *y, size_t n_tok, size_t n_heads, size_t head_dim, uint32_t pos0,
                       const double *table, tc_cuda_stream st, tc_err *err);

/* The same with the position read on the device from *d_pos0 (so that a
 * captured CUDA Graph replays at any position).  Same codes. */
tc_status tc_cuda_rope_dev(const float *x, float *y, size_t n_tok, size_t n_heads, size_t head_dim,
                           const uint32_t *d_pos0, const double *table, tc_cuda_stream st, tc_err *err);

/* ---- attention ---- */

/* Causal GQA attention for n_tok queries at positions pos0 .. pos0+n_tok-1
 * (prefill: n_tok > 1; decode: n_tok == 1) against a KV cache that already
 * holds positions [0, pos0 + n_tok):
 *   out[t][h] = sum_{j <= pos0+t} softmax_j(q[t][h] . k[j][g] / sqrt(hd)) v[j][g],
 *   g = h / (n_head / n_head_kv)
 * q, out: [n_tok][n_head*hd]; kcache, vcache: [n_ctx][n_head_kv*hd].
 * Scores and softmax in double, in shared memory (8 bytes per key):
 * TC_E_UNSUPPORTED when pos0 + n_tok keys do not fit.
 * Returns TC_OK, TC_E_USAGE, TC_E_UNSUPPORTED, TC_E_DEVICE. */
tc_status tc_cuda_attention(const float *q, const float *kcache, const float *vcache, float *out, size_t n_tok,
                            uint32_t pos0, size_t n_head, size_t n_head_kv, size_t hd, tc_cuda_stream st,
                            tc_err *err);

/* The same with pos0 read on the device from *d_pos0; keys_cap bounds
 * pos0 + n_tok (the caller's promise) and sizes shared memory, so one
 * launch configuration serves every position up to it.  Same codes. */
tc_status tc_cuda_attention_dev(const float *q, const float *kcache, const float *vcache, float *out, size_t n_tok,
                                const uint32_t *d_pos0, size_t keys_cap, size_t n_head, size_t n_head_kv, size_t hd,
                                tc_cuda_stream st, tc_err *err);

/* ---- element-wise ---- */

typedef enum tc_cuda_act {
    TC_CUDA_ACT_RELU2 = 0, /* relu(g)^2, the square rounded to float */
    TC_CUDA_ACT_SILU = 1   /* g / (1 + exp(-g)) in double, rounded to float */
} tc_cuda_act;

/* y_i = act(gate_i) * up_i for i < n (the FFN product); y may alias either.
 * Returns TC_OK, TC_E_USAGE, TC_E_DEVICE. */
tc_status tc_cuda_act_mul(const float *gate, const float *up, size_t n, tc_cuda_act act, float *y,
                          tc_cuda_stream st, tc_err *err);

/* ReLU^2 . up: tc_cuda_act_mul with TC_CUDA_ACT_RELU2. */
tc_status tc_cuda_relu2_mul(const float *gate, const float *up, size_t n, float *y, tc_cuda_stream st,
                            tc_err *err);

/* y_i = a_i + b_i for i < n (residual); y may alias either.
 * Returns TC_OK, TC_E_USAGE, TC_E_DEVICE. */
tc_status tc_cuda_add(const float *a, const float *b, size_t n, float *y, tc_cuda_stream st, tc_err *err);

/* ---- the engine's glue ---- */

/* x[t*d + i] = (float)table[tok[t]*d + i] for t < n_tok (F16 embedding
 * rows, exact); d_tokens on the device, each < the table's rows (the
 * caller's promise).  Returns TC_OK, TC_E_USAGE, TC_E_DEVICE. */
tc_status tc_cuda_embed_f16(const uint16_t *table, size_t d, const int32_t *d_tokens, size_t n_tok, float *x,
                            tc_cuda_stream st, tc_err *err);

/* kcache[(pos0 + t)*d_kv + i] = k[t*d_kv + i], vcache likewise, for
 * t < n_tok, pos0 = *d_pos0 on the device.  Returns TC_OK, TC_E_USAGE,
 * TC_E_DEVICE. */
tc_status tc_cuda_kv_store(const float *k, const float *v, float *kcache, float *vcache, size_t n_tok, size_t d_kv,
                           const uint32_t *d_pos0, tc_cuda_stream st, tc_err *err);

/* y_i = y_i * c (one IEEE product) for i < n: the optional per-projection
 * output multipliers.  Returns TC_OK, TC_E_USAGE, TC_E_DEVICE. */
tc_status tc_cuda_scale(float *y, size_t n, float c, tc_cuda_stream st, tc_err *err);

/* ---- F16 weights (the tied LM head) ---- */

/* y[t*ld + r] = sum_i f16(w[r*K + i]) * x[t*K + i] for r < rows, t < n_tok,
 * accumulated in double (each f16 x float product is exact in double),
 * rounded once.  K % 8 == 0; w, x 16-byte aligned; ld >= rows.
 * Returns TC_OK, TC_E_USAGE, TC_E_DEVICE. */
tc_status tc_cuda_f16_gemv(const uint16_t *w, size_t rows, size_t K, const float *x, float *y,
                           tc_cuda_stream st, tc_err *err);
tc_status tc_cuda_f16_gemm(const uint16_t *w, size_t rows, size_t K, const float *x, size_t n_tok, float *y,
                           size_t ld, tc_cuda_stream st, tc_err *err);

#ifdef __cplusplus
}
#endif

#endif

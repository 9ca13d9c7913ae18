/* ktable.h -- the kernel table (SPEC 7): one signature per kernel of the
 * fast engine's forward pass, one table per instruction set (scalar, AVX2,
 * AVX-512 VNNI, NEON, NEON DotProd, NEON I8MM: src/fast/cpu/dispatch.h) or per plug-in (engine/plugin.h,
 * the public ABI of include/tritcheck/kernels.h has the same signatures).
 * The fast engine runs any table; the kernel suite checks any table.
 *
 * No kernel allocates; every kernel works on a caller-given row or item
 * range so that the engine can split the work statically across threads.
 *
 * Determinism: each output element is computed by one call in an order
 * that depends only on its own index, never on the range it was given, so
 * the results are bit-identical whatever the partition (thread count).
 *
 * I2_S convention: unless the table names a layout (below), the kernels
 * read the packed bytes of SPEC 1.2 as they are in the file and assume codes in {0, 1, 2} (code 3
 * sanitized away at open, see src/fast/cpu/fast_engine.c).  They compute
 *     sum_i (c_i - 1) q_i  =  sum_i c_i q_i  -  sum_i q_i
 * where c_i q_i is an unsigned x signed byte product (pmaddubsw, vpdpbusd)
 * and sum_i q_i ("qsum") is computed once per token by the caller.
 */
#ifndef TC_ENGINE_KTABLE_H
#define TC_ENGINE_KTABLE_H

#include <stddef.h>
#include <stdint.h>

/* One variant of every ISA-specific kernel, with the counter name of each
 * ("fast.cpu.avx2.i2s_gemm").  A variant may borrow another's kernel (the
 * AVX-512 table uses the AVX2 float kernels); the name says which ran. */
typedef struct tc_fast_kernels {
    const char *isa;   /* "scalar", "avx2", "avx512", "amx", "neon", "neon_dotprod", "neon_i8mm" */

    /* The weight layout the I2_S kernels read.  NULL: the I2_S bytes as
     * stored (the convention above).  Otherwise its name (recorded in the
     * receipt), the bytes it takes for a {K, rows} tensor, and the rewrite
     * the engine runs once per tensor when it opens (in: rows x K/4 bytes
     * of sanitized I2_S codes; out: layout_bytes(K, rows) bytes, 64-byte
     * aligned).  The sums are integers: any layout gives the same bits. */
    const char *layout;
    size_t (*layout_bytes)(size_t K, size_t rows);
    void (*repack)(const uint8_t *in, size_t K, size_t rows, uint8_t *out);

    /* Integer sums out[t*ld + r] = sum_i (c(r,i) - 1) q[t*K + i] for rows
     * r in [r0, r1) of I2_S packed codes w (row r at w + r*K/4) and tokens
     * t < n.  K % 128 == 0; qsum[t] = sum_i q[t*K + i].  gemv: n == 1. */
    void (*i2s_gemv)(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q,
                     const int32_t *qsum, int32_t *out);
    void (*i2s_gemm)(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q,
                     const int32_t *qsum, size_t n, int32_t *out, size_t ld);
    const char *i2s_gemv_name, *i2s_gemm_name;

    /* Fused RMSNorm + int8 quantization of one row x[n] (SPEC 2.1, 2.2):
     *   h_i = (float)(x_i * (1/sqrt(mean(x^2) + eps))) * w_i   (sum of squares in double)
     *   s   = (float)(127 / max(1e-5, max|h_i|)),  q_i = clamp(rint(h_i * s), -128, 127)
     * bit-identical to the reference's rmsnorm then quantize.  Returns s;
     * *qsum = sum q_i.  h is never stored. */
    float (*rmsnorm_q8)(const float *x, const float *w, size_t n, float eps, int8_t *q, int32_t *qsum);
    /* Plain RMSNorm y = h (output_norm), same arithmetic; y may alias x. */
    void (*rmsnorm)(const float *x, const float *w, size_t n, float eps, float *y);
    const char *rmsnorm_q8_name, *rmsnorm_name;

    /* Float matrix x F16 weights: y[t*ld + r] = sum_i f16(w[r*K + i]) x[t*K + i]
     * for r in [r0, r1), t < n (the tied LM head).  gemv: n == 1. */
    void (*f16_gemm)(const uint16_t *w, size_t K, size_t r0, size_t r1, const float *x, size_t n,
                     float *y, size_t ld);
    const char *f16_gemv_name, *f16_gemm_name;

    /* One head of causal attention for one query q[hd] over n_keys keys
     * k[j*hd ..] and values v[j*hd ..] (contiguous per head):
     *   out = sum_j softmax_j(q.k_j / sqrt(hd)) v_j;  scores: [n_keys] workspace. */
    void (*attention_head)(const float *q, const float *k, const float *v, size_t n_keys, size_t hd,
                           float *scores, float *out);
    const char *attention_name;

    /* Element-wise steps (not in the plug-in ABI: a plug-in's table gets
     * the best built-in ones).  Each is the reference's arithmetic, lane
     * by lane, so every variant gives the same bits.
     *   i2s_scale: y[i] = (float)acc[i] / s * m, then * *mul when mul is
     *              not NULL (the bitlinear epilogue, counted with the GEMV)
     *   relu2_mul: out[i] = (max(gate[i], 0))^2 * up[i], the square rounded
     *   add:       x[i] += y[i]                                            */
    void (*i2s_scale)(const int32_t *acc, size_t n, float s, float m, const float *mul, float *y);
    void (*relu2_mul)(const float *gate, const float *up, size_t n, float *out);
    void (*add)(float *x, const float *y, size_t n);
    const char *relu2_mul_name, *add_name;
} tc_fast_kernels;

#endif

/* tritcheck/kernels.h -- the kernel plug-in ABI of tritcheck, version 1.
 *
 * A porter who brings BitNet b1.58 to new hardware implements the six
 * kernels below in a shared object of their own, exports one function,
 *
 *     const struct tc_kernels_abi *tritcheck_kernels(void);
 *
 * and then
 *
 *     tritcheck kernels --engine ./libmykernels.so        checks every kernel
 *         against tritcheck's reference kernels (exact integer results,
 *         float results within a scaled error of 1e-6, guard bytes around
 *         every output), and with --perf times them;
 *     tritcheck compare MODEL --cand plugin:./libmykernels.so
 *         runs a whole model through tritcheck's fast CPU engine with these
 *         kernels in its forward pass and compares every tap with the
 *         reference engine.
 *
 * This header is the whole contract: it depends on nothing of tritcheck
 * (the plug-in never links libtritcheck) and on nothing but <stddef.h> and
 * <stdint.h>.  See tritcheck-kernels(3) for a complete minimal plug-in.
 *
 * Rules every kernel follows:
 *   - It never allocates, never keeps a pointer after it returns, and writes
 *     nothing but the output elements named in its description (the checker
 *     surrounds every output with guard bytes and fails a kernel that
 *     touches them, or an element of `out` outside its row range).
 *   - It may be called from several threads at once on disjoint row ranges
 *     of the same output; each call must compute each of its elements in an
 *     order that depends on that element's index only, never on [r0, r1),
 *     so that the engine's results do not depend on its thread count.
 *   - Pointers carry no alignment promise beyond their element type.
 *   - Floating point: the engine and the reference are built without FMA
 *     contraction where the formula says "rounded to float"; a kernel that
 *     must match bit for bit (rmsnorm_q8) must do the same.
 *
 * I2_S packed codes (the weight format of bitnet.cpp's ggml-model-i2_s.gguf):
 * a row of K elements (K % 128 == 0) is K/4 bytes; each block of 128
 * elements is 32 bytes, and byte j (0..31) of a block holds element j in
 * bits 7:6, element 32+j in bits 5:4, element 64+j in bits 3:2 and element
 * 96+j in bits 1:0.  Code c in {0, 1, 2} means the weight c - 1 in
 * {-1, 0, +1}.  Code 3 never reaches a kernel: the engine rewrites it to 1
 * when it loads a tensor that holds it (it reads as 0).  Row r of a matrix
 * starts at byte r*K/4.  The per-tensor scale is applied by the engine, not
 * by the kernels.
 */
#ifndef TRITCHECK_KERNELS_H
#define TRITCHECK_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI this header describes.  A loader refuses a table whose
 * abi_version differs. */
#define TC_KERNELS_ABI_VERSION 1

/* The symbol a plug-in exports (a function, so that the table may be built
 * at run time, e.g. after probing the device). */
#define TC_KERNELS_SYMBOL "tritcheck_kernels"

struct tc_kernels_abi {
    /* TC_KERNELS_ABI_VERSION the plug-in was compiled against. */
    uint32_t abi_version;
    /* sizeof(struct tc_kernels_abi) as the plug-in was compiled: later
     * versions only append members, and a loader refuses a table smaller
     * than the one it knows. */
    uint32_t struct_size;
    /* A short name: letters, digits, '_' and '-' ("example", "myaccel").
     * The engine counts the kernels as "plugin.<name>.i2s_gemv" etc. */
    const char *name;

    /* I2_S x int8, several tokens.  For rows r in [r0, r1) and tokens
     * t < n:
     *     out[t*ld + r] = sum_{i<K} (c(r, i) - 1) * q[t*K + i]
     * where c(r, i) is the 2-bit code of element i of row r of w (see the
     * layout above) and q holds int8 activation codes, one row of K per
     * token.  The sum is exact (it fits int32 for K < 2^22).
     * qsum[t] = sum_{i<K} q[t*K + i] is given (computed once per token by
     * the caller), so that sum c*q - qsum may be used: an unsigned x signed
     * byte product suits many instruction sets.  K % 128 == 0; ld >= r1;
     * out elements of other rows, and between rows and ld, are not
     * touched. */
    void (*i2s_gemm)(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q,
                     const int32_t *qsum, size_t n, int32_t *out, size_t ld);

    /* The same for one token (n == 1): out[r] for r in [r0, r1). */
    void (*i2s_gemv)(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q,
                     const int32_t *qsum, int32_t *out);

    /* RMSNorm fused with int8 quantization of one row x[n] with the norm
     * weight w[n] (n >= 1; n is a multiple of 128 in the models, but any n
     * is allowed).  Bit for bit:
     *     ss    = sum_i (double)x_i * (double)x_i       (in double, any order)
     *     scale = 1.0 / sqrt(ss / n + (double)eps)       (double)
     *     h_i   = (float)((double)x_i * scale) * w_i     (the product of two floats, rounded)
     *     amax  = max(1e-5, max_i |h_i|)
     *     s     = (float)(127.0 / amax)                  (a float)
     *     q_i   = clamp(round_half_even(h_i * s), -128, 127)
     *             where h_i * s is a float product rounded before rounding
     *             to an integer (no FMA).
     * Writes q[0..n), stores *qsum = sum_i q_i and returns s.  h is never
     * stored.  The codes and s must equal the reference's exactly. */
    float (*rmsnorm_q8)(const float *x, const float *w, size_t n, float eps, int8_t *q, int32_t *qsum);

    /* Plain RMSNorm (the output norm before the LM head), same arithmetic:
     * y_i = h_i above, for i < n.  y may alias x (the same pointer). */
    void (*rmsnorm)(const float *x, const float *w, size_t n, float eps, float *y);

    /* Float activations x IEEE half weights (the tied LM head), several
     * tokens: for rows r in [r0, r1) and tokens t < n,
     *     y[t*ld + r] = sum_{i<K} half_to_float(w[r*K + i]) * x[t*K + i]
     * in any fixed order (float accumulation is fine: the checker allows a
     * rounding error of 1e-6 x sum_i |w x|).  Any K >= 1; ld >= r1; other
     * elements of y are not touched.  gemv is the case n == 1. */
    void (*f16_gemm)(const uint16_t *w, size_t K, size_t r0, size_t r1, const float *x, size_t n,
                     float *y, size_t ld);

    /* One head of attention for one query q[hd] over n_keys >= 1 keys
     * k[j*hd .. j*hd + hd) and values v[j*hd ..] (contiguous, j < n_keys;
     * the causal mask is the caller's: it passes only visible keys):
     *     a_j   = (q . k_j) / sqrt(hd)
     *     p_j   = exp(a_j - max_j a_j) / sum_j exp(a_j - max_j a_j)
     *     out_i = sum_j p_j v_j[i]                    for i < hd
     * scores[n_keys] is the kernel's workspace (any contents on return).
     * The checker allows a scaled error of 1e-6 against the same formula
     * in double, with the scale max_j |v_j| (any hd >= 1). */
    void (*attention_head)(const float *q, const float *k, const float *v, size_t n_keys, size_t hd,
                           float *scores, float *out);
};

/* What a plug-in exports: the table (static storage, valid until the
 * object is unloaded), or NULL when the plug-in cannot run here (the
 * loader then reports that it declined). */
typedef const struct tc_kernels_abi *(*tc_kernels_entry_fn)(void);
const struct tc_kernels_abi *tritcheck_kernels(void);

#ifdef __cplusplus
}
#endif

#endif

/* simd.h -- kernels the SIMD tables share across files (internal to
 * src/fast/cpu/): the AVX-512 table borrows the AVX2 float kernels, whose
 * counter names then say "avx2".  Call only where AVX2/FMA/F16C exist. */
#ifndef TC_FAST_CPU_SIMD_H
#define TC_FAST_CPU_SIMD_H

#include <stddef.h>
#include <stdint.h>

float tc_fast_avx2_rmsnorm_q8(const float *x, const float *w, size_t n, float eps, int8_t *q, int32_t *qsum);
void tc_fast_avx2_rmsnorm(const float *x, const float *w, size_t n, float eps, float *y);
void tc_fast_avx2_f16_gemm(const uint16_t *w, size_t K, size_t r0, size_t r1, const float *x, size_t n,
                           float *y, size_t ld);
void tc_fast_avx2_attention_head(const float *q, const float *k, const float *v, size_t n_keys, size_t hd,
                                 float *scores, float *out);

void tc_fast_avx2_i2s_scale(const int32_t *acc, size_t n, float s, float m, const float *mul, float *y);
void tc_fast_avx2_relu2_mul(const float *gate, const float *up, size_t n, float *out);
void tc_fast_avx2_add(float *x, const float *y, size_t n);

#endif

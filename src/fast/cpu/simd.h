/* simd.h -- what the SIMD tables share across files (internal to
 * src/fast/cpu/): the AVX-512 table borrows the AVX2 float kernels, whose
 * counter names then say "avx2", and both I2_S variants unpack codes and
 * sum lanes with the helpers below.  Call only where AVX2/FMA/F16C
 * exist. */
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

/* The AVX-512 VNNI I2_S kernels on the i2s-x16 layout (x16.h), which the
 * AMX table uses for what its tiles do not cover.  Call only where
 * tc_fast_isa_supported("avx512"). */
void tc_fast_avx512_x16_gemv(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q, const int32_t *qsum,
                             int32_t *out);
void tc_fast_avx512_x16_gemm(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q, const int32_t *qsum,
                             size_t n, int32_t *out, size_t ld);
/* tc_x16_repack (x16.h), sixteen rows at a time */
void tc_fast_avx512_x16_repack(const uint8_t *in, size_t K, size_t rows, uint8_t *out);
/* n tokens against groups [gb, ge) (the blocking loop's REST, x16.h) */
void tc_fast_avx512_x16_rest(const uint8_t *w, size_t K, size_t gb, size_t ge, size_t r0, size_t r1,
                             const int8_t *q, const int32_t *qsum, size_t n, int32_t *out, size_t ld);

/* The float and element-wise rows of a kernel table: the AVX2 kernels
 * and their counter names, in the AVX2 table and (borrowed) in the
 * AVX-512 one, so that the two cannot drift apart. */
#define TC_SIMD_AVX2_FLOAT_KERNELS                                                                      \
    .rmsnorm_q8 = tc_fast_avx2_rmsnorm_q8, .rmsnorm = tc_fast_avx2_rmsnorm,                            \
    .rmsnorm_q8_name = "fast.cpu.avx2.rmsnorm_q8", .rmsnorm_name = "fast.cpu.avx2.rmsnorm",            \
    .f16_gemm = tc_fast_avx2_f16_gemm,                                                                 \
    .f16_gemv_name = "fast.cpu.avx2.f16_gemv", .f16_gemm_name = "fast.cpu.avx2.f16_gemm",              \
    .attention_head = tc_fast_avx2_attention_head, .attention_name = "fast.cpu.avx2.attention",        \
    .i2s_scale = tc_fast_avx2_i2s_scale, .relu2_mul = tc_fast_avx2_relu2_mul, .add = tc_fast_avx2_add, \
    .relu2_mul_name = "fast.cpu.avx2.relu2_mul", .add_name = "fast.cpu.avx2.add"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

/* The sum of the eight int32 lanes of v (exact: the kernels' sums fit). */
static inline __attribute__((target("avx2"))) int32_t tc_simd_hsum_i32(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* One 32-byte I2_S block w (SPEC 1.2) as four registers of codes 0..2,
 * one byte each: c0 holds elements 0..31 (bits 7:6 of each byte), c1
 * 32..63, c2 64..95, c3 96..127, each facing 32 contiguous activations.
 * A macro so that the codes stay in registers in every caller. */
#define TC_SIMD_I2S_UNPACK(w, c0, c1, c2, c3)                                        \
    do {                                                                             \
        const __m256i m3_ = _mm256_set1_epi8(3);                                     \
        c0 = _mm256_and_si256(_mm256_srli_epi16(w, 6), m3_);                         \
        c1 = _mm256_and_si256(_mm256_srli_epi16(w, 4), m3_);                         \
        c2 = _mm256_and_si256(_mm256_srli_epi16(w, 2), m3_);                         \
        c3 = _mm256_and_si256(w, m3_);                                               \
    } while (0)
#endif

#endif

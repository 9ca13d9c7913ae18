/* avx512.c -- AVX-512 VNNI kernels of the fast CPU engine: the I2_S x int8
 * products with vpdpbusd (unsigned codes x signed activations, four
 * products summed into int32 per lane in one instruction), at 256-bit
 * width (AVX512VL) so that each 32-byte I2_S block unpacks into four
 * registers that face 32 contiguous activations, as in avx2.c.  The float
 * kernels are AVX2's (the table's names say so).  Per-function target
 * attributes keep the rest of the build generic x86-64. */
#include <string.h>

#include "fast/cpu/gemm_blocked.h"
#include "fast/cpu/dispatch.h"
#include "fast/cpu/simd.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define TV __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))

/* acc += sum over one block of c*q for one token (int32 lanes: exact) */
#define BLOCK_DPBUSD(acc, qb, c0, c1, c2, c3)                                            \
    do {                                                                                 \
        acc = _mm256_dpbusd_epi32(acc, c0, _mm256_loadu_si256((const __m256i *)(qb)));    \
        acc = _mm256_dpbusd_epi32(acc, c1, _mm256_loadu_si256((const __m256i *)((qb) + 32))); \
        acc = _mm256_dpbusd_epi32(acc, c2, _mm256_loadu_si256((const __m256i *)((qb) + 64))); \
        acc = _mm256_dpbusd_epi32(acc, c3, _mm256_loadu_si256((const __m256i *)((qb) + 96))); \
    } while (0)

/* Entry: K % 128 == 0; codes in {0,1,2}; rows K/4 bytes apart. */
static TV int32_t i2s_row1(const uint8_t *wr, size_t K, const int8_t *q)
{
    __m256i acc = _mm256_setzero_si256();
    for (size_t b = 0; b < K / 128; b++) {
        _mm_prefetch((const char *)(wr + b * 32 + 2048), _MM_HINT_T0);   /* as in avx2.c */
        __m256i w = _mm256_loadu_si256((const __m256i *)(wr + b * 32)), c0, c1, c2, c3;
        TC_SIMD_I2S_UNPACK(w, c0, c1, c2, c3);
        BLOCK_DPBUSD(acc, q + b * 128, c0, c1, c2, c3);
    }
    return tc_simd_hsum_i32(acc);
}

/* two rows in lockstep, as avx2.c's i2s_row2 (two streams in flight);
 * each row's sums are i2s_row1's.  Not yet run on a VNNI machine. */
static TV void i2s_row2(const uint8_t *wa, const uint8_t *wb, size_t K, const int8_t *q, int32_t out[2])
{
    __m256i accA = _mm256_setzero_si256(), accB = accA;
    for (size_t b = 0; b < K / 128; b++) {
        _mm_prefetch((const char *)(wa + b * 32 + 2048), _MM_HINT_T0);
        _mm_prefetch((const char *)(wb + b * 32 + 2048), _MM_HINT_T0);
        __m256i w = _mm256_loadu_si256((const __m256i *)(wa + b * 32)), c0, c1, c2, c3;
        TC_SIMD_I2S_UNPACK(w, c0, c1, c2, c3);
        BLOCK_DPBUSD(accA, q + b * 128, c0, c1, c2, c3);
        w = _mm256_loadu_si256((const __m256i *)(wb + b * 32));
        TC_SIMD_I2S_UNPACK(w, c0, c1, c2, c3);
        BLOCK_DPBUSD(accB, q + b * 128, c0, c1, c2, c3);
    }
    out[0] = tc_simd_hsum_i32(accA);
    out[1] = tc_simd_hsum_i32(accB);
}

static TV void i2s_row4(const uint8_t *wr, size_t K, const int8_t *q, int32_t out[4])
{
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t b = 0; b < K / 128; b++) {
        __m256i w = _mm256_loadu_si256((const __m256i *)(wr + b * 32)), c0, c1, c2, c3;
        TC_SIMD_I2S_UNPACK(w, c0, c1, c2, c3);
        BLOCK_DPBUSD(a0, q + b * 128, c0, c1, c2, c3);
        BLOCK_DPBUSD(a1, q + K + b * 128, c0, c1, c2, c3);
        BLOCK_DPBUSD(a2, q + 2 * K + b * 128, c0, c1, c2, c3);
        BLOCK_DPBUSD(a3, q + 3 * K + b * 128, c0, c1, c2, c3);
    }
    out[0] = tc_simd_hsum_i32(a0);
    out[1] = tc_simd_hsum_i32(a1);
    out[2] = tc_simd_hsum_i32(a2);
    out[3] = tc_simd_hsum_i32(a3);
}

TC_FAST_I2S_GEMV_GEMM(TV, i2s_gemv_avx512, i2s_gemm_avx512)

const tc_fast_kernels tc_fast_kernels_avx512 = {
    .isa = "avx512",
    .i2s_gemv = i2s_gemv_avx512, .i2s_gemm = i2s_gemm_avx512,
    .i2s_gemv_name = "fast.cpu.avx512vnni.i2s_gemv", .i2s_gemm_name = "fast.cpu.avx512vnni.i2s_gemm",
    TC_SIMD_AVX2_FLOAT_KERNELS,
};

#else

const tc_fast_kernels tc_fast_kernels_avx512 = { .isa = NULL };

#endif

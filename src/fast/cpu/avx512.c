/* avx512.c -- AVX-512 VNNI kernels of the fast CPU engine.  The I2_S
 * products read the i2s-x16 layout (x16.h), which the engine writes once
 * when it opens: one 64-byte load, shifted and masked, is the codes of 16
 * rows for 4 consecutive inputs, and vpdpbusd (unsigned codes x signed
 * activations, four products summed per int32 lane) against 4 bytes of
 * one token broadcast to all lanes adds them into 16 row sums at once:
 * no horizontal sums.  The float kernels are AVX2's (the table's names
 * say so).  Per-function target attributes keep the rest of the build
 * generic x86-64. */
#include <string.h>

#include "fast/cpu/dispatch.h"
#include "fast/cpu/simd.h"
#include "fast/cpu/x16.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define TV __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))

/* 4 bytes of activations, broadcast to the 16 lanes */
static inline TV __m512i bcast4(const int8_t *q)
{
    int32_t v;
    memcpy(&v, q, 4);
    return _mm512_set1_epi32(v);
}

static inline TV __mmask16 group_mask(size_t g, size_t r0, size_t r1)
{
    return (__mmask16)tc_x16_lanes(g, r0, r1);
}

/* One token against S <= 4 groups g0, g0 + step, ... at once: their 16 row
 * sums each (codes 0..2 times q, minus qsum), stored to out for the rows
 * of [r0, r1).  S streams of codes in flight per thread (doc/perf.md v12);
 * inlined for each S so that the sums stay in registers.  Integer sums:
 * the same bits whichever groups go together.  Entry: K % 128 == 0; w in
 * the x16 layout. */
static inline __attribute__((always_inline)) TV void group_dots(const uint8_t *w, size_t K, size_t g0, size_t step,
                                                                int S, const int8_t *q, int32_t qsum, size_t r0,
                                                                size_t r1, int32_t *out)
{
    const __m512i m3 = _mm512_set1_epi8(3);
    __m512i a[4][2];
    const uint8_t *bl[4];
#pragma GCC unroll 4
    for (int k = 0; k < S; k++) {
        a[k][0] = a[k][1] = _mm512_setzero_si512();
        bl[k] = tc_x16_block(w, K, g0 + (size_t)k * step, 0);
    }
    const size_t chunks = K / TC_X16_CHUNK;
    for (size_t c = 0; c < chunks; c++) {
        const int8_t *qc = q + c * TC_X16_CHUNK;
#pragma GCC unroll 4
        for (int k = 0; k < S; k++)
#pragma GCC unroll 4
            for (int i = 0; i < 4; i++) _mm_prefetch((const char *)(bl[k] + 2048 + 64 * i), _MM_HINT_T0);
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) {
            const __m512i q0 = bcast4(qc + 4 * i), q1 = bcast4(qc + 4 * (i + 4));
            const __m512i q2 = bcast4(qc + 4 * (i + 8)), q3 = bcast4(qc + 4 * (i + 12));
#pragma GCC unroll 4
            for (int k = 0; k < S; k++) {
                const __m512i v = _mm512_loadu_si512((const void *)(bl[k] + 64 * i));
                a[k][0] = _mm512_dpbusd_epi32(a[k][0], _mm512_and_si512(v, m3), q0);
                a[k][1] = _mm512_dpbusd_epi32(a[k][1], _mm512_and_si512(_mm512_srli_epi16(v, 2), m3), q1);
                a[k][0] = _mm512_dpbusd_epi32(a[k][0], _mm512_and_si512(_mm512_srli_epi16(v, 4), m3), q2);
                a[k][1] = _mm512_dpbusd_epi32(a[k][1], _mm512_and_si512(_mm512_srli_epi16(v, 6), m3), q3);
            }
        }
#pragma GCC unroll 4
        for (int k = 0; k < S; k++) bl[k] += TC_X16_BLOCK;
    }
#pragma GCC unroll 4
    for (int k = 0; k < S; k++) {
        const size_t g = g0 + (size_t)k * step;
        _mm512_mask_storeu_epi32(out + g * TC_X16_ROWS, group_mask(g, r0, r1),
                                 _mm512_sub_epi32(_mm512_add_epi32(a[k][0], a[k][1]), _mm512_set1_epi32(qsum)));
    }
}

/* Eight tokens (rows of q, K apart) against group g: the 16 tile rows of a
 * chunk unpacked once, each used by the eight tokens. */
static TV void group_dot8(const uint8_t *w, size_t K, size_t g, const int8_t *q, const int32_t *qsum, int32_t *out,
                          size_t ld, __mmask16 mask)
{
    /* fully unrolled (the pragmas), so that the eight sums stay in
     * registers: GCC at -O2 keeps arrays it does not unroll on the stack */
    const __m512i m3 = _mm512_set1_epi8(3);
    __m512i acc[8];
#pragma GCC unroll 8
    for (int t = 0; t < 8; t++) acc[t] = _mm512_setzero_si512();
    const size_t chunks = K / TC_X16_CHUNK;
    const uint8_t *blk = tc_x16_block(w, K, g, 0);
    for (size_t c = 0; c < chunks; c++, blk += TC_X16_BLOCK) {
        const int8_t *qc = q + c * TC_X16_CHUNK;
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) {
            const __m512i v = _mm512_loadu_si512((const void *)(blk + 64 * i));
#pragma GCC unroll 4
            for (int f = 0; f < 4; f++) {   /* tile row kk = 4f + i: inputs 4kk .. 4kk + 3 */
                const __m512i b = _mm512_and_si512(_mm512_srli_epi16(v, 2 * f), m3);
#pragma GCC unroll 8
                for (int t = 0; t < 8; t++) acc[t] = _mm512_dpbusd_epi32(acc[t], b, bcast4(qc + t * K + 4 * (4 * f + i)));
            }
        }
    }
#pragma GCC unroll 8
    for (int t = 0; t < 8; t++)
        _mm512_mask_storeu_epi32(out + t * ld + g * TC_X16_ROWS, mask,
                                 _mm512_sub_epi32(acc[t], _mm512_set1_epi32(qsum[t])));
}

/* The micro-kernels of the blocking loop (x16.h): eight tokens, then the
 * rest eight and one at a time (the AMX table's rest too). */
static TV void micro8(const uint8_t *w, size_t K, size_t gb, size_t ge, size_t r0, size_t r1, const int8_t *q,
                      const int32_t *qsum, int32_t *out, size_t ld)
{
    for (size_t g = gb; g < ge; g++) group_dot8(w, K, g, q, qsum, out, ld, group_mask(g, r0, r1));
}

TV void tc_fast_avx512_x16_rest(const uint8_t *w, size_t K, size_t gb, size_t ge, size_t r0, size_t r1,
                                const int8_t *q, const int32_t *qsum, size_t n, int32_t *out, size_t ld)
{
    size_t t = 0;
    for (; t + 8 <= n; t += 8) micro8(w, K, gb, ge, r0, r1, q + t * K, qsum + t, out + t * ld, ld);
    for (; t < n; t++)
        for (size_t g = gb; g < ge; g++) group_dots(w, K, g, 0, 1, q + t * K, qsum[t], r0, r1, out + t * ld);
}

TC_X16_GEMM(TV, tc_fast_avx512_x16_gemm, 8, micro8, tc_fast_avx512_x16_rest)

/* Decode: one token; the groups in two halves streamed in lockstep (as the
 * AVX2 GEMV's rows r and r + half; four streams measured no better), then
 * the odd one. */
#define NS_GEMV 2
TV void tc_fast_avx512_x16_gemv(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q,
                                const int32_t *qsum, int32_t *out)
{
    const size_t gb = r0 / TC_X16_ROWS, ge = (r1 + TC_X16_ROWS - 1) / TC_X16_ROWS, part = (ge - gb) / NS_GEMV;
    for (size_t g = gb; g < gb + part; g++) group_dots(w, K, g, part, NS_GEMV, q, qsum[0], r0, r1, out);
    for (size_t g = gb + NS_GEMV * part; g < ge; g++) group_dots(w, K, g, 0, 1, q, qsum[0], r0, r1, out);
}

/* ---- the layout rewrite (x16.c's, sixteen rows at a time) ----
 * Row r contributes 16 packed bytes, byte k (k < 16) from bytes k and
 * k + 16 of its I2_S block (fields at shifts s and s - 2), to super-block
 * byte 64 (k / 4) + 4 r + k % 4: dword k / 4 of its bytes is dword r of
 * line k / 4.  Four rows per register (rows 4h .. 4h + 3 in v[h]); each
 * output line gathers one dword of every row (a 16 x 4 dword transpose). */
static inline TV __m512i no_code3(__m512i x)
{
    const __m512i both = _mm512_and_si512(_mm512_and_si512(_mm512_srli_epi16(x, 1), x), _mm512_set1_epi8(0x55));
    return _mm512_andnot_si512(_mm512_slli_epi16(both, 1), x);
}

/* 16 bytes at offset off of each of four rows, rows in lanes 0..3 */
static inline TV __m512i rows4(const uint8_t *const b[4], size_t off)
{
    const __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(b[0] + off)));
    return _mm512_inserti32x4(
        _mm512_inserti32x4(_mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(b[1] + off)), 1),
                           _mm_loadu_si128((const __m128i *)(b[2] + off)), 2),
        _mm_loadu_si128((const __m128i *)(b[3] + off)), 3);
}

TV void tc_fast_avx512_x16_repack(const uint8_t *in, size_t K, size_t rows, uint8_t *out)
{
    static const uint8_t pad[32] = { 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
                                     0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
                                     0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 };
    const size_t groups = (rows + TC_X16_ROWS - 1) / TC_X16_ROWS, chunks = K / TC_X16_CHUNK;
    const __m512i m3 = _mm512_set1_epi8(3);
    /* line i, lanes 0..7: dword i of the eight rows of a register pair */
    __m512i idx[4];
    for (int i = 0; i < 4; i++) {
        int32_t a[16];
        for (int r = 0; r < 16; r++) a[r] = (r % 8) * 4 + i;
        idx[i] = _mm512_loadu_si512((const void *)a);
    }
    for (size_t g = 0; g < groups; g++)
        for (size_t c = 0; c < chunks; c++) {
            const __m128i sh = _mm_cvtsi32_si128(c % 2 ? 2 : 6), sh2 = _mm_cvtsi32_si128(c % 2 ? 0 : 4);
            __m512i v[4];
            for (int h = 0; h < 4; h++) {
                const uint8_t *b[4];
                for (int u = 0; u < 4; u++) {
                    const size_t row = g * TC_X16_ROWS + 4 * (size_t)h + (size_t)u;
                    b[u] = row < rows ? in + row * (K / 4) + c / 2 * 32 : pad;   /* padding: code 1 */
                }
                const __m512i b0 = no_code3(rows4(b, 0)), b1 = no_code3(rows4(b, 16));
                const __m512i f0 = _mm512_and_si512(_mm512_srl_epi16(b0, sh), m3);
                const __m512i f1 = _mm512_and_si512(_mm512_srl_epi16(b1, sh), m3);
                const __m512i f2 = _mm512_and_si512(_mm512_srl_epi16(b0, sh2), m3);
                const __m512i f3 = _mm512_and_si512(_mm512_srl_epi16(b1, sh2), m3);
                v[h] = _mm512_or_si512(_mm512_or_si512(f0, _mm512_slli_epi16(f1, 2)),
                                       _mm512_or_si512(_mm512_slli_epi16(f2, 4), _mm512_slli_epi16(f3, 6)));
            }
            uint8_t *blk = out + (g * chunks + c) * TC_X16_BLOCK;
            for (int i = 0; i < 4; i++) {
                const __m512i a = _mm512_permutex2var_epi32(v[0], idx[i], v[1]);   /* rows 0..7 */
                const __m512i b = _mm512_permutex2var_epi32(v[2], idx[i], v[3]);   /* rows 8..15 */
                _mm512_storeu_si512((void *)(blk + 64 * i), _mm512_inserti64x4(a, _mm512_castsi512_si256(b), 1));
            }
        }
}

const tc_fast_kernels tc_fast_kernels_avx512 = {
    .isa = "avx512",
    .layout = "i2s-x16", .layout_bytes = tc_x16_bytes, .repack = tc_fast_avx512_x16_repack,
    .i2s_gemv = tc_fast_avx512_x16_gemv, .i2s_gemm = tc_fast_avx512_x16_gemm,
    .i2s_gemv_name = "fast.cpu.avx512vnni.i2s_gemv", .i2s_gemm_name = "fast.cpu.avx512vnni.i2s_gemm",
    TC_SIMD_AVX2_FLOAT_KERNELS,
};

#else

const tc_fast_kernels tc_fast_kernels_avx512 = { .isa = NULL };

#endif

/* avx2.c -- AVX2 (+FMA, F16C) kernels of the fast CPU engine.  Compiled
 * with per-function target attributes, so the rest of the build stays
 * generic x86-64; dispatch.c calls them only where the CPU has AVX2.
 * Elsewhere (non-x86) this file provides an empty-handed table that
 * tc_fast_isa_supported never selects. */
#include <math.h>
#include <string.h>

#include "fast/cpu/gemm_blocked.h"
#include "fast/cpu/dispatch.h"
#include "fast/cpu/simd.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define TA __attribute__((target("avx2,fma,f16c")))

/* ---- helpers ---- */

/* a fixed reduction tree: (l0+l4, l1+l5, ...), then pairs */
static inline TA float hsum_f32(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline TA double hsum_f64(__m256d v)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/* ---- I2_S x int8 ----
 * One 32-byte block holds 128 codes; shifting by 6, 4, 2, 0 and masking
 * gives the codes of elements 0..31, 32..63, 64..95, 96..127 in byte
 * order, each against 32 contiguous activations.  pmaddubsw(c, q) sums
 * pairs c*q in int16 (|pair| <= 2*2*128 = 512); four per block and eight
 * blocks stay within |16384| < 32767, so int16 partial sums are exact and
 * one pmaddwd per 8 blocks widens them to int32.  Entry: K % 128 == 0,
 * codes in {0,1,2}. */

/* sum of c*q over one block for one token, in int16 lanes */
#define BLOCK_DOT(qb, c0, c1, c2, c3)                                                          \
    _mm256_add_epi16(                                                                          \
        _mm256_add_epi16(_mm256_maddubs_epi16(c0, _mm256_loadu_si256((const __m256i *)(qb))), \
                         _mm256_maddubs_epi16(c1, _mm256_loadu_si256((const __m256i *)((qb) + 32)))), \
        _mm256_add_epi16(_mm256_maddubs_epi16(c2, _mm256_loadu_si256((const __m256i *)((qb) + 64))), \
                         _mm256_maddubs_epi16(c3, _mm256_loadu_si256((const __m256i *)((qb) + 96)))))

/* one row against one token */
static TA int32_t i2s_row1(const uint8_t *wr, size_t K, const int8_t *q)
{
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc = _mm256_setzero_si256();
    const size_t nb = K / 128;
    for (size_t b0 = 0; b0 < nb; b0 += 8) {
        const size_t b1 = b0 + 8 < nb ? b0 + 8 : nb;
        __m256i a16 = _mm256_setzero_si256();
        for (size_t b = b0; b < b1; b++) {
            /* decode streams the weights once: keep lines in flight,
             * 2 KiB ahead: the hardware prefetcher stops at every 4 KiB
             * page of the file mapping (measured +13-20 % per core; one
             * prefetch per 32-byte block, +5-10 % more, doc/perf.md v7) */
            _mm_prefetch((const char *)(wr + b * 32 + 2048), _MM_HINT_T0);
            __m256i w = _mm256_loadu_si256((const __m256i *)(wr + b * 32)), c0, c1, c2, c3;
            TC_SIMD_I2S_UNPACK(w, c0, c1, c2, c3);
            a16 = _mm256_add_epi16(a16, BLOCK_DOT(q + b * 128, c0, c1, c2, c3));
        }
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(a16, ones));
    }
    return tc_simd_hsum_i32(acc);
}

/* Two rows against one token, block by block in lockstep: decode reads
 * the weights once, and two streams from distant rows keep more lines in
 * flight than one (laboratory on the file mapping: +16-19 % GB/s with 2
 * threads, doc/perf.md v8).  Each row's sums are i2s_row1's. */
static TA void i2s_row2(const uint8_t *wa, const uint8_t *wb, size_t K, const int8_t *q, int32_t out[2])
{
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i accA = _mm256_setzero_si256(), accB = accA;
    const size_t nb = K / 128;
    for (size_t b0 = 0; b0 < nb; b0 += 8) {
        const size_t b1 = b0 + 8 < nb ? b0 + 8 : nb;
        __m256i sA = _mm256_setzero_si256(), sB = sA;
        for (size_t b = b0; b < b1; b++) {
            _mm_prefetch((const char *)(wa + b * 32 + 2048), _MM_HINT_T0);
            _mm_prefetch((const char *)(wb + b * 32 + 2048), _MM_HINT_T0);
            __m256i w = _mm256_loadu_si256((const __m256i *)(wa + b * 32)), c0, c1, c2, c3;
            TC_SIMD_I2S_UNPACK(w, c0, c1, c2, c3);
            sA = _mm256_add_epi16(sA, BLOCK_DOT(q + b * 128, c0, c1, c2, c3));
            w = _mm256_loadu_si256((const __m256i *)(wb + b * 32));
            TC_SIMD_I2S_UNPACK(w, c0, c1, c2, c3);
            sB = _mm256_add_epi16(sB, BLOCK_DOT(q + b * 128, c0, c1, c2, c3));
        }
        accA = _mm256_add_epi32(accA, _mm256_madd_epi16(sA, ones));
        accB = _mm256_add_epi32(accB, _mm256_madd_epi16(sB, ones));
    }
    out[0] = tc_simd_hsum_i32(accA);
    out[1] = tc_simd_hsum_i32(accB);
}

/* one row against four tokens (rows of q, K apart): the unpacked codes
 * are reused four times.  int16 partial sums over 16 blocks here: a lane
 * adds 64 pmaddubsw pairs of at most 2*127*2 = 508 and at least
 * 2*(-128)*2 = -512, so every partial sum lies in [-32768, 32512]. */
static TA void i2s_row4(const uint8_t *wr, size_t K, const int8_t *q, int32_t out[4])
{
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc0 = _mm256_setzero_si256(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    const int8_t *q0 = q, *q1 = q + K, *q2 = q + 2 * K, *q3 = q + 3 * K;
    const size_t nb = K / 128;
    for (size_t b0 = 0; b0 < nb; b0 += 16) {
        const size_t b1 = b0 + 16 < nb ? b0 + 16 : nb;
        __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
        for (size_t b = b0; b < b1; b++) {
            __m256i w = _mm256_loadu_si256((const __m256i *)(wr + b * 32)), c0, c1, c2, c3;
            TC_SIMD_I2S_UNPACK(w, c0, c1, c2, c3);
            s0 = _mm256_add_epi16(s0, BLOCK_DOT(q0 + b * 128, c0, c1, c2, c3));
            s1 = _mm256_add_epi16(s1, BLOCK_DOT(q1 + b * 128, c0, c1, c2, c3));
            s2 = _mm256_add_epi16(s2, BLOCK_DOT(q2 + b * 128, c0, c1, c2, c3));
            s3 = _mm256_add_epi16(s3, BLOCK_DOT(q3 + b * 128, c0, c1, c2, c3));
        }
        acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(s0, ones));
        acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(s1, ones));
        acc2 = _mm256_add_epi32(acc2, _mm256_madd_epi16(s2, ones));
        acc3 = _mm256_add_epi32(acc3, _mm256_madd_epi16(s3, ones));
    }
    /* the four horizontal sums at once: (acc0, acc1, acc2, acc3) pairwise */
    const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(acc0, acc1), _mm256_hadd_epi32(acc2, acc3));
    _mm_storeu_si128((__m128i *)out, _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1)));
}

TC_FAST_I2S_GEMV_GEMM(TA, i2s_gemv_avx2, i2s_gemm_avx2, i2s_row1, i2s_row2, i2s_row4)

/* ---- RMSNorm (+ quantization) ----
 * The reference's arithmetic lane by lane: sum of squares in double (four
 * lanes, so its rounding may differ from a sequential sum in the last bit
 * of a double), h = (float)(x * scale) * w, amax in float = in double,
 * q = round-half-even(h * s) with the product rounded to float first. */

static TA double rms_scale(const float *x, size_t n, float eps)
{
    __m256d a0 = _mm256_setzero_pd(), a1 = a0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
        a0 = _mm256_add_pd(a0, _mm256_mul_pd(lo, lo));   /* exact products: no FMA needed */
        a1 = _mm256_add_pd(a1, _mm256_mul_pd(hi, hi));
    }
    double ss = hsum_f64(_mm256_add_pd(a0, a1));
    for (; i < n; i++) ss += (double)x[i] * x[i];
    return 1.0 / sqrt(ss / (double)n + (double)eps);
}

/* h[i..i+8) = (float)(x * scale) * w */
static inline TA __m256 norm8(const float *x, const float *w, __m256d scale)
{
    __m256 v = _mm256_loadu_ps(x);
    __m128 lo = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), scale));
    __m128 hi = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), scale));
    return _mm256_mul_ps(_mm256_set_m128(hi, lo), _mm256_loadu_ps(w));
}

TA void tc_fast_avx2_rmsnorm(const float *x, const float *w, size_t n, float eps, float *y)
{
    const double scale = rms_scale(x, n, eps);
    const __m256d sv = _mm256_set1_pd(scale);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, norm8(x + i, w + i, sv));
    for (; i < n; i++) y[i] = (float)(x[i] * scale) * w[i];
}

TA float tc_fast_avx2_rmsnorm_q8(const float *x, const float *w, size_t n, float eps, int8_t *q, int32_t *qsum)
{
    const double scale = rms_scale(x, n, eps);
    const __m256d sv = _mm256_set1_pd(scale);
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 mx = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) mx = _mm256_max_ps(mx, _mm256_and_ps(norm8(x + i, w + i, sv), absmask));
    float m8[8];
    _mm256_storeu_ps(m8, mx);
    double amax = 1e-5;
    for (int l = 0; l < 8; l++)
        if ((double)m8[l] > amax) amax = m8[l];
    for (size_t j = i; j < n; j++) {
        float h = (float)(x[j] * scale) * w[j];
        if (fabs((double)h) > amax) amax = fabs((double)h);
    }
    const float s = (float)(127.0 / amax);
    const __m256 svf = _mm256_set1_ps(s), lo = _mm256_set1_ps(-128.0f), hi = _mm256_set1_ps(127.0f);
    __m256i sum = _mm256_setzero_si256();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 r = _mm256_round_ps(_mm256_mul_ps(norm8(x + i, w + i, sv), svf),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m256i v = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(r, lo), hi));
        sum = _mm256_add_epi32(sum, v);
        __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        _mm_storel_epi64((__m128i *)(q + i), _mm_packs_epi16(p16, p16));
    }
    int32_t total = tc_simd_hsum_i32(sum);
    for (; i < n; i++) {
        q[i] = tc_fast_q8_one(x[i], scale, w[i], s);
        total += q[i];
    }
    *qsum = total;
    return s;
}

/* ---- F16 LM head ----
 * Per (row, token): four 8-lane FMA chains over 32 elements at a time,
 * one chain over the next 8s, a fixed tree, then a scalar tail: the same
 * order whatever the row range, so any partition gives the same bits. */

/* acc += half(wr[i + off .. +8]) * x[i + off .. +8]: the one step of both
 * dot kernels below, so that a row gives the same bits in either */
#define F16_STEP(acc, wr, off) \
    acc = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((wr) + i + (off)))), \
                          _mm256_loadu_ps(x + i + (off)), acc)

static inline TA float f16_dot(const uint16_t *w, const float *x, size_t K)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 32 <= K; i += 32) {
        /* one line per step, 1 KiB ahead: the loop's 16 ops per line leave
         * too few loads in flight for the hardware prefetcher alone (the
         * decode head streamed +15 % faster with it, doc/perf.md v7) */
        _mm_prefetch((const char *)(w + i) + 1024, _MM_HINT_T0);
        F16_STEP(a0, w, 0);
        F16_STEP(a1, w, 8);
        F16_STEP(a2, w, 16);
        F16_STEP(a3, w, 24);
    }
    for (; i + 8 <= K; i += 8) F16_STEP(a0, w, 0);
    float sum = hsum_f32(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < K; i++) sum += _cvtsh_ss(w[i]) * x[i];
    return sum;
}

/* f16_dot of two rows at once, each with exactly f16_dot's operations
 * (the same bits whichever rows are paired): two streams in flight */
static inline TA void f16_dot2(const uint16_t *wa, const uint16_t *wb, const float *x, size_t K, float *ya,
                               float *yb)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    size_t i = 0;
    for (; i + 32 <= K; i += 32) {
        _mm_prefetch((const char *)(wa + i) + 1024, _MM_HINT_T0);
        _mm_prefetch((const char *)(wb + i) + 1024, _MM_HINT_T0);
        F16_STEP(a0, wa, 0);
        F16_STEP(b0, wb, 0);
        F16_STEP(a1, wa, 8);
        F16_STEP(b1, wb, 8);
        F16_STEP(a2, wa, 16);
        F16_STEP(b2, wb, 16);
        F16_STEP(a3, wa, 24);
        F16_STEP(b3, wb, 24);
    }
    for (; i + 8 <= K; i += 8) {
        F16_STEP(a0, wa, 0);
        F16_STEP(b0, wb, 0);
    }
    float sa = hsum_f32(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    float sb = hsum_f32(_mm256_add_ps(_mm256_add_ps(b0, b1), _mm256_add_ps(b2, b3)));
    for (; i < K; i++) {
        sa += _cvtsh_ss(wa[i]) * x[i];
        sb += _cvtsh_ss(wb[i]) * x[i];
    }
    *ya = sa;
    *yb = sb;
}

/* f16_dot of four rows at once, each with exactly f16_dot's operations:
 * four streams in flight.  Its 16 sums fit only in AVX-512VL's 32 ymm
 * registers (with 16 they spill), so it is the AVX-512 tables' head; the
 * instructions are AVX2's and F16C's, the bits f16_dot's. */
#define TV4 __attribute__((target("avx2,fma,f16c,avx512f,avx512vl")))
static TV4 void f16_dot4(const uint16_t *const w[4], const float *x, size_t K, float y[4])
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    __m256 c0 = a0, c1 = a0, c2 = a0, c3 = a0, d0 = a0, d1 = a0, d2 = a0, d3 = a0;
    const uint16_t *wa = w[0], *wb = w[1], *wc = w[2], *wd = w[3];
    size_t i = 0;
    for (; i + 32 <= K; i += 32) {
        _mm_prefetch((const char *)(wa + i) + 1024, _MM_HINT_T0);
        _mm_prefetch((const char *)(wb + i) + 1024, _MM_HINT_T0);
        _mm_prefetch((const char *)(wc + i) + 1024, _MM_HINT_T0);
        _mm_prefetch((const char *)(wd + i) + 1024, _MM_HINT_T0);
        F16_STEP(a0, wa, 0);
        F16_STEP(b0, wb, 0);
        F16_STEP(c0, wc, 0);
        F16_STEP(d0, wd, 0);
        F16_STEP(a1, wa, 8);
        F16_STEP(b1, wb, 8);
        F16_STEP(c1, wc, 8);
        F16_STEP(d1, wd, 8);
        F16_STEP(a2, wa, 16);
        F16_STEP(b2, wb, 16);
        F16_STEP(c2, wc, 16);
        F16_STEP(d2, wd, 16);
        F16_STEP(a3, wa, 24);
        F16_STEP(b3, wb, 24);
        F16_STEP(c3, wc, 24);
        F16_STEP(d3, wd, 24);
    }
    for (; i + 8 <= K; i += 8) {
        F16_STEP(a0, wa, 0);
        F16_STEP(b0, wb, 0);
        F16_STEP(c0, wc, 0);
        F16_STEP(d0, wd, 0);
    }
    float s[4] = { hsum_f32(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))),
                   hsum_f32(_mm256_add_ps(_mm256_add_ps(b0, b1), _mm256_add_ps(b2, b3))),
                   hsum_f32(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3))),
                   hsum_f32(_mm256_add_ps(_mm256_add_ps(d0, d1), _mm256_add_ps(d2, d3))) };
    for (; i < K; i++)
        for (int k = 0; k < 4; k++) s[k] += _cvtsh_ss(w[k][i]) * x[i];
    for (int k = 0; k < 4; k++) y[k] = s[k];
}
#undef F16_STEP

TV4 void tc_fast_avx512_f16_gemm(const uint16_t *w, size_t K, size_t r0, size_t r1, const float *x, size_t n,
                                 float *y, size_t ld)
{
    if (n != 1) {
        tc_fast_avx2_f16_gemm(w, K, r0, r1, x, n, y, ld);
        return;
    }
    /* decode: rows r, r + q, r + 2q, r + 3q in lockstep, then the rest */
    const size_t q = (r1 - r0) / 4;
    for (size_t r = r0; r < r0 + q; r++) {
        const uint16_t *rows[4] = { w + r * K, w + (r + q) * K, w + (r + 2 * q) * K, w + (r + 3 * q) * K };
        float o[4];
        f16_dot4(rows, x, K, o);
        for (int k = 0; k < 4; k++) y[r + (size_t)k * q] = o[k];
    }
    for (size_t r = r0 + 4 * q; r < r1; r++) y[r] = f16_dot(w + r * K, x, K);
}

TA void tc_fast_avx2_f16_gemm(const uint16_t *w, size_t K, size_t r0, size_t r1, const float *x, size_t n,
                              float *y, size_t ld)
{
    if (n == 1) {   /* decode: rows r and r + half in lockstep (doc/perf.md v8) */
        const size_t half = (r1 - r0) / 2;
        for (size_t r = r0; r < r0 + half; r++) f16_dot2(w + r * K, w + (r + half) * K, x, K, &y[r], &y[r + half]);
        for (size_t r = r0 + 2 * half; r < r1; r++) y[r] = f16_dot(w + r * K, x, K);
        return;
    }
    for (size_t r = r0; r < r1; r++)
        for (size_t t = 0; t < n; t++) y[t * ld + r] = f16_dot(w + r * K, x + t * K, K);
}

/* ---- attention ---- */

static inline TA float dot_f32(const float *a, const float *b, size_t n)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), a0);
    float sum = hsum_f32(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

/* scores in float, softmax with expf and a double sum, then
 * out = sum_j p_j v_j over 32 dimensions at a time (four FMA chains).
 * While key j is scored, value row j is fetched into L2: in decode the
 * first query head of each KV head finds both in memory, and the values
 * then come as a second stream (-0.15 ms a token at 160 positions on
 * 2b4t, doc/perf.md v14). */
TA void tc_fast_avx2_attention_head(const float *q, const float *k, const float *v, size_t n_keys, size_t hd,
                                    float *scores, float *out)
{
    const float scale = (float)(1.0 / sqrt((double)hd));
    float mx = -INFINITY;
    for (size_t j = 0; j < n_keys; j++) {
        for (size_t b = 0; b < hd * sizeof(float); b += 64) _mm_prefetch((const char *)(v + j * hd) + b, _MM_HINT_T1);
        scores[j] = dot_f32(q, k + j * hd, hd) * scale;
        if (scores[j] > mx) mx = scores[j];
    }
    double sum = 0.0;
    for (size_t j = 0; j < n_keys; j++) {
        scores[j] = expf(scores[j] - mx);
        sum += scores[j];
    }
    const __m256 inv = _mm256_set1_ps((float)(1.0 / sum));
    size_t i = 0;
    for (; i + 32 <= hd; i += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t j = 0; j < n_keys; j++) {
            const float *vj = v + j * hd + i;
            const __m256 p = _mm256_set1_ps(scores[j]);
            a0 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vj), a0);
            a1 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vj + 8), a1);
            a2 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vj + 16), a2);
            a3 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vj + 24), a3);
        }
        _mm256_storeu_ps(out + i, _mm256_mul_ps(a0, inv));
        _mm256_storeu_ps(out + i + 8, _mm256_mul_ps(a1, inv));
        _mm256_storeu_ps(out + i + 16, _mm256_mul_ps(a2, inv));
        _mm256_storeu_ps(out + i + 24, _mm256_mul_ps(a3, inv));
    }
    for (; i < hd; i++) {
        float acc = 0.0f;
        for (size_t j = 0; j < n_keys; j++) acc += scores[j] * v[j * hd + i];
        out[i] = acc * (float)(1.0 / sum);
    }
}

/* ---- element-wise: the scalar code's operations, 8 lanes at a time
 * (conversion, division and products are correctly rounded either way;
 * max(g, 0) is +0 for g = -0 and for NaN, as g > 0 ? g : 0 is) ---- */

TA void tc_fast_avx2_i2s_scale(const int32_t *acc, size_t n, float s, float m, const float *mul, float *y)
{
    const __m256 sv = _mm256_set1_ps(s), mv = _mm256_set1_ps(m), kv = _mm256_set1_ps(mul ? *mul : 1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_div_ps(_mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(acc + i))), sv), mv);
        _mm256_storeu_ps(y + i, mul ? _mm256_mul_ps(v, kv) : v);
    }
    for (; i < n; i++) {
        y[i] = tc_fast_i2s_scale(acc[i], s, m);
        if (mul) y[i] *= *mul;
    }
}

TA void tc_fast_avx2_relu2_mul(const float *gate, const float *up, size_t n, float *out)
{
    const __m256 zero = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 r = _mm256_max_ps(_mm256_loadu_ps(gate + i), zero);
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(r, r), _mm256_loadu_ps(up + i)));
    }
    tc_fast_scalar_relu2_mul(gate + i, up + i, n - i, out + i);
}

TA void tc_fast_avx2_add(float *x, const float *y, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    tc_fast_scalar_add(x + i, y + i, n - i);
}

const tc_fast_kernels tc_fast_kernels_avx2 = {
    .isa = "avx2",
    .i2s_gemv = i2s_gemv_avx2, .i2s_gemm = i2s_gemm_avx2,
    .i2s_gemv_name = "fast.cpu.avx2.i2s_gemv", .i2s_gemm_name = "fast.cpu.avx2.i2s_gemm",
    TC_SIMD_AVX2_FLOAT_KERNELS,
};

#else /* not x86: never selected (tc_fast_isa_supported says no) */

const tc_fast_kernels tc_fast_kernels_avx2 = { .isa = NULL };

#endif

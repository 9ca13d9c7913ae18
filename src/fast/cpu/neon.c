/* neon.c -- Advanced SIMD (NEON) kernels of the fast CPU engine on
 * aarch64, in three tables, best last:
 *
 *   neon          every aarch64 CPU (ASIMD is part of ARMv8-A): the I2_S
 *                 products with smull/smlal into int16, widened per block
 *   neon_dotprod  the I2_S products with sdot (FEAT_DotProd, HWCAP_ASIMDDP):
 *                 four int8 products summed into an int32 lane per step
 *   neon_i8mm     the prefill GEMM with smmla (FEAT_I8MM, HWCAP2_I8MM): a
 *                 2x8 by 8x2 int8 matrix product per instruction; its GEMV
 *                 is neon_dotprod's (one token leaves half of smmla idle)
 *
 * The float and element-wise kernels are plain ASIMD in all three tables
 * (their counter names say "neon").  Every kernel here gives the scalar
 * table's bits (scalar.c), not just numbers within the tolerance: the
 * integer sums are exact in any order, and each float kernel performs the
 * scalar kernel's operations in the scalar kernel's order, lane by lane.
 * No FMA: the scalar kernels have none (-ffp-contract=off), so every
 * product here is a vmul rounded before its vadd.
 *
 * The sdot and smmla kernels carry per-function target attributes, so the
 * rest of the build stays plain ARMv8-A; dispatch.c calls them only where
 * getauxval says the CPU has the extension (base/host.c).  This file is
 * compiled only for aarch64 (Makefile.am). */
#include <math.h>
#include <string.h>

#include <arm_neon.h>

#include "fast/cpu/dispatch.h"
#include "fast/cpu/gemm_blocked.h"

/* sdot lives in ARMv8.2-A+dotprod, smmla in ARMv8.2-A+i8mm (GCC's
 * arm_neon.h declares them under these targets); the smmla GEMM also
 * runs the sdot kernels for the rows and tokens its tiles leave over */
#define TDOT __attribute__((target("arch=armv8.2-a+dotprod")))
#define TMM __attribute__((target("arch=armv8.2-a+dotprod+i8mm")))


/* ---- I2_S: unpacking ----
 * One 32-byte block (SPEC 1.2) as two 16-byte halves lo (bytes 0..15)
 * and hi (16..31).  Byte j holds element j in bits 7:6, 32+j in 5:4, 64+j
 * in 3:2 and 96+j in 1:0, so (half >> 6), (half >> 4) & 3, (half >> 2) & 3
 * and half & 3 are the codes 0..2 of 16 consecutive elements each.  As
 * int8 they face the activations directly (sum c*q, the qsum subtraction
 * after, ktable.h).  Entry of every I2_S kernel: K % 128 == 0, codes in
 * {0,1,2} (code 3 sanitized at open), rows K/4 bytes apart. */

/* The eight code vectors of one block, in the order of the 128
 * activations they face: c[0] = elements 0..15, c[1] = 16..31, c[2] =
 * 32..47, ... c[7] = 112..127. */
static inline void unpack_block(const uint8_t *w, int8x16_t c[8])
{
    const uint8x16_t lo = vld1q_u8(w), hi = vld1q_u8(w + 16), m3 = vdupq_n_u8(3);
    c[0] = vreinterpretq_s8_u8(vshrq_n_u8(lo, 6));
    c[1] = vreinterpretq_s8_u8(vshrq_n_u8(hi, 6));
    c[2] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(lo, 4), m3));
    c[3] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(hi, 4), m3));
    c[4] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(lo, 2), m3));
    c[5] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(hi, 2), m3));
    c[6] = vreinterpretq_s8_u8(vandq_u8(lo, m3));
    c[7] = vreinterpretq_s8_u8(vandq_u8(hi, m3));
}

/* ---- I2_S, plain NEON ----
 * smull/smlal multiply int8 lanes into int16: a product c*q lies in
 * [-256, 254] and each of the two chains adds 8 of them per lane in one
 * block, so |lane| <= 2048; sadalp then widens each block's sums
 * pairwise into int32 (exact). */

/* acc32 += sum over one block of c*q (q: the block's 128 activations) */
static inline int32x4_t block_dot_neon(int32x4_t acc32, const int8x16_t c[8], const int8_t *q)
{
    int16x8_t a = vdupq_n_s16(0), b = a;   /* two chains: even and odd vectors */
    for (int v = 0; v < 8; v += 2) {
        const int8x16_t q0 = vld1q_s8(q + 16 * v), q1 = vld1q_s8(q + 16 * v + 16);
        a = vmlal_s8(a, vget_low_s8(c[v]), vget_low_s8(q0));
        a = vmlal_high_s8(a, c[v], q0);
        b = vmlal_s8(b, vget_low_s8(c[v + 1]), vget_low_s8(q1));
        b = vmlal_high_s8(b, c[v + 1], q1);
    }
    return vpadalq_s16(vpadalq_s16(acc32, a), b);
}

/* sum_i c(i) q_i over one row against one token */
static int32_t row1_neon(const uint8_t *wr, size_t K, const int8_t *q)
{
    int32x4_t acc = vdupq_n_s32(0);
    int8x16_t c[8];
    for (size_t b = 0; b < K / 128; b++) {
        __builtin_prefetch(wr + b * 32 + 2048);   /* as avx2.c: 2 KiB ahead of the stream */
        unpack_block(wr + b * 32, c);
        acc = block_dot_neon(acc, c, q + b * 128);
    }
    return vaddvq_s32(acc);
}

/* one row against four tokens (K apart): the codes unpacked once */
static void row4_neon(const uint8_t *wr, size_t K, const int8_t *q, int32_t out[4])
{
    int32x4_t a0 = vdupq_n_s32(0), a1 = a0, a2 = a0, a3 = a0;
    int8x16_t c[8];
    for (size_t b = 0; b < K / 128; b++) {
        unpack_block(wr + b * 32, c);
        a0 = block_dot_neon(a0, c, q + b * 128);
        a1 = block_dot_neon(a1, c, q + K + b * 128);
        a2 = block_dot_neon(a2, c, q + 2 * K + b * 128);
        a3 = block_dot_neon(a3, c, q + 3 * K + b * 128);
    }
    out[0] = vaddvq_s32(a0);
    out[1] = vaddvq_s32(a1);
    out[2] = vaddvq_s32(a2);
    out[3] = vaddvq_s32(a3);
}

/* ---- I2_S, sdot ----
 * vdotq_s32 adds four int8 products into each int32 lane: one block is
 * eight steps, exact (|sum| <= 2 * 128 * K < 2^31 for K < 2^22). */

static inline TDOT int32x4_t block_dot_sdot(int32x4_t acc, const int8x16_t c[8], const int8_t *q)
{
    int32x4_t b = vdupq_n_s32(0);   /* two chains, joined per block */
    for (int v = 0; v < 8; v += 2) {
        acc = vdotq_s32(acc, c[v], vld1q_s8(q + 16 * v));
        b = vdotq_s32(b, c[v + 1], vld1q_s8(q + 16 * v + 16));
    }
    return vaddq_s32(acc, b);
}

static TDOT int32_t row1_sdot(const uint8_t *wr, size_t K, const int8_t *q)
{
    int32x4_t acc = vdupq_n_s32(0);
    int8x16_t c[8];
    for (size_t b = 0; b < K / 128; b++) {
        __builtin_prefetch(wr + b * 32 + 2048);
        unpack_block(wr + b * 32, c);
        acc = block_dot_sdot(acc, c, q + b * 128);
    }
    return vaddvq_s32(acc);
}

/* two rows against one token in lockstep: two weight streams in flight
 * (the decode GEMV reads each weight once); each row's sum is row1's */
static TDOT void row2_sdot(const uint8_t *wa, const uint8_t *wb, size_t K, const int8_t *q, int32_t out[2])
{
    int32x4_t accA = vdupq_n_s32(0), accB = accA;
    int8x16_t c[8];
    for (size_t b = 0; b < K / 128; b++) {
        __builtin_prefetch(wa + b * 32 + 2048);
        __builtin_prefetch(wb + b * 32 + 2048);
        unpack_block(wa + b * 32, c);
        accA = block_dot_sdot(accA, c, q + b * 128);
        unpack_block(wb + b * 32, c);
        accB = block_dot_sdot(accB, c, q + b * 128);
    }
    out[0] = vaddvq_s32(accA);
    out[1] = vaddvq_s32(accB);
}

static TDOT void row4_sdot(const uint8_t *wr, size_t K, const int8_t *q, int32_t out[4])
{
    int32x4_t a0 = vdupq_n_s32(0), a1 = a0, a2 = a0, a3 = a0;
    int8x16_t c[8];
    for (size_t b = 0; b < K / 128; b++) {
        unpack_block(wr + b * 32, c);
        for (int v = 0; v < 8; v++) {
            a0 = vdotq_s32(a0, c[v], vld1q_s8(q + b * 128 + 16 * v));
            a1 = vdotq_s32(a1, c[v], vld1q_s8(q + K + b * 128 + 16 * v));
            a2 = vdotq_s32(a2, c[v], vld1q_s8(q + 2 * K + b * 128 + 16 * v));
            a3 = vdotq_s32(a3, c[v], vld1q_s8(q + 3 * K + b * 128 + 16 * v));
        }
    }
    out[0] = vaddvq_s32(a0);
    out[1] = vaddvq_s32(a1);
    out[2] = vaddvq_s32(a2);
    out[3] = vaddvq_s32(a3);
}

/* ---- I2_S: GEMV and cache-blocked GEMM around the row kernels ----
 * The loops of gemm_blocked.h, for each row kernel pair.  An output is
 * an exact integer sum, so any split of the rows gives the same bits. */

/* plain NEON has no separate two-row kernel: two row1 calls */
static inline void row2_neon(const uint8_t *wa, const uint8_t *wb, size_t K, const int8_t *q, int32_t out[2])
{
    out[0] = row1_neon(wa, K, q);
    out[1] = row1_neon(wb, K, q);
}

TC_FAST_I2S_GEMV_GEMM(, i2s_gemv_neon, i2s_gemm_neon, row1_neon, row2_neon, row4_neon)
TC_FAST_I2S_GEMV_GEMM(TDOT, i2s_gemv_sdot, i2s_gemm_sdot, row1_sdot, row2_sdot, row4_sdot)

/* ---- I2_S, smmla: the prefill GEMM ----
 * vmmlaq_s32(acc, a, b) treats a and b as 2x8 int8 matrices (8 bytes a
 * row) and adds a * b^T: acc = [a0.b0, a0.b1, a1.b0, a1.b1].  With a =
 * eight codes of rows A and B and b = the same eight activations of
 * tokens T and U, one instruction does 32 multiply-adds, twice sdot's
 * 16.  Rows meet rows by zipping the packed bytes (8 bytes of A, then 8
 * of B) before unpacking, so that one zip serves four shifts; tokens meet
 * tokens by zipping 16 loaded activations.  A tile of 4 rows x 4 tokens
 * shares each token zip among two row pairs: per block 64 smmla, 40 zips,
 * where sdot needs 128 sdot and reloads the activations for each row --
 * about two thirds of the instructions (counted, not timed: no Arm
 * machine measured this, see doc/porting.md). */

static inline int8x16_t zip_lo(int8x16_t a, int8x16_t b)
{
    return vreinterpretq_s8_s64(vzip1q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
}

static inline int8x16_t zip_hi(int8x16_t a, int8x16_t b)
{
    return vreinterpretq_s8_s64(vzip2q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
}

/* codes of two zipped rows at shift s (6, 4, 2, 0; a constant in every
 * caller, so the switch folds away) */
static inline int8x16_t mm_codes(uint8x16_t p, int s)
{
    const uint8x16_t m3 = vdupq_n_u8(3);
    switch (s) {
    case 6: return vreinterpretq_s8_u8(vshrq_n_u8(p, 6));
    case 4: return vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(p, 4), m3));
    case 2: return vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(p, 2), m3));
    default: return vreinterpretq_s8_u8(vandq_u8(p, m3));
    }
}

/* One 128-element block of the 4x4 tile: rows wr[0..3] (at this block),
 * tokens q[0..3] (at this block), acc[pair of rows][pair of tokens]. */
#define MM_SHIFT(s, e)                                                                              \
    for (int h = 0; h < 2; h++) {   /* activations e + 16h .. e + 16h + 15 */                      \
        const int8x16_t q0 = vld1q_s8(q[0] + (e) + 16 * h), q1 = vld1q_s8(q[1] + (e) + 16 * h);      \
        const int8x16_t q2 = vld1q_s8(q[2] + (e) + 16 * h), q3 = vld1q_s8(q[3] + (e) + 16 * h);      \
        const int8x16_t t01a = zip_lo(q0, q1), t01b = zip_hi(q0, q1);                                \
        const int8x16_t t23a = zip_lo(q2, q3), t23b = zip_hi(q2, q3);                                \
        for (int p = 0; p < 2; p++) {                                                              \
            const int8x16_t ca = mm_codes(pk[p][2 * h], s), cb = mm_codes(pk[p][2 * h + 1], s);      \
            acc[p][0] = vmmlaq_s32(vmmlaq_s32(acc[p][0], ca, t01a), cb, t01b);                       \
            acc[p][1] = vmmlaq_s32(vmmlaq_s32(acc[p][1], ca, t23a), cb, t23b);                       \
        }                                                                                          \
    }

/* sum_i c(r, i) q(t, i) for rows w + r*K/4, r < 4, and tokens q + t*K,
 * t < 4: out[t * 4 + r] */
static TMM void tile44_mm(const uint8_t *w, size_t K, const int8_t *qt, int32_t out[16])
{
    int32x4_t acc[2][2];
    for (int p = 0; p < 2; p++) acc[p][0] = acc[p][1] = vdupq_n_s32(0);
    for (size_t b = 0; b < K / 128; b++) {
        uint8x16_t pk[2][4];   /* per row pair: bytes 0..7, 8..15, 16..23, 24..31 of both rows */
        for (int p = 0; p < 2; p++) {
            const uint8_t *wa = w + (2 * p) * (K / 4) + b * 32, *wb = wa + K / 4;
            const uint64x2_t alo = vreinterpretq_u64_u8(vld1q_u8(wa)), ahi = vreinterpretq_u64_u8(vld1q_u8(wa + 16));
            const uint64x2_t blo = vreinterpretq_u64_u8(vld1q_u8(wb)), bhi = vreinterpretq_u64_u8(vld1q_u8(wb + 16));
            pk[p][0] = vreinterpretq_u8_u64(vzip1q_u64(alo, blo));
            pk[p][1] = vreinterpretq_u8_u64(vzip2q_u64(alo, blo));
            pk[p][2] = vreinterpretq_u8_u64(vzip1q_u64(ahi, bhi));
            pk[p][3] = vreinterpretq_u8_u64(vzip2q_u64(ahi, bhi));
        }
        const int8_t *q[4] = { qt + b * 128, qt + K + b * 128, qt + 2 * K + b * 128, qt + 3 * K + b * 128 };
        MM_SHIFT(6, 0)
        MM_SHIFT(4, 32)
        MM_SHIFT(2, 64)
        MM_SHIFT(0, 96)
    }
    /* acc[p][tp] = [A.T, A.U, B.T, B.U] for rows A = 2p, B = 2p + 1 and
     * tokens T = 2tp, U = 2tp + 1 */
    for (int p = 0; p < 2; p++)
        for (int tp = 0; tp < 2; tp++) {
            int32_t v[4];
            vst1q_s32(v, acc[p][tp]);
            out[(2 * tp) * 4 + 2 * p] = v[0];
            out[(2 * tp + 1) * 4 + 2 * p] = v[1];
            out[(2 * tp) * 4 + 2 * p + 1] = v[2];
            out[(2 * tp + 1) * 4 + 2 * p + 1] = v[3];
        }
}
#undef MM_SHIFT

/* The blocked loop of NEON_I2S_GEMV_GEMM with 4x4 smmla tiles; rows left
 * over (fewer than 4 in a block) and tokens left over (fewer than 4) go
 * through the sdot kernels, which give the same exact sums. */
static TMM void i2s_gemm_mm(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q,
                            const int32_t *qsum, size_t n, int32_t *out, size_t ld)
{
    for (size_t rb = r0; rb < r1; rb += TC_GEMM_ROWS) {
        const size_t re = rb + TC_GEMM_ROWS < r1 ? rb + TC_GEMM_ROWS : r1;
        size_t t = 0;
        for (; t + 4 <= n; t += 4) {
            size_t r = rb;
            for (; r + 4 <= re; r += 4) {
                int32_t s[16];
                tile44_mm(w + r * (K / 4), K, q + t * K, s);
                for (int u = 0; u < 4; u++)
                    for (int i = 0; i < 4; i++) out[(t + u) * ld + r + i] = s[u * 4 + i] - qsum[t + u];
            }
            for (; r < re; r++) {
                int32_t s[4];
                row4_sdot(w + r * (K / 4), K, q + t * K, s);
                for (int u = 0; u < 4; u++) out[(t + u) * ld + r] = s[u] - qsum[t + u];
            }
        }
        for (; t < n; t++)
            for (size_t r = rb; r < re; r++) out[t * ld + r] = row1_sdot(w + r * (K / 4), K, q + t * K) - qsum[t];
    }
}

/* ---- RMSNorm (+ quantization) ----
 * scalar.c's arithmetic, lane by lane: the sum of squares in double, in
 * order (a sequential double sum: the products are exact, the order of
 * the additions is what the bits depend on, so it stays one loop);
 * h = (float)(x * scale) * w through double lanes; amax of |h| (a float
 * max is the double max); q = round-half-even(h * s) with the product
 * rounded to float first (fcvtns: nearest, ties to even, as nearbyintf
 * in the default rounding mode), clamped to [-128, 127]. */

static double rms_scale(const float *x, size_t n, float eps)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    return 1.0 / sqrt(ss / (double)n + (double)eps);
}

/* h[i..i+4) = (float)(x * scale) * w */
static inline float32x4_t norm4(const float *x, const float *w, float64x2_t scale)
{
    const float32x4_t v = vld1q_f32(x);
    const float64x2_t lo = vmulq_f64(vcvt_f64_f32(vget_low_f32(v)), scale);
    const float64x2_t hi = vmulq_f64(vcvt_high_f64_f32(v), scale);
    return vmulq_f32(vcvt_high_f32_f64(vcvt_f32_f64(lo), hi), vld1q_f32(w));
}

static void rmsnorm_neon(const float *x, const float *w, size_t n, float eps, float *y)
{
    const double scale = rms_scale(x, n, eps);
    const float64x2_t sv = vdupq_n_f64(scale);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, norm4(x + i, w + i, sv));   /* y may alias x: read first */
    for (; i < n; i++) y[i] = (float)(x[i] * scale) * w[i];
}

static float rmsnorm_q8_neon(const float *x, const float *w, size_t n, float eps, int8_t *q, int32_t *qsum)
{
    const double scale = rms_scale(x, n, eps);
    const float64x2_t sv = vdupq_n_f64(scale);
    /* amax: a lane takes |h| only where |h| > the lane's max, as the
     * scalar test does (a NaN never wins) */
    float32x4_t mx = vdupq_n_f32(0.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t a = vabsq_f32(norm4(x + i, w + i, sv));
        mx = vbslq_f32(vcgtq_f32(a, mx), a, mx);
    }
    float m4[4];
    vst1q_f32(m4, mx);
    double amax = 1e-5;
    for (int l = 0; l < 4; l++)
        if ((double)m4[l] > amax) amax = m4[l];
    for (size_t j = i; j < n; j++) {
        const float h = (float)(x[j] * scale) * w[j];
        if (fabs((double)h) > amax) amax = fabs((double)h);
    }
    const float s = (float)(127.0 / amax);
    const float32x4_t svf = vdupq_n_f32(s);
    const int32x4_t lo = vdupq_n_s32(-128), hi = vdupq_n_s32(127);
    int32x4_t sum = vdupq_n_s32(0);
    for (i = 0; i + 8 <= n; i += 8) {
        /* fcvtns saturates beyond int32 and gives 0 for NaN, as the
         * scalar clamp and conversion do */
        int32x4_t a = vcvtnq_s32_f32(vmulq_f32(norm4(x + i, w + i, sv), svf));
        int32x4_t b = vcvtnq_s32_f32(vmulq_f32(norm4(x + i + 4, w + i + 4, sv), svf));
        a = vminq_s32(vmaxq_s32(a, lo), hi);
        b = vminq_s32(vmaxq_s32(b, lo), hi);
        sum = vaddq_s32(sum, vaddq_s32(a, b));
        vst1_s8(q + i, vmovn_s16(vcombine_s16(vmovn_s32(a), vmovn_s32(b))));
    }
    int32_t total = vaddvq_s32(sum);
    for (; i < n; i++) {
        q[i] = tc_fast_q8_one(x[i], scale, w[i], s);
        total += q[i];
    }
    *qsum = total;
    return s;
}

/* ---- F16 LM head ----
 * scalar.c's order per (row, token): eight float partial sums (lanes
 * 0..3 and 4..7 of two registers), acc[l] += half(w[i + l]) * x[i + l]
 * with the product rounded first, the tree ((0+1)+(2+3))+((4+5)+(6+7)),
 * then the tail in order.  fcvtl converts half to float exactly
 * (subnormals included).  Several rows or tokens run side by side only
 * to keep independent chains in flight; each keeps its own order. */

/* acc{l,h} += half(wp[0..8)) * xp[0..8) */
#define F16_STEP(al, ah, wp, xp)                                                      \
    do {                                                                              \
        const uint16x8_t w8_ = vld1q_u16(wp);                                         \
        const float32x4_t wl_ = vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(w8_))); \
        const float32x4_t wh_ = vcvt_high_f32_f16(vreinterpretq_f16_u16(w8_));        \
        al = vaddq_f32(al, vmulq_f32(wl_, vld1q_f32(xp)));                            \
        ah = vaddq_f32(ah, vmulq_f32(wh_, vld1q_f32((xp) + 4)));                      \
    } while (0)

static inline float half_to_float(uint16_t h)
{
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

/* the tree and the tail of one (row, token), from element i on */
static inline float f16_finish(float32x4_t al, float32x4_t ah, const uint16_t *wr, const float *x, size_t i,
                               size_t K)
{
    const float32x4_t p = vpaddq_f32(al, ah);   /* (0+1), (2+3), (4+5), (6+7) */
    const float32x4_t pp = vpaddq_f32(p, p);    /* (0+1)+(2+3), (4+5)+(6+7) */
    float tail = 0.0f;
    for (; i < K; i++) tail += half_to_float(wr[i]) * x[i];
    return (vgetq_lane_f32(pp, 0) + vgetq_lane_f32(pp, 1)) + tail;
}

/* four rows against one token (decode) */
static void f16_dot_rows4(const uint16_t *w, size_t K, size_t r, const float *x, float *y)
{
    const uint16_t *w0 = w + r * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
    float32x4_t a0 = vdupq_n_f32(0.0f), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
    size_t i = 0;
    for (; i + 8 <= K; i += 8) {
        F16_STEP(a0, b0, w0 + i, x + i);
        F16_STEP(a1, b1, w1 + i, x + i);
        F16_STEP(a2, b2, w2 + i, x + i);
        F16_STEP(a3, b3, w3 + i, x + i);
    }
    y[r] = f16_finish(a0, b0, w0, x, i, K);
    y[r + 1] = f16_finish(a1, b1, w1, x, i, K);
    y[r + 2] = f16_finish(a2, b2, w2, x, i, K);
    y[r + 3] = f16_finish(a3, b3, w3, x, i, K);
}

/* one row against four tokens (K apart): the halves converted once */
static void f16_dot_tokens4(const uint16_t *wr, size_t K, const float *x, float *y, size_t ld)
{
    const float *x0 = x, *x1 = x + K, *x2 = x + 2 * K, *x3 = x + 3 * K;
    float32x4_t a0 = vdupq_n_f32(0.0f), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
    size_t i = 0;
    for (; i + 8 <= K; i += 8) {
        F16_STEP(a0, b0, wr + i, x0 + i);
        F16_STEP(a1, b1, wr + i, x1 + i);
        F16_STEP(a2, b2, wr + i, x2 + i);
        F16_STEP(a3, b3, wr + i, x3 + i);
    }
    y[0] = f16_finish(a0, b0, wr, x0, i, K);
    y[ld] = f16_finish(a1, b1, wr, x1, i, K);
    y[2 * ld] = f16_finish(a2, b2, wr, x2, i, K);
    y[3 * ld] = f16_finish(a3, b3, wr, x3, i, K);
}

static float f16_dot1(const uint16_t *wr, size_t K, const float *x)
{
    float32x4_t a = vdupq_n_f32(0.0f), b = a;
    size_t i = 0;
    for (; i + 8 <= K; i += 8) F16_STEP(a, b, wr + i, x + i);
    return f16_finish(a, b, wr, x, i, K);
}
#undef F16_STEP

static void f16_gemm_neon(const uint16_t *w, size_t K, size_t r0, size_t r1, const float *x, size_t n, float *y,
                          size_t ld)
{
    if (n == 1) {
        size_t r = r0;
        for (; r + 4 <= r1; r += 4) f16_dot_rows4(w, K, r, x, y);
        for (; r < r1; r++) y[r] = f16_dot1(w + r * K, K, x);
        return;
    }
    for (size_t r = r0; r < r1; r++) {
        size_t t = 0;
        for (; t + 4 <= n; t += 4) f16_dot_tokens4(w + r * K, K, x + t * K, y + t * ld + r, ld);
        for (; t < n; t++) y[t * ld + r] = f16_dot1(w + r * K, K, x + t * K);
    }
}

/* ---- attention: scalar.c's double reductions, each in its order ----
 * Scores: four keys side by side, one double lane each, every lane
 * summing q[i] * k[i] for i = 0, 1, 2 ... as the scalar loop does (the
 * 4x4 blocks of keys are transposed so that a register holds element i
 * of four keys).  Output: dimensions side by side, each lane summing
 * p_j * v_j[i] for j = 0, 1, 2 ...  Products of two floats are exact in
 * double, so only the order of additions matters, and it is scalar.c's. */

/* d[0..4) = sum_i q[i] k_l[i] for the four keys at k, k + hd, ... */
static void scores4(const float *q, const float *k, size_t hd, double d[4])
{
    const float *k0 = k, *k1 = k + hd, *k2 = k + 2 * hd, *k3 = k + 3 * hd;
    float64x2_t a01 = vdupq_n_f64(0.0), a23 = a01;
    size_t i = 0;
    for (; i + 4 <= hd; i += 4) {
        const float32x4_t r0 = vld1q_f32(k0 + i), r1 = vld1q_f32(k1 + i), r2 = vld1q_f32(k2 + i),
                          r3 = vld1q_f32(k3 + i);
        const float64x2_t t01a = vreinterpretq_f64_f32(vtrn1q_f32(r0, r1)), t01b = vreinterpretq_f64_f32(vtrn2q_f32(r0, r1));
        const float64x2_t t23a = vreinterpretq_f64_f32(vtrn1q_f32(r2, r3)), t23b = vreinterpretq_f64_f32(vtrn2q_f32(r2, r3));
        const float32x4_t c[4] = {   /* c[m] = element i + m of keys 0..3 */
            vreinterpretq_f32_f64(vtrn1q_f64(t01a, t23a)), vreinterpretq_f32_f64(vtrn1q_f64(t01b, t23b)),
            vreinterpretq_f32_f64(vtrn2q_f64(t01a, t23a)), vreinterpretq_f32_f64(vtrn2q_f64(t01b, t23b)),
        };
        for (int m = 0; m < 4; m++) {
            const float64x2_t qd = vdupq_n_f64((double)q[i + m]);
            a01 = vaddq_f64(a01, vmulq_f64(vcvt_f64_f32(vget_low_f32(c[m])), qd));
            a23 = vaddq_f64(a23, vmulq_f64(vcvt_high_f64_f32(c[m]), qd));
        }
    }
    d[0] = vgetq_lane_f64(a01, 0);
    d[1] = vgetq_lane_f64(a01, 1);
    d[2] = vgetq_lane_f64(a23, 0);
    d[3] = vgetq_lane_f64(a23, 1);
    for (; i < hd; i++) {
        d[0] += (double)q[i] * k0[i];
        d[1] += (double)q[i] * k1[i];
        d[2] += (double)q[i] * k2[i];
        d[3] += (double)q[i] * k3[i];
    }
}

static void attention_head_neon(const float *q, const float *k, const float *v, size_t n_keys, size_t hd,
                                float *scores, float *out)
{
    const double scale = 1.0 / sqrt((double)hd);
    size_t j = 0;
    for (; j + 4 <= n_keys; j += 4) {
        double d[4];
        scores4(q, k + j * hd, hd, d);
        for (int l = 0; l < 4; l++) scores[j + l] = (float)(d[l] * scale);
    }
    for (; j < n_keys; j++) {
        double d = 0.0;
        for (size_t i = 0; i < hd; i++) d += (double)q[i] * k[j * hd + i];
        scores[j] = (float)(d * scale);
    }
    float mx = -INFINITY;
    for (j = 0; j < n_keys; j++)
        if (scores[j] > mx) mx = scores[j];
    double sum = 0.0;
    for (j = 0; j < n_keys; j++) {
        scores[j] = expf(scores[j] - mx);
        sum += scores[j];
    }
    const float64x2_t sumv = vdupq_n_f64(sum);
    size_t i = 0;
    for (; i + 8 <= hd; i += 8) {
        float64x2_t a0 = vdupq_n_f64(0.0), a1 = a0, a2 = a0, a3 = a0;
        for (j = 0; j < n_keys; j++) {
            const float *vj = v + j * hd + i;
            const float64x2_t p = vdupq_n_f64((double)scores[j]);
            const float32x4_t lo = vld1q_f32(vj), hi = vld1q_f32(vj + 4);
            a0 = vaddq_f64(a0, vmulq_f64(p, vcvt_f64_f32(vget_low_f32(lo))));
            a1 = vaddq_f64(a1, vmulq_f64(p, vcvt_high_f64_f32(lo)));
            a2 = vaddq_f64(a2, vmulq_f64(p, vcvt_f64_f32(vget_low_f32(hi))));
            a3 = vaddq_f64(a3, vmulq_f64(p, vcvt_high_f64_f32(hi)));
        }
        vst1q_f32(out + i, vcvt_high_f32_f64(vcvt_f32_f64(vdivq_f64(a0, sumv)), vdivq_f64(a1, sumv)));
        vst1q_f32(out + i + 4, vcvt_high_f32_f64(vcvt_f32_f64(vdivq_f64(a2, sumv)), vdivq_f64(a3, sumv)));
    }
    for (; i < hd; i++) {
        double acc = 0.0;
        for (j = 0; j < n_keys; j++) acc += (double)scores[j] * v[j * hd + i];
        out[i] = (float)(acc / sum);
    }
}

/* ---- element-wise: scalar.c's operations, four lanes at a time
 * (conversion, division and products are correctly rounded either way;
 * relu takes g only where g > 0, so -0 and NaN give +0 as in scalar.c) ---- */

static void i2s_scale_neon(const int32_t *acc, size_t n, float s, float m, const float *mul, float *y)
{
    const float32x4_t sv = vdupq_n_f32(s), mv = vdupq_n_f32(m), kv = vdupq_n_f32(mul ? *mul : 1.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t v = vmulq_f32(vdivq_f32(vcvtq_f32_s32(vld1q_s32(acc + i)), sv), mv);
        vst1q_f32(y + i, mul ? vmulq_f32(v, kv) : v);
    }
    tc_fast_scalar_i2s_scale(acc + i, n - i, s, m, mul, y + i);
}

static void relu2_mul_neon(const float *gate, const float *up, size_t n, float *out)
{
    const float32x4_t zero = vdupq_n_f32(0.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t g = vld1q_f32(gate + i);
        const float32x4_t r = vbslq_f32(vcgtq_f32(g, zero), g, zero);
        vst1q_f32(out + i, vmulq_f32(vmulq_f32(r, r), vld1q_f32(up + i)));
    }
    tc_fast_scalar_relu2_mul(gate + i, up + i, n - i, out + i);
}

static void add_neon(float *x, const float *y, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vaddq_f32(vld1q_f32(x + i), vld1q_f32(y + i)));
    tc_fast_scalar_add(x + i, y + i, n - i);
}

/* ---- the tables ---- */

/* All three read the I2_S bytes as stored (no .layout, as avx2.c): a
 * 32-byte block is two 16-byte NEON loads, and a rewrite such as the
 * i2s-x16 layout of the x86 AVX-512 and AMX tables would pay for itself
 * only if measured on Arm hardware, which emulation cannot do. */

/* the float and element-wise rows, shared by the three tables */
#define NEON_FLOAT_KERNELS                                                                  \
    .rmsnorm_q8 = rmsnorm_q8_neon, .rmsnorm = rmsnorm_neon,                                 \
    .rmsnorm_q8_name = "fast.cpu.neon.rmsnorm_q8", .rmsnorm_name = "fast.cpu.neon.rmsnorm", \
    .f16_gemm = f16_gemm_neon,                                                              \
    .f16_gemv_name = "fast.cpu.neon.f16_gemv", .f16_gemm_name = "fast.cpu.neon.f16_gemm",   \
    .attention_head = attention_head_neon, .attention_name = "fast.cpu.neon.attention",     \
    .i2s_scale = i2s_scale_neon, .relu2_mul = relu2_mul_neon, .add = add_neon,              \
    .relu2_mul_name = "fast.cpu.neon.relu2_mul", .add_name = "fast.cpu.neon.add"

const tc_fast_kernels tc_fast_kernels_neon = {
    .isa = "neon",
    .i2s_gemv = i2s_gemv_neon, .i2s_gemm = i2s_gemm_neon,
    .i2s_gemv_name = "fast.cpu.neon.i2s_gemv", .i2s_gemm_name = "fast.cpu.neon.i2s_gemm",
    NEON_FLOAT_KERNELS,
};

const tc_fast_kernels tc_fast_kernels_neon_dotprod = {
    .isa = "neon_dotprod",
    .i2s_gemv = i2s_gemv_sdot, .i2s_gemm = i2s_gemm_sdot,
    .i2s_gemv_name = "fast.cpu.neon_dotprod.i2s_gemv", .i2s_gemm_name = "fast.cpu.neon_dotprod.i2s_gemm",
    NEON_FLOAT_KERNELS,
};

const tc_fast_kernels tc_fast_kernels_neon_i8mm = {
    .isa = "neon_i8mm",
    .i2s_gemv = i2s_gemv_sdot, .i2s_gemm = i2s_gemm_mm,
    .i2s_gemv_name = "fast.cpu.neon_dotprod.i2s_gemv", .i2s_gemm_name = "fast.cpu.neon_i8mm.i2s_gemm",
    NEON_FLOAT_KERNELS,
};

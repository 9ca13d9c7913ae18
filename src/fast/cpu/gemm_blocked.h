/* gemm_blocked.h -- the I2_S GEMV and cache-blocked GEMM loops, shared by
 * the SIMD variants (AVX2, the NEON tables).  Each includer brings its own
 * row kernels (compiled for its ISA, so they inline) and names them in
 * TC_FAST_I2S_GEMV_GEMM:
 *   int32_t ROW1(const uint8_t *w, size_t K, const int8_t *q);
 *   void    ROW2(const uint8_t *wa, const uint8_t *wb, size_t K, const int8_t *q, int32_t s[2]);
 *   void    ROW4(const uint8_t *w, size_t K, const int8_t *q4, int32_t s[4]);
 * giving sum_i c(i) q_i over one row of codes {0,1,2} (ROW2: two rows
 * against one token; ROW4: one row against four tokens K apart); the
 * qsum subtraction turns that into sum_i (c(i) - 1) q_i (see kernels.h).
 * An output is an exact integer sum, so any split of the rows gives the
 * same bits. */
#ifndef TC_FAST_CPU_GEMM_BLOCKED_H
#define TC_FAST_CPU_GEMM_BLOCKED_H

/* Cache blocking: a block of TC_GEMM_ROWS rows (<= 110 KB of codes for
 * K = 6912, kept in L2) meets every group of 4 tokens (<= 27 KB of
 * activations, kept in L1) before the next block is read.  Without it the
 * row loop streams all n tokens' activations from L2 for every row. */
#define TC_GEMM_ROWS 64

#define TC_FAST_I2S_GEMV_GEMM(ATTR, GEMV, GEMM, ROW1, ROW2, ROW4)                                             \
    /* two streams: rows r and r + half in lockstep (doc/perf.md v8) */                                       \
    static ATTR void GEMV(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q,                  \
                          const int32_t *qsum, int32_t *out)                                                  \
    {                                                                                                         \
        const size_t half = (r1 - r0) / 2;                                                                    \
        for (size_t r = r0; r < r0 + half; r++) {                                                             \
            int32_t s[2];                                                                                     \
            ROW2(w + r * (K / 4), w + (r + half) * (K / 4), K, q, s);                                         \
            out[r] = s[0] - qsum[0];                                                                          \
            out[r + half] = s[1] - qsum[0];                                                                   \
        }                                                                                                     \
        for (size_t r = r0 + 2 * half; r < r1; r++) out[r] = ROW1(w + r * (K / 4), K, q) - qsum[0];           \
    }                                                                                                         \
    static ATTR void GEMM(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q,                  \
                          const int32_t *qsum, size_t n, int32_t *out, size_t ld)                             \
    {                                                                                                         \
        for (size_t rb = r0; rb < r1; rb += TC_GEMM_ROWS) {                                                   \
            const size_t re = rb + TC_GEMM_ROWS < r1 ? rb + TC_GEMM_ROWS : r1;                                \
            size_t t = 0;                                                                                     \
            for (; t + 4 <= n; t += 4)                                                                        \
                for (size_t r = rb; r < re; r++) {                                                            \
                    int32_t s[4];                                                                             \
                    ROW4(w + r * (K / 4), K, q + t * K, s);                                                   \
                    for (int u = 0; u < 4; u++) out[(t + u) * ld + r] = s[u] - qsum[t + u];                   \
                }                                                                                             \
            for (; t < n; t++)                                                                                \
                for (size_t r = rb; r < re; r++)                                                              \
                    out[t * ld + r] = ROW1(w + r * (K / 4), K, q + t * K) - qsum[t];                          \
        }                                                                                                     \
    }

#endif

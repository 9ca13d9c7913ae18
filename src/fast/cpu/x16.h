/* x16.h -- the "i2s-x16" weight layout of the AVX-512 and AMX kernels
 * (internal to src/fast/cpu/): the I2_S codes of a {K, rows} tensor,
 * rewritten once when an engine opens so that one 64-byte load, shifted
 * and masked, gives the codes of 16 rows for 4 consecutive inputs each,
 * the operand vpdpbusd and the AMX tiles take as they are.
 *
 *   Rows in groups of 16 (the last group padded with code 1, value 0);
 *   each group's K inputs in chunks of 64; group g, chunk c is a super-
 *   block of 256 bytes at (g * K/64 + c) * 256.  Its 1024 codes, as the
 *   1024 bytes of a tile B[kk][r*4 + j] = code(row 16g + r, input
 *   64c + 4kk + j) (kk, r < 16, j < 4), are packed two bits each: bits
 *   2f+1:2f of packed byte p hold B byte p + 256 f.  So the 64-byte load i
 *   (i < 4) of a super-block, shifted right by 2f and masked with 3 in
 *   each byte, is tile row kk = 4f + i.
 *
 * Codes are 0, 1, 2 (value code - 1) as in I2_S; code 3 is written as 1.
 * The sums are integers, so any layout gives the same bits. */
#ifndef TC_FAST_CPU_X16_H
#define TC_FAST_CPU_X16_H

#include <stddef.h>
#include <stdint.h>

#define TC_X16_ROWS 16       /* rows per group */
#define TC_X16_CHUNK 64      /* inputs per super-block */
#define TC_X16_BLOCK 256     /* bytes per super-block */

/* Bytes the layout takes for a {K, rows} tensor (K % 128 == 0). */
size_t tc_x16_bytes(size_t K, size_t rows);

/* in: rows x K/4 bytes of I2_S codes (row r at in + r*K/4); out:
 * tc_x16_bytes(K, rows) bytes. */
void tc_x16_repack(const uint8_t *in, size_t K, size_t rows, uint8_t *out);

/* The super-block of group g, chunk c. */
static inline const uint8_t *tc_x16_block(const uint8_t *w, size_t K, size_t g, size_t c)
{
    return w + (g * (K / TC_X16_CHUNK) + c) * TC_X16_BLOCK;
}

/* The lanes of group g inside rows [r0, r1), as a 16-bit mask. */
static inline unsigned tc_x16_lanes(size_t g, size_t r0, size_t r1)
{
    const size_t lo = g * TC_X16_ROWS > r0 ? g * TC_X16_ROWS : r0;
    const size_t hi = g * TC_X16_ROWS + TC_X16_ROWS < r1 ? g * TC_X16_ROWS + TC_X16_ROWS : r1;
    return ((1u << (hi - lo)) - 1u) << (lo - g * TC_X16_ROWS);
}

/* The one blocking loop of the x16 GEMMs (AVX-512 VNNI, AMX): a block of
 * TC_X16_GEMM_GROUPS groups (64 rows: <= 110 KB of codes for K = 6912,
 * kept in L2) meets every tile of TILE tokens before the next block is
 * read.  Each ISA brings its micro-kernels, compiled for it:
 *   MICRO(w, K, gb, ge, r0, r1, q, qsum, out, ld): TILE tokens (rows of q,
 *         K apart) against groups [gb, ge), rows [r0, r1) stored;
 *   REST(w, K, gb, ge, r0, r1, q, qsum, n, out, ld): the last n < TILE.
 * Both write out[t*ld + r] = sum_i (c(r,i) - 1) q[t*K + i]. */
#define TC_X16_GEMM_GROUPS 4

#define TC_X16_GEMM(ATTR, NAME, TILE, MICRO, REST)                                                      \
    ATTR void NAME(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q, const int32_t *qsum, \
                   size_t n, int32_t *out, size_t ld)                                                   \
    {                                                                                                   \
        const size_t g_end = (r1 + TC_X16_ROWS - 1) / TC_X16_ROWS;                                      \
        for (size_t gb = r0 / TC_X16_ROWS; gb < g_end; gb += TC_X16_GEMM_GROUPS) {                      \
            const size_t ge = gb + TC_X16_GEMM_GROUPS < g_end ? gb + TC_X16_GEMM_GROUPS : g_end;        \
            size_t t = 0;                                                                               \
            for (; t + (TILE) <= n; t += (TILE)) MICRO(w, K, gb, ge, r0, r1, q + t * K, qsum + t, out + t * ld, ld); \
            if (t < n) REST(w, K, gb, ge, r0, r1, q + t * K, qsum + t, n - t, out + t * ld, ld);         \
        }                                                                                               \
    }

#endif

/* x16.c -- rewriting I2_S codes into the i2s-x16 layout (x16.h): plain C,
 * once per tensor when an engine opens. */
#include <string.h>

#include "fast/cpu/x16.h"

size_t tc_x16_bytes(size_t K, size_t rows)
{
    const size_t groups = (rows + TC_X16_ROWS - 1) / TC_X16_ROWS;
    return groups * (K / TC_X16_CHUNK) * TC_X16_BLOCK;
}

/* x with every 2-bit field 3 written as 1 (value 0, as SPEC 1.2 reads it) */
static inline unsigned no_code3(unsigned x)
{
    const unsigned both = (x >> 1) & x & 0x55u;
    return x & ~(both << 1);
}

/* Super-block (g, c): packed byte p = 64 i + 4 r + j holds, in field f,
 * the code of row 16g + r for input 64c + k + 16 f with k = 4i + j
 * (x16.h).  Inputs 64c .. 64c + 63 are elements e0 .. e0 + 63 of I2_S
 * block c/2 (e0 = 0 or 64), whose element e sits in byte e % 32 at shift
 * 6 - 2 (e / 32): fields 0 and 1 are bytes k and k + 16 at shift s, fields
 * 2 and 3 the same bytes at shift s - 2, with s = 6 (c even) or 2. */
void tc_x16_repack(const uint8_t *in, size_t K, size_t rows, uint8_t *out)
{
    const size_t groups = (rows + TC_X16_ROWS - 1) / TC_X16_ROWS, chunks = K / TC_X16_CHUNK;
    for (size_t g = 0; g < groups; g++)
        for (size_t c = 0; c < chunks; c++) {
            uint8_t *blk = out + (g * chunks + c) * TC_X16_BLOCK;
            const unsigned s = c % 2 ? 2 : 6;
            for (size_t r = 0; r < TC_X16_ROWS; r++) {
                const size_t row = g * TC_X16_ROWS + r;
                const uint8_t *b = in + row * (K / 4) + c / 2 * 32;
                for (size_t k = 0; k < 16; k++) {
                    uint8_t *o = blk + 64 * (k / 4) + 4 * r + k % 4;
                    if (row >= rows) {   /* padding rows: code 1, value 0 */
                        *o = 0x55;
                        continue;
                    }
                    const unsigned b0 = no_code3(b[k]), b1 = no_code3(b[k + 16]);
                    *o = (uint8_t)((b0 >> s & 3u) | (b1 >> s & 3u) << 2 | (b0 >> (s - 2) & 3u) << 4 |
                                   (b1 >> (s - 2) & 3u) << 6);
                }
            }
        }
}

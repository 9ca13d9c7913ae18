/* types.h -- tensor type traits, the I2_S packing and llama.cpp's ternary
 * TQ1_0/TQ2_0 blocks (SPEC 1.2, doc/q8k.md).
 *
 * One row per tensor type in one table (tc_type_traits), indexed through
 * tc_type_info().  Adding a type is adding a row.
 */
#ifndef TC_TYPES_H
#define TC_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

/* GGUF type ids (ggml_type). */
typedef enum tc_type {
    TC_TYPE_F32 = 0,
    TC_TYPE_F16 = 1,
    TC_TYPE_BF16 = 30,
    TC_TYPE_TQ1_0 = 34,
    TC_TYPE_TQ2_0 = 35,
    TC_TYPE_I2_S = 36
} tc_type;

/* I2_S layout constants. */
#define TC_I2S_BLOCK 128        /* elements per packed block */
#define TC_I2S_BLOCK_BYTES 32   /* bytes per packed block */
#define TC_I2S_TAIL_BYTES 32    /* float32 scale + 28 bytes of padding */

/* TQ1_0 / TQ2_0 layout constants: blocks of 256 elements (llama.cpp's
 * QK_K), each with its own F16 scale d; an element is trit * d. */
#define TC_QK_K 256             /* elements per TQ block (and per Q8_K block) */
#define TC_TQ1_QS_BYTES 48      /* TQ1_0: 240 elements, five trits a byte */
#define TC_TQ1_QH_BYTES 4       /* TQ1_0: the last 16 elements, four trits a byte */
#define TC_TQ1_BLOCK_BYTES 54   /* qs[48], qh[4], F16 d */
#define TC_TQ2_QS_BYTES 64      /* TQ2_0: four 2-bit codes a byte */
#define TC_TQ2_BLOCK_BYTES 66   /* qs[64], F16 d */

/* Traits of one tensor type. */
typedef struct tc_type_traits {
    tc_type type;
    const char *name;     /* "F32", "I2_S" */
    size_t block_size;    /* elements per block; ne[0] must be a multiple */
    size_t block_bytes;   /* bytes per block of packed data */
    size_t tail_bytes;    /* bytes after the packed data (I2_S: 32) */
    /* Decode n elements starting at element `first` of a tensor whose data
     * starts at `data` (of `nbytes` bytes in all) into float. */
    void (*to_float)(const void *data, size_t nbytes, size_t first, size_t n, float *out);
} tc_type_traits;

/* Traits of type id t, or NULL for an unknown id. */
const tc_type_traits *tc_type_info(uint32_t t);

/* Name of type id t ("F32"), or "unknown" for an id not in the table. */
const char *tc_type_name(uint32_t t);

/* Parse a type name (case-insensitive "f32", "f16", "bf16", "tq1_0",
 * "tq2_0", "i2_s").
 * Returns TC_OK or TC_E_USAGE. */
tc_status tc_type_from_name(const char *name, tc_type *out);

/* Bytes a tensor of n elements occupies, or 0 when n is not a multiple of
 * the block size or the size overflows size_t. */
size_t tc_type_nbytes(tc_type t, uint64_t n);

/* ---- scalar conversions ---- */
float tc_f16_to_f32(uint16_t h);
uint16_t tc_f32_to_f16(float f);   /* round to nearest even; NaN stays NaN */
float tc_bf16_to_f32(uint16_t h);
uint16_t tc_f32_to_bf16(float f);  /* round to nearest even; NaN stays NaN */

/* ---- I2_S ---- */

/* Code values: the 2-bit code c stands for (c - 1) in {-1, 0, +1};
 * code 3 is unused and reads as 0. */
static inline int tc_i2s_code_value(unsigned code) { return code == 3 ? 0 : (int)code - 1; }

/* The 2-bit code of element i of packed I2_S data.  Element i lives in
 * block i/128, byte (i%128)%32, bits 7:6, 5:4, 3:2, 1:0 for the groups
 * (i%128)/32 = 0, 1, 2, 3. */
static inline unsigned tc_i2s_code(const uint8_t *packed, size_t i)
{
    size_t in_block = i % TC_I2S_BLOCK;
    uint8_t byte = packed[(i / TC_I2S_BLOCK) * TC_I2S_BLOCK_BYTES + in_block % 32];
    return (byte >> (6 - 2 * (in_block / 32))) & 3u;
}

/* Pack n ternary values (-1, 0, +1; n % 128 == 0) and the scale into
 * out[n/4 + 32].  Padding is written as zeros.  Returns TC_E_RANGE if a
 * value is not ternary or n is not a multiple of 128. */
tc_status tc_i2s_pack(const int8_t *ternary, size_t n, float scale, uint8_t *out);

/* Unpack n values (n % 128 == 0) into ternary[-1..1] and return the scale
 * read from byte n/4.  Counts code 3 occurrences in *n_code3 if not NULL. */
float tc_i2s_unpack(const uint8_t *data, size_t n, int8_t *ternary, size_t *n_code3);

/* The per-tensor scale of an I2_S tensor of n elements. */
float tc_i2s_scale(const uint8_t *data, size_t n);

/* ---- TQ1_0 and TQ2_0 (llama.cpp's ternary types) ----
 *
 * TQ2_0 block (66 bytes): qs[64] then d.  Element i (0..255) is in byte
 * 32*(i/128) + i%32, bits 2g+1:2g with g = (i%128)/32; code c stands for
 * c - 1.  Code 3 is never written; llama.cpp reads it as +2 (c - 1), and
 * so does tritcheck, so that a decode is what llama.cpp computes with.
 *
 * TQ1_0 block (54 bytes): qs[48], qh[4], then d.  Each byte holds trits
 * t_0..t_4 (t in {0,1,2} for -1, 0, +1) as ceil(256 * q / 243) with
 * q = sum_n t_n 3^(4-n); qh bytes hold four trits and t_4 = 0.  Trit n of
 * byte b is ((uint8_t)(b * 3^n) * 3) >> 8.  Element i is trit i/32 of
 * qs[i%32] for i < 160, trit (i-160)/16 of qs[32 + (i-160)%16] for
 * i < 240, and trit (i-240)/4 of qh[(i-240)%4] for the last 16.
 * Every byte decodes to trits 0..2: no code is invalid. */

/* The value (-1, 0, +1; +2 for TQ2_0's unused code 3) of element i
 * (0..255) of one block. */
int tc_tq1_value(const uint8_t *block, unsigned i);
int tc_tq2_value(const uint8_t *block, unsigned i);

/* The block's scale d (F16 bits, at the block's last two bytes). */
uint16_t tc_tq1_scale_bits(const uint8_t *block);
uint16_t tc_tq2_scale_bits(const uint8_t *block);

/* Pack 256 ternary values (-1, 0, +1) and the F16 scale bits d into one
 * block.  Returns TC_E_RANGE (nothing meaningful written) when a value is
 * not ternary. */
tc_status tc_tq1_pack_block(const int8_t *ternary, uint16_t d, uint8_t out[TC_TQ1_BLOCK_BYTES]);
tc_status tc_tq2_pack_block(const int8_t *ternary, uint16_t d, uint8_t out[TC_TQ2_BLOCK_BYTES]);

#endif

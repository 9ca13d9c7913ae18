/* types.h -- tensor type traits and the I2_S packing (SPEC 1.2).
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
    TC_TYPE_I2_S = 36
} tc_type;

/* I2_S layout constants. */
#define TC_I2S_BLOCK 128        /* elements per packed block */
#define TC_I2S_BLOCK_BYTES 32   /* bytes per packed block */
#define TC_I2S_TAIL_BYTES 32    /* float32 scale + 28 bytes of padding */

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

/* Parse a type name (case-insensitive "f32", "f16", "bf16", "i2_s").
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

#endif

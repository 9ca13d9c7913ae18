/* types.c -- tensor type traits, half/bfloat conversions, I2_S packing,
 * TQ1_0/TQ2_0 blocks. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "format/types.h"

_Static_assert(TC_I2S_BLOCK == 4 * TC_I2S_BLOCK_BYTES, "I2_S: four 2-bit codes per byte");
_Static_assert(sizeof(float) == 4, "I2_S scale is a 4-byte float");
_Static_assert(sizeof(uint16_t) == 2, "F16/BF16 are 2 bytes");
_Static_assert(TC_TQ1_QS_BYTES * 5 + TC_TQ1_QH_BYTES * 4 == TC_QK_K, "TQ1_0: 240 + 16 trits per block");
_Static_assert(TC_TQ1_BLOCK_BYTES == TC_TQ1_QS_BYTES + TC_TQ1_QH_BYTES + 2, "TQ1_0: qs, qh, F16 d");
_Static_assert(TC_TQ2_QS_BYTES * 4 == TC_QK_K, "TQ2_0: four 2-bit codes per byte");
_Static_assert(TC_TQ2_BLOCK_BYTES == TC_TQ2_QS_BYTES + 2, "TQ2_0: qs, F16 d");

/* ---- scalar conversions ---- */

static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float tc_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0x1f)                       /* Inf or NaN: keep the payload */
        return bits_f32(sign | 0x7f800000u | (man << 13));
    if (exp != 0)                          /* normal */
        return bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
    if (man == 0)                          /* signed zero */
        return bits_f32(sign);
    /* subnormal: man * 2^-24, exact in float */
    float v = (float)man * 0x1p-24f;
    return sign ? -v : v;
}

uint16_t tc_f32_to_f16(float f)
{
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u)                 /* NaN: quiet, keep top payload bits */
        return (uint16_t)(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
    if (abs >= 0x477ff000u)                /* rounds to >= 65520: Inf */
        return (uint16_t)(sign | 0x7c00u);
    if (abs < 0x38800000u) {               /* below 2^-14: subnormal or zero */
        /* value * 2^24 rounded to nearest even gives the subnormal mantissa */
        uint32_t shift = 126u - (abs >> 23);          /* >= 14 */
        if (shift > 24) return sign;                  /* < 2^-25: rounds to 0 */
        uint32_t man = (abs & 0x7fffffu) | 0x800000u;
        uint32_t q = man >> shift, rem = man & ((1u << shift) - 1u), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1u))) q++;
        return (uint16_t)(sign | q);
    }
    /* normal: rebias exponent and round the 13 dropped bits to nearest even */
    uint32_t r = abs - 0x38000000u;                   /* exponent 127 -> 15 */
    uint32_t q = r >> 13, rem = r & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1u))) q++;
    return (uint16_t)(sign | q);
}

float tc_bf16_to_f32(uint16_t h)
{
    return bits_f32((uint32_t)h << 16);
}

uint16_t tc_f32_to_bf16(float f)
{
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)   /* NaN: force quiet */
        return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);       /* round to nearest even */
    return (uint16_t)(u >> 16);
}

/* ---- to_float rows of the traits table ---- */

static void f32_to_float(const void *data, size_t nbytes, size_t first, size_t n, float *out)
{
    (void)nbytes;
    memcpy(out, (const float *)data + first, n * sizeof(float));
}

static void f16_to_float(const void *data, size_t nbytes, size_t first, size_t n, float *out)
{
    (void)nbytes;
    const uint8_t *p = (const uint8_t *)data + 2 * first;
    for (size_t i = 0; i < n; i++)
        out[i] = tc_f16_to_f32((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
}

static void bf16_to_float(const void *data, size_t nbytes, size_t first, size_t n, float *out)
{
    (void)nbytes;
    const uint8_t *p = (const uint8_t *)data + 2 * first;
    for (size_t i = 0; i < n; i++)
        out[i] = tc_bf16_to_f32((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
}

/* I2_S: code value times the per-tensor scale at byte (nbytes - 32). */
static void i2s_to_float(const void *data, size_t nbytes, size_t first, size_t n, float *out)
{
    const uint8_t *p = data;
    float scale;
    memcpy(&scale, p + nbytes - TC_I2S_TAIL_BYTES, sizeof scale);
    for (size_t i = 0; i < n; i++)
        out[i] = (float)tc_i2s_code_value(tc_i2s_code(p, first + i)) * scale;
}

/* TQ1_0 / TQ2_0: trit * d, block by block (d is per block of 256). */
static void tq_to_float(const uint8_t *p, size_t block_bytes, int (*value)(const uint8_t *, unsigned),
                        size_t first, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) {
        const size_t e = first + i;
        const uint8_t *blk = p + (e / TC_QK_K) * block_bytes;
        const float d = tc_f16_to_f32((uint16_t)(blk[block_bytes - 2] | (blk[block_bytes - 1] << 8)));
        out[i] = (float)value(blk, (unsigned)(e % TC_QK_K)) * d;
    }
}

static void tq1_to_float(const void *data, size_t nbytes, size_t first, size_t n, float *out)
{
    (void)nbytes;
    tq_to_float(data, TC_TQ1_BLOCK_BYTES, tc_tq1_value, first, n, out);
}

static void tq2_to_float(const void *data, size_t nbytes, size_t first, size_t n, float *out)
{
    (void)nbytes;
    tq_to_float(data, TC_TQ2_BLOCK_BYTES, tc_tq2_value, first, n, out);
}

static const tc_type_traits tc_type_traits_table[] = {
    { TC_TYPE_F32,  "F32",  1, 4, 0, f32_to_float },
    { TC_TYPE_F16,  "F16",  1, 2, 0, f16_to_float },
    { TC_TYPE_BF16, "BF16", 1, 2, 0, bf16_to_float },
    { TC_TYPE_TQ1_0, "TQ1_0", TC_QK_K, TC_TQ1_BLOCK_BYTES, 0, tq1_to_float },
    { TC_TYPE_TQ2_0, "TQ2_0", TC_QK_K, TC_TQ2_BLOCK_BYTES, 0, tq2_to_float },
    { TC_TYPE_I2_S, "I2_S", TC_I2S_BLOCK, TC_I2S_BLOCK_BYTES, TC_I2S_TAIL_BYTES, i2s_to_float },
};

const tc_type_traits *tc_type_info(uint32_t t)
{
    for (size_t i = 0; i < sizeof tc_type_traits_table / sizeof tc_type_traits_table[0]; i++)
        if ((uint32_t)tc_type_traits_table[i].type == t)
            return &tc_type_traits_table[i];
    return NULL;
}

const char *tc_type_name(uint32_t t)
{
    const tc_type_traits *tr = tc_type_info(t);
    return tr ? tr->name : "unknown";
}

tc_status tc_type_from_name(const char *name, tc_type *out)
{
    for (size_t i = 0; i < sizeof tc_type_traits_table / sizeof tc_type_traits_table[0]; i++) {
        const char *a = tc_type_traits_table[i].name, *b = name;
        while (*a && *b && toupper((unsigned char)*a) == toupper((unsigned char)*b)) a++, b++;
        if (*a == '\0' && *b == '\0') {
            *out = tc_type_traits_table[i].type;
            return TC_OK;
        }
    }
    return TC_E_USAGE;
}

size_t tc_type_nbytes(tc_type t, uint64_t n)
{
    const tc_type_traits *tr = tc_type_info(t);
    if (!tr || n % tr->block_size != 0) return 0;
    uint64_t blocks = n / tr->block_size;
    if (blocks > (SIZE_MAX - tr->tail_bytes) / tr->block_bytes) return 0;
    return (size_t)(blocks * tr->block_bytes + tr->tail_bytes);
}

/* ---- I2_S ---- */

tc_status tc_i2s_pack(const int8_t *ternary, size_t n, float scale, uint8_t *out)
{
    if (n % TC_I2S_BLOCK != 0) return TC_E_RANGE;
    for (size_t b = 0; b < n / TC_I2S_BLOCK; b++) {
        const int8_t *t = ternary + b * TC_I2S_BLOCK;
        uint8_t *o = out + b * TC_I2S_BLOCK_BYTES;
        for (size_t j = 0; j < 32; j++) {
            uint8_t byte = 0;
            for (size_t g = 0; g < 4; g++) {
                int v = t[32 * g + j];
                if (v < -1 || v > 1) return TC_E_RANGE;
                byte |= (uint8_t)((v + 1) << (6 - 2 * g));
            }
            o[j] = byte;
        }
    }
    memcpy(out + n / 4, &scale, sizeof scale);
    memset(out + n / 4 + sizeof scale, 0, TC_I2S_TAIL_BYTES - sizeof scale);
    return TC_OK;
}

float tc_i2s_unpack(const uint8_t *data, size_t n, int8_t *ternary, size_t *n_code3)
{
    size_t threes = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = tc_i2s_code(data, i);
        threes += c == 3;
        ternary[i] = (int8_t)tc_i2s_code_value(c);
    }
    if (n_code3) *n_code3 = threes;
    return tc_i2s_scale(data, n);
}

float tc_i2s_scale(const uint8_t *data, size_t n)
{
    float scale;
    memcpy(&scale, data + n / 4, sizeof scale);
    return scale;
}

/* ---- TQ1_0 and TQ2_0 ---- */

int tc_tq2_value(const uint8_t *block, unsigned i)
{
    const uint8_t byte = block[32 * (i / 128) + i % 32];
    return (int)((byte >> (2 * ((i % 128) / 32))) & 3u) - 1;
}

/* Trit n (0..4) of a TQ1_0 byte: 0, 1 or 2.  Multiplying by 3^n moves trit
 * n to the top of the byte's base-3 fraction b/256; *3 >> 8 reads it. */
static unsigned tq1_trit(uint8_t b, unsigned n)
{
    static const uint8_t pow3[5] = { 1, 3, 9, 27, 81 };
    const uint8_t shifted = (uint8_t)(b * pow3[n]);
    return ((unsigned)shifted * 3u) >> 8;
}

int tc_tq1_value(const uint8_t *block, unsigned i)
{
    unsigned t;
    if (i < 160) t = tq1_trit(block[i % 32], i / 32);
    else if (i < 240) t = tq1_trit(block[32 + (i - 160) % 16], (i - 160) / 16);
    else t = tq1_trit(block[TC_TQ1_QS_BYTES + (i - 240) % 4], (i - 240) / 4);
    return (int)t - 1;
}

uint16_t tc_tq1_scale_bits(const uint8_t *block)
{
    return (uint16_t)(block[TC_TQ1_BLOCK_BYTES - 2] | (block[TC_TQ1_BLOCK_BYTES - 1] << 8));
}

uint16_t tc_tq2_scale_bits(const uint8_t *block)
{
    return (uint16_t)(block[TC_TQ2_BLOCK_BYTES - 2] | (block[TC_TQ2_BLOCK_BYTES - 1] << 8));
}

static bool all_ternary(const int8_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (t[i] < -1 || t[i] > 1) return false;
    return true;
}

tc_status tc_tq2_pack_block(const int8_t *ternary, uint16_t d, uint8_t out[TC_TQ2_BLOCK_BYTES])
{
    if (!all_ternary(ternary, TC_QK_K)) return TC_E_RANGE;
    memset(out, 0, TC_TQ2_QS_BYTES);
    for (unsigned i = 0; i < TC_QK_K; i++)
        out[32 * (i / 128) + i % 32] |= (uint8_t)((ternary[i] + 1) << (2 * ((i % 128) / 32)));
    out[TC_TQ2_QS_BYTES] = (uint8_t)(d & 0xff);
    out[TC_TQ2_QS_BYTES + 1] = (uint8_t)(d >> 8);
    return TC_OK;
}

/* One TQ1_0 byte from up to five trits (the first most significant): the
 * base-3 number q, stored as ceil(256 q / 243) so that the trits can be
 * read back by multiplication (tq1_trit). */
static uint8_t tq1_byte(const int8_t *ternary, const unsigned *elems, unsigned n_trits)
{
    unsigned q = 0;
    for (unsigned n = 0; n < 5; n++) q = 3 * q + (n < n_trits ? (unsigned)(ternary[elems[n]] + 1) : 0u);
    return (uint8_t)((q * 256u + 242u) / 243u);
}

tc_status tc_tq1_pack_block(const int8_t *ternary, uint16_t d, uint8_t out[TC_TQ1_BLOCK_BYTES])
{
    if (!all_ternary(ternary, TC_QK_K)) return TC_E_RANGE;
    unsigned el[5];
    for (unsigned m = 0; m < 32; m++) {          /* elements m + 32n, n < 5 */
        for (unsigned n = 0; n < 5; n++) el[n] = m + 32 * n;
        out[m] = tq1_byte(ternary, el, 5);
    }
    for (unsigned m = 0; m < 16; m++) {          /* elements 160 + m + 16n */
        for (unsigned n = 0; n < 5; n++) el[n] = 160 + m + 16 * n;
        out[32 + m] = tq1_byte(ternary, el, 5);
    }
    for (unsigned j = 0; j < TC_TQ1_QH_BYTES; j++) {   /* elements 240 + j + 4n, n < 4 */
        for (unsigned n = 0; n < 4; n++) el[n] = 240 + j + 4 * n;
        out[TC_TQ1_QS_BYTES + j] = tq1_byte(ternary, el, 4);
    }
    out[TC_TQ1_BLOCK_BYTES - 2] = (uint8_t)(d & 0xff);
    out[TC_TQ1_BLOCK_BYTES - 1] = (uint8_t)(d >> 8);
    return TC_OK;
}

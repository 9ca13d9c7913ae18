/* types.c -- tensor type traits, half/bfloat conversions, I2_S packing. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "format/types.h"

_Static_assert(TC_I2S_BLOCK == 4 * TC_I2S_BLOCK_BYTES, "I2_S: four 2-bit codes per byte");
_Static_assert(sizeof(float) == 4, "I2_S scale is a 4-byte float");
_Static_assert(sizeof(uint16_t) == 2, "F16/BF16 are 2 bytes");

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

static const tc_type_traits tc_type_traits_table[] = {
    { TC_TYPE_F32,  "F32",  1, 4, 0, f32_to_float },
    { TC_TYPE_F16,  "F16",  1, 2, 0, f16_to_float },
    { TC_TYPE_BF16, "BF16", 1, 2, 0, bf16_to_float },
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

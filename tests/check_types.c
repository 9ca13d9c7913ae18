/* check_types.c -- F16/BF16 conversions, the traits table, I2_S packing. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/types.h"
#include "testutil.h"

static float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* ---- F16 ---- */

START_TEST(f16_to_f32_edges)
{
    ck_assert_float_eq(tc_f16_to_f32(0x0001), 0x1p-24f);              /* min subnormal */
    ck_assert_float_eq(tc_f16_to_f32(0x03ff), 1023.0f * 0x1p-24f);    /* max subnormal */
    ck_assert_float_eq(tc_f16_to_f32(0x8001), -0x1p-24f);
    ck_assert_float_eq(tc_f16_to_f32(0x0400), 0x1p-14f);              /* min normal */
    ck_assert_float_eq(tc_f16_to_f32(0x7bff), 65504.0f);              /* max normal */
    ck_assert_float_eq(tc_f16_to_f32(0x3c00), 1.0f);
    ck_assert_float_eq(tc_f16_to_f32(0xc000), -2.0f);
    ck_assert_float_eq(tc_f16_to_f32(0x40c5), 2.384765625f);          /* 2 * (1 + 197/1024) */
    ck_assert_uint_eq(f32_bits(tc_f16_to_f32(0x0000)), 0x00000000u);
    ck_assert_uint_eq(f32_bits(tc_f16_to_f32(0x8000)), 0x80000000u);  /* -0 keeps its sign */
    ck_assert_uint_eq(f32_bits(tc_f16_to_f32(0x7c00)), 0x7f800000u);
    ck_assert_uint_eq(f32_bits(tc_f16_to_f32(0xfc00)), 0xff800000u);
    ck_assert(isnan(tc_f16_to_f32(0x7e00)));
    ck_assert(isnan(tc_f16_to_f32(0x7c01)));                          /* signalling payload */
    ck_assert(isnan(tc_f16_to_f32(0xffff)));
}
END_TEST

START_TEST(f32_to_f16_edges)
{
    ck_assert_uint_eq(tc_f32_to_f16(2.385f), 0x40c5);
    ck_assert_uint_eq(tc_f32_to_f16(-2.385f), 0xc0c5);
    ck_assert_uint_eq(tc_f32_to_f16(1.0f), 0x3c00);
    ck_assert_uint_eq(tc_f32_to_f16(0.0f), 0x0000);
    ck_assert_uint_eq(tc_f32_to_f16(-0.0f), 0x8000);
    ck_assert_uint_eq(tc_f32_to_f16(INFINITY), 0x7c00);
    ck_assert_uint_eq(tc_f32_to_f16(-INFINITY), 0xfc00);
    /* ties to even: 1 + 2^-11 lies halfway between 0x3c00 and 0x3c01 */
    ck_assert_uint_eq(tc_f32_to_f16(1.0f + 0x1p-11f), 0x3c00);
    ck_assert_uint_eq(tc_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);
    ck_assert_uint_eq(tc_f32_to_f16(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);
    ck_assert_uint_eq(tc_f32_to_f16(1.0f + 0x1p-11f - 0x1p-20f), 0x3c00);
    /* the same ties with the sign set: half to even, not away from zero */
    ck_assert_uint_eq(tc_f32_to_f16(-(1.0f + 0x1p-11f)), 0xbc00);
    ck_assert_uint_eq(tc_f32_to_f16(-(1.0f + 3 * 0x1p-11f)), 0xbc02);
    ck_assert_uint_eq(tc_f32_to_f16(-1023.5f * 0x1p-24f), 0x8400);
    ck_assert_uint_eq(tc_f32_to_f16(-1022.5f * 0x1p-24f), 0x83fe);
    ck_assert_uint_eq(tc_f32_to_f16(-0x1p-25f), 0x8000);
    /* overflow: 65520 is the tie between 65504 and 2^16 and rounds to Inf */
    ck_assert_uint_eq(tc_f32_to_f16(65504.0f), 0x7bff);
    ck_assert_uint_eq(tc_f32_to_f16(65519.996f), 0x7bff);
    ck_assert_uint_eq(tc_f32_to_f16(65520.0f), 0x7c00);
    ck_assert_uint_eq(tc_f32_to_f16(-65520.0f), 0xfc00);
    ck_assert_uint_eq(tc_f32_to_f16(1e10f), 0x7c00);
    ck_assert_uint_eq(tc_f32_to_f16(FLT_MAX), 0x7c00);
    /* subnormals and underflow */
    ck_assert_uint_eq(tc_f32_to_f16(0x1p-24f), 0x0001);
    ck_assert_uint_eq(tc_f32_to_f16(1023.0f * 0x1p-24f), 0x03ff);
    ck_assert_uint_eq(tc_f32_to_f16(1023.5f * 0x1p-24f), 0x0400);     /* tie: rounds up to even 0x400 */
    ck_assert_uint_eq(tc_f32_to_f16(1022.5f * 0x1p-24f), 0x03fe);     /* tie: rounds down to even */
    ck_assert_uint_eq(tc_f32_to_f16(0x1p-14f), 0x0400);
    ck_assert_uint_eq(tc_f32_to_f16(0x1p-25f), 0x0000);               /* tie between 0 and min: 0 */
    ck_assert_uint_eq(tc_f32_to_f16(nextafterf(0x1p-25f, 1.0f)), 0x0001);
    ck_assert_uint_eq(tc_f32_to_f16(3 * 0x1p-25f), 0x0002);           /* tie between 1 and 2: 2 */
    ck_assert_uint_eq(tc_f32_to_f16(0x1p-26f), 0x0000);
    ck_assert_uint_eq(tc_f32_to_f16(-0x1p-24f), 0x8001);
    ck_assert_uint_eq(tc_f32_to_f16(-0x1p-30f), 0x8000);
    ck_assert_uint_eq(tc_f32_to_f16(bits_f32(0x00000001u)), 0x0000);  /* f32 subnormal */
    ck_assert_uint_eq(tc_f32_to_f16(FLT_MIN), 0x0000);
    /* NaN stays NaN, even with the payload only in the low bits */
    uint16_t h = tc_f32_to_f16(NAN);
    ck_assert((h & 0x7c00) == 0x7c00 && (h & 0x03ff) != 0);
    h = tc_f32_to_f16(bits_f32(0x7f800001u));
    ck_assert((h & 0x7c00) == 0x7c00 && (h & 0x03ff) != 0);
    h = tc_f32_to_f16(bits_f32(0xffc00000u));
    ck_assert((h & 0x7c00) == 0x7c00 && (h & 0x03ff) != 0);
}
END_TEST

/* Every one of the 65536 half patterns survives f16 -> f32 -> f16. */
START_TEST(f16_roundtrip_exhaustive)
{
    for (uint32_t i = 0; i < 65536; i++) {
        uint16_t h = (uint16_t)i;
        float f = tc_f16_to_f32(h);
        uint16_t back = tc_f32_to_f16(f);
        if ((h & 0x7c00) == 0x7c00 && (h & 0x03ff) != 0) {
            ck_assert_msg(isnan(f), "f16 0x%04x: expected NaN", h);
            ck_assert_msg((back & 0x7c00) == 0x7c00 && (back & 0x03ff) != 0, "f16 0x%04x: NaN came back as 0x%04x", h, back);
            ck_assert_uint_eq(back & 0x8000, h & 0x8000);
        } else {
            ck_assert_msg(back == h, "f16 0x%04x -> %.9g -> 0x%04x", h, (double)f, back);
        }
    }
}
END_TEST

/* ---- BF16 ---- */

START_TEST(bf16_edges)
{
    ck_assert_float_eq(tc_bf16_to_f32(0x3f80), 1.0f);
    ck_assert_float_eq(tc_bf16_to_f32(0xc000), -2.0f);
    ck_assert_float_eq(tc_bf16_to_f32(0x4019), 2.390625f);
    ck_assert_float_eq(tc_bf16_to_f32(0x0001), 0x1p-133f);            /* min subnormal */
    ck_assert_float_eq(tc_bf16_to_f32(0x007f), 127.0f * 0x1p-133f);   /* max subnormal */
    ck_assert_float_eq(tc_bf16_to_f32(0x7f7f), bits_f32(0x7f7f0000u)); /* max finite */
    ck_assert_uint_eq(f32_bits(tc_bf16_to_f32(0x8000)), 0x80000000u);
    ck_assert_uint_eq(f32_bits(tc_bf16_to_f32(0x7f80)), 0x7f800000u);
    ck_assert_uint_eq(f32_bits(tc_bf16_to_f32(0xff80)), 0xff800000u);
    ck_assert(isnan(tc_bf16_to_f32(0x7fc0)));
    ck_assert(isnan(tc_bf16_to_f32(0x7f81)));

    /* 2.385f is 0x4018a3d7: the dropped half 0xa3d7 > 0x8000 rounds up */
    ck_assert_uint_eq(tc_f32_to_bf16(2.385f), 0x4019);
    ck_assert_uint_eq(tc_f32_to_bf16(-2.385f), 0xc019);
    ck_assert_uint_eq(tc_f32_to_bf16(0.0f), 0x0000);
    ck_assert_uint_eq(tc_f32_to_bf16(-0.0f), 0x8000);
    ck_assert_uint_eq(tc_f32_to_bf16(INFINITY), 0x7f80);
    ck_assert_uint_eq(tc_f32_to_bf16(-INFINITY), 0xff80);
    /* ties to even */
    ck_assert_uint_eq(tc_f32_to_bf16(bits_f32(0x3f808000u)), 0x3f80);
    ck_assert_uint_eq(tc_f32_to_bf16(bits_f32(0x3f818000u)), 0x3f82);
    ck_assert_uint_eq(tc_f32_to_bf16(bits_f32(0x3f808001u)), 0x3f81);
    ck_assert_uint_eq(tc_f32_to_bf16(bits_f32(0x3f807fffu)), 0x3f80);
    ck_assert_uint_eq(tc_f32_to_bf16(bits_f32(0xbf808000u)), 0xbf80);   /* negative ties */
    ck_assert_uint_eq(tc_f32_to_bf16(bits_f32(0xbf818000u)), 0xbf82);
    /* overflow to Inf, subnormals */
    ck_assert_uint_eq(tc_f32_to_bf16(FLT_MAX), 0x7f80);
    ck_assert_uint_eq(tc_f32_to_bf16(bits_f32(0x7f7f7fffu)), 0x7f7f);
    ck_assert_uint_eq(tc_f32_to_bf16(0x1p-133f), 0x0001);
    ck_assert_uint_eq(tc_f32_to_bf16(bits_f32(0x00008000u)), 0x0000); /* tie: to even 0 */
    ck_assert_uint_eq(tc_f32_to_bf16(bits_f32(0x00018000u)), 0x0002);
    /* NaN stays NaN, including a payload only in the dropped low bits */
    uint16_t h = tc_f32_to_bf16(NAN);
    ck_assert((h & 0x7f80) == 0x7f80 && (h & 0x7f) != 0);
    h = tc_f32_to_bf16(bits_f32(0x7f800001u));
    ck_assert((h & 0x7f80) == 0x7f80 && (h & 0x7f) != 0);
    h = tc_f32_to_bf16(bits_f32(0xff80ffffu));
    ck_assert((h & 0x7f80) == 0x7f80 && (h & 0x7f) != 0 && (h & 0x8000));
}
END_TEST

START_TEST(bf16_roundtrip_exhaustive)
{
    for (uint32_t i = 0; i < 65536; i++) {
        uint16_t h = (uint16_t)i;
        uint16_t back = tc_f32_to_bf16(tc_bf16_to_f32(h));
        if ((h & 0x7f80) == 0x7f80 && (h & 0x7f) != 0)
            ck_assert_msg((back & 0x7f80) == 0x7f80 && (back & 0x7f) != 0, "bf16 0x%04x: NaN lost", h);
        else
            ck_assert_msg(back == h, "bf16 0x%04x -> 0x%04x", h, back);
    }
}
END_TEST

/* ---- I2_S: a 128-element block packed by hand from SPEC 1.2 ---- */

/* Group 0 (elements 0..31) cycles -1, 0, +1; group 1 is +1 but for -1 at
 * both ends; group 2 alternates 0, -1; group 3 steps -1, 0, +1 every 4. */
static const int8_t hand_vals[128] = {
    -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0,
    -1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1,
    0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1,
    -1, -1, -1, -1, 0, 0, 0, 0, 1, 1, 1, 1, -1, -1, -1, -1, 0, 0, 0, 0, 1, 1, 1, 1, -1, -1, -1, -1, 0, 0, 0, 0,
};

/* Byte j = code(j) << 6 | code(32+j) << 4 | code(64+j) << 2 | code(96+j),
 * code = value + 1.  E.g. byte 0: -1, -1, 0, -1 -> 00 00 01 00 = 0x04;
 * byte 8: +1, +1, 0, +1 -> 10 10 01 10 = 0xa6; byte 31: 0, -1, -1, 0 ->
 * 01 00 00 01 = 0x41. */
static const uint8_t hand_bytes[32] = {
    0x04, 0x60, 0xa4, 0x20, 0x65, 0xa1, 0x25, 0x61, 0xa6, 0x22, 0x66, 0xa2, 0x24, 0x60, 0xa4, 0x20,
    0x65, 0xa1, 0x25, 0x61, 0xa6, 0x22, 0x66, 0xa2, 0x24, 0x60, 0xa4, 0x20, 0x65, 0xa1, 0x25, 0x41,
};

START_TEST(i2s_pack_by_hand)
{
    uint8_t out[128 / 4 + 32];
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_I2_S, 128), sizeof out);
    memset(out, 0xaa, sizeof out);
    ck_assert_int_eq(tc_i2s_pack(hand_vals, 128, 2.385f, out), TC_OK);
    ck_assert_mem_eq(out, hand_bytes, 32);
    float scale;
    memcpy(&scale, out + 32, 4);
    ck_assert_float_eq(scale, 2.385f);
    for (size_t i = 36; i < sizeof out; i++) ck_assert_uint_eq(out[i], 0);   /* 28 padding bytes */
    ck_assert_float_eq(tc_i2s_scale(out, 128), 2.385f);
}
END_TEST

START_TEST(i2s_unpack_by_hand)
{
    uint8_t data[64] = { 0 };
    memcpy(data, hand_bytes, 32);
    float m = -0.5f;
    memcpy(data + 32, &m, 4);
    memset(data + 36, 0x5c, 28);   /* leftover padding must not matter */
    int8_t t[128];
    size_t n3 = 99;
    ck_assert_float_eq(tc_i2s_unpack(data, 128, t, &n3), -0.5f);
    ck_assert_uint_eq(n3, 0);
    ck_assert_mem_eq(t, hand_vals, 128);
    ck_assert_float_eq(tc_i2s_unpack(data, 128, t, NULL), -0.5f);
}
END_TEST

START_TEST(i2s_code_single)
{
    /* element -> code, read from the literal bytes */
    ck_assert_uint_eq(tc_i2s_code(hand_bytes, 0), 0);     /* byte 0 bits 7:6 */
    ck_assert_uint_eq(tc_i2s_code(hand_bytes, 2), 2);
    ck_assert_uint_eq(tc_i2s_code(hand_bytes, 32), 0);    /* byte 0 bits 5:4 */
    ck_assert_uint_eq(tc_i2s_code(hand_bytes, 33), 2);    /* byte 1 bits 5:4 */
    ck_assert_uint_eq(tc_i2s_code(hand_bytes, 64), 1);    /* byte 0 bits 3:2 */
    ck_assert_uint_eq(tc_i2s_code(hand_bytes, 96), 0);    /* byte 0 bits 1:0 */
    ck_assert_uint_eq(tc_i2s_code(hand_bytes, 104), 2);   /* byte 8 bits 1:0 */
    ck_assert_uint_eq(tc_i2s_code(hand_bytes, 127), 1);   /* byte 31 bits 1:0 */
    for (size_t i = 0; i < 128; i++)
        ck_assert_int_eq(tc_i2s_code_value(tc_i2s_code(hand_bytes, i)), hand_vals[i]);
    /* a second block starts at byte 32: element 128 + j lives in its byte j */
    uint8_t two[64];
    memset(two, 0x55, 32);                   /* block 0: all codes 1 (0) */
    memcpy(two + 32, hand_bytes, 32);        /* block 1: the hand block */
    ck_assert_uint_eq(tc_i2s_code(two, 0), 1);
    ck_assert_uint_eq(tc_i2s_code(two, 128 + 8), 2);
    ck_assert_uint_eq(tc_i2s_code(two, 128 + 64), 1);
    ck_assert_uint_eq(tc_i2s_code(two, 128 + 127), 1);
    ck_assert_int_eq(tc_i2s_code_value(0), -1);
    ck_assert_int_eq(tc_i2s_code_value(1), 0);
    ck_assert_int_eq(tc_i2s_code_value(2), 1);
    ck_assert_int_eq(tc_i2s_code_value(3), 0);
}
END_TEST

START_TEST(i2s_roundtrip_multi_block)
{
    enum { N = 384 };
    int8_t v[N], back[N];
    uint8_t out[N / 4 + 32];
    uint32_t r = 7;
    for (size_t i = 0; i < N; i++) { r = r * 1103515245u + 12345u; v[i] = (int8_t)((r >> 16) % 3) - 1; }
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_I2_S, N), sizeof out);
    ck_assert_int_eq(tc_i2s_pack(v, N, 0.0625f, out), TC_OK);
    ck_assert_float_eq(tc_i2s_unpack(out, N, back, NULL), 0.0625f);
    ck_assert_mem_eq(back, v, N);
    /* block b of the packing is the packing of block b alone */
    uint8_t one[128 / 4 + 32];
    ck_assert_int_eq(tc_i2s_pack(v + 256, 128, 0.0625f, one), TC_OK);
    ck_assert_mem_eq(out + 64, one, 32);
}
END_TEST

/* ---- traits ---- */

START_TEST(traits_table)
{
    static const struct { uint32_t id; const char *name; size_t bs, bb, tail; } want[] = {
        { 0, "F32", 1, 4, 0 }, { 1, "F16", 1, 2, 0 }, { 30, "BF16", 1, 2, 0 }, { 36, "I2_S", 128, 32, 32 },
    };
    for (size_t i = 0; i < 4; i++) {
        const tc_type_traits *tr = tc_type_info(want[i].id);
        ck_assert_ptr_nonnull(tr);
        ck_assert_uint_eq((uint32_t)tr->type, want[i].id);
        ck_assert_str_eq(tr->name, want[i].name);
        ck_assert_str_eq(tc_type_name(want[i].id), want[i].name);
        ck_assert_uint_eq(tr->block_size, want[i].bs);
        ck_assert_uint_eq(tr->block_bytes, want[i].bb);
        ck_assert_uint_eq(tr->tail_bytes, want[i].tail);
        ck_assert_ptr_nonnull(tr->to_float);
    }
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_F32, 10), 40);
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_F16, 3), 6);
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_BF16, 5), 10);
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_I2_S, 256), 96);
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_I2_S, 2560 * 6912), 2560 * 6912 / 4 + 32);
}
END_TEST

START_TEST(traits_from_name)
{
    tc_type t = TC_TYPE_F16;
    ck_assert_int_eq(tc_type_from_name("f32", &t), TC_OK);
    ck_assert_int_eq(t, TC_TYPE_F32);
    ck_assert_int_eq(tc_type_from_name("F16", &t), TC_OK);
    ck_assert_int_eq(t, TC_TYPE_F16);
    ck_assert_int_eq(tc_type_from_name("Bf16", &t), TC_OK);
    ck_assert_int_eq(t, TC_TYPE_BF16);
    ck_assert_int_eq(tc_type_from_name("i2_s", &t), TC_OK);
    ck_assert_int_eq(t, TC_TYPE_I2_S);
    ck_assert_int_eq(tc_type_from_name("I2_S", &t), TC_OK);
    ck_assert_int_eq(t, TC_TYPE_I2_S);
}
END_TEST

/* to_float of every type, from an element in the middle. */
START_TEST(traits_to_float)
{
    float out[8];
    const float f32[4] = { 1.5f, -2.385f, 65504.0f, -0.0f };
    tc_type_info(TC_TYPE_F32)->to_float(f32, sizeof f32, 1, 3, out);
    ck_assert_float_eq(out[0], -2.385f);
    ck_assert_float_eq(out[1], 65504.0f);
    ck_assert_uint_eq(f32_bits(out[2]), 0x80000000u);

    const uint8_t f16[8] = { 0x00, 0x3c, 0xc5, 0x40, 0x01, 0x00, 0x00, 0xfc };   /* 1, 2.3848, min sub, -Inf */
    tc_type_info(TC_TYPE_F16)->to_float(f16, sizeof f16, 1, 3, out);
    ck_assert_float_eq(out[0], 2.384765625f);
    ck_assert_float_eq(out[1], 0x1p-24f);
    ck_assert(isinf(out[2]) && out[2] < 0);

    const uint8_t bf16[6] = { 0x80, 0x3f, 0x19, 0x40, 0x00, 0xc0 };               /* 1, 2.390625, -2 */
    tc_type_info(TC_TYPE_BF16)->to_float(bf16, sizeof bf16, 0, 3, out);
    ck_assert_float_eq(out[0], 1.0f);
    ck_assert_float_eq(out[1], 2.390625f);
    ck_assert_float_eq(out[2], -2.0f);

    uint8_t i2s[64];
    memcpy(i2s, hand_bytes, 32);
    float m = 2.385f;
    memcpy(i2s + 32, &m, 4);
    memset(i2s + 36, 0xee, 28);
    float all[128];
    tc_type_info(TC_TYPE_I2_S)->to_float(i2s, sizeof i2s, 0, 128, all);
    for (size_t i = 0; i < 128; i++) ck_assert_float_eq(all[i], (float)hand_vals[i] * 2.385f);
    tc_type_info(TC_TYPE_I2_S)->to_float(i2s, sizeof i2s, 30, 4, out);   /* crosses group 0 -> 1 */
    ck_assert_float_eq(out[0], -2.385f);
    ck_assert_float_eq(out[1], 0.0f);
    ck_assert_float_eq(out[2], -2.385f);
    ck_assert_float_eq(out[3], 2.385f);
}
END_TEST

/* ---- errors ---- */

START_TEST(i2s_code3_reads_as_zero)
{
    uint8_t data[64];
    memcpy(data, hand_bytes, 32);
    data[5] = 0xff;                /* elements 5, 37, 69, 101 become code 3 */
    data[9] = 0x63;                /* element 9 code 1, 41 code 2, 73 code 0, 105 code 3 */
    float m = 2.385f;
    memcpy(data + 32, &m, 4);
    memset(data + 36, 0, 28);
    int8_t t[128];
    size_t n3 = 0;
    tc_i2s_unpack(data, 128, t, &n3);
    ck_assert_uint_eq(n3, 5);
    ck_assert_int_eq(t[5], 0);
    ck_assert_int_eq(t[37], 0);
    ck_assert_int_eq(t[69], 0);
    ck_assert_int_eq(t[101], 0);
    ck_assert_int_eq(t[9], 0);
    ck_assert_int_eq(t[41], 1);
    ck_assert_int_eq(t[73], -1);
    ck_assert_int_eq(t[105], 0);
    ck_assert_uint_eq(tc_i2s_code(data, 69), 3);
    float f[1];
    tc_type_info(TC_TYPE_I2_S)->to_float(data, sizeof data, 101, 1, f);
    ck_assert_float_eq(f[0], 0.0f);
}
END_TEST

START_TEST(i2s_pack_rejects)
{
    int8_t v[256];
    uint8_t out[256 / 4 + 32];
    memcpy(v, hand_vals, 128);
    memcpy(v + 128, hand_vals, 128);
    v[200] = 2;
    ck_assert_int_eq(tc_i2s_pack(v, 256, 1.0f, out), TC_E_RANGE);
    v[200] = -2;
    ck_assert_int_eq(tc_i2s_pack(v, 256, 1.0f, out), TC_E_RANGE);
    v[200] = 127;
    ck_assert_int_eq(tc_i2s_pack(v, 256, 1.0f, out), TC_E_RANGE);
    v[200] = 0;
    ck_assert_int_eq(tc_i2s_pack(v, 100, 1.0f, out), TC_E_RANGE);
    ck_assert_int_eq(tc_i2s_pack(v, 129, 1.0f, out), TC_E_RANGE);
    ck_assert_int_eq(tc_i2s_pack(v, 256, 1.0f, out), TC_OK);
}
END_TEST

START_TEST(traits_unknown)
{
    tc_type t = TC_TYPE_F16;
    ck_assert_ptr_null(tc_type_info(2));
    ck_assert_ptr_null(tc_type_info(33));   /* 34, 35: TQ1_0, TQ2_0 (check_tq.c) */
    ck_assert_ptr_null(tc_type_info(99));
    ck_assert_ptr_null(tc_type_info(UINT32_MAX));
    ck_assert_str_eq(tc_type_name(99), "unknown");
    ck_assert_int_eq(tc_type_from_name("q4_0", &t), TC_E_USAGE);
    ck_assert_int_eq(tc_type_from_name("", &t), TC_E_USAGE);
    ck_assert_int_eq(tc_type_from_name("f3", &t), TC_E_USAGE);
    ck_assert_int_eq(tc_type_from_name("f322", &t), TC_E_USAGE);
    ck_assert_int_eq(tc_type_from_name("i2_s ", &t), TC_E_USAGE);
    ck_assert_int_eq(t, TC_TYPE_F16);   /* untouched on failure */
    ck_assert_uint_eq(tc_type_nbytes((tc_type)99, 4), 0);
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_I2_S, 100), 0);
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_I2_S, 129), 0);
}
END_TEST

/* ---- limits ---- */

START_TEST(nbytes_overflow)
{
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_F32, UINT64_MAX / 2), 0);
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_F16, UINT64_MAX), 0);
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_F32, SIZE_MAX / 4 + 1), 0);
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_F32, SIZE_MAX / 4), (SIZE_MAX / 4) * 4);
    uint64_t big = (UINT64_MAX / 128) * 128;   /* a multiple of 128 whose size still fits */
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_I2_S, big), big / 4 + 32);
}
END_TEST

static Suite *types_suite(void)
{
    Suite *s = suite_create("types");
    TCase *core = tcase_create("core");
    tcase_add_test(core, f16_to_f32_edges);
    tcase_add_test(core, f32_to_f16_edges);
    tcase_add_test(core, f16_roundtrip_exhaustive);
    tcase_add_test(core, bf16_edges);
    tcase_add_test(core, bf16_roundtrip_exhaustive);
    tcase_add_test(core, i2s_pack_by_hand);
    tcase_add_test(core, i2s_unpack_by_hand);
    tcase_add_test(core, i2s_code_single);
    tcase_add_test(core, i2s_roundtrip_multi_block);
    tcase_add_test(core, traits_table);
    tcase_add_test(core, traits_from_name);
    tcase_add_test(core, traits_to_float);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, i2s_code3_reads_as_zero);
    tcase_add_test(errors, i2s_pack_rejects);
    tcase_add_test(errors, traits_unknown);
    suite_add_tcase(s, errors);
    TCase *limits = tcase_create("limits");
    tcase_add_test(limits, nbytes_overflow);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    return tu_run(types_suite());
}

/* check_tq.c -- llama.cpp's ternary types TQ1_0 and TQ2_0 (format/types.c,
 * tools/quantize.c): blocks derived by hand as literal bytes, the traits
 * rows, every TQ1_0 byte, and a round trip against files written by
 * llama.cpp's own llama-quantize (vectors/external/llama-cpp/). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/gguf.h"
#include "format/model.h"
#include "format/types.h"
#include "tools/gen.h"
#include "tools/quantize.h"
#include "testutil.h"

/* ---- hand-derived blocks ---- */

/* TQ2_0, d = 2.385 (F16 0x40c5).  All elements 0 (code 1: every byte
 * 01 01 01 01 = 0x55) except
 *   element   0 = +1: byte 0, bits 1:0 = 2          -> 0x56
 *   element  33 = -1: byte 1, bits 3:2 = 0 (g = 1)  -> 0x51
 *   element 128 = -1: byte 32, bits 1:0 = 0         -> 0x54
 *   element 255 = +1: byte 63, bits 7:6 = 2 (g = 3) -> 0x95 */
static const uint8_t tq2_block[TC_TQ2_BLOCK_BYTES] = {
    0x56, 0x51, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
    0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
    0x54, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
    0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x95,
    0xc5, 0x40,
};

/* TQ1_0, d = 0.5 (F16 0x3800).  A byte holds five trits t (0, 1, 2 for
 * -1, 0, +1), the first most significant: q = sum t_n 3^(4-n), stored as
 * ceil(256 q / 243).  All zeros: q = 11111_3 = 121 -> ceil(30976/243) =
 * 128 = 0x80; a qh byte holds four trits times 3: 1111_3 * 3 = 120 -> 127 =
 * 0x7f.  Then
 *   element   0 = -1: qs[0]  trits 0,1,1,1,1: q = 40  -> ceil(10240/243) =  43 = 0x2b
 *   element  33 = +1: qs[1]  trits 1,2,1,1,1: q = 148 -> ceil(37888/243) = 156 = 0x9c
 *   element 170 = -1: qs[32 + 10], trit 0: as element 0           = 0x2b
 *   element 244 = -1: qh[0], trit 1: (1,0,1,1)*3 = 93  -> ceil(23808/243) = 98 = 0x62
 *   element 255 = +1: qh[3], trit 3: (1,1,1,2)*3 = 123 -> ceil(31488/243) = 130 = 0x82
 * (llama.cpp's quantize_row_tq1_0_ref, commit c392e509, writes the same
 * 54 bytes for these values times 0.5.) */
static const uint8_t tq1_block[TC_TQ1_BLOCK_BYTES] = {
    0x2b, 0x9c, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x2b, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x62, 0x7f, 0x7f, 0x82, 0x00, 0x38,
};

static void tq2_values(int8_t v[TC_QK_K])
{
    memset(v, 0, TC_QK_K);
    v[0] = 1, v[33] = -1, v[128] = -1, v[255] = 1;
}

static void tq1_values(int8_t v[TC_QK_K])
{
    memset(v, 0, TC_QK_K);
    v[0] = -1, v[33] = 1, v[170] = -1, v[244] = -1, v[255] = 1;
}

START_TEST(tq2_pack_by_hand)
{
    int8_t v[TC_QK_K];
    uint8_t out[TC_TQ2_BLOCK_BYTES];
    tq2_values(v);
    ck_assert_int_eq(tc_tq2_pack_block(v, 0x40c5, out), TC_OK);
    ck_assert_mem_eq(out, tq2_block, sizeof out);
}
END_TEST

START_TEST(tq2_unpack_by_hand)
{
    int8_t v[TC_QK_K];
    tq2_values(v);
    for (unsigned i = 0; i < TC_QK_K; i++) ck_assert_int_eq(tc_tq2_value(tq2_block, i), v[i]);
    ck_assert_uint_eq(tc_tq2_scale_bits(tq2_block), 0x40c5);
    float f[TC_QK_K];
    tc_type_info(TC_TYPE_TQ2_0)->to_float(tq2_block, sizeof tq2_block, 0, TC_QK_K, f);
    for (unsigned i = 0; i < TC_QK_K; i++) ck_assert_float_eq(f[i], (float)v[i] * 2.384765625f);
}
END_TEST

START_TEST(tq1_pack_by_hand)
{
    int8_t v[TC_QK_K];
    uint8_t out[TC_TQ1_BLOCK_BYTES];
    tq1_values(v);
    ck_assert_int_eq(tc_tq1_pack_block(v, 0x3800, out), TC_OK);
    ck_assert_mem_eq(out, tq1_block, sizeof out);
}
END_TEST

START_TEST(tq1_unpack_by_hand)
{
    int8_t v[TC_QK_K];
    tq1_values(v);
    for (unsigned i = 0; i < TC_QK_K; i++) ck_assert_int_eq(tc_tq1_value(tq1_block, i), v[i]);
    ck_assert_uint_eq(tc_tq1_scale_bits(tq1_block), 0x3800);
    /* to_float from an element in the middle of the second of two blocks */
    uint8_t two[2 * TC_TQ1_BLOCK_BYTES];
    memcpy(two, tq1_block, TC_TQ1_BLOCK_BYTES);
    memcpy(two + TC_TQ1_BLOCK_BYTES, tq1_block, TC_TQ1_BLOCK_BYTES);
    two[TC_TQ1_BLOCK_BYTES + 53] = 0xc0;   /* second block: d = -2 */
    float f[100];
    tc_type_info(TC_TYPE_TQ1_0)->to_float(two, sizeof two, TC_QK_K + 160, 96, f);
    for (unsigned i = 0; i < 96; i++) ck_assert_float_eq(f[i], (float)v[160 + i] * -2.0f);
}
END_TEST

/* Two blocks of a pseudo-random pattern pack and decode back. */
START_TEST(tq_roundtrip_pattern)
{
    int8_t v[TC_QK_K], back[TC_QK_K];
    uint8_t b1[TC_TQ1_BLOCK_BYTES], b2[TC_TQ2_BLOCK_BYTES];
    uint32_t x = 2385u;
    for (int round = 0; round < 64; round++) {
        for (unsigned i = 0; i < TC_QK_K; i++) {
            x = x * 1103515245u + 12345u;
            v[i] = (int8_t)((x >> 16) % 3) - 1;
        }
        ck_assert_int_eq(tc_tq1_pack_block(v, 0x3c00, b1), TC_OK);
        ck_assert_int_eq(tc_tq2_pack_block(v, 0x3c00, b2), TC_OK);
        for (unsigned i = 0; i < TC_QK_K; i++) back[i] = (int8_t)tc_tq1_value(b1, i);
        ck_assert_mem_eq(back, v, TC_QK_K);
        for (unsigned i = 0; i < TC_QK_K; i++) back[i] = (int8_t)tc_tq2_value(b2, i);
        ck_assert_mem_eq(back, v, TC_QK_K);
    }
}
END_TEST

/* Every one of the 243 five-trit numbers survives the byte encoding. */
START_TEST(tq1_every_byte)
{
    int8_t v[TC_QK_K];
    uint8_t b[TC_TQ1_BLOCK_BYTES];
    for (unsigned q = 0; q < 243; q++) {
        memset(v, 0, sizeof v);
        for (unsigned n = 0, r = q; n < 5; n++, r /= 3) v[32 * (4 - n)] = (int8_t)(r % 3) - 1;
        ck_assert_int_eq(tc_tq1_pack_block(v, 0, b), TC_OK);
        for (unsigned n = 0; n < 5; n++) ck_assert_int_eq(tc_tq1_value(b, 32 * n), v[32 * n]);
    }
}
END_TEST

START_TEST(tq_traits)
{
    const tc_type_traits *t1 = tc_type_info(34), *t2 = tc_type_info(35);
    ck_assert_ptr_nonnull(t1);
    ck_assert_ptr_nonnull(t2);
    ck_assert_str_eq(t1->name, "TQ1_0");
    ck_assert_str_eq(t2->name, "TQ2_0");
    ck_assert_uint_eq(t1->block_size, 256);
    ck_assert_uint_eq(t1->block_bytes, 54);
    ck_assert_uint_eq(t2->block_bytes, 66);
    ck_assert_uint_eq(t1->tail_bytes + t2->tail_bytes, 0);
    tc_type t = TC_TYPE_F32;
    ck_assert_int_eq(tc_type_from_name("tq1_0", &t), TC_OK);
    ck_assert_int_eq(t, TC_TYPE_TQ1_0);
    ck_assert_int_eq(tc_type_from_name("TQ2_0", &t), TC_OK);
    ck_assert_int_eq(t, TC_TYPE_TQ2_0);
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_TQ1_0, 2560 * 6912), 2560 * 6912 / 256 * 54);
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_TQ2_0, 512), 132);
}
END_TEST

/* ---- quantize ---- */

/* A ternary tensor: codes kept, every block d = F16(m), an all-zero block
 * d = 0 (as llama-quantize writes it). */
START_TEST(quantize_tq_ternary)
{
    enum { N = 3 * TC_QK_K };
    float w[N];
    for (unsigned i = 0; i < N; i++) w[i] = i < TC_QK_K ? 0.0f : ((i * 7) % 3 == 0 ? 0.0f : (i % 2 ? 2.385f : -2.385f));
    uint8_t out[3 * TC_TQ2_BLOCK_BYTES];
    tc_qrule rule;
    float m;
    double rel;
    ck_assert_int_eq(tc_quantize_tq(w, N, TC_TYPE_TQ2_0, out, &rule, &m, &rel), TC_OK);
    ck_assert_int_eq(rule, TC_QRULE_TERNARY);
    ck_assert_float_eq(m, 2.384765625f);           /* F16(2.385) */
    ck_assert(rel > 0.0 && rel < 1e-3);            /* only the F16 rounding of m */
    ck_assert_uint_eq(tc_tq2_scale_bits(out), 0);  /* all-zero first block */
    ck_assert_uint_eq(tc_tq2_scale_bits(out + TC_TQ2_BLOCK_BYTES), 0x40c5);
    for (unsigned i = 0; i < N; i++) {
        const uint8_t *blk = out + (i / TC_QK_K) * TC_TQ2_BLOCK_BYTES;
        ck_assert_int_eq(tc_tq2_value(blk, i % TC_QK_K), w[i] > 0 ? 1 : w[i] < 0 ? -1 : 0);
    }
}
END_TEST

START_TEST(quantize_tq_rejects)
{
    float w[TC_QK_K] = { 0 };
    uint8_t out[TC_TQ1_BLOCK_BYTES];
    tc_qrule rule;
    float m;
    double rel;
    ck_assert_int_eq(tc_quantize_tq(w, 128, TC_TYPE_TQ1_0, out, &rule, &m, &rel), TC_E_RANGE);
    ck_assert_int_eq(tc_quantize_tq(w, TC_QK_K, TC_TYPE_I2_S, out, &rule, &m, &rel), TC_E_RANGE);
    w[7] = NAN;
    ck_assert_int_eq(tc_quantize_tq(w, TC_QK_K, TC_TYPE_TQ1_0, out, &rule, &m, &rel), TC_E_RANGE);
}
END_TEST

/* ---- errors ---- */

START_TEST(tq_pack_rejects_non_ternary)
{
    int8_t v[TC_QK_K] = { 0 };
    uint8_t b1[TC_TQ1_BLOCK_BYTES], b2[TC_TQ2_BLOCK_BYTES];
    v[200] = 2;
    ck_assert_int_eq(tc_tq1_pack_block(v, 0, b1), TC_E_RANGE);
    ck_assert_int_eq(tc_tq2_pack_block(v, 0, b2), TC_E_RANGE);
    v[200] = -2;
    ck_assert_int_eq(tc_tq2_pack_block(v, 0, b2), TC_E_RANGE);
}
END_TEST

/* TQ2_0's unused code 3 reads as +2, as llama.cpp's dequantize and dot
 * product read it (code - 1). */
START_TEST(tq2_code3_reads_as_two)
{
    uint8_t b[TC_TQ2_BLOCK_BYTES];
    memcpy(b, tq2_block, sizeof b);
    b[5] = 0x57;   /* element 5: code 3 */
    ck_assert_int_eq(tc_tq2_value(b, 5), 2);
    float f;
    tc_type_info(TC_TYPE_TQ2_0)->to_float(b, sizeof b, 5, 1, &f);
    ck_assert_float_eq(f, 2.0f * 2.384765625f);
}
END_TEST

START_TEST(tq_nbytes_limits)
{
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_TQ1_0, 255), 0);
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_TQ2_0, 128), 0);
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_TQ2_0, 256), 66);
    /* fewer bytes than elements: the largest multiple of 256 still fits */
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_TQ1_0, (UINT64_MAX / 256) * 256), (UINT64_MAX / 256) * 54);
    ck_assert_uint_eq(tc_type_nbytes(TC_TYPE_TQ2_0, (UINT64_MAX / 256) * 256 + 1), 0);
}
END_TEST

/* ---- llama.cpp's own files ---- */

/* The model the vectors were made from (vectors/external/llama-cpp/README.md). */
static char *gen_source(void)
{
    tc_gen_opts o;
    tc_err err = { 0 };
    ck_assert_int_eq(tc_gen_preset("tiny", &o, &err), TC_OK);
    o.arch = "bitnet";
    o.silu = true;
    o.weight_type = TC_TYPE_F32;
    o.n_layer = 1;
    o.n_vocab = 258;
    o.n_ff = 256;
    char *path = tu_temp_path(".gguf");
    ck_assert_msg(tc_gen_write(&o, path, &err) == TC_OK, "%s", err.msg);
    return path;
}

/* tritcheck quantize --type T of the source model writes every tensor
 * byte for byte as llama-quantize (c392e509) wrote it, and tritcheck binds
 * llama.cpp's file as a model. */
static void roundtrip(const char *vector, tc_type type)
{
    char *llama = tu_gunzip_temp(tu_vector_path(vector));
    ck_assert_ptr_nonnull(llama);
    char *src = gen_source(), *mine = tu_temp_path(".gguf");
    tc_err err = { 0 };
    ck_assert_msg(tc_quantize_file_to(src, mine, type, NULL, &err) == TC_OK, "%s", err.msg);
    tc_model *a, *b;
    ck_assert_msg(tc_model_load(llama, &a, &err) == TC_OK, "%s", err.msg);
    ck_assert_msg(tc_model_load(mine, &b, &err) == TC_OK, "%s", err.msg);
    ck_assert_uint_eq(a->gguf->n_tensors, b->gguf->n_tensors);
    size_t n_type = 0;
    for (size_t i = 0; i < a->gguf->n_tensors; i++) {
        const tc_gguf_tensor *ta = &a->gguf->tensors[i], *tb = tc_gguf_find_tensor(b->gguf, ta->name);
        ck_assert_msg(tb != NULL, "%s missing", ta->name);
        ck_assert_uint_eq(ta->type, tb->type);
        ck_assert_uint_eq(ta->nbytes, tb->nbytes);
        ck_assert_msg(!memcmp(ta->data, tb->data, ta->nbytes), "%s: bytes differ from llama-quantize's", ta->name);
        n_type += ta->type == (uint32_t)type;
    }
    ck_assert_uint_eq(n_type, 7);   /* the seven linear weights of the one block */
    ck_assert_uint_eq(a->layers[0].attn_q.type, type);
    tc_model_free(a);
    tc_model_free(b);
    unlink(llama), unlink(src), unlink(mine);
    free(llama), free(src), free(mine);
}

START_TEST(llama_quantize_tq1_0)
{
    roundtrip("external/llama-cpp/tq-1block-tq1_0.gguf.gz", TC_TYPE_TQ1_0);
}
END_TEST

START_TEST(llama_quantize_tq2_0)
{
    roundtrip("external/llama-cpp/tq-1block-tq2_0.gguf.gz", TC_TYPE_TQ2_0);
}
END_TEST

static Suite *tq_suite(void)
{
    Suite *s = suite_create("tq");
    TCase *core = tcase_create("core");
    tcase_add_test(core, tq2_pack_by_hand);
    tcase_add_test(core, tq2_unpack_by_hand);
    tcase_add_test(core, tq1_pack_by_hand);
    tcase_add_test(core, tq1_unpack_by_hand);
    tcase_add_test(core, tq_roundtrip_pattern);
    tcase_add_test(core, tq1_every_byte);
    tcase_add_test(core, tq_traits);
    tcase_add_test(core, quantize_tq_ternary);
    tcase_add_test(core, llama_quantize_tq1_0);
    tcase_add_test(core, llama_quantize_tq2_0);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, tq_pack_rejects_non_ternary);
    tcase_add_test(errors, tq2_code3_reads_as_two);
    tcase_add_test(errors, quantize_tq_rejects);
    suite_add_tcase(s, errors);
    TCase *limits = tcase_create("limits");
    tcase_add_test(limits, tq_nbytes_limits);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    return tu_run(tq_suite());
}

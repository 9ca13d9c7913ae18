/* check_gguf.c -- the GGUF reader (src/format/gguf.c), and the model
 * binding's checks on hostile or unusable files (src/format/model.c).
 *
 * Malformed files are made here, from one small valid file written by the
 * writer (layout in gguf_fixtures.h, checked by the `small_layout` test),
 * by cutting it short or patching bytes; model-level cases build a tiny
 * model with the writer.  The writer's own checks are in
 * check_gguf_writer.c. */
#include <check.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/gguf.h"
#include "format/model.h"
#include "format/types.h"
#include "gguf_fixtures.h"
#include "testutil.h"

/* ==== core ==== */

/* The layout the error cases patch, and the small file's contents. */
START_TEST(small_layout)
{
    img m = build_small(3, 0);
    tc_gguf *g;
    tc_err err;
    ck_assert_uint_eq(m.n, SMALL_SIZE);
    ck_assert_int_eq(tc_gguf_parse(m.b, m.n, "small.gguf", &g, &err), TC_OK);
    const size_t koff[6] = { K0, K1, K2, K3, K4, K5 }, toff[3] = { T0, T1, T2 };
    ck_assert_uint_eq(g->n_kv, 6);
    for (size_t i = 0; i < 6; i++) ck_assert_uint_eq(g->kv[i].offset, koff[i]);
    ck_assert_uint_eq(g->n_tensors, 3);
    for (size_t i = 0; i < 3; i++) ck_assert_uint_eq(g->tensors[i].info_offset, toff[i]);
    ck_assert_uint_eq(g->data_offset, DATA);
    ck_assert_uint_eq(g->tensors[0].offset, 0);
    ck_assert_uint_eq(g->tensors[1].offset, 32);
    ck_assert_uint_eq(g->tensors[2].offset, 128);
    ck_assert_mem_eq(g->tensors[0].data, small_f32, 32);
    ck_assert_mem_eq(g->tensors[1].data, small_i2s, 96);
    ck_assert_mem_eq(g->tensors[2].data, small_f16, 16);
    ck_assert_uint_eq(val(g, "t.u32", TC_GGUF_U32)->v.u, 4000000000u);
    tc_gguf_close(g);
    free(m.b);
}
END_TEST

/* bitnet.cpp's own I2_S file decodes to exactly the F32 file's weights. */
START_TEST(bitnet_cpp_i2s_matches_f32)
{
    char *pi = tu_gunzip_temp(tu_vector_path("external/bitnet-cpp/tiny-bitnet-b158-i2_s.gguf.gz"));
    char *pf = tu_gunzip_temp(tu_vector_path("external/bitnet-cpp/tiny-bitnet-b158-f32.gguf.gz"));
    ck_assert_ptr_nonnull(pi);
    ck_assert_ptr_nonnull(pf);
    tc_gguf *gi, *gf;
    tc_err err;
    ck_assert_msg(tc_gguf_open(pi, &gi, &err) == TC_OK, "%s", err.msg);
    ck_assert_msg(tc_gguf_open(pf, &gf, &err) == TC_OK, "%s", err.msg);
    ck_assert_uint_eq(gi->n_tensors, gf->n_tensors);
    int n_i2s = 0, n_f16 = 0;
    for (size_t k = 0; k < gi->n_tensors; k++) {
        const tc_gguf_tensor *ti = &gi->tensors[k], *tf = tc_gguf_find_tensor(gf, ti->name);
        ck_assert_msg(tf != NULL, "%s missing from the F32 file", ti->name);
        ck_assert_uint_eq(tf->type, TC_TYPE_F32);
        ck_assert_uint_eq(ti->n_elements, tf->n_elements);
        for (int d = 0; d < 4; d++) ck_assert_uint_eq(ti->ne[d], tf->ne[d]);
        size_t n = (size_t)ti->n_elements;
        const float *want = (const float *)tf->data;   /* data offsets are 32-aligned */
        if (ti->type == TC_TYPE_I2_S) {
            n_i2s++;
            ck_assert_uint_eq(ti->nbytes, n / 4 + 32);
            int8_t *t = malloc(n);
            float *via_traits = malloc(n * sizeof *via_traits);
            size_t n3 = 99;
            float m = tc_i2s_unpack(ti->data, n, t, &n3);
            ck_assert_uint_eq(n3, 0);
            tc_type_info(TC_TYPE_I2_S)->to_float(ti->data, ti->nbytes, 0, n, via_traits);
            for (size_t i = 0; i < n; i++) {
                float x = (float)t[i] * m;
                ck_assert_msg(memcmp(&x, &want[i], 4) == 0 && memcmp(&via_traits[i], &want[i], 4) == 0,
                              "%s[%zu]: %g (traits %g), expected %g", ti->name, i, (double)x,
                              (double)via_traits[i], (double)want[i]);
            }
            free(t);
            free(via_traits);
        } else if (ti->type == TC_TYPE_F16) {
            n_f16++;
            ck_assert_str_eq(ti->name, "token_embd.weight");
            for (size_t i = 0; i < n; i++) {
                uint16_t h;
                memcpy(&h, ti->data + 2 * i, 2);
                ck_assert_msg(h == tc_f32_to_f16(want[i]), "%s[%zu]: 0x%04x, expected 0x%04x",
                              ti->name, i, h, tc_f32_to_f16(want[i]));
            }
        } else {
            ck_assert_uint_eq(ti->type, TC_TYPE_F32);
            ck_assert_mem_eq(ti->data, tf->data, ti->nbytes);
        }
    }
    ck_assert_int_eq(n_i2s, 14);
    ck_assert_int_eq(n_f16, 1);
    /* and both bind as models */
    tc_model *mi, *mf;
    ck_assert_msg(tc_model_from_gguf(gi, &mi, &err) == TC_OK, "%s", err.msg);
    ck_assert_msg(tc_model_from_gguf(gf, &mf, &err) == TC_OK, "%s", err.msg);
    ck_assert_uint_eq(mi->hp.n_head_kv, 2);
    ck_assert_uint_eq(mi->hp.head_dim, 64);
    tc_model_free(mi);
    tc_model_free(mf);
    unlink(pi);
    unlink(pf);
    free(pi);
    free(pf);
}
END_TEST

START_TEST(model_tiny_binds)
{
    model_opts o = MODEL_DEFAULTS;
    img m = build_model(&o);
    tc_gguf *g;
    tc_model *mod;
    tc_err err;
    ck_assert_int_eq(tc_gguf_parse(m.b, m.n, "tiny.gguf", &g, &err), TC_OK);
    ck_assert_msg(tc_model_from_gguf(g, &mod, &err) == TC_OK, "%s", err.msg);
    ck_assert_uint_eq(mod->hp.n_layer, MLAYERS);
    ck_assert_uint_eq(mod->hp.head_dim, MHEAD_DIM);
    ck_assert_float_eq(mod->layers[1].ffn_down.scale, 2.385f);
    tc_model_free(mod);
    free(m.b);
}
END_TEST

/* ==== errors ==== */

enum how { CUT, PATCH, BYTES, FN };

typedef struct bad_case {
    const char *name;
    enum how how;
    size_t at;                /* CUT: new size; PATCH/BYTES: where */
    unsigned width;           /* PATCH: little-endian bytes */
    uint64_t value;           /* PATCH; CUT: the kv count, if not 0 */
    const char *bytes;        /* BYTES */
    size_t base_align;        /* the small file's alignment (0: 32) */
    img (*fn)(void);          /* FN: builds the whole file */
    tc_status status;
    const char *want, *want2; /* substrings of the message */
} bad_case;

#define CUT_(nm, n, w) { nm, CUT, n, 0, 0, NULL, 0, NULL, TC_E_FORMAT, w, NULL }
#define CUTKV_(nm, n, kvs, w) { nm, CUT, n, 0, kvs, NULL, 0, NULL, TC_E_FORMAT, w, NULL }
#define PATCH_(nm, at, wd, v, w) { nm, PATCH, at, wd, v, NULL, 0, NULL, TC_E_FORMAT, w, NULL }
#define BYTES_(nm, at, s, w) { nm, BYTES, at, 0, 0, s, 0, NULL, TC_E_FORMAT, w, NULL }
#define ALIGN_(nm, at, wd, v, w) { nm, PATCH, at, wd, v, NULL, 64, NULL, TC_E_FORMAT, w, NULL }
#define FN_(nm, f, st, w, w2) { nm, FN, 0, 0, 0, NULL, 0, f, st, w, w2 }

/* Arrays nested 9 deep, one more than allowed. */
static img nested_arrays(int depth)
{
    tc_gguf_value v[16];
    const uint8_t one = 1;
    v[depth - 1] = (tc_gguf_value){ .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_U8, 1, &one, NULL } };
    for (int i = depth - 2; i >= 0; i--)
        v[i] = (tc_gguf_value){ .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_ARRAY, 1, NULL, &v[i + 1] } };
    tc_gguf_writer *w = tc_gguf_writer_new(3, 0);
    tc_err err;
    ck_assert_int_eq(tc_gguf_writer_add(w, "deep", &v[0], &err), TC_OK);
    return writer_to_img(w, NULL, NULL);
}
static img too_deep(void) { return nested_arrays(TC_GGUF_MAX_ARRAY_DEPTH + 1); }

static img m_missing(void) { model_opts o = MODEL_DEFAULTS; o.omit = "blk.1.ffn_up.weight"; return build_model(&o); }
static img m_shape(void)
{
    model_opts o = MODEL_DEFAULTS;
    o.reshape = "blk.0.ffn_down.weight";
    o.reshape_ne0 = MD;
    o.reshape_ne1 = MFF;
    return build_model(&o);
}
/* The model with tensor `name` stored as `type`. */
static img retyped(const char *name, uint32_t type)
{
    model_opts o = MODEL_DEFAULTS;
    o.retype = name;
    o.retype_to = type;
    return build_model(&o);
}
static img m_norm_f16(void) { return retyped("blk.0.attn_norm.weight", TC_TYPE_F16); }
static img m_embd_i2s(void) { return retyped("token_embd.weight", TC_TYPE_I2_S); }
static img m_embd_str(void) { model_opts o = MODEL_DEFAULTS; o.embd_as_string = true; return build_model(&o); }
static img m_no_arch(void) { model_opts o = MODEL_DEFAULTS; o.arch = NULL; return build_model(&o); }
static img m_llama(void) { model_opts o = MODEL_DEFAULTS; o.arch = "llama"; return build_model(&o); }
static img m_rope(void) { model_opts o = MODEL_DEFAULTS; o.rope_dim = 32; return build_model(&o); }
static img m_no_eps(void) { model_opts o = MODEL_DEFAULTS; o.no_eps = true; return build_model(&o); }
static img m_heads(void) { model_opts o = MODEL_DEFAULTS; o.head_count = 3; return build_model(&o); }
static img m_blocks0(void) { model_opts o = MODEL_DEFAULTS; o.block_count = 0; return build_model(&o); }
/* block_count 3 with tensors for 2 blocks */
static img m_blocks3(void) { model_opts o = MODEL_DEFAULTS; o.block_count = 3; return build_model(&o); }

static const bad_case bad_cases[] = {
    /* truncated in every section */
    CUT_("cut in header", 20, "header at byte 0: expected at least 24 bytes, the file has 20"),
    /* 6 kvs need at least 6 * 14 bytes: a shorter file fails the count check */
    CUT_("kvs cannot fit", K1 + 4, "kv count at byte 16: 6 key/values cannot fit in the 25 bytes left"),
    CUT_("cut in kv key length", K4 + 4, "key name at byte 126: expected 8 bytes, the file ends at byte 130"),
    CUT_("cut in kv key", K4 + 10, "key name at byte 126: string length 5 exceeds the 2 bytes left"),
    CUT_("cut in kv type", K3 + 15, "t.arr at byte 107: expected 4 bytes, the file ends at byte 109"),
    CUT_("cut in array header", K3 + 19, "t.arr at byte 111: expected 4 bytes, the file ends at byte 113"),
    CUTKV_("cut in kv string value (2 kvs)", 73, 2, "key 't.str' at byte 62: string length 6 exceeds the 3 bytes left"),
    CUTKV_("cut in kv bool value (3 kvs)", K2 + 17, 3, "t.bol at byte 93: expected 1 bytes, the file ends at byte 93"),
    CUT_("cut in array body", 125, "key 't.arr' at byte 111: array of 3 u8 needs at least 3 bytes, only 2 are left"),
    CUT_("cut in string array", 173, "key 't.sts' at byte 164: string length 2 exceeds the 1 bytes left"),
    CUT_("cut in nested array", 217, "key 't.nst' at byte 203: array of 2 i16 needs at least 4 bytes, only 2 are left"),
    /* 3 tensor infos need at least 3 * 33 bytes */
    CUT_("tensor infos cannot fit", T0 + 4, "tensor count at byte 8: 3 tensor infos cannot fit in the 4 bytes left"),
    CUT_("cut in tensor name", T2 + 10, "tensor name at byte 309: string length 5 exceeds the 2 bytes left"),
    CUT_("cut in tensor n_dims", T2 + 15, "w.f16 at byte 322: expected 4 bytes, the file ends at byte 324"),
    CUT_("cut in tensor dims", T2 + 21, "w.f16 at byte 326: expected 8 bytes, the file ends at byte 330"),
    CUT_("cut in tensor type", T2 + 27, "w.f16 at byte 334: expected 4 bytes, the file ends at byte 336"),
    CUT_("cut in tensor offset", T2 + 33, "w.f16 at byte 338: expected 8 bytes, the file ends at byte 342"),
    CUT_("cut in data padding", INFO_END + 2,
         "data section at byte 346: expected 6 bytes of alignment padding, the file ends at byte 348"),
    CUT_("cut in I2_S codes", 400,
         "tensor 'w.i2s' at byte 264: data [32, +96) at file byte 384 runs past the end of the file (400 bytes)"),
    CUT_("I2_S data cut short (padding)", 470,
         "tensor 'w.i2s' at byte 264: data [32, +96) at file byte 384 runs past the end of the file (470 bytes)"),
    CUT_("cut in last tensor", SMALL_SIZE - 1,
         "tensor 'w.f16' at byte 309: data [128, +16) at file byte 480 runs past the end of the file (495 bytes)"),
    /* header */
    BYTES_("bad magic", 0, "GGUG", "magic at byte 0: expected \"GGUF\", found 47 47 55 47"),
    PATCH_("version 1", 4, 4, 1, "version at byte 4: expected 2 or 3, found 1"),
    PATCH_("version 4", 4, 4, 4, "version at byte 4: expected 2 or 3, found 4"),
    PATCH_("big-endian version", 4, 4, 0x03000000u, "expected 2 or 3, found 50331648 (a big-endian file?)"),
    PATCH_("huge tensor count", 8, 8, 1ull << 62,
           "tensor count at byte 8: 4611686018427387904 tensor infos cannot fit"),
    PATCH_("huge kv count", 16, 8, 1ull << 62, "kv count at byte 16: 4611686018427387904 key/values cannot fit"),
    /* key/values */
    PATCH_("empty key", K0, 8, 0, "key name at byte 24: expected 1..65535 bytes, found 0"),
    PATCH_("huge key length", K1, 8, UINT64_MAX, "key name at byte 45: string length 18446744073709551615 exceeds"),
    PATCH_("NUL in key", K0 + 9, 1, 0, "key name at byte 24: expected no NUL byte inside the name"),
    PATCH_("unknown kv type", K0 + 13, 4, 13, "key 't.u32' at byte 41: unknown value type 13 (expected 0..12)"),
    PATCH_("huge string length", K1 + 17, 8, 1ull << 63, "key 't.str' at byte 62: string length 9223372036854775808 exceeds"),
    PATCH_("bool value 2", K2 + 17, 1, 2, "key 't.bol' at byte 93: bool value 2 (expected 0 or 1)"),
    PATCH_("unknown array element type", K3 + 17, 4, 77,
           "key 't.arr' at byte 111: unknown array element type 77 (expected 0..12)"),
    PATCH_("huge array length", K3 + 21, 8, 1ull << 61,
           "key 't.arr' at byte 111: array of 2305843009213693952 u8 needs at least 2305843009213693952 bytes"),
    PATCH_("huge string array length", K4 + 21, 8, 1ull << 60,
           "key 't.sts' at byte 143: array of 1152921504606846976 string needs at least"),
    PATCH_("huge nested array length", K5 + 21, 8, UINT64_MAX,
           "key 't.nst' at byte 191: array of 18446744073709551615 array needs at least 18446744073709551615 bytes"),
    FN_("arrays nested too deep", too_deep, TC_E_FORMAT, "key 'deep' at byte", "arrays nested deeper than 8"),
    BYTES_("duplicate key", K1 + 8, "t.u32", "key 't.u32' at byte 45: duplicate key"),
    ALIGN_("alignment not a power of two", 53, 4, 48, "key 'general.alignment' at byte 24: 48 is not a power of two"),
    ALIGN_("alignment zero", 53, 4, 0, "key 'general.alignment' at byte 24: 0 is not a power of two"),
    ALIGN_("alignment of the wrong type", 49, 4, TC_GGUF_I32,
           "key 'general.alignment' at byte 24: expected type u32, found i32"),
    /* tensor infos */
    PATCH_("empty tensor name", T0, 8, 0, "tensor name at byte 219: expected 1..63 bytes, found 0"),
    PATCH_("tensor name too long", T0, 8, 64, "tensor name at byte 219: expected 1..63 bytes, found 64"),
    PATCH_("NUL in tensor name", T0 + 10, 1, 0, "tensor name at byte 219: expected no NUL byte inside the name"),
    PATCH_("n_dims 0", T0 + 13, 4, 0, "tensor 'w.f32' at byte 219: n_dims 0 (expected 1..4)"),
    PATCH_("n_dims 5", T0 + 13, 4, 5, "tensor 'w.f32' at byte 219: n_dims 5 (expected 1..4)"),
    PATCH_("dim of 0", T0 + 25, 8, 0, "tensor 'w.f32' at byte 219: ne[1] is 0 (expected >= 1)"),
    PATCH_("element count overflow", T0 + 25, 8, 1ull << 62,
           "tensor 'w.f32' at byte 219: element count overflows at ne[1] = 4611686018427387904"),
    PATCH_("byte size overflow", T0 + 25, 8, 1ull << 60,
           "tensor 'w.f32' at byte 219: size of 4611686018427387904 F32 elements overflows"),
    PATCH_("tensor type 2", T2 + 25, 4, 2, "tensor 'w.f16' at byte 309: unknown or unsupported tensor type 2"),
    PATCH_("tensor type 99", T2 + 25, 4, 99, "tensor 'w.f16' at byte 309: unknown or unsupported tensor type 99"),
    PATCH_("I2_S ne[0] not a multiple of 128", T1 + 17, 8, 64,
           "tensor 'w.i2s' at byte 264: ne[0] = 64 is not a multiple of the I2_S block size 128"),
    BYTES_("duplicate tensor name", T2 + 8, "w.f32", "tensor 'w.f32' at byte 309: duplicate tensor name"),
    /* tensor data */
    PATCH_("misaligned offset", T2 + 29, 8, 132,
           "tensor 'w.f16' at byte 309: offset 132 is not a multiple of the alignment 32"),
    PATCH_("overlapping tensors", T2 + 29, 8, 96,
           "tensor 'w.f16' at byte 309: data at offset 96 overlaps tensor 'w.i2s' [32, +96)"),
    PATCH_("offset past the end", T2 + 29, 8, 1ull << 40,
           "tensor 'w.f16' at byte 309: data [1099511627776, +16) at file byte 1099511628128 runs past the end"),
    PATCH_("offset near 2^64", T2 + 29, 8, UINT64_MAX - 31, "tensor 'w.f16' at byte 309: data [18446744073709551584, +16)"),
    PATCH_("last tensor longer than the file", T2 + 17, 8, 9,
           "tensor 'w.f16' at byte 309: data [128, +18) at file byte 480 runs past the end of the file (496 bytes)"),
    /* the model */
    FN_("missing required tensor", m_missing, TC_E_MODEL, "blk.1.ffn_up.weight: required tensor is missing", NULL),
    FN_("mis-shaped tensor", m_shape, TC_E_MODEL,
        "blk.0.ffn_down.weight: expected shape {256, 128}, found {128, 256}", NULL),
    FN_("norm of the wrong type", m_norm_f16, TC_E_MODEL, "blk.0.attn_norm.weight: expected type F32, found F16 (1)", NULL),
    FN_("embedding of the wrong type", m_embd_i2s, TC_E_MODEL,
        "token_embd.weight: expected type F32, F16 or BF16, found I2_S (36)", NULL),
    FN_("metadata of the wrong type", m_embd_str, TC_E_MODEL, "key 'bitnet-b1.58.embedding_length' at byte",
        "expected an integer, found string"),
    FN_("missing architecture", m_no_arch, TC_E_MODEL, "key 'general.architecture' is missing (expected a string)", NULL),
    FN_("unknown architecture", m_llama, TC_E_MODEL,
        "key 'general.architecture': expected bitnet-b1.58, bitnet-25 or bitnet, found 'llama'", NULL),
    FN_("rope dimension != head_dim", m_rope, TC_E_MODEL,
        "key 'bitnet-b1.58.rope.dimension_count': expected 64 (head_dim), found 32", NULL),
    FN_("missing epsilon", m_no_eps, TC_E_MODEL,
        "key 'bitnet-b1.58.attention.layer_norm_rms_epsilon' is missing (expected a float)", NULL),
    FN_("head_count does not divide d", m_heads, TC_E_MODEL,
        "embedding_length 128 is not a multiple of head_count 3", NULL),
    FN_("block_count 0", m_blocks0, TC_E_MODEL, "key 'bitnet-b1.58.block_count': expected a value >= 1, found 0", NULL),
    FN_("block_count past the tensors", m_blocks3, TC_E_MODEL, "blk.2.attn_norm.weight: required tensor is missing", NULL),
};
enum { N_BAD = sizeof bad_cases / sizeof bad_cases[0] };

static img make_bad(const bad_case *bc)
{
    if (bc->how == FN) return bc->fn();
    img m = build_small(3, bc->base_align);
    switch (bc->how) {
    case CUT:
        ck_assert_uint_lt(bc->at, m.n);
        if (bc->value) put_le(&m, 16, 8, bc->value);
        m.n = bc->at;
        break;
    case PATCH: put_le(&m, bc->at, bc->width, bc->value); break;
    case BYTES: ck_assert_uint_le(bc->at + strlen(bc->bytes), m.n); memcpy(m.b + bc->at, bc->bytes, strlen(bc->bytes)); break;
    case FN: break;
    }
    return m;
}

/* Open the file and bind the model; the status and the message. */
static tc_status open_and_bind(const char *path, tc_err *err)
{
    tc_gguf *g = NULL;
    tc_model *mod;
    tc_err_clear(err);
    tc_status s = tc_gguf_open(path, &g, err);
    if (s) {
        ck_assert_ptr_null(g);
        return s;
    }
    s = tc_model_from_gguf(g, &mod, err);
    if (s == TC_OK) tc_model_free(mod);
    else tc_gguf_close(g);
    return s;
}

START_TEST(bad_file)
{
    const bad_case *bc = &bad_cases[_i];
    img m = make_bad(bc);
    char *path = img_to_temp(&m);
    tc_err err;
    tc_status s = open_and_bind(path, &err);
    ck_assert_msg(s == bc->status, "%s: expected %s, got %s: %s", bc->name, tc_strerror(bc->status),
                  tc_strerror(s), err.msg);
    ck_assert_int_eq(err.status, s);
    ck_assert_msg(strncmp(err.msg, path, strlen(path)) == 0, "%s: message does not name the file: %s", bc->name, err.msg);
    ck_assert_msg(strstr(err.msg, bc->want), "%s: message\n  %s\nlacks\n  %s", bc->name, err.msg, bc->want);
    if (bc->want2) ck_assert_msg(strstr(err.msg, bc->want2), "%s: message\n  %s\nlacks\n  %s", bc->name, err.msg, bc->want2);
    /* the same bytes parsed from memory (an exact-size copy, so a sanitizer
     * sees any over-read) give the same verdict */
    if (bc->status == TC_E_FORMAT && m.n >= 24) {
        uint8_t *copy = malloc(m.n);
        memcpy(copy, m.b, m.n);
        tc_gguf *g = (tc_gguf *)(uintptr_t)1;
        tc_err e2;
        ck_assert_int_eq(tc_gguf_parse(copy, m.n, "mem", &g, &e2), bc->status);
        ck_assert_ptr_null(g);
        ck_assert_ptr_nonnull(strstr(e2.msg, bc->want));
        free(copy);
    }
    unlink(path);
    free(path);
    free(m.b);
}
END_TEST

START_TEST(open_errors)
{
    tc_gguf *g = (tc_gguf *)1;
    tc_err err;
    ck_assert_int_eq(tc_gguf_open("/nonexistent/dir/x.gguf", &g, &err), TC_E_IO);
    ck_assert_ptr_null(g);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/dir/x.gguf: cannot open: "));
    ck_assert_int_eq(tc_gguf_open("/tmp", &g, &err), TC_E_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "/tmp: not a regular file"));
    img empty = { (uint8_t *)"", 0 };
    char *path = img_to_temp(&empty);
    ck_assert_int_eq(tc_gguf_open(path, &g, &err), TC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "expected at least 24 bytes, the file has 0"));
    ck_assert_int_eq(tc_gguf_parse((const uint8_t *)"", 0, "empty", &g, &err), TC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "empty: magic at byte 0: expected 4 bytes, the file ends at byte 0"));
    unlink(path);
    free(path);
}
END_TEST

START_TEST(getter_errors)
{
    img m = build_small(3, 0);
    tc_gguf *g;
    tc_err err;
    uint64_t u;
    double f;
    const char *p;
    size_t len;
    ck_assert_int_eq(tc_gguf_parse(m.b, m.n, "small.gguf", &g, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_get_uint(g, "t.u32", 1000, &u, &err), TC_E_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "key 't.u32' at byte 24: value 4000000000 out of range (expected 0..1000)"));
    ck_assert_int_eq(tc_gguf_get_uint(g, "t.str", 10, &u, &err), TC_E_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "key 't.str' at byte 45: expected an integer, found string"));
    ck_assert_int_eq(tc_gguf_get_uint(g, "absent", 10, &u, &err), TC_E_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "key 'absent' is missing (expected an integer)"));
    ck_assert_int_eq(tc_gguf_get_float(g, "t.u32", &f, &err), TC_E_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "key 't.u32' at byte 24: expected f32 or f64, found u32"));
    ck_assert_int_eq(tc_gguf_get_string(g, "t.arr", &p, &len, &err), TC_E_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "key 't.arr' at byte 94: expected string, found array"));
    ck_assert_int_eq(tc_gguf_get_string(g, "t.str", &p, &len, &err), TC_OK);
    ck_assert(len == 6 && memcmp(p, "bitnet", 6) == 0);
    tc_gguf_close(g);

    /* a negative signed value is out of range for an unsigned getter */
    tc_gguf_writer *w = tc_gguf_writer_new(3, 0);
    tc_gguf_value v = { .type = TC_GGUF_I8, .v.i = -2 };
    ck_assert_int_eq(tc_gguf_writer_add(w, "neg", &v, &err), TC_OK);
    img n = writer_to_img(w, NULL, NULL);
    ck_assert_int_eq(tc_gguf_parse(n.b, n.n, "neg.gguf", &g, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_get_uint(g, "neg", 100, &u, &err), TC_E_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "value -2 out of range"));
    tc_gguf_close(g);
    ck_assert_str_eq(tc_gguf_vtype_name(99), "unknown");
    ck_assert_uint_eq(tc_gguf_vtype_size(TC_GGUF_STRING), 0);
    free(n.b);
    free(m.b);
}
END_TEST

/* ==== limits ==== */

/* Every proper prefix of the small file is rejected, from memory (exact-size
 * copies) and from disk. */
START_TEST(every_truncation)
{
    img m = build_small(3, 0);
    tc_err err;
    for (size_t n = 0; n < m.n; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, m.b, n);
        tc_gguf *g;
        tc_err_clear(&err);
        tc_status s = tc_gguf_parse(copy, n, "cut", &g, &err);
        ck_assert_msg(s == TC_E_FORMAT, "cut at %zu: %s", n, tc_strerror(s));
        ck_assert_msg(err.msg[0] != '\0' && g == NULL, "cut at %zu: no message", n);
        free(copy);
        img cut = { m.b, n };
        char *path = img_to_temp(&cut);
        ck_assert_msg(tc_gguf_open(path, &g, &err) == TC_E_FORMAT, "open cut at %zu", n);
        unlink(path);
        free(path);
    }
    free(m.b);
}
END_TEST

/* Prefixes of a whole model, every 61 bytes, are rejected too. */
START_TEST(model_truncations)
{
    model_opts o = MODEL_DEFAULTS;
    img m = build_model(&o);
    for (size_t n = 0; n < m.n; n += 61) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, m.b, n);
        tc_gguf *g;
        tc_err err;
        ck_assert_msg(tc_gguf_parse(copy, n, "cut", &g, &err) == TC_E_FORMAT, "cut at %zu", n);
        free(copy);
    }
    free(m.b);
}
END_TEST

/* bitnet.cpp leaves bytes in the I2_S padding: the file must still load. */
START_TEST(junk_in_i2s_padding)
{
    img m = build_small(3, 0);
    memset(m.b + DATA + 32 + 68, 0xa5, 28);   /* w.i2s: 64 bytes of codes, the scale, then padding */
    char *path = img_to_temp(&m);
    tc_gguf *g;
    tc_err err;
    ck_assert_msg(tc_gguf_open(path, &g, &err) == TC_OK, "%s", err.msg);
    const tc_gguf_tensor *t = tc_gguf_find_tensor(g, "w.i2s");
    ck_assert_float_eq(tc_i2s_scale(t->data, 256), 0.75f);
    ck_assert_uint_eq(t->data[95], 0xa5);
    tc_gguf_close(g);
    unlink(path);
    free(path);
    free(m.b);

    model_opts o = MODEL_DEFAULTS;
    o.junk_padding = true;
    m = build_model(&o);
    path = img_to_temp(&m);
    ck_assert_msg(open_and_bind(path, &err) == TC_OK, "%s", err.msg);
    unlink(path);
    free(path);
    free(m.b);
}
END_TEST

START_TEST(edges_that_load)
{
    tc_err err;
    tc_gguf *g;
    /* arrays nested exactly as deep as allowed */
    img m = nested_arrays(TC_GGUF_MAX_ARRAY_DEPTH);
    ck_assert_msg(tc_gguf_parse(m.b, m.n, "deep", &g, &err) == TC_OK, "%s", err.msg);
    tc_gguf_close(g);
    free(m.b);
    /* the bare 24-byte header, no key/values or tensors, no padding */
    uint8_t hdr[24] = { 'G', 'G', 'U', 'F', 3 };
    ck_assert_int_eq(tc_gguf_parse(hdr, 24, "hdr", &g, &err), TC_OK);
    ck_assert_uint_eq(g->data_offset, 24);
    tc_gguf_close(g);
    /* a 63-byte tensor name, a 4000-byte key, a one-element I2_S-free file */
    char name[TC_GGUF_MAX_NAME + 1], key[4001];
    memset(name, 'n', TC_GGUF_MAX_NAME);
    name[TC_GGUF_MAX_NAME] = '\0';
    memset(key, 'k', 4000);
    key[4000] = '\0';
    tc_gguf_writer *w = tc_gguf_writer_new(2, 0);
    const uint64_t ne[4] = { 1, 1, 1, 1 };
    ck_assert_int_eq(tc_gguf_writer_set_u32(w, key, 1, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, name, TC_TYPE_F32, 4, ne, &err), TC_OK);
    char *path = tu_temp_path(".gguf");
    ck_assert_int_eq(tc_gguf_writer_begin(w, path, &err), TC_OK);
    w_write(w, "\0\0\x80\x3f", 4);
    ck_assert_int_eq(tc_gguf_writer_finish(w, &err), TC_OK);
    tc_gguf_writer_free(w);
    ck_assert_msg(tc_gguf_open(path, &g, &err) == TC_OK, "%s", err.msg);
    ck_assert_str_eq(g->tensors[0].name, name);
    ck_assert_ptr_nonnull(tc_gguf_find(g, key));
    ck_assert_float_eq(*(const float *)g->tensors[0].data, 1.0f);
    tc_gguf_close(g);
    unlink(path);
    free(path);
    /* model binding on a file that is not a model fails cleanly */
    m = build_small(3, 0);
    ck_assert_int_eq(tc_gguf_parse(m.b, m.n, "small", &g, &err), TC_OK);
    tc_model *mod = (tc_model *)1;
    ck_assert_int_eq(tc_model_from_gguf(g, &mod, &err), TC_E_MODEL);
    ck_assert_ptr_null(mod);
    tc_gguf_close(g);
    free(m.b);
}
END_TEST

static Suite *gguf_suite(void)
{
    Suite *s = suite_create("gguf");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_test(core, small_layout);
    tcase_add_test(core, bitnet_cpp_i2s_matches_f32);
    tcase_add_test(core, model_tiny_binds);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_loop_test(errors, bad_file, 0, N_BAD);
    tcase_add_test(errors, open_errors);
    tcase_add_test(errors, getter_errors);
    suite_add_tcase(s, errors);
    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 120);
    tcase_add_test(limits, every_truncation);
    tcase_add_test(limits, model_truncations);
    tcase_add_test(limits, junk_in_i2s_padding);
    tcase_add_test(limits, edges_that_load);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    return tu_run(gguf_suite());
}

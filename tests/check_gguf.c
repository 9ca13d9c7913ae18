/* check_gguf.c -- the GGUF reader and writer (src/gguf.c), and the model
 * binding's checks on hostile or unusable files (src/model.c).
 *
 * Malformed files are made here, from one small valid file written by the
 * writer (layout below, checked by the `layout` test), by cutting it short
 * or patching bytes; model-level cases build a tiny model with the writer.
 */
#include <check.h>
#include <dirent.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/gguf.h"
#include "format/model.h"
#include "testutil.h"
#include "format/types.h"

/* ---- byte images ---- */

typedef struct img { uint8_t *b; size_t n; } img;

static img img_read(const char *path)
{
    img m = { NULL, 0 };
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    m.n = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    m.b = malloc(m.n ? m.n : 1);
    ck_assert_uint_eq(fread(m.b, 1, m.n, fp), m.n);
    fclose(fp);
    return m;
}

/* Write the image to a fresh temporary file; the caller unlinks and frees. */
static char *img_to_temp(const img *m)
{
    char *path = tu_temp_path(".gguf");
    ck_assert_ptr_nonnull(path);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(m->b, 1, m->n, fp), m->n);
    fclose(fp);
    return path;
}

static void put_le(img *m, size_t at, unsigned width, uint64_t v)
{
    ck_assert_uint_le(at + width, m->n);
    for (unsigned i = 0; i < width; i++) m->b[at + i] = (uint8_t)(v >> (8 * i));
}

/* Finish a writer into memory: the file is read back and removed. */
static img writer_to_img(tc_gguf_writer *w, void (*data)(tc_gguf_writer *))
{
    tc_err err;
    char *path = tu_temp_path(".gguf");
    ck_assert_int_eq(tc_gguf_writer_begin(w, path, &err), TC_OK);
    if (data) data(w);
    ck_assert_msg(tc_gguf_writer_finish(w, &err) == TC_OK, "%s", err.msg);
    tc_gguf_writer_free(w);
    img m = img_read(path);
    unlink(path);
    free(path);
    return m;
}

static uint32_t rng_state;
static uint32_t rnd(void) { rng_state = rng_state * 1664525u + 1013904223u; return rng_state >> 8; }

static void w_write(tc_gguf_writer *w, const void *p, size_t n)
{
    tc_err err;
    ck_assert_msg(tc_gguf_writer_write(w, p, n, &err) == TC_OK, "%s", err.msg);
}

/* ---- the small valid file ----
 *
 * Six key/values with 5-byte keys (so a key can be renamed into another),
 * three tensors with 5-byte names, default alignment 32:
 *
 *   byte   0  header (magic, version 3, 3 tensors, 6 kvs)
 *   byte  24  t.u32  u32 4000000000         value at  41
 *   byte  45  t.str  string "bitnet"        value at  62
 *   byte  76  t.bol  bool true              value at  93
 *   byte  94  t.arr  [u8 x 3] 0 128 255     value at 111 (n at 115)
 *   byte 126  t.sts  [string x 2] "a" "bc"  value at 143 (n at 147)
 *   byte 174  t.nst  [array x 1] [i16 x 2]  value at 191
 *   byte 219  w.f32  F32 {4, 2}   n_dims at 232, ne at 236, type 252, offset 256
 *   byte 264  w.i2s  I2_S {128, 2}  n_dims at 277, ne at 281, type 297, offset 301
 *   byte 309  w.f16  F16 {8}      n_dims at 322, ne at 326, type 334, offset 338
 *   byte 346  padding; the data section starts at 352
 *   data  0 (file 352) w.f32, 32 bytes; 32 (384) w.i2s, 96 bytes (scale at 448,
 *   padding 452..479); 128 (480) w.f16, 16 bytes; the file ends at 496.
 */
enum {
    K0 = 24, K1 = 45, K2 = 76, K3 = 94, K4 = 126, K5 = 174,
    T0 = 219, T1 = 264, T2 = 309, INFO_END = 346, DATA = 352, SMALL_SIZE = 496
};

static const float small_f32[8] = { 2.385f, -1.0f, 0.5f, -0.0f, 65504.0f, 1e-7f, -3.25f, 100.0f };
static const uint16_t small_f16[8] = { 0x40c5, 0x3c00, 0x0001, 0x8000, 0x7bff, 0xc000, 0x0400, 0x3555 };
static uint8_t small_i2s[96];

static void small_data(tc_gguf_writer *w)
{
    int8_t t[256];
    for (size_t i = 0; i < 256; i++) t[i] = (int8_t)(i % 3) - 1;
    ck_assert_int_eq(tc_i2s_pack(t, 256, 0.75f, small_i2s), TC_OK);
    w_write(w, small_f32, sizeof small_f32);
    w_write(w, small_i2s, sizeof small_i2s);
    w_write(w, small_f16, sizeof small_f16);
}

static img build_small(uint32_t version, size_t align)
{
    tc_err err;
    tc_gguf_writer *w = tc_gguf_writer_new(version, align);
    ck_assert_ptr_nonnull(w);
    const uint8_t u8s[3] = { 0, 128, 255 };
    const char *strs[2] = { "a", "bc" };
    const int16_t i16s[2] = { -32768, 32767 };
    tc_gguf_value inner = { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_I16, 2, i16s, NULL } };
    tc_gguf_value nested = { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_ARRAY, 1, NULL, &inner } };
    ck_assert_int_eq(tc_gguf_writer_set_u32(w, "t.u32", 4000000000u, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_set_str(w, "t.str", "bitnet", &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_set_bool(w, "t.bol", true, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_set_arr(w, "t.arr", TC_GGUF_U8, 3, u8s, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_set_arr_str(w, "t.sts", 2, strs, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_add(w, "t.nst", &nested, &err), TC_OK);
    const uint64_t ne0[2] = { 4, 2 }, ne1[2] = { 128, 2 }, ne2[1] = { 8 };
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "w.f32", TC_TYPE_F32, 2, ne0, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "w.i2s", TC_TYPE_I2_S, 2, ne1, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "w.f16", TC_TYPE_F16, 1, ne2, &err), TC_OK);
    return writer_to_img(w, small_data);
}

/* ---- a tiny BitNet model ---- */

enum { MD = 128, MFF = 256, MVOCAB = 16, MLAYERS = 2, MHEADS = 2, MHEADS_KV = 1, MHEAD_DIM = 64 };

typedef struct model_opts {
    const char *arch;         /* general.architecture; NULL leaves it out */
    bool embd_as_string;      /* <arch>.embedding_length written as a string */
    bool no_eps;              /* leave out layer_norm_rms_epsilon */
    uint32_t rope_dim;        /* rope.dimension_count */
    uint32_t head_count;      /* attention.head_count */
    uint32_t block_count;     /* block_count */
    const char *omit;         /* a tensor left out */
    const char *retype;       /* a tensor stored as type retype_to */
    uint32_t retype_to;
    const char *reshape;      /* a tensor stored as {reshape_ne0, reshape_ne1} */
    uint64_t reshape_ne0, reshape_ne1;
    bool junk_padding;        /* leftover bytes in every I2_S padding */
} model_opts;

#define MODEL_DEFAULTS { .arch = "bitnet-b1.58", .rope_dim = MHEAD_DIM, .head_count = MHEADS, \
                         .block_count = MLAYERS }

typedef struct mtensor { char name[64]; uint32_t type; uint64_t ne0, ne1; } mtensor;

static size_t model_tensors(const model_opts *o, mtensor *out)
{
    static const struct { const char *suffix; int kind; } per_layer[] = {
        /* kind: 0 norm {d}, 1 {d, d}, 2 {d, d_kv}, 3 {d, ff}, 4 {ff} norm, 5 {ff, d} */
        { "attn_norm.weight", 0 }, { "attn_q.weight", 1 }, { "attn_k.weight", 2 }, { "attn_v.weight", 2 },
        { "attn_sub_norm.weight", 0 }, { "attn_output.weight", 1 }, { "ffn_norm.weight", 0 },
        { "ffn_gate.weight", 3 }, { "ffn_up.weight", 3 }, { "ffn_sub_norm.weight", 4 }, { "ffn_down.weight", 5 },
    };
    const uint64_t shapes[6][2] = { { MD, 1 }, { MD, MD }, { MD, MHEADS_KV * MHEAD_DIM }, { MD, MFF },
                                    { MFF, 1 }, { MFF, MD } };
    size_t n = 0;
    out[n++] = (mtensor){ "token_embd.weight", TC_TYPE_F16, MD, MVOCAB };
    out[n++] = (mtensor){ "output_norm.weight", TC_TYPE_F32, MD, 1 };
    for (int il = 0; il < MLAYERS; il++)
        for (size_t k = 0; k < sizeof per_layer / sizeof per_layer[0]; k++) {
            mtensor *t = &out[n++];
            snprintf(t->name, sizeof t->name, "blk.%d.%s", il, per_layer[k].suffix);
            int kind = per_layer[k].kind;
            t->type = kind == 0 || kind == 4 ? TC_TYPE_F32 : TC_TYPE_I2_S;
            t->ne0 = shapes[kind][0];
            t->ne1 = shapes[kind][1];
        }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        mtensor t = out[i];
        if (o->omit && !strcmp(t.name, o->omit)) continue;
        if (o->retype && !strcmp(t.name, o->retype)) t.type = o->retype_to;
        if (o->reshape && !strcmp(t.name, o->reshape)) { t.ne0 = o->reshape_ne0; t.ne1 = o->reshape_ne1; }
        out[kept++] = t;
    }
    return kept;
}

static void write_tensor_data(tc_gguf_writer *w, const mtensor *t, bool junk_padding)
{
    size_t n = (size_t)(t->ne0 * t->ne1), nb = tc_type_nbytes((tc_type)t->type, n);
    uint8_t *buf = malloc(nb);
    if (t->type == TC_TYPE_I2_S) {
        int8_t *tern = malloc(n);
        for (size_t i = 0; i < n; i++) tern[i] = (int8_t)(rnd() % 3) - 1;
        ck_assert_int_eq(tc_i2s_pack(tern, n, 2.385f, buf), TC_OK);
        if (junk_padding) memset(buf + n / 4 + 4, 0xa5, 28);
        free(tern);
    } else {
        for (size_t i = 0; i < n; i++) {
            float x = (float)(rnd() % 2001) / 1000.0f - 1.0f;
            uint16_t h = t->type == TC_TYPE_F16 ? tc_f32_to_f16(x) : tc_f32_to_bf16(x);
            if (t->type == TC_TYPE_F32) memcpy(buf + 4 * i, &x, 4);
            else memcpy(buf + 2 * i, &h, 2);
        }
    }
    w_write(w, buf, nb);
    free(buf);
}

static img build_model(const model_opts *o)
{
    tc_err err;
    char key[128];
    tc_gguf_writer *w = tc_gguf_writer_new(3, 0);
    const char *arch = o->arch ? o->arch : "bitnet-b1.58";
    if (o->arch) ck_assert_int_eq(tc_gguf_writer_set_str(w, "general.architecture", o->arch, &err), TC_OK);
    const struct { const char *k; uint32_t v; } u[] = {
        { "context_length", 64 }, { "block_count", o->block_count }, { "feed_forward_length", MFF },
        { "attention.head_count", o->head_count }, { "attention.head_count_kv", MHEADS_KV },
        { "rope.dimension_count", o->rope_dim }, { "vocab_size", MVOCAB },
    };
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        snprintf(key, sizeof key, "%s.%s", arch, u[i].k);
        ck_assert_int_eq(tc_gguf_writer_set_u32(w, key, u[i].v, &err), TC_OK);
    }
    snprintf(key, sizeof key, "%s.embedding_length", arch);
    if (o->embd_as_string) ck_assert_int_eq(tc_gguf_writer_set_str(w, key, "128", &err), TC_OK);
    else ck_assert_int_eq(tc_gguf_writer_set_u32(w, key, MD, &err), TC_OK);
    snprintf(key, sizeof key, "%s.rope.freq_base", arch);
    ck_assert_int_eq(tc_gguf_writer_set_f32(w, key, 500000.0f, &err), TC_OK);
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", arch);
    if (!o->no_eps) ck_assert_int_eq(tc_gguf_writer_set_f32(w, key, 1e-5f, &err), TC_OK);
    mtensor ts[64];
    size_t nt = model_tensors(o, ts);
    for (size_t i = 0; i < nt; i++) {
        uint64_t ne[2] = { ts[i].ne0, ts[i].ne1 };
        ck_assert_int_eq(tc_gguf_writer_add_tensor(w, ts[i].name, ts[i].type, ts[i].ne1 > 1 ? 2 : 1, ne, &err), TC_OK);
    }
    char *path = tu_temp_path(".gguf");
    ck_assert_int_eq(tc_gguf_writer_begin(w, path, &err), TC_OK);
    rng_state = 2385;
    for (size_t i = 0; i < nt; i++) write_tensor_data(w, &ts[i], o->junk_padding);
    ck_assert_msg(tc_gguf_writer_finish(w, &err) == TC_OK, "%s", err.msg);
    tc_gguf_writer_free(w);
    img m = img_read(path);
    unlink(path);
    free(path);
    return m;
}

/* ==== core ==== */

static const tc_gguf_value *val(const tc_gguf *g, const char *key, tc_gguf_vtype t)
{
    const tc_gguf_kv *kv = tc_gguf_find(g, key);
    ck_assert_msg(kv != NULL, "key %s missing", key);
    ck_assert_msg(kv->value.type == t, "key %s: type %d, expected %d", key, kv->value.type, t);
    return &kv->value;
}

/* Check a numeric array read back equals the n elements written. */
static void check_arr(const tc_gguf *g, const char *key, tc_gguf_vtype et, uint64_t n, const void *elems)
{
    const tc_gguf_value *v = val(g, key, TC_GGUF_ARRAY);
    ck_assert_int_eq(v->v.arr.type, et);
    ck_assert_uint_eq(v->v.arr.n, n);
    ck_assert_ptr_null(v->v.arr.items);
    if (n) ck_assert_mem_eq(v->v.arr.raw, elems, (size_t)n * tc_gguf_vtype_size(et));
}

/* Element i of a numeric array as a double: the oracle for tc_gguf_array_num. */
static double elem_as_double(tc_gguf_vtype t, const void *p, uint64_t i)
{
    switch (t) {
    case TC_GGUF_U8: case TC_GGUF_BOOL: return ((const uint8_t *)p)[i];
    case TC_GGUF_I8: return ((const int8_t *)p)[i];
    case TC_GGUF_U16: return ((const uint16_t *)p)[i];
    case TC_GGUF_I16: return ((const int16_t *)p)[i];
    case TC_GGUF_U32: return ((const uint32_t *)p)[i];
    case TC_GGUF_I32: return ((const int32_t *)p)[i];
    case TC_GGUF_F32: return ((const float *)p)[i];
    case TC_GGUF_U64: return (double)((const uint64_t *)p)[i];
    case TC_GGUF_I64: return (double)((const int64_t *)p)[i];
    case TC_GGUF_F64: return ((const double *)p)[i];
    default: ck_abort_msg("not a numeric type"); return 0;
    }
}

START_TEST(kv_roundtrip_all_types)
{
    tc_err err;
    tc_gguf_writer *w = tc_gguf_writer_new(3, 0);
    const struct { const char *key; tc_gguf_value v; } scalars[] = {
        { "u8", { .type = TC_GGUF_U8, .v.u = 255 } },
        { "i8", { .type = TC_GGUF_I8, .v.i = -128 } },
        { "u16", { .type = TC_GGUF_U16, .v.u = 65535 } },
        { "i16", { .type = TC_GGUF_I16, .v.i = -2385 } },
        { "u32", { .type = TC_GGUF_U32, .v.u = 4294967295u } },
        { "i32", { .type = TC_GGUF_I32, .v.i = INT32_MIN } },
        { "f32", { .type = TC_GGUF_F32, .v.f = 2.385f } },
        { "bool.t", { .type = TC_GGUF_BOOL, .v.b = true } },
        { "bool.f", { .type = TC_GGUF_BOOL, .v.b = false } },
        { "str", { .type = TC_GGUF_STRING, .v.str = { "bitnet b1.58 \xe2\x9c\x93", 16 } } },
        { "str.nul", { .type = TC_GGUF_STRING, .v.str = { "ab\0cd", 5 } } },
        { "str.empty", { .type = TC_GGUF_STRING, .v.str = { "", 0 } } },
        { "u64", { .type = TC_GGUF_U64, .v.u = UINT64_MAX } },
        { "i64", { .type = TC_GGUF_I64, .v.i = INT64_MIN } },
        { "f64", { .type = TC_GGUF_F64, .v.f = 2.385 } },
        { "f64.tiny", { .type = TC_GGUF_F64, .v.f = -4.9e-324 } },
    };
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
        ck_assert_int_eq(tc_gguf_writer_add(w, scalars[i].key, &scalars[i].v, &err), TC_OK);

    const uint8_t a_u8[3] = { 0, 1, 255 };
    const int8_t a_i8[3] = { -128, -1, 127 };
    const uint16_t a_u16[3] = { 0, 65535, 2385 };
    const int16_t a_i16[3] = { -32768, -2385, 32767 };
    const uint32_t a_u32[3] = { 0, 4294967295u, 2385 };
    const int32_t a_i32[3] = { INT32_MIN, -2385, INT32_MAX };
    const float a_f32[5] = { 2.385f, -0.0f, INFINITY, NAN, FLT_TRUE_MIN };
    const uint8_t a_bool[3] = { 1, 0, 1 };
    const uint64_t a_u64[3] = { 0, UINT64_MAX, (1ull << 53) + 1 };
    const int64_t a_i64[3] = { INT64_MIN, -1, INT64_MAX };
    const double a_f64[3] = { 2.385, -1e-300, DBL_MAX };
    const struct { const char *key; tc_gguf_vtype t; uint64_t n; const void *p; } arrs[] = {
        { "a.u8", TC_GGUF_U8, 3, a_u8 }, { "a.i8", TC_GGUF_I8, 3, a_i8 }, { "a.u16", TC_GGUF_U16, 3, a_u16 },
        { "a.i16", TC_GGUF_I16, 3, a_i16 }, { "a.u32", TC_GGUF_U32, 3, a_u32 }, { "a.i32", TC_GGUF_I32, 3, a_i32 },
        { "a.f32", TC_GGUF_F32, 5, a_f32 }, { "a.bool", TC_GGUF_BOOL, 3, a_bool }, { "a.u64", TC_GGUF_U64, 3, a_u64 },
        { "a.i64", TC_GGUF_I64, 3, a_i64 }, { "a.f64", TC_GGUF_F64, 3, a_f64 }, { "a.empty", TC_GGUF_U32, 0, NULL },
    };
    for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++)
        ck_assert_int_eq(tc_gguf_writer_set_arr(w, arrs[i].key, arrs[i].t, arrs[i].n, arrs[i].p, &err), TC_OK);
    const char *strs[3] = { "<s>", "", "\xc4\xa0the" };
    ck_assert_int_eq(tc_gguf_writer_set_arr_str(w, "a.str", 3, strs, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_set_arr_str(w, "a.str.empty", 0, NULL, &err), TC_OK);
    /* [[i16 x 3], [u8 x 0], [string x 2], [[u32 x 2]]] and an empty [array x 0] */
    const uint32_t deep_u32[2] = { 7, 2385 };
    tc_gguf_value str_items[2] = { { .type = TC_GGUF_STRING, .v.str = { "x", 1 } },
                                   { .type = TC_GGUF_STRING, .v.str = { "yz", 2 } } };
    tc_gguf_value deepest = { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_U32, 2, deep_u32, NULL } };
    tc_gguf_value inner[4] = {
        { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_I16, 3, a_i16, NULL } },
        { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_U8, 0, NULL, NULL } },
        { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_STRING, 2, NULL, str_items } },
        { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_ARRAY, 1, NULL, &deepest } },
    };
    tc_gguf_value nested = { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_ARRAY, 4, NULL, inner } };
    tc_gguf_value no_arrays = { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_ARRAY, 0, NULL, NULL } };
    ck_assert_int_eq(tc_gguf_writer_add(w, "a.nested", &nested, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_add(w, "a.arr.empty", &no_arrays, &err), TC_OK);

    img m = writer_to_img(w, NULL);
    tc_gguf *g;
    ck_assert_int_eq(tc_gguf_parse(m.b, m.n, "kv.gguf", &g, &err), TC_OK);
    ck_assert_uint_eq(g->n_kv, 16 + 12 + 4);
    ck_assert_uint_eq(g->n_tensors, 0);
    for (size_t i = 0; i < 16; i++) ck_assert_str_eq(g->kv[i].key, scalars[i].key);   /* file order */

    ck_assert_uint_eq(val(g, "u8", TC_GGUF_U8)->v.u, 255);
    ck_assert_int_eq(val(g, "i8", TC_GGUF_I8)->v.i, -128);
    ck_assert_uint_eq(val(g, "u16", TC_GGUF_U16)->v.u, 65535);
    ck_assert_int_eq(val(g, "i16", TC_GGUF_I16)->v.i, -2385);
    ck_assert_uint_eq(val(g, "u32", TC_GGUF_U32)->v.u, 4294967295u);
    ck_assert_int_eq(val(g, "i32", TC_GGUF_I32)->v.i, INT32_MIN);
    ck_assert(val(g, "f32", TC_GGUF_F32)->v.f == (double)2.385f);
    ck_assert(val(g, "bool.t", TC_GGUF_BOOL)->v.b == true);
    ck_assert(val(g, "bool.f", TC_GGUF_BOOL)->v.b == false);
    const tc_gguf_value *s = val(g, "str", TC_GGUF_STRING);
    ck_assert_uint_eq(s->v.str.len, 16);
    ck_assert_mem_eq(s->v.str.ptr, "bitnet b1.58 \xe2\x9c\x93", 16);
    s = val(g, "str.nul", TC_GGUF_STRING);
    ck_assert_uint_eq(s->v.str.len, 5);
    ck_assert_mem_eq(s->v.str.ptr, "ab\0cd", 5);
    ck_assert_uint_eq(val(g, "str.empty", TC_GGUF_STRING)->v.str.len, 0);
    ck_assert_uint_eq(val(g, "u64", TC_GGUF_U64)->v.u, UINT64_MAX);
    ck_assert_int_eq(val(g, "i64", TC_GGUF_I64)->v.i, INT64_MIN);
    ck_assert(val(g, "f64", TC_GGUF_F64)->v.f == 2.385);
    ck_assert(val(g, "f64.tiny", TC_GGUF_F64)->v.f == -4.9e-324);

    for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) {
        check_arr(g, arrs[i].key, arrs[i].t, arrs[i].n, arrs[i].p);
        for (uint64_t k = 0; k < arrs[i].n; k++) {
            double want = elem_as_double(arrs[i].t, arrs[i].p, k), got = tc_gguf_array_num(val(g, arrs[i].key, TC_GGUF_ARRAY), k);
            ck_assert_msg(got == want || (isnan(got) && isnan(want)), "%s[%" PRIu64 "]: %g, expected %g",
                          arrs[i].key, k, got, want);
        }
    }
    const tc_gguf_value *a = val(g, "a.i16", TC_GGUF_ARRAY);
    ck_assert(tc_gguf_array_num(a, 1) == -2385.0);
    ck_assert(tc_gguf_array_num(val(g, "a.f32", TC_GGUF_ARRAY), 0) == (double)2.385f);
    ck_assert(isnan(tc_gguf_array_num(val(g, "a.f32", TC_GGUF_ARRAY), 3)));
    ck_assert(tc_gguf_array_num(val(g, "a.i64", TC_GGUF_ARRAY), 0) == (double)INT64_MIN);
    ck_assert(tc_gguf_array_num(val(g, "a.u32", TC_GGUF_ARRAY), 1) == 4294967295.0);
    ck_assert(tc_gguf_array_num(val(g, "a.bool", TC_GGUF_ARRAY), 2) == 1.0);
    ck_assert(tc_gguf_array_num(val(g, "a.f64", TC_GGUF_ARRAY), 1) == -1e-300);

    a = val(g, "a.str", TC_GGUF_ARRAY);
    ck_assert_int_eq(a->v.arr.type, TC_GGUF_STRING);
    ck_assert_uint_eq(a->v.arr.n, 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(a->v.arr.items[i].type, TC_GGUF_STRING);
        ck_assert_uint_eq(a->v.arr.items[i].v.str.len, strlen(strs[i]));
        ck_assert_mem_eq(a->v.arr.items[i].v.str.ptr, strs[i], strlen(strs[i]));
    }
    a = val(g, "a.str.empty", TC_GGUF_ARRAY);
    ck_assert_int_eq(a->v.arr.type, TC_GGUF_STRING);
    ck_assert_uint_eq(a->v.arr.n, 0);

    a = val(g, "a.nested", TC_GGUF_ARRAY);
    ck_assert_int_eq(a->v.arr.type, TC_GGUF_ARRAY);
    ck_assert_uint_eq(a->v.arr.n, 4);
    const tc_gguf_value *it = a->v.arr.items;
    ck_assert(it[0].type == TC_GGUF_ARRAY && it[0].v.arr.type == TC_GGUF_I16 && it[0].v.arr.n == 3);
    ck_assert_mem_eq(it[0].v.arr.raw, a_i16, sizeof a_i16);
    ck_assert(it[1].v.arr.type == TC_GGUF_U8 && it[1].v.arr.n == 0);
    ck_assert(it[2].v.arr.type == TC_GGUF_STRING && it[2].v.arr.n == 2);
    ck_assert_mem_eq(it[2].v.arr.items[1].v.str.ptr, "yz", 2);
    ck_assert(it[3].v.arr.type == TC_GGUF_ARRAY && it[3].v.arr.n == 1);
    const tc_gguf_value *d = &it[3].v.arr.items[0];
    ck_assert(d->v.arr.type == TC_GGUF_U32 && d->v.arr.n == 2);
    ck_assert(tc_gguf_array_num(d, 1) == 2385.0);
    a = val(g, "a.arr.empty", TC_GGUF_ARRAY);
    ck_assert(a->v.arr.type == TC_GGUF_ARRAY && a->v.arr.n == 0);

    /* display */
    char buf[256];
    tc_gguf_value_format(val(g, "a.i16", TC_GGUF_ARRAY), buf, sizeof buf);
    ck_assert_str_eq(buf, "[i16 x 3] -32768 -2385 32767");
    tc_gguf_value_format(val(g, "u64", TC_GGUF_U64), buf, sizeof buf);
    ck_assert_str_eq(buf, "18446744073709551615");
    tc_gguf_value_format(val(g, "i64", TC_GGUF_I64), buf, sizeof buf);
    ck_assert_str_eq(buf, "-9223372036854775808");
    tc_gguf_value_format(val(g, "f32", TC_GGUF_F32), buf, sizeof buf);
    ck_assert_str_eq(buf, "2.38499999");
    tc_gguf_value_format(val(g, "bool.f", TC_GGUF_BOOL), buf, sizeof buf);
    ck_assert_str_eq(buf, "false");
    tc_gguf_value_format(val(g, "a.str", TC_GGUF_ARRAY), buf, sizeof buf);
    ck_assert_str_eq(buf, "[string x 3] \"<s>\" \"\" \"\xc4\xa0the\"");
    tc_gguf_value_format(val(g, "a.nested", TC_GGUF_ARRAY), buf, sizeof buf);
    ck_assert_str_eq(buf, "[array x 4] [i16 x 3] -32768 -2385 32767 [u8 x 0] [string x 2] \"x\" \"yz\" "
                          "[array x 1] [u32 x 2] 7 2385");
    tc_gguf_value_format(val(g, "a.f32", TC_GGUF_ARRAY), buf, 12);   /* truncated, terminated */
    ck_assert_str_eq(buf, "[f32 x 5] 2");

    /* typed getters */
    uint64_t u;
    double f;
    const char *p;
    size_t len;
    ck_assert_int_eq(tc_gguf_get_uint(g, "u8", 1000, &u, &err), TC_OK);
    ck_assert_uint_eq(u, 255);
    ck_assert_int_eq(tc_gguf_get_uint(g, "u64", UINT64_MAX, &u, &err), TC_OK);
    ck_assert_uint_eq(u, UINT64_MAX);
    ck_assert_int_eq(tc_gguf_get_float(g, "f32", &f, &err), TC_OK);
    ck_assert(f == (double)2.385f);
    ck_assert_int_eq(tc_gguf_get_float(g, "f64", &f, &err), TC_OK);
    ck_assert(f == 2.385);
    ck_assert_int_eq(tc_gguf_get_string(g, "str", &p, &len, &err), TC_OK);
    ck_assert(len == 16 && p == val(g, "str", TC_GGUF_STRING)->v.str.ptr);
    tc_gguf_close(g);
    free(m.b);
}
END_TEST

/* Writer configurations: GGUF version and alignment. */
static const struct { uint32_t version; size_t align; } configs[] = { { 3, 0 }, { 3, 64 }, { 2, 0 }, { 2, 4096 }, { 3, 1 } };

static const struct { const char *name; uint32_t type; uint32_t n_dims; uint64_t ne[4]; } rt_tensors[] = {
    { "t.f32", TC_TYPE_F32, 2, { 3, 5, 1, 1 } },
    { "t.f16", TC_TYPE_F16, 1, { 7, 1, 1, 1 } },
    { "t.bf16", TC_TYPE_BF16, 3, { 2, 3, 4, 1 } },
    { "t.i2s", TC_TYPE_I2_S, 2, { 256, 3, 1, 1 } },
    { "t.i2s.4d", TC_TYPE_I2_S, 4, { 128, 1, 2, 1 } },
    { "t.f32.4d", TC_TYPE_F32, 4, { 1, 2, 1, 3 } },
};
enum { N_RT = sizeof rt_tensors / sizeof rt_tensors[0] };

/* Deterministic data for every rt tensor, concatenated without padding. */
static uint8_t *rt_data(size_t *off, size_t *total)
{
    size_t n = 0;
    for (size_t i = 0; i < N_RT; i++) {
        uint64_t ne = rt_tensors[i].ne[0] * rt_tensors[i].ne[1] * rt_tensors[i].ne[2] * rt_tensors[i].ne[3];
        off[i] = n;
        n += tc_type_nbytes((tc_type)rt_tensors[i].type, ne);
    }
    off[N_RT] = n;
    *total = n;
    uint8_t *buf = malloc(n);
    rng_state = 99;
    for (size_t i = 0; i < N_RT; i++) {
        uint8_t *p = buf + off[i];
        size_t nb = off[i + 1] - off[i];
        if (rt_tensors[i].type == TC_TYPE_I2_S) {
            size_t ne = (nb - 32) * 4;
            int8_t *t = malloc(ne);
            for (size_t k = 0; k < ne; k++) t[k] = (int8_t)(rnd() % 3) - 1;
            ck_assert_int_eq(tc_i2s_pack(t, ne, -2.385f, p), TC_OK);
            free(t);
        } else {
            for (size_t k = 0; k < nb; k++) p[k] = (uint8_t)rnd();
        }
    }
    return buf;
}

static tc_gguf_writer *rt_writer(int cfg)
{
    tc_err err;
    tc_gguf_writer *w = tc_gguf_writer_new(configs[cfg].version, configs[cfg].align);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(tc_gguf_writer_set_str(w, "general.name", "round trip", &err), TC_OK);
    for (size_t i = 0; i < N_RT; i++)
        ck_assert_int_eq(tc_gguf_writer_add_tensor(w, rt_tensors[i].name, rt_tensors[i].type, rt_tensors[i].n_dims,
                                                   rt_tensors[i].ne, &err), TC_OK);
    return w;
}

static const uint8_t *rt_buf;
static size_t rt_off[N_RT + 1];
static void rt_write_per_tensor(tc_gguf_writer *w)
{
    for (size_t i = 0; i < N_RT; i++) w_write(w, rt_buf + rt_off[i], rt_off[i + 1] - rt_off[i]);
}

START_TEST(tensor_roundtrip)
{
    size_t total, align = configs[_i].align ? configs[_i].align : 32;
    uint8_t *data = rt_data(rt_off, &total);
    rt_buf = data;
    char *path = tu_temp_path(".gguf");
    tc_gguf_writer *w = rt_writer(_i);
    tc_err err;
    ck_assert_int_eq(tc_gguf_writer_begin(w, path, &err), TC_OK);
    rt_write_per_tensor(w);
    ck_assert_int_eq(tc_gguf_writer_finish(w, &err), TC_OK);
    tc_gguf_writer_free(w);

    tc_gguf *g;
    ck_assert_msg(tc_gguf_open(path, &g, &err) == TC_OK, "%s", err.msg);
    ck_assert_uint_eq(g->version, configs[_i].version);
    ck_assert_uint_eq(g->alignment, align);
    ck_assert_uint_eq(g->data_offset % align, 0);
    ck_assert_uint_eq(g->n_tensors, N_RT);
    const tc_gguf_kv *ka = tc_gguf_find(g, "general.alignment");
    if (align == 32) ck_assert_ptr_null(ka);
    else ck_assert(ka && ka->value.type == TC_GGUF_U32 && ka->value.v.u == align);
    uint64_t expect_off = 0;
    for (size_t i = 0; i < N_RT; i++) {
        const tc_gguf_tensor *t = &g->tensors[i];
        size_t nb = rt_off[i + 1] - rt_off[i];
        ck_assert_str_eq(t->name, rt_tensors[i].name);
        ck_assert_uint_eq(t->type, rt_tensors[i].type);
        ck_assert_uint_eq(t->n_dims, rt_tensors[i].n_dims);
        for (int d = 0; d < 4; d++) ck_assert_uint_eq(t->ne[d], rt_tensors[i].ne[d]);
        ck_assert_uint_eq(t->n_elements, rt_tensors[i].ne[0] * rt_tensors[i].ne[1] * rt_tensors[i].ne[2] * rt_tensors[i].ne[3]);
        ck_assert_uint_eq(t->nbytes, nb);
        expect_off = (expect_off + align - 1) / align * align;
        ck_assert_uint_eq(t->offset, expect_off);
        ck_assert_ptr_eq(t->data, g->base + g->data_offset + t->offset);
        ck_assert_mem_eq(t->data, data + rt_off[i], nb);
        expect_off += nb;
        ck_assert_ptr_eq(tc_gguf_find_tensor(g, rt_tensors[i].name), t);
    }
    ck_assert_uint_eq(g->size, g->data_offset + expect_off);   /* no padding after the last tensor */
    const tc_gguf_tensor *t = tc_gguf_find_tensor(g, "t.i2s");
    ck_assert_float_eq(tc_i2s_scale(t->data, (size_t)t->n_elements), -2.385f);
    ck_assert_ptr_null(tc_gguf_find_tensor(g, "t.nope"));
    tc_gguf_close(g);
    unlink(path);
    free(path);
    free(data);
}
END_TEST

/* Data streamed in odd-sized pieces that straddle tensor boundaries, or in
 * one call, gives the same file as one call per tensor. */
START_TEST(writer_streams_chunks)
{
    size_t total;
    uint8_t *data = rt_data(rt_off, &total);
    rt_buf = data;
    img ref = writer_to_img(rt_writer(_i), rt_write_per_tensor);

    static const size_t pieces[] = { 1, 7, 13, 64, 3, 100, 2, 31 };
    for (int mode = 0; mode < 2; mode++) {
        tc_gguf_writer *w = rt_writer(_i);
        tc_err err;
        char *path = tu_temp_path(".gguf");
        ck_assert_int_eq(tc_gguf_writer_begin(w, path, &err), TC_OK);
        if (mode == 0) {
            for (size_t at = 0, k = 0; at < total; k++) {
                size_t n = pieces[k % 8] < total - at ? pieces[k % 8] : total - at;
                w_write(w, data + at, n);
                w_write(w, data, 0);   /* empty writes are harmless */
                at += n;
            }
        } else {
            w_write(w, data, total);
        }
        ck_assert_int_eq(tc_gguf_writer_finish(w, &err), TC_OK);
        tc_gguf_writer_free(w);
        img m = img_read(path);
        ck_assert_uint_eq(m.n, ref.n);
        ck_assert_mem_eq(m.b, ref.b, ref.n);
        free(m.b);
        unlink(path);
        free(path);
    }
    free(ref.b);
    free(data);
}
END_TEST

/* Entries in dir other than . and .., and whether `only` is the one. */
static int dir_entries(const char *dir, const char **only)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    static char name[256];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(name, sizeof name, "%s", e->d_name);
            n++;
        }
    closedir(d);
    if (only) *only = n == 1 ? name : NULL;
    return n;
}

static tc_gguf_writer *two_tensor_writer(void)
{
    tc_err err;
    tc_gguf_writer *w = tc_gguf_writer_new(3, 0);
    const uint64_t ne[1] = { 4 }, ne2[1] = { 128 };
    ck_assert_int_eq(tc_gguf_writer_set_u32(w, "k", 1, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "a", TC_TYPE_F32, 1, ne, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "b", TC_TYPE_I2_S, 1, ne2, &err), TC_OK);
    return w;
}

/* An aborted write (freed before finish, finish with data missing, or too
 * much data) leaves neither the target nor a temporary behind, and an
 * existing file at the target is untouched. */
START_TEST(writer_abort_leaves_nothing)
{
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tcgguf.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[4200];
    snprintf(path, sizeof path, "%s/out.gguf", dir);
    uint8_t zeros[256] = { 0 };
    tc_err err;
    const char *only;

    tc_gguf_writer *w = two_tensor_writer();   /* freed before begin */
    tc_gguf_writer_free(w);
    ck_assert_int_eq(dir_entries(dir, NULL), 0);

    w = two_tensor_writer();                   /* freed after a partial write */
    ck_assert_int_eq(tc_gguf_writer_begin(w, path, &err), TC_OK);
    ck_assert_int_eq(dir_entries(dir, NULL), 1);   /* the temporary */
    w_write(w, zeros, 20);
    tc_gguf_writer_free(w);
    ck_assert_int_eq(dir_entries(dir, NULL), 0);

    w = two_tensor_writer();                   /* finish with data missing */
    ck_assert_int_eq(tc_gguf_writer_begin(w, path, &err), TC_OK);
    w_write(w, zeros, 16 + 10);
    ck_assert_int_eq(tc_gguf_writer_finish(w, &err), TC_E_USAGE);
    ck_assert_msg(strstr(err.msg, "tensor 'b' is incomplete (10 of 64 bytes written)"), "%s", err.msg);
    ck_assert_int_eq(dir_entries(dir, NULL), 0);
    tc_gguf_writer_free(w);
    ck_assert_int_eq(dir_entries(dir, NULL), 0);

    w = two_tensor_writer();                   /* too much data */
    ck_assert_int_eq(tc_gguf_writer_begin(w, path, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_write(w, zeros, 16 + 64 + 1, &err), TC_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "1 bytes written past the last tensor"));
    tc_gguf_writer_free(w);
    ck_assert_int_eq(dir_entries(dir, NULL), 0);

    w = two_tensor_writer();                   /* success: exactly the target */
    ck_assert_int_eq(tc_gguf_writer_begin(w, path, &err), TC_OK);
    w_write(w, zeros, 16 + 64);
    ck_assert_int_eq(tc_gguf_writer_finish(w, &err), TC_OK);
    tc_gguf_writer_free(w);
    ck_assert_int_eq(dir_entries(dir, &only), 1);
    ck_assert_str_eq(only, "out.gguf");
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    off_t good_size = st.st_size;

    w = two_tensor_writer();                   /* an aborted rewrite keeps the old file */
    ck_assert_int_eq(tc_gguf_writer_begin(w, path, &err), TC_OK);
    w_write(w, zeros, 3);
    ck_assert_int_eq(tc_gguf_writer_finish(w, &err), TC_E_USAGE);
    tc_gguf_writer_free(w);
    ck_assert_int_eq(dir_entries(dir, &only), 1);
    ck_assert_str_eq(only, "out.gguf");
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, good_size);
    tc_gguf *g;
    ck_assert_int_eq(tc_gguf_open(path, &g, &err), TC_OK);
    tc_gguf_close(g);

    unlink(path);
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

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
    return writer_to_img(w, NULL);
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
static img m_norm_f16(void)
{
    model_opts o = MODEL_DEFAULTS;
    o.retype = "blk.0.attn_norm.weight";
    o.retype_to = TC_TYPE_F16;
    return build_model(&o);
}
static img m_embd_i2s(void)
{
    model_opts o = MODEL_DEFAULTS;
    o.retype = "token_embd.weight";
    o.retype_to = TC_TYPE_I2_S;
    return build_model(&o);
}
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

/* A write that fails (here: the file size limit) is TC_E_IO and leaves no
 * temporary behind. */
START_TEST(writer_io_error)
{
    char dir[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tcgguf.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[4200];
    snprintf(path, sizeof path, "%s/big.gguf", dir);
    tc_err err;
    tc_gguf_writer *w = tc_gguf_writer_new(3, 0);
    const uint64_t ne[1] = { 1 << 16 };
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "big", TC_TYPE_F32, 1, ne, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_begin(w, path, &err), TC_OK);

    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    uint8_t *zeros = calloc(1, 4 << 16);
    tc_status s = tc_gguf_writer_write(w, zeros, 4 << 16, &err);
    if (s == TC_OK) s = tc_gguf_writer_finish(w, &err);   /* the error may surface at the flush */
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);
    ck_assert_int_eq(s, TC_E_IO);
    ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, "too large"), "%s", err.msg);
    ck_assert_int_eq(dir_entries(dir, NULL), 0);
    tc_gguf_writer_free(w);
    ck_assert_int_eq(dir_entries(dir, NULL), 0);
    free(zeros);
    ck_assert_int_eq(rmdir(dir), 0);
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
    img n = writer_to_img(w, NULL);
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

START_TEST(writer_misuse)
{
    tc_err err;
    const uint64_t ne4[1] = { 4 }, ne100[1] = { 100 }, ne0[2] = { 4, 0 }, ne5[5] = { 1, 1, 1, 1, 1 };
    char long_name[TC_GGUF_MAX_NAME + 2];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    ck_assert_ptr_null(tc_gguf_writer_new(3, 48));
    ck_assert_ptr_null(tc_gguf_writer_new(1, 0));
    ck_assert_ptr_null(tc_gguf_writer_new(4, 0));
    tc_gguf_writer_free(NULL);
    tc_gguf_writer *w = tc_gguf_writer_new(3, 0);
    ck_assert_int_eq(tc_gguf_writer_set_u32(w, "k", 1, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_set_f32(w, "k", 1.0f, &err), TC_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "duplicate key 'k'"));
    ck_assert_int_eq(tc_gguf_writer_set_arr(w, "s", TC_GGUF_STRING, 0, NULL, &err), TC_E_USAGE);
    tc_gguf_value bad = { .type = (tc_gguf_vtype)13 };
    ck_assert_int_eq(tc_gguf_writer_add(w, "b", &bad, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "a", TC_TYPE_F32, 1, ne4, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "a", TC_TYPE_F16, 1, ne4, &err), TC_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "duplicate tensor 'a'"));
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, long_name, TC_TYPE_F32, 1, ne4, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "", TC_TYPE_F32, 1, ne4, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "c", TC_TYPE_F32, 0, ne4, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "c", TC_TYPE_F32, 5, ne5, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "c", 2, 1, ne4, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "c", TC_TYPE_I2_S, 1, ne100, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "c", TC_TYPE_F32, 2, ne0, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_gguf_writer_write(w, ne4, 4, &err), TC_E_USAGE);   /* before begin */
    ck_assert_int_eq(tc_gguf_writer_finish(w, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_gguf_writer_begin(w, "/nonexistent/dir/out.gguf", &err), TC_E_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/dir/out.gguf: cannot create a temporary file beside it"));
    ck_assert_int_eq(tc_gguf_writer_begin(w, "/nonexistent/dir/out.gguf", &err), TC_E_IO);   /* may retry */
    char *retry = tu_temp_path(".gguf");
    ck_assert_int_eq(tc_gguf_writer_begin(w, retry, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_write(w, ne4, 4, &err), TC_OK);   /* 4 of the 16 bytes declared */
    tc_gguf_writer_free(w);
    ck_assert_int_eq(access(retry, F_OK), -1);
    free(retry);

    w = tc_gguf_writer_new(3, 0);
    char *path = tu_temp_path(".gguf");
    ck_assert_int_eq(tc_gguf_writer_begin(w, path, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_set_u32(w, "late", 1, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "late", TC_TYPE_F32, 1, ne4, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_gguf_writer_begin(w, path, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_gguf_writer_finish(w, &err), TC_OK);
    tc_gguf_writer_free(w);
    tc_gguf *g;
    ck_assert_int_eq(tc_gguf_open(path, &g, &err), TC_OK);   /* header only */
    ck_assert_uint_eq(g->n_kv, 0);
    tc_gguf_close(g);
    unlink(path);
    free(path);
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
    tcase_add_test(core, kv_roundtrip_all_types);
    tcase_add_loop_test(core, tensor_roundtrip, 0, sizeof configs / sizeof configs[0]);
    tcase_add_loop_test(core, writer_streams_chunks, 0, sizeof configs / sizeof configs[0]);
    tcase_add_test(core, writer_abort_leaves_nothing);
    tcase_add_test(core, small_layout);
    tcase_add_test(core, bitnet_cpp_i2s_matches_f32);
    tcase_add_test(core, model_tiny_binds);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_loop_test(errors, bad_file, 0, N_BAD);
    tcase_add_test(errors, open_errors);
    tcase_add_test(errors, writer_io_error);
    tcase_add_test(errors, getter_errors);
    tcase_add_test(errors, writer_misuse);
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

/* check_gguf_writer.c -- the GGUF writer (src/format/gguf_writer.c): every
 * value type and tensor type written and read back, data streamed in any
 * pieces, aborted and failed writes that leave nothing behind, misuse.
 * The reader's own checks are in check_gguf.c. */
#include <check.h>
#include <dirent.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/gguf.h"
#include "format/types.h"
#include "gguf_fixtures.h"
#include "testutil.h"

/* ---- reading back ---- */

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

/* ---- every value type, written and read back ---- */

static const struct { const char *key; tc_gguf_value v; } scalars[] = {
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
enum { N_SCALARS = sizeof scalars / sizeof scalars[0] };

static const uint8_t a_u8[3] = { 0, 1, 255 };
static const int8_t a_i8[3] = { -128, -1, 127 };
static const uint16_t a_u16[3] = { 0, 65535, 2385 };
static const int16_t a_i16[3] = { -32768, -2385, 32767 };
static const uint32_t a_u32[3] = { 0, 4294967295u, 2385 };
static const int32_t a_i32[3] = { INT32_MIN, -2385, INT32_MAX };
static const float a_f32[5] = { 2.385f, -0.0f, INFINITY, NAN, FLT_TRUE_MIN };
static const uint8_t a_bool[3] = { 1, 0, 1 };
static const uint64_t a_u64[3] = { 0, UINT64_MAX, (1ull << 53) + 1 };
static const int64_t a_i64[3] = { INT64_MIN, -1, INT64_MAX };
static const double a_f64[3] = { 2.385, -1e-300, DBL_MAX };
static const struct { const char *key; tc_gguf_vtype t; uint64_t n; const void *p; } arrs[] = {
    { "a.u8", TC_GGUF_U8, 3, a_u8 }, { "a.i8", TC_GGUF_I8, 3, a_i8 }, { "a.u16", TC_GGUF_U16, 3, a_u16 },
    { "a.i16", TC_GGUF_I16, 3, a_i16 }, { "a.u32", TC_GGUF_U32, 3, a_u32 }, { "a.i32", TC_GGUF_I32, 3, a_i32 },
    { "a.f32", TC_GGUF_F32, 5, a_f32 }, { "a.bool", TC_GGUF_BOOL, 3, a_bool }, { "a.u64", TC_GGUF_U64, 3, a_u64 },
    { "a.i64", TC_GGUF_I64, 3, a_i64 }, { "a.f64", TC_GGUF_F64, 3, a_f64 }, { "a.empty", TC_GGUF_U32, 0, NULL },
};
enum { N_ARRS = sizeof arrs / sizeof arrs[0] };
static const char *const strs[3] = { "<s>", "", "\xc4\xa0the" };

/* [[i16 x 3], [u8 x 0], [string x 2], [[u32 x 2]]] and an empty [array x 0] */
static const uint32_t deep_u32[2] = { 7, 2385 };
static tc_gguf_value str_items[2] = { { .type = TC_GGUF_STRING, .v.str = { "x", 1 } },
                                      { .type = TC_GGUF_STRING, .v.str = { "yz", 2 } } };
static tc_gguf_value deepest = { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_U32, 2, deep_u32, NULL } };
static tc_gguf_value inner[4] = {
    { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_I16, 3, a_i16, NULL } },
    { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_U8, 0, NULL, NULL } },
    { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_STRING, 2, NULL, str_items } },
    { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_ARRAY, 1, NULL, &deepest } },
};
static const tc_gguf_value nested = { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_ARRAY, 4, NULL, inner } };
static const tc_gguf_value no_arrays = { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_ARRAY, 0, NULL, NULL } };

static void add_all_types(tc_gguf_writer *w)
{
    tc_err err;
    for (size_t i = 0; i < N_SCALARS; i++)
        ck_assert_int_eq(tc_gguf_writer_add(w, scalars[i].key, &scalars[i].v, &err), TC_OK);
    for (size_t i = 0; i < N_ARRS; i++)
        ck_assert_int_eq(tc_gguf_writer_set_arr(w, arrs[i].key, arrs[i].t, arrs[i].n, arrs[i].p, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_set_arr_str(w, "a.str", 3, strs, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_set_arr_str(w, "a.str.empty", 0, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_add(w, "a.nested", &nested, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_add(w, "a.arr.empty", &no_arrays, &err), TC_OK);
}

static void check_scalars(const tc_gguf *g)
{
    for (size_t i = 0; i < N_SCALARS; i++) ck_assert_str_eq(g->kv[i].key, scalars[i].key);   /* file order */
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
}

static void check_arrays(const tc_gguf *g)
{
    for (size_t i = 0; i < N_ARRS; i++) {
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
}

static void check_nested(const tc_gguf *g)
{
    const tc_gguf_value *a = val(g, "a.nested", TC_GGUF_ARRAY);
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
}

/* tc_gguf_value_format, as inspect shows values. */
static void check_display(const tc_gguf *g)
{
    static const struct { const char *key; tc_gguf_vtype t; const char *want; } shown[] = {
        { "a.i16", TC_GGUF_ARRAY, "[i16 x 3] -32768 -2385 32767" },
        { "u64", TC_GGUF_U64, "18446744073709551615" },
        { "i64", TC_GGUF_I64, "-9223372036854775808" },
        { "f32", TC_GGUF_F32, "2.38499999" },
        { "bool.f", TC_GGUF_BOOL, "false" },
        { "a.str", TC_GGUF_ARRAY, "[string x 3] \"<s>\" \"\" \"\xc4\xa0the\"" },
        { "a.nested", TC_GGUF_ARRAY, "[array x 4] [i16 x 3] -32768 -2385 32767 [u8 x 0] [string x 2] \"x\" \"yz\" "
                                     "[array x 1] [u32 x 2] 7 2385" },
    };
    char buf[256];
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        tc_gguf_value_format(val(g, shown[i].key, shown[i].t), buf, sizeof buf);
        ck_assert_str_eq(buf, shown[i].want);
    }
    tc_gguf_value_format(val(g, "a.f32", TC_GGUF_ARRAY), buf, 12);   /* truncated, terminated */
    ck_assert_str_eq(buf, "[f32 x 5] 2");
}

static void check_getters(const tc_gguf *g)
{
    tc_err err;
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
}

START_TEST(kv_roundtrip_all_types)
{
    tc_err err;
    tc_gguf_writer *w = tc_gguf_writer_new(3, 0);
    add_all_types(w);
    img m = writer_to_img(w, NULL, NULL);
    tc_gguf *g;
    ck_assert_int_eq(tc_gguf_parse(m.b, m.n, "kv.gguf", &g, &err), TC_OK);
    ck_assert_uint_eq(g->n_kv, N_SCALARS + N_ARRS + 4);
    ck_assert_uint_eq(g->n_tensors, 0);
    check_scalars(g);
    check_arrays(g);
    check_nested(g);
    check_display(g);
    check_getters(g);
    tc_gguf_close(g);
    free(m.b);
}
END_TEST

/* ---- tensors of every type, and streaming ---- */

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
    rnd_seed(99);
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
static void rt_write_per_tensor(tc_gguf_writer *w, const void *ctx)
{
    (void)ctx;
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
    rt_write_per_tensor(w, NULL);
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
    img ref = writer_to_img(rt_writer(_i), rt_write_per_tensor, NULL);

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

/* ---- aborted and failed writes ---- */

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

static Suite *gguf_writer_suite(void)
{
    Suite *s = suite_create("gguf_writer");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_test(core, kv_roundtrip_all_types);
    tcase_add_loop_test(core, tensor_roundtrip, 0, sizeof configs / sizeof configs[0]);
    tcase_add_loop_test(core, writer_streams_chunks, 0, sizeof configs / sizeof configs[0]);
    tcase_add_test(core, writer_abort_leaves_nothing);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, writer_io_error);
    tcase_add_test(errors, writer_misuse);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return tu_run(gguf_writer_suite());
}

/* check_tcv.c -- the TCV1 vector format (src/format/tcv.c): a written
 * vector reads back entry for entry; the golden vectors read; a flipped
 * byte fails the CRC, a truncated or overlong file, a bad magic, version,
 * name, dtype or dimension is TC_E_FORMAT naming what is wrong; writing
 * refuses names it could not read back. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "format/tcv.h"
#include "testutil.h"

/* a small vector: two entries of different types, written to a new path */
static char *write_sample(void)
{
    static const float f[6] = { 2.385f, -1.5f, 0.0f, 1e-40f, 3.25f, -7.0f };
    static const int32_t i[3] = { -2147483647 - 1, 0, 2147483647 };
    tc_tcv_entry e[2] = { tc_tcv_entry_2d("c0.x", TC_TCV_F32, 2, 3, f), tc_tcv_entry_2d("c0.out", TC_TCV_I32, 1, 3, i) };
    cJSON *meta = cJSON_CreateObject();
    cJSON_AddStringToObject(meta, "kind", "kernel");
    char *path = tu_temp_path(".tcv.gz");
    tc_err err = { 0 };
    ck_assert_msg(tc_tcv_write(path, meta, e, 2, &err) == TC_OK, "%s", err.msg);
    cJSON_Delete(meta);
    return path;
}

/* The decompressed image of the file at path (malloc'd). */
static uint8_t *image(const char *path, size_t *n)
{
    uint8_t *p = tu_read_gz(path, n);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* Write img[0..n) plainly to path (the reader takes plain files too);
 * with crc, replace the last four bytes by the CRC of the rest. */
static void put_image(const char *path, uint8_t *img, size_t n, bool crc)
{
    if (crc) {
        uint32_t c = (uint32_t)crc32_z(0L, img, n - 4);
        memcpy(img + n - 4, &c, 4);
    }
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(img, 1, n, f), n);
    fclose(f);
}

/* Reading path fails with TC_E_FORMAT and a message holding words. */
static void fails_with(const char *path, const char *words)
{
    tc_tcv v;
    tc_err err = { 0 };
    ck_assert_int_eq(tc_tcv_read(path, &v, &err), TC_E_FORMAT);
    ck_assert_msg(strstr(err.msg, words) != NULL, "'%s' lacks '%s'", err.msg, words);
    ck_assert_ptr_null(v.entries);
    ck_assert_ptr_null(v.meta);
}

/* ---- core ---- */

START_TEST(round_trip)
{
    char *path = write_sample();
    tc_tcv v;
    tc_err err = { 0 };
    ck_assert_msg(tc_tcv_read(path, &v, &err) == TC_OK, "%s", err.msg);
    ck_assert_uint_eq(v.n_entries, 2);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(v.meta, "kind")), "kernel");
    const tc_tcv_entry *x = tc_tcv_find(&v, "c0.x"), *o = tc_tcv_find(&v, "c0.out");
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(o);
    ck_assert_ptr_null(tc_tcv_find(&v, "c0.y"));
    ck_assert_int_eq(x->dtype, TC_TCV_F32);
    ck_assert_uint_eq(x->n_dims, 2);
    ck_assert_uint_eq(x->dims[0], 2);
    ck_assert_uint_eq(x->dims[1], 3);
    ck_assert_uint_eq(x->count, 6);
    ck_assert_float_eq(((const float *)x->data)[0], 2.385f);
    ck_assert_float_eq(((const float *)x->data)[3], 1e-40f);
    ck_assert_int_eq(((const int32_t *)o->data)[0], -2147483647 - 1);
    ck_assert_int_eq(((const int32_t *)o->data)[2], 2147483647);
    tc_tcv_free(&v);
    tc_tcv_free(&v);   /* an empty vector frees as a no-op */
    unlink(path);
    free(path);
}
END_TEST

START_TEST(golden_vectors_read)
{
    static const char *const names[] = { "golden/kernel-i2s_gemm.tcv.gz", "golden/model-tiny-i2s.tcv.gz" };
    for (int i = 0; i < 2; i++) {
        tc_tcv v;
        tc_err err = { 0 };
        ck_assert_msg(tc_tcv_read(tu_vector_path(names[i]), &v, &err) == TC_OK, "%s", err.msg);
        ck_assert_uint_gt(v.n_entries, 0);
        ck_assert_ptr_nonnull(cJSON_GetObjectItem(v.meta, "kind"));
        tc_tcv_free(&v);
    }
}
END_TEST

/* ---- errors ---- */

START_TEST(damaged_files_are_refused)
{
    char *path = write_sample();
    size_t n;
    uint8_t *img = image(path, &n);
    uint8_t *copy = malloc(n + 8);
    /* a flipped byte in the data: the CRC */
    memcpy(copy, img, n);
    copy[n - 6] ^= 0x10;
    put_image(path, copy, n, false);
    fails_with(path, "the vector is damaged");
    /* the magic */
    memcpy(copy, img, n);
    copy[0] = 'X';
    put_image(path, copy, n, true);
    fails_with(path, "magic at byte 0");
    /* the version */
    memcpy(copy, img, n);
    copy[8] = 2;
    put_image(path, copy, n, true);
    fails_with(path, "version at byte 8: expected 1, found 2");
    /* the entry count says one more entry than there is */
    uint32_t mlen;
    memcpy(copy, img, n);
    memcpy(&mlen, copy + 12, 4);
    copy[16 + mlen] = 3;
    put_image(path, copy, n, true);
    fails_with(path, "expected");
    /* bytes after the last entry */
    memcpy(copy, img, n - 4);
    memset(copy + n - 4, 0, 4);
    put_image(path, copy, n + 4, true);
    fails_with(path, "4 bytes after the last entry");
    /* the first entry's dtype */
    memcpy(copy, img, n);
    const size_t dt = 16 + mlen + 4 + 4 + strlen("c0.x");
    copy[dt] = 9;
    put_image(path, copy, n, true);
    fails_with(path, "entry c0.x: dtype 9");
    /* a dimension of 0 */
    memcpy(copy, img, n);
    memset(copy + dt + 8, 0, 8);
    put_image(path, copy, n, true);
    fails_with(path, "entry c0.x: dimension 0 is 0");
    /* a truncated gzip stream */
    FILE *f = fopen(tu_vector_path("golden/kernel-f16_gemm.tcv.gz"), "rb");
    uint8_t head[1000];
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    put_image(path, head, got, false);
    fails_with(path, "gzip stream damaged");
    free(copy);
    free(img);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(missing_file_is_io)
{
    tc_tcv v;
    tc_err err = { 0 };
    ck_assert_int_eq(tc_tcv_read("/nonexistent/x.tcv.gz", &v, &err), TC_E_IO);
    ck_assert_int_eq(tc_tcv_read("/tmp", &v, &err), TC_E_IO);   /* a directory */
}
END_TEST

/* ---- limits ---- */

START_TEST(names_and_types_are_checked_on_writing)
{
    static const float f[1] = { 2.385f };
    char name[200];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    tc_tcv_entry e = tc_tcv_entry_2d(name, TC_TCV_F32, 1, 1, f);
    ck_assert_uint_eq(strlen(e.name), TC_TCV_NAME_MAX - 1);   /* truncated: still readable */
    cJSON *meta = cJSON_CreateObject();
    char *path = tu_temp_path(".tcv.gz");
    tc_err err = { 0 };
    e.name[0] = '\0';
    ck_assert_int_eq(tc_tcv_write(path, meta, &e, 1, &err), TC_E_USAGE);
    e = tc_tcv_entry_2d("x", (tc_tcv_dtype)7, 1, 1, f);
    ck_assert_int_eq(tc_tcv_write(path, meta, &e, 1, &err), TC_E_USAGE);
    e = tc_tcv_entry_2d("x", TC_TCV_F32, 1, 1, f);
    e.count = 2;   /* more than its dimensions hold */
    ck_assert_int_eq(tc_tcv_write(path, meta, &e, 1, &err), TC_E_USAGE);
    ck_assert_int_eq(access(path, F_OK), -1);   /* nothing written */
    /* no entries at all is a valid vector */
    ck_assert_int_eq(tc_tcv_write(path, meta, NULL, 0, &err), TC_OK);
    tc_tcv v;
    ck_assert_int_eq(tc_tcv_read(path, &v, &err), TC_OK);
    ck_assert_uint_eq(v.n_entries, 0);
    tc_tcv_free(&v);
    cJSON_Delete(meta);
    unlink(path);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tcv");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors"), *limits = tcase_create("limits");
    tcase_add_test(core, round_trip);
    tcase_add_test(core, golden_vectors_read);
    tcase_add_test(errors, damaged_files_are_refused);
    tcase_add_test(errors, missing_file_is_io);
    tcase_add_test(limits, names_and_types_are_checked_on_writing);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    suite_add_tcase(s, limits);
    return tu_run(s);
}

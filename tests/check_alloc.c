/* check_alloc.c -- the readers of untrusted files under a failing
 * allocator (STYLE: every error path provoked on purpose): a receipt
 * (src/receipt/receipt.c, src/base/json.c), a recording (src/engine/dump.c)
 * and a golden vector (src/format/tcv.c) are read again and again, the
 * k-th allocation failing each time, for every k up to the number a
 * successful read makes.  Each read must fail cleanly (TC_E_NOMEM, the
 * message saying so) or succeed; the sanitizer pass checks that nothing
 * leaks and nothing is touched after a failed allocation.
 *
 * malloc, calloc, realloc and strdup of tritcheck's own code are wrapped
 * at link time (-Wl,--wrap); cJSON's allocations go through its hooks. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/dump.h"
#include "format/tcv.h"
#include "receipt/receipt.h"
#include "testutil.h"

/* ---- the failing allocator ---- */

static long fail_at = -1;   /* the allocation (0, 1, ...) that fails; -1: none */
static long n_allocs;       /* allocations so far, while armed */
static int armed;           /* only inside the reader: Check allocates too */

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);

static int fails(void)
{
    if (!armed) return 0;
    const long k = n_allocs++;
    return fail_at >= 0 && k == fail_at;
}

/* reader(path, err) with the allocator armed. */
static tc_status armed_read(tc_status (*reader)(const char *path, tc_err *err), const char *path, tc_err *err)
{
    armed = 1;
    tc_status s = reader(path, err);
    armed = 0;
    return s;
}

void *__wrap_malloc(size_t n) { return fails() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t k, size_t n) { return fails() ? NULL : __real_calloc(k, n); }
void *__wrap_realloc(void *p, size_t n) { return fails() ? NULL : __real_realloc(p, n); }

char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = __wrap_malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

static void *hook_malloc(size_t n) { return __wrap_malloc(n); }

/* Count the allocations of one successful read (reader returns its
 * status), then run it once with each of them failing. */
static void under_failing_allocator(tc_status (*reader)(const char *path, tc_err *err), const char *path)
{
    cJSON_Hooks hooks = { hook_malloc, free };
    cJSON_InitHooks(&hooks);
    tc_err err;
    fail_at = -1;
    n_allocs = 0;
    tc_status s = armed_read(reader, path, &err);
    ck_assert_msg(s == TC_OK, "%s", err.msg);
    const long total = n_allocs;
    ck_assert_int_gt(total, 0);
    for (long k = 0; k < total; k++) {
        fail_at = k;
        n_allocs = 0;
        tc_err_clear(&err);
        s = armed_read(reader, path, &err);
        ck_assert_msg(s == TC_OK || s == TC_E_NOMEM, "allocation %ld of %ld failing: status %d (%s)", k, total, (int)s,
                      err.msg);
        if (s) ck_assert_msg(strstr(err.msg, "out of memory"), "allocation %ld: message '%s'", k, err.msg);
    }
    fail_at = -1;
    cJSON_InitHooks(NULL);
}

/* ---- the readers ---- */

static tc_status read_receipt(const char *path, tc_err *err)
{
    cJSON *r = NULL;
    tc_status s = tc_receipt_load(path, &r, err);
    if (!s) s = tc_receipt_check_seal(r, NULL, NULL, err);
    cJSON_Delete(r);
    return s;
}

static tc_status read_dump(const char *dir, tc_err *err)
{
    tc_dump *d = NULL;
    tc_status s = tc_dump_load(dir, &d, err);
    tc_dump_free(d);
    return s;
}

static tc_status read_vector(const char *path, tc_err *err)
{
    tc_tcv v;
    tc_status s = tc_tcv_read(path, &v, err);
    tc_tcv_free(&v);
    return s;
}

/* ---- the files ---- */

START_TEST(receipt_reader)
{
    char *p = tu_temp_path(".json");
    tc_err err;
    cJSON *r = tc_receipt_new("compare");
    cJSON *res = cJSON_AddArrayToObject(r, "results");
    for (int i = 0; i < 12; i++) {   /* objects of more than 8 members: the sorted duplicate check */
        cJSON *t = cJSON_CreateObject();
        char name[16];
        snprintf(name, sizeof name, "blk.%d.q", i);
        cJSON_AddStringToObject(t, "tap", name);
        for (int k = 0; k < 10; k++) {
            char key[8];
            snprintf(key, sizeof key, "f%d", k);
            cJSON_AddNumberToObject(t, key, 2.385 * k);
        }
        cJSON_AddItemToArray(res, t);
    }
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, p, &err), TC_OK);
    cJSON_Delete(r);
    under_failing_allocator(read_receipt, p);
    unlink(p);
    free(p);
}
END_TEST

START_TEST(dump_reader)
{
    char *dir = tu_temp_path(".dump");
    tc_err err;
    tc_dump *d = tc_dump_new();
    float f[2 * 8];
    int8_t q[2 * 8];
    float sc[2] = { 2.385f, 1.5f };
    for (int i = 0; i < 16; i++) f[i] = 0.25f * (float)i, q[i] = (int8_t)(i - 8);
    const int32_t tok[2] = { 3, 5 };
    tc_tap a = { .name = "inp_embd", .layer = -1, .pos0 = 0, .n_pos = 2, .width = 8, .kind = TC_TAP_F32, .f = f };
    tc_tap b = { .name = "blk.0.attn_norm.q8", .layer = 0, .pos0 = 0, .n_pos = 2, .width = 8, .kind = TC_TAP_Q8,
                 .q8 = q, .scale = sc };
    ck_assert_int_eq(tc_dump_tap_fn(d, &a, &err), TC_OK);
    ck_assert_int_eq(tc_dump_tap_fn(d, &b, &err), TC_OK);
    ck_assert_int_eq(tc_dump_add_tokens(d, tok, 2, &err), TC_OK);
    ck_assert_int_eq(tc_dump_set_engine(d, "ref", "i2s", &err), TC_OK);
    ck_assert_msg(tc_dump_write(d, dir, &err) == TC_OK, "%s", err.msg);
    tc_dump_free(d);
    under_failing_allocator(read_dump, dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}
END_TEST

START_TEST(vector_reader)
{
    char *p = tu_temp_path(".tcv.gz");
    tc_err err;
    float x[6] = { 2.385f, -1, 0, 1, 2, 3 };
    tc_tcv_entry e[2] = { tc_tcv_entry_2d("x", TC_TCV_F32, 2, 3, x), tc_tcv_entry_2d("y", TC_TCV_F32, 3, 2, x) };
    cJSON *meta = cJSON_Parse("{\"kind\":\"kernel\",\"cases\":[{\"rows\":1,\"K\":128,\"n\":1}]}");
    ck_assert_int_eq(tc_tcv_write(p, meta, e, 2, &err), TC_OK);
    cJSON_Delete(meta);
    under_failing_allocator(read_vector, p);
    unlink(p);
    free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alloc");
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, receipt_reader);
    tcase_add_test(errors, dump_reader);
    tcase_add_test(errors, vector_reader);
    suite_add_tcase(s, errors);
    return tu_run(s);
}

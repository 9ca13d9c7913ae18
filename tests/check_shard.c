/* check_shard.c -- shards of a job (src/check/shard.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check/shard.h"
#include "testutil.h"

START_TEST(parse_accepts_i_of_n)
{
    tc_shard s;
    tc_err err;
    ck_assert_int_eq(tc_shard_parse("0/1", &s, &err), TC_OK);
    ck_assert_uint_eq(s.index, 0);
    ck_assert_uint_eq(s.count, 1);
    ck_assert_int_eq(tc_shard_parse("3/4", &s, &err), TC_OK);
    ck_assert_uint_eq(s.index, 3);
    ck_assert_uint_eq(s.count, 4);
    ck_assert(tc_shard_on(&s));
    ck_assert(!tc_shard_on(&(tc_shard){ 0, 0 }));
    ck_assert_int_eq(tc_shard_parse("65535/65536", &s, &err), TC_OK);
}
END_TEST

/* Every unit in exactly one shard, in order, sizes within one of each other. */
START_TEST(bounds_cover_each_unit_once)
{
    for (uint64_t units = 1; units <= 40; units++)
        for (uint64_t n = 1; n <= units; n++) {
            uint64_t next = 0, lo = UINT64_MAX, hi = 0;
            for (uint64_t i = 0; i < n; i++) {
                uint64_t f, e;
                tc_shard_bounds(i, n, units, &f, &e);
                ck_assert_uint_eq(f, next);
                ck_assert_uint_gt(e, f);
                lo = e - f < lo ? e - f : lo;
                hi = e - f > hi ? e - f : hi;
                next = e;
            }
            ck_assert_uint_eq(next, units);
            ck_assert_uint_le(hi - lo, 1);
        }
    /* large counts do not overflow */
    uint64_t f, e;
    tc_shard_bounds(65535, 65536, UINT64_C(4000000000), &f, &e);
    ck_assert_uint_eq(e, UINT64_C(4000000000));
    ck_assert_uint_eq(f, UINT64_C(3999938964));   /* floor(65535 x 4e9 / 65536) */
}
END_TEST

START_TEST(range_of_a_shard)
{
    tc_shard s = { 2, 4 };
    uint64_t f, e;
    tc_err err;
    ck_assert_int_eq(tc_shard_range(&s, 10, "cases", &f, &e, &err), TC_OK);
    ck_assert_uint_eq(f, 5);
    ck_assert_uint_eq(e, 7);
    tc_shard off = { 0, 0 };
    ck_assert_int_eq(tc_shard_range(&off, 10, "cases", &f, &e, &err), TC_OK);
    ck_assert_uint_eq(f, 0);
    ck_assert_uint_eq(e, 10);
}
END_TEST

START_TEST(parse_rejects_junk)
{
    static const char *const bad[] = { "", "1", "/", "1/", "/4", "4/4", "5/4", "-1/3", "1/-3", "1/0", "a/b",
                                       "1/3x", " 1/3", "1 /3", "0/65537", "1/3/4", "99999999999999999999/3" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tc_shard s = { 7, 7 };
        tc_err err = { 0 };
        ck_assert_msg(tc_shard_parse(bad[i], &s, &err) == TC_E_USAGE, "accepted '%s'", bad[i]);
        ck_assert_ptr_nonnull(strstr(err.msg, "--shard"));
        ck_assert_uint_eq(s.count, 7);   /* untouched */
    }
}
END_TEST

START_TEST(more_shards_than_units)
{
    tc_shard s = { 0, 5 };
    uint64_t f, e;
    tc_err err;
    ck_assert_int_eq(tc_shard_range(&s, 4, "chunks", &f, &e, &err), TC_E_USAGE);
    ck_assert_str_eq(err.msg, "--shard 0/5: the job has 4 chunks: use at most 4 shards");
}
END_TEST

/* The identity names the binary by the SHA-256 of the running executable
 * and changes with any option. */
START_TEST(job_identity_and_its_id)
{
    tc_err err;
    cJSON *r = cJSON_Parse("{\"kind\":\"kernels\",\"tool\":{\"version\":\"0.1.0\",\"git_commit\":\"abc\"}}");
    cJSON *o1 = cJSON_Parse("{\"seed\":2385}"), *o2 = cJSON_Parse("{\"seed\":2386}");
    cJSON *a = tc_job_identity(r, o1, "00", &err), *b = tc_job_identity(r, o2, "00", &err);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(a, "model_sha256")));
    const char *exe = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(a, "binary"), "sha256"));
    ck_assert_int_eq(strlen(exe), 64);
    char ha[65], hb[65];
    ck_assert_int_eq(tc_json_sha256(a, ha), TC_OK);
    ck_assert_int_eq(tc_json_sha256(b, hb), TC_OK);
    ck_assert_str_ne(ha, hb);
    /* key order does not change the id: the canonical form sorts keys */
    cJSON *x = cJSON_Parse("{\"b\":1,\"a\":[2,3]}"), *y = cJSON_Parse("{\"a\":[2,3],\"b\":1}");
    ck_assert_int_eq(tc_json_sha256(x, ha), TC_OK);
    ck_assert_int_eq(tc_json_sha256(y, hb), TC_OK);
    ck_assert_str_eq(ha, hb);
    tc_shard s = { 1, 3 };
    ck_assert_int_eq(tc_shard_mark(r, &s, "case", 9, 3, 6, a, &err), TC_OK);
    const cJSON *sh = cJSON_GetObjectItem(r, "shard");
    ck_assert_double_eq(cJSON_GetObjectItem(sh, "first")->valuedouble, 3);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(sh, "unit")), "case");
    cJSON_Delete(x); cJSON_Delete(y); cJSON_Delete(b); cJSON_Delete(r);
}
END_TEST

/* Numbers as written: parsed back from the printed form, and stable. */
START_TEST(numbers_as_written)
{
    tc_err err;
    cJSON *r = cJSON_CreateObject();
    const double v = 0.1 + 0.2;   /* 0.30000000000000004: 17 digits to say */
    cJSON_AddNumberToObject(r, "x", v);
    cJSON_AddNumberToObject(r, "y", 2.385);
    ck_assert_int_eq(tc_receipt_as_written(&r, &err), TC_OK);
    const double x1 = cJSON_GetObjectItem(r, "x")->valuedouble;
    ck_assert_int_eq(tc_receipt_as_written(&r, &err), TC_OK);
    ck_assert(cJSON_GetObjectItem(r, "x")->valuedouble == x1);
    ck_assert(cJSON_GetObjectItem(r, "y")->valuedouble == 2.385);
    cJSON_Delete(r);
    cJSON *s = cJSON_CreateString("inf");
    ck_assert(tc_json_figure(s) > 1e308);
    cJSON_Delete(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("shard");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors"), *limits = tcase_create("limits");
    tcase_add_test(core, parse_accepts_i_of_n);
    tcase_add_test(core, range_of_a_shard);
    tcase_add_test(core, job_identity_and_its_id);
    tcase_add_test(core, numbers_as_written);
    tcase_add_test(errors, parse_rejects_junk);
    tcase_add_test(errors, more_shards_than_units);
    tcase_add_test(limits, bounds_cover_each_unit_once);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    suite_add_tcase(s, limits);
    return tu_run(s);
}

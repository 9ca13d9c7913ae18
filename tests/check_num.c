/* check_num.c -- range-checked conversions of untrusted doubles (src/base/num.c). */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/num.h"
#include "testutil.h"

/* ---- num: no conversion of a double outside its target ---- */

START_TEST(num_checks_range_and_fraction)
{
    int64_t i = 7;
    uint32_t u = 7;
    int32_t s = 7;
    ck_assert(tc_num_to_i64(2385.0, 0, 10000, &i) && i == 2385);
    ck_assert(!tc_num_to_i64(2.385, 0, 10, &i) && i == 2385);
    ck_assert(!tc_num_to_i64(NAN, 0, 10, &i));
    ck_assert(!tc_num_to_i64(INFINITY, INT64_MIN, INT64_MAX, &i));
    ck_assert(!tc_num_to_i64(9223372036854775808.0, INT64_MIN, INT64_MAX, &i));
    ck_assert(tc_num_to_i64(-9223372036854775808.0, INT64_MIN, INT64_MAX, &i) && i == INT64_MIN);
    ck_assert(!tc_num_to_u32(1e30, 0, UINT32_MAX, &u) && u == 7);
    ck_assert(!tc_num_to_u32(-1.0, 0, UINT32_MAX, &u));
    ck_assert(tc_num_to_u32(4294967295.0, 0, UINT32_MAX, &u) && u == UINT32_MAX);
    ck_assert(!tc_num_to_i32(1e12, 1, 1024, &s) && s == 7);
    ck_assert(!tc_num_to_i32(2147483648.0, 0, INT32_MAX, &s));
    ck_assert_int_eq(tc_num_clamp(1e300, -5, 5), 5);
    ck_assert_int_eq(tc_num_clamp(-1e300, -5, 5), -5);
    ck_assert_int_eq(tc_num_clamp(NAN, -5, 5), -5);
    ck_assert_int_eq(tc_num_clamp(2.385, -5, 5), 2);
    ck_assert_int_eq(tc_num_clamp(1e300, INT64_MIN, INT64_MAX), INT64_MAX);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("num");
    TCase *core = tcase_create("core");
    tcase_add_test(core, num_checks_range_and_fraction);
    suite_add_tcase(s, core);
    return tu_run(s);
}

/* check_host.c -- memory for streamed data (src/base/host.c): where the
 * kernel offers huge pages, tc_alloc_streamed's buffers are 2 MiB aligned
 * and backed by them (tc_huge_bytes reads /proc/self/smaps), and
 * TC_HUGE_PAGES=0 turns them off; the bandwidth probe's buffer size
 * exceeds the last-level cache (src/check/hostprobe.c).  Under qemu-user
 * Check runs without forking (.ci/arm64): no test relies on a fresh
 * process. */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/host.h"
#include "check/hostprobe.h"

#define MIB ((size_t)1 << 20)

START_TEST(test_streamed_alloc)
{
    const size_t n = 32 * MIB;
    uint8_t *p = tc_alloc_streamed(n);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p % 64, 0);
    memset(p, 1, n);   /* fault it in */
    const size_t huge = tc_huge_bytes(p, n);
    ck_assert_uint_le(huge, n);
    if (tc_huge_pages_offered()) {
        ck_assert_uint_eq((uintptr_t)p % (2 * MIB), 0);
        /* 16 huge pages asked for: the kernel gave some.  An emulator
         * (qemu-user) shows its guest a /proc/self/smaps of its own, with
         * no huge pages: there the share cannot be read. */
        char model[256];
        tc_cpu_model(model, sizeof model);
        if (!strstr(model, "emulated")) ck_assert_uint_gt(huge, 0);
    }
    free(p);
    /* a small buffer: 64-byte aligned, nothing asked */
    uint8_t *q = tc_alloc_streamed(1000);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq((uintptr_t)q % 64, 0);
    free(q);
}
END_TEST

START_TEST(test_env_off)
{
    const bool offered = tc_huge_pages_offered();   /* the kernel's answer, read once */
    setenv("TC_HUGE_PAGES", "0", 1);
    ck_assert(!tc_huge_pages_offered());
    const size_t n = 8 * MIB;
    uint8_t *p = tc_alloc_streamed(n);
    ck_assert_ptr_nonnull(p);
    memset(p, 1, n);
    ck_assert_uint_eq(tc_huge_bytes(p, n), 0);
    free(p);
    unsetenv("TC_HUGE_PAGES");
    ck_assert(tc_huge_pages_offered() == offered);   /* the kernel's answer again */
}
END_TEST

START_TEST(test_huge_bytes_outside)
{
    /* a range that no mapping covers (the first page) holds no huge pages */
    ck_assert_uint_eq(tc_huge_bytes((const void *)(uintptr_t)4096, 4096), 0);
}
END_TEST

START_TEST(test_probe_size)
{
    const size_t b = tc_probe_bandwidth_bytes(), llc = (size_t)tc_probe_llc_bytes();
    ck_assert_uint_ge(b, 256 * MIB);
    ck_assert_uint_ge(b, 2 * llc);
    ck_assert_uint_eq(b % MIB, 0);
}
END_TEST

START_TEST(test_probe_streams)
{
    double gbps = 0, huge = -1;
    int best = 0;
    ck_assert_int_eq(tc_probe_bandwidth(4 * MIB, 1, 2, &gbps, &best, &huge, NULL), TC_OK);
    ck_assert(gbps > 0);
    ck_assert_int_eq(best, 2);   /* asked for two streams only */
    ck_assert(huge >= 0 && huge <= 1);
    ck_assert_int_eq(tc_probe_bandwidth(4 * MIB, 1, 0, &gbps, &best, NULL, NULL), TC_OK);
    ck_assert(best == 1 || best == 2 || best == 4 || best == 8);
}
END_TEST

START_TEST(test_probe_held_buffer)
{
    /* bench's paired passes: one buffer, written at open, read by every
     * pass in place and freed only at close (hostprobe.h) */
    tc_bw_buffer b;
    ck_assert_int_eq(tc_bw_buffer_open(&b, 1000, NULL), TC_OK);
    ck_assert_uint_eq(b.words, MIB / 8);   /* at least 1 MiB */
    uint64_t *const p = b.p;
    for (size_t i = 0; i < b.words; i++) ck_assert_uint_eq(b.p[i], i);
    double gbps = 0, huge = -1;
    int best = 0;
    for (int pass = 0; pass < 2; pass++) {
        ck_assert_int_eq(tc_probe_bandwidth_in(&b, 2, 4, &gbps, &best, &huge, NULL), TC_OK);
        ck_assert(gbps > 0);
        ck_assert_int_eq(best, 4);
        ck_assert(huge >= 0 && huge <= 1);
        ck_assert_ptr_eq(b.p, p);
        ck_assert_uint_eq(b.p[b.words - 1], b.words - 1);   /* read, never written */
    }
    tc_err err;
    ck_assert_int_eq(tc_probe_bandwidth_in(&b, 0, 1, &gbps, NULL, NULL, &err), TC_E_USAGE);
    ck_assert_ptr_eq(b.p, p);
    tc_bw_buffer_close(&b);
    ck_assert_ptr_null(b.p);
    tc_bw_buffer_close(&b);   /* idempotent */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host");
    TCase *tc = tcase_create("streamed memory");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_streamed_alloc);
    tcase_add_test(tc, test_env_off);
    tcase_add_test(tc, test_huge_bytes_outside);
    tcase_add_test(tc, test_probe_size);
    tcase_add_test(tc, test_probe_streams);
    tcase_add_test(tc, test_probe_held_buffer);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

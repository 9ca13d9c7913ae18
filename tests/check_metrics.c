/* check_metrics.c -- error and distribution metrics (src/metrics.c). */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "check/metrics.h"
#include "testutil.h"

START_TEST(diff_known_answer)
{
    float r[4] = { 2.385f, -1.0f, 0.5f, 4.0f };
    float c[4] = { 2.385f, -1.25f, 0.5f, 4.5f };
    tc_diff d;
    tc_diff_f32(c, r, 4, &d);
    ck_assert_double_eq(d.max_abs, 0.5);
    ck_assert_uint_eq(d.worst, 3);
    ck_assert_double_eq(d.max_ref, 4.0);
    ck_assert_double_eq(d.scaled, 0.125);
    /* sum err^2 = 0.0625 + 0.25; sum r^2 = 2.385^2 + 1 + 0.25 + 16 */
    double sr = (double)2.385f * 2.385f + 17.25;
    ck_assert_double_eq_tol(tc_diff_nmse(&d), 0.3125 / sr, 1e-15);
    double dot = (double)2.385f * 2.385f + 1.25 + 0.25 + 18.0;
    double sc = (double)2.385f * 2.385f + 1.5625 + 0.25 + 20.25;
    ck_assert_double_eq_tol(tc_diff_cosine(&d), dot / sqrt(sr * sc), 1e-15);
}
END_TEST

START_TEST(ulp_distance)
{
    ck_assert_uint_eq(tc_ulp_distance(1.0f, 1.0f), 0);
    ck_assert_uint_eq(tc_ulp_distance(1.0f, nextafterf(1.0f, 2.0f)), 1);
    ck_assert_uint_eq(tc_ulp_distance(0.0f, -0.0f), 0);
    /* across zero: the smallest subnormals on each side are 2 apart */
    ck_assert_uint_eq(tc_ulp_distance(0x1p-149f, -0x1p-149f), 2);
    ck_assert_uint_eq(tc_ulp_distance(NAN, 1.0f), UINT64_MAX);
}
END_TEST

START_TEST(equal_tensors_are_exactly_zero)
{
    float r[3] = { 2.385f, 0.0f, -7.0f };
    tc_diff d;
    tc_diff_f32(r, r, 3, &d);
    ck_assert_double_eq(d.scaled, 0.0);
    ck_assert_double_eq(tc_diff_nmse(&d), 0.0);
    ck_assert_double_eq_tol(tc_diff_cosine(&d), 1.0, 1e-15);
    ck_assert_uint_eq(d.max_ulp, 0);
}
END_TEST

START_TEST(nan_and_inf_are_counted)
{
    float r[3] = { 1.0f, 2.0f, 3.0f };
    float c[3] = { NAN, INFINITY, 3.0f };
    tc_diff d;
    tc_diff_f32(c, r, 3, &d);
    ck_assert_uint_eq(d.nan_cand, 1);
    ck_assert_uint_eq(d.inf_cand, 1);
    ck_assert_uint_eq(d.nan_ref, 0);
    ck_assert_uint_eq(d.max_ulp, UINT64_MAX);
}
END_TEST

START_TEST(zero_reference)
{
    float r[2] = { 0.0f, 0.0f }, c[2] = { 0.0f, 1e-30f };
    tc_diff d;
    tc_diff_f32(c, r, 2, &d);
    ck_assert(isinf(d.scaled));
    ck_assert(isinf(tc_diff_nmse(&d)));
    ck_assert_double_eq(tc_diff_cosine(&d), 0.0);
}
END_TEST

/* p = softmax(0, ln 3) = (1/4, 3/4), q = (1/2, 1/2):
 * KL = 1/4 ln(1/2) + 3/4 ln(3/2) = 0.1308120... */
START_TEST(kl_known_answer)
{
    float p[2] = { 0.0f, (float)log(3.0) }, q[2] = { 2.385f, 2.385f };
    double work[4];
    double want = 0.25 * log(0.5) + 0.75 * log(1.5);
    ck_assert_double_eq_tol(tc_kl_logits(p, q, 2, work), want, 1e-7);
    ck_assert_double_eq(tc_kl_logits(p, p, 2, work), 0.0);
    /* large logits stay finite (max subtracted) */
    float big[2] = { 1000.0f, 1000.0f + (float)log(3.0) };
    ck_assert_double_eq_tol(tc_kl_logits(big, q, 2, work), want, 1e-4);
}
END_TEST

START_TEST(nll_of_uniform_is_log_vocab)
{
    enum { V = 1000 };
    float x[V];
    double work[V];
    for (int i = 0; i < V; i++) x[i] = 2.385f;
    ck_assert_double_eq_tol(exp(tc_nll_logits(x, V, 17, work)), (double)V, 1e-9);
}
END_TEST

START_TEST(topk_orders_and_breaks_ties_low)
{
    float x[8] = { 1, 5, 3, 5, -2, 9, 0, 3 };
    uint32_t top[5];
    tc_topk(x, 8, 5, top);
    uint32_t want[5] = { 5, 1, 3, 2, 7 };
    for (int i = 0; i < 5; i++) ck_assert_uint_eq(top[i], want[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *core = tcase_create("core"), *limits = tcase_create("limits");
    tcase_add_test(core, diff_known_answer);
    tcase_add_test(core, ulp_distance);
    tcase_add_test(core, equal_tensors_are_exactly_zero);
    tcase_add_test(core, kl_known_answer);
    tcase_add_test(core, nll_of_uniform_is_log_vocab);
    tcase_add_test(core, topk_orders_and_breaks_ties_low);
    tcase_add_test(limits, nan_and_inf_are_counted);
    tcase_add_test(limits, zero_reference);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    return tu_run(s);
}

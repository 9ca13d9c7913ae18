/* check_accuracy.c -- I2_S accuracy against FP32 (src/accuracy.c). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/accuracy.h"
#include "tools/gen.h"
#include "tools/quantize.h"
#include "testutil.h"

static char *gen_model(tc_type wt, bool latent, uint64_t seed)
{
    tc_gen_opts g;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset("tiny", &g, &err), TC_OK);
    g.weight_type = wt;
    g.latent = latent;
    g.seed = seed;
    char *p = tu_temp_path(".gguf");
    ck_assert_msg(tc_gen_write(&g, p, &err) == TC_OK, "%s", err.msg);
    return p;
}

static double headline(const cJSON *r, const char *metric)
{
    const cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItem(r, "headline"))
        if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(h, "metric")), metric))
            return cJSON_GetObjectItem(h, "value")->valuedouble;
    ck_abort_msg("no headline %s", metric);
    return NAN;
}

static cJSON *run(const char *model, const char *baseline, tc_precision bp, uint32_t n)
{
    tc_accuracy_opts o;
    tc_accuracy_opts_default(&o);
    o.model_path = model;
    o.baseline_path = baseline;
    o.baseline_precision = bp;
    o.n_random = n;
    o.seed = 11;
    cJSON *r;
    tc_err err;
    ck_assert_msg(tc_accuracy_run(&o, NULL, &r, &err) == TC_OK, "%s", err.msg);
    return r;
}

/* A model against itself in the same precision: exactly no difference. */
START_TEST(self_in_same_precision_is_exact)
{
    char *m = gen_model(TC_TYPE_I2_S, false, 2);
    cJSON *r = run(m, NULL, TC_PRECISION_I2S, 40);
    ck_assert_double_eq(headline(r, "kl_mean_nats"), 0.0);
    ck_assert_double_eq(headline(r, "top1_agreement"), 1.0);
    ck_assert_double_eq(headline(r, "top5_overlap"), 1.0);
    ck_assert_double_eq(headline(r, "perplexity_ratio"), 1.0);
    ck_assert_double_eq(headline(r, "blk_out_cosine_min"), 1.0);
    cJSON_Delete(r);
    /* and the fp32 baseline of the same file differs (the test can fail) */
    r = run(m, NULL, TC_PRECISION_FP32, 40);
    ck_assert_double_gt(headline(r, "kl_mean_nats"), 0.0);
    cJSON_Delete(r);
    unlink(m);
    free(m);
}
END_TEST

/* Weights already ternary x m: quantization is lossless, so the latent
 * baseline gives exactly the fp32-precision comparison, and the weight
 * error is 0. */
START_TEST(ternary_latent_equals_fp32_precision)
{
    char *f = gen_model(TC_TYPE_F32, false, 4), *q = tu_temp_path(".gguf");
    tc_err err;
    ck_assert_int_eq(tc_quantize_file(f, q, NULL, &err), TC_OK);
    cJSON *b = run(q, f, TC_PRECISION_FP32, 40), *a = run(q, NULL, TC_PRECISION_FP32, 40);
    ck_assert_double_eq(headline(b, "weight_rel_rms_error_mean"), 0.0);
    static const char *const parts[] = { "per_position", "per_layer" };
    for (int i = 0; i < 2; i++) {
        char *x = cJSON_PrintUnformatted(cJSON_GetObjectItem(a, parts[i]));
        char *y = cJSON_PrintUnformatted(cJSON_GetObjectItem(b, parts[i]));
        ck_assert_str_eq(x, y);
        free(x);
        free(y);
    }
    ck_assert_double_eq(headline(a, "kl_mean_nats"), headline(b, "kl_mean_nats"));
    cJSON_Delete(a);
    cJSON_Delete(b);
    unlink(f); unlink(q);
    free(f); free(q);
}
END_TEST

/* Gaussian latent weights: the weight-level error matches the analytic
 * relative RMS error of absmean ternarization, sqrt(1 - 4a phi(a/2) +
 * 2a^2 Q(a/2)) = 0.5132 with a = sqrt(2/pi), within 1 %. */
START_TEST(gaussian_weight_error_matches_analytic)
{
    double want = tc_accuracy_gaussian_rel_rms();
    ck_assert_double_eq_tol(want, 0.51321, 5e-5);   /* the formula itself, worked by hand */
    char *f = gen_model(TC_TYPE_F32, true, 6), *q = tu_temp_path(".gguf");
    tc_err err;
    ck_assert_int_eq(tc_quantize_file(f, q, NULL, &err), TC_OK);
    cJSON *r = run(q, f, TC_PRECISION_FP32, 20);
    double mean = headline(r, "weight_rel_rms_error_mean");
    ck_assert_double_le(fabs(mean - want) / want, 0.01);
    const cJSON *t;
    int n = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(r, "per_tensor")) {
        double rel = cJSON_GetObjectItem(t, "rel_rms_error")->valuedouble;
        ck_assert_double_le(fabs(rel - want) / want, 0.03);
        n++;
    }
    ck_assert_int_eq(n, 14);
    /* and the latent model really is lossy at the output */
    ck_assert_double_gt(headline(r, "kl_mean_nats"), 1e-3);
    cJSON_Delete(r);
    unlink(f); unlink(q);
    free(f); free(q);
}
END_TEST

START_TEST(shapes_must_match)
{
    char *a = gen_model(TC_TYPE_I2_S, false, 1);
    tc_gen_opts g;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset("small", &g, &err), TC_OK);
    char *b = tu_temp_path(".gguf");
    ck_assert_int_eq(tc_gen_write(&g, b, &err), TC_OK);
    tc_accuracy_opts o;
    tc_accuracy_opts_default(&o);
    o.model_path = a;
    o.baseline_path = b;
    cJSON *r = NULL;
    ck_assert_int_eq(tc_accuracy_run(&o, NULL, &r, &err), TC_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "expected the same hyper-parameters"));
    ck_assert_ptr_null(r);
    unlink(a); unlink(b);
    free(a); free(b);
}
END_TEST

/* Chunks: each starts at position 0; the last position of a chunk
 * predicts nothing. */
START_TEST(chunks_split_the_input)
{
    char *m = gen_model(TC_TYPE_I2_S, false, 3);
    tc_accuracy_opts o;
    tc_accuracy_opts_default(&o);
    o.model_path = m;
    o.n_random = 50;
    o.ctx = 16;
    cJSON *r;
    tc_err err;
    ck_assert_int_eq(tc_accuracy_run(&o, NULL, &r, &err), TC_OK);
    const cJSON *pp = cJSON_GetObjectItem(r, "per_position");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(pp, "kl")), 50);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(pp, "nll_subject")), 50 - 4);   /* 16+16+16+2 */
    cJSON_Delete(r);
    unlink(m);
    free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("accuracy");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors"), *limits = tcase_create("limits");
    tcase_add_test(core, self_in_same_precision_is_exact);
    tcase_add_test(core, ternary_latent_equals_fp32_precision);
    tcase_add_test(core, gaussian_weight_error_matches_analytic);
    tcase_add_test(errors, shapes_must_match);
    tcase_add_test(limits, chunks_split_the_input);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    suite_add_tcase(s, limits);
    return tu_run(s);
}

/* check_kernels.c -- the kernel suite (src/check/ksuite*.c) and the
 * plug-in loader (src/engine/plugin.c): the suite passes for every ISA
 * this CPU runs; deliberately broken tables (a write past the output, a
 * write outside the row range, a wrong code, a NaN, a wrong scale) fail
 * and the failing check is named; plug-ins load, and a wrong ABI version, a missing symbol or a
 * NULL function is refused with one line.  ISAs the CPU lacks are skipped
 * with a note on stderr. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/ksuite.h"
#include "check/ksuite_impl.h"
#include "engine/q8.h"
#include "ref/ref_kernels.h"
#include "fast/cpu/dispatch.h"
#include "engine/plugin.h"
#include "receipt/receipt.h"
#include "testutil.h"
#include "audit/verify.h"

static const char *const isas[] = { "scalar", "avx2", "avx512", "amx", "neon", "neon_dotprod", "neon_i8mm" };
enum { N_ISA = sizeof isas / sizeof isas[0] };

/* the example plug-ins, built by make check beside the tests */
#define PLUGIN_DIR "examples/plugin/"

/* Run the suite on kt with filter; the receipt's cases */
static cJSON *run(const tc_fast_kernels *kt, const char *filter, bool *pass)
{
    tc_kernels_opts o;
    tc_kernels_opts_default(&o);
    o.filter = filter;
    cJSON *r = NULL;
    tc_err err = { 0 };
    ck_assert_msg(tc_kernels_run_table(kt, NULL, &o, NULL, &r, pass, &err) == TC_OK, "%s", err.msg);
    ck_assert_ptr_nonnull(r);
    return r;
}

/* The first failing case's name and its first failing check's name. */
static void first_failure(const cJSON *r, const char **name, const char **check, const char **detail)
{
    *name = *check = *detail = NULL;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(r, "cases")) {
        if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "verdict")), "pass")) continue;
        *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
        const cJSON *k;
        cJSON_ArrayForEach(k, cJSON_GetObjectItem(c, "checks"))
            if (!cJSON_IsTrue(cJSON_GetObjectItem(k, "pass"))) {
                *check = cJSON_GetStringValue(cJSON_GetObjectItem(k, "check"));
                *detail = cJSON_GetStringValue(cJSON_GetObjectItem(k, "detail"));
                return;
            }
        return;
    }
}

/* ---- core ---- */

/* The tie rows of the kernel suite and the golden vector really are
 * ties: after the reference RMSNorm every value but the largest is k + 1/2
 * with s = 1, of both signs, up to +-126.5; half to even and "away from
 * zero" give different codes for half of them. */
START_TEST(tie_rows_are_exact_ties)
{
    enum { N = 2560 };
    static float x[N], w[N], h[N];
    static int8_t q[N];
    tc_ks_tie_row(x, w, N);
    tc_ref_rmsnorm(x, w, N, 1e-5f, h);
    ck_assert(tc_q8_quantize(h, N, q) == 1.0f);
    int neg = 0, pos = 0, differs = 0, top = 0;
    for (int i = 0; i < N - 1; i++) {
        ck_assert_msg(h[i] - floorf(h[i]) == 0.5f, "element %d: %.9g is no tie", i, (double)h[i]);
        ck_assert_int_eq(q[i] % 2, 0);   /* half to even */
        neg += h[i] < 0;
        pos += h[i] > 0;
        differs += roundf(h[i]) != (float)q[i];
        top += fabsf(h[i]) == 126.5f;
    }
    ck_assert(neg > N / 3 && pos > N / 3);
    ck_assert_int_ge(differs, N / 3);
    ck_assert_int_ge(top, 2);
}
END_TEST

START_TEST(suite_passes_every_isa)
{
    int ran = 0;
    for (int v = 0; v < N_ISA; v++) {
        if (!tc_fast_isa_supported(isas[v])) {
            fprintf(stderr, "check_kernels: this CPU lacks %s: skipped\n", isas[v]);
            continue;
        }
        bool pass;
        cJSON *r = run(tc_fast_kernels_for(isas[v]), NULL, &pass);
        const char *name, *check, *detail;
        first_failure(r, &name, &check, &detail);
        ck_assert_msg(pass, "%s: %s: %s: %s", isas[v], name, check, detail);
        const cJSON *s = cJSON_GetObjectItem(r, "summary");
        ck_assert_int_gt((int)cJSON_GetNumberValue(cJSON_GetObjectItem(s, "cases")), 250);
        ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(s, "verdict")), "pass");
        /* every case names the variant that ran */
        const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "cases"), 0);
        ck_assert_ptr_nonnull(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(c, "variant")), "i2s_gemv"));
        cJSON_Delete(r);
        ran++;
    }
    ck_assert_int_ge(ran, 1);
}
END_TEST

/* ---- broken kernels: each must fail, and the check must say why ---- */

static tc_fast_kernels broken;

/* writes out[r1] too: past the buffer on the last call */
static void gemv_past_end(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q, const int32_t *qsum,
                          int32_t *out)
{
    tc_fast_kernels_scalar.i2s_gemv(w, K, r0, r1, q, qsum, out);
    out[r1] = 0;
}

/* the last block of K ignored: an off-by-one in a tail */
static void gemm_short_tail(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q, const int32_t *qsum,
                            size_t n, int32_t *out, size_t ld)
{
    (void)qsum;
    for (size_t t = 0; t < n; t++)
        for (size_t r = r0; r < r1; r++) {
            int32_t s = 0;
            for (size_t i = 0; i + 128 < K; i++) {
                unsigned c = (w[r * K / 4 + (i / 128) * 32 + i % 32] >> (6 - 2 * ((i % 128) / 32))) & 3u;
                s += ((int)c - 1) * q[t * K + i];
            }
            out[t * ld + r] = s;
        }
}

/* codes right, scale one ulp off */
static float norm_q8_bad_scale(const float *x, const float *w, size_t n, float eps, int8_t *q, int32_t *qsum)
{
    float s = tc_fast_kernels_scalar.rmsnorm_q8(x, w, n, eps, q, qsum);
    return nextafterf(s, INFINITY);
}

/* a NaN in the last output */
static void norm_nan(const float *x, const float *w, size_t n, float eps, float *y)
{
    tc_fast_kernels_scalar.rmsnorm(x, w, n, eps, y);
    y[n - 1] = NAN;
}

/* writes one float before y */
static void f16_before(const uint16_t *w, size_t K, size_t r0, size_t r1, const float *x, size_t n, float *y,
                       size_t ld)
{
    tc_fast_kernels_scalar.f16_gemm(w, K, r0, r1, x, n, y, ld);
    y[-1] = 0.0f;
}

/* uses scores[n_keys] */
static void attn_past_scores(const float *q, const float *k, const float *v, size_t nk, size_t hd, float *scores,
                             float *out)
{
    tc_fast_kernels_scalar.attention_head(q, k, v, nk, hd, scores, out);
    scores[nk] = 1.0f;
}

static void expect_failure(const char *filter, const char *want_check, const char *want_detail)
{
    bool pass;
    cJSON *r = run(&broken, filter, &pass);
    ck_assert_msg(!pass, "%s: a broken kernel passed", filter);
    const char *name, *check, *detail;
    first_failure(r, &name, &check, &detail);
    ck_assert_ptr_nonnull(name);
    ck_assert_msg(!strcmp(check, want_check), "%s: first failing check %s (%s), expected %s", filter, check, detail,
                  want_check);
    ck_assert_msg(detail && strstr(detail, want_detail), "%s: detail '%s' lacks '%s'", filter, detail, want_detail);
    const cJSON *s = cJSON_GetObjectItem(r, "summary");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(s, "verdict")), "fail");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(s, "first_failure")), name);
    cJSON_Delete(r);
}

START_TEST(broken_kernels_are_caught_and_named)
{
    /* one broken kernel at a time, the others the scalar table's */
    broken = tc_fast_kernels_scalar;
    broken.i2s_gemv = gemv_past_end;
    expect_failure("i2s_gemv", "rows_only", "wrote out");
    broken = tc_fast_kernels_scalar;
    broken.i2s_gemm = gemm_short_tail;
    expect_failure("i2s_gemm", "exact", "sums differ");
    broken = tc_fast_kernels_scalar;
    broken.rmsnorm_q8 = norm_q8_bad_scale;
    expect_failure("rmsnorm_q8", "exact", "scale s");
    broken = tc_fast_kernels_scalar;
    broken.rmsnorm = norm_nan;
    expect_failure("rmsnorm", "scaled_err", "element");
    broken = tc_fast_kernels_scalar;
    broken.f16_gemm = f16_before;
    expect_failure("f16_gemv", "guards", "before y");
    broken = tc_fast_kernels_scalar;
    broken.attention_head = attn_past_scores;
    expect_failure("attention", "guards", "after scores");
}
END_TEST

/* a gemv that writes only past the end of the last call's range is seen
 * by the guards (rows_only cannot see out[rows]) */
static void gemv_last_past_end(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q,
                               const int32_t *qsum, int32_t *out)
{
    tc_fast_kernels_scalar.i2s_gemv(w, K, r0, r1, q, qsum, out);
    if (r1 == 17) out[r1] = 0;
}

START_TEST(write_past_output_fails_guards)
{
    broken = tc_fast_kernels_scalar;
    broken.i2s_gemv = gemv_last_past_end;
    expect_failure("i2s_gemv", "guards", "after out");
}
END_TEST

/* verify: a kernels receipt is valid; one whose verdicts do not follow
 * from its checks (sealed again after the change) is not */
static bool verifies(cJSON *r, char *log, size_t size)
{
    char *path = tu_temp_path(".json");
    tc_err err = { 0 };
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, path, &err), TC_OK);
    FILE *f = fmemopen(log, size, "w");
    bool valid = false;
    tc_verify_opts o = { 0 };
    ck_assert_int_eq(tc_verify(path, &o, f, &valid, &err), TC_OK);
    fclose(f);
    unlink(path);
    free(path);
    return valid;
}

START_TEST(receipt_verdicts_follow_from_checks)
{
    bool pass;
    char log[4096];
    cJSON *r = run(tc_fast_kernels_for("scalar"), "attention", &pass);
    ck_assert(pass);
    cJSON *engine = cJSON_CreateObject();
    cJSON_AddStringToObject(engine, "id", "fast:scalar");
    cJSON_ReplaceItemInObject(r, "engine", engine);
    ck_assert_msg(verifies(r, log, sizeof log), "%s", log);
    /* a failing check under a passing verdict */
    cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "cases"), 0);
    cJSON *k0 = cJSON_GetArrayItem(cJSON_GetObjectItem(c0, "checks"), 0);
    cJSON_ReplaceItemInObject(k0, "pass", cJSON_CreateFalse());
    ck_assert(!verifies(r, log, sizeof log));
    ck_assert_msg(strstr(log, "its checks say fail"), "%s", log);
    /* a scaled error over its limit marked as passing */
    cJSON_ReplaceItemInObject(k0, "pass", cJSON_CreateTrue());
    cJSON_ReplaceItemInObject(k0, "value", cJSON_CreateNumber(1e-3));
    ck_assert(!verifies(r, log, sizeof log));
    ck_assert_msg(strstr(log, "against limit"), "%s", log);
    cJSON_Delete(r);
}
END_TEST

/* ---- plug-ins ---- */

START_TEST(example_plugin_passes)
{
    tc_plugin *p;
    tc_err err = { 0 };
    ck_assert_msg(tc_plugin_load(PLUGIN_DIR "libtc_example_plugin.so", tc_fast_kernels_for(NULL), &p, &err) == TC_OK, "%s", err.msg);
    const tc_fast_kernels *kt = tc_plugin_kernels(p);
    ck_assert_str_eq(tc_plugin_name(p), "example");
    ck_assert_str_eq(kt->isa, "plugin:" PLUGIN_DIR "libtc_example_plugin.so");
    ck_assert_str_eq(kt->i2s_gemv_name, "plugin.example.i2s_gemv");
    ck_assert_str_eq(kt->attention_name, "plugin.example.attention");
    bool pass;
    cJSON *r = run(kt, NULL, &pass);
    const char *name, *check, *detail;
    first_failure(r, &name, &check, &detail);
    ck_assert_msg(pass, "%s: %s: %s", name, check, detail);
    cJSON_Delete(r);
    tc_plugin_free(p);
}
END_TEST

START_TEST(buggy_plugin_fails_named)
{
    tc_kernels_opts o;
    tc_kernels_opts_default(&o);
    o.engine = PLUGIN_DIR "libtc_example_plugin_bug.so";
    o.filter = "i2s_gemv";
    cJSON *r = NULL;
    bool pass = true;
    tc_err err = { 0 };
    ck_assert_msg(tc_kernels_run(&o, NULL, &r, &pass, &err) == TC_OK, "%s", err.msg);
    ck_assert(!pass);
    const char *name, *check, *detail;
    first_failure(r, &name, &check, &detail);
    ck_assert_str_eq(name, "i2s_gemv 1x128 random");
    /* rows = 1 splits into [0, 0) and [0, 1): the first call writes out[0] */
    ck_assert_str_eq(check, "rows_only");
    ck_assert_ptr_nonnull(strstr(detail, "wrote out[token 0][row 0]"));
    const cJSON *e = cJSON_GetObjectItem(r, "engine");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(e, "id")), "plugin:" PLUGIN_DIR "libtc_example_plugin_bug.so");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(e, "plugin_name")), "example-bug");
    ck_assert_int_eq(strlen(cJSON_GetStringValue(cJSON_GetObjectItem(e, "plugin_sha256"))), 64);
    cJSON_Delete(r);
}
END_TEST

/* ---- errors ---- */

static void refused(const char *file, tc_status want, const char *words)
{
    tc_plugin *p = (tc_plugin *)1;
    tc_err err = { 0 };
    ck_assert_int_eq(tc_plugin_load(file, tc_fast_kernels_for(NULL), &p, &err), want);
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(err.msg, words) != NULL, "%s: '%s' lacks '%s'", file, err.msg, words);
    ck_assert_ptr_null(strchr(err.msg, '\n'));
}

START_TEST(bad_plugins_are_refused)
{
    refused(PLUGIN_DIR "libtc_example_plugin_abi2.so", TC_E_UNSUPPORTED, "ABI version 2, this tritcheck speaks version 1");
    refused(PLUGIN_DIR "libtc_example_plugin_nosym.so", TC_E_UNSUPPORTED, "no symbol tritcheck_kernels()");
    refused(PLUGIN_DIR "libtc_example_plugin_nullfn.so", TC_E_UNSUPPORTED, "function attention_head is NULL");
    refused(PLUGIN_DIR "no-such-plugin.so", TC_E_IO, "cannot load");
    refused("tests/check_kernels.c", TC_E_IO, "cannot load");
}
END_TEST

START_TEST(usage_errors)
{
    tc_kernels_opts o;
    tc_kernels_opts_default(&o);
    bool pass;
    tc_err err = { 0 };
    o.isa = "mmx";
    ck_assert_int_eq(tc_kernels_run(&o, NULL, NULL, &pass, &err), TC_E_USAGE);
    o.isa = NULL;
    o.filter = "no-such-kernel";
    ck_assert_int_eq(tc_kernels_run(&o, NULL, NULL, &pass, &err), TC_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "no case matches"));
    /* an ISA this CPU lacks (or another architecture's): refused, not run */
    for (int v = 0; v < N_ISA; v++)
        if (!tc_fast_isa_supported(isas[v])) {
            o.filter = NULL;
            o.isa = isas[v];
            ck_assert_int_eq(tc_kernels_run(&o, NULL, NULL, &pass, &err), TC_E_UNSUPPORTED);
        }
    o.isa = "avx2";
    o.engine = PLUGIN_DIR "libtc_example_plugin.so";
    ck_assert_int_eq(tc_kernels_run(&o, NULL, NULL, &pass, &err), TC_E_USAGE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kernels");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors");
    tcase_set_timeout(core, 600);
    tcase_add_test(core, tie_rows_are_exact_ties);
    tcase_add_test(core, suite_passes_every_isa);
    tcase_add_test(core, broken_kernels_are_caught_and_named);
    tcase_add_test(core, write_past_output_fails_guards);
    tcase_add_test(core, receipt_verdicts_follow_from_checks);
    tcase_add_test(core, example_plugin_passes);
    tcase_add_test(core, buggy_plugin_fails_named);
    tcase_add_test(errors, bad_plugins_are_refused);
    tcase_add_test(errors, usage_errors);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return tu_run(s);
}

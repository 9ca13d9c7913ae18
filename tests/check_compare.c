/* check_compare.c -- the comparator (src/compare.c) and receipt checks
 * (src/verify.c) on hand-made recordings and receipts. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/compare.h"
#include "tools/gen.h"
#include "receipt/receipt.h"
#include "testutil.h"
#include "audit/verify.h"

/* Record one float tap and one q8 tap of one position. */
static tc_dump *rec2(const float *x, uint32_t w, const int8_t *q, float scale)
{
    tc_dump *d = tc_dump_new();
    tc_err err;
    float xs[64];
    int8_t qs[64];
    memcpy(xs, x, w * sizeof *x);
    memcpy(qs, q, w);
    tc_tap f = { .name = "blk.0.ffn_norm", .layer = 0, .pos0 = 0, .n_pos = 1, .width = w, .kind = TC_TAP_F32, .f = xs };
    tc_tap c = { .name = "blk.0.ffn_norm.q8", .layer = 0, .pos0 = 0, .n_pos = 1, .width = w, .kind = TC_TAP_Q8,
                 .q8 = qs, .scale = &scale };
    ck_assert_int_eq(tc_dump_tap_fn(d, &f, &err), TC_OK);
    ck_assert_int_eq(tc_dump_tap_fn(d, &c, &err), TC_OK);
    return d;
}

/* x*s = 68.5 exactly (s = 1): a code of 68 or 69 is a boundary flip; at
 * 2.385 (far from a boundary) an off-by-one code is a mismatch. */
START_TEST(q8_boundary_flips_are_accepted_and_listed)
{
    float x[4] = { 68.5f, 2.385f, -3.5f, 127.0f };
    int8_t ref[4] = { 68, 2, -4, 127 }, flip[4] = { 69, 2, -3, 127 }, bad[4] = { 68, 3, -4, 127 };
    tc_dump *r = rec2(x, 4, ref, 1.0f), *c = rec2(x, 4, flip, 1.0f), *b = rec2(x, 4, bad, 1.0f);
    tc_compare_opts o;
    tc_compare_opts_default(&o);
    tc_compare_result res = { 0 };
    tc_err err;
    ck_assert_int_eq(tc_compare_dumps(c, r, &o, &res, &err), TC_OK);
    const tc_tap_result *t = &res.taps[1];
    ck_assert_str_eq(t->name, "blk.0.ffn_norm.q8");
    ck_assert(t->pass);
    ck_assert_uint_eq(t->q8_flips, 2);
    ck_assert_uint_eq(t->q8_mismatches, 0);
    ck_assert_uint_eq(t->flips[0].elem, 0);
    ck_assert_float_eq(t->flips[0].unrounded, 68.5f);
    ck_assert(res.pass);
    tc_compare_result_free(&res);
    ck_assert_int_eq(tc_compare_dumps(b, r, &o, &res, &err), TC_OK);
    ck_assert(!res.pass);
    ck_assert_uint_eq(res.taps[1].q8_mismatches, 1);
    ck_assert_uint_eq(res.taps[1].fail_elem, 1);
    ck_assert_str_eq(res.taps[res.first_fail].name, "blk.0.ffn_norm.q8");
    tc_compare_result_free(&res);
    /* a zero margin excuses nothing that is not exactly at the boundary */
    o.q8_margin = 0.0;
    float x2[4] = { 68.4f, 2.385f, -3.5f, 127.0f };
    tc_dump *r2 = rec2(x2, 4, ref, 1.0f);
    ck_assert_int_eq(tc_compare_dumps(c, r2, &o, &res, &err), TC_OK);
    ck_assert_uint_eq(res.taps[1].q8_mismatches, 1);   /* 68.4: not a boundary */
    ck_assert_uint_eq(res.taps[1].q8_flips, 1);        /* -3.5: exactly one */
    tc_compare_result_free(&res);
    tc_dump_free(r); tc_dump_free(c); tc_dump_free(b); tc_dump_free(r2);
}
END_TEST

/* Chained mode: the sides quantized different inputs, so the dequantized
 * rows decide, not the codes. */
START_TEST(q8_chained_compares_dequantized_rows)
{
    float x[4] = { 68.5f, 2.385f, -3.5f, 127.0f };
    int8_t ref[4] = { 68, 2, -4, 127 }, far[4] = { 66, 2, -4, 127 };
    tc_dump *r = rec2(x, 4, ref, 1.0f), *c = rec2(x, 4, far, 1.0f);
    tc_compare_opts o;
    tc_compare_opts_default(&o);
    o.mode = TC_COMPARE_CHAINED;
    o.tol = 0.05;   /* |66 - 68| / 127 = 0.0157 */
    tc_compare_result res = { 0 };
    tc_err err;
    ck_assert_int_eq(tc_compare_dumps(c, r, &o, &res, &err), TC_OK);
    ck_assert(res.taps[1].pass);
    ck_assert_uint_eq(res.taps[1].q8_mismatches, 1);   /* still counted */
    ck_assert_double_eq_tol(res.taps[1].scaled, 2.0 / 127.0, 1e-7);
    tc_compare_result_free(&res);
    o.tol = 0.01;
    ck_assert_int_eq(tc_compare_dumps(c, r, &o, &res, &err), TC_OK);
    ck_assert(!res.taps[1].pass);
    tc_compare_result_free(&res);
    o.mode = TC_COMPARE_ISOLATED;   /* the same codes fail isolated at any tolerance */
    o.tol = 1.0;
    ck_assert_int_eq(tc_compare_dumps(c, r, &o, &res, &err), TC_OK);
    ck_assert(!res.taps[1].pass);
    tc_compare_result_free(&res);
    tc_dump_free(r);
    tc_dump_free(c);
}
END_TEST

/* Float metrics: the scaled error against the tolerance decides. */
START_TEST(float_tolerance_decides)
{
    float x[4] = { 2.385f, -1.0f, 0.5f, 4.0f }, y[4] = { 2.385f, -1.0f, 0.5f, 4.0f };
    int8_t q[4] = { 0 };
    tc_dump *r = rec2(x, 4, q, 1.0f);
    y[3] = 4.0f * (1.0f + 2e-5f);
    tc_dump *c = rec2(y, 4, q, 1.0f);
    tc_compare_opts o;
    tc_compare_opts_default(&o);
    tc_compare_result res = { 0 };
    tc_err err;
    ck_assert_int_eq(tc_compare_dumps(c, r, &o, &res, &err), TC_OK);
    ck_assert(!res.taps[0].pass);
    ck_assert_double_eq_tol(res.taps[0].scaled, 2e-5, 1e-7);   /* float rounding of 4(1+2e-5) */
    ck_assert_uint_eq(res.taps[0].worst_elem, 3);
    tc_compare_result_free(&res);
    o.tol = 3e-5;
    ck_assert_int_eq(tc_compare_dumps(c, r, &o, &res, &err), TC_OK);
    ck_assert(res.taps[0].pass);
    tc_compare_result_free(&res);
    y[1] = NAN;   /* a NaN where the reference has none fails whatever the tolerance */
    tc_dump *n = rec2(y, 4, q, 1.0f);
    o.tol = 1.0;
    ck_assert_int_eq(tc_compare_dumps(n, r, &o, &res, &err), TC_OK);
    ck_assert(!res.taps[0].pass);
    ck_assert_uint_eq(res.taps[0].nonfinite, 1);
    tc_compare_result_free(&res);
    tc_dump_free(r); tc_dump_free(c); tc_dump_free(n);
}
END_TEST

/* A receipt whose verdict was changed and re-digested (no signature) is
 * caught by the consistency check. */
START_TEST(verify_catches_resealed_verdict)
{
    tc_gen_opts g;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset("tiny", &g, &err), TC_OK);
    char *model = tu_temp_path(".gguf"), *rpath = tu_temp_path(".json");
    ck_assert_int_eq(tc_gen_write(&g, model, &err), TC_OK);
    tc_compare_job job = { .model_path = model, .ref = "ref", .cand = "ref", .in = { .n_random = 4, .seed = 5 }, .n_gen = 2 };
    tc_engine_opts_default(&job.eng);
    tc_compare_opts_default(&job.opts);
    cJSON *r;
    bool pass, valid;
    ck_assert_msg(tc_compare_job_run(&job, NULL, &r, &pass, &err) == TC_OK, "%s", err.msg);
    ck_assert(pass);
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, rpath, &err), TC_OK);
    tc_verify_opts vo = { .model = model };
    ck_assert_int_eq(tc_verify(rpath, &vo, NULL, &valid, &err), TC_OK);
    ck_assert(valid);
    /* flip the verdict, re-digest */
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r, "summary"), "verdict", cJSON_CreateString("fail"));
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, rpath, &err), TC_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    ck_assert_int_eq(tc_verify(rpath, &vo, mem, &valid, &err), TC_OK);
    fclose(mem);
    ck_assert(!valid);
    ck_assert_ptr_nonnull(strstr(buf, "summary.verdict is \"fail\", but the results say \"pass\""));
    free(buf);
    /* a tap marked pass with an error above the tolerance */
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r, "summary"), "verdict", cJSON_CreateString("pass"));
    cJSON *t0 = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "results"), 0);
    cJSON_ReplaceItemInObject(t0, "scaled_err", cJSON_CreateNumber(0.5));
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, rpath, &err), TC_OK);
    mem = open_memstream(&buf, &len);
    ck_assert_int_eq(tc_verify(rpath, &vo, mem, &valid, &err), TC_OK);
    fclose(mem);
    ck_assert(!valid);
    ck_assert_ptr_nonnull(strstr(buf, "inp_embd: pass is true, but scaled_err 0.5"));
    free(buf);
    cJSON_Delete(r);
    unlink(model); unlink(rpath);
    free(model); free(rpath);
}
END_TEST

/* A bench receipt's derived figures must follow from its measured ones. */
START_TEST(verify_checks_bench_arithmetic)
{
    cJSON *r = tc_receipt_new("bench");
    cJSON *m = cJSON_AddObjectToObject(r, "model");
    cJSON_AddStringToObject(m, "file", "x.gguf");
    cJSON_AddNumberToObject(m, "size", 1);
    cJSON_AddStringToObject(m, "sha256", "00");
    cJSON_AddStringToObject(m, "architecture", "bitnet-b1.58");
    cJSON_AddObjectToObject(m, "hparams");
    cJSON_AddObjectToObject(m, "tensor_types");
    cJSON *b = cJSON_AddObjectToObject(r, "bench");
    cJSON_AddStringToObject(b, "engine", "fast:avx2");
    double pre = 50.0, dec = 10.0, bw = 12.0, wb = 1e9, kv = 2e7, macs = 2.385e9, ghz = 3.0, cores = 2, mpc = 64;
    cJSON *o = cJSON_AddObjectToObject(b, "prefill_tok_s");
    cJSON_AddNumberToObject(o, "median", pre);
    cJSON_AddNumberToObject(o, "min", 45.0);
    cJSON_AddNumberToObject(o, "max", 55.0);
    o = cJSON_AddObjectToObject(b, "decode_tok_s");
    cJSON_AddNumberToObject(o, "median", dec);
    cJSON_AddNumberToObject(o, "min", 9.0);
    cJSON_AddNumberToObject(o, "max", 11.0);
    double floor_tok = bw * 1e9 / (wb + kv), gmac = pre * macs / 1e9, peak = cores * ghz * mpc;
    struct { const char *k; double v; } f[] = {
        { "bandwidth_gb_s", bw }, { "weight_bytes_per_token", wb }, { "kv_bytes_per_token", kv },
        { "floor_tok_s", floor_tok }, { "decode_gb_s", dec * (wb + kv) / 1e9 }, { "decode_floor_ratio", dec / floor_tok },
        { "prefill_macs_per_token", macs }, { "prefill_gmac_s", gmac }, { "ghz", ghz }, { "cores", cores },
        { "macs_per_cycle", mpc }, { "peak_gmac_s", peak }, { "prefill_peak_ratio", gmac / peak },
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) cJSON_AddNumberToObject(b, f[i].k, f[i].v);
    char *path = tu_temp_path(".json");
    tc_err err;
    bool valid;
    tc_verify_opts vo = { 0 };
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, path, &err), TC_OK);
    ck_assert_int_eq(tc_verify(path, &vo, NULL, &valid, &err), TC_OK);
    ck_assert(valid);
    /* an inflated ratio, re-digested: the arithmetic gives it away */
    cJSON_ReplaceItemInObject(b, "decode_floor_ratio", cJSON_CreateNumber(0.95));
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, path, &err), TC_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    ck_assert_int_eq(tc_verify(path, &vo, mem, &valid, &err), TC_OK);
    fclose(mem);
    ck_assert(!valid);
    ck_assert_msg(strstr(buf, "bench.decode_floor_ratio (decode / floor) is 0.9"), "%s", buf);
    free(buf);
    /* the paired ratio is the median of its listed repeats: 0.5, 0.8, 0.6 -> 0.6 */
    cJSON_ReplaceItemInObject(b, "decode_floor_ratio", cJSON_CreateNumber(dec / floor_tok));
    const double pbw[3] = { 2.0 * (wb + kv) / 1e9 / 0.5, 2.0 * (wb + kv) / 1e9 / 0.8, 2.0 * (wb + kv) / 1e9 / 0.6 };
    const double pdec[3] = { 2.0, 2.0, 2.0 };
    cJSON *pd = cJSON_AddObjectToObject(b, "paired");
    cJSON_AddItemToObject(pd, "bandwidth_gb_s", cJSON_CreateDoubleArray(pbw, 3));
    cJSON_AddItemToObject(pd, "decode_tok_s", cJSON_CreateDoubleArray(pdec, 3));
    cJSON_AddNumberToObject(pd, "ratio_median", 0.6);
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, path, &err), TC_OK);
    ck_assert_int_eq(tc_verify(path, &vo, NULL, &valid, &err), TC_OK);
    ck_assert(valid);
    cJSON_ReplaceItemInObject(pd, "ratio_median", cJSON_CreateNumber(0.8));   /* the best repeat, not the median */
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, path, &err), TC_OK);
    mem = open_memstream(&buf, &len);
    ck_assert_int_eq(tc_verify(path, &vo, mem, &valid, &err), TC_OK);
    fclose(mem);
    ck_assert(!valid);
    ck_assert_msg(strstr(buf, "bench.paired.ratio_median is 0.8"), "%s", buf);
    free(buf);
    cJSON_Delete(r);
    unlink(path);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("compare");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors");
    tcase_add_test(core, q8_boundary_flips_are_accepted_and_listed);
    tcase_add_test(core, float_tolerance_decides);
    tcase_add_test(core, q8_chained_compares_dequantized_rows);
    tcase_add_test(errors, verify_catches_resealed_verdict);
    tcase_add_test(errors, verify_checks_bench_arithmetic);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return tu_run(s);
}

/* check_receipt.c -- receipts: canonical form, digest, Ed25519, files (src/receipt.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "receipt/receipt.h"
#include "testutil.h"

static cJSON *sample(void)
{
    cJSON *r = tc_receipt_new("compare");
    cJSON *res = cJSON_AddObjectToObject(r, "results");
    cJSON_AddNumberToObject(res, "scaled_err", 2.385e-6);
    cJSON_AddStringToObject(res, "verdict", "pass");
    return r;
}

START_TEST(new_receipt_has_provenance)
{
    cJSON *r = sample();
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r, "schema")), TC_RECEIPT_SCHEMA);
    cJSON *tool = cJSON_GetObjectItem(r, "tool");
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(tool, "version"));
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(tool, "git_commit"));
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "host"), "cpu_model"));
    cJSON_Delete(r);
}
END_TEST

/* The canonical text does not depend on key order, and ignores the seal. */
START_TEST(canonical_sorts_keys)
{
    cJSON *a = cJSON_Parse("{\"b\":{\"y\":1,\"x\":[3,{\"q\":1,\"p\":2}]},\"a\":2.385,\"digest\":{\"value\":\"00\"}}");
    cJSON *b = cJSON_Parse("{\"a\":2.385,\"b\":{\"x\":[3,{\"p\":2,\"q\":1}],\"y\":1}}");
    char *ca = tc_receipt_canonical(a), *cb = tc_receipt_canonical(b);
    ck_assert_str_eq(ca, cb);
    ck_assert_str_eq(ca, "{\"a\":2.385,\"b\":{\"x\":[3,{\"p\":2,\"q\":1}],\"y\":1}}");
    free(ca);
    free(cb);
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

START_TEST(digest_detects_tampering)
{
    cJSON *r = sample();
    tc_err err;
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_check_seal(r, NULL, &err), TC_OK);
    cJSON_SetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "results"), "scaled_err"), 2.386e-6);
    ck_assert_int_eq(tc_receipt_check_seal(r, NULL, &err), TC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "changed after sealing"));
    cJSON_Delete(r);
}
END_TEST

START_TEST(signature_round_trip_and_wrong_key)
{
    char *ka = tu_temp_path(".pem"), *kb = tu_temp_path(".pem");
    tc_err err;
    ck_assert_msg(tc_keygen(ka, &err) == TC_OK, "%s", err.msg);
    ck_assert_msg(tc_keygen(kb, &err) == TC_OK, "%s", err.msg);
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s.pub", ka);
    snprintf(pb, sizeof pb, "%s.pub", kb);
    cJSON *r = sample();
    ck_assert_msg(tc_receipt_seal(r, ka, &err) == TC_OK, "%s", err.msg);
    ck_assert_int_eq(tc_receipt_check_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_check_seal(r, pa, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_check_seal(r, pb, &err), TC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "another key"));
    /* a forged signature value fails even with a recomputed digest */
    cJSON *sig = cJSON_GetObjectItem(r, "signature");
    char *v = strdup(cJSON_GetStringValue(cJSON_GetObjectItem(sig, "value")));
    v[0] = v[0] == '0' ? '1' : '0';
    cJSON_ReplaceItemInObject(sig, "value", cJSON_CreateString(v));
    free(v);
    ck_assert_int_eq(tc_receipt_check_seal(r, NULL, &err), TC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not verify"));
    /* a receipt without a signature fails when a public key is required */
    cJSON_DeleteItemFromObject(r, "signature");
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_check_seal(r, pa, &err), TC_E_FORMAT);
    cJSON_Delete(r);
    /* keygen refuses to overwrite a key */
    ck_assert_int_eq(tc_keygen(ka, &err), TC_E_IO);
    unlink(ka); unlink(kb); unlink(pa); unlink(pb);
    free(ka);
    free(kb);
}
END_TEST

START_TEST(write_and_load)
{
    char *p = tu_temp_path(".json");
    tc_err err;
    cJSON *r = sample(), *back;
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, p, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_load(p, &back, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_check_seal(back, NULL, &err), TC_OK);
    cJSON_Delete(back);
    cJSON_Delete(r);
    FILE *fp = fopen(p, "w");
    fputs("{\"schema\": \"other/2\"}", fp);
    fclose(fp);
    ck_assert_int_eq(tc_receipt_load(p, &back, &err), TC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "schema: expected \"tritcheck.receipt/1\""));
    fp = fopen(p, "w");
    fputs("{\"schema\": ", fp);
    fclose(fp);
    ck_assert_int_eq(tc_receipt_load(p, &back, &err), TC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "not valid JSON"));
    unlink(p);
    r = sample();
    ck_assert_int_eq(tc_receipt_write(r, "/nonexistent-dir/r.json", &err), TC_E_IO);
    cJSON_Delete(r);
    free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("receipt");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors");
    tcase_add_test(core, new_receipt_has_provenance);
    tcase_add_test(core, canonical_sorts_keys);
    tcase_add_test(core, write_and_load);
    tcase_add_test(errors, digest_detects_tampering);
    tcase_add_test(errors, signature_round_trip_and_wrong_key);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return tu_run(s);
}

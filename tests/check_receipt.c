/* check_receipt.c -- receipts: canonical form, digest, Ed25519, files (src/receipt.c). */
#include <check.h>
#include <math.h>
#include <stdint.h>
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

/* RFC 8785 3.2.2's example: numbers as ECMAScript writes them, strings
 * with only the RFC's escapes. */
START_TEST(canonical_rfc8785_example)
{
    cJSON *a = cJSON_Parse("{\"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],"
                           " \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\","
                           " \"literals\": [null, true, false]}");
    ck_assert_ptr_nonnull(a);
    char *c = tc_receipt_canonical(a);
    ck_assert_str_eq(c, "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
                        "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
    free(c);
    cJSON_Delete(a);
}
END_TEST

/* RFC 8785 3.2.3: keys sorted by UTF-16 code units (U+1F600, a surrogate
 * pair, before U+FB33). */
START_TEST(canonical_rfc8785_sorting)
{
    cJSON *a = cJSON_Parse("{\"\\u20ac\":1,\"\\r\":2,\"\\ufb33\":3,\"1\":4,\"\\ud83d\\ude00\":5,\"\\u0080\":6,"
                           "\"\\u00f6\":7}");
    ck_assert_ptr_nonnull(a);
    char *c = tc_receipt_canonical(a);
    ck_assert_str_eq(c, "{\"\\r\":2,\"1\":4,\"\xc2\x80\":6,\"\xc3\xb6\":7,\"\xe2\x82\xac\":1,"
                        "\"\xf0\x9f\x98\x80\":5,\"\xef\xac\xb3\":3}");
    free(c);
    cJSON_Delete(a);
}
END_TEST

/* RFC 8785 Appendix B: doubles as ECMAScript's Number.prototype.toString. */
START_TEST(canonical_numbers)
{
    static const struct { uint64_t bits; const char *text; } v[] = {
        { 0x0000000000000000ull, "0" }, { 0x8000000000000000ull, "0" }, { 0x0000000000000001ull, "5e-324" },
        { 0x8000000000000001ull, "-5e-324" }, { 0x7fefffffffffffffull, "1.7976931348623157e+308" },
        { 0xffefffffffffffffull, "-1.7976931348623157e+308" }, { 0x4340000000000000ull, "9007199254740992" },
        { 0xc340000000000000ull, "-9007199254740992" }, { 0x4430000000000000ull, "295147905179352830000" },
        { 0x44b52d02c7e14af5ull, "9.999999999999997e+22" }, { 0x44b52d02c7e14af6ull, "1e+23" },
        { 0x44b52d02c7e14af7ull, "1.0000000000000001e+23" }, { 0x444b1ae4d6e2ef4eull, "999999999999999700000" },
        { 0x444b1ae4d6e2ef4full, "999999999999999900000" }, { 0x444b1ae4d6e2ef50ull, "1e+21" },
        { 0x3eb0c6f7a0b5ed8cull, "9.999999999999997e-7" }, { 0x3eb0c6f7a0b5ed8dull, "0.000001" },
        { 0x41b3de4355555553ull, "333333333.3333332" }, { 0x41b3de4355555554ull, "333333333.33333325" },
        { 0x41b3de4355555555ull, "333333333.3333333" }, { 0x41b3de4355555556ull, "333333333.3333334" },
        { 0x41b3de4355555557ull, "333333333.33333343" }, { 0xbecbf647612f3696ull, "-0.0000033333333333333333" },
        { 0x43143ff3c1cb0959ull, "1424953923781206.2" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        double d;
        memcpy(&d, &v[i].bits, sizeof d);
        cJSON *a = cJSON_CreateArray();
        cJSON_AddItemToArray(a, cJSON_CreateNumber(d));
        char *c = tc_receipt_canonical(a), want[64];
        snprintf(want, sizeof want, "[%s]", v[i].text);
        ck_assert_msg(c && !strcmp(c, want), "%016llx: %s, expected %s", (unsigned long long)v[i].bits, c, want);
        free(c);
        cJSON_Delete(a);
    }
}
END_TEST

/* What cJSON_Print would write imprecisely (it stops at 15 digits when
 * they come within an epsilon) the receipt file holds exactly: a sealed
 * receipt written and read back keeps its digest. */
START_TEST(file_keeps_every_digit)
{
    char *p = tu_temp_path(".json");
    tc_err err;
    cJSON *r = sample(), *back;
    cJSON_AddNumberToObject(r, "eps", (double)9.99999974737875e-06f);
    cJSON_AddNumberToObject(r, "third", 1.0 / 3.0);
    cJSON_AddNumberToObject(r, "nan", NAN);
    cJSON_AddStringToObject(r, "bad_utf8", "caf\xe9 \xff");
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r, "nan")));
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r, "bad_utf8")), "caf\xef\xbf\xbd \xef\xbf\xbd");
    ck_assert_int_eq(tc_receipt_write(r, p, &err), TC_OK);
    ck_assert_msg(tc_receipt_load(p, &back, &err) == TC_OK, "%s", err.msg);
    ck_assert_msg(tc_receipt_check_seal(back, NULL, NULL, &err) == TC_OK, "%s", err.msg);
    ck_assert(cJSON_GetObjectItem(back, "eps")->valuedouble == (double)9.99999974737875e-06f);
    cJSON_Delete(back);
    cJSON_Delete(r);
    unlink(p);
    free(p);
}
END_TEST

START_TEST(digest_detects_tampering)
{
    cJSON *r = sample();
    tc_err err;
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_check_seal(r, NULL, NULL, &err), TC_OK);
    cJSON_SetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "results"), "scaled_err"), 2.386e-6);
    ck_assert_int_eq(tc_receipt_check_seal(r, NULL, NULL, &err), TC_E_FORMAT);
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
    unsigned char ra[32], rb[32];
    ck_assert_msg(tc_pubkey_load(pa, ra, &err) == TC_OK, "%s", err.msg);
    ck_assert_msg(tc_pubkey_load(pb, rb, &err) == TC_OK, "%s", err.msg);
    ck_assert_int_eq(tc_pubkey_load(ka, rb, &err), TC_E_USAGE);   /* a private key is not a public one */
    ck_assert_int_eq(tc_pubkey_load("/nonexistent.pub", rb, &err), TC_E_IO);
    ck_assert_msg(tc_pubkey_load(pb, rb, &err) == TC_OK, "%s", err.msg);
    cJSON *r = sample();
    tc_seal_info si;
    ck_assert_msg(tc_receipt_seal(r, ka, &err) == TC_OK, "%s", err.msg);
    /* without a trusted key: valid, by a named key, not authenticated */
    ck_assert_int_eq(tc_receipt_check_seal(r, NULL, &si, &err), TC_OK);
    ck_assert(si.has_signature && si.signature_valid && !si.authenticated);
    char fp[TC_SHA256_HEX];
    tc_key_fingerprint(ra, fp);
    ck_assert_str_eq(si.signer, fp);
    ck_assert_int_eq(tc_receipt_check_seal(r, ra, &si, &err), TC_OK);
    ck_assert(si.authenticated);
    ck_assert_int_eq(tc_receipt_check_seal(r, rb, &si, &err), TC_E_FORMAT);
    ck_assert(!si.authenticated);
    ck_assert_ptr_nonnull(strstr(err.msg, "another key"));
    /* a forged signature value fails even with a recomputed digest */
    cJSON *sig = cJSON_GetObjectItem(r, "signature");
    char *v = strdup(cJSON_GetStringValue(cJSON_GetObjectItem(sig, "value")));
    v[0] = v[0] == '0' ? '1' : '0';
    cJSON_ReplaceItemInObject(sig, "value", cJSON_CreateString(v));
    free(v);
    ck_assert_int_eq(tc_receipt_check_seal(r, NULL, NULL, &err), TC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not verify"));
    /* a receipt without a signature fails when a public key is required */
    cJSON_DeleteItemFromObject(r, "signature");
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_check_seal(r, ra, NULL, &err), TC_E_FORMAT);
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
    ck_assert_int_eq(tc_receipt_check_seal(back, NULL, NULL, &err), TC_OK);
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
    tcase_add_test(core, canonical_rfc8785_example);
    tcase_add_test(core, canonical_rfc8785_sorting);
    tcase_add_test(core, canonical_numbers);
    tcase_add_test(core, file_keeps_every_digit);
    tcase_add_test(core, write_and_load);
    tcase_add_test(errors, digest_detects_tampering);
    tcase_add_test(errors, signature_round_trip_and_wrong_key);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return tu_run(s);
}

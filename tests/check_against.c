/* check_against.c -- bench --against's arithmetic (check/against.h) and
 * verify's recomputation of it: a real bench of a generated model with a
 * peer's rounds filled in by hand, sealed as bench writes it; verify
 * accepts it, and rejects it once a ratio, a round or the last round's
 * figure is edited (and the receipt sealed again, so that only the
 * consistency check can see it). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/verify.h"
#include "check/against.h"
#include "format/model.h"
#include "receipt/receipt.h"
#include "testutil.h"
#include "tools/gen.h"

START_TEST(ratio_is_round_by_round)
{
    const double ours[3] = { 100, 90, 120 }, peer[3] = { 50, 30, 60 };
    const tc_stat s = tc_against_ratio(ours, peer, 3);   /* 2, 3, 2 */
    ck_assert_double_eq(s.median, 2.0);
    ck_assert_double_eq(s.min, 2.0);
    ck_assert_double_eq(s.max, 3.0);   /* not max(ours) / min(peer) = 4 */
}
END_TEST

/* a bench receipt with an against section of two rounds, at path */
static cJSON *receipt(tc_model *m, const char *model_path, tc_against_result *ar)
{
    tc_bench_opts o;
    tc_err err;
    tc_bench_opts_default(&o);
    o.n_threads = 1, o.prompt_len = 4, o.n_gen = 2, o.repeat = 1, o.bw_bytes = (size_t)4 << 20;
    memset(ar, 0, sizeof *ar);
    ck_assert_msg(tc_bench_run(m, &o, &ar->last, &err) == TC_OK, "%s", err.msg);
    ar->rounds = 2;
    snprintf(ar->peer.path, sizeof ar->peer.path, "/opt/peer/llama-bench");
    memset(ar->peer.sha256, 'a', 64);
    snprintf(ar->peer.build_commit, sizeof ar->peer.build_commit, "feedf00d");
    ar->peer.n_threads = 1;
    ar->ours_prefill[0] = 2 * ar->last.prefill_tps.median, ar->ours_prefill[1] = ar->last.prefill_tps.median;
    ar->ours_decode[0] = 3 * ar->last.decode_tps.median, ar->ours_decode[1] = ar->last.decode_tps.median;
    ar->peer_prefill[0] = 10, ar->peer_prefill[1] = 20, ar->peer_decode[0] = 1, ar->peer_decode[1] = 4;
    double v[2];
    memcpy(v, ar->ours_prefill, sizeof v), ar->ours_prefill_tps = tc_stat_of(v, 2);
    memcpy(v, ar->ours_decode, sizeof v), ar->ours_decode_tps = tc_stat_of(v, 2);
    memcpy(v, ar->peer_prefill, sizeof v), ar->peer_prefill_tps = tc_stat_of(v, 2);
    memcpy(v, ar->peer_decode, sizeof v), ar->peer_decode_tps = tc_stat_of(v, 2);
    ar->prefill_ratio = tc_against_ratio(ar->ours_prefill, ar->peer_prefill, 2);
    ar->decode_ratio = tc_against_ratio(ar->ours_decode, ar->peer_decode, 2);
    cJSON *r = NULL;
    ck_assert_msg(tc_bench_receipt(m, model_path, &ar->last, tc_against_json(ar), &r, &err) == TC_OK, "%s", err.msg);
    return r;
}

/* verify's output on r, sealed again after an edit */
static bool verify(cJSON *r, char *out, size_t n)
{
    tc_err err;
    cJSON_DeleteItemFromObject(r, "digest");
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    char *path = tu_temp_path(".json");
    ck_assert_int_eq(tc_receipt_write(r, path, &err), TC_OK);
    FILE *f = tmpfile();
    bool valid = false;
    tc_verify_opts o = { 0 };
    ck_assert_msg(tc_verify(path, &o, f, &valid, &err) == TC_OK, "%s", err.msg);
    rewind(f);
    const size_t k = fread(out, 1, n - 1, f);
    out[k] = '\0';
    fclose(f);
    unlink(path);
    free(path);
    return valid;
}

START_TEST(verify_recomputes_the_comparison)
{
    tc_gen_opts g;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset("tiny", &g, &err), TC_OK);
    char *mp = tu_temp_path(".gguf"), out[8192];
    ck_assert_int_eq(tc_gen_write(&g, mp, &err), TC_OK);
    tc_model *m;
    ck_assert_int_eq(tc_model_load(mp, &m, &err), TC_OK);
    tc_against_result ar;
    cJSON *r = receipt(m, mp, &ar);
    ck_assert_msg(verify(r, out, sizeof out), "%s", out);
    cJSON *a = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "bench"), "against");

    /* a ratio that is not the rounds' */
    cJSON *q = cJSON_GetObjectItem(cJSON_GetObjectItem(a, "prefill_ratio"), "median");
    const double keep = q->valuedouble;
    cJSON_SetNumberValue(q, keep * 1.5);
    ck_assert(!verify(r, out, sizeof out));
    ck_assert_msg(strstr(out, "bench.against.prefill_ratio is not the rounds' tritcheck / peer"), "%s", out);
    cJSON_SetNumberValue(q, keep);
    ck_assert_msg(verify(r, out, sizeof out), "%s", out);

    /* a round edited: its side's median and range no longer follow */
    cJSON *rounds = cJSON_GetObjectItem(cJSON_GetObjectItem(a, "peer_decode_tok_s"), "rounds");
    cJSON_SetNumberValue(cJSON_GetArrayItem(rounds, 0), 2.0);
    ck_assert(!verify(r, out, sizeof out));
    ck_assert_msg(strstr(out, "bench.against.peer_decode_tok_s: median, min, max"), "%s", out);
    cJSON_SetNumberValue(cJSON_GetArrayItem(rounds, 0), 1.0);

    /* a round that is not a positive number, or missing */
    cJSON_SetNumberValue(cJSON_GetArrayItem(rounds, 1), -4.0);
    ck_assert(!verify(r, out, sizeof out));
    ck_assert_msg(strstr(out, "peer_decode_tok_s.rounds[1]: expected a positive number"), "%s", out);
    cJSON_DeleteItemFromArray(rounds, 1);
    ck_assert(!verify(r, out, sizeof out));
    ck_assert_msg(strstr(out, "peer_decode_tok_s.rounds: expected 2 numbers"), "%s", out);
    cJSON_Delete(r);

    /* the bench section is the last round's */
    r = receipt(m, mp, &ar);
    a = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "bench"), "against");
    cJSON *ours = cJSON_GetObjectItem(cJSON_GetObjectItem(a, "decode_tok_s"), "rounds");
    cJSON *first = cJSON_DetachItemFromArray(ours, 0);
    cJSON_AddItemToArray(ours, first);   /* rounds swapped: the stats still follow, the last round does not */
    ck_assert(!verify(r, out, sizeof out));
    ck_assert_msg(strstr(out, "bench.decode_tok_s.median is not the last round's"), "%s", out);
    cJSON_Delete(r);
    tc_model_free(m);
    unlink(mp);
    free(mp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("against");
    TCase *c = tcase_create("core");
    tcase_set_timeout(c, 120);
    tcase_add_test(c, ratio_is_round_by_round);
    tcase_add_test(c, verify_recomputes_the_comparison);
    suite_add_tcase(s, c);
    return tu_run(s);
}

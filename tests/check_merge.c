/* check_merge.c -- joining shard receipts (src/audit/merge.c), and what
 * verify checks of shards and merged receipts (src/audit/verify_shard.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/merge.h"
#include "audit/verify.h"
#include "check/accuracy.h"
#include "check/ksuite.h"
#include "check/vectors.h"
#include "receipt/receipt.h"
#include "tools/gen.h"
#include "testutil.h"

static char *model;           /* a tiny model, made once */
static char *paths[4];        /* accuracy shards 0..2 of 3, and the unsharded run */

static cJSON *accuracy(const tc_shard *sh)
{
    tc_accuracy_opts o;
    tc_accuracy_opts_default(&o);
    o.model_path = model;
    o.n_random = 30;
    o.ctx = 7;    /* 5 chunks, the last of 2 */
    o.seed = 3;
    if (sh) o.shard = *sh;
    cJSON *r;
    tc_err err;
    ck_assert_msg(tc_accuracy_run(&o, NULL, &r, &err) == TC_OK, "%s", err.msg);
    return r;
}

static void write_sealed(cJSON *r, const char *path)
{
    tc_err err;
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, path, &err), TC_OK);
}

static void setup(void)
{
    tc_gen_opts g;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset("tiny", &g, &err), TC_OK);
    model = tu_temp_path(".gguf");
    ck_assert_int_eq(tc_gen_write(&g, model, &err), TC_OK);
    for (int i = 0; i < 4; i++) {
        paths[i] = tu_temp_path(".json");
        tc_shard sh = { (uint32_t)i, 3 };
        cJSON *r = accuracy(i < 3 ? &sh : NULL);
        write_sealed(r, paths[i]);
        cJSON_Delete(r);
    }
}

static void teardown(void)
{
    for (int i = 0; i < 4; i++) {
        unlink(paths[i]);
        free(paths[i]);
    }
    unlink(model);
    free(model);
}

/* The canonical text of r without what may differ between a run and a merge. */
static char *figures(const cJSON *r)
{
    cJSON *c = cJSON_Duplicate(r, 1);
    static const char *const drop[] = { "created", "digest", "signature", "timings", "shard", "merged" };
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++) cJSON_DeleteItemFromObject(c, drop[i]);
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(c, "engines")) cJSON_DeleteItemFromObject(e, "seconds");
    char *t = tc_receipt_canonical(c);
    cJSON_Delete(c);
    return t;
}

static bool valid(const char *path)
{
    tc_verify_opts vo = { 0 };
    bool ok = false;
    tc_err err;
    ck_assert_int_eq(tc_verify(path, &vo, NULL, &ok, &err), TC_OK);
    return ok;
}

START_TEST(merged_equals_unsharded)
{
    const char *in[3] = { paths[2], paths[0], paths[1] };
    cJSON *m = NULL, *whole;
    tc_err err;
    ck_assert_msg(tc_merge(in, 3, NULL, NULL, &m, &err) == TC_OK, "%s", err.msg);
    ck_assert_int_eq(tc_receipt_load(paths[3], &whole, &err), TC_OK);
    char *a = figures(m), *b = figures(whole);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    /* and the merged receipt, sealed, verifies */
    char *mp = tu_temp_path(".json");
    write_sealed(m, mp);
    ck_assert(valid(mp));
    /* a shard's view of it is that shard's receipt again */
    cJSON *v = tc_merge_shard_view(m, 1, &err), *s1;
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(tc_receipt_load(paths[1], &s1, &err), TC_OK);
    a = figures(v);
    b = figures(s1);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    ck_assert_ptr_null(tc_merge_shard_view(m, 3, &err));
    ck_assert_int_eq(err.status, TC_E_USAGE);
    cJSON_Delete(v);
    cJSON_Delete(s1);
    cJSON_Delete(m);
    cJSON_Delete(whole);
    unlink(mp);
    free(mp);
}
END_TEST

/* A shard whose digest was made again after a figure changed: intact, but
 * its headline no longer follows from its parts; merge refuses it. */
START_TEST(resealed_inconsistent_shard_refused)
{
    cJSON *r;
    tc_err err;
    ck_assert_int_eq(tc_receipt_load(paths[1], &r, &err), TC_OK);
    cJSON *kl = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "per_position"), "kl"), 0);
    cJSON_SetNumberValue(kl, kl->valuedouble + 1.0);
    char *p = tu_temp_path(".json");
    write_sealed(r, p);
    const char *in[3] = { paths[0], p, paths[2] };
    cJSON *m = NULL;
    ck_assert_int_eq(tc_merge(in, 3, NULL, NULL, &m, &err), TC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not verify"));
    ck_assert_ptr_null(m);
    /* a shard whose range does not match its index */
    cJSON_Delete(r);
    ck_assert_int_eq(tc_receipt_load(paths[1], &r, &err), TC_OK);
    cJSON_SetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "shard"), "end"), 4);
    write_sealed(r, p);
    ck_assert(!valid(p));
    ck_assert_int_eq(tc_merge(in, 3, NULL, NULL, &m, &err), TC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "holds [1, 3), not [1, 4)"));
    cJSON_Delete(r);
    unlink(p);
    free(p);
}
END_TEST

/* verify of a merged receipt: the shard list, the lengths and the kernel
 * counts must add up (resealed, so only these rules can catch them). */
START_TEST(verify_catches_merged_lies)
{
    const char *in[3] = { paths[0], paths[1], paths[2] };
    tc_err err;
    char *p = tu_temp_path(".json");
    for (int lie = 0; lie < 4; lie++) {
        cJSON *m = NULL;
        ck_assert_int_eq(tc_merge(in, 3, NULL, NULL, &m, &err), TC_OK);
        cJSON *mg = cJSON_GetObjectItem(m, "merged"), *s1 = cJSON_GetArrayItem(cJSON_GetObjectItem(mg, "shards"), 1);
        if (lie == 0) cJSON_SetNumberValue(cJSON_GetObjectItem(s1, "end"), 4);
        if (lie == 1) cJSON_DeleteItemFromArray(cJSON_GetObjectItem(mg, "shards"), 2);
        if (lie == 2) cJSON_SetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(s1, "lengths"), "per_position.kl"), 1);
        if (lie == 3) {
            cJSON *k = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "engines"), "subject"), "kernels");
            cJSON_SetNumberValue(k->child, k->child->valuedouble + 1);
        }
        write_sealed(m, p);
        ck_assert_msg(!valid(p), "lie %d accepted", lie);
        cJSON_Delete(m);
    }
    unlink(p);
    free(p);
}
END_TEST

START_TEST(not_one_job_refused)
{
    const char *dup[3] = { paths[0], paths[1], paths[1] }, *miss[2] = { paths[0], paths[2] }, *whole[1] = { paths[3] };
    cJSON *m = NULL;
    tc_err err;
    ck_assert_int_eq(tc_merge(dup, 3, NULL, NULL, &m, &err), TC_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "shard 1 of 3 is given twice"));
    ck_assert_int_eq(tc_merge(miss, 2, NULL, NULL, &m, &err), TC_E_USAGE);
    ck_assert_str_eq(err.msg, "merge: shard 1 of 3 is missing (given: 0, 2)");
    ck_assert_int_eq(tc_merge(whole, 1, NULL, NULL, &m, &err), TC_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "is not a shard receipt"));
    ck_assert_int_eq(tc_merge(NULL, 0, NULL, NULL, &m, &err), TC_E_USAGE);
    ck_assert_ptr_null(m);
}
END_TEST

/* The pass/fail tally behind kernels' and vectors' summaries (merged or
 * not): an empty list checked nothing and fails; one failing unit fails
 * and is named; only all passing passes. */
static const char *tally(const char *json, bool vectors, double *failed, const char **first)
{
    cJSON *r = cJSON_Parse(json);
    tc_err err = { 0 };
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(vectors ? tc_vectors_finish(r, NULL, &err) : tc_kernels_finish(r, NULL, &err), TC_OK);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(r, "summary");
    static char verdict[16], name[32];
    snprintf(verdict, sizeof verdict, "%s", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "verdict")));
    const char *f = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "first_failure"));
    snprintf(name, sizeof name, "%s", f ? f : "");
    *failed = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "failed"));
    *first = name;
    cJSON_Delete(r);
    return verdict;
}

START_TEST(tally_verdicts)
{
    double failed;
    const char *first;
    ck_assert_str_eq(tally("{\"cases\": []}", false, &failed, &first), "fail");
    ck_assert_str_eq(tally("{}", true, &failed, &first), "fail");
    ck_assert_str_eq(tally("{\"cases\": [{\"name\": \"a\", \"verdict\": \"pass\"}, {\"name\": \"b\", \"verdict\": \"fail\"}]}",
                           false, &failed, &first), "fail");
    ck_assert(failed == 1);
    ck_assert_str_eq(first, "b");
    ck_assert_str_eq(tally("{\"entries\": [{\"name\": \"x\", \"pass\": true}, {\"name\": \"y\", \"pass\": 1}]}",
                           true, &failed, &first), "fail");   /* 1 is not true */
    ck_assert_str_eq(first, "y");
    ck_assert_str_eq(tally("{\"entries\": [{\"name\": \"x\", \"pass\": true}]}", true, &failed, &first), "pass");
    ck_assert(failed == 0);
    ck_assert_str_eq(first, "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("merge");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors");
    tcase_add_unchecked_fixture(core, setup, teardown);
    tcase_add_unchecked_fixture(errors, setup, teardown);
    tcase_add_test(core, merged_equals_unsharded);
    tcase_add_test(errors, resealed_inconsistent_shard_refused);
    tcase_add_test(errors, verify_catches_merged_lies);
    tcase_add_test(errors, not_one_job_refused);
    tcase_add_test(core, tally_verdicts);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return tu_run(s);
}

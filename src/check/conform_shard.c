/* conform_shard.c -- a conformance suite's summary derived from its cases,
 * and a shard's identity (conform.h): what tritcheck merge needs. */
#include <string.h>

#include "check/conform.h"

tc_status tc_conform_finish(cJSON *sum, FILE *out, tc_err *err)
{
    const cJSON *c;
    double n = 0, ok = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(sum, "cases")) {
        n++;
        ok += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "conforms"));
    }
    cJSON *v = cJSON_CreateObject();
    if (!v) return tc_fail(err, TC_E_NOMEM, "conform: out of memory");
    cJSON_AddNumberToObject(v, "cases", n);
    cJSON_AddNumberToObject(v, "conforming", ok);
    cJSON_AddStringToObject(v, "verdict", ok == n && n > 0 ? "conforms" : "does not conform");
    if (cJSON_GetObjectItemCaseSensitive(sum, "summary")) cJSON_ReplaceItemInObjectCaseSensitive(sum, "summary", v);
    else cJSON_AddItemToObject(sum, "summary", v);
    if (out) fprintf(out, "conform: %g of %g cases conform\n", ok, n);
    return TC_OK;
}

tc_status tc_conform_mark_shard(cJSON *sum, const tc_conform_opts *o, const char *manifest_sha256, uint64_t n_cases,
                                uint64_t first, uint64_t end, tc_err *err)
{
    cJSON *opts = cJSON_CreateObject();
    if (!opts) return tc_fail(err, TC_E_NOMEM, "conform: out of memory");
    cJSON_AddStringToObject(opts, "candidate", o->cand);
    cJSON_AddNumberToObject(opts, "threads", o->n_threads);
    cJSON *job = tc_job_identity(sum, opts, manifest_sha256, err);
    if (!job) return err ? err->status : TC_E_NOMEM;
    return tc_shard_mark(sum, &o->shard, "case", n_cases, first, end, job, err);
}

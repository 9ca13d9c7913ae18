/* shard.c -- shards of a job and the identity every shard records
 * (shard.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "check/shard.h"
#include "receipt/seal.h"

/* ---- I/N ---- */

tc_status tc_shard_parse(const char *text, tc_shard *out, tc_err *err)
{
    char *end;
    const char *slash = text ? strchr(text, '/') : NULL;
    if (!slash || !isdigit((unsigned char)text[0]) || !isdigit((unsigned char)slash[1]))
        return tc_fail(err, TC_E_USAGE, "--shard '%s': expected I/N, the shard I (from 0) of N", text ? text : "");
    errno = 0;
    unsigned long long i = strtoull(text, &end, 10);
    if (errno || end != slash)
        return tc_fail(err, TC_E_USAGE, "--shard '%s': expected I/N, the shard I (from 0) of N", text);
    unsigned long long n = strtoull(slash + 1, &end, 10);
    if (errno || *end)
        return tc_fail(err, TC_E_USAGE, "--shard '%s': expected I/N, the shard I (from 0) of N", text);
    if (n < 1 || n > TC_SHARD_MAX || i >= n)
        return tc_fail(err, TC_E_USAGE, "--shard '%s': expected 0 <= I < N <= %d", text, TC_SHARD_MAX);
    *out = (tc_shard){ (uint32_t)i, (uint32_t)n };
    return TC_OK;
}

bool tc_shard_on(const tc_shard *sh)
{
    return sh && sh->count > 0;
}

void tc_shard_bounds(uint64_t index, uint64_t count, uint64_t n_units, uint64_t *first, uint64_t *end)
{
    /* floor(i U / N) without overflow for U, N < 2^32 and i < N */
    *first = count ? (uint64_t)(((unsigned __int128)index * n_units) / count) : 0;
    *end = count ? (uint64_t)(((unsigned __int128)(index + 1) * n_units) / count) : n_units;
}

tc_status tc_shard_range(const tc_shard *sh, uint64_t n_units, const char *unit, uint64_t *first, uint64_t *end,
                         tc_err *err)
{
    if (!tc_shard_on(sh)) {
        *first = 0;
        *end = n_units;
        return TC_OK;
    }
    if (sh->count > n_units)
        return tc_fail(err, TC_E_USAGE, "--shard %" PRIu32 "/%" PRIu32 ": the job has %" PRIu64 " %s: use at most %"
                       PRIu64 " shards", sh->index, sh->count, n_units, unit, n_units);
    tc_shard_bounds(sh->index, sh->count, n_units, first, end);
    return TC_OK;
}

/* ---- the job's identity ---- */

tc_status tc_json_sha256(const cJSON *v, char hex[65])
{
    char *txt = tc_receipt_canonical(v);
    if (!txt) return TC_E_NOMEM;
    tc_status s = tc_sha256_hex(txt, strlen(txt), hex);
    free(txt);
    return s;
}

cJSON *tc_job_identity(const cJSON *r, cJSON *options, const char *input_sha256, tc_err *err)
{
    char exe[TC_SHA256_HEX];
    /* the binary that measured: the executable itself, not its name */
    tc_status s = tc_sha256_file("/proc/self/exe", exe, err);
    cJSON *job = s ? NULL : cJSON_CreateObject();
    if (!job) {
        cJSON_Delete(options);
        if (!s) tc_fail(err, TC_E_NOMEM, "out of memory");
        return NULL;
    }
    const cJSON *tool = cJSON_GetObjectItemCaseSensitive(r, "tool");
    const char *model = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "model"), "sha256"));
    cJSON_AddStringToObject(job, "kind", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "kind")));
    if (model) cJSON_AddStringToObject(job, "model_sha256", model);
    else cJSON_AddNullToObject(job, "model_sha256");
    cJSON *b = cJSON_AddObjectToObject(job, "binary");
    cJSON_AddStringToObject(b, "sha256", exe);
    cJSON_AddItemToObject(b, "version", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(tool, "version"), 1));
    cJSON_AddItemToObject(b, "git_commit", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(tool, "git_commit"), 1));
    cJSON_AddItemToObject(job, "options", options ? options : cJSON_CreateObject());
    cJSON_AddStringToObject(job, "input_sha256", input_sha256);
    return job;
}

tc_status tc_shard_mark(cJSON *r, const tc_shard *sh, const char *unit, uint64_t n_units, uint64_t first,
                        uint64_t end, cJSON *job, tc_err *err)
{
    char id[TC_SHA256_HEX];
    cJSON *o = cJSON_CreateObject();
    if (!o || tc_json_sha256(job, id)) {
        cJSON_Delete(o);
        cJSON_Delete(job);
        return tc_fail(err, TC_E_NOMEM, "out of memory");
    }
    cJSON_AddNumberToObject(o, "index", sh->index);
    cJSON_AddNumberToObject(o, "count", sh->count);
    cJSON_AddStringToObject(o, "unit", unit);
    cJSON_AddNumberToObject(o, "units", (double)n_units);
    cJSON_AddNumberToObject(o, "first", (double)first);
    cJSON_AddNumberToObject(o, "end", (double)end);
    cJSON_AddStringToObject(o, "job_id", id);
    cJSON_AddItemToObject(o, "job", job);
    cJSON_AddItemToObject(r, "shard", o);
    return TC_OK;
}

cJSON *tc_engine_options_json(const cJSON *described)
{
    cJSON *o = cJSON_Duplicate(described, 1);
    if (!o) return NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(o, "kernels");
    cJSON_DeleteItemFromObjectCaseSensitive(o, "seconds");
    return o;
}

/* ---- numbers as written ---- */

tc_status tc_receipt_as_written(cJSON **r, tc_err *err)
{
    /* the receipt printer's text: every double as the file holds it
     * (cJSON_Print may drop a 16th or 17th digit); a document it cannot
     * print (a non-finite number, before sealing) goes through cJSON's */
    char *txt = tc_receipt_text(*r);
    if (!txt) txt = cJSON_PrintUnformatted(*r);
    cJSON *back = txt ? cJSON_Parse(txt) : NULL;
    free(txt);
    if (!back) return tc_fail(err, TC_E_NOMEM, "out of memory");
    cJSON_Delete(*r);
    *r = back;
    return TC_OK;
}

double tc_json_figure(const cJSON *v)
{
    if (cJSON_IsNumber(v)) return v->valuedouble;
    const char *s = cJSON_GetStringValue(v);
    if (s && !strcmp(s, "inf")) return INFINITY;
    if (s && !strcmp(s, "-inf")) return -INFINITY;
    return NAN;
}

tc_status tc_tally_finish(cJSON *r, const char *what, const char *list, const char *count,
                          bool (*passed)(const cJSON *unit), FILE *out, tc_err *err)
{
    const cJSON *u;
    double n = 0, ok = 0;
    const char *first = NULL;
    cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(r, list)) {
        const bool pass = passed(u);
        if (!pass && !first) first = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(u, "name"));
        n++;
        ok += pass;
    }
    cJSON *s = cJSON_CreateObject();
    if (!s) return tc_fail(err, TC_E_NOMEM, "%s: out of memory", what);
    cJSON_AddNumberToObject(s, count, n);
    cJSON_AddNumberToObject(s, "passed", ok);
    cJSON_AddNumberToObject(s, "failed", n - ok);
    cJSON_AddStringToObject(s, "verdict", n > 0 && ok == n ? "pass" : "fail");
    if (first) cJSON_AddStringToObject(s, "first_failure", first);
    else cJSON_AddNullToObject(s, "first_failure");
    if (cJSON_GetObjectItemCaseSensitive(r, "summary")) cJSON_ReplaceItemInObjectCaseSensitive(r, "summary", s);
    else cJSON_AddItemToObject(r, "summary", s);
    if (out)
        fprintf(out, "%s: %g %s, %g pass, %g fail%s%s\n", what, n, count, ok, n - ok, first ? "; first failure: " : "",
                first ? first : "");
    return TC_OK;
}

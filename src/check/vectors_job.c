/* vectors_job.c -- `tritcheck vectors check` with a receipt (kind
 * "vectors") and shards (vectors.h): every entry of a directory, or a
 * shard's share of them, checked one by one with vectors.c. */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/sha256.h"
#include "check/vectors.h"
#include "check/shard.h"
#include "engine/registry.h"
#include "receipt/receipt.h"

static bool entry_passed(const cJSON *e) { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "pass")); }

tc_status tc_vectors_finish(cJSON *r, FILE *out, tc_err *err)
{
    return tc_tally_finish(r, "vectors", "entries", "entries", entry_passed, out, err);
}

/* The engine as the job's option: its name, and the kernel table it
 * stands for here (the ISA "fast" picks; a plug-in's file). */
static cJSON *engine_json(const char *cand)
{
    cJSON *o = cJSON_CreateObject();
    const tc_fast_kernels *kt = NULL;
    tc_plugin *p = NULL;
    char sha[TC_SHA256_HEX];
    cJSON_AddStringToObject(o, "id", cand);
    if (!tc_engine_is_ref(cand) && tc_engine_kernel_table(cand, &kt, &p, NULL) == TC_OK && kt) {
        cJSON_AddStringToObject(o, "kernel_table", kt->isa);
        if (p && tc_sha256_file(tc_plugin_path(p), sha, NULL) == TC_OK) cJSON_AddStringToObject(o, "plugin_sha256", sha);
    } else {
        cJSON_AddNullToObject(o, "kernel_table");
    }
    tc_plugin_free(p);
    return o;
}

/* One entry: checked, its lines echoed to out and kept as its report. */
static tc_status check_entry(const tc_vectors_job *j, const char *name, FILE *out, cJSON *entries, bool *pass,
                             tc_err *err)
{
    char path[4200], sha[TC_SHA256_HEX], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", j->dir, name);
    tc_status s = tc_sha256_file(path, sha, err);
    FILE *mem = s ? NULL : open_memstream(&text, &len);
    if (!s && !mem) s = tc_fail(err, TC_E_NOMEM, "vectors: out of memory");
    if (!s) s = tc_vectors_check_one(j->dir, name, j->cand, j->tol, mem, pass, err);
    if (mem) fclose(mem);
    if (!s) {
        if (out) fputs(text, out);
        while (len && text[len - 1] == '\n') text[--len] = '\0';
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", name);
        cJSON_AddStringToObject(e, "sha256", sha);
        cJSON_AddBoolToObject(e, "pass", *pass);
        cJSON_AddStringToObject(e, "report", text);
        cJSON_AddItemToArray(entries, e);
    }
    free(text);
    return s;
}

/* The receipt before its entries. */
static cJSON *receipt_head(const tc_vectors_job *j, size_t n_all)
{
    cJSON *r = tc_receipt_new("vectors");
    if (!r) return NULL;
    cJSON_AddItemToObject(r, "engine", engine_json(j->cand));
    cJSON *c = cJSON_AddObjectToObject(r, "tolerances");
    cJSON_AddNumberToObject(c, "model_tol", j->tol);
    cJSON_AddStringToObject(c, "rule", "model vectors: an isolated comparison, every tap within the tolerance and "
                                       "every canonical tap compared; kernel vectors: the kernel suite's checks "
                                       "(integers exact, floats within 1e-6, guard bytes); an entry the engine "
                                       "cannot run is skipped and passes");
    cJSON *in = cJSON_AddObjectToObject(r, "vectors");
    cJSON_AddStringToObject(in, "directory", j->dir);
    cJSON_AddNumberToObject(in, "entries", (double)n_all);
    cJSON_AddArrayToObject(r, "entries");
    return r;
}

/* The job's identity: the engine and tolerance, all the entries' names
 * and SHA-256s. */
static tc_status mark_shard(const tc_vectors_job *j, cJSON *r, char **names, size_t n, uint64_t first, uint64_t end,
                            tc_err *err)
{
    tc_sha256_stream *h = tc_sha256_begin();
    char sha[TC_SHA256_HEX], line[4400], id[TC_SHA256_HEX];
    if (!h) return tc_fail(err, TC_E_NOMEM, "vectors: out of memory");
    for (size_t i = 0; i < n; i++) {
        snprintf(line, sizeof line, "%s/%s", j->dir, names[i]);
        if (tc_sha256_file(line, sha, NULL)) snprintf(sha, sizeof sha, "unreadable");
        int len = snprintf(line, sizeof line, "%s %s\n", names[i], sha);
        tc_sha256_update(h, line, (size_t)len);
    }
    tc_sha256_end(h, id);
    cJSON *opts = cJSON_CreateObject();
    if (!opts) return tc_fail(err, TC_E_NOMEM, "vectors: out of memory");
    cJSON_AddItemToObject(opts, "engine", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r, "engine"), 1));
    cJSON_AddNumberToObject(opts, "tolerance", j->tol);
    cJSON *job = tc_job_identity(r, opts, id, err);
    if (!job) return err ? err->status : TC_E_NOMEM;
    return tc_shard_mark(r, &j->shard, "entry", n, first, end, job, err);
}

tc_status tc_vectors_job_run(const tc_vectors_job *j, FILE *out, cJSON **receipt, bool *all_pass, tc_err *err)
{
    char **names = NULL;
    size_t n = 0;
    uint64_t first = 0, end = 0;
    cJSON *r = NULL;
    *all_pass = false;
    if (receipt) *receipt = NULL;
    tc_status s = tc_vectors_list(j->dir, &names, &n, err);
    if (!s && n == 0) s = tc_fail(err, TC_E_USAGE, "%s: no *.tcv.gz vectors", j->dir);
    if (!s && (s = tc_shard_range(&j->shard, n, "entries", &first, &end, err))) tc_err_prefix(err, "vectors");
    if (!s && !(r = receipt_head(j, n))) s = tc_fail(err, TC_E_NOMEM, "vectors: out of memory");
    bool all = true;
    const double t0 = tc_now_s();
    for (uint64_t i = first; i < end && !s; i++) {
        bool pass = false;
        s = check_entry(j, names[i], out, cJSON_GetObjectItemCaseSensitive(r, "entries"), &pass, err);
        all &= pass;
    }
    if (!s) s = tc_vectors_finish(r, NULL, err);
    if (!s) cJSON_AddNumberToObject(cJSON_AddObjectToObject(r, "timings"), "seconds", tc_now_s() - t0);
    if (!s && tc_shard_on(&j->shard)) s = mark_shard(j, r, names, n, first, end, err);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    if (!s) *all_pass = all && end > first;
    if (!s && receipt) {
        *receipt = r;
        r = NULL;
    }
    cJSON_Delete(r);
    return s;
}

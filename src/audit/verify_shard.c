/* verify_shard.c -- verify's rules for the "shard" section of a shard's
 * receipt and the "merged" section of a merged one (verify_shard.h). */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/merge.h"
#include "audit/verify.h"
#include "audit/verify_shard.h"
#include "base/sha256.h"
#include "check/shard.h"
#include "receipt/receipt.h"

typedef struct sink {
    void (*report)(void *ctx, const char *line);
    void *ctx;
} sink;

static void say(const sink *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const sink *k, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    k->report(k->ctx, line);
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* A whole number in [0, 2^53] at v, else -1. */
static double whole(const cJSON *v)
{
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
        v->valuedouble != floor(v->valuedouble))
        return -1;
    return v->valuedouble;
}

/* The job and its id agree, and the job is this receipt's (kind, model). */
static void check_job(const cJSON *r, const cJSON *sec, const char *where, const sink *k)
{
    const cJSON *job = get(sec, "job");
    const char *id = cJSON_GetStringValue(get(sec, "job_id"));
    char want[TC_SHA256_HEX];
    if (!cJSON_IsObject(job) || !id) {
        say(k, "schema: %s.job and %s.job_id are required", where, where);
        return;
    }
    if (tc_json_sha256(job, want) || strcmp(want, id))
        say(k, "%s: job_id is not the SHA-256 of the job's canonical form", where);
    const char *kind = cJSON_GetStringValue(get(r, "kind")), *jk = cJSON_GetStringValue(get(job, "kind"));
    if (!kind || !jk || strcmp(kind, jk)) say(k, "%s: job.kind is %s, the receipt's kind %s", where, jk ? jk : "?", kind ? kind : "?");
    const char *ms = cJSON_GetStringValue(tc_audit_at(r, "model.sha256"));
    const char *js = cJSON_GetStringValue(get(job, "model_sha256"));
    if (ms && (!js || strcmp(ms, js))) say(k, "%s: job.model_sha256 is not the receipt's model.sha256", where);
}

/* A shard's receipt: its range is shard index of count over units, and
 * its unit array holds that many entries. */
static void check_shard(const cJSON *r, const sink *k)
{
    const cJSON *sh = get(r, "shard");
    double idx = whole(get(sh, "index")), cnt = whole(get(sh, "count")), units = whole(get(sh, "units"));
    double first = whole(get(sh, "first")), end = whole(get(sh, "end"));
    if (idx < 0 || cnt < 1 || idx >= cnt || units < cnt || first < 0 || end < 0 || !cJSON_IsString(get(sh, "unit"))) {
        say(k, "schema: shard: expected index < count <= units, first, end and unit");
        return;
    }
    check_job(r, sh, "shard", k);
    uint64_t f, e;
    tc_shard_bounds((uint64_t)idx, (uint64_t)cnt, (uint64_t)units, &f, &e);
    if (first != (double)f || end != (double)e)
        say(k, "shard: shard %g of %g over %g units holds [%" PRIu64 ", %" PRIu64 "), not [%g, %g)", idx, cnt, units,
            f, e, first, end);
    const char *up = tc_merge_units_path(cJSON_GetStringValue(get(r, "kind")));
    const cJSON *ua = up ? tc_audit_at(r, up) : NULL;
    if (up && (!cJSON_IsArray(ua) || (double)cJSON_GetArraySize(ua) != end - first))
        say(k, "shard: %s holds %d entries, the shard's units are [%g, %g)", up, cJSON_GetArraySize(ua), first, end);
}

/* Per engine, the merged kernel counts are the sums of the shards'. */
static void check_counts(const cJSON *r, const cJSON *shards, const sink *k)
{
    const cJSON *e, *c;
    cJSON_ArrayForEach(e, get(r, "engines")) {
        cJSON_ArrayForEach(c, get(e, "kernels")) {
            double sum = 0.0;
            const cJSON *s;
            cJSON_ArrayForEach(s, shards) {
                const double v = tc_json_figure(get(get(get(get(s, "engines"), e->string), "kernels"), c->string));
                sum += isnan(v) ? 0.0 : v;   /* a shard that never ran the kernel lists none */
            }
            if (tc_json_figure(c) != sum)
                say(k, "merged: engines.%s.kernels.%s is %g, the shards' counts add up to %g", e->string, c->string,
                    tc_json_figure(c), sum);
        }
    }
}

/* A shard receipt beside the merged one: intact, the digest the merged
 * receipt lists, of the same job and at its index. */
static void check_beside(const cJSON *entry, const char *dir, const char *job_id, int i, FILE *out, const sink *k)
{
    const char *file = cJSON_GetStringValue(get(entry, "receipt")), *dg = cJSON_GetStringValue(get(entry, "digest"));
    char rp[8300];
    snprintf(rp, sizeof rp, "%s/%s", dir, file ? file : "");
    cJSON *sr;
    if (!file || strchr(file, '/') || access(rp, R_OK) != 0 || tc_receipt_load(rp, &sr, NULL) != TC_OK) {
        if (out) fprintf(out, "  (shard %d: %s not found beside the merged receipt: its digest is listed, not checked)\n",
                         i, file ? file : "no receipt named");
        return;
    }
    const char *sdg = cJSON_GetStringValue(tc_audit_at(sr, "digest.value"));
    const char *sid = cJSON_GetStringValue(tc_audit_at(sr, "shard.job_id"));
    if (tc_receipt_check_seal(sr, NULL, NULL, NULL)) say(k, "merged: shard %d: %s fails its own digest", i, file);
    else if (!dg || !sdg || strcmp(dg, sdg)) say(k, "merged: shard %d: %s's digest is not the one listed", i, file);
    else if (!sid || !job_id || strcmp(sid, job_id)) say(k, "merged: shard %d: %s is a shard of another job", i, file);
    else if (whole(tc_audit_at(sr, "shard.index")) != i) say(k, "merged: shard %d: %s is shard %g", i, file, whole(tc_audit_at(sr, "shard.index")));
    cJSON_Delete(sr);
}

/* A merged receipt: each shard once and in order, their ranges, the
 * joined parts as long as the shards' lengths add up to, the kernel
 * counts, and the shard receipts found beside it. */
static void check_merged(const cJSON *r, const char *path, FILE *out, const sink *k)
{
    const cJSON *mg = get(r, "merged"), *shards = get(mg, "shards"), *s;
    double cnt = whole(get(mg, "count")), units = whole(get(mg, "units"));
    if (cnt < 1 || units < cnt || !cJSON_IsArray(shards) || cJSON_GetArraySize(shards) != cnt) {
        say(k, "schema: merged: expected count (>= 1) shards over units, and the shards listed");
        return;
    }
    check_job(r, mg, "merged", k);
    const char *up = tc_merge_units_path(cJSON_GetStringValue(get(r, "kind")));
    if (up && (double)cJSON_GetArraySize(tc_audit_at(r, up)) != units)
        say(k, "merged: %s holds %d entries, the job has %g units", up, cJSON_GetArraySize(tc_audit_at(r, up)), units);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    int i = 0;
    cJSON_ArrayForEach(s, shards) {
        uint64_t f, e;
        tc_shard_bounds((uint64_t)i, (uint64_t)cnt, (uint64_t)units, &f, &e);
        if (whole(get(s, "index")) != i || whole(get(s, "first")) != (double)f || whole(get(s, "end")) != (double)e)
            say(k, "merged: shards[%d]: expected shard %d holding [%" PRIu64 ", %" PRIu64 ")", i, i, f, e);
        if (!cJSON_IsString(get(s, "digest")) || strlen(cJSON_GetStringValue(get(s, "digest"))) != 64)
            say(k, "merged: shards[%d]: expected the shard receipt's digest", i);
        check_beside(s, dir, cJSON_GetStringValue(get(mg, "job_id")), i, out, k);
        i++;
    }
    /* the joined parts: each as long as the shards gave */
    const cJSON *l;
    cJSON_ArrayForEach(l, get(cJSON_GetArrayItem(shards, 0), "lengths")) {
        double sum = 0.0;
        cJSON_ArrayForEach(s, shards) sum += whole(get(get(s, "lengths"), l->string));
        if ((double)cJSON_GetArraySize(tc_audit_at(r, l->string)) != sum)
            say(k, "merged: %s holds %d entries, the shards gave %g", l->string, cJSON_GetArraySize(tc_audit_at(r, l->string)), sum);
    }
    check_counts(r, shards, k);
}

void tc_verify_shards(const cJSON *r, const char *path, FILE *out, void (*report)(void *ctx, const char *line),
                      void *ctx)
{
    const sink k = { report, ctx };
    if (get(r, "shard") && get(r, "merged")) say(&k, "schema: a receipt is a shard's or a merged one, not both");
    else if (get(r, "shard")) check_shard(r, &k);
    else if (get(r, "merged")) check_merged(r, path, out, &k);
}

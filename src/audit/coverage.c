/* coverage.c -- a compare receipt's coverage, recomputed (coverage.h). */
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "audit/coverage.h"
#include "audit/verify.h"
#include "engine/taps.h"

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

const char *tc_coverage_verdict(const cJSON *r)
{
    const cJSON *t;
    int n = 0, failed = 0;
    cJSON_ArrayForEach(t, tc_audit_at(r, "results")) {
        n++;
        failed += !cJSON_IsTrue(get(t, "pass"));
    }
    const int not_compared = cJSON_GetArraySize(tc_audit_at(r, "summary.coverage.not_compared"));
    return failed ? "fail" : n == 0 || not_compared > 0 ? "incomplete" : "pass";
}

/* Whether name matches one of the comma-separated patterns (NULL: all). */
static bool selected(const char *patterns, const char *name)
{
    if (!patterns) return true;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", patterns);
    for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
        if (fnmatch(p, name, 0) == 0) return true;
    return false;
}

/* How many times the array holds name (as a string, or as an object's
 * "tap"), through an index of it: a linear count per tap made a receipt
 * of 200k taps take minutes to verify.  With no index (out of memory),
 * nothing is counted and the caller says so. */
static int count_name(const tc_audit_index *ix, const char *name)
{
    return (int)tc_audit_index_count(ix, name);
}

/* The precision the comparison ran in: the live side's (a recording has
 * none). */
static bool ran_i2s(const cJSON *r)
{
    const char *p = cJSON_GetStringValue(tc_audit_at(r, "engines.ref.precision"));
    if (!p) p = cJSON_GetStringValue(tc_audit_at(r, "engines.cand.precision"));
    return !p || !strcmp(p, "i2s");
}

#define SAY(...) do { char line_[320]; snprintf(line_, sizeof line_, __VA_ARGS__); report(ctx, line_); } while (0)

/* The counts: compared, derived and reference taps add up. */
static void check_counts(const cJSON *r, const cJSON *cov, const tc_audit_index *ires, const tc_audit_index *inc,
                         void (*report)(void *, const char *), void *ctx)
{
    const cJSON *t, *res = tc_audit_at(r, "results"), *nc = get(cov, "not_compared");
    int n = 0, derived = 0;
    cJSON_ArrayForEach(t, res) {
        n++;
        derived += cJSON_IsTrue(get(t, "derived"));
        const char *name = cJSON_GetStringValue(get(t, "tap"));
        if (name && count_name(ires, name) > 1) SAY("coverage: %s is listed twice in results", name);
        if (name && count_name(inc, name)) SAY("coverage: %s is both compared and listed as not compared", name);
    }
    const double compared = tc_audit_num(get(cov, "compared")), der = tc_audit_num(get(cov, "derived"));
    const double total = tc_audit_num(get(cov, "reference_taps"));
    const int n_nc = cJSON_GetArraySize(nc);
    if (compared != n) SAY("coverage: compared is %g, results lists %d taps", compared, n);
    if (der != derived) SAY("coverage: derived is %g, %d results are marked derived", der, derived);
    if (total != n + n_nc)
        SAY("coverage: reference_taps is %g, but %d compared + %d not compared = %d", total, n, n_nc, n + n_nc);
    const cJSON *e;
    cJSON_ArrayForEach(e, nc) {
        const char *name = cJSON_GetStringValue(get(e, "tap"));
        if (name && count_name(inc, name) > 1) SAY("coverage: %s is listed twice as not compared", name);
        if (!cJSON_IsString(get(e, "reason"))) SAY("coverage: %s is not compared, but no reason is given", name ? name : "?");
    }
}

/* Every canonical tap of the model accounted for; nothing compared
 * outside the selection. */
static void check_canonical(const cJSON *r, const cJSON *cov, const tc_audit_index *ires, const tc_audit_index *inc,
                            void (*report)(void *, const char *), void *ctx)
{
    const char *sel = cJSON_GetStringValue(get(cov, "selection"));
    const double blocks = tc_audit_num(tc_audit_at(r, "model.hparams.blocks"));
    const cJSON *res = tc_audit_at(r, "results"), *t;
    if (!sel && tc_audit_num(get(cov, "not_selected")) != 0)
        SAY("coverage: not_selected is %g, but no selection was made", tc_audit_num(get(cov, "not_selected")));
    cJSON_ArrayForEach(t, res) {
        const char *name = cJSON_GetStringValue(get(t, "tap"));
        if (name && !selected(sel, name)) SAY("coverage: %s was compared, but the selection %s leaves it out", name, sel);
    }
    if (!(blocks >= 0 && blocks <= 65536) || blocks != floor(blocks)) {
        SAY("coverage: model.hparams.blocks %g: cannot list the model's canonical taps", blocks);
        return;
    }
    const bool q8 = ran_i2s(r);
    for (int l = -1; l < (int)blocks; l++)
        for (int id = 0; id < TC_TAP_COUNT; id++) {
            const tc_tap_def *def = tc_tap_def_of((tc_tap_id)id);
            if (def->per_layer != (l >= 0) || !tc_tap_shown((tc_tap_id)id, q8)) continue;
            char name[64];
            tc_tap_format((tc_tap_id)id, l, name, sizeof name);
            if (!selected(sel, name) || count_name(ires, name) || count_name(inc, name)) continue;
            SAY("coverage: the model's tap %s is neither compared nor listed as not compared", name);
            return;   /* one line: the rest are likely gone too */
        }
}

void tc_coverage_check(const cJSON *r, void (*report)(void *ctx, const char *line), void *ctx)
{
    const cJSON *cov = tc_audit_at(r, "summary.coverage");
    if (!cJSON_IsObject(cov)) {
        SAY("coverage: summary.coverage is missing: nothing shows which taps were compared");
        return;
    }
    tc_audit_index *ires = tc_audit_index_new(tc_audit_at(r, "results"), "tap");
    tc_audit_index *inc = tc_audit_index_new(get(cov, "not_compared"), "tap");
    if (ires && inc) {
        check_counts(r, cov, ires, inc, report, ctx);
        check_canonical(r, cov, ires, inc, report, ctx);
    } else {
        SAY("coverage: out of memory: not checked");
    }
    tc_audit_index_free(ires);
    tc_audit_index_free(inc);
}

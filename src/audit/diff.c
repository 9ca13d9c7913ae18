/* diff.c -- what changed between two receipts: one section per part of a
 * receipt (model, taps, kernels, verdicts, timings), each printing a line
 * per change and counting them. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "audit/diff.h"
#include "audit/gate.h"
#include "audit/verify.h"
#include "receipt/receipt.h"

/* The model file, by its hash. */
static int diff_model(const cJSON *a, const cJSON *b, FILE *out)
{
    const char *ma = cJSON_GetStringValue(tc_audit_at(a, "model.sha256"));
    const char *mb = cJSON_GetStringValue(tc_audit_at(b, "model.sha256"));
    if (!ma || !mb || !strcmp(ma, mb)) return 0;
    fprintf(out, "model: %.16s... -> %.16s... (different files)\n", ma, mb);
    return 1;
}

/* Per tap: error before and after, verdict flips, taps in one receipt
 * only.  *worse when a tap went from pass to fail.  Taps are found
 * through an index of each side: linear in the taps, not quadratic. */
static int diff_taps(const cJSON *a, const cJSON *b, FILE *out, bool *worse)
{
    int changes = 0;
    const cJSON *t;
    tc_audit_index *ia = tc_audit_index_new(tc_audit_at(a, "results"), "tap"),
                   *ib = tc_audit_index_new(tc_audit_at(b, "results"), "tap");
    if (!ia || !ib) {
        tc_audit_index_free(ia);
        tc_audit_index_free(ib);
        fprintf(out, "(out of memory: taps not compared)\n");
        return 1;
    }
    cJSON_ArrayForEach(t, tc_audit_at(a, "results")) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "tap"));
        if (!name) continue;
        const cJSON *u = tc_audit_index_find(ib, name);
        if (!u) {
            fprintf(out, "%-26s only in the old receipt\n", name);
            changes++;
            continue;
        }
        double ea = tc_audit_num(cJSON_GetObjectItemCaseSensitive(t, "scaled_err"));
        double eb = tc_audit_num(cJSON_GetObjectItemCaseSensitive(u, "scaled_err"));
        bool pa = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "pass"));
        bool pb = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "pass"));
        const char *ha = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "sha256_cand"));
        const char *hb = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(u, "sha256_cand"));
        bool same_bits = ha && hb && !strcmp(ha, hb);
        if (pa != pb || ea != eb || !same_bits) {
            fprintf(out, "%-26s scaled_err %.3g -> %.3g%s%s\n", name, ea, eb,
                    pa == pb ? (eb > ea ? "  (grew)" : eb < ea ? "  (shrank)" : "  (same error, other bits)")
                             : pb ? "  FAIL -> PASS" : "  PASS -> FAIL", "");
            changes++;
            if (pa && !pb) *worse = true;
        }
    }
    cJSON_ArrayForEach(t, tc_audit_at(b, "results")) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "tap"));
        if (name && !tc_audit_index_find(ia, name)) {
            fprintf(out, "%-26s only in the new receipt\n", name);
            changes++;
        }
    }
    tc_audit_index_free(ia);
    tc_audit_index_free(ib);
    return changes;
}

/* Kernel variants that started or stopped running, on either side. */
static int diff_kernels(const cJSON *a, const cJSON *b, FILE *out)
{
    static const char *const sides[] = { "engines.ref.kernels", "engines.cand.kernels" };
    int changes = 0;
    for (int sd = 0; sd < 2; sd++) {
        const cJSON *x = tc_audit_at(a, sides[sd]), *y = tc_audit_at(b, sides[sd]), *k;
        tc_audit_index *ix = tc_audit_index_new(x, NULL), *iy = tc_audit_index_new(y, NULL);
        if (ix && iy) {
            cJSON_ArrayForEach(k, x) if (!tc_audit_index_find(iy, k->string)) {
                fprintf(out, "%s: %s no longer runs\n", sides[sd], k->string);
                changes++;
            }
            cJSON_ArrayForEach(k, y) if (!tc_audit_index_find(ix, k->string)) {
                fprintf(out, "%s: %s now runs (%g calls)\n", sides[sd], k->string, tc_audit_num(k));
                changes++;
            }
        }
        tc_audit_index_free(ix);
        tc_audit_index_free(iy);
    }
    return changes;
}

/* The coverage: how many reference taps were compared, and which taps
 * became (or stopped being) not compared; *worse when fewer were. */
static int diff_coverage(const cJSON *a, const cJSON *b, FILE *out, bool *worse)
{
    const cJSON *ca = tc_audit_at(a, "summary.coverage"), *cb = tc_audit_at(b, "summary.coverage");
    if (!ca || !cb) return 0;
    int changes = 0;
    const double na = tc_audit_num(cJSON_GetObjectItemCaseSensitive(ca, "compared"));
    const double nb = tc_audit_num(cJSON_GetObjectItemCaseSensitive(cb, "compared"));
    const double ta = tc_audit_num(cJSON_GetObjectItemCaseSensitive(ca, "reference_taps"));
    const double tb = tc_audit_num(cJSON_GetObjectItemCaseSensitive(cb, "reference_taps"));
    if (na != nb || ta != tb) {
        fprintf(out, "coverage: %g of %g reference taps compared -> %g of %g\n", na, ta, nb, tb);
        changes++;
        if (nb < na || nb - tb < na - ta) *worse = true;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(cb, "not_compared")) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "tap"));
        if (name && tc_audit_tap(tc_audit_at(a, "results"), name)) {
            fprintf(out, "%-26s compared before, not compared now (%s)\n", name,
                    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "reason")));
            changes++;
        }
    }
    return changes;
}

/* The summary verdict and determinism; *worse when either got worse. */
static int diff_verdicts(const cJSON *a, const cJSON *b, FILE *out, bool *worse)
{
    int changes = 0;
    const char *va = cJSON_GetStringValue(tc_audit_at(a, "summary.verdict"));
    const char *vb = cJSON_GetStringValue(tc_audit_at(b, "summary.verdict"));
    if (va && vb && strcmp(va, vb)) {
        fprintf(out, "verdict: %s -> %s\n", va, vb);
        changes++;
        if (!strcmp(vb, "fail") || (!strcmp(va, "pass") && !strcmp(vb, "incomplete"))) *worse = true;
    }
    bool da = cJSON_IsTrue(tc_audit_at(a, "determinism.bit_identical"));
    bool db = cJSON_IsTrue(tc_audit_at(b, "determinism.bit_identical"));
    if (da != db) {
        fprintf(out, "determinism: %s -> %s\n", da ? "bit-identical" : "not bit-identical",
                db ? "bit-identical" : "not bit-identical");
        changes++;
        if (da && !db) *worse = true;
    }
    return changes;
}

/* The engines' run times, for information (not counted as changes). */
static void diff_timings(const cJSON *a, const cJSON *b, FILE *out)
{
    static const char *const times[] = { "timings.ref_seconds", "timings.cand_seconds" };
    for (int i = 0; i < 2; i++) {
        double x = tc_audit_num(tc_audit_at(a, times[i])), y = tc_audit_num(tc_audit_at(b, times[i]));
        if (x > 0 && y > 0) fprintf(out, "%s: %.3f -> %.3f (%+.1f%%)\n", times[i], x, y, 100.0 * (y - x) / x);
    }
}

tc_status tc_diff_receipts(const char *old_path, const char *new_path, bool force, FILE *out, bool *worse,
                           tc_err *err)
{
    cJSON *a, *b;
    *worse = false;
    tc_status s = tc_receipt_load(old_path, &a, err);
    if (s) return s;
    if ((s = tc_receipt_load(new_path, &b, err))) {
        cJSON_Delete(a);
        return s;
    }
    const char *ka = cJSON_GetStringValue(tc_audit_at(a, "kind")), *kb = cJSON_GetStringValue(tc_audit_at(b, "kind"));
    if (!ka || !kb || strcmp(ka, kb)) {
        s = tc_fail(err, TC_E_USAGE, "diff: %s is a %s receipt, %s a %s receipt", old_path, ka ? ka : "?", new_path,
                    kb ? kb : "?");
    } else if (tc_gate_handles(ka)) {
        s = tc_gate(a, b, force, out, worse, err);
    } else {
        int changes = diff_model(a, b, out);
        changes += diff_taps(a, b, out, worse);
        changes += diff_coverage(a, b, out, worse);
        changes += diff_kernels(a, b, out);
        changes += diff_verdicts(a, b, out, worse);
        diff_timings(a, b, out);
        if (!changes) fprintf(out, "no change in results, coverage, verdicts or kernels\n");
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
    return s;
}

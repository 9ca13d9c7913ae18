/* compare_report.c -- a comparison's results as a terminal summary, as
 * JSON, and as the receipt of kind "compare" (SPEC 4, 6). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check/compare.h"
#include "engine/q8.h"
#include "receipt/receipt.h"

/* JSON numbers cannot be Inf or NaN: those become strings. */
static cJSON *num(double v)
{
    if (isinf(v)) return cJSON_CreateString(v > 0 ? "inf" : "-inf");
    if (isnan(v)) return cJSON_CreateString("nan");
    return cJSON_CreateNumber(v);
}

/* An unrounded value, or null where that side's float input is unknown. */
static cJSON *unrounded_json(float u)
{
    return isnan(u) ? cJSON_CreateNull() : cJSON_CreateNumber(u);
}

/* Two differing codes of one element (a flip, or a divergence origin). */
static cJSON *code_json(const tc_q8_flip *f)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "position", f->pos);
    cJSON_AddNumberToObject(o, "element", f->elem);
    cJSON_AddNumberToObject(o, "ref", f->ref);
    cJSON_AddNumberToObject(o, "cand", f->cand);
    cJSON_AddItemToObject(o, "unrounded_ref", unrounded_json(f->u_ref));
    cJSON_AddItemToObject(o, "unrounded_cand", unrounded_json(f->u_cand));
    cJSON_AddNumberToObject(o, "boundary", f->boundary);
    return o;
}

static bool is_logits(const char *name)
{
    tc_tap_id id;
    int layer;
    return tc_tap_parse(name, &id, &layer) && id == TC_TAP_LOGITS;
}

static cJSON *tap_json(const tc_tap_result *t)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "tap", t->name);
    cJSON_AddNumberToObject(j, "layer", t->layer);
    cJSON_AddStringToObject(j, "kind", t->kind == TC_TAP_Q8 ? "q8" : "f32");
    if (t->derived) cJSON_AddBoolToObject(j, "derived", true);
    cJSON_AddNumberToObject(j, "width", t->width);
    cJSON_AddNumberToObject(j, "positions", t->n_pos);
    cJSON_AddItemToObject(j, "max_abs", num(t->max_abs));
    cJSON_AddItemToObject(j, "scaled_err", num(t->scaled));
    if (t->kind == TC_TAP_F32) {
        cJSON_AddItemToObject(j, "nmse", num(t->nmse));
        cJSON_AddItemToObject(j, "cosine", num(t->cosine));
        cJSON_AddNumberToObject(j, "max_ulp", t->max_ulp == UINT64_MAX ? -1.0 : (double)t->max_ulp);
        cJSON_AddNumberToObject(j, "nonfinite", (double)t->nonfinite);
    } else {
        cJSON_AddNumberToObject(j, "code_mismatches", (double)t->q8_mismatches);
        cJSON_AddNumberToObject(j, "boundary_flips", (double)t->q8_flips);
        cJSON *fl = cJSON_AddArrayToObject(j, "flips");
        for (uint32_t k = 0; k < t->n_flips_listed; k++) cJSON_AddItemToArray(fl, code_json(&t->flips[k]));
    }
    cJSON_AddNumberToObject(j, "worst_position", t->worst_pos);
    cJSON_AddNumberToObject(j, "worst_element", t->worst_elem);
    if (is_logits(t->name)) cJSON_AddNumberToObject(j, "top1_agree", t->top1_agree);
    cJSON_AddStringToObject(j, "sha256_ref", t->sha_ref);
    cJSON_AddStringToObject(j, "sha256_cand", t->sha_cand);
    cJSON_AddBoolToObject(j, "pass", t->pass);
    if (!t->pass) {
        cJSON_AddNumberToObject(j, "fail_position", t->fail_pos);
        cJSON_AddNumberToObject(j, "fail_element", t->fail_elem);
    }
    return j;
}

cJSON *tc_compare_taps_json(const tc_compare_result *res, const tc_compare_opts *o)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < res->n_taps; i++) cJSON_AddItemToArray(arr, tap_json(&res->taps[i]));
    (void)o;
    return arr;
}

cJSON *tc_compare_coverage_json(const tc_compare_result *res, const tc_compare_opts *o)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "rule", "every tap of the reference, and every canonical tap of the model (SPEC 3.1) "
                                       "in its precision, is compared (directly or from derived codes) or listed "
                                       "here with the reason; a tap listed makes the verdict incomplete");
    cJSON_AddNumberToObject(c, "reference_taps", (double)(res->n_taps + res->n_not_compared));
    cJSON_AddNumberToObject(c, "compared", (double)res->n_taps);
    cJSON_AddNumberToObject(c, "derived", (double)res->n_derived);
    cJSON *nc = cJSON_AddArrayToObject(c, "not_compared");
    for (size_t i = 0; i < res->n_not_compared; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "tap", res->not_compared[i].name);
        cJSON_AddStringToObject(e, "reason", res->not_compared[i].reason);
        cJSON_AddItemToArray(nc, e);
    }
    cJSON *co = cJSON_AddArrayToObject(c, "candidate_only");
    for (size_t i = 0; i < res->n_cand_only; i++) cJSON_AddItemToArray(co, cJSON_CreateString(res->cand_only[i]));
    if (o->select) cJSON_AddStringToObject(c, "selection", o->select);
    else cJSON_AddNullToObject(c, "selection");
    cJSON_AddNumberToObject(c, "not_selected", (double)res->n_not_selected);
    return c;
}

static cJSON *divergence_json(const tc_compare_result *res)
{
    const tc_divergence *dv = &res->divergence;
    cJSON *d = cJSON_CreateObject();
    if (dv->differ) {
        cJSON *f = cJSON_AddObjectToObject(d, "first_difference");
        cJSON_AddStringToObject(f, "tap", dv->first_tap);
        cJSON_AddNumberToObject(f, "position", dv->first_pos);
        cJSON_AddNumberToObject(f, "element", dv->first_elem);
        cJSON_AddNumberToObject(f, "ulp", (double)dv->first_ulp);
    } else {
        cJSON_AddNullToObject(d, "first_difference");
    }
    if (dv->code_upstream) {
        cJSON *c = code_json(&dv->code);
        cJSON_AddStringToObject(c, "tap", dv->code_tap);
        cJSON_AddItemToObject(d, "first_code_difference", c);
    } else {
        cJSON_AddNullToObject(d, "first_code_difference");
    }
    return d;
}

/* ---- the terminal summary ---- */

static void print_tap(const tc_tap_result *t, FILE *out)
{
    fprintf(out, "%-26s scaled %9.3g  max_abs %9.3g", t->name, t->scaled, t->max_abs);
    if (t->kind == TC_TAP_Q8)
        fprintf(out, "  codes: %" PRIu64 " differ, %" PRIu64 " boundary flips%s", t->q8_mismatches, t->q8_flips,
                t->derived ? " (derived)" : "");
    else if (is_logits(t->name))
        fprintf(out, "  top-1 %" PRIu32 "/%" PRIu32, t->top1_agree, t->n_pos);
    fprintf(out, "  %s\n", t->pass ? "PASS" : "FAIL");
}

/* One line per layer (its worst tap, a failing one first), the model-wide
 * taps on their own. */
static void print_layers(const tc_compare_result *res, FILE *out)
{
    for (size_t i = 0; i < res->n_taps;) {
        const tc_tap_result *t = &res->taps[i];
        if (t->layer < 0) {
            print_tap(t, out);
            i++;
            continue;
        }
        size_t j = i, worst = i;
        for (; j < res->n_taps && res->taps[j].layer == t->layer; j++) {
            const tc_tap_result *w = &res->taps[worst], *c = &res->taps[j];
            if ((w->pass && !c->pass) || (w->pass == c->pass && c->scaled > w->scaled)) worst = j;
        }
        char label[16];
        snprintf(label, sizeof label, "blk.%d", t->layer);
        fprintf(out, "%-8s %2zu taps, worst ", label, j - i);
        print_tap(&res->taps[worst], out);
        i = j;
    }
}

static void print_coverage(const tc_compare_result *res, const tc_compare_opts *o, FILE *out)
{
    const size_t total = res->n_taps + res->n_not_compared;
    fprintf(out, "coverage: %zu of %zu reference taps compared", res->n_taps, total);
    if (res->n_derived) fprintf(out, " (%zu from derived .q8 codes)", res->n_derived);
    if (o->select) fprintf(out, "; %zu left out by --taps %s", res->n_not_selected, o->select);
    fputc('\n', out);
    for (size_t i = 0; i < res->n_not_compared; i++)
        fprintf(out, "  not compared: %s (%s)\n", res->not_compared[i].name, res->not_compared[i].reason);
    if (res->n_cand_only) {
        fprintf(out, "  the candidate also shows (the reference does not):");
        for (size_t i = 0; i < res->n_cand_only; i++) fprintf(out, " %s", res->cand_only[i]);
        fputc('\n', out);
    }
}

static void print_code(const char *side, int code, float u, double boundary, FILE *out)
{
    if (isnan(u)) fprintf(out, "%s %d (x*s unknown)", side, code);
    else fprintf(out, "%s %d (x*s %.9g, %+.3g from the boundary %.1f)", side, code, (double)u, (double)u - boundary,
                 boundary);
}

static void print_divergence(const tc_compare_result *res, FILE *out)
{
    const tc_divergence *dv = &res->divergence;
    if (!dv->differ) {
        fprintf(out, "divergence: the two runs are bit-identical at every compared tap\n");
        return;
    }
    fprintf(out, "divergence: the runs first differ at %s position %" PRIu32 " element %" PRIu32, dv->first_tap,
            dv->first_pos, dv->first_elem);
    if (dv->first_ulp) fprintf(out, " (%" PRIu64 " ulp)", dv->first_ulp);
    fputc('\n', out);
    if (res->pass) return;
    if (!dv->code_upstream) {
        fprintf(out, "divergence: no .q8 code differs upstream of the first failing tap\n");
        return;
    }
    const tc_q8_flip *f = &dv->code;
    fprintf(out, "divergence: the first code difference upstream of the failure is %s position %" PRIu32
            " element %" PRIu32 ": ", dv->code_tap, f->pos, f->elem);
    print_code("ref", f->ref, f->u_ref, f->boundary, out);
    fprintf(out, ", ");
    print_code("cand", f->cand, f->u_cand, f->boundary, out);
    fputc('\n', out);
}

void tc_compare_print(const tc_compare_result *res, const tc_compare_opts *o, FILE *out)
{
    const bool chained = o->mode == TC_COMPARE_CHAINED;
    fprintf(out, "%s comparison, tolerance %g (scaled error), %zu taps\n", chained ? "chained" : "isolated", o->tol,
            res->n_taps);
    print_layers(res, out);
    print_coverage(res, o, out);
    if (chained) print_divergence(res, out);
    if (res->deterministic >= 0)
        fprintf(out, "determinism: %s%s\n", res->deterministic ? "two runs bit-identical" : "runs differ at ",
                res->deterministic ? "" : res->first_nondeterministic);
    const size_t total = res->n_taps + res->n_not_compared;
    if (res->verdict == TC_VERDICT_PASS) {
        fprintf(out, "PASS: every tap within %g; %zu of %zu reference taps compared\n", o->tol, res->n_taps, total);
    } else if (res->verdict == TC_VERDICT_INCOMPLETE) {
        fprintf(out, "INCOMPLETE: %zu of %zu reference taps compared, %zu not compared (see above); no compared tap "
                "failed\n", res->n_taps, total, res->n_not_compared);
    } else {
        const tc_tap_result *f = &res->taps[res->first_fail];
        fprintf(out, "FAIL: first failing tap %s at position %" PRIu32 ", element %" PRIu32 " (scaled error %.3g)\n",
                f->name, f->fail_pos, f->fail_elem, f->scaled);
    }
}

/* ---- the receipt ---- */

static cJSON *side_json(const tc_compare_side *s)
{
    cJSON *e = tc_engine_describe(s->engine);
    if (e && !tc_engine_recording(s->engine)) cJSON_AddNumberToObject(e, "seconds", s->seconds);
    return e;
}

static void criteria_json(cJSON *r, const tc_compare_opts *o)
{
    cJSON *c = cJSON_AddObjectToObject(r, "criteria");
    cJSON_AddStringToObject(c, "mode", o->mode == TC_COMPARE_ISOLATED ? "isolated" : "chained");
    cJSON_AddStringToObject(c, "metric", "scaled_err = max|cand - ref| / max|ref| per position, worst over positions; "
                                         "q8 taps: codes equal except boundary flips, per-token scales within the "
                                         "tolerance");
    cJSON_AddNumberToObject(c, "tolerance", o->tol);
    cJSON_AddNumberToObject(c, "q8_margin", o->q8_margin);
    cJSON_AddStringToObject(c, "flip_rule", "two codes one apart are a boundary flip when each side's unrounded x*s "
                                            "(from its own float input) lies within q8_margin of the boundary between "
                                            "them and the two values differ; the same value rounded two ways fails");
    if (o->select) cJSON_AddStringToObject(c, "selection", o->select);
}

static void summary_json(cJSON *r, const tc_compare_result *res, const tc_compare_opts *o)
{
    cJSON *sum = cJSON_AddObjectToObject(r, "summary");
    size_t failed = 0;
    for (size_t i = 0; i < res->n_taps; i++) failed += !res->taps[i].pass;
    cJSON_AddStringToObject(sum, "verdict", tc_verdict_name(res->verdict));
    cJSON_AddNumberToObject(sum, "taps_compared", (double)res->n_taps);
    cJSON_AddNumberToObject(sum, "taps_failed", (double)failed);
    if (res->first_fail != SIZE_MAX) {
        const tc_tap_result *f = &res->taps[res->first_fail];
        cJSON *ff = cJSON_AddObjectToObject(sum, "first_failure");
        cJSON_AddStringToObject(ff, "tap", f->name);
        cJSON_AddNumberToObject(ff, "position", f->fail_pos);
        cJSON_AddNumberToObject(ff, "element", f->fail_elem);
    } else {
        cJSON_AddNullToObject(sum, "first_failure");
    }
    cJSON_AddItemToObject(sum, "coverage", tc_compare_coverage_json(res, o));
    if (o->mode == TC_COMPARE_CHAINED) cJSON_AddItemToObject(sum, "divergence", divergence_json(res));
}

tc_status tc_compare_receipt(const tc_model *m, const char *model_path, cJSON *input, const tc_compare_side *ref,
                             const tc_compare_side *cand, const tc_compare_opts *o,
                             const tc_compare_result *res, cJSON **out, tc_err *err)
{
    *out = NULL;
    cJSON *r = tc_receipt_new("compare");
    if (!r) {
        cJSON_Delete(input);
        return tc_fail(err, TC_E_NOMEM, "receipt: out of memory");
    }
    tc_status s = tc_receipt_add_model(r, m, model_path, err);
    if (s) {
        cJSON_Delete(input);
        cJSON_Delete(r);
        return s;
    }
    cJSON_AddItemToObject(r, "input", input);
    cJSON *eng = cJSON_AddObjectToObject(r, "engines");
    cJSON_AddItemToObject(eng, "ref", side_json(ref));
    cJSON_AddItemToObject(eng, "cand", side_json(cand));
    criteria_json(r, o);
    cJSON_AddItemToObject(r, "results", tc_compare_taps_json(res, o));
    summary_json(r, res, o);
    cJSON *d = cJSON_AddObjectToObject(r, "determinism");
    cJSON_AddBoolToObject(d, "measured", res->deterministic >= 0);
    if (res->deterministic >= 0) {
        const tc_compare_side *live = o->live_is_ref ? ref : cand;
        cJSON_AddStringToObject(d, "engine", live->engine ? tc_engine_name(live->engine) : "");
        cJSON_AddStringToObject(d, "method", "the live engine run twice over the same input; every tap compared "
                                             "bit for bit");
        cJSON_AddBoolToObject(d, "bit_identical", res->deterministic == 1);
        if (res->deterministic == 0) cJSON_AddStringToObject(d, "first_difference", res->first_nondeterministic);
    }
    cJSON *t = cJSON_AddObjectToObject(r, "timings");
    cJSON_AddNumberToObject(t, "ref_seconds", ref->seconds);
    cJSON_AddNumberToObject(t, "cand_seconds", cand->seconds);
    *out = r;
    return TC_OK;
}

/* ---- the parts a prompt set's receipt repeats per prompt (compare_set.c) ---- */

cJSON *tc_compare_criteria_json(const tc_compare_opts *o)
{
    cJSON *t = cJSON_CreateObject();
    criteria_json(t, o);
    cJSON *c = cJSON_DetachItemFromObjectCaseSensitive(t, "criteria");
    cJSON_Delete(t);
    return c;
}

cJSON *tc_compare_summary_json(const tc_compare_result *res, const tc_compare_opts *o)
{
    cJSON *t = cJSON_CreateObject();
    summary_json(t, res, o);
    cJSON *c = cJSON_DetachItemFromObjectCaseSensitive(t, "summary");
    cJSON_Delete(t);
    return c;
}

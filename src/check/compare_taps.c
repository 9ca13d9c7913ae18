/* compare_taps.c -- two recordings compared tap by tap (SPEC 4): the
 * metrics of each tap, boundary flips, coverage, the verdict and, in
 * chained mode, where the runs began to differ. */
#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "check/compare.h"
#include "check/metrics.h"
#include "engine/q8.h"

const char *tc_verdict_name(tc_verdict v)
{
    return v == TC_VERDICT_PASS ? "pass" : v == TC_VERDICT_FAIL ? "fail" : "incomplete";
}

/* ---- one tap ---- */

static void tap_sha(const tc_dump_tap *t, char hex[TC_SHA256_HEX])
{
    const size_t n = (size_t)t->n_pos * t->width;
    tc_sha256_stream *s = tc_sha256_begin();
    if (!s) {
        hex[0] = '\0';
        return;
    }
    if (t->kind == TC_TAP_F32) {
        tc_sha256_update(s, t->f, n * sizeof(float));
    } else {
        tc_sha256_update(s, t->q8, n);
        tc_sha256_update(s, t->scale, t->n_pos * sizeof(float));
    }
    if (tc_sha256_end(s, hex)) hex[0] = '\0';
}

static void note_fail(tc_tap_result *tr, uint32_t pos, uint32_t elem)
{
    if (tr->pass || pos < tr->fail_pos) {
        tr->fail_pos = pos;
        tr->fail_elem = elem;
    }
    tr->pass = false;
}

/* Float rows: each metric's worst over positions. */
static void compare_f32(const tc_dump_tap *ref, const tc_dump_tap *cand, uint32_t n_pos, double tol,
                        bool logits, tc_tap_result *tr)
{
    tr->cosine = 1.0;
    const uint32_t w = ref->width;
    for (uint32_t p = 0; p < n_pos; p++) {
        const float *r = ref->f + (size_t)p * w, *c = cand->f + (size_t)p * w;
        tc_diff d;
        tc_diff_f32(c, r, w, &d);
        double nmse = tc_diff_nmse(&d), cosine = tc_diff_cosine(&d);
        if (d.max_abs > tr->max_abs) tr->max_abs = d.max_abs;
        if (nmse > tr->nmse) tr->nmse = nmse;
        if (cosine < tr->cosine) tr->cosine = cosine;
        if (d.max_ulp > tr->max_ulp) tr->max_ulp = d.max_ulp;
        if (d.scaled > tr->scaled || (p == 0 && d.scaled == 0.0)) {
            if (d.scaled > tr->scaled) tr->scaled = d.scaled;
            tr->worst_pos = p;
            tr->worst_elem = (uint32_t)d.worst;
        }
        uint64_t bad = 0;
        if (d.nan_cand > d.nan_ref) bad += d.nan_cand - d.nan_ref;
        if (d.inf_cand > d.inf_ref) bad += d.inf_cand - d.inf_ref;
        tr->nonfinite += bad;
        if (!(d.scaled <= tol) || bad) note_fail(tr, p, (uint32_t)d.worst);
        if (logits) tr->top1_agree += tc_argmax(r, w) == tc_argmax(c, w);
    }
}

/* The unrounded x*s of element i of row p, from float input x (NULL, or
 * of another shape: unknown, NAN). */
static float unrounded(const tc_dump_tap *x, uint32_t w, uint32_t p, uint32_t i, float s)
{
    if (!x || x->kind != TC_TAP_F32 || x->width != w || x->n_pos <= p) return NAN;
    return tc_q8_unrounded(x->f[(size_t)p * w + i], s);
}

/* Whether codes r and c, one apart, are a boundary flip: the sides'
 * unrounded values lie within margin of the boundary between the two
 * codes, and differ (a value known on one side only is judged alone).
 * The same value rounded two ways is a rounding error, never a flip. */
static bool is_flip(int r, int c, float ur, float uc, double margin, double *boundary)
{
    *boundary = (r < c ? r : c) + 0.5;
    const bool kr = !isnan(ur), kc = !isnan(uc);
    if (!kr && !kc) return false;
    if (kr && !(fabs((double)ur - *boundary) <= margin)) return false;
    if (kc && !(fabs((double)uc - *boundary) <= margin)) return false;
    return !(kr && kc && ur == uc);
}

/* The float input of each side's codes, for the flip test and the
 * divergence report. */
typedef struct q8_inputs {
    const tc_dump_tap *ref, *cand;
} q8_inputs;

/* The codes of one row: flips counted and listed, the rest mismatches
 * (failures). */
static void compare_codes(const tc_dump_tap *ref, const tc_dump_tap *cand, const q8_inputs *x, uint32_t p,
                          double margin, tc_tap_result *tr)
{
    const uint32_t w = ref->width;
    const int8_t *r = ref->q8 + (size_t)p * w, *c = cand->q8 + (size_t)p * w;
    for (uint32_t i = 0; i < w; i++) {
        const int diff = (int)c[i] - (int)r[i];
        if (diff == 0) continue;
        tc_q8_flip f = { p, i, r[i], c[i], unrounded(x->ref, w, p, i, ref->scale[p]),
                         unrounded(x->cand, w, p, i, cand->scale[p]), 0.0 };
        if ((diff == 1 || diff == -1) && is_flip(r[i], c[i], f.u_ref, f.u_cand, margin, &f.boundary)) {
            if (tr->n_flips_listed < TC_COMPARE_FLIPS_LISTED) tr->flips[tr->n_flips_listed++] = f;
            tr->q8_flips++;
        } else {
            tr->q8_mismatches++;
            note_fail(tr, p, i);
        }
    }
}

/* int8 codes, in either mode: equal, or boundary flips judged from each
 * side's own input (in chained mode both sides quantized their own
 * values, so flips are expected where those differ by a little); the
 * per-token scales within tol. */
static void compare_q8(const tc_dump_tap *ref, const tc_dump_tap *cand, const q8_inputs *x, uint32_t n_pos,
                       double tol, double margin, tc_tap_result *tr)
{
    tr->cosine = 1.0;
    for (uint32_t p = 0; p < n_pos; p++) {
        const double sr = ref->scale[p], sc = cand->scale[p], e = fabs(sc - sr);
        const double scaled = e == 0.0 ? 0.0 : sr == 0.0 ? INFINITY : e / fabs(sr);
        if (e > tr->max_abs) tr->max_abs = e;
        if (scaled > tr->scaled) {
            tr->scaled = scaled;
            tr->worst_pos = p;
        }
        if (!(scaled <= tol)) note_fail(tr, p, 0);
        compare_codes(ref, cand, x, p, margin, tr);
    }
}

/* The float tap a q8 tap's codes were quantized from (engine/taps.h). */
static const tc_dump_tap *q8_source(const tc_dump *d, const char *name)
{
    char base[64];
    if (!tc_tap_q8_source(name, base, sizeof base)) return NULL;
    const tc_dump_tap *t = tc_dump_find(d, base);
    return t && t->kind == TC_TAP_F32 ? t : NULL;
}

/* ---- execution order and selection ---- */

/* A sort key in execution order: inp_embd, then each block's taps in the
 * table's order, then output_norm and logits; other names last. */
static uint64_t exec_key(const char *name)
{
    tc_tap_id id;
    int layer;
    if (!tc_tap_parse(name, &id, &layer)) return UINT64_MAX;
    if (id == TC_TAP_INP_EMBD) return id;
    if (layer < 0) return ((uint64_t)UINT32_MAX << 8) | id;
    return ((uint64_t)(layer + 1) << 8) | id;
}

typedef struct ordered {
    const tc_dump_tap *t;
    uint64_t key;
    size_t index;   /* in the recording: ties keep its order */
} ordered;

static int cmp_ordered(const void *a, const void *b)
{
    const ordered *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* d's taps in execution order (malloc'd, *n of them). */
static ordered *in_order(const tc_dump *d, size_t *n)
{
    *n = tc_dump_n_taps(d);
    ordered *v = malloc((*n ? *n : 1) * sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < *n; i++) {
        v[i].t = tc_dump_get(d, i);
        v[i].key = exec_key(v[i].t->name);
        v[i].index = i;
    }
    qsort(v, *n, sizeof *v, cmp_ordered);
    return v;
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

/* ---- coverage ---- */

static const char *const WHY_CAND = "the candidate does not show it";
static const char *const WHY_REF = "the reference does not show it";
static const char *const WHY_NEITHER = "neither side shows it";
static const char *const WHY_SHAPE = "the two sides' shapes differ";

static bool uncover(tc_compare_result *res, const char *name, const char *why)
{
    tc_uncovered *v = realloc(res->not_compared, (res->n_not_compared + 1) * sizeof *v);
    if (!v) return false;
    res->not_compared = v;
    snprintf(v[res->n_not_compared].name, sizeof v->name, "%s", name);
    v[res->n_not_compared++].reason = why;
    return true;
}

static bool is_uncovered(const tc_compare_result *res, const char *name)
{
    for (size_t i = 0; i < res->n_not_compared; i++)
        if (!strcmp(res->not_compared[i].name, name)) return true;
    return false;
}

/* The canonical taps of the expected model the reference lacks. */
static bool expected_missing(const tc_dump *ref, const tc_dump *cand, const tc_compare_opts *o,
                             tc_compare_result *res)
{
    const tc_hparams *hp = o->expect;
    if (!hp) return true;
    for (int l = -1; l < (int)hp->n_layer; l++)
        for (int id = 0; id < TC_TAP_COUNT; id++) {
            const tc_tap_def *def = tc_tap_def_of((tc_tap_id)id);
            if (def->per_layer != (l >= 0) || !tc_tap_shown((tc_tap_id)id, o->expect_q8)) continue;
            char name[64];
            tc_tap_format((tc_tap_id)id, l, name, sizeof name);
            if (tc_dump_find(ref, name)) continue;
            if (!selected(o->select, name)) {
                res->n_not_selected++;
                continue;
            }
            if (!uncover(res, name, tc_dump_find(cand, name) ? WHY_REF : WHY_NEITHER)) return false;
        }
    return true;
}

/* Taps the candidate shows and the reference lacks (not already listed). */
static bool candidate_only(const tc_dump *ref, const tc_dump *cand, const tc_compare_opts *o, tc_compare_result *res)
{
    for (size_t i = 0; i < tc_dump_n_taps(cand); i++) {
        const char *name = tc_dump_get(cand, i)->name;
        if (tc_dump_find(ref, name) || is_uncovered(res, name) || !selected(o->select, name)) continue;
        char **v = realloc(res->cand_only, (res->n_cand_only + 1) * sizeof *v);
        if (!v) return false;
        res->cand_only = v;
        if (!(v[res->n_cand_only] = strdup(name))) return false;
        res->n_cand_only++;
    }
    return true;
}

/* ---- where chained runs began to differ ---- */

/* The first element where two rows of a tap differ in their bits:
 * position-major; false when identical. */
static bool first_difference(const tc_dump_tap *r, const tc_dump_tap *c, uint32_t n_pos, uint32_t *pos,
                             uint32_t *elem, uint64_t *ulp)
{
    const uint32_t w = r->width;
    for (uint32_t p = 0; p < n_pos; p++) {
        if (r->kind == TC_TAP_Q8 && memcmp(&r->scale[p], &c->scale[p], sizeof(float)))
            return *pos = p, *elem = 0, *ulp = 0, true;
        for (uint32_t i = 0; i < w; i++) {
            const size_t k = (size_t)p * w + i;
            const bool same = r->kind == TC_TAP_F32 ? !memcmp(&r->f[k], &c->f[k], sizeof(float)) : r->q8[k] == c->q8[k];
            if (same) continue;
            *pos = p;
            *elem = i;
            *ulp = r->kind == TC_TAP_F32 ? tc_ulp_distance(r->f[k], c->f[k]) : 0;
            return true;
        }
    }
    return false;
}

/* The first .q8 code difference that can have caused the failure at tap
 * index `failing`, position `fail_pos`: in a tap at or before it in
 * execution order, at a position no later (a position depends only on
 * itself and earlier ones); each side's own unrounded values (chained:
 * each side quantized its own input).  False when there is none. */
static bool code_origin(const tc_compare_result *res, const tc_dump_tap *const *rt, const tc_dump_tap *const *ct,
                        const tc_dump *ref, const tc_dump *cand, size_t failing, uint32_t fail_pos, tc_divergence *dv)
{
    for (size_t i = 0; i <= failing; i++) {
        const tc_dump_tap *r = rt[i], *c = ct[i];
        if (r->kind != TC_TAP_Q8) continue;
        const tc_dump_tap *xr = q8_source(ref, r->name), *xc = q8_source(cand, r->name);
        for (uint32_t p = 0; p < res->taps[i].n_pos && p <= fail_pos; p++)
            for (uint32_t e = 0; e < r->width; e++) {
                const size_t k = (size_t)p * r->width + e;
                if (r->q8[k] == c->q8[k]) continue;
                tc_q8_flip *f = &dv->code;
                *f = (tc_q8_flip){ p, e, r->q8[k], c->q8[k], unrounded(xr, r->width, p, e, r->scale[p]),
                                   unrounded(xc, r->width, p, e, c->scale[p]), 0.0 };
                f->boundary = (f->ref < f->cand ? f->ref : f->cand) + 0.5;
                snprintf(dv->code_tap, sizeof dv->code_tap, "%s", r->name);
                return true;
            }
    }
    return false;
}

/* Where chained runs began to differ: the first tap in execution order
 * that is not bit-identical, and the code difference behind the first
 * failure (the one the verdict names). */
static void divergence(tc_compare_result *res, const tc_dump_tap *const *rt, const tc_dump_tap *const *ct,
                       const tc_dump *ref, const tc_dump *cand)
{
    tc_divergence *dv = &res->divergence;
    for (size_t i = 0; i < res->n_taps && !dv->differ; i++)
        if (first_difference(rt[i], ct[i], res->taps[i].n_pos, &dv->first_pos, &dv->first_elem, &dv->first_ulp)) {
            dv->differ = true;
            snprintf(dv->first_tap, sizeof dv->first_tap, "%s", res->taps[i].name);
        }
    if (res->first_fail != SIZE_MAX)
        dv->code_upstream = code_origin(res, rt, ct, ref, cand, res->first_fail, res->taps[res->first_fail].fail_pos, dv);
}

/* ---- the two recordings ---- */

/* One compared tap into res->taps[res->n_taps++]. */
static void compare_one(const tc_dump_tap *r, const tc_dump_tap *c, const q8_inputs *x, const tc_compare_opts *o,
                        tc_compare_result *res)
{
    tc_tap_result *tr = &res->taps[res->n_taps++];
    tc_tap_id id;
    int layer = -1;
    snprintf(tr->name, sizeof tr->name, "%s", r->name);
    const bool canonical = tc_tap_parse(r->name, &id, &layer);
    tr->layer = canonical ? layer : -1;
    tr->derived = r->derived || c->derived;
    res->n_derived += tr->derived;
    tr->kind = r->kind;
    tr->width = r->width;
    tr->n_pos = r->n_pos < c->n_pos ? r->n_pos : c->n_pos;
    tr->pass = true;
    if (r->kind == TC_TAP_F32)
        compare_f32(r, c, tr->n_pos, o->tol, canonical && id == TC_TAP_LOGITS, tr);
    else
        compare_q8(r, c, x, tr->n_pos, o->tol, o->q8_margin, tr);
    tap_sha(r, tr->sha_ref);
    tap_sha(c, tr->sha_cand);
}

/* The verdict and the first failure (lowest position, then execution
 * order). */
static void decide(tc_compare_result *res)
{
    size_t failed = 0;
    res->first_fail = SIZE_MAX;
    for (size_t i = 0; i < res->n_taps; i++) {
        if (res->taps[i].pass) continue;
        failed++;
        if (res->first_fail == SIZE_MAX || res->taps[i].fail_pos < res->taps[res->first_fail].fail_pos)
            res->first_fail = i;
    }
    res->verdict = failed ? TC_VERDICT_FAIL
                   : res->n_not_compared || res->n_taps == 0 ? TC_VERDICT_INCOMPLETE : TC_VERDICT_PASS;
    res->pass = res->verdict == TC_VERDICT_PASS;
}

tc_status tc_compare_dumps(const tc_dump *mine, const tc_dump *rec, const tc_compare_opts *o,
                           tc_compare_result *res, tc_err *err)
{
    const tc_dump *ref = o->live_is_ref ? mine : rec, *cand = o->live_is_ref ? rec : mine;
    const bool isolated = o->mode == TC_COMPARE_ISOLATED;
    size_t n;
    res->deterministic = -1;   /* two recordings say nothing about it */
    ordered *v = in_order(ref, &n);
    const tc_dump_tap **rt = malloc((n ? n : 1) * sizeof *rt), **ct = malloc((n ? n : 1) * sizeof *ct);
    res->taps = calloc(n ? n : 1, sizeof *res->taps);
    bool ok = v && rt && ct && res->taps;
    for (size_t i = 0; ok && i < n; i++) {
        const tc_dump_tap *r = v[i].t, *c = tc_dump_find(cand, r->name);
        if (!selected(o->select, r->name)) {
            res->n_not_selected++;
            continue;
        }
        if (!c || c->kind != r->kind || c->width != r->width) {
            ok = uncover(res, r->name, !c ? WHY_CAND : WHY_SHAPE);
            continue;
        }
        /* the input of each side's codes: its own float tap; in isolated
         * mode the live side was fed the recording's */
        q8_inputs x = { q8_source(ref, r->name), q8_source(cand, r->name) };
        const tc_dump_tap *xrec = q8_source(rec, r->name);
        if (isolated && xrec) *(o->live_is_ref ? &x.ref : &x.cand) = xrec;
        rt[res->n_taps] = r;
        ct[res->n_taps] = c;
        compare_one(r, c, &x, o, res);
    }
    ok = ok && expected_missing(ref, cand, o, res) && candidate_only(ref, cand, o, res);
    if (ok) {
        decide(res);
        if (!isolated) divergence(res, rt, ct, ref, cand);
    }
    free(v);
    free(rt);
    free(ct);
    return ok ? TC_OK : tc_fail(err, TC_E_NOMEM, "compare: out of memory");
}

void tc_compare_result_free(tc_compare_result *res)
{
    if (!res) return;
    free(res->taps);
    free(res->not_compared);
    for (size_t i = 0; i < res->n_cand_only; i++) free(res->cand_only[i]);
    free(res->cand_only);
    memset(res, 0, sizeof *res);
}

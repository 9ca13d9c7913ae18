/* check_compare.c -- the comparator (src/compare.c) and receipt checks
 * (src/verify.c) on hand-made recordings and receipts. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/compare.h"
#include "engine/q8.h"
#include "engine/registry.h"
#include "tools/gen.h"
#include "receipt/receipt.h"
#include "testutil.h"
#include "audit/verify.h"

/* Record one float tap and one q8 tap of one position. */
static tc_dump *rec2(const float *x, uint32_t w, const int8_t *q, float scale)
{
    tc_dump *d = tc_dump_new();
    tc_err err;
    float xs[64];
    int8_t qs[64];
    memcpy(xs, x, w * sizeof *x);
    memcpy(qs, q, w);
    tc_tap f = { .name = "blk.0.ffn_norm", .layer = 0, .pos0 = 0, .n_pos = 1, .width = w, .kind = TC_TAP_F32, .f = xs };
    tc_tap c = { .name = "blk.0.ffn_norm.q8", .layer = 0, .pos0 = 0, .n_pos = 1, .width = w, .kind = TC_TAP_Q8,
                 .q8 = qs, .scale = &scale };
    ck_assert_int_eq(tc_dump_tap_fn(d, &f, &err), TC_OK);
    ck_assert_int_eq(tc_dump_tap_fn(d, &c, &err), TC_OK);
    return d;
}

/* Record one float tap and one q8 tap of one position, each side with
 * its own float input. */
static tc_dump *rec2(const float *x, uint32_t w, const int8_t *q, float scale);

/* SPEC 4: codes one apart are a boundary flip only where the two sides'
 * unrounded x*s differ and both lie within the margin of the boundary
 * between them; the same value rounded two ways is a rounding error. */
START_TEST(q8_flips_need_two_different_values_at_one_boundary)
{
    /* x*s = 68.5 exactly (s = 1) on both sides: 68 is right (half to even),
     * 69 is a rounding error, not a flip */
    float x[4] = { 68.5f, 2.385f, -3.5f, 127.0f };
    int8_t ref[4] = { 68, 2, -4, 127 }, away[4] = { 69, 2, -3, 127 };
    tc_dump *r = rec2(x, 4, ref, 1.0f), *a = rec2(x, 4, away, 1.0f);
    tc_compare_opts o;
    tc_compare_opts_default(&o);
    tc_compare_result res = { 0 };
    tc_err err;
    ck_assert_int_eq(tc_compare_dumps(a, r, &o, &res, &err), TC_OK);
    ck_assert_str_eq(res.taps[1].name, "blk.0.ffn_norm.q8");
    ck_assert_uint_eq(res.taps[1].q8_flips, 0);
    ck_assert_uint_eq(res.taps[1].q8_mismatches, 2);   /* ties rounded away from zero */
    ck_assert(!res.pass);
    ck_assert_uint_eq(res.verdict, TC_VERDICT_FAIL);
    tc_compare_result_free(&res);
    /* chained: the candidate quantized its own input, one ulp above each
     * tie; its codes are right for its values, the two values differ and
     * sit at one boundary (in isolated mode it would have been fed the
     * reference's 68.5) */
    float y[4] = { nextafterf(68.5f, 69.0f), 2.385f, nextafterf(-3.5f, 0.0f), 127.0f };
    tc_dump *c = rec2(y, 4, away, 1.0f);
    o.mode = TC_COMPARE_CHAINED;
    o.tol = 0.01;   /* chained judges the dequantized rows: one code in 127 */
    ck_assert_int_eq(tc_compare_dumps(c, r, &o, &res, &err), TC_OK);
    const tc_tap_result *t = &res.taps[1];
    ck_assert_uint_eq(t->q8_flips, 2);
    ck_assert_uint_eq(t->q8_mismatches, 0);
    ck_assert_uint_eq(t->flips[0].elem, 0);
    ck_assert_float_eq(t->flips[0].u_ref, 68.5f);
    ck_assert_float_eq(t->flips[0].u_cand, y[0]);
    ck_assert_double_eq(t->flips[0].boundary, 68.5);
    ck_assert_double_eq(t->flips[1].boundary, -3.5);
    ck_assert(t->pass);
    tc_compare_result_free(&res);
    o.mode = TC_COMPARE_ISOLATED;
    o.tol = 1e-5;
    ck_assert_int_eq(tc_compare_dumps(c, r, &o, &res, &err), TC_OK);
    ck_assert_uint_eq(res.taps[1].q8_flips, 0);        /* fed 68.5 and -3.5: rounding errors */
    ck_assert_uint_eq(res.taps[1].q8_mismatches, 2);
    tc_compare_result_free(&res);
    /* far from a boundary an off-by-one code is a mismatch, flip or not */
    int8_t bad[4] = { 68, 3, -4, 127 };
    tc_dump *b = rec2(x, 4, bad, 1.0f);
    ck_assert_int_eq(tc_compare_dumps(b, r, &o, &res, &err), TC_OK);
    ck_assert(!res.pass);
    ck_assert_uint_eq(res.taps[1].q8_mismatches, 1);
    ck_assert_uint_eq(res.taps[1].fail_elem, 1);
    ck_assert_str_eq(res.taps[res.first_fail].name, "blk.0.ffn_norm.q8");
    tc_compare_result_free(&res);
    /* a zero margin excuses only values exactly at the boundary */
    o.q8_margin = 0.0;
    o.mode = TC_COMPARE_CHAINED;
    ck_assert_int_eq(tc_compare_dumps(c, r, &o, &res, &err), TC_OK);
    ck_assert_uint_eq(res.taps[1].q8_flips, 0);
    ck_assert_uint_eq(res.taps[1].q8_mismatches, 2);
    tc_compare_result_free(&res);
    tc_dump_free(r); tc_dump_free(a); tc_dump_free(c); tc_dump_free(b);
}
END_TEST

/* Chained mode judges codes as isolated mode does: each side quantized its
 * own input, so a code two apart is a mismatch whatever the tolerance, and
 * the per-token scales must agree within it. */
START_TEST(q8_chained_judges_codes_too)
{
    float x[4] = { 68.5f, 2.385f, -3.5f, 127.0f };
    int8_t ref[4] = { 68, 2, -4, 127 }, far[4] = { 66, 2, -4, 127 };
    tc_dump *r = rec2(x, 4, ref, 1.0f), *c = rec2(x, 4, far, 1.0f), *s = rec2(x, 4, ref, 1.0f + 4e-5f);
    tc_compare_opts o;
    tc_compare_opts_default(&o);
    o.mode = TC_COMPARE_CHAINED;
    o.tol = 0.05;
    tc_compare_result res = { 0 };
    tc_err err;
    ck_assert_int_eq(tc_compare_dumps(c, r, &o, &res, &err), TC_OK);
    ck_assert(!res.taps[1].pass);
    ck_assert_uint_eq(res.taps[1].q8_mismatches, 1);
    tc_compare_result_free(&res);
    o.tol = 1e-5;   /* the same codes, a scale 4e-5 apart */
    ck_assert_int_eq(tc_compare_dumps(s, r, &o, &res, &err), TC_OK);
    ck_assert(!res.taps[1].pass);
    ck_assert_double_eq_tol(res.taps[1].scaled, 4e-5, 1e-7);
    tc_compare_result_free(&res);
    o.tol = 1e-4;
    ck_assert_int_eq(tc_compare_dumps(s, r, &o, &res, &err), TC_OK);
    ck_assert(res.taps[1].pass);
    tc_compare_result_free(&res);
    tc_dump_free(r);
    tc_dump_free(c);
    tc_dump_free(s);
}
END_TEST

/* Float metrics: the scaled error against the tolerance decides. */
START_TEST(float_tolerance_decides)
{
    float x[4] = { 2.385f, -1.0f, 0.5f, 4.0f }, y[4] = { 2.385f, -1.0f, 0.5f, 4.0f };
    int8_t q[4] = { 0 };
    tc_dump *r = rec2(x, 4, q, 1.0f);
    y[3] = 4.0f * (1.0f + 2e-5f);
    tc_dump *c = rec2(y, 4, q, 1.0f);
    tc_compare_opts o;
    tc_compare_opts_default(&o);
    tc_compare_result res = { 0 };
    tc_err err;
    ck_assert_int_eq(tc_compare_dumps(c, r, &o, &res, &err), TC_OK);
    ck_assert(!res.taps[0].pass);
    ck_assert_double_eq_tol(res.taps[0].scaled, 2e-5, 1e-7);   /* float rounding of 4(1+2e-5) */
    ck_assert_uint_eq(res.taps[0].worst_elem, 3);
    tc_compare_result_free(&res);
    o.tol = 3e-5;
    ck_assert_int_eq(tc_compare_dumps(c, r, &o, &res, &err), TC_OK);
    ck_assert(res.taps[0].pass);
    tc_compare_result_free(&res);
    y[1] = NAN;   /* a NaN where the reference has none fails whatever the tolerance */
    tc_dump *n = rec2(y, 4, q, 1.0f);
    o.tol = 1.0;
    ck_assert_int_eq(tc_compare_dumps(n, r, &o, &res, &err), TC_OK);
    ck_assert(!res.taps[0].pass);
    ck_assert_uint_eq(res.taps[0].nonfinite, 1);
    tc_compare_result_free(&res);
    tc_dump_free(r); tc_dump_free(c); tc_dump_free(n);
}
END_TEST

/* ---- recordings of an engine, edited ---- */

/* A free run of the reference engine on model m over tokens (the first
 * n_prompt as one batch), recorded. */
static tc_dump *record_ref(const tc_model *m, int32_t **tokens, uint32_t *n, uint32_t n_prompt)
{
    tc_engine *e;
    tc_err err;
    tc_dump *d;
    ck_assert_msg(tc_engine_open("ref", m, NULL, &e, &err) == TC_OK, "%s", err.msg);
    ck_assert_msg(tc_compare_record(e, tokens, n, n_prompt, 0, &d, &err) == TC_OK, "%s", err.msg);
    tc_engine_free(e);
    return d;
}

/* A copy of d without its .q8 taps (a recording of bitnet.cpp's kind),
 * tokens included. */
static tc_dump *without_q8(const tc_dump *d)
{
    tc_dump *o = tc_dump_new();
    tc_err err;
    for (size_t i = 0; i < tc_dump_n_taps(d); i++) {
        const tc_dump_tap *t = tc_dump_get(d, i);
        if (t->kind == TC_TAP_Q8) continue;
        tc_tap tap = { .name = t->name, .n_pos = t->n_pos, .width = t->width, .kind = t->kind, .f = t->f };
        ck_assert_int_eq(tc_dump_tap_fn(o, &tap, &err), TC_OK);
    }
    size_t n;
    const int32_t *tok = tc_dump_tokens(d, &n);
    ck_assert_int_eq(tc_dump_add_tokens(o, tok, n, &err), TC_OK);
    return o;
}

/* The element of a float norm tap of d that the fewest ulps move across a
 * rounding boundary of its row's SPEC 2.2 quantization (not a row's
 * largest, so the row's scale stays), moved: its tap, position, element
 * and the ulps moved. */
static tc_dump_tap *move_across_boundary(tc_dump *d, uint32_t *pos, uint32_t *elem, int *ulps)
{
    static const char *const norms[] = { "attn_norm", "attn_sub_norm", "ffn_norm", "ffn_sub_norm" };
    tc_dump_tap *best_t = NULL;
    double best = INFINITY;
    for (size_t k = 0; k < tc_dump_n_taps(d); k++) {
        tc_dump_tap *t = (tc_dump_tap *)tc_dump_get(d, k);
        bool norm = false;
        for (int j = 0; j < 4; j++) norm |= strstr(t->name, norms[j]) && !strcmp(strstr(t->name, norms[j]), norms[j]);
        if (!norm) continue;
        for (uint32_t p = 0; p < t->n_pos; p++) {
            const float *x = t->f + (size_t)p * t->width;
            float amax = 0.0f;
            for (uint32_t i = 0; i < t->width; i++) amax = fmaxf(amax, fabsf(x[i]));
            const float s = (float)(127.0 / amax);
            for (uint32_t i = 0; i < t->width; i++) {
                const double off = fabs(tc_q8_boundary_offset(x[i] * s, NULL));
                const double step = (nextafterf(fabsf(x[i]), INFINITY) - fabsf(x[i])) * s;   /* one ulp in x*s */
                if (fabsf(x[i]) < amax && off / step < best) best = off / step, best_t = t, *pos = p, *elem = i;
            }
        }
    }
    ck_assert_ptr_nonnull(best_t);
    float *x = best_t->f + (size_t)*pos * best_t->width;
    int8_t q[8192], q2[8192];
    ck_assert_uint_le(best_t->width, 8192);
    const float s = tc_q8_quantize(x, best_t->width, q);
    const double b = floor((double)(x[*elem] * s)) + 0.5;   /* the boundary it is near */
    const float toward = (double)(x[*elem] * s) < b ? INFINITY : -INFINITY;
    for (*ulps = 1; *ulps < 1000; (*ulps)++) {
        x[*elem] = nextafterf(x[*elem], toward);
        ck_assert(tc_q8_quantize(x, best_t->width, q2) == s);   /* the row's scale is untouched */
        if (q2[*elem] != q[*elem]) return best_t;
    }
    ck_abort_msg("no rounding boundary within 1000 ulps");
    return NULL;
}

/* Recording a run while one element of one tap is set to a value (the
 * engine continues from it, as from any replaced tap). */
typedef struct nudge {
    tc_dump *d;
    const char *name;
    uint32_t pos, elem;
    float value;
} nudge;

static tc_status nudge_tap(void *user, const tc_tap *tap, tc_err *err)
{
    nudge *g = user;
    if (!strcmp(tap->name, g->name) && g->pos >= tap->pos0 && g->pos < tap->pos0 + tap->n_pos)
        tap->f[(size_t)(g->pos - tap->pos0) * tap->width + g->elem] = g->value;
    return tc_dump_tap_fn(g->d, tap, err);
}

/* Compare engine `live` against rec, isolated or chained. */
static void compare_with(const tc_model *m, const char *live, tc_dump *rec, const int32_t *tokens, uint32_t n,
                         tc_compare_mode mode, tc_compare_result *res)
{
    tc_engine *e;
    tc_err err;
    tc_compare_opts o;
    tc_compare_opts_default(&o);
    o.n_prompt = 32;
    o.determinism = false;
    o.mode = mode;
    ck_assert_int_eq(tc_engine_open(live, m, NULL, &e, &err), TC_OK);
    ck_assert_msg(tc_compare(e, rec, tokens, n, &o, res, &err) == TC_OK, "%s", err.msg);
    tc_compare_print(res, &o, stderr);
    tc_engine_free(e);
}

static size_t result_index(const tc_compare_result *res, const char *name)
{
    for (size_t i = 0; i < res->n_taps; i++)
        if (!strcmp(res->taps[i].name, name)) return i;
    ck_abort_msg("%s not compared", name);
    return SIZE_MAX;
}

/* SPEC 3.1, 4: a recording without .q8 taps gets its codes derived from
 * its float norm taps.  The reference engine is recorded while one float
 * norm value is moved a few ulps across a rounding boundary (it continues
 * from the moved value), then the .q8 taps are deleted.  Isolated: the
 * candidate is fed the moved value and its derived code, and agrees at
 * every tap.  Chained: the candidate runs free on the unmoved value, the
 * code differs by one there (a boundary flip), everything downstream
 * drifts, and the comparison names that code as where the runs began to
 * differ. */
START_TEST(derived_codes_follow_the_recording)
{
    tc_gen_opts g;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset("tiny", &g, &err), TC_OK);
    char *path = tu_temp_path(".gguf");
    ck_assert_int_eq(tc_gen_write(&g, path, &err), TC_OK);
    tc_model *m;
    ck_assert_int_eq(tc_model_load(path, &m, &err), TC_OK);
    uint32_t n = 40;   /* enough values that one lies a few ulps from a boundary */
    int32_t *tokens = malloc(n * sizeof *tokens);
    for (uint32_t i = 0; i < n; i++) tokens[i] = (int32_t)((17 * i + 3) % m->hp.n_vocab);
    /* find the value, on a plain recording */
    tc_dump *plain = record_ref(m, &tokens, &n, 32);
    uint32_t pos = 0, elem = 0;
    int ulps = 0;
    const tc_dump_tap *moved = move_across_boundary(plain, &pos, &elem, &ulps);
    char fname[64], q8name[64];
    snprintf(fname, sizeof fname, "%s", moved->name);
    snprintf(q8name, sizeof q8name, "%s.q8", moved->name);
    fprintf(stderr, "check_compare: %s position %u element %u moved %d ulp(s) across a boundary\n", fname, pos, elem,
            ulps);
    ck_assert_int_le(ulps, 16);   /* a nudge, far inside the float tolerance */
    /* record the run with the value moved, then drop the .q8 taps */
    nudge gd = { tc_dump_new(), fname, pos, elem, moved->f[(size_t)pos * moved->width + elem] };
    tc_engine *ref;
    ck_assert_int_eq(tc_engine_open("ref", m, NULL, &ref, &err), TC_OK);
    tc_engine_set_tap(ref, nudge_tap, &gd);
    ck_assert_int_eq(tc_engine_prefill(ref, tokens, 32, 0, &err), TC_OK);
    for (uint32_t i = 32; i < n; i++) ck_assert_int_eq(tc_engine_decode(ref, tokens[i], &err), TC_OK);
    ck_assert_int_eq(tc_dump_add_tokens(gd.d, tokens, n, &err), TC_OK);
    tc_engine_free(ref);
    tc_dump *rec = without_q8(gd.d);
    tc_compare_result res;
    compare_with(m, "fast", rec, tokens, n, TC_COMPARE_ISOLATED, &res);
    ck_assert_msg(res.verdict == TC_VERDICT_PASS, "isolated: %s", tc_verdict_name(res.verdict));
    ck_assert_uint_eq(res.n_derived, 4 * m->hp.n_layer);
    ck_assert_uint_eq(res.n_not_compared, 0);
    const tc_dump_tap *dq = tc_dump_find(rec, q8name), *pq = tc_dump_find(plain, q8name);
    ck_assert(dq && dq->derived);
    const size_t k = (size_t)pos * dq->width + elem;
    ck_assert_int_eq(abs(dq->q8[k] - pq->q8[k]), 1);   /* the derived code follows the moved value */
    tc_compare_result_free(&res);
    /* chained: the reference engine runs free on the unmoved value */
    compare_with(m, "ref", rec, tokens, n, TC_COMPARE_CHAINED, &res);
    ck_assert_uint_eq(res.verdict, TC_VERDICT_FAIL);
    const size_t iq = result_index(&res, q8name);
    ck_assert(res.taps[iq].pass);   /* the code itself: a boundary flip, counted, not failed */
    ck_assert_uint_eq(res.taps[iq].q8_flips, 1);
    ck_assert(res.divergence.code_upstream);
    ck_assert_str_eq(res.divergence.code_tap, q8name);
    ck_assert_uint_eq(res.divergence.code.pos, pos);
    ck_assert_uint_eq(res.divergence.code.elem, elem);
    ck_assert(!isnan(res.divergence.code.u_ref) && !isnan(res.divergence.code.u_cand));
    ck_assert_str_eq(res.divergence.first_tap, fname);   /* the moved float itself */
    tc_compare_result_free(&res);
    tc_dump_free(rec);
    /* a recording edited after the run contradicts itself: its next tap was
     * computed from the unmoved code; isolated mode finds that segment */
    tc_dump *edited = without_q8(plain);
    float *x = ((tc_dump_tap *)tc_dump_find(edited, fname))->f + (size_t)pos * moved->width + elem;
    *x = gd.value;
    compare_with(m, "fast", edited, tokens, n, TC_COMPARE_ISOLATED, &res);
    ck_assert_uint_eq(res.verdict, TC_VERDICT_FAIL);
    ck_assert(res.taps[result_index(&res, q8name)].pass);
    ck_assert_uint_eq(res.first_fail, result_index(&res, q8name) + 1);
    ck_assert_uint_eq(res.taps[res.first_fail].fail_pos, pos);
    tc_compare_result_free(&res);
    tc_dump_free(edited);
    tc_dump_free(gd.d);
    tc_dump_free(plain);
    tc_model_free(m);
    free(tokens);
    unlink(path);
    free(path);
}
END_TEST

/* Coverage (SPEC 4): a candidate that shows only some taps is INCOMPLETE,
 * whatever its compared taps say; a selection narrows what counts. */
START_TEST(coverage_decides_incomplete)
{
    tc_gen_opts g;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset("tiny", &g, &err), TC_OK);
    char *path = tu_temp_path(".gguf");
    ck_assert_int_eq(tc_gen_write(&g, path, &err), TC_OK);
    tc_model *m;
    ck_assert_int_eq(tc_model_load(path, &m, &err), TC_OK);
    uint32_t n = 4;
    int32_t *tokens = malloc(n * sizeof *tokens);
    for (uint32_t i = 0; i < n; i++) tokens[i] = (int32_t)(5 * i + 1);
    tc_dump *full = record_ref(m, &tokens, &n, 4);
    tc_dump *logits = tc_dump_new();
    const tc_dump_tap *lt = tc_dump_find(full, "logits");
    tc_tap tap = { .name = "logits", .n_pos = lt->n_pos, .width = lt->width, .kind = TC_TAP_F32, .f = lt->f };
    ck_assert_int_eq(tc_dump_tap_fn(logits, &tap, &err), TC_OK);
    tc_compare_opts o;
    tc_compare_opts_default(&o);
    o.expect = &m->hp;
    o.expect_q8 = true;
    o.live_is_ref = true;   /* full is the reference, logits the candidate */
    tc_compare_result res = { 0 };
    ck_assert_int_eq(tc_compare_dumps(full, logits, &o, &res, &err), TC_OK);
    ck_assert_uint_eq(res.verdict, TC_VERDICT_INCOMPLETE);
    ck_assert(!res.pass);
    ck_assert_uint_eq(res.n_taps, 1);
    ck_assert_uint_eq(res.n_not_compared, tc_tap_count(m->hp.n_layer, true) - 1);
    ck_assert_str_eq(res.not_compared[0].name, "inp_embd");
    tc_compare_result_free(&res);
    o.select = "logits,blk.9.*";
    ck_assert_int_eq(tc_compare_dumps(full, logits, &o, &res, &err), TC_OK);
    ck_assert_uint_eq(res.verdict, TC_VERDICT_PASS);
    ck_assert_uint_eq(res.n_not_selected, tc_tap_count(m->hp.n_layer, true) - 1);
    tc_compare_result_free(&res);
    /* the other way round: the reference lacks them, the candidate shows them */
    o.select = NULL;
    o.live_is_ref = false;
    ck_assert_int_eq(tc_compare_dumps(full, logits, &o, &res, &err), TC_OK);
    ck_assert_uint_eq(res.verdict, TC_VERDICT_INCOMPLETE);
    ck_assert_str_eq(res.not_compared[0].reason, "the reference does not show it");
    tc_compare_result_free(&res);
    /* nothing compared at all is never a pass */
    tc_dump *empty = tc_dump_new();
    o.expect = NULL;
    ck_assert_int_eq(tc_compare_dumps(empty, empty, &o, &res, &err), TC_OK);
    ck_assert_uint_eq(res.verdict, TC_VERDICT_INCOMPLETE);
    tc_compare_result_free(&res);
    tc_dump_free(empty);
    tc_dump_free(logits);
    tc_dump_free(full);
    tc_model_free(m);
    free(tokens);
    unlink(path);
    free(path);
}
END_TEST

/* A receipt whose verdict was changed and re-digested (no signature) is
 * caught by the consistency check. */
START_TEST(verify_catches_resealed_verdict)
{
    tc_gen_opts g;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset("tiny", &g, &err), TC_OK);
    char *model = tu_temp_path(".gguf"), *rpath = tu_temp_path(".json");
    ck_assert_int_eq(tc_gen_write(&g, model, &err), TC_OK);
    tc_compare_job job = { .model_path = model, .ref = "ref", .cand = "ref", .in = { .n_random = 4, .seed = 5 }, .n_gen = 2 };
    tc_engine_opts_default(&job.eng);
    tc_compare_opts_default(&job.opts);
    cJSON *r;
    bool pass, valid;
    ck_assert_msg(tc_compare_job_run(&job, NULL, &r, &pass, &err) == TC_OK, "%s", err.msg);
    ck_assert(pass);
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, rpath, &err), TC_OK);
    tc_verify_opts vo = { .model = model };
    ck_assert_int_eq(tc_verify(rpath, &vo, NULL, &valid, &err), TC_OK);
    ck_assert(valid);
    /* flip the verdict, re-digest */
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r, "summary"), "verdict", cJSON_CreateString("fail"));
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, rpath, &err), TC_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    ck_assert_int_eq(tc_verify(rpath, &vo, mem, &valid, &err), TC_OK);
    fclose(mem);
    ck_assert(!valid);
    ck_assert_ptr_nonnull(strstr(buf, "summary.verdict is \"fail\", but the results and coverage say \"pass\""));
    free(buf);
    /* a tap marked pass with an error above the tolerance */
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r, "summary"), "verdict", cJSON_CreateString("pass"));
    cJSON *t0 = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "results"), 0);
    cJSON_ReplaceItemInObject(t0, "scaled_err", cJSON_CreateNumber(0.5));
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, rpath, &err), TC_OK);
    mem = open_memstream(&buf, &len);
    ck_assert_int_eq(tc_verify(rpath, &vo, mem, &valid, &err), TC_OK);
    fclose(mem);
    ck_assert(!valid);
    ck_assert_ptr_nonnull(strstr(buf, "inp_embd: pass is true, but scaled_err 0.5"));
    free(buf);
    cJSON_Delete(r);
    unlink(model); unlink(rpath);
    free(model); free(rpath);
}
END_TEST

/* verify recomputes the coverage: a PASS whose receipt drops a compared
 * tap (counts adjusted, re-digested) names the canonical tap that is
 * neither compared nor listed; a receipt without coverage is invalid. */
START_TEST(verify_recomputes_coverage)
{
    tc_gen_opts g;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset("tiny", &g, &err), TC_OK);
    char *model = tu_temp_path(".gguf"), *rpath = tu_temp_path(".json");
    ck_assert_int_eq(tc_gen_write(&g, model, &err), TC_OK);
    tc_compare_job job = { .model_path = model, .ref = "ref", .cand = "fast", .in = { .n_random = 4, .seed = 5 },
                           .n_gen = 1 };
    tc_engine_opts_default(&job.eng);
    tc_compare_opts_default(&job.opts);
    cJSON *r;
    bool pass, valid;
    ck_assert_msg(tc_compare_job_run(&job, NULL, &r, &pass, &err) == TC_OK, "%s", err.msg);
    ck_assert(pass);
    tc_verify_opts vo = { .model = model };
    char *buf = NULL;
    size_t len = 0;
    /* drop blk.1.q from results; counts made to add up again */
    cJSON *res = cJSON_GetObjectItem(r, "results"), *t;
    int i = 0;
    cJSON_ArrayForEach(t, res) {
        if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(t, "tap")), "blk.1.q")) break;
        i++;
    }
    cJSON_DeleteItemFromArray(res, i);
    cJSON *sum = cJSON_GetObjectItem(r, "summary"), *cov = cJSON_GetObjectItem(sum, "coverage");
    const double n = cJSON_GetArraySize(res);
    cJSON_ReplaceItemInObject(sum, "taps_compared", cJSON_CreateNumber(n));
    cJSON_ReplaceItemInObject(cov, "compared", cJSON_CreateNumber(n));
    cJSON_ReplaceItemInObject(cov, "reference_taps", cJSON_CreateNumber(n));
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, rpath, &err), TC_OK);
    FILE *mem = open_memstream(&buf, &len);
    ck_assert_int_eq(tc_verify(rpath, &vo, mem, &valid, &err), TC_OK);
    fclose(mem);
    ck_assert(!valid);
    ck_assert_msg(strstr(buf, "the model's tap blk.1.q is neither compared nor listed as not compared"), "%s", buf);
    free(buf);
    /* no coverage at all */
    cJSON_DeleteItemFromObject(sum, "coverage");
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, rpath, &err), TC_OK);
    mem = open_memstream(&buf, &len);
    ck_assert_int_eq(tc_verify(rpath, &vo, mem, &valid, &err), TC_OK);
    fclose(mem);
    ck_assert(!valid);
    ck_assert_msg(strstr(buf, "summary.coverage is missing"), "%s", buf);
    free(buf);
    cJSON_Delete(r);
    unlink(model); unlink(rpath);
    free(model); free(rpath);
}
END_TEST

/* A bench receipt's derived figures must follow from its measured ones. */
START_TEST(verify_checks_bench_arithmetic)
{
    cJSON *r = tc_receipt_new("bench");
    cJSON *m = cJSON_AddObjectToObject(r, "model");
    cJSON_AddStringToObject(m, "file", "x.gguf");
    cJSON_AddNumberToObject(m, "size", 1);
    cJSON_AddStringToObject(m, "sha256", "00");
    cJSON_AddStringToObject(m, "architecture", "bitnet-b1.58");
    cJSON_AddObjectToObject(m, "hparams");
    cJSON_AddObjectToObject(m, "tensor_types");
    cJSON *b = cJSON_AddObjectToObject(r, "bench");
    cJSON_AddStringToObject(b, "engine", "fast:avx2");
    double pre = 50.0, dec = 10.0, bw = 12.0, wb = 1e9, kv = 2e7, macs = 2.385e9, ghz = 3.0, cores = 2, mpc = 64;
    cJSON *o = cJSON_AddObjectToObject(b, "prefill_tok_s");
    cJSON_AddNumberToObject(o, "median", pre);
    cJSON_AddNumberToObject(o, "min", 45.0);
    cJSON_AddNumberToObject(o, "max", 55.0);
    o = cJSON_AddObjectToObject(b, "decode_tok_s");
    cJSON_AddNumberToObject(o, "median", dec);
    cJSON_AddNumberToObject(o, "min", 9.0);
    cJSON_AddNumberToObject(o, "max", 11.0);
    double floor_tok = bw * 1e9 / (wb + kv), gmac = pre * macs / 1e9, peak = cores * ghz * mpc;
    struct { const char *k; double v; } f[] = {
        { "bandwidth_gb_s", bw }, { "weight_bytes_per_token", wb }, { "kv_bytes_per_token", kv },
        { "floor_tok_s", floor_tok }, { "decode_gb_s", dec * (wb + kv) / 1e9 }, { "decode_floor_ratio", dec / floor_tok },
        { "prefill_macs_per_token", macs }, { "prefill_gmac_s", gmac }, { "ghz", ghz }, { "cores", cores },
        { "macs_per_cycle", mpc }, { "peak_gmac_s", peak }, { "prefill_peak_ratio", gmac / peak },
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) cJSON_AddNumberToObject(b, f[i].k, f[i].v);
    char *path = tu_temp_path(".json");
    tc_err err;
    bool valid;
    tc_verify_opts vo = { 0 };
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, path, &err), TC_OK);
    ck_assert_int_eq(tc_verify(path, &vo, NULL, &valid, &err), TC_OK);
    ck_assert(valid);
    /* an inflated ratio, re-digested: the arithmetic gives it away */
    cJSON_ReplaceItemInObject(b, "decode_floor_ratio", cJSON_CreateNumber(0.95));
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, path, &err), TC_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    ck_assert_int_eq(tc_verify(path, &vo, mem, &valid, &err), TC_OK);
    fclose(mem);
    ck_assert(!valid);
    ck_assert_msg(strstr(buf, "bench.decode_floor_ratio (decode / floor) is 0.9"), "%s", buf);
    free(buf);
    /* the paired ratio is the median of its listed repeats: 0.5, 0.8, 0.6 -> 0.6 */
    cJSON_ReplaceItemInObject(b, "decode_floor_ratio", cJSON_CreateNumber(dec / floor_tok));
    const double pbw[3] = { 2.0 * (wb + kv) / 1e9 / 0.5, 2.0 * (wb + kv) / 1e9 / 0.8, 2.0 * (wb + kv) / 1e9 / 0.6 };
    const double pdec[3] = { 2.0, 2.0, 2.0 };
    cJSON *pd = cJSON_AddObjectToObject(b, "paired");
    cJSON_AddItemToObject(pd, "bandwidth_gb_s", cJSON_CreateDoubleArray(pbw, 3));
    cJSON_AddItemToObject(pd, "decode_tok_s", cJSON_CreateDoubleArray(pdec, 3));
    cJSON_AddNumberToObject(pd, "ratio_median", 0.6);
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, path, &err), TC_OK);
    ck_assert_int_eq(tc_verify(path, &vo, NULL, &valid, &err), TC_OK);
    ck_assert(valid);
    cJSON_ReplaceItemInObject(pd, "ratio_median", cJSON_CreateNumber(0.8));   /* the best repeat, not the median */
    ck_assert_int_eq(tc_receipt_seal(r, NULL, &err), TC_OK);
    ck_assert_int_eq(tc_receipt_write(r, path, &err), TC_OK);
    mem = open_memstream(&buf, &len);
    ck_assert_int_eq(tc_verify(path, &vo, mem, &valid, &err), TC_OK);
    fclose(mem);
    ck_assert(!valid);
    ck_assert_msg(strstr(buf, "bench.paired.ratio_median is 0.8"), "%s", buf);
    free(buf);
    cJSON_Delete(r);
    unlink(path);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("compare");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors");
    tcase_add_test(core, q8_flips_need_two_different_values_at_one_boundary);
    tcase_add_test(core, float_tolerance_decides);
    tcase_add_test(core, q8_chained_judges_codes_too);
    tcase_add_test(core, derived_codes_follow_the_recording);
    tcase_add_test(core, coverage_decides_incomplete);
    tcase_add_test(errors, verify_catches_resealed_verdict);
    tcase_add_test(errors, verify_recomputes_coverage);
    tcase_add_test(errors, verify_checks_bench_arithmetic);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return tu_run(s);
}

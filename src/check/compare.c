/* compare.c -- the comparator (SPEC 4): running the two sides (one
 * recorded, one live and, in isolated mode, teacher-forced), deriving the
 * .q8 taps a recording lacks, determinism, and a whole comparison job.
 * The tap-by-tap comparison is in compare_taps.c, the printout and the
 * receipt in compare_report.c. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "check/compare.h"
#include "engine/q8.h"
#include "engine/registry.h"

void tc_compare_opts_default(tc_compare_opts *o)
{
    *o = (tc_compare_opts){ .mode = TC_COMPARE_ISOLATED, .tol = 1e-5, .q8_margin = 1e-3, .n_prompt = 0,
                            .live_is_ref = false, .determinism = true };
}

/* ---- running an engine over a token sequence ---- */

/* Prefill tokens[0..n_prompt) as one batch, then the rest one at a time.
 * progress after each batch. */
static tc_status drive(tc_engine *e, const int32_t *tokens, uint32_t n, uint32_t n_prompt,
                       const tc_compare_opts *o, tc_err *err)
{
    tc_engine_reset(e);
    if (n_prompt == 0 || n_prompt > n) n_prompt = n;
    tc_status s = tc_engine_prefill(e, tokens, n_prompt, 0, err);
    if (!s && o && o->progress) o->progress(o->progress_user, n_prompt, n);
    for (uint32_t i = n_prompt; i < n && !s; i++) {
        s = tc_engine_decode(e, tokens[i], err);
        if (!s && o && o->progress) o->progress(o->progress_user, i + 1, n);
    }
    return s;
}

tc_status tc_compare_record(tc_engine *e, int32_t **tokens, uint32_t *n, uint32_t n_prompt, uint32_t n_gen,
                            tc_dump **out, tc_err *err)
{
    *out = NULL;
    if (*n == 0) return tc_fail(err, TC_E_USAGE, "compare: no tokens to run");
    tc_dump *d = tc_dump_new();
    int32_t *tok = realloc(*tokens, ((size_t)*n + n_gen) * sizeof *tok);
    if (!d || !tok) {
        tc_dump_free(d);
        return tc_fail(err, TC_E_NOMEM, "compare: out of memory");
    }
    *tokens = tok;
    tc_engine_set_tap(e, tc_dump_tap_fn, d);
    tc_status s = drive(e, tok, *n, n_prompt, NULL, err);
    /* greedy generation: each new token is decoded too, so every position
     * the comparison covers has all its taps */
    const uint32_t V = tc_engine_model(e)->hp.n_vocab;
    for (uint32_t g = 0; g < n_gen && !s; g++) {
        tok[*n] = (int32_t)tc_argmax(tc_engine_logits(e), V);
        s = tc_engine_decode(e, tok[*n], err);
        if (!s) (*n)++;
    }
    tc_engine_set_tap(e, NULL, NULL);
    if (!s) s = tc_dump_add_tokens(d, tok, *n, err);
    if (s) {
        tc_dump_free(d);
        return s;
    }
    *out = d;
    return TC_OK;
}

/* ---- the live run ---- */

typedef struct live_ctx {
    const tc_dump *rec;
    tc_dump *mine;             /* the live engine's own values, before replacement */
    bool replace;              /* isolated mode */
} live_ctx;

/* Record the live tap, check it against the recording's, and in isolated
 * mode replace it with the recording's values (a tap the recording lacks
 * is left as the engine made it: coverage will say so). */
static tc_status live_tap(void *user, const tc_tap *tap, tc_err *err)
{
    live_ctx *c = user;
    tc_status s = tc_dump_tap_fn(c->mine, tap, err);
    if (s) return s;
    const tc_dump_tap *r = tc_dump_find(c->rec, tap->name);
    if (!r) return TC_OK;
    if (r->kind != tap->kind || r->width != tap->width || (uint64_t)tap->pos0 + tap->n_pos > r->n_pos)
        return tc_fail(err, TC_E_FORMAT, "compare: tap %s: the recording holds %" PRIu32 " positions of %" PRIu32
                       " %s, the engine shows positions %" PRIu32 "..%" PRIu32 " of %" PRIu32 " %s", tap->name,
                       r->n_pos, r->width, r->kind == TC_TAP_Q8 ? "codes" : "floats", tap->pos0,
                       tap->pos0 + tap->n_pos - 1, tap->width, tap->kind == TC_TAP_Q8 ? "codes" : "floats");
    if (!c->replace) return TC_OK;
    size_t off = (size_t)tap->pos0 * tap->width, n = (size_t)tap->n_pos * tap->width;
    if (tap->kind == TC_TAP_F32) {
        memcpy(tap->f, r->f + off, n * sizeof(float));
    } else {
        memcpy(tap->q8, r->q8 + off, n);
        memcpy(tap->scale, r->scale + tap->pos0, tap->n_pos * sizeof(float));
    }
    return TC_OK;
}

static tc_status live_run(tc_engine *e, const tc_dump *rec, const int32_t *tokens, uint32_t n,
                          const tc_compare_opts *o, tc_dump **mine, tc_err *err)
{
    live_ctx c = { rec, tc_dump_new(), o->mode == TC_COMPARE_ISOLATED };
    if (!c.mine) return tc_fail(err, TC_E_NOMEM, "compare: out of memory");
    tc_engine_set_tap(e, live_tap, &c);
    tc_status s = drive(e, tokens, n, o->n_prompt, o, err);
    tc_engine_set_tap(e, NULL, NULL);
    if (s) {
        tc_dump_free(c.mine);
        return s;
    }
    *mine = c.mine;
    return TC_OK;
}

/* ---- derived .q8 taps ---- */

/* The codes of float tap t, quantized row by row, added to d as the
 * derived .q8 tap q8name. */
static tc_status derive_one(tc_dump *d, const tc_dump_tap *t, tc_tap_id q8id, int layer, tc_err *err)
{
    const size_t n = (size_t)t->n_pos * t->width;
    int8_t *q = malloc(n ? n : 1);
    float *s = malloc((t->n_pos ? t->n_pos : 1) * sizeof *s);
    char name[64];
    tc_status st = q && s ? TC_OK : tc_fail(err, TC_E_NOMEM, "compare: out of memory");
    for (uint32_t p = 0; !st && p < t->n_pos; p++)
        s[p] = tc_q8_quantize(t->f + (size_t)p * t->width, t->width, q + (size_t)p * t->width);
    tc_tap_format(q8id, layer, name, sizeof name);
    tc_tap tap = { .id = q8id, .name = name, .layer = layer, .pos0 = 0, .n_pos = t->n_pos, .width = t->width,
                   .kind = TC_TAP_Q8, .q8 = q, .scale = s };
    if (!st) st = tc_dump_tap_fn(d, &tap, err);
    if (!st) tc_dump_set_derived(d, name);
    free(q);
    free(s);
    return st;
}

tc_status tc_compare_derive_q8(tc_dump *rec, tc_err *err)
{
    const size_t n = tc_dump_n_taps(rec);   /* derived taps are appended: not revisited */
    for (size_t i = 0; i < n; i++) {
        const tc_dump_tap *t = tc_dump_get(rec, i);
        tc_tap_id id;
        int layer;
        if (t->kind != TC_TAP_F32 || !tc_tap_parse(t->name, &id, &layer)) continue;
        const tc_tap_id q8id = tc_tap_q8_of(id);
        char name[64];
        if (q8id == TC_TAP_COUNT) continue;
        tc_tap_format(q8id, layer, name, sizeof name);
        if (tc_dump_find(rec, name)) continue;
        tc_status st = derive_one(rec, t, q8id, layer, err);
        if (st) return st;
    }
    return TC_OK;
}

/* ---- the comparison ---- */

/* Whether two recordings of the same engine are the same bits, tap by
 * tap; the first tap that is not into res. */
static void same_bits(const tc_dump *a, const tc_dump *b, tc_compare_result *res)
{
    res->deterministic = tc_dump_n_taps(a) == tc_dump_n_taps(b);
    for (size_t i = 0; i < tc_dump_n_taps(a) && res->deterministic; i++) {
        const tc_dump_tap *x = tc_dump_get(a, i), *y = tc_dump_find(b, x->name);
        const size_t n = (size_t)x->n_pos * x->width;
        bool same = y && y->n_pos == x->n_pos && y->width == x->width && y->kind == x->kind;
        if (same && x->kind == TC_TAP_F32) same = !memcmp(x->f, y->f, n * sizeof(float));
        if (same && x->kind == TC_TAP_Q8)
            same = !memcmp(x->q8, y->q8, n) && !memcmp(x->scale, y->scale, x->n_pos * sizeof(float));
        if (!same) {
            res->deterministic = 0;
            snprintf(res->first_nondeterministic, sizeof res->first_nondeterministic, "%s", x->name);
        }
    }
}

tc_status tc_compare(tc_engine *live, tc_dump *rec, const int32_t *tokens, uint32_t n, const tc_compare_opts *o,
                     tc_compare_result *res, tc_err *err)
{
    memset(res, 0, sizeof *res);
    res->deterministic = -1;
    res->first_fail = SIZE_MAX;
    if (n == 0) return tc_fail(err, TC_E_USAGE, "compare: no tokens to run");
    const bool i2s = tc_engine_options(live)->precision == TC_PRECISION_I2S;
    tc_compare_opts co = *o;
    if (!co.expect) {
        co.expect = &tc_engine_model(live)->hp;
        co.expect_q8 = i2s;
    }
    tc_dump *mine = NULL, *again = NULL;
    tc_status s = i2s ? tc_compare_derive_q8(rec, err) : TC_OK;
    double t0 = tc_now_s();
    if (!s) s = live_run(live, rec, tokens, n, &co, &mine, err);
    res->seconds_live = tc_now_s() - t0;
    if (!s) s = tc_compare_dumps(mine, rec, &co, res, err);
    if (!s && co.determinism) {
        co.progress = NULL;
        s = live_run(live, rec, tokens, n, &co, &again, err);
        if (!s) same_bits(mine, again, res);
    }
    tc_dump_free(mine);
    tc_dump_free(again);
    return s;
}

/* ---- a whole job ---- */

/* Open both sides through the registry; at most one may be a recording
 * (the other runs live, teacher-forced by it).  The candidate alone gets
 * the fault injection. */
static tc_status open_sides(const tc_compare_job *j, const tc_model *m, tc_engine **ref, tc_engine **cand,
                            tc_err *err)
{
    tc_engine_opts lo = j->eng;
    lo.inject = j->inject;
    tc_status s = tc_engine_open(j->ref, m, &j->eng, ref, err);
    if (!s) s = tc_engine_open(j->cand, m, &lo, cand, err);
    if (!s && tc_engine_recording(*ref) && tc_engine_recording(*cand))
        s = tc_fail(err, TC_E_USAGE, "compare: at most one side may be a recording (dump:DIR)");
    return s;
}

/* The tokens: a recording brings its own, run as one batch; otherwise the
 * job's input, the prompt as one batch.  Describes them in input. */
static tc_status job_tokens(const tc_compare_job *j, const tc_model *m, const tc_recording_info *rec,
                            int32_t **tokens, size_t *n, tc_compare_opts *co, cJSON *input, tc_err *err)
{
    if (rec) {
        if (tc_input_count(&j->in))
            return tc_fail(err, TC_E_USAGE, "compare: a recording brings its own tokens: no --tokens, --prompt or "
                           "--random");
        if (!(*tokens = malloc(rec->n_tokens * sizeof **tokens))) return tc_fail(err, TC_E_NOMEM, "out of memory");
        memcpy(*tokens, rec->tokens, rec->n_tokens * sizeof **tokens);
        *n = rec->n_tokens;
        co->n_prompt = (uint32_t)*n;
        cJSON_AddStringToObject(input, "source", "recording");
        cJSON_AddStringToObject(input, "recording", rec->dir);
        return TC_OK;
    }
    tc_status s = tc_input_tokens(&j->in, m, tokens, n, input, err);
    if (s) return s;
    co->n_prompt = j->in.tokens && j->n_prompt ? j->n_prompt : (uint32_t)*n;
    cJSON_AddNumberToObject(input, "prompt_tokens", co->n_prompt);
    return TC_OK;
}

tc_status tc_compare_job_run(const tc_compare_job *j, FILE *summary, cJSON **receipt, bool *pass, tc_err *err)
{
    tc_compare_opts co = j->opts;
    tc_model *m = NULL;
    tc_engine *ref = NULL, *cand = NULL;
    tc_dump *rec = NULL;
    int32_t *tokens = NULL;
    size_t n_tok = 0;
    tc_compare_result res = { 0 };
    tc_compare_side ref_side = { 0 }, cand_side = { 0 };
    cJSON *input = cJSON_CreateObject();
    *pass = false;
    if (receipt) *receipt = NULL;
    tc_status s = input ? TC_OK : tc_fail(err, TC_E_NOMEM, "out of memory");
    if (!s) s = tc_model_load(j->model_path, &m, err);
    if (!s) s = open_sides(j, m, &ref, &cand, err);
    if (s) goto done;
    /* the recorded side: the reference, unless the candidate is a
     * recording; the live side is teacher-forced by it */
    co.live_is_ref = tc_engine_recording(cand) != NULL;
    tc_engine *recorded = co.live_is_ref ? cand : ref, *live = co.live_is_ref ? ref : cand;
    const tc_recording_info *ri = tc_engine_recording(recorded);
    if ((s = job_tokens(j, m, ri, &tokens, &n_tok, &co, input, err))) goto done;
    /* refused before anything runs, as bench does (not after a long run) */
    const uint32_t gen = ri || j->in.tokens ? 0 : j->n_gen, ctx = tc_engine_options(live)->n_ctx;
    if ((uint64_t)n_tok + gen > ctx) {
        s = tc_fail(err, TC_E_RANGE, "compare: %zu prompt tokens + %" PRIu32 " to generate exceed the context length %"
                    PRIu32, n_tok, gen, ctx);
        goto done;
    }
    uint32_t n = (uint32_t)n_tok;
    double t0 = tc_now_s();
    s = tc_compare_record(recorded, &tokens, &n, co.n_prompt, ri || j->in.tokens ? 0 : j->n_gen, &rec, err);
    const double rec_seconds = tc_now_s() - t0;
    if (s) goto done;
    n_tok = n;
    if (!ri) cJSON_AddNumberToObject(input, "generated_tokens", n - co.n_prompt);
    cJSON *tl = cJSON_AddArrayToObject(input, "tokens");
    for (size_t i = 0; i < n_tok; i++) cJSON_AddItemToArray(tl, cJSON_CreateNumber(tokens[i]));
    if ((s = tc_compare(live, rec, tokens, (uint32_t)n_tok, &co, &res, err))) goto done;
    tc_compare_side *live_side = co.live_is_ref ? &ref_side : &cand_side;
    tc_compare_side *rec_side = co.live_is_ref ? &cand_side : &ref_side;
    *live_side = (tc_compare_side){ .engine = live, .seconds = res.seconds_live };
    *rec_side = (tc_compare_side){ .engine = recorded, .seconds = ri ? 0.0 : rec_seconds };
    if (summary) tc_compare_print(&res, &co, summary);
    *pass = res.pass;
    if (receipt) {
        s = tc_compare_receipt(m, j->model_path, input, &ref_side, &cand_side, &co, &res, receipt, err);
        input = NULL;
    }
done:
    cJSON_Delete(input);
    tc_compare_result_free(&res);
    tc_dump_free(rec);
    tc_engine_free(cand);
    tc_engine_free(ref);
    tc_model_free(m);
    free(tokens);
    return s;
}

/* compare.c -- the comparator (SPEC 4). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "base/clock.h"
#include "base/sha256.h"
#include "check/compare.h"
#include "engine/registry.h"
#include "check/metrics.h"
#include "receipt/receipt.h"

void tc_compare_opts_default(tc_compare_opts *o)
{
    *o = (tc_compare_opts){ .mode = TC_COMPARE_ISOLATED, .tol = 1e-5, .q8_margin = 1e-3,
                            .n_prompt = 0, .live_is_ref = false, .determinism = true };
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
    tc_compare_result *res;    /* for the missing list */
} live_ctx;

static bool add_name(char ***list, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*list)[i], name)) return true;
    char **nl = realloc(*list, (*n + 1) * sizeof *nl);
    if (!nl) return false;
    *list = nl;
    if (!(nl[*n] = strdup(name))) return false;
    (*n)++;
    return true;
}

static tc_status live_tap(void *user, const tc_tap *tap, tc_err *err)
{
    live_ctx *c = user;
    tc_status s = tc_dump_tap_fn(c->mine, tap, err);
    if (s) return s;
    const tc_dump_tap *r = tc_dump_find(c->rec, tap->name);
    if (!r) {
        if (!c->res) return TC_OK;
        return add_name(&c->res->missing, &c->res->n_missing, tap->name) ? TC_OK
               : tc_fail(err, TC_E_NOMEM, "compare: out of memory");
    }
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
                          const tc_compare_opts *o, tc_compare_result *res, tc_dump **mine, tc_err *err)
{
    live_ctx c = { rec, tc_dump_new(), o->mode == TC_COMPARE_ISOLATED, res };
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

/* ---- comparing two recordings ---- */

static void sha_hex(const void *a, size_t na, const void *b, size_t nb, char hex[65])
{
    unsigned char md[32];
    unsigned int len;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, a, na);
    if (nb) EVP_DigestUpdate(ctx, b, nb);
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void tap_sha(const tc_dump_tap *t, char hex[65])
{
    size_t n = (size_t)t->n_pos * t->width;
    if (t->kind == TC_TAP_F32) sha_hex(t->f, n * sizeof(float), NULL, 0, hex);
    else sha_hex(t->q8, n, t->scale, t->n_pos * sizeof(float), hex);
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

/* int8 codes.  Isolated: equal, or off by one where the reference's
 * unrounded x*s is within margin of a rounding boundary (x: the float
 * input, may be NULL); the per-token scales within tol.  Chained: the two
 * sides quantized different inputs, so codes may differ anywhere; the
 * dequantized rows q/s are compared within tol instead (codes that differ
 * are still counted). */
static void compare_q8(const tc_dump_tap *ref, const tc_dump_tap *cand, const tc_dump_tap *x, uint32_t n_pos,
                       double tol, double margin, bool chained, tc_tap_result *tr)
{
    const uint32_t w = ref->width;
    float *dr = chained ? malloc(2 * (size_t)w * sizeof *dr) : NULL, *dc = dr ? dr + w : NULL;
    tr->cosine = 1.0;
    for (uint32_t p = 0; p < n_pos; p++) {
        const int8_t *r = ref->q8 + (size_t)p * w, *c = cand->q8 + (size_t)p * w;
        double scaled, e;
        if (dr) {
            for (uint32_t i = 0; i < w; i++) {
                dr[i] = (float)r[i] / ref->scale[p];
                dc[i] = (float)c[i] / cand->scale[p];
            }
            tc_diff d;
            tc_diff_f32(dc, dr, w, &d);
            scaled = d.scaled;
            e = d.max_abs;
        } else {
            /* the per-token scales, as float values */
            double sr = ref->scale[p], sc = cand->scale[p];
            e = fabs(sc - sr);
            scaled = e == 0.0 ? 0.0 : sr == 0.0 ? INFINITY : e / fabs(sr);
        }
        if (e > tr->max_abs) tr->max_abs = e;
        if (scaled > tr->scaled) {
            tr->scaled = scaled;
            tr->worst_pos = p;
        }
        if (!(scaled <= tol)) note_fail(tr, p, 0);
        for (uint32_t i = 0; i < w; i++) {
            int diff = (int)c[i] - (int)r[i];
            if (diff == 0) continue;
            bool flip = false;
            float u = 0.0f;
            if ((diff == 1 || diff == -1) && x && x->width == w && x->n_pos > p) {
                u = x->f[(size_t)p * w + i] * ref->scale[p];   /* a float product, as SPEC 2.2 */
                flip = fabsf(u - floorf(u) - 0.5f) <= (float)margin;
            }
            if (flip) {
                if (tr->n_flips_listed < TC_COMPARE_FLIPS_LISTED)
                    tr->flips[tr->n_flips_listed++] = (tc_q8_flip){ p, i, r[i], c[i], u };
                tr->q8_flips++;
            } else {
                tr->q8_mismatches++;
                if (!chained) note_fail(tr, p, i);
            }
        }
    }
    free(dr);
}

/* The float tap a q8 tap's codes were quantized from (engine/taps.h). */
static const tc_dump_tap *q8_input(const tc_dump *d, const char *name)
{
    char base[64];
    if (!tc_tap_q8_source(name, base, sizeof base)) return NULL;
    const tc_dump_tap *t = tc_dump_find(d, base);
    return t && t->kind == TC_TAP_F32 ? t : NULL;
}

/* The block of a canonical tap, -1 for a model-wide or unknown one. */
static int tap_layer(const char *name)
{
    tc_tap_id id;
    int l;
    return tc_tap_parse(name, &id, &l) ? l : -1;
}

/* Whether name is the canonical tap id (of any layer). */
static bool is_tap(const char *name, tc_tap_id want)
{
    tc_tap_id id;
    int l;
    return tc_tap_parse(name, &id, &l) && id == want;
}

tc_status tc_compare_dumps(const tc_dump *mine, const tc_dump *rec, const tc_compare_opts *o,
                           tc_compare_result *res, tc_err *err)
{
    const tc_dump *ref = o->live_is_ref ? mine : rec;
    res->deterministic = -1;   /* two recordings say nothing about it */
    /* the q8 boundary test uses the input the codes were made from: in
     * isolated mode the recording's (the live engine was fed it) */
    const tc_dump *xsrc = o->mode == TC_COMPARE_ISOLATED ? rec : ref;
    size_t n = tc_dump_n_taps(mine);
    res->taps = calloc(n ? n : 1, sizeof *res->taps);
    if (!res->taps) return tc_fail(err, TC_E_NOMEM, "compare: out of memory");
    for (size_t i = 0; i < n; i++) {
        const tc_dump_tap *m = tc_dump_get(mine, i), *r = tc_dump_find(rec, m->name);
        if (!r) continue;
        const tc_dump_tap *tr_ref = o->live_is_ref ? m : r, *tr_cand = o->live_is_ref ? r : m;
        tc_tap_result *tr = &res->taps[res->n_taps++];
        snprintf(tr->name, sizeof tr->name, "%s", m->name);
        tr->layer = tap_layer(m->name);
        tr->kind = m->kind;
        tr->width = m->width;
        tr->n_pos = m->n_pos < r->n_pos ? m->n_pos : r->n_pos;
        tr->pass = true;
        if (m->kind == TC_TAP_F32)
            compare_f32(tr_ref, tr_cand, tr->n_pos, o->tol, is_tap(m->name, TC_TAP_LOGITS), tr);
        else
            compare_q8(tr_ref, tr_cand, q8_input(xsrc, m->name), tr->n_pos, o->tol, o->q8_margin,
                       o->mode == TC_COMPARE_CHAINED, tr);
        tap_sha(tr_ref, tr->sha_ref);
        tap_sha(tr_cand, tr->sha_cand);
    }
    for (size_t i = 0; i < tc_dump_n_taps(rec); i++) {
        const char *name = tc_dump_get(rec, i)->name;
        if (!tc_dump_find(mine, name) && !add_name(&res->unmatched, &res->n_unmatched, name))
            return tc_fail(err, TC_E_NOMEM, "compare: out of memory");
    }
    res->pass = res->n_taps > 0;
    res->first_fail = SIZE_MAX;
    for (size_t i = 0; i < res->n_taps; i++) {
        if (res->taps[i].pass) continue;
        res->pass = false;
        if (res->first_fail == SIZE_MAX || res->taps[i].fail_pos < res->taps[res->first_fail].fail_pos)
            res->first_fail = i;
    }
    return TC_OK;
}

/* Compare two recordings of the same engine bit for bit. */
static void same_bits(const tc_dump *a, const tc_dump *b, tc_compare_result *res)
{
    res->deterministic = tc_dump_n_taps(a) == tc_dump_n_taps(b);
    for (size_t i = 0; i < tc_dump_n_taps(a) && res->deterministic; i++) {
        const tc_dump_tap *x = tc_dump_get(a, i), *y = tc_dump_find(b, x->name);
        char hx[65], hy[65];
        tap_sha(x, hx);
        if (y) tap_sha(y, hy);
        if (!y || x->n_pos != y->n_pos || strcmp(hx, hy) != 0) {
            res->deterministic = 0;
            snprintf(res->first_nondeterministic, sizeof res->first_nondeterministic, "%s", x->name);
        }
    }
}

tc_status tc_compare(tc_engine *live, const tc_dump *rec, const int32_t *tokens, uint32_t n,
                     const tc_compare_opts *o, tc_compare_result *res, tc_err *err)
{
    memset(res, 0, sizeof *res);
    res->deterministic = -1;
    res->first_fail = SIZE_MAX;
    if (n == 0) return tc_fail(err, TC_E_USAGE, "compare: no tokens to run");
    tc_dump *mine = NULL, *again = NULL;
    double t0 = tc_now_s();
    tc_status s = live_run(live, rec, tokens, n, o, res, &mine, err);
    res->seconds_live = tc_now_s() - t0;
    if (!s) s = tc_compare_dumps(mine, rec, o, res, err);
    if (!s && o->determinism) {
        tc_compare_opts quiet = *o;
        quiet.progress = NULL;
        s = live_run(live, rec, tokens, n, &quiet, NULL, &again, err);
        if (!s) same_bits(mine, again, res);
    }
    tc_dump_free(mine);
    tc_dump_free(again);
    return s;
}

void tc_compare_result_free(tc_compare_result *res)
{
    if (!res) return;
    free(res->taps);
    for (size_t i = 0; i < res->n_missing; i++) free(res->missing[i]);
    free(res->missing);
    for (size_t i = 0; i < res->n_unmatched; i++) free(res->unmatched[i]);
    free(res->unmatched);
    memset(res, 0, sizeof *res);
}

/* ---- reporting ---- */

/* JSON numbers cannot be Inf or NaN: those become strings. */
static cJSON *num(double v)
{
    if (isinf(v)) return cJSON_CreateString(v > 0 ? "inf" : "-inf");
    if (isnan(v)) return cJSON_CreateString("nan");
    return cJSON_CreateNumber(v);
}

cJSON *tc_compare_taps_json(const tc_compare_result *res, const tc_compare_opts *o)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < res->n_taps; i++) {
        const tc_tap_result *t = &res->taps[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "tap", t->name);
        cJSON_AddNumberToObject(j, "layer", t->layer);
        cJSON_AddStringToObject(j, "kind", t->kind == TC_TAP_Q8 ? "q8" : "f32");
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
            for (uint32_t k = 0; k < t->n_flips_listed; k++) {
                cJSON *f = cJSON_CreateObject();
                cJSON_AddNumberToObject(f, "position", t->flips[k].pos);
                cJSON_AddNumberToObject(f, "element", t->flips[k].elem);
                cJSON_AddNumberToObject(f, "ref", t->flips[k].ref);
                cJSON_AddNumberToObject(f, "cand", t->flips[k].cand);
                cJSON_AddNumberToObject(f, "unrounded", t->flips[k].unrounded);
                cJSON_AddItemToArray(fl, f);
            }
        }
        cJSON_AddNumberToObject(j, "worst_position", t->worst_pos);
        cJSON_AddNumberToObject(j, "worst_element", t->worst_elem);
        if (is_tap(t->name, TC_TAP_LOGITS)) cJSON_AddNumberToObject(j, "top1_agree", t->top1_agree);
        cJSON_AddStringToObject(j, "sha256_ref", t->sha_ref);
        cJSON_AddStringToObject(j, "sha256_cand", t->sha_cand);
        cJSON_AddBoolToObject(j, "pass", t->pass);
        if (!t->pass) {
            cJSON_AddNumberToObject(j, "fail_position", t->fail_pos);
            cJSON_AddNumberToObject(j, "fail_element", t->fail_elem);
        }
        cJSON_AddItemToArray(arr, j);
    }
    (void)o;
    return arr;
}

static void print_tap(const tc_tap_result *t, FILE *out)
{
    fprintf(out, "%-26s scaled %9.3g  max_abs %9.3g", t->name, t->scaled, t->max_abs);
    if (t->kind == TC_TAP_Q8)
        fprintf(out, "  codes: %" PRIu64 " differ, %" PRIu64 " boundary flips", t->q8_mismatches, t->q8_flips);
    else if (is_tap(t->name, TC_TAP_LOGITS))
        fprintf(out, "  top-1 %" PRIu32 "/%" PRIu32, t->top1_agree, t->n_pos);
    fprintf(out, "  %s\n", t->pass ? "PASS" : "FAIL");
}

void tc_compare_print(const tc_compare_result *res, const tc_compare_opts *o, FILE *out)
{
    fprintf(out, "%s comparison, tolerance %g (scaled error), %zu taps\n",
            o->mode == TC_COMPARE_ISOLATED ? "isolated" : "chained", o->tol, res->n_taps);
    for (size_t i = 0; i < res->n_taps;) {
        const tc_tap_result *t = &res->taps[i];
        if (t->layer < 0) {
            print_tap(t, out);
            i++;
            continue;
        }
        /* one line per layer: its worst tap (a failing one first) */
        size_t j = i, worst = i;
        bool all = true;
        for (; j < res->n_taps && res->taps[j].layer == t->layer; j++) {
            all &= res->taps[j].pass;
            const tc_tap_result *w = &res->taps[worst], *c = &res->taps[j];
            if ((w->pass && !c->pass) || (w->pass == c->pass && c->scaled > w->scaled)) worst = j;
        }
        char label[16];
        snprintf(label, sizeof label, "blk.%d", t->layer);
        fprintf(out, "%-8s %2zu taps, worst ", label, j - i);
        print_tap(&res->taps[worst], out);
        (void)all;
        i = j;
    }
    if (res->n_missing) {
        fprintf(out, "skipped (not in the recording):");
        for (size_t i = 0; i < res->n_missing; i++) fprintf(out, " %s", res->missing[i]);
        fprintf(out, "\n");
    }
    if (res->deterministic >= 0)
        fprintf(out, "determinism: %s%s%s\n", res->deterministic ? "two runs bit-identical" : "runs differ at ",
                res->deterministic ? "" : res->first_nondeterministic, "");
    if (res->pass) {
        fprintf(out, "PASS: every tap within %g\n", o->tol);
    } else if (res->first_fail != SIZE_MAX) {
        const tc_tap_result *f = &res->taps[res->first_fail];
        fprintf(out, "FAIL: first failing tap %s at position %" PRIu32 ", element %" PRIu32 " (scaled error %.3g)\n",
                f->name, f->fail_pos, f->fail_elem, f->scaled);
    } else {
        fprintf(out, "FAIL: no tap was compared\n");
    }
}

/* ---- the receipt ---- */

static cJSON *side_json(const tc_compare_side *s)
{
    cJSON *e = tc_engine_describe(s->engine);
    if (e && !tc_engine_recording(s->engine)) cJSON_AddNumberToObject(e, "seconds", s->seconds);
    return e;
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
    cJSON *c = cJSON_AddObjectToObject(r, "criteria");
    cJSON_AddStringToObject(c, "mode", o->mode == TC_COMPARE_ISOLATED ? "isolated" : "chained");
    cJSON_AddStringToObject(c, "metric", o->mode == TC_COMPARE_ISOLATED
                                             ? "scaled_err = max|cand - ref| / max|ref| per position, worst over "
                                               "positions; q8 taps: codes equal except boundary flips, scales within "
                                               "the tolerance"
                                             : "scaled_err = max|cand - ref| / max|ref| per position, worst over "
                                               "positions; q8 taps: the dequantized rows q/s");
    cJSON_AddNumberToObject(c, "tolerance", o->tol);
    cJSON_AddNumberToObject(c, "q8_margin", o->q8_margin);
    cJSON_AddItemToObject(r, "results", tc_compare_taps_json(res, o));
    cJSON *sum = cJSON_AddObjectToObject(r, "summary");
    size_t failed = 0;
    for (size_t i = 0; i < res->n_taps; i++) failed += !res->taps[i].pass;
    cJSON_AddStringToObject(sum, "verdict", res->pass ? "pass" : "fail");
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
    cJSON *sk = cJSON_AddArrayToObject(sum, "skipped");
    for (size_t i = 0; i < res->n_missing; i++) cJSON_AddItemToArray(sk, cJSON_CreateString(res->missing[i]));
    cJSON *um = cJSON_AddArrayToObject(sum, "unmatched");
    for (size_t i = 0; i < res->n_unmatched; i++) cJSON_AddItemToArray(um, cJSON_CreateString(res->unmatched[i]));
    cJSON *d = cJSON_AddObjectToObject(r, "determinism");
    cJSON_AddBoolToObject(d, "measured", res->deterministic >= 0);
    if (res->deterministic >= 0) {
        const tc_compare_side *live = o->live_is_ref ? ref : cand;
        cJSON_AddStringToObject(d, "engine", live->engine ? tc_engine_name(live->engine) : "");
        cJSON_AddStringToObject(d, "method", "the live engine run twice over the same input; SHA-256 of every tap");
        cJSON_AddBoolToObject(d, "bit_identical", res->deterministic == 1);
        if (res->deterministic == 0) cJSON_AddStringToObject(d, "first_difference", res->first_nondeterministic);
    }
    cJSON *t = cJSON_AddObjectToObject(r, "timings");
    cJSON_AddNumberToObject(t, "ref_seconds", ref->seconds);
    cJSON_AddNumberToObject(t, "cand_seconds", cand->seconds);
    *out = r;
    return TC_OK;
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

/* engine.c -- the engine interface: the checks every engine shares (token
 * ids, positions, context), its options, counters and taps, so that each
 * engine implements only its forward pass. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_impl.h"

/* ---- options ---- */

void tc_engine_opts_default(tc_engine_opts *o)
{
    *o = (tc_engine_opts){ .precision = TC_PRECISION_I2S, .n_threads = 1, .n_ctx = 0 };
}

const char *tc_precision_name(tc_precision p)
{
    return p == TC_PRECISION_FP32 ? "fp32" : p == TC_PRECISION_Q8K ? "q8k" : "i2s";
}

tc_status tc_precision_from_name(const char *name, tc_precision *out)
{
    if (!strcmp(name, "i2s") || !strcmp(name, "i2_s")) *out = TC_PRECISION_I2S;
    else if (!strcmp(name, "fp32") || !strcmp(name, "f32")) *out = TC_PRECISION_FP32;
    else if (!strcmp(name, "q8k") || !strcmp(name, "q8_k")) *out = TC_PRECISION_Q8K;
    else return TC_E_USAGE;
    return TC_OK;
}

/* ---- shared state ---- */

/* opts.inject ("TAP:EPS") names a tap this engine shows on this model and
 * a finite factor: checked when the engine opens, so that a misspelled
 * tap (which would perturb nothing and let the comparison pass) is an
 * error for the command line and for a receipt's rerun alike. */
static tc_status check_inject(const char *engine, const char *spec, const tc_hparams *hp, tc_precision prec,
                              tc_err *err)
{
    const char *colon = strrchr(spec, ':');
    char name[64], *end;
    tc_tap_id id;
    int layer;
    size_t len = colon ? (size_t)(colon - spec) : 0;
    if (!colon || len == 0 || len >= sizeof name)
        return tc_fail(err, TC_E_USAGE, "engine %s: inject '%.80s': expected TAP:EPS (blk.0.ffn_up:0.01)", engine, spec);
    memcpy(name, spec, len);
    name[len] = '\0';
    if (!tc_tap_parse(name, &id, &layer) || (layer >= 0 && (uint32_t)layer >= hp->n_layer) ||
        !tc_tap_shown(id, prec == TC_PRECISION_I2S))
        return tc_fail(err, TC_E_USAGE, "engine %s: inject '%.80s': no tap %s in this %s run of a %" PRIu32
                       "-block model (the canonical taps of SPEC 3.1, such as blk.0.ffn_up)", engine, spec, name,
                       tc_precision_name(prec), hp->n_layer);
    errno = 0;
    double eps = strtod(colon + 1, &end);
    if (end == colon + 1 || *end || errno || !isfinite(eps) || !isfinite(1.0 + eps))
        return tc_fail(err, TC_E_USAGE, "engine %s: inject '%.80s': '%.40s' is not a finite number", engine, spec,
                       colon + 1);
    return TC_OK;
}

tc_status tc_engine_init(tc_engine *e, const tc_engine_vtable *vt, const tc_model *m,
                         const tc_engine_opts *o, const char *const *kernel_names,
                         size_t n_kernels, tc_err *err)
{
    tc_status st_inject;
    memset(e, 0, sizeof *e);
    e->vt = vt;
    e->model = m;
    e->opts = *o;
    if (o->n_threads < 1 || o->n_threads > 1024)
        return tc_fail(err, TC_E_USAGE, "engine %s: %d threads: expected 1..1024", vt->name, o->n_threads);
    if (o->precision != TC_PRECISION_I2S && o->precision != TC_PRECISION_FP32 && o->precision != TC_PRECISION_Q8K)
        return tc_fail(err, TC_E_USAGE, "engine %s: unknown precision %d", vt->name, (int)o->precision);
    if (o->inject && (st_inject = check_inject(vt->name, o->inject, &m->hp, o->precision, err))) return st_inject;
    if (e->opts.n_ctx == 0) e->opts.n_ctx = m->hp.n_ctx;
    if (e->opts.n_ctx == 0 || e->opts.n_ctx > (1u << 24))
        return tc_fail(err, TC_E_RANGE, "engine %s: context %" PRIu32 ": expected 1..16777216", vt->name,
                       e->opts.n_ctx);
    e->logits = calloc(m->hp.n_vocab ? m->hp.n_vocab : 1, sizeof *e->logits);
    e->kernels = calloc(n_kernels ? n_kernels : 1, sizeof *e->kernels);
    if (!e->logits || !e->kernels) return tc_fail(err, TC_E_NOMEM, "engine %s: out of memory", vt->name);
    for (size_t k = 0; k < n_kernels; k++) e->kernels[k].name = kernel_names[k];
    e->n_kernels = n_kernels;
    const tc_hparams *hp = &m->hp;
    e->cfg = (tc_engine_config){ .d = hp->n_embd, .d_kv = hp->n_head_kv * hp->head_dim, .n_ff = hp->n_ff,
                                 .n_layer = hp->n_layer, .n_head = hp->n_head, .n_head_kv = hp->n_head_kv,
                                 .head_dim = hp->head_dim, .n_vocab = hp->n_vocab, .n_ctx = e->opts.n_ctx,
                                 .rope_base = hp->rope_base, .eps = hp->eps, .act = hp->act,
                                 .prec = e->opts.precision, .n_threads = e->opts.n_threads };
    return TC_OK;
}

tc_status tc_engine_new(const tc_engine_vtable *vt, void *impl, const tc_model *m, const tc_engine_opts *o,
                        const char *const *kernel_names, size_t n_kernels, tc_engine **out, tc_err *err)
{
    *out = NULL;
    tc_engine *e = impl ? calloc(1, sizeof *e) : NULL;
    if (!e) {
        if (impl && vt->free_impl) vt->free_impl(impl);
        return tc_fail(err, TC_E_NOMEM, "%s: out of memory", vt->name);
    }
    tc_status st = tc_engine_init(e, vt, m, o, kernel_names, n_kernels, err);
    e->impl = impl;
    if (st) {
        tc_engine_free(e);
        return st;
    }
    *out = e;
    return TC_OK;
}

void tc_engine_free(tc_engine *e)
{
    if (!e) return;
    if (e->vt && e->vt->free_impl) e->vt->free_impl(e->impl);
    free(e->logits);
    free(e->kernels);
    free(e);
}

const char *tc_engine_name(const tc_engine *e) { return e->vt->name; }

const char *tc_engine_weight_layout(const tc_engine *e) { return e->vt->weight_layout; }
const tc_engine_opts *tc_engine_options(const tc_engine *e) { return &e->opts; }
const tc_model *tc_engine_model(const tc_engine *e) { return e->model; }
uint32_t tc_engine_n_past(const tc_engine *e) { return e->n_past; }
const float *tc_engine_logits(const tc_engine *e) { return e->logits; }
void tc_engine_reset(tc_engine *e) { e->n_past = 0; }

void tc_engine_set_tap(tc_engine *e, tc_tap_fn fn, void *user)
{
    e->tap = fn;
    e->tap_user = user;
}

const tc_kernel_count *tc_engine_kernels(const tc_engine *e, size_t *n)
{
    *n = e->n_kernels;
    return e->kernels;
}

/* Apply opts.inject to a tap of that name (see tc_engine_opts). */
static void inject(const tc_engine *e, const tc_tap *tap)
{
    const char *spec = e->opts.inject, *colon = spec ? strrchr(spec, ':') : NULL;
    if (!colon || strlen(tap->name) != (size_t)(colon - spec) || strncmp(tap->name, spec, (size_t)(colon - spec)))
        return;
    double eps = strtod(colon + 1, NULL);
    for (uint32_t p = 0; p < tap->n_pos; p++) {
        if (tap->kind == TC_TAP_F32) {
            float *row = tap->f + (size_t)p * tap->width;
            for (uint32_t i = 0; i < tap->width; i++) row[i] = (float)((double)row[i] * (1.0 + eps));
        } else {
            int8_t *q = &tap->q8[(size_t)p * tap->width];
            *q = (int8_t)(*q >= 0 ? *q - 1 : *q + 1);   /* one step, never out of range */
        }
    }
}

tc_status tc_engine_emit(tc_engine *e, const tc_tap *tap, tc_err *err)
{
    if (!e->tap) return TC_OK;
    if (e->opts.inject) inject(e, tap);
    tc_err cb = { 0 };
    tc_status s = e->tap(e->tap_user, tap, &cb);
    if (s == TC_OK) return TC_OK;
    if (cb.msg[0]) return tc_fail(err, s, "%s", cb.msg);
    return tc_fail(err, s, "tap callback stopped the run at %s, positions %" PRIu32 "..%" PRIu32, tap->name,
                   tap->pos0, tap->pos0 + tap->n_pos - 1);
}

/* A tap of the canonical table, named and sized from it. */
static tc_status show(tc_engine *e, tc_tap_id id, int layer, uint32_t pos0, uint32_t n, float *f, int8_t *q8,
                      float *scale, tc_err *err)
{
    char name[64];
    const tc_tap_def *def = tc_tap_def_of(id);
    tc_tap_format(id, layer, name, sizeof name);
    tc_tap tap = { .id = id, .name = name, .layer = def->per_layer ? layer : -1, .pos0 = pos0, .n_pos = n,
                   .width = tc_tap_width_of(id, &e->model->hp), .kind = def->kind, .f = f, .q8 = q8,
                   .scale = scale };
    return tc_engine_emit(e, &tap, err);
}

tc_status tc_engine_show_f32(tc_engine *e, tc_tap_id id, int layer, uint32_t pos0, uint32_t n, float *data,
                             tc_err *err)
{
    return e->tap ? show(e, id, layer, pos0, n, data, NULL, NULL, err) : TC_OK;
}

tc_status tc_engine_show_q8(tc_engine *e, tc_tap_id id, int layer, uint32_t pos0, uint32_t n, int8_t *q8,
                            float *scale, tc_err *err)
{
    return e->tap ? show(e, id, layer, pos0, n, NULL, q8, scale, err) : TC_OK;
}

/* ---- running ---- */

tc_status tc_engine_prefill(tc_engine *e, const int32_t *tokens, uint32_t n, uint32_t pos0, tc_err *err)
{
    const uint32_t n_vocab = e->model->hp.n_vocab;
    if (n == 0) return tc_fail(err, TC_E_RANGE, "engine %s: empty batch", e->vt->name);
    if (pos0 > e->n_past)
        return tc_fail(err, TC_E_RANGE, "engine %s: batch at position %" PRIu32 " but the cache holds %" PRIu32,
                       e->vt->name, pos0, e->n_past);
    if ((uint64_t)pos0 + n > e->opts.n_ctx)
        return tc_fail(err, TC_E_RANGE, "%" PRIu64 " positions exceed the context length %" PRIu32,
                       (uint64_t)pos0 + n, e->opts.n_ctx);
    for (uint32_t i = 0; i < n; i++)
        if (tokens[i] < 0 || (uint32_t)tokens[i] >= n_vocab)
            return tc_fail(err, TC_E_RANGE, "token %" PRId32 " at index %" PRIu32
                           " is outside the vocabulary (0..%" PRIu32 ")", tokens[i], i, n_vocab - 1);
    e->n_past = pos0;
    tc_status s = e->vt->forward(e, tokens, n, pos0, err);
    if (s == TC_OK) e->n_past = pos0 + n;
    return s;
}

tc_status tc_engine_decode(tc_engine *e, int32_t token, tc_err *err)
{
    return tc_engine_prefill(e, &token, 1, e->n_past, err);
}

uint32_t tc_argmax(const float *x, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return (uint32_t)best;
}

const tc_recording_info *tc_engine_recording(const tc_engine *e)
{
    return e->vt->recording ? e->vt->recording(e) : NULL;
}

cJSON *tc_engine_describe(const tc_engine *e)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    const tc_recording_info *rec = tc_engine_recording(e);
    if (rec) {
        cJSON_AddStringToObject(o, "id", "dump");
        cJSON_AddStringToObject(o, "recording", rec->dir);
        if (rec->recorded_by) cJSON_AddItemToObject(o, "recorded_by", cJSON_Duplicate(rec->recorded_by, true));
        if (rec->model_sha256 && rec->model_sha256[0]) cJSON_AddStringToObject(o, "model_sha256", rec->model_sha256);
        return o;
    }
    const tc_engine_opts *eo = &e->opts;
    cJSON_AddStringToObject(o, "id", e->vt->name);
    cJSON_AddStringToObject(o, "precision", tc_precision_name(eo->precision));
    cJSON_AddNumberToObject(o, "threads", eo->n_threads);
    cJSON_AddNumberToObject(o, "context", eo->n_ctx);
    if (eo->inject) cJSON_AddStringToObject(o, "inject", eo->inject);
    if (e->vt->weight_layout) cJSON_AddStringToObject(o, "weight_layout", e->vt->weight_layout);
    cJSON *k = cJSON_AddObjectToObject(o, "kernels");
    for (size_t i = 0; i < e->n_kernels; i++)
        if (e->kernels[i].calls) cJSON_AddNumberToObject(k, e->kernels[i].name, (double)e->kernels[i].calls);
    return o;
}

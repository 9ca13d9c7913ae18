/* accuracy.c -- I2_S accuracy against an FP32 baseline (SPEC 5). */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_histogram.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "base/clock.h"
#include "base/sha256.h"
#include "check/accuracy.h"
#include "check/shard.h"
#include "engine/registry.h"
#include "format/input.h"
#include "check/metrics.h"
#include "receipt/receipt.h"

void tc_accuracy_opts_default(tc_accuracy_opts *o)
{
    *o = (tc_accuracy_opts){ .engine = "ref", .precision = TC_PRECISION_I2S,
                             .baseline_precision = TC_PRECISION_FP32, .n_threads = 1 };
    o->n_random = 256;
    o->seed = 1;
}

double tc_accuracy_gaussian_rel_rms(void)
{
    /* W = sigma z, m = sigma a with a = E|z| = sqrt(2/pi); code = sign(z)
     * where |z| > a/2, else 0.  E(z - c a)^2 = 1 - 2a E|z|1{|z|>a/2} +
     * a^2 P(|z| > a/2) = 1 - 4a phi(a/2) + 2a^2 Q(a/2). */
    double a = sqrt(2.0 / M_PI), t = a / 2.0;
    return sqrt(1.0 - 4.0 * a * gsl_ran_ugaussian_pdf(t) + 2.0 * a * a * gsl_cdf_ugaussian_Q(t));
}

/* ---- what a run captures: blk.N.out and the logits of every position ---- */

typedef struct capture {
    uint32_t n_layer, d, V, n;   /* n: positions of the chunk */
    float *out;                  /* [n_layer][n][d] */
    float *logits;               /* [n][V] */
} capture;

static tc_status capture_tap(void *user, const tc_tap *tap, tc_err *err)
{
    capture *c = user;
    const int layer = tap->layer;
    if (tap->id == TC_TAP_LOGITS && tap->width == c->V) {
        memcpy(c->logits + (size_t)tap->pos0 * c->V, tap->f, (size_t)tap->n_pos * c->V * sizeof(float));
    } else if (tap->id == TC_TAP_OUT && layer >= 0 && (uint32_t)layer < c->n_layer && tap->width == c->d) {
        memcpy(c->out + ((size_t)layer * c->n + tap->pos0) * c->d, tap->f, (size_t)tap->n_pos * c->d * sizeof(float));
    }
    (void)err;
    return TC_OK;
}

static tc_status run_chunk(tc_engine *e, const int32_t *tokens, uint32_t n, capture *c, tc_err *err)
{
    c->n = n;
    tc_engine_reset(e);
    tc_engine_set_tap(e, capture_tap, c);
    tc_status s = tc_engine_prefill(e, tokens, n, 0, err);
    tc_engine_set_tap(e, NULL, NULL);
    return s;
}

/* ---- accumulated figures ---- */

typedef struct layer_acc {
    double dot, bb, ss, err2;   /* sums over one chunk: b.s, b.b, s.s, (s-b)^2 */
} layer_acc;

/* The mergeable figures of the chunks a run covers: per position, and
 * per chunk the sums of blk.N.out (a sum over a chunk, added to the
 * others in chunk order when finished, so shards merge exactly). */
typedef struct acc {
    layer_acc *chunk_layers;           /* [n_chunks][n_layer] */
    uint32_t *chunk_positions;         /* [n_chunks] */
    size_t n_chunks;
    double *kl, *top5;                 /* [n_pos] */
    uint8_t *top1;                     /* [n_pos] 1 where the argmaxes agree */
    double *nll_base, *nll_subj;       /* [n_pred] next-token NLL */
    size_t n_pos, n_pred;
} acc;

static void add_chunk(acc *a, const capture *b, const capture *s, const int32_t *tokens, double *work)
{
    const uint32_t n = b->n, V = b->V;
    layer_acc *chunk = a->chunk_layers + a->n_chunks * b->n_layer;
    a->chunk_positions[a->n_chunks++] = n;
    for (uint32_t l = 0; l < b->n_layer; l++) {
        const float *x = b->out + (size_t)l * n * b->d, *y = s->out + (size_t)l * n * b->d;
        layer_acc *L = &chunk[l];
        *L = (layer_acc){ 0 };
        for (size_t i = 0; i < (size_t)n * b->d; i++) {
            double u = x[i], v = y[i];
            L->dot += u * v;
            L->bb += u * u;
            L->ss += v * v;
            L->err2 += (v - u) * (v - u);
        }
    }
    for (uint32_t p = 0; p < n; p++) {
        const float *lb = b->logits + (size_t)p * V, *ls = s->logits + (size_t)p * V;
        a->kl[a->n_pos] = tc_kl_logits(lb, ls, V, work);
        a->top1[a->n_pos] = tc_argmax(lb, V) == tc_argmax(ls, V);
        uint32_t tb[5], ts[5];
        size_t k = V < 5 ? V : 5, common = 0;
        tc_topk(lb, V, k, tb);
        tc_topk(ls, V, k, ts);
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++) common += tb[i] == ts[j];
        a->top5[a->n_pos] = (double)common;
        a->n_pos++;
        if (p + 1 < n) {   /* position p predicts token p + 1 */
            a->nll_base[a->n_pred] = tc_nll_logits(lb, V, (uint32_t)tokens[p + 1], work);
            a->nll_subj[a->n_pred] = tc_nll_logits(ls, V, (uint32_t)tokens[p + 1], work);
            a->n_pred++;
        }
    }
}

/* ---- weight level ---- */

/* Per linear tensor: ||W - q|| / ||W|| with W the baseline's weights and q
 * the subject's (code * m for I2_S), the subject's zero fraction and scale.
 * One row at a time. */
static tc_status weight_level(const tc_model *base, const tc_model *subj, cJSON *arr, tc_err *err)
{
    static const char *const names[] = { "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down" };
    size_t maxk = base->hp.n_embd > base->hp.n_ff ? base->hp.n_embd : base->hp.n_ff;
    float *w = malloc(maxk * sizeof *w), *q = malloc(maxk * sizeof *q);
    if (!w || !q) {
        free(w);
        free(q);
        return tc_fail(err, TC_E_NOMEM, "accuracy: out of memory");
    }
    for (uint32_t l = 0; l < base->hp.n_layer; l++) {
        const tc_weight *bw[7] = { &base->layers[l].attn_q, &base->layers[l].attn_k, &base->layers[l].attn_v,
                                   &base->layers[l].attn_output, &base->layers[l].ffn_gate, &base->layers[l].ffn_up,
                                   &base->layers[l].ffn_down };
        const tc_weight *sw[7] = { &subj->layers[l].attn_q, &subj->layers[l].attn_k, &subj->layers[l].attn_v,
                                   &subj->layers[l].attn_output, &subj->layers[l].ffn_gate, &subj->layers[l].ffn_up,
                                   &subj->layers[l].ffn_down };
        for (int k = 0; k < 7; k++) {
            double e2 = 0.0, w2 = 0.0;
            uint64_t zeros = 0;
            for (uint64_t r = 0; r < bw[k]->ne1; r++) {
                tc_weight_row(bw[k], r, w);
                tc_weight_row(sw[k], r, q);
                for (uint64_t i = 0; i < bw[k]->ne0; i++) {
                    double d = (double)w[i] - (double)q[i];
                    e2 += d * d;
                    w2 += (double)w[i] * w[i];
                    zeros += q[i] == 0.0f;
                }
            }
            double rel = w2 > 0.0 ? sqrt(e2 / w2) : 0.0;
            cJSON *o = cJSON_CreateObject();
            char name[64];
            snprintf(name, sizeof name, "blk.%" PRIu32 ".%s.weight", l, names[k]);
            cJSON_AddStringToObject(o, "tensor", name);
            cJSON_AddNumberToObject(o, "rel_rms_error", rel);
            cJSON_AddNumberToObject(o, "zero_fraction", (double)zeros / (double)(bw[k]->ne0 * bw[k]->ne1));
            cJSON_AddNumberToObject(o, "scale", sw[k]->scale);
            cJSON_AddItemToArray(arr, o);
        }
    }
    free(w);
    free(q);
    return TC_OK;
}

/* ---- the figures, derived from the receipt's per-chunk and per-position parts ---- */

/* The numbers of a JSON array as a new array of *n doubles (NULL when out
 * of memory; an empty array gives a 1-element allocation and *n = 0). */
static double *doubles_of(const cJSON *arr, size_t *n)
{
    const cJSON *v;
    double *x = malloc(((size_t)cJSON_GetArraySize(arr) + 1) * sizeof *x);
    *n = 0;
    if (!x) return NULL;
    cJSON_ArrayForEach(v, arr) x[(*n)++] = tc_json_figure(v);
    return x;
}

/* mean, median, p95, p99, max of the sorted s[n] into o. */
static void stats(cJSON *o, const double *s, size_t n)
{
    if (n == 0) return;
    cJSON_AddNumberToObject(o, "mean", gsl_stats_mean(s, 1, n));
    cJSON_AddNumberToObject(o, "median", gsl_stats_median_from_sorted_data(s, 1, n));
    cJSON_AddNumberToObject(o, "p95", gsl_stats_quantile_from_sorted_data(s, 1, n, 0.95));
    cJSON_AddNumberToObject(o, "p99", gsl_stats_quantile_from_sorted_data(s, 1, n, 0.99));
    cJSON_AddNumberToObject(o, "max", s[n - 1]);
}

/* The KL distribution as a GSL histogram: [0, 1e-10), then two bins per
 * decade up to 10, then [10, 1e300). */
static cJSON *kl_histogram(const double *kl, size_t n)
{
    enum { NB = 2 + 22 };
    double ranges[NB + 1];
    ranges[0] = 0.0;
    for (int i = 0; i <= 22; i++) ranges[1 + i] = pow(10.0, -10.0 + 0.5 * i);
    ranges[NB] = 1e300;
    gsl_histogram *h = gsl_histogram_alloc(NB);
    cJSON *o = cJSON_CreateObject();
    if (!h) return o;
    gsl_histogram_set_ranges(h, ranges, NB + 1);
    for (size_t i = 0; i < n; i++) gsl_histogram_increment(h, kl[i]);
    cJSON *e = cJSON_AddArrayToObject(o, "edges"), *c = cJSON_AddArrayToObject(o, "counts");
    for (int i = 0; i <= NB; i++) cJSON_AddItemToArray(e, cJSON_CreateNumber(ranges[i]));
    for (int i = 0; i < NB; i++) cJSON_AddItemToArray(c, cJSON_CreateNumber(gsl_histogram_get(h, (size_t)i)));
    gsl_histogram_free(h);
    return o;
}

static cJSON *numbers(const double *x, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(x[i]));
    return a;
}

static void headline(cJSON *arr, FILE *out, const char *metric, double value, const char *definition)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "metric", metric);
    cJSON_AddNumberToObject(o, "value", value);
    cJSON_AddStringToObject(o, "definition", definition);
    cJSON_AddItemToArray(arr, o);
    if (out) fprintf(out, "%-34s %-12.6g %s\n", metric, value, definition);
}

/* Put item under key in r, in the place of an earlier one if any. */
static void set_part(cJSON *r, const char *key, cJSON *item)
{
    if (cJSON_GetObjectItemCaseSensitive(r, key)) cJSON_ReplaceItemInObjectCaseSensitive(r, key, item);
    else cJSON_AddItemToObject(r, key, item);
}

/* Per layer: cosine and NMSE of blk.N.out from the per-chunk sums, added
 * in chunk order; the smallest cosine (1 without layers). */
static double finish_layers(cJSON *r)
{
    const cJSON *chunks = cJSON_GetObjectItemCaseSensitive(r, "per_chunk"), *c;
    const int L = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(chunks, 0), "blk_out"));
    cJSON *pl = cJSON_CreateArray();
    double min_cos = 1.0;
    for (int l = 0; l < L; l++) {
        layer_acc y = { 0 };
        cJSON_ArrayForEach(c, chunks) {
            const cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "blk_out"), l);
            y.dot += tc_json_figure(cJSON_GetArrayItem(s, 0));
            y.bb += tc_json_figure(cJSON_GetArrayItem(s, 1));
            y.ss += tc_json_figure(cJSON_GetArrayItem(s, 2));
            y.err2 += tc_json_figure(cJSON_GetArrayItem(s, 3));
        }
        double cosv = y.bb > 0 && y.ss > 0 ? y.dot / sqrt(y.bb * y.ss) : (y.bb == y.ss ? 1.0 : 0.0);
        double nmse = y.bb > 0 ? y.err2 / y.bb : (y.err2 == 0 ? 0.0 : INFINITY);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "layer", l);
        cJSON_AddNumberToObject(o, "cosine", cosv);
        cJSON_AddNumberToObject(o, "nmse", isinf(nmse) ? -1.0 : nmse);
        cJSON_AddItemToArray(pl, o);
        if (cosv < min_cos) min_cos = cosv;
    }
    set_part(r, "per_layer", pl);
    return min_cos;
}

/* The mean relative RMS error of the per-tensor rows, in their order. */
static double weight_mean(const cJSON *per_tensor)
{
    const cJSON *t;
    double sum = 0.0;
    size_t n = 0;
    cJSON_ArrayForEach(t, per_tensor) {
        sum += tc_json_figure(cJSON_GetObjectItemCaseSensitive(t, "rel_rms_error"));
        n++;
    }
    return n ? sum / (double)n : 0.0;
}

/* Per position on the logits: the KL statistics and histogram, and the
 * headlines of KL, top-1, top-5 and perplexity. */
static tc_status finish_positions(cJSON *r, cJSON *heads, FILE *out)
{
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(r, "per_position");
    size_t n, n1, n5, nb_n, ns_n;
    double *kl = doubles_of(cJSON_GetObjectItemCaseSensitive(pp, "kl"), &n);
    double *t1 = doubles_of(cJSON_GetObjectItemCaseSensitive(pp, "top1_agree"), &n1);
    double *t5 = doubles_of(cJSON_GetObjectItemCaseSensitive(pp, "top5_overlap"), &n5);
    double *nb = doubles_of(cJSON_GetObjectItemCaseSensitive(pp, "nll_baseline"), &nb_n);
    double *ns = doubles_of(cJSON_GetObjectItemCaseSensitive(pp, "nll_subject"), &ns_n);
    double *sorted = malloc((n + 1) * sizeof *sorted);
    tc_status s = kl && t1 && t5 && nb && ns && sorted ? TC_OK : TC_E_NOMEM;
    if (!s) {
        double agree = 0.0, top5 = 0.0, sb = 0.0, ss = 0.0;
        for (size_t i = 0; i < n1; i++) agree += t1[i];
        for (size_t i = 0; i < n5; i++) top5 += t5[i];
        for (size_t i = 0; i < nb_n; i++) sb += nb[i];
        for (size_t i = 0; i < ns_n; i++) ss += ns[i];
        double ppl_b = nb_n ? exp(sb / (double)nb_n) : NAN, ppl_s = ns_n ? exp(ss / (double)ns_n) : NAN;
        memcpy(sorted, kl, n * sizeof *sorted);
        gsl_sort(sorted, 1, n);
        cJSON *klo = cJSON_CreateObject();
        cJSON_AddStringToObject(klo, "definition", "KL(baseline || subject) = sum_v p_b(v) (log p_b(v) - log p_s(v)) "
                                                   "from the two logit rows of a position, in double, nats");
        stats(klo, sorted, n);
        cJSON_AddItemToObject(klo, "histogram", kl_histogram(kl, n));
        set_part(r, "kl", klo);
        headline(heads, out, "kl_mean_nats", gsl_stats_mean(kl, 1, n),
                 "mean over positions of KL(baseline || subject) of the next-token distributions, nats");
        headline(heads, out, "kl_p99_nats", gsl_stats_quantile_from_sorted_data(sorted, 1, n, 0.99),
                 "99th percentile over positions of the same KL");
        headline(heads, out, "top1_agreement", agree / (double)n1,
                 "fraction of positions where the baseline's and the subject's argmax token agree");
        headline(heads, out, "top5_overlap", top5 / (5.0 * (double)n5),
                 "mean over positions of |top5(baseline) & top5(subject)| / 5");
        headline(heads, out, "perplexity_baseline", ppl_b,
                 "exp(mean next-token NLL of the input under the baseline), within chunks");
        headline(heads, out, "perplexity_subject", ppl_s, "the same under the subject");
        headline(heads, out, "perplexity_ratio", ppl_s / ppl_b, "perplexity_subject / perplexity_baseline");
    }
    free(kl); free(t1); free(t5); free(nb); free(ns); free(sorted);
    return s;
}

tc_status tc_accuracy_finish(cJSON *r, FILE *out, tc_err *err)
{
    cJSON *heads = cJSON_CreateArray();
    if (!heads) return tc_fail(err, TC_E_NOMEM, "accuracy: out of memory");
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(r, "per_tensor");
    if (pt)
        headline(heads, out, "weight_rel_rms_error_mean", weight_mean(pt),
                 "mean over linear tensors of ||W - code*m|| / ||W||, W the baseline's weights");
    headline(heads, out, "blk_out_cosine_min", finish_layers(r),
             "smallest over layers of the cosine similarity of blk.N.out (baseline vs subject), all positions");
    tc_status s = finish_positions(r, heads, out);
    set_part(r, "headline", heads);
    return s ? tc_fail(err, s, "accuracy: out of memory") : TC_OK;
}

/* ---- a run ---- */

/* Both models must have the same shape for their taps to be compared. */
static tc_status same_shape(const tc_model *a, const tc_model *b, tc_err *err)
{
    const tc_hparams *x = &a->hp, *y = &b->hp;
    if (x->n_vocab != y->n_vocab || x->n_embd != y->n_embd || x->n_layer != y->n_layer || x->n_ff != y->n_ff ||
        x->n_head != y->n_head || x->n_head_kv != y->n_head_kv)
        return tc_fail(err, TC_E_USAGE, "%s and %s: expected the same hyper-parameters (vocab, embedding, blocks, "
                       "ffn, heads)", a->gguf->path, b->gguf->path);
    return TC_OK;
}

/* One accuracy run: the two models and engines, the tokens, the captures
 * of one chunk and the figures of the chunks this run (or shard) covers. */
typedef struct acc_run {
    const tc_accuracy_opts *o;
    tc_model *subj, *base_owned;
    const tc_model *base;         /* base_owned, or subj in fp32 */
    tc_engine *eb, *es;           /* baseline (ref) and subject */
    int32_t *tokens;              /* the whole job's */
    size_t n_all;                 /* ... how many */
    uint32_t chunk;               /* tokens per chunk */
    uint64_t n_chunks, c_first, c_end;   /* the job's chunks; this run's [c_first, c_end) */
    size_t t0, n_tok;             /* this run's tokens: tokens[t0 .. t0 + n_tok) */
    capture cb, cs;               /* one chunk of each side */
    acc a;
    double *work;                 /* [2 V] */
    double seconds;
} acc_run;

static void acc_run_free(acc_run *x)
{
    free(x->cb.out); free(x->cb.logits); free(x->cs.out); free(x->cs.logits);
    free(x->a.chunk_layers); free(x->a.chunk_positions);
    free(x->a.kl); free(x->a.top5); free(x->a.top1); free(x->a.nll_base); free(x->a.nll_subj);
    free(x->work);
    free(x->tokens);
    tc_engine_free(x->eb);
    tc_engine_free(x->es);
    tc_model_free(x->subj);
    tc_model_free(x->base_owned);
}

/* The models, the tokens (described in input), the chunks this run takes
 * and the two engines. */
static tc_status acc_open(acc_run *x, cJSON *input, tc_err *err)
{
    const tc_accuracy_opts *o = x->o;
    tc_status s = tc_model_load(o->model_path, &x->subj, err);
    if (!s && o->baseline_path) s = tc_model_load(o->baseline_path, &x->base_owned, err);
    if (s) return s;
    x->base = x->base_owned ? x->base_owned : x->subj;
    if ((s = same_shape(x->base, x->subj, err))) return s;
    tc_input in = { o->token_list, o->prompt, o->corpus, o->n_random, o->seed, o->tokens, o->n_tokens };
    if ((s = tc_input_tokens(&in, x->subj, &x->tokens, &x->n_all, input, err))) return s;
    if (x->n_all == 0) return tc_fail(err, TC_E_USAGE, "accuracy: no tokens to run");
    const uint32_t ctx = o->ctx ? o->ctx : x->subj->hp.n_ctx;
    x->chunk = ctx < x->n_all ? ctx : (uint32_t)x->n_all;
    /* a shard takes whole chunks: each runs from position 0 as in one run */
    x->n_chunks = (x->n_all + x->chunk - 1) / x->chunk;
    if ((s = tc_shard_range(&o->shard, x->n_chunks, "chunks", &x->c_first, &x->c_end, err))) return s;
    x->t0 = (size_t)x->c_first * x->chunk;
    x->n_tok = ((size_t)x->c_end * x->chunk < x->n_all ? (size_t)x->c_end * x->chunk : x->n_all) - x->t0;
    tc_engine_opts eo;
    tc_engine_opts_default(&eo);
    eo.n_threads = o->n_threads;
    eo.n_ctx = ctx;
    eo.precision = o->baseline_precision;
    if ((s = tc_engine_open("ref", x->base, &eo, &x->eb, err))) return s;
    eo.precision = o->precision;
    return tc_engine_open(o->engine, x->subj, &eo, &x->es, err);
}

/* The captures of one chunk and the per-chunk and per-position figures. */
static tc_status acc_alloc(acc_run *x, tc_err *err)
{
    const uint32_t L = x->subj->hp.n_layer, d = x->subj->hp.n_embd, V = x->subj->hp.n_vocab, chunk = x->chunk;
    const size_t n = x->n_tok, nc = (size_t)(x->c_end - x->c_first);
    x->cb = (capture){ L, d, V, 0, malloc((size_t)L * chunk * d * sizeof(float)), malloc((size_t)chunk * V * sizeof(float)) };
    x->cs = (capture){ L, d, V, 0, malloc((size_t)L * chunk * d * sizeof(float)), malloc((size_t)chunk * V * sizeof(float)) };
    acc *a = &x->a;
    a->chunk_layers = calloc(nc * L + 1, sizeof *a->chunk_layers);
    a->chunk_positions = calloc(nc + 1, sizeof *a->chunk_positions);
    a->kl = malloc(n * sizeof *a->kl);
    a->top5 = malloc(n * sizeof *a->top5);
    a->top1 = malloc(n);
    a->nll_base = malloc(n * sizeof(double));
    a->nll_subj = malloc(n * sizeof(double));
    x->work = malloc(2 * (size_t)V * sizeof *x->work);
    if (!x->cb.out || !x->cb.logits || !x->cs.out || !x->cs.logits || !a->chunk_layers || !a->chunk_positions ||
        !a->kl || !a->top5 || !a->top1 || !a->nll_base || !a->nll_subj || !x->work)
        return tc_fail(err, TC_E_NOMEM, "accuracy: out of memory for %" PRIu32 " positions", chunk);
    return TC_OK;
}

/* Both sides over this run's chunks, each from position 0. */
static tc_status acc_chunks(acc_run *x, tc_err *err)
{
    tc_status s;
    const int32_t *tok = x->tokens + x->t0;
    const double t0 = tc_now_s();
    for (size_t c0 = 0; c0 < x->n_tok; c0 += x->chunk) {
        uint32_t n = (uint32_t)(x->n_tok - c0 < x->chunk ? x->n_tok - c0 : x->chunk);
        if ((s = run_chunk(x->eb, tok + c0, n, &x->cb, err)) || (s = run_chunk(x->es, tok + c0, n, &x->cs, err)))
            return s;
        add_chunk(&x->a, &x->cb, &x->cs, tok + c0, x->work);
        if (x->o->progress) x->o->progress(x->o->progress_user, (uint32_t)(c0 + n), (uint32_t)x->n_tok);
    }
    x->seconds = tc_now_s() - t0;
    return TC_OK;
}

/* The receipt's model, baseline model, input (this run's tokens),
 * engines and comparison. */
static tc_status acc_receipt_head(acc_run *x, cJSON *r, cJSON *input, FILE *out, tc_err *err)
{
    const tc_accuracy_opts *o = x->o;
    tc_status s = tc_receipt_add_model(r, x->subj, o->model_path, err);
    if (s) {
        cJSON_Delete(input);
        return s;
    }
    if (x->base_owned) {
        cJSON *tmp = cJSON_CreateObject();
        if ((s = tc_receipt_add_model(tmp, x->base_owned, o->baseline_path, err))) {
            cJSON_Delete(tmp);
            cJSON_Delete(input);
            return s;
        }
        cJSON_AddItemToObject(r, "baseline_model", cJSON_DetachItemFromObject(tmp, "model"));
        cJSON_Delete(tmp);
    }
    cJSON *tl = cJSON_AddArrayToObject(input, "tokens");
    for (size_t i = 0; i < x->n_tok; i++) cJSON_AddItemToArray(tl, cJSON_CreateNumber(x->tokens[x->t0 + i]));
    cJSON_AddNumberToObject(input, "chunk", x->chunk);
    cJSON_AddItemToObject(r, "input", input);
    cJSON *eng = cJSON_AddObjectToObject(r, "engines");
    cJSON_AddItemToObject(eng, "baseline", tc_engine_describe(x->eb));
    cJSON_AddItemToObject(eng, "subject", tc_engine_describe(x->es));
    cJSON *cmp = cJSON_AddObjectToObject(r, "comparison");
    cJSON_AddStringToObject(cmp, "baseline", x->base_owned ? "a latent model in its own precision against its I2_S "
                                                             "quantization: the cost of W1.58A8"
                                                           : "the same file in fp32 precision (weights code*m, "
                                                             "activations unquantized): the cost of 8-bit activations");
    if (out) {
        fprintf(out, "baseline: %s %s; subject: %s %s (%s); %zu tokens in chunks of %" PRIu32, x->base->gguf->path,
                tc_precision_name(o->baseline_precision), x->subj->gguf->path, tc_precision_name(o->precision),
                tc_engine_name(x->es), x->n_tok, x->chunk);
        if (tc_shard_on(&o->shard))
            fprintf(out, " (shard %" PRIu32 "/%" PRIu32 ": chunks %" PRIu64 "..%" PRIu64 " of %" PRIu64 ")",
                    o->shard.index, o->shard.count, x->c_first, x->c_end - 1, x->n_chunks);
        fputc('\n', out);
    }
    return TC_OK;
}

/* The mergeable parts: per chunk the sums of blk.N.out, per position the
 * logit figures; an empty headline, per_layer and kl hold their places
 * until tc_accuracy_finish fills them. */
static void acc_receipt_parts(const acc_run *x, cJSON *r)
{
    const acc *a = &x->a;
    const uint32_t L = x->subj->hp.n_layer;
    cJSON_AddArrayToObject(r, "headline");
    if (x->base_owned) cJSON_AddArrayToObject(r, "per_tensor");
    cJSON_AddArrayToObject(r, "per_layer");
    cJSON *pc = cJSON_AddArrayToObject(r, "per_chunk");
    for (size_t c = 0; c < a->n_chunks; c++) {
        cJSON *o = cJSON_CreateObject(), *bo;
        cJSON_AddNumberToObject(o, "positions", a->chunk_positions[c]);
        bo = cJSON_AddArrayToObject(o, "blk_out");
        for (uint32_t l = 0; l < L; l++) {
            const layer_acc *y = &a->chunk_layers[c * L + l];
            const double v[4] = { y->dot, y->bb, y->ss, y->err2 };
            cJSON_AddItemToArray(bo, numbers(v, 4));
        }
        cJSON_AddItemToArray(pc, o);
    }
    cJSON *pp = cJSON_AddObjectToObject(r, "per_position");
    cJSON_AddItemToObject(pp, "kl", numbers(a->kl, a->n_pos));
    cJSON_AddItemToObject(pp, "top5_overlap", numbers(a->top5, a->n_pos));
    cJSON *t1 = cJSON_AddArrayToObject(pp, "top1_agree");
    for (size_t i = 0; i < a->n_pos; i++) cJSON_AddItemToArray(t1, cJSON_CreateNumber(a->top1[i]));
    cJSON_AddItemToObject(pp, "nll_baseline", numbers(a->nll_base, a->n_pred));
    cJSON_AddItemToObject(pp, "nll_subject", numbers(a->nll_subj, a->n_pred));
    cJSON_AddObjectToObject(r, "kl");
    cJSON *t = cJSON_AddObjectToObject(r, "timings");
    cJSON_AddNumberToObject(t, "seconds", x->seconds);
}

/* A shard's "shard" section: the chunks it ran and the job's identity
 * (engines and chunking as options, all the job's tokens as input). */
static tc_status acc_receipt_shard(const acc_run *x, cJSON *r, tc_err *err)
{
    char sha[TC_SHA256_HEX];
    cJSON *opts = cJSON_CreateObject();
    if (!opts || tc_sha256_hex(x->tokens, x->n_all * sizeof *x->tokens, sha)) {
        cJSON_Delete(opts);
        return tc_fail(err, TC_E_NOMEM, "accuracy: out of memory");
    }
    const cJSON *eng = cJSON_GetObjectItemCaseSensitive(r, "engines");
    cJSON_AddItemToObject(opts, "baseline", tc_engine_options_json(cJSON_GetObjectItemCaseSensitive(eng, "baseline")));
    cJSON_AddItemToObject(opts, "subject", tc_engine_options_json(cJSON_GetObjectItemCaseSensitive(eng, "subject")));
    const cJSON *bm = cJSON_GetObjectItemCaseSensitive(r, "baseline_model");
    cJSON_AddItemToObject(opts, "baseline_model_sha256",
                          bm ? cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(bm, "sha256"), 1) : cJSON_CreateNull());
    cJSON_AddNumberToObject(opts, "chunk", x->chunk);
    cJSON_AddNumberToObject(opts, "tokens", (double)x->n_all);
    cJSON *job = tc_job_identity(r, opts, sha, err);
    if (!job) return err ? err->status : TC_E_NOMEM;
    return tc_shard_mark(r, &x->o->shard, "chunk", x->n_chunks, x->c_first, x->c_end, job, err);
}

tc_status tc_accuracy_run(const tc_accuracy_opts *o, FILE *out, cJSON **receipt, tc_err *err)
{
    acc_run x = { .o = o };
    cJSON *r = NULL, *input = cJSON_CreateObject();
    *receipt = NULL;
    tc_status s = input ? TC_OK : tc_fail(err, TC_E_NOMEM, "accuracy: out of memory");
    if (!s) s = acc_open(&x, input, err);
    if (!s) s = acc_alloc(&x, err);
    if (!s) s = acc_chunks(&x, err);
    if (!s && !(r = tc_receipt_new("accuracy"))) s = tc_fail(err, TC_E_NOMEM, "accuracy: out of memory");
    if (!s) {
        s = acc_receipt_head(&x, r, input, out, err);   /* takes input */
        input = NULL;
    }
    if (!s) acc_receipt_parts(&x, r);
    if (!s && x.base_owned) s = weight_level(x.base_owned, x.subj, cJSON_GetObjectItemCaseSensitive(r, "per_tensor"), err);
    if (!s && tc_shard_on(&o->shard)) s = acc_receipt_shard(&x, r, err);
    /* the figures from the parts as the receipt file holds them: the path
     * a merge of shards takes too (check/shard.h) */
    if (!s) s = tc_receipt_as_written(&r, err);
    if (!s) s = tc_accuracy_finish(r, out, err);
    if (!s) {
        *receipt = r;
        r = NULL;
    }
    cJSON_Delete(r);
    cJSON_Delete(input);
    acc_run_free(&x);
    return s;
}

/* bench.c -- see bench.h.  The machine's figures come from
 * check/hostprobe.h, times from CLOCK_MONOTONIC (base/clock.h). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/host.h"
#include "base/stats.h"
#include "check/bench.h"
#include "check/hostprobe.h"
#include "engine/registry.h"
#include "receipt/receipt.h"

void tc_bench_opts_default(tc_bench_opts *o)
{
    const int online = tc_cpus_online();
    *o = (tc_bench_opts){ .engine = "fast", .n_threads = online <= 1024 ? online : 1,
                          .prompt_len = 128, .n_gen = 128, .repeat = 5 };
}

/* ---- the model's traffic ---- */

static double weight_bytes(const tc_weight *w)
{
    if (!w->t) return 0.0;
    const tc_type_traits *tr = tc_type_info(w->type);
    return tr ? (double)(w->ne0 * w->ne1 / tr->block_size * tr->block_bytes) : 0.0;
}

/* bytes of weights one decoded token reads: every linear, the norms, the
 * LM head, one embedding row */
static double decode_weight_bytes(const tc_model *m)
{
    const tc_hparams *hp = &m->hp;
    double b = 0.0;
    for (uint32_t l = 0; l < hp->n_layer; l++) {
        const tc_layer *L = &m->layers[l];
        const tc_weight *w[] = { &L->attn_q, &L->attn_k, &L->attn_v, &L->attn_output, &L->ffn_gate, &L->ffn_up,
                                 &L->ffn_down, &L->attn_norm, &L->attn_sub_norm, &L->ffn_norm, &L->ffn_sub_norm };
        for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) b += weight_bytes(w[i]);
    }
    b += weight_bytes(tc_model_lm_head(m)) + weight_bytes(&m->output_norm);
    b += weight_bytes(&m->token_embd) / (double)(hp->n_vocab ? hp->n_vocab : 1);
    return b;
}

/* int8 MACs of the I2_S linears per token */
static double linear_macs(const tc_model *m)
{
    double macs = 0.0;
    for (uint32_t l = 0; l < m->hp.n_layer; l++) {
        const tc_layer *L = &m->layers[l];
        const tc_weight *w[] = { &L->attn_q, &L->attn_k, &L->attn_v, &L->attn_output, &L->ffn_gate, &L->ffn_up,
                                 &L->ffn_down };
        for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) macs += (double)w[i]->ne0 * (double)w[i]->ne1;
    }
    return macs;
}

/* ---- timing ---- */

/* one prefill of the prompt, then n_gen greedy decodes; seconds of each.
 * With `paired`, a bandwidth pass over it between the two, into
 * *paired_gbps. */
static tc_status one_run(tc_engine *e, const int32_t *prompt, const tc_bench_opts *o, const tc_bench_result *r,
                         const tc_bw_buffer *paired, double *paired_gbps, double *t_prefill, double *t_decode,
                         tc_err *err)
{
    tc_status st;
    tc_engine_reset(e);
    const double t0 = tc_now_s();
    if ((st = tc_engine_prefill(e, prompt, o->prompt_len, 0, err))) return st;
    const double tp = tc_now_s();
    if (paired && (st = tc_probe_bandwidth_in(paired, o->n_threads, r->bw_streams, paired_gbps, NULL, NULL, err)))
        return st;
    const double t1 = tc_now_s();
    const uint32_t n_vocab = tc_engine_model(e)->hp.n_vocab;
    for (uint32_t g = 0; g < o->n_gen; g++)
        if ((st = tc_engine_decode(e, (int32_t)tc_argmax(tc_engine_logits(e), n_vocab), err))) return st;
    *t_prefill = tp - t0;
    *t_decode = tc_now_s() - t1;
    return TC_OK;
}

/* The machine's figures, while no engine holds memory: bandwidth, clock,
 * the cores' int8 peak. */
static tc_status measure_machine(const tc_bench_opts *o, tc_bench_result *r, tc_err *err)
{
    const size_t bytes = o->bw_bytes ? o->bw_bytes : tc_probe_bandwidth_bytes();
    r->bw_bytes = (double)bytes;
    tc_status st = tc_probe_bandwidth(bytes, o->n_threads, 0, &r->bw_gbps, &r->bw_streams, &r->bw_huge, err);
    if (st) return st;
    tc_clock clock;
    tc_probe_clock(&clock);
    r->ghz = clock.ghz;
    r->ghz_method = clock.method;
    r->ghz_cpuinfo = clock.cpuinfo_ghz;
    r->ghz_agrees = clock.agrees;
    const int online = tc_cpus_online();
    r->cores = online < o->n_threads ? online : o->n_threads;
    return TC_OK;
}

/* A warm-up run, then o->repeat timed runs (tokens/s into pre[] and
 * dec[]), each with a paired bandwidth pass; the engine's peak RSS and
 * kernel counters. */
static tc_status timed_runs(tc_engine *e, const tc_model *m, const tc_bench_opts *o, bool rss_reset, double *pre,
                            double *dec, tc_bench_result *r, tc_err *err)
{
    int32_t *prompt = malloc((size_t)o->prompt_len * sizeof *prompt);
    if (!prompt) return tc_fail(err, TC_E_NOMEM, "bench: out of memory");
    for (uint32_t i = 0; i < o->prompt_len; i++)   /* a fixed pseudo-random prompt */
        prompt[i] = (int32_t)(((uint64_t)i * 1000003u + 7u) % m->hp.n_vocab);
    double tp, td;
    tc_status st = one_run(e, prompt, o, r, NULL, NULL, &tp, &td, err);   /* warm-up: pages, caches, clocks */
    /* the engine's peak: the first bandwidth buffer was freed and the peak
     * reset before it opened; the warm-up run reached every size the timed
     * runs use, and the paired passes' buffers come after this reading */
    r->peak_rss_bytes = rss_reset ? tc_probe_peak_rss() : 0.0;
    r->model_bytes = (double)m->gguf->size;
    /* paired passes: the main passes' size (more than the caches hold) and
     * their best stream count */
    r->paired_bytes = r->bw_bytes;
    /* one buffer for all the paired passes, freed after the last timed
     * run: a pass that freed its buffer stalled the decode timed ~2 s
     * later (free page reporting, hostprobe.h) -- three tokens of 64 at
     * 2-3 times their time, -4 % of decode on a Firecracker VM */
    tc_bw_buffer paired = { NULL, 0 };
    if (!st) st = tc_bw_buffer_open(&paired, (size_t)r->paired_bytes, err);
    for (uint32_t k = 0; k < o->repeat && !st; k++) {
        if ((st = one_run(e, prompt, o, r, &paired, &r->paired_bw[k], &tp, &td, err))) break;
        pre[k] = o->prompt_len / tp;
        dec[k] = o->n_gen / td;
        r->paired_dec[k] = dec[k];
    }
    tc_bw_buffer_close(&paired);
    free(prompt);
    size_t nk;
    const tc_kernel_count *k = tc_engine_kernels(e, &nk);
    r->n_kernels = nk < TC_BENCH_MAX_KERNELS ? nk : TC_BENCH_MAX_KERNELS;
    /* copied: a plug-in's counter names live in the plug-in, which is
     * unloaded with the engine before the result is printed */
    for (size_t i = 0; i < r->n_kernels; i++) {
        snprintf(r->kernels[i].name, sizeof r->kernels[i].name, "%s", k[i].name ? k[i].name : "?");
        r->kernels[i].calls = k[i].calls;
    }
    return st;
}

/* The bandwidth again, after the runs: the floor uses the best of both,
 * so that a neighbour's burst during the first pass cannot lower the
 * floor (and flatter the ratio). */
static tc_status bandwidth_again(const tc_bench_opts *o, tc_bench_result *r, tc_err *err)
{
    double again = 0.0, again_huge = 0.0;
    int again_streams = 1;
    tc_status st = tc_probe_bandwidth((size_t)r->bw_bytes, o->n_threads, 0, &again, &again_streams, &again_huge, err);
    if (!st && again > r->bw_gbps) {
        r->bw_gbps = again;
        r->bw_streams = again_streams;
        r->bw_huge = again_huge;
    }
    return st;
}

/* The derived figures: the decode floor (every decoded token reads the
 * weights and its KV cache) and the prefill's share of the int8 peak. */
static void figures(const tc_model *m, const tc_bench_opts *o, double *pre, double *dec, tc_bench_result *r)
{
    const tc_hparams *hp = &m->hp;
    r->prefill_tps = tc_stat_of(pre, o->repeat);
    r->decode_tps = tc_stat_of(dec, o->repeat);
    r->weight_bytes = decode_weight_bytes(m);
    const double mean_pos = o->prompt_len + (o->n_gen - 1) / 2.0 + 1.0;   /* keys a decoded token reads */
    r->kv_bytes = 2.0 * hp->n_layer * mean_pos * hp->n_head_kv * hp->head_dim * sizeof(float);
    r->floor_tps = r->bw_gbps * 1e9 / (r->weight_bytes + r->kv_bytes);
    r->decode_gbps = r->decode_tps.median * (r->weight_bytes + r->kv_bytes) / 1e9;
    r->decode_ratio = r->decode_tps.median / r->floor_tps;
    r->paired_ratio = tc_bench_paired_ratio(r->paired_dec, r->paired_bw, o->repeat, r->weight_bytes + r->kv_bytes);
    r->prefill_macs = linear_macs(m);
    r->prefill_gmacs = r->prefill_tps.median * r->prefill_macs / 1e9;
    r->prefill_peak_ratio = r->peak_gmacs > 0 ? r->prefill_gmacs / r->peak_gmacs : 0.0;
}

tc_status tc_bench_run(const tc_model *m, const tc_bench_opts *o, tc_bench_result *r, tc_err *err)
{
    tc_status st;
    memset(r, 0, sizeof *r);
    if (o->n_threads < 1 || o->prompt_len < 1 || o->n_gen < 1 || o->repeat < 1 || o->repeat > 1000)
        return tc_fail(err, TC_E_USAGE, "bench: threads, prompt length, generated tokens and repeats must be >= 1 "
                       "(repeats <= 1000)");
    if ((uint64_t)o->prompt_len + o->n_gen > m->hp.n_ctx)
        return tc_fail(err, TC_E_RANGE, "bench: %" PRIu32 " + %" PRIu32 " positions exceed the context length %" PRIu32,
                       o->prompt_len, o->n_gen, m->hp.n_ctx);
    *r = (tc_bench_result){ .n_threads = o->n_threads, .prompt_len = o->prompt_len, .n_gen = o->n_gen,
                            .repeat = o->repeat };
    if ((st = measure_machine(o, r, err))) return st;

    /* the bandwidth buffer is freed: the peak from here on is the engine's */
    const bool rss_reset = tc_probe_reset_peak_rss();
    tc_engine_opts eo;
    tc_engine_opts_default(&eo);
    eo.n_threads = o->n_threads;
    eo.n_ctx = o->prompt_len + o->n_gen;
    tc_engine *e = NULL;
    if ((st = tc_engine_open(o->engine, m, &eo, &e, err))) return st;
    snprintf(r->engine, sizeof r->engine, "%s", tc_engine_name(e));
    const char *layout = tc_engine_weight_layout(e);
    snprintf(r->weight_layout, sizeof r->weight_layout, "%s", layout ? layout : "");
    /* the peak of the unit the engine's kernels may use (any, off the fast engine) */
    r->macs_per_cycle = tc_probe_int8_macs(strncmp(r->engine, "fast:", 5) ? NULL : r->engine + 5, &r->peak_isa);
    r->peak_gmacs = r->cores * r->ghz * r->macs_per_cycle;
    double *pre = malloc(o->repeat * sizeof *pre), *dec = malloc(o->repeat * sizeof *dec);
    if (!pre || !dec) st = tc_fail(err, TC_E_NOMEM, "bench: out of memory");
    if (!st) st = timed_runs(e, m, o, rss_reset, pre, dec, r, err);
    tc_engine_free(e);   /* its buffers out of the way; the model stays mapped */
    if (!st) st = bandwidth_again(o, r, err);
    if (!st) figures(m, o, pre, dec, r);
    free(pre);
    free(dec);
    return st;
}

double tc_bench_paired_ratio(const double *dec_tps, const double *bw_gbps, uint32_t n, double bytes_per_token)
{
    double v[TC_BENCH_MAX_REPEAT];
    if (n == 0 || n > TC_BENCH_MAX_REPEAT) return 0.0;
    for (uint32_t k = 0; k < n; k++) v[k] = bw_gbps[k] > 0 ? dec_tps[k] * bytes_per_token / 1e9 / bw_gbps[k] : 0.0;
    return tc_median(v, n);
}

/* ---- output ---- */

void tc_bench_print(const tc_bench_result *r, FILE *out)
{
    fprintf(out, "engine            %s, %d thread%s\n", r->engine, r->n_threads, r->n_threads == 1 ? "" : "s");
    if (r->weight_layout[0]) fprintf(out, "weight layout     %s (I2_S rewritten when the engine opened)\n", r->weight_layout);
    fprintf(out, "prefill           %.2f tok/s (min %.2f, max %.2f) over %" PRIu32 " tokens, %" PRIu32 " repeats\n",
            r->prefill_tps.median, r->prefill_tps.min, r->prefill_tps.max, r->prompt_len, r->repeat);
    fprintf(out, "decode            %.2f tok/s (min %.2f, max %.2f) over %" PRIu32 " tokens\n", r->decode_tps.median,
            r->decode_tps.min, r->decode_tps.max, r->n_gen);
    fprintf(out, "bandwidth         %.2f GB/s measured (read of %.0f MiB, %.0f %% in huge pages, %d thread%s x %d stream%s)\n",
            r->bw_gbps, r->bw_bytes / 1048576.0, 100.0 * r->bw_huge, r->n_threads, r->n_threads == 1 ? "" : "s",
            r->bw_streams, r->bw_streams == 1 ? "" : "s");
    fprintf(out, "bytes/token       %.0f (weights %.0f + KV cache %.0f)\n", r->weight_bytes + r->kv_bytes,
            r->weight_bytes, r->kv_bytes);
    fprintf(out, "decode floor      %.2f tok/s; achieved %.2f GB/s = %.1f %% of the floor\n", r->floor_tps,
            r->decode_gbps, 100.0 * r->decode_ratio);
    double bw_lo = r->paired_bw[0], bw_hi = r->paired_bw[0];
    for (uint32_t k = 1; k < r->repeat; k++) {
        bw_lo = fmin(bw_lo, r->paired_bw[k]);
        bw_hi = fmax(bw_hi, r->paired_bw[k]);
    }
    fprintf(out, "paired            each repeat's decode against a pass just before it: median %.1f %% "
            "(passes %.2f-%.2f GB/s)\n", 100.0 * r->paired_ratio, bw_lo, bw_hi);
    fprintf(out, "clock             %.2f GHz measured (%s); /proc/cpuinfo says ", r->ghz, r->ghz_method);
    if (r->ghz_cpuinfo > 0) fprintf(out, "%.2f GHz%s\n", r->ghz_cpuinfo, r->ghz_agrees ? "" : " (they disagree: see doc/perf.md)");
    else fprintf(out, "nothing\n");
    fprintf(out, "prefill int8      %.1f GMAC/s; peak %.1f GMAC/s (%d core%s x %.2f GHz x %d MAC/cycle, %s) = %.1f %%\n",
            r->prefill_gmacs, r->peak_gmacs, r->cores, r->cores == 1 ? "" : "s", r->ghz, r->macs_per_cycle,
            r->peak_isa, 100.0 * r->prefill_peak_ratio);
    if (r->peak_rss_bytes > 0)
        fprintf(out, "memory            peak RSS %.0f MB running (model file %.0f MB + %.0f MB)\n",
                r->peak_rss_bytes / 1e6, r->model_bytes / 1e6, (r->peak_rss_bytes - r->model_bytes) / 1e6);
    fprintf(out, "kernels:\n");
    for (size_t i = 0; i < r->n_kernels; i++)
        if (r->kernels[i].calls) fprintf(out, "  %-34s %" PRIu64 "\n", r->kernels[i].name, r->kernels[i].calls);
}

cJSON *tc_bench_stat_json(const tc_bench_stat *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "median", s->median);
    cJSON_AddNumberToObject(o, "min", s->min);
    cJSON_AddNumberToObject(o, "max", s->max);
    return o;
}

cJSON *tc_bench_json(const tc_bench_result *r)
{
    cJSON *o = cJSON_CreateObject(), *k = cJSON_CreateObject();
    if (!o || !k) {
        cJSON_Delete(o);
        cJSON_Delete(k);
        return NULL;
    }
    cJSON_AddStringToObject(o, "engine", r->engine);
    if (r->weight_layout[0]) cJSON_AddStringToObject(o, "weight_layout", r->weight_layout);
    cJSON_AddNumberToObject(o, "threads", r->n_threads);
    cJSON_AddNumberToObject(o, "prompt_len", r->prompt_len);
    cJSON_AddNumberToObject(o, "gen", r->n_gen);
    cJSON_AddNumberToObject(o, "repeat", r->repeat);
    cJSON_AddItemToObject(o, "prefill_tok_s", tc_bench_stat_json(&r->prefill_tps));
    cJSON_AddItemToObject(o, "decode_tok_s", tc_bench_stat_json(&r->decode_tps));
    cJSON_AddNumberToObject(o, "bandwidth_gb_s", r->bw_gbps);
    cJSON_AddNumberToObject(o, "bandwidth_streams", r->bw_streams);
    cJSON_AddNumberToObject(o, "bandwidth_bytes", r->bw_bytes);
    cJSON_AddNumberToObject(o, "bandwidth_huge_share", r->bw_huge);
    cJSON_AddNumberToObject(o, "weight_bytes_per_token", r->weight_bytes);
    cJSON_AddNumberToObject(o, "kv_bytes_per_token", r->kv_bytes);
    cJSON_AddNumberToObject(o, "floor_tok_s", r->floor_tps);
    cJSON_AddNumberToObject(o, "decode_gb_s", r->decode_gbps);
    cJSON_AddNumberToObject(o, "decode_floor_ratio", r->decode_ratio);
    cJSON *pd = cJSON_AddObjectToObject(o, "paired");
    if (pd) {
        cJSON_AddItemToObject(pd, "bandwidth_gb_s", cJSON_CreateDoubleArray(r->paired_bw, (int)r->repeat));
        cJSON_AddItemToObject(pd, "decode_tok_s", cJSON_CreateDoubleArray(r->paired_dec, (int)r->repeat));
        cJSON_AddNumberToObject(pd, "pass_bytes", r->paired_bytes);
        cJSON_AddNumberToObject(pd, "ratio_median", r->paired_ratio);
    }
    cJSON_AddNumberToObject(o, "prefill_macs_per_token", r->prefill_macs);
    cJSON_AddNumberToObject(o, "prefill_gmac_s", r->prefill_gmacs);
    cJSON_AddNumberToObject(o, "ghz", r->ghz);
    cJSON_AddStringToObject(o, "ghz_method", r->ghz_method ? r->ghz_method : "");
    cJSON_AddNumberToObject(o, "ghz_cpuinfo", r->ghz_cpuinfo);
    cJSON_AddNumberToObject(o, "cores", r->cores);
    cJSON_AddNumberToObject(o, "macs_per_cycle", r->macs_per_cycle);
    cJSON_AddStringToObject(o, "peak_isa", r->peak_isa ? r->peak_isa : "");
    cJSON_AddNumberToObject(o, "peak_gmac_s", r->peak_gmacs);
    cJSON_AddNumberToObject(o, "prefill_peak_ratio", r->prefill_peak_ratio);
    if (r->peak_rss_bytes > 0) cJSON_AddNumberToObject(o, "peak_rss_bytes", r->peak_rss_bytes);
    cJSON_AddNumberToObject(o, "model_bytes", r->model_bytes);
    for (size_t i = 0; i < r->n_kernels; i++) cJSON_AddNumberToObject(k, r->kernels[i].name, (double)r->kernels[i].calls);
    cJSON_AddItemToObject(o, "kernels", k);
    return o;
}

tc_status tc_bench_receipt(const tc_model *m, const char *path, const tc_bench_result *r, cJSON *against, cJSON **out,
                           tc_err *err)
{
    tc_status st;
    *out = NULL;
    cJSON *root = tc_receipt_new("bench"), *b = tc_bench_json(r);
    if (!root || !b) {
        cJSON_Delete(root);
        cJSON_Delete(b);
        cJSON_Delete(against);
        return tc_fail(err, TC_E_NOMEM, "bench: out of memory");
    }
    cJSON_AddItemToObject(root, "bench", b);
    if (against) cJSON_AddItemToObject(b, "against", against);
    if ((st = tc_receipt_add_model(root, m, path, err)) || (st = tc_receipt_seal(root, NULL, err))) {
        cJSON_Delete(root);
        return st;
    }
    *out = root;
    return TC_OK;
}

/* ksuite.c -- `tritcheck kernels`: every kernel of a fast-engine table
 * (built-in ISA or plug-in) against the reference kernels, case by case,
 * with guard bytes around every output, and optionally timed (ksuite.h).
 * The driver: which cases run, the machine's ceilings, the printout and
 * the receipt.  The cases, their data and their checks are in
 * ksuite_cases.c, ksuite_gen.c and ksuite_run.c (ksuite_impl.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/sha256.h"
#include "check/hostprobe.h"
#include "check/ksuite.h"
#include "check/ksuite_impl.h"
#include "check/shard.h"
#include "engine/registry.h"
#include "receipt/receipt.h"

/* ---- which cases ---- */

static bool selected(const tc_ks_case *c, const tc_kernels_opts *o)
{
    const bool want_large = o->filter && strstr(o->filter, "large");
    if (c->large && !o->perf && !want_large) return false;
    if (!o->filter || !*o->filter) return true;
    if (want_large && !strcmp(o->filter, "large")) return c->large;
    return strstr(tc_ks_kernel_name[c->kernel], o->filter) != NULL;
}

/* Every case of the table, seeded (the seed of case i is seed + i whatever
 * the filter, so a filtered run reproduces the same inputs); TC_E_USAGE
 * when the filter selects none. */
static tc_status table_cases(const tc_kernels_opts *o, tc_ks_case **out, size_t *n, tc_err *err)
{
    *n = tc_ks_cases(NULL);
    tc_ks_case *v = calloc(*n, sizeof *v);
    if (!v) return tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
    tc_ks_cases(v);
    size_t n_sel = 0;
    for (size_t i = 0; i < *n; i++) {
        v[i].seed = o->seed + i;
        n_sel += selected(&v[i], o);
    }
    if (n_sel == 0) {
        free(v);
        return tc_fail(err, TC_E_USAGE, "kernels: no case matches --filter '%s' (kernels: i2s_gemv, i2s_gemm, "
                       "rmsnorm_q8, rmsnorm, f16_gemv, f16_gemm, attention_head, i2s_scale, relu2_mul, add; or 'large')",
                       o->filter);
    }
    *out = v;
    return TC_OK;
}

/* ---- the machine's ceilings (one thread) ---- */

static tc_status measure_ceilings(tc_ks_ceilings *cl, const char *isa, tc_err *err)
{
    tc_status st = tc_probe_bandwidth(tc_probe_bandwidth_bytes(), 1, 0, &cl->bw_gbps, NULL, NULL, err);
    if (st) return st;
    cl->ghz = tc_probe_ghz();
    /* each table gets its own unit's ceilings (scalar: 1 MAC per cycle) */
    cl->int8_macs = tc_probe_int8_macs(isa, &cl->peak_isa);
    cl->int8_gmacs = cl->ghz * cl->int8_macs;
    /* fp32 FMA lanes x 2 units: 16 per 256-bit unit pair, 32 for AVX-512 */
    int fp32 = cl->int8_macs >= 128 ? 32 : cl->int8_macs >= 64 ? 16 : 1;
    cl->fp32_gmacs = cl->ghz * fp32;
    cl->llc_bytes = tc_probe_llc_bytes();
    return TC_OK;
}

/* ---- the receipt ---- */

static cJSON *checks_json(const tc_ks_result *r)
{
    cJSON *checks = cJSON_CreateArray();
    for (int i = 0; i < r->n; i++) {
        const tc_ks_check *ck = &r->c[i];
        cJSON *k = cJSON_CreateObject();
        cJSON_AddStringToObject(k, "check", ck->name);
        cJSON_AddBoolToObject(k, "pass", ck->pass);
        if (ck->has_value) {
            if (isfinite(ck->value)) cJSON_AddNumberToObject(k, "value", ck->value);
            else cJSON_AddStringToObject(k, "value", ck->value > 0 ? "inf" : "nan");
            cJSON_AddNumberToObject(k, "limit", ck->limit);
        }
        if (ck->detail[0]) cJSON_AddStringToObject(k, "detail", ck->detail);
        cJSON_AddItemToArray(checks, k);
    }
    return checks;
}

static cJSON *case_json(const tc_ks_case *c, const tc_fast_kernels *kt, const tc_ks_result *r, const char *name)
{
    char shape[64];
    tc_ks_shape_text(c, shape, sizeof shape);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "kernel", tc_ks_kernel_name[c->kernel]);
    cJSON_AddStringToObject(o, "variant", tc_ks_variant(kt, c->kernel));
    cJSON_AddStringToObject(o, "shape", shape);
    cJSON *sh = cJSON_AddObjectToObject(o, "dims");
    cJSON_AddNumberToObject(sh, "rows", (double)c->rows);
    cJSON_AddNumberToObject(sh, "K", (double)c->K);
    cJSON_AddNumberToObject(sh, "n", (double)c->n);
    cJSON_AddNumberToObject(sh, "ld", (double)c->ld);
    cJSON_AddStringToObject(o, "input", tc_ks_input_name[c->input]);
    if (c->label) cJSON_AddStringToObject(o, "stands_for", c->label);
    cJSON_AddNumberToObject(o, "seed", (double)c->seed);
    cJSON_AddItemToObject(o, "checks", checks_json(r));
    cJSON_AddStringToObject(o, "verdict", r->pass ? "pass" : "fail");
    if (r->timed) {
        cJSON *p = cJSON_AddObjectToObject(o, "perf");
        cJSON_AddNumberToObject(p, "median_seconds", r->seconds);
        cJSON_AddNumberToObject(p, "rate", r->rate);
        cJSON_AddStringToObject(p, "unit", r->unit);
        cJSON_AddNumberToObject(p, "ceiling", r->ceiling);
        cJSON_AddStringToObject(p, "ceiling_name", r->ceiling_name);
        cJSON_AddNumberToObject(p, "fraction", r->ceiling > 0 ? r->rate / r->ceiling : 0);
        cJSON_AddBoolToObject(p, "cache_resident", r->in_cache);
    }
    return o;
}

/* The receipt before its cases: the engine (taken), the criteria, the
 * ceilings with perf; NULL when out of memory. */
static cJSON *receipt_head(cJSON *engine, const tc_kernels_opts *o, const tc_ks_ceilings *cl)
{
    cJSON *root = tc_receipt_new("kernels");
    if (!root) {
        cJSON_Delete(engine);
        return NULL;
    }
    cJSON_AddItemToObject(root, "engine", engine ? engine : cJSON_CreateObject());
    cJSON *cr = cJSON_AddObjectToObject(root, "tolerances");
    cJSON_AddStringToObject(cr, "integers", "exact: sums, int8 codes, q8 scale and code sum bit for bit");
    cJSON_AddNumberToObject(cr, "float_tol", TC_KS_FLOAT_TOL);
    cJSON_AddStringToObject(cr, "float_metric", "max |c - r| / scale; scale = sum |w x| (dot products), "
                            "max |r| (norms), max |v| (attention)");
    cJSON_AddNumberToObject(cr, "guard_bytes", TC_KS_GUARD);
    cJSON_AddNumberToObject(cr, "seed", (double)o->seed);
    cJSON_AddStringToObject(cr, "filter", o->filter ? o->filter : "");
    cJSON_AddBoolToObject(cr, "perf", o->perf);
    if (o->perf) {
        cJSON *c = cJSON_AddObjectToObject(root, "ceilings");
        cJSON_AddNumberToObject(c, "threads", 1);
        cJSON_AddNumberToObject(c, "read_bandwidth_gbps", cl->bw_gbps);
        cJSON_AddNumberToObject(c, "ghz", cl->ghz);
        cJSON_AddStringToObject(c, "peak_isa", cl->peak_isa);
        cJSON_AddNumberToObject(c, "int8_macs_per_cycle", cl->int8_macs);
        cJSON_AddNumberToObject(c, "int8_mac_peak_gmacs", cl->int8_gmacs);
        cJSON_AddNumberToObject(c, "fp32_fma_peak_gmacs", cl->fp32_gmacs);
        cJSON_AddNumberToObject(c, "repeat", o->repeat);
        cJSON_AddNumberToObject(c, "last_level_cache_bytes", (double)cl->llc_bytes);
    }
    cJSON_AddArrayToObject(root, "cases");
    return root;
}

/* ---- the run ---- */

/* What the run has seen so far. */
typedef struct tally {
    size_t n_run, n_pass;
    char first_failure[256];
} tally;

/* One generated case: its data from the seeded generator, then the run. */
static tc_status run_generated(const tc_ks_case *c, const tc_fast_kernels *kt, const tc_ks_ceilings *cl,
                               uint32_t repeat, tc_ks_result *r, tc_err *err)
{
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    if (!g) return tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
    gsl_rng_set(g, c->seed);
    tc_ks_data d;
    tc_status st = tc_ks_generate(c, g, &d, err);
    gsl_rng_free(g);
    if (!st) st = tc_ks_run_case(c, &d, kt, cl, repeat, r, err);
    tc_ks_data_free(&d);
    return st;
}

/* Count, print and record one case's result. */
static void report_case(const tc_ks_case *c, const tc_fast_kernels *kt, const tc_ks_result *r, bool verbose,
                        FILE *out, cJSON *cases, tally *tl)
{
    char shape[64], name[160];
    tc_ks_shape_text(c, shape, sizeof shape);
    snprintf(name, sizeof name, "%s %s %s", tc_ks_kernel_name[c->kernel], shape, tc_ks_input_name[c->input]);
    tl->n_run++;
    tl->n_pass += r->pass;
    if (!r->pass && !tl->first_failure[0]) snprintf(tl->first_failure, sizeof tl->first_failure, "%s", name);
    if (out && (!r->pass || verbose)) {
        fprintf(out, "%-4s %-44s %s", r->pass ? "ok" : "FAIL", name, tc_ks_variant(kt, c->kernel));
        for (int k = 0; k < r->n; k++)
            if (!r->c[k].pass) fprintf(out, "\n       %s: %s", r->c[k].name, r->c[k].detail);
        fputc('\n', out);
    }
    if (cases) cJSON_AddItemToArray(cases, case_json(c, kt, r, name));
    if (out && r->timed)
        fprintf(out, "perf %-44s %-30s %9.2f %-6s of %7.1f = %5.1f %%  (%.3g s)%s\n", name, tc_ks_variant(kt, c->kernel),
                r->rate, r->unit, r->ceiling, 100.0 * r->rate / r->ceiling, r->seconds,
                r->in_cache ? "  [in cache: above DRAM possible]" : "");
}

/* The summary line; the receipt's summary (from its cases) and timings. */
static tc_status summarize(const tc_fast_kernels *kt, const tally *tl, double secs, FILE *out, cJSON *root,
                           tc_err *err)
{
    const char *ff = tl->first_failure;
    if (out)
        fprintf(out, "kernels %s: %zu cases, %zu pass, %zu fail (%.1f s)%s%s\n", kt->isa, tl->n_run, tl->n_pass,
                tl->n_run - tl->n_pass, secs, ff[0] ? "; first failure: " : "", ff);
    if (!root) return TC_OK;
    tc_status s = tc_kernels_finish(root, NULL, err);
    cJSON *tm = cJSON_AddObjectToObject(root, "timings");
    cJSON_AddNumberToObject(tm, "seconds", secs);
    return s;
}

static bool case_passed(const cJSON *c)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "verdict"));
    return v && !strcmp(v, "pass");
}

tc_status tc_kernels_finish(cJSON *r, FILE *out, tc_err *err)
{
    return tc_tally_finish(r, "kernels", "cases", "cases", case_passed, out, err);
}

/* The cases this run takes: the selected ones, or with a shard its share
 * of them; *in_job counts the selected cases (the job's units) and the
 * job's input digest is of their names and seeds. */
static tc_status shard_cases(const tc_ks_case *v, size_t n, const tc_kernels_opts *o, bool *take, uint64_t *in_job,
                             uint64_t *first, uint64_t *end, char sha[65], tc_err *err)
{
    tc_sha256_stream *h = tc_sha256_begin();
    if (!h) return tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!selected(&v[i], o)) continue;
        char name[200], shape[64];
        tc_ks_shape_text(&v[i], shape, sizeof shape);
        int len = snprintf(name, sizeof name, "%s %s %s seed %lu\n", tc_ks_kernel_name[v[i].kernel], shape,
                           tc_ks_input_name[v[i].input], v[i].seed);
        tc_sha256_update(h, name, (size_t)len);
        k++;
    }
    tc_sha256_end(h, sha);
    *in_job = k;
    tc_status s = tc_shard_range(&o->shard, k, "cases", first, end, err);
    if (s) return tc_err_prefix(err, "kernels");
    k = 0;
    for (size_t i = 0; i < n; i++) {
        take[i] = false;
        if (!selected(&v[i], o)) continue;
        take[i] = k >= *first && k < *end;
        k++;
    }
    return TC_OK;
}

/* A shard's section: the job is the engine, seed and filter over the
 * selected cases. */
static tc_status mark_shard(cJSON *root, const tc_kernels_opts *o, uint64_t in_job, uint64_t first, uint64_t end,
                            const char *sha, tc_err *err)
{
    cJSON *opts = cJSON_CreateObject();
    if (!opts) return tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
    cJSON_AddItemToObject(opts, "engine", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(root, "engine"), 1));
    cJSON_AddNumberToObject(opts, "seed", (double)o->seed);
    cJSON_AddStringToObject(opts, "filter", o->filter ? o->filter : "");
    cJSON *job = tc_job_identity(root, opts, sha, err);
    if (!job) return err ? err->status : TC_E_NOMEM;
    return tc_shard_mark(root, &o->shard, "case", in_job, first, end, job, err);
}

void tc_kernels_opts_default(tc_kernels_opts *o)
{
    *o = (tc_kernels_opts){ .engine = "fast", .repeat = 7, .seed = 2385 };
}

tc_status tc_kernels_run_table(const tc_fast_kernels *kt, cJSON *engine, const tc_kernels_opts *o, FILE *out,
                               cJSON **receipt, bool *all_pass_out, tc_err *err)
{
    *all_pass_out = false;
    if (receipt) *receipt = NULL;
    tc_ks_case *v = NULL;
    size_t n = 0;
    tc_ks_ceilings cl = { 0 };
    const char *isa = strncmp(kt->isa, "plugin:", 7) ? kt->isa : NULL;
    tc_status st = tc_shard_on(&o->shard) && o->perf
                       ? tc_fail(err, TC_E_USAGE, "kernels: --perf times cases against this machine's ceilings: "
                                 "run it whole, not as a shard")
                       : table_cases(o, &v, &n, err);
    bool *take = st ? NULL : calloc(n, sizeof *take);
    uint64_t in_job = 0, first = 0, end = 0;
    char sha[TC_SHA256_HEX];
    if (!st && !take) st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
    if (!st) st = shard_cases(v, n, o, take, &in_job, &first, &end, sha, err);
    if (!st && o->perf) st = measure_ceilings(&cl, isa, err);
    cJSON *root = NULL;
    if (!st && receipt) {
        root = receipt_head(engine, o, &cl);   /* takes engine */
        engine = NULL;
        if (!root) st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
    }
    cJSON_Delete(engine);
    if (st) {
        free(v);
        free(take);
        return st;
    }
    tally tl = { 0 };
    const double t0 = tc_now_s();
    if (out && o->perf)
        fprintf(out, "ceilings (1 thread): read %.1f GB/s; int8 %.1f GMAC/s (%.2f GHz x %d, %s); fp32 FMA %.1f GMAC/s\n",
                cl.bw_gbps, cl.int8_gmacs, cl.ghz, cl.int8_macs, cl.peak_isa, cl.fp32_gmacs);
    for (size_t i = 0; i < n && !st; i++) {
        tc_ks_result r;
        if (!take[i]) continue;
        if (!(st = run_generated(&v[i], kt, o->perf ? &cl : NULL, o->repeat, &r, err)))
            report_case(&v[i], kt, &r, o->verbose, out, cJSON_GetObjectItemCaseSensitive(root, "cases"), &tl);
    }
    free(v);
    free(take);
    *all_pass_out = tl.n_run > 0 && tl.n_pass == tl.n_run;
    if (!st) st = summarize(kt, &tl, tc_now_s() - t0, out, root, err);
    if (!st && root && tc_shard_on(&o->shard)) st = mark_shard(root, o, in_job, first, end, sha, err);
    if (st) {
        cJSON_Delete(root);
        return st;
    }
    if (receipt) *receipt = root;
    return TC_OK;
}

tc_status tc_kernels_run(const tc_kernels_opts *o, FILE *out, cJSON **receipt, bool *all_pass_out, tc_err *err)
{
    *all_pass_out = false;
    const char *e = o->engine ? o->engine : "fast";
    const bool fast = !strcmp(e, "fast") || !strncmp(e, "fast:", 5);
    if (o->isa && !fast) return tc_fail(err, TC_E_USAGE, "kernels: --isa applies to --engine fast, not to '%s'", e);
    if (tc_engine_is_ref(e))
        return tc_fail(err, TC_E_USAGE, "kernels: --engine %s: expected fast or a plug-in (PLUGIN.so); the reference "
                       "kernels are what every engine is checked against", e);
    char name[64];
    if (fast && o->isa) snprintf(name, sizeof name, "fast:%s", o->isa);
    const tc_fast_kernels *kt;
    tc_plugin *p;
    tc_status st = tc_engine_kernel_table(fast && o->isa ? name : e, &kt, &p, err);
    if (st) return tc_err_prefix(err, "kernels");
    cJSON *engine = cJSON_CreateObject();
    char sha[TC_SHA256_HEX] = "";
    if (!engine) st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
    else if (!p) {
        snprintf(name, sizeof name, "fast:%s", kt->isa);
        cJSON_AddStringToObject(engine, "id", name);
        cJSON_AddStringToObject(engine, "isa", kt->isa);
        if (kt->layout) cJSON_AddStringToObject(engine, "weight_layout", kt->layout);
    } else if (!(st = tc_sha256_file(tc_plugin_path(p), sha, err))) {
        cJSON_AddStringToObject(engine, "id", kt->isa);
        cJSON_AddStringToObject(engine, "plugin", tc_plugin_path(p));
        cJSON_AddStringToObject(engine, "plugin_sha256", sha);
        cJSON_AddStringToObject(engine, "plugin_name", tc_plugin_name(p));
        cJSON_AddNumberToObject(engine, "abi_version", tc_plugin_abi_version(p));
    }
    if (!st) st = tc_kernels_run_table(kt, engine, o, out, receipt, all_pass_out, err);
    else cJSON_Delete(engine);
    tc_plugin_free(p);
    return st;
}

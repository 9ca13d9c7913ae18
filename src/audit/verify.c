/* verify.c -- checking receipts (`tritcheck verify`), and reading their
 * fields for diff.c and report.c. */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/accuracy.h"
#include "check/compare.h"
#include "receipt/receipt.h"
#include "base/sha256.h"
#include "check/against.h"
#include "check/bench.h"
#include "audit/coverage.h"
#include "audit/merge.h"
#include "audit/verify.h"
#include "audit/verify_shard.h"

/* ---- a list of problems ---- */

typedef struct problems {
    FILE *out;
    int n;
} problems;

static void problem(problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(problems *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (p->out) {
        fputs("  - ", p->out);
        vfprintf(p->out, fmt, ap);
        fputc('\n', p->out);
    }
    va_end(ap);
    p->n++;
}

/* ---- reading a receipt's fields ---- */

const cJSON *tc_audit_at(const cJSON *root, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *v = root;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
        v = cJSON_GetObjectItemCaseSensitive(v, k);
    return v;
}

double tc_audit_num(const cJSON *v)
{
    if (cJSON_IsNumber(v)) return v->valuedouble;
    const char *s = cJSON_GetStringValue(v);
    if (s && !strcmp(s, "inf")) return INFINITY;
    if (s && !strcmp(s, "-inf")) return -INFINITY;
    return NAN;
}

const cJSON *tc_audit_tap(const cJSON *results, const char *name)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, results) {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "tap"));
        if (n && !strcmp(n, name)) return t;
    }
    return NULL;
}

/* ---- schema: required fields and their types ---- */

enum jt { J_STR, J_NUM, J_BOOL, J_OBJ, J_ARR, J_NUM_OR_STR, J_OBJ_OR_NULL };

static const char *jt_name(enum jt t)
{
    static const char *n[] = { "a string", "a number", "a boolean", "an object", "an array",
                               "a number (or \"inf\"/\"nan\")", "an object or null" };
    return n[t];
}

static bool jt_ok(const cJSON *v, enum jt t)
{
    switch (t) {
    case J_STR: return cJSON_IsString(v);
    case J_NUM: return cJSON_IsNumber(v);
    case J_BOOL: return cJSON_IsBool(v);
    case J_OBJ: return cJSON_IsObject(v);
    case J_ARR: return cJSON_IsArray(v);
    case J_NUM_OR_STR: return cJSON_IsNumber(v) || cJSON_IsString(v);
    case J_OBJ_OR_NULL: return cJSON_IsObject(v) || cJSON_IsNull(v);
    }
    return false;
}

static void need(problems *p, const cJSON *root, const char *path, enum jt t)
{
    const cJSON *v = tc_audit_at(root, path);
    if (!v) problem(p, "schema: %s is missing (expected %s)", path, jt_name(t));
    else if (!jt_ok(v, t)) problem(p, "schema: %s: expected %s", path, jt_name(t));
}

static void check_schema_common(problems *p, const cJSON *r, bool no_model)
{
    static const struct { const char *path; enum jt t; } common[] = {
        { "kind", J_STR }, { "created", J_STR }, { "tool", J_OBJ }, { "tool.version", J_STR },
        { "tool.git_commit", J_STR }, { "host", J_OBJ }, { "host.cpu_model", J_STR },
        { "model", J_OBJ }, { "model.file", J_STR }, { "model.size", J_NUM }, { "model.sha256", J_STR },
        { "model.architecture", J_STR }, { "model.hparams", J_OBJ }, { "model.tensor_types", J_OBJ },
        { "digest", J_OBJ }, { "digest.algorithm", J_STR }, { "digest.value", J_STR },
    };
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        if (!no_model || strncmp(common[i].path, "model", 5)) need(p, r, common[i].path, common[i].t);
}

static void check_schema_compare(problems *p, const cJSON *r)
{
    static const struct { const char *path; enum jt t; } f[] = {
        { "input", J_OBJ }, { "input.tokens", J_ARR }, { "engines", J_OBJ }, { "engines.ref", J_OBJ },
        { "engines.ref.id", J_STR }, { "engines.cand", J_OBJ }, { "engines.cand.id", J_STR },
        { "criteria", J_OBJ }, { "criteria.mode", J_STR }, { "criteria.tolerance", J_NUM },
        { "criteria.q8_margin", J_NUM }, { "results", J_ARR }, { "summary", J_OBJ },
        { "summary.verdict", J_STR }, { "summary.taps_compared", J_NUM }, { "summary.taps_failed", J_NUM },
        { "summary.first_failure", J_OBJ_OR_NULL }, { "determinism", J_OBJ }, { "determinism.measured", J_BOOL },
        { "timings", J_OBJ },
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) need(p, r, f[i].path, f[i].t);
    const cJSON *res = tc_audit_at(r, "results"), *t;
    int i = 0;
    cJSON_ArrayForEach(t, res) {
        static const struct { const char *k; enum jt t; } tf[] = {
            { "tap", J_STR }, { "kind", J_STR }, { "positions", J_NUM }, { "scaled_err", J_NUM_OR_STR },
            { "max_abs", J_NUM_OR_STR }, { "sha256_ref", J_STR }, { "sha256_cand", J_STR }, { "pass", J_BOOL },
        };
        for (size_t k = 0; k < sizeof tf / sizeof tf[0]; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, tf[k].k);
            if (!v || !jt_ok(v, tf[k].t)) problem(p, "schema: results[%d].%s: expected %s", i, tf[k].k, jt_name(tf[k].t));
        }
        i++;
    }
    const char *mode = cJSON_GetStringValue(tc_audit_at(r, "criteria.mode"));
    if (mode && strcmp(mode, "isolated") && strcmp(mode, "chained"))
        problem(p, "schema: criteria.mode: expected \"isolated\" or \"chained\", found \"%s\"", mode);
    const char *v = cJSON_GetStringValue(tc_audit_at(r, "summary.verdict"));
    if (v && strcmp(v, "pass") && strcmp(v, "fail") && strcmp(v, "incomplete"))
        problem(p, "schema: summary.verdict: expected \"pass\", \"fail\" or \"incomplete\", found \"%s\"", v);
}

/* ---- consistency: the verdicts follow from the figures ---- */

static void coverage_problem(void *ctx, const char *line)
{
    problem(ctx, "%s", line);
}

static void check_consistency_compare(problems *p, const cJSON *r)
{
    double tol = tc_audit_num(tc_audit_at(r, "criteria.tolerance"));
    const cJSON *t, *res = tc_audit_at(r, "results");
    int n = 0, failed = 0;
    double min_fail_pos = INFINITY;
    const char *first = NULL;
    size_t n_tokens = (size_t)cJSON_GetArraySize(tc_audit_at(r, "input.tokens"));
    cJSON_ArrayForEach(t, res) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "tap"));
        if (!name) continue;
        double scaled = tc_audit_num(cJSON_GetObjectItemCaseSensitive(t, "scaled_err"));
        double nonfinite = tc_audit_num(cJSON_GetObjectItemCaseSensitive(t, "nonfinite"));
        double mism = tc_audit_num(cJSON_GetObjectItemCaseSensitive(t, "code_mismatches"));
        double positions = tc_audit_num(cJSON_GetObjectItemCaseSensitive(t, "positions"));
        /* q8 taps: no code may differ but by an accepted boundary flip, in either mode */
        bool expect = scaled <= tol && !(nonfinite > 0) && !(mism > 0);
        bool pass = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "pass"));
        if (pass != expect)
            problem(p, "consistency: %s: pass is %s, but scaled_err %g against tolerance %g%s says %s", name,
                    pass ? "true" : "false", scaled, tol, mism > 0 ? " and code mismatches" : "",
                    expect ? "pass" : "fail");
        if (positions > (double)n_tokens)
            problem(p, "consistency: %s: %g positions compared, but the input has %zu tokens", name, positions, n_tokens);
        const cJSON *top1 = cJSON_GetObjectItemCaseSensitive(t, "top1_agree");
        if (top1 && tc_audit_num(top1) > positions)
            problem(p, "consistency: %s: top1_agree %g exceeds %g positions", name, tc_audit_num(top1), positions);
        if (!pass) {
            failed++;
            double fp = tc_audit_num(cJSON_GetObjectItemCaseSensitive(t, "fail_position"));
            if (fp < min_fail_pos) {
                min_fail_pos = fp;
                first = name;
            }
        }
        n++;
    }
    if (tc_audit_num(tc_audit_at(r, "summary.taps_compared")) != n)
        problem(p, "consistency: summary.taps_compared is %g, results lists %d taps",
                tc_audit_num(tc_audit_at(r, "summary.taps_compared")), n);
    if (tc_audit_num(tc_audit_at(r, "summary.taps_failed")) != failed)
        problem(p, "consistency: summary.taps_failed is %g, but %d results fail",
                tc_audit_num(tc_audit_at(r, "summary.taps_failed")), failed);
    const char *verdict = cJSON_GetStringValue(tc_audit_at(r, "summary.verdict"));
    const char *want = tc_coverage_verdict(r);
    if (verdict && strcmp(verdict, want))
        problem(p, "consistency: summary.verdict is \"%s\", but the results and coverage say \"%s\" (%d of %d "
                "taps fail, %d not compared)", verdict, want, failed, n,
                cJSON_GetArraySize(tc_audit_at(r, "summary.coverage.not_compared")));
    tc_coverage_check(r, coverage_problem, p);
    const cJSON *ff = tc_audit_at(r, "summary.first_failure");
    const char *fft = cJSON_GetStringValue(tc_audit_at(r, "summary.first_failure.tap"));
    if (failed && (!fft || !first || tc_audit_num(tc_audit_at(r, "summary.first_failure.position")) != min_fail_pos))
        problem(p, "consistency: summary.first_failure names %s, but the earliest failure is %s at position %g",
                fft ? fft : "nothing", first ? first : "?", min_fail_pos);
    if (!failed && ff && !cJSON_IsNull(ff)) problem(p, "consistency: summary.first_failure is set, but no tap fails");
    double pt = tc_audit_num(tc_audit_at(r, "input.prompt_tokens")),
           gt = tc_audit_num(tc_audit_at(r, "input.generated_tokens"));
    if (!isnan(pt) && !isnan(gt) && pt + gt != (double)n_tokens)
        problem(p, "consistency: input.tokens has %zu ids, but prompt_tokens + generated_tokens = %g", n_tokens, pt + gt);
}

/* ---- rerun ---- */

/* The receipt's input.tokens as a new array of *n ids. */
static tc_status receipt_tokens(const cJSON *r, int32_t **out, size_t *n, tc_err *err)
{
    const cJSON *tl = tc_audit_at(r, "input.tokens"), *it;
    int32_t *tokens = malloc(((size_t)cJSON_GetArraySize(tl) + 1) * sizeof *tokens);
    if (!tokens) return tc_fail(err, TC_E_NOMEM, "out of memory");
    *n = 0;
    cJSON_ArrayForEach(it, tl) tokens[(*n)++] = (int32_t)tc_audit_num(it);
    *out = tokens;
    return TC_OK;
}

/* Each of the n paths must print the same in the receipt and its rerun;
 * the two forms are shown up to `shown` characters. */
static void same_parts(problems *p, const cJSON *r, const cJSON *again, const char *const *paths, size_t n, int shown)
{
    for (size_t i = 0; i < n; i++) {
        const cJSON *a = tc_audit_at(r, paths[i]), *b = tc_audit_at(again, paths[i]);
        char *x = a ? cJSON_PrintUnformatted(a) : NULL, *y = b ? cJSON_PrintUnformatted(b) : NULL;
        if ((x || y) && (!x || !y || strcmp(x, y)))
            problem(p, "rerun: %s: recorded %.*s%s, now %.*s%s", paths[i], shown, x ? x : "absent",
                    x && strlen(x) > (size_t)shown ? "..." : "", shown, y ? y : "absent",
                    y && strlen(y) > (size_t)shown ? "..." : "");
        free(x);
        free(y);
    }
}

/* The comparison a compare receipt records, as a job: the engines (a
 * recording by its directory), precision, threads, context, criteria and,
 * unless a recording brings its own, the tokens (*tokens, the caller
 * frees).  ref and cand hold the engine names. */
static tc_status compare_job_of(const cJSON *r, const char *model, tc_compare_job *job, char ref[512],
                                char cand[512], int32_t **tokens, tc_err *err)
{
    *tokens = NULL;
    tc_engine_opts_default(&job->eng);
    tc_compare_opts_default(&job->opts);
    const cJSON *eref = tc_audit_at(r, "engines.ref"), *ecand = tc_audit_at(r, "engines.cand");
    const char *rid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(eref, "id"));
    const char *cid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ecand, "id"));
    const char *rrec = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(eref, "recording"));
    const char *crec = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ecand, "recording"));
    if (!rid || !cid) return tc_fail(err, TC_E_FORMAT, "rerun: engines.ref.id and engines.cand.id are needed");
    snprintf(ref, 512, "%s%s", rrec ? "dump:" : "", rrec ? rrec : rid);
    snprintf(cand, 512, "%s%s", crec ? "dump:" : "", crec ? crec : cid);
    job->ref = ref;
    job->cand = cand;
    job->model_path = model;
    const cJSON *live = rrec ? ecand : eref;
    const char *prec = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(live, "precision"));
    if (prec && tc_precision_from_name(prec, &job->eng.precision))
        return tc_fail(err, TC_E_FORMAT, "rerun: unknown precision \"%s\"", prec);
    double th = tc_audit_num(cJSON_GetObjectItemCaseSensitive(live, "threads"));
    double ctx = tc_audit_num(cJSON_GetObjectItemCaseSensitive(live, "context"));
    if (th >= 1) job->eng.n_threads = (int)th;
    if (ctx >= 1) job->eng.n_ctx = (uint32_t)ctx;
    job->inject = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ecand, "inject"));
    const char *mode = cJSON_GetStringValue(tc_audit_at(r, "criteria.mode"));
    job->opts.mode = mode && !strcmp(mode, "chained") ? TC_COMPARE_CHAINED : TC_COMPARE_ISOLATED;
    job->opts.tol = tc_audit_num(tc_audit_at(r, "criteria.tolerance"));
    job->opts.q8_margin = tc_audit_num(tc_audit_at(r, "criteria.q8_margin"));
    job->opts.determinism = cJSON_IsTrue(tc_audit_at(r, "determinism.measured"));
    job->opts.select = cJSON_GetStringValue(tc_audit_at(r, "criteria.selection"));
    if (rrec || crec) return TC_OK;
    size_t n;
    tc_status s = receipt_tokens(r, tokens, &n, err);
    if (s) return s;
    job->in.tokens = *tokens;
    job->in.n_tokens = (uint32_t)n;
    double pt = tc_audit_num(tc_audit_at(r, "input.prompt_tokens"));
    job->n_prompt = pt >= 1 ? (uint32_t)pt : 0;
    return TC_OK;
}

/* Every figure of every tap the receipt lists, as the rerun gives it. */
static void same_taps(problems *p, const cJSON *r, const cJSON *again)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, tc_audit_at(r, "results")) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "tap"));
        const cJSON *u = name ? tc_audit_tap(tc_audit_at(again, "results"), name) : NULL;
        if (!u) {
            problem(p, "rerun: %s: not compared again", name ? name : "?");
            continue;
        }
        const cJSON *f;
        cJSON_ArrayForEach(f, t) {
            const cJSON *g = cJSON_GetObjectItemCaseSensitive(u, f->string);
            char *a = cJSON_PrintUnformatted(f), *b = g ? cJSON_PrintUnformatted(g) : NULL;
            if (!b || strcmp(a, b)) problem(p, "rerun: %s.%s: recorded %s, now %s", name, f->string, a, b ? b : "absent");
            free(a);
            free(b);
        }
    }
}

static tc_status rerun_compare(problems *p, const cJSON *r, const char *model, tc_err *err)
{
    tc_compare_job job = { 0 };
    char ref[512], cand[512];
    int32_t *tokens = NULL;
    tc_status s = compare_job_of(r, model, &job, ref, cand, &tokens, err);
    if (s) return s;
    cJSON *again = NULL;
    bool pass;
    s = tc_compare_job_run(&job, NULL, &again, &pass, err);
    free(tokens);
    if (s) return s;
    /* every figure of every tap, the verdict, determinism and the kernel counts */
    same_taps(p, r, again);
    static const char *const whole[] = { "summary", "determinism.bit_identical", "engines.ref.kernels",
                                         "engines.cand.kernels", "input.tokens", "model.sha256" };
    same_parts(p, r, again, whole, sizeof whole / sizeof whole[0], INT_MAX);
    cJSON_Delete(again);
    return TC_OK;
}

/* ---- accuracy receipts ---- */

static void check_schema_accuracy(problems *p, const cJSON *r)
{
    static const struct { const char *path; enum jt t; } f[] = {
        { "input", J_OBJ }, { "input.tokens", J_ARR }, { "input.chunk", J_NUM }, { "engines", J_OBJ },
        { "engines.baseline", J_OBJ }, { "engines.baseline.id", J_STR }, { "engines.baseline.precision", J_STR },
        { "engines.subject", J_OBJ }, { "engines.subject.id", J_STR }, { "engines.subject.precision", J_STR },
        { "comparison", J_OBJ }, { "headline", J_ARR }, { "per_layer", J_ARR }, { "per_position", J_OBJ },
        { "per_position.kl", J_ARR }, { "per_position.top1_agree", J_ARR }, { "per_position.top5_overlap", J_ARR },
        { "per_position.nll_baseline", J_ARR }, { "per_position.nll_subject", J_ARR }, { "kl", J_OBJ },
        { "kl.definition", J_STR }, { "kl.histogram", J_OBJ },
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) need(p, r, f[i].path, f[i].t);
    const cJSON *h;
    int i = 0;
    cJSON_ArrayForEach(h, tc_audit_at(r, "headline")) {
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(h, "metric")) ||
            !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(h, "value")) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(h, "definition")))
            problem(p, "schema: headline[%d]: expected {metric, value, definition}", i);
        i++;
    }
}

/* Sum and count of a numeric array. */
static double arr_sum(const cJSON *a, size_t *n)
{
    const cJSON *v;
    double s = 0.0;
    *n = 0;
    cJSON_ArrayForEach(v, a) {
        s += tc_audit_num(v);
        (*n)++;
    }
    return s;
}

static double headline_value(const cJSON *r, const char *metric)
{
    const cJSON *h;
    cJSON_ArrayForEach(h, tc_audit_at(r, "headline")) {
        const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "metric"));
        if (m && !strcmp(m, metric))
            return tc_audit_num(cJSON_GetObjectItemCaseSensitive(h, "value"));
    }
    return NAN;
}

/* A recomputed figure must equal the recorded one (to rounding of the
 * decimal form). */
static void agree(problems *p, const char *what, double recorded, double recomputed)
{
    if (isnan(recorded) && isnan(recomputed)) return;
    if (!(fabs(recorded - recomputed) <= 1e-12 * fmax(1.0, fabs(recomputed))))
        problem(p, "consistency: %s is %.17g, but the per-position figures give %.17g", what, recorded, recomputed);
}

static void check_consistency_accuracy(problems *p, const cJSON *r)
{
    size_t n_tok = (size_t)cJSON_GetArraySize(tc_audit_at(r, "input.tokens")), n_kl, n_t1, n_t5, n_nb, n_ns;
    double chunk = tc_audit_num(tc_audit_at(r, "input.chunk"));
    double kl = arr_sum(tc_audit_at(r, "per_position.kl"), &n_kl),
           t1 = arr_sum(tc_audit_at(r, "per_position.top1_agree"), &n_t1);
    double t5 = arr_sum(tc_audit_at(r, "per_position.top5_overlap"), &n_t5);
    double nb = arr_sum(tc_audit_at(r, "per_position.nll_baseline"), &n_nb),
           ns = arr_sum(tc_audit_at(r, "per_position.nll_subject"), &n_ns);
    if (n_kl != n_tok || n_t1 != n_tok || n_t5 != n_tok)
        problem(p, "consistency: %zu tokens, but per_position has %zu KL, %zu top-1 and %zu top-5 figures", n_tok, n_kl,
                n_t1, n_t5);
    size_t chunks = chunk >= 1 ? (size_t)ceil((double)n_tok / chunk) : 1;
    if (n_nb != n_tok - chunks || n_ns != n_tok - chunks)
        problem(p, "consistency: %zu tokens in %zu chunks predict %zu next tokens, but per_position has %zu and %zu NLLs",
                n_tok, chunks, n_tok - chunks, n_nb, n_ns);
    if (n_kl) {
        agree(p, "headline kl_mean_nats", headline_value(r, "kl_mean_nats"), kl / (double)n_kl);
        agree(p, "kl.mean", tc_audit_num(tc_audit_at(r, "kl.mean")), kl / (double)n_kl);
        agree(p, "headline top1_agreement", headline_value(r, "top1_agreement"), t1 / (double)n_t1);
        agree(p, "headline top5_overlap", headline_value(r, "top5_overlap"), t5 / (5.0 * (double)n_t5));
    }
    if (n_nb) {
        double pb = exp(nb / (double)n_nb), ps = exp(ns / (double)n_ns);
        agree(p, "headline perplexity_baseline", headline_value(r, "perplexity_baseline"), pb);
        agree(p, "headline perplexity_subject", headline_value(r, "perplexity_subject"), ps);
        agree(p, "headline perplexity_ratio", headline_value(r, "perplexity_ratio"), ps / pb);
    }
    double mincos = INFINITY;
    const cJSON *l;
    cJSON_ArrayForEach(l, tc_audit_at(r, "per_layer"))
        mincos = fmin(mincos, tc_audit_num(cJSON_GetObjectItemCaseSensitive(l, "cosine")));
    if (isfinite(mincos)) agree(p, "headline blk_out_cosine_min", headline_value(r, "blk_out_cosine_min"), mincos);
    const cJSON *pt = tc_audit_at(r, "per_tensor");
    if (pt) {
        double sum = 0.0;
        size_t n = 0;
        cJSON_ArrayForEach(l, pt) {
            sum += tc_audit_num(cJSON_GetObjectItemCaseSensitive(l, "rel_rms_error"));
            n++;
        }
        if (n) agree(p, "headline weight_rel_rms_error_mean", headline_value(r, "weight_rel_rms_error_mean"), sum / (double)n);
    }
    const cJSON *c;
    double total = 0.0;
    cJSON_ArrayForEach(c, tc_audit_at(r, "kl.histogram.counts")) total += tc_audit_num(c);
    if (total != (double)n_kl) problem(p, "consistency: the KL histogram counts %g positions, per_position has %zu", total, n_kl);
}

/* Everything measured must come out the same: per position, per layer,
 * per tensor, the headline and the KL statistics. */
static tc_status rerun_accuracy(problems *p, const cJSON *r, const tc_verify_opts *vo, tc_err *err)
{
    tc_accuracy_opts o;
    tc_accuracy_opts_default(&o);
    o.n_random = 0;
    o.model_path = vo->model;
    if (tc_audit_at(r, "baseline_model")) {
        if (!vo->baseline) return tc_fail(err, TC_E_USAGE, "rerun: this receipt has a latent baseline: give --baseline FILE");
        o.baseline_path = vo->baseline;
    }
    const char *eng = cJSON_GetStringValue(tc_audit_at(r, "engines.subject.id"));
    const char *ps = cJSON_GetStringValue(tc_audit_at(r, "engines.subject.precision"));
    const char *pb = cJSON_GetStringValue(tc_audit_at(r, "engines.baseline.precision"));
    if (!eng || !ps || !pb || tc_precision_from_name(ps, &o.precision) || tc_precision_from_name(pb, &o.baseline_precision))
        return tc_fail(err, TC_E_FORMAT, "rerun: engines.subject/baseline id and precision are needed");
    o.engine = eng;
    double th = tc_audit_num(tc_audit_at(r, "engines.subject.threads"));
    o.n_threads = th >= 1 ? (int)th : 1;
    o.ctx = (uint32_t)tc_audit_num(tc_audit_at(r, "input.chunk"));
    int32_t *tokens;
    size_t n;
    tc_status s = receipt_tokens(r, &tokens, &n, err);
    if (s) return s;
    o.tokens = tokens;
    o.n_tokens = (uint32_t)n;
    cJSON *again = NULL;
    s = tc_accuracy_run(&o, NULL, &again, err);
    free(tokens);
    if (s) return s;
    static const char *const parts[] = { "per_position.kl", "per_position.top1_agree", "per_position.top5_overlap",
                                         "per_position.nll_baseline", "per_position.nll_subject", "per_chunk", "per_layer",
                                         "per_tensor", "headline", "kl.mean", "kl.median", "kl.p95", "kl.p99", "kl.max",
                                         "kl.histogram", "engines.subject.kernels", "engines.baseline.kernels",
                                         "model.sha256" };
    same_parts(p, r, again, parts, sizeof parts / sizeof parts[0], 60);
    cJSON_Delete(again);
    return TC_OK;
}

/* ---- conform summaries ---- */

static void check_conform(problems *p, const cJSON *r, const char *path)
{
    static const struct { const char *path; enum jt t; } f[] = {
        { "suite", J_OBJ }, { "suite.name", J_STR }, { "suite.manifest_sha256", J_STR }, { "cases", J_ARR },
        { "summary", J_OBJ }, { "summary.cases", J_NUM }, { "summary.conforming", J_NUM }, { "summary.verdict", J_STR },
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) need(p, r, f[i].path, f[i].t);
    if (p->n) return;
    int n = 0, ok = 0;
    const cJSON *c;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    cJSON_ArrayForEach(c, tc_audit_at(r, "cases")) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
        const char *expect = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "expect"));
        const char *verdict = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "verdict"));
        const char *wff = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "expect_first_failure"));
        const char *ff = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "first_failure"));
        bool conforms = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "conforms"));
        bool want = expect && verdict && !strcmp(expect, verdict) && (!wff || (ff && !strcmp(ff, wff)));
        if (conforms != want)
            problem(p, "consistency: case %s: conforms is %s, but expect %s and verdict %s say %s", name ? name : "?",
                    conforms ? "true" : "false", expect ? expect : "?", verdict ? verdict : "?", want ? "true" : "false");
        /* the case's own receipt, when it is beside the summary */
        const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "receipt"));
        const char *dg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "receipt_digest"));
        char rp[8200];
        snprintf(rp, sizeof rp, "%s/%s", dir, file ? file : "");
        cJSON *cr;
        if (file && access(rp, R_OK) == 0 && tc_receipt_load(rp, &cr, NULL) == TC_OK) {
            const char *v = cJSON_GetStringValue(tc_audit_at(cr, "summary.verdict"));
            const char *cdg = cJSON_GetStringValue(tc_audit_at(cr, "digest.value"));
            if (!dg || strcmp(dg, cdg ? cdg : ""))
                problem(p, "case %s: %s's digest is not the one the summary records", name ? name : "?", file);
            else if (tc_receipt_check_seal(cr, NULL, NULL))
                problem(p, "case %s: %s fails its own digest", name ? name : "?", file);
            else if (!v || !verdict || strcmp(v, verdict))
                problem(p, "case %s: the summary says %s, its receipt says %s", name ? name : "?", verdict ? verdict : "?", v ? v : "?");
            cJSON_Delete(cr);
        }
        n++;
        ok += conforms;
    }
    if (tc_audit_num(tc_audit_at(r, "summary.cases")) != n || tc_audit_num(tc_audit_at(r, "summary.conforming")) != ok)
        problem(p, "consistency: summary counts %g cases, %g conforming; the cases say %d and %d",
                tc_audit_num(tc_audit_at(r, "summary.cases")), tc_audit_num(tc_audit_at(r, "summary.conforming")), n,
                ok);
    const char *v = cJSON_GetStringValue(tc_audit_at(r, "summary.verdict"));
    const char *want = ok == n && n > 0 ? "conforms" : "does not conform";
    if (v && strcmp(v, want)) problem(p, "consistency: summary.verdict is \"%s\", the cases say \"%s\"", v, want);
}

/* ---- kernels receipts ---- */

/* Schema of a kernels receipt, and that every verdict follows from its
 * checks: a check with a value and a limit passes iff value <= limit, a
 * case passes iff all its checks do, the summary counts the cases and
 * names the first failing one, a perf fraction is rate / ceiling. */
static void check_kernels(problems *p, const cJSON *r)
{
    static const struct { const char *path; enum jt t; } f[] = {
        { "engine", J_OBJ }, { "engine.id", J_STR }, { "tolerances", J_OBJ }, { "tolerances.float_tol", J_NUM },
        { "cases", J_ARR }, { "summary", J_OBJ }, { "summary.cases", J_NUM }, { "summary.passed", J_NUM },
        { "summary.failed", J_NUM }, { "summary.verdict", J_STR },
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) need(p, r, f[i].path, f[i].t);
    if (p->n) return;
    int n = 0, ok = 0;
    const char *first = NULL;
    const cJSON *c;
    cJSON_ArrayForEach(c, tc_audit_at(r, "cases")) {
        static const char *const sf[] = { "name", "kernel", "variant", "shape", "verdict" };
        for (size_t i = 0; i < sizeof sf / sizeof sf[0]; i++)
            if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, sf[i])))
                problem(p, "schema: cases[%d].%s: expected a string", n, sf[i]);
        const cJSON *checks = cJSON_GetObjectItemCaseSensitive(c, "checks"), *k;
        if (!cJSON_IsArray(checks)) problem(p, "schema: cases[%d].checks: expected an array", n);
        if (p->n) return;
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
        bool all = true;
        cJSON_ArrayForEach(k, checks) {
            const char *kn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "check"));
            const cJSON *pass = cJSON_GetObjectItemCaseSensitive(k, "pass");
            if (!kn || !cJSON_IsBool(pass)) {
                problem(p, "schema: case %s: a check without a name or a boolean pass", name);
                continue;
            }
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(k, "value"), *lim = cJSON_GetObjectItemCaseSensitive(k, "limit");
            if (v && lim && (tc_audit_num(v) <= tc_audit_num(lim)) != cJSON_IsTrue(pass))
                problem(p, "consistency: case %s: %s %g against limit %g says %s, the receipt says %s", name, kn,
                        tc_audit_num(v), tc_audit_num(lim), tc_audit_num(v) <= tc_audit_num(lim) ? "pass" : "fail",
                        cJSON_IsTrue(pass) ? "pass" : "fail");
            all = all && cJSON_IsTrue(pass);
        }
        const char *verdict = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "verdict"));
        if (strcmp(verdict, all ? "pass" : "fail"))
            problem(p, "consistency: case %s: verdict %s, its checks say %s", name, verdict, all ? "pass" : "fail");
        const cJSON *perf = cJSON_GetObjectItemCaseSensitive(c, "perf");
        if (perf) {
            double rate = tc_audit_num(tc_audit_at(perf, "rate")), ceil = tc_audit_num(tc_audit_at(perf, "ceiling")),
                   frac = tc_audit_num(tc_audit_at(perf, "fraction"));
            if (!(ceil > 0) || !(fabs(frac - rate / ceil) <= 1e-9 * fabs(frac) + 1e-12))
                problem(p, "consistency: case %s: perf fraction %g is not rate %g / ceiling %g", name, frac, rate, ceil);
        }
        if (!all && !first) first = name;
        n++;
        ok += all;
    }
    if (tc_audit_num(tc_audit_at(r, "summary.cases")) != n || tc_audit_num(tc_audit_at(r, "summary.passed")) != ok ||
        tc_audit_num(tc_audit_at(r, "summary.failed")) != n - ok)
        problem(p, "consistency: summary counts %g cases, %g passed, %g failed; the cases say %d, %d and %d",
                tc_audit_num(tc_audit_at(r, "summary.cases")), tc_audit_num(tc_audit_at(r, "summary.passed")),
                tc_audit_num(tc_audit_at(r, "summary.failed")), n, ok, n - ok);
    const char *v = cJSON_GetStringValue(tc_audit_at(r, "summary.verdict")), *want = n > 0 && ok == n ? "pass" : "fail";
    if (strcmp(v, want)) problem(p, "consistency: summary.verdict is \"%s\", the cases say \"%s\"", v, want);
    const char *ff = cJSON_GetStringValue(tc_audit_at(r, "summary.first_failure"));
    if ((ff == NULL) != (first == NULL) || (ff && strcmp(ff, first)))
        problem(p, "consistency: summary.first_failure is %s, the cases say %s", ff ? ff : "null", first ? first : "null");
}

/* ---- bench receipts: the derived figures follow from the measured ones ---- */

/* bench.against: each side's median, min and max over the rounds it
 * lists, the ratios round by round, and tritcheck's last round the bench
 * section's own figures. */
static void check_against(problems *p, const cJSON *r)
{
    const cJSON *a = tc_audit_at(r, "bench.against");
    if (!a) return;
    const double rounds = tc_audit_num(tc_audit_at(a, "rounds"));
    if (!(rounds >= 1 && rounds <= TC_AGAINST_MAX_ROUNDS && rounds == floor(rounds))) {
        problem(p, "consistency: bench.against.rounds: expected 1 to %d", TC_AGAINST_MAX_ROUNDS);
        return;
    }
    const uint32_t n = (uint32_t)rounds;
    static const char *const side[] = { "prefill_tok_s", "decode_tok_s", "peer_prefill_tok_s", "peer_decode_tok_s" };
    double v[4][TC_AGAINST_MAX_ROUNDS];
    for (int i = 0; i < 4; i++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(a, side[i]);
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "rounds");
        if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) != (int)n) {
            problem(p, "consistency: bench.against.%s.rounds: expected %u numbers", side[i], n);
            return;
        }
        for (uint32_t k = 0; k < n; k++) {
            v[i][k] = tc_audit_num(cJSON_GetArrayItem(list, (int)k));
            if (!(v[i][k] > 0) || !isfinite(v[i][k])) {
                problem(p, "consistency: bench.against.%s.rounds[%u]: expected a positive number", side[i], k);
                return;
            }
        }
        double w[TC_AGAINST_MAX_ROUNDS];
        memcpy(w, v[i], n * sizeof *w);
        const tc_stat s = tc_stat_of(w, n);
        const double got[3] = { tc_audit_num(tc_audit_at(o, "median")), tc_audit_num(tc_audit_at(o, "min")),
                                tc_audit_num(tc_audit_at(o, "max")) },
                     want[3] = { s.median, s.min, s.max };
        for (int j = 0; j < 3; j++)
            if (!(fabs(got[j] - want[j]) <= 1e-9 * fabs(want[j])))
                problem(p, "consistency: bench.against.%s: median, min, max %.17g, %.17g, %.17g; its rounds give "
                        "%.17g, %.17g, %.17g", side[i], got[0], got[1], got[2], want[0], want[1], want[2]);
    }
    static const char *const ratio[] = { "prefill_ratio", "decode_ratio" };
    for (int i = 0; i < 2; i++) {
        const tc_stat s = tc_against_ratio(v[i], v[i + 2], n);
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(a, ratio[i]);
        if (!(fabs(tc_audit_num(tc_audit_at(o, "median")) - s.median) <= 1e-9 * s.median) ||
            !(fabs(tc_audit_num(tc_audit_at(o, "min")) - s.min) <= 1e-9 * s.min) ||
            !(fabs(tc_audit_num(tc_audit_at(o, "max")) - s.max) <= 1e-9 * s.max))
            problem(p, "consistency: bench.against.%s is not the rounds' tritcheck / peer (median %.17g)", ratio[i],
                    s.median);
    }
    static const char *const own[] = { "bench.prefill_tok_s.median", "bench.decode_tok_s.median" };
    for (int i = 0; i < 2; i++)
        if (tc_audit_num(tc_audit_at(r, own[i])) != v[i][n - 1])
            problem(p, "consistency: %s is not the last round's (%.17g)", own[i], v[i][n - 1]);
}

static void check_bench(problems *p, const cJSON *r)
{
    static const char *const f[] = { "bench.engine", "bench.prefill_tok_s.median", "bench.decode_tok_s.median",
                                     "bench.bandwidth_gb_s", "bench.weight_bytes_per_token", "bench.kv_bytes_per_token",
                                     "bench.floor_tok_s", "bench.decode_gb_s", "bench.decode_floor_ratio",
                                     "bench.prefill_macs_per_token", "bench.prefill_gmac_s", "bench.ghz", "bench.cores",
                                     "bench.macs_per_cycle", "bench.peak_gmac_s", "bench.prefill_peak_ratio" };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) need(p, r, f[i], i ? J_NUM : J_STR);
    if (p->n) return;
    double dec = tc_audit_num(tc_audit_at(r, "bench.decode_tok_s.median")),
           pre = tc_audit_num(tc_audit_at(r, "bench.prefill_tok_s.median"));
    double bytes = tc_audit_num(tc_audit_at(r, "bench.weight_bytes_per_token")) +
                   tc_audit_num(tc_audit_at(r, "bench.kv_bytes_per_token"));
    double floor_tok = tc_audit_num(tc_audit_at(r, "bench.bandwidth_gb_s")) * 1e9 / bytes;
    double peak = tc_audit_num(tc_audit_at(r, "bench.cores")) * tc_audit_num(tc_audit_at(r, "bench.ghz")) *
                  tc_audit_num(tc_audit_at(r, "bench.macs_per_cycle"));
    double gmac = pre * tc_audit_num(tc_audit_at(r, "bench.prefill_macs_per_token")) / 1e9;
    struct { const char *path, *how; double derived; } d[] = {
        { "bench.floor_tok_s", "bandwidth / bytes per token", floor_tok },
        { "bench.decode_gb_s", "decode tok/s x bytes per token", dec * bytes / 1e9 },
        { "bench.decode_floor_ratio", "decode / floor", dec / floor_tok },
        { "bench.prefill_gmac_s", "prefill tok/s x MACs per token", gmac },
        { "bench.peak_gmac_s", "cores x GHz x MACs per cycle", peak },
        { "bench.prefill_peak_ratio", "GMAC/s / peak", gmac / peak },
    };
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        double recorded = tc_audit_num(tc_audit_at(r, d[i].path));
        if (!(fabs(recorded - d[i].derived) <= 1e-9 * fmax(1.0, fabs(d[i].derived))))
            problem(p, "consistency: %s (%s) is %.17g, the measured figures give %.17g", d[i].path, d[i].how, recorded,
                    d[i].derived);
    }
    const cJSON *pd = tc_audit_at(r, "bench.paired");
    if (pd) {   /* the paired ratio: the median of the per-repeat ratios it lists */
        const cJSON *bw = cJSON_GetObjectItemCaseSensitive(pd, "bandwidth_gb_s");
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(pd, "decode_tok_s");
        const int n = cJSON_GetArraySize(bw);
        double b[TC_BENCH_MAX_REPEAT], d[TC_BENCH_MAX_REPEAT];
        if (!cJSON_IsArray(bw) || !cJSON_IsArray(dt) || n < 1 || n > TC_BENCH_MAX_REPEAT || cJSON_GetArraySize(dt) != n) {
            problem(p, "consistency: bench.paired: expected two arrays of 1 to %d numbers of one length",
                    (int)TC_BENCH_MAX_REPEAT);
        } else {
            for (int k = 0; k < n; k++) {
                b[k] = tc_audit_num(cJSON_GetArrayItem(bw, k));
                d[k] = tc_audit_num(cJSON_GetArrayItem(dt, k));
            }
            const double want = tc_bench_paired_ratio(d, b, (uint32_t)n, bytes);
            const double got = tc_audit_num(cJSON_GetObjectItemCaseSensitive(pd, "ratio_median"));
            if (!(fabs(got - want) <= 1e-9 * fmax(1.0, fabs(want))))
                problem(p, "consistency: bench.paired.ratio_median is %.17g, the listed repeats give %.17g", got, want);
        }
    }
    static const char *const spreads[] = { "bench.prefill_tok_s", "bench.decode_tok_s" };
    for (int i = 0; i < 2; i++) {
        const cJSON *o = tc_audit_at(r, spreads[i]);
        double lo = tc_audit_num(cJSON_GetObjectItemCaseSensitive(o, "min")),
               md = tc_audit_num(cJSON_GetObjectItemCaseSensitive(o, "median"));
        double hi = tc_audit_num(cJSON_GetObjectItemCaseSensitive(o, "max"));
        if (!(lo <= md && md <= hi)) problem(p, "consistency: %s: expected min <= median <= max", spreads[i]);
    }
    check_against(p, r);
}

/* ---- one row per receipt kind ---- */

/* A prompt set (compare --prompts): each prompt's view checked (and with
 * model, rerun) by the single comparison's rules, its problems prefixed
 * with the prompt. */
static tc_status each_prompt(problems *p, const cJSON *r, const char *model, tc_err *err)
{
    tc_status s = TC_OK;
    for (int i = 0; i < cJSON_GetArraySize(tc_audit_at(r, "prompts")) && !s; i++) {
        cJSON *view = tc_prompt_view(r, i);
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        problems sub = { mem, 0 };
        if (!view || !mem) s = tc_fail(err, TC_E_NOMEM, "out of memory");
        else if (model) s = rerun_compare(&sub, view, model, err);
        else {
            check_schema_compare(&sub, view);
            if (!sub.n) check_consistency_compare(&sub, view);
        }
        if (mem) fclose(mem);
        const double index = tc_audit_num(tc_audit_at(cJSON_GetArrayItem(tc_audit_at(r, "prompts"), i), "prompt"));
        for (char *save = NULL, *line = buf ? strtok_r(buf, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save))
            problem(p, "prompt %g: %s", index, line + (strncmp(line, "  - ", 4) ? 0 : 4));
        free(buf);
        cJSON_Delete(view);
    }
    return s;
}

static void schema_compare(problems *p, const cJSON *r)
{
    if (tc_verify_is_prompt_set(r)) tc_verify_prompt_set_schema(r, coverage_problem, p);
    else check_schema_compare(p, r);
}

static void consistency_compare(problems *p, const cJSON *r, const char *path)
{
    (void)path;
    if (!tc_verify_is_prompt_set(r)) {
        check_consistency_compare(p, r);
        return;
    }
    tc_verify_prompt_set_summary(r, coverage_problem, p);
    each_prompt(p, r, NULL, NULL);
}
static void consistency_accuracy(problems *p, const cJSON *r, const char *path) { (void)path; check_consistency_accuracy(p, r); }
static void consistency_kernels(problems *p, const cJSON *r, const char *path) { (void)path; check_kernels(p, r); }
static void consistency_bench(problems *p, const cJSON *r, const char *path) { (void)path; check_bench(p, r); }
static void consistency_vectors(problems *p, const cJSON *r, const char *path) { (void)path; tc_verify_vectors(r, coverage_problem, p); }
static tc_status rerun_compare_kind(problems *p, const cJSON *r, const tc_verify_opts *o, tc_err *err)
{
    if (tc_verify_is_prompt_set(r)) return each_prompt(p, r, o->model, err);
    return rerun_compare(p, r, o->model, err);
}

typedef struct kind_rules {
    const char *kind;
    bool has_model;                                               /* a model section is required */
    void (*schema)(problems *p, const cJSON *r);                  /* fields beyond the common ones, or NULL */
    void (*consistency)(problems *p, const cJSON *r, const char *path); /* the verdicts follow from the figures */
    tc_status (*rerun)(problems *p, const cJSON *r, const tc_verify_opts *o, tc_err *err); /* or NULL */
} kind_rules;

static const kind_rules kinds[] = {
    { "compare", true, schema_compare, consistency_compare, rerun_compare_kind },
    { "accuracy", true, check_schema_accuracy, consistency_accuracy, rerun_accuracy },
    { "conform", false, NULL, check_conform, NULL },
    { "kernels", false, NULL, consistency_kernels, NULL },
    { "bench", true, NULL, consistency_bench, NULL },
    { "vectors", false, NULL, consistency_vectors, NULL },
};

static const kind_rules *find_kind(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].kind, kind)) return &kinds[i];
    return NULL;
}

/* ---- verify ---- */

/* Rerun the receipt, or with o->one_shard only that shard of a merged
 * receipt (its view: audit/merge.h) or of a shard's own receipt. */
static tc_status rerun_some(problems *p, const cJSON *r, const kind_rules *k, const tc_verify_opts *o, tc_err *err)
{
    if (!o->one_shard) return k->rerun(p, r, o, err);
    const cJSON *own = tc_audit_at(r, "shard.index");
    if (own) {
        if (tc_audit_num(own) != o->shard)
            return tc_fail(err, TC_E_USAGE, "--shard %d: this receipt is shard %g's", o->shard, tc_audit_num(own));
        return k->rerun(p, r, o, err);
    }
    cJSON *view = tc_merge_shard_view(r, o->shard, err);
    if (!view) return err->status;
    if (p->out) fprintf(p->out, "  (rerun: shard %d only)\n", o->shard);
    tc_status s = k->rerun(p, view, o, err);
    cJSON_Delete(view);
    return s;
}

tc_status tc_verify(const char *path, const tc_verify_opts *o, FILE *out, bool *valid, tc_err *err)
{
    cJSON *r;
    *valid = false;
    tc_status s = tc_receipt_load(path, &r, err);
    if (s) return s;
    if (out) fprintf(out, "%s:\n", path);
    problems p = { out, 0 };
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "kind"));
    const kind_rules *k = find_kind(kind);
    check_schema_common(&p, r, k && !k->has_model);
    if (!k)
        problem(&p, "schema: kind: expected compare, accuracy, conform, kernels, bench or vectors, found \"%s\"",
                kind ? kind : "none");
    else if (k->schema)
        k->schema(&p, r);
    tc_err serr = { 0 };
    if (tc_receipt_check_seal(r, o->pubkey, &serr)) problem(&p, "%s", serr.msg);
    if (k && p.n == 0) k->consistency(&p, r, path);
    if (k && p.n == 0) tc_verify_shards(r, path, out, coverage_problem, &p);
    const char *model = o->model;
    if (model) {
        char sha[TC_SHA256_HEX];
        if ((s = tc_sha256_file(model, sha, err))) goto out;
        const char *want = cJSON_GetStringValue(tc_audit_at(r, "model.sha256"));
        if (!want || strcmp(want, sha))
            problem(&p, "model: %s has SHA-256 %.16s..., the receipt's model.sha256 is %.16s...", model, sha,
                    want ? want : "absent");
    }
    if (o->rerun) {
        if (!k || !k->rerun) {
            s = tc_fail(err, TC_E_USAGE, "%s: --rerun reproduces compare and accuracy receipts, not %s", path,
                        kind ? kind : "this kind");
            goto out;
        }
        if (!model) {
            s = tc_fail(err, TC_E_USAGE, "%s: --rerun needs --model FILE (the model the receipt names)", path);
            goto out;
        }
        if (p.n) {
            if (out) fprintf(out, "  (not rerun: the receipt already fails the checks above)\n");
        } else if ((s = rerun_some(&p, r, k, o, err))) {
            goto out;
        }
    }
    *valid = p.n == 0;
out:
    cJSON_Delete(r);
    return s;
}

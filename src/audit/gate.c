/* gate.c -- see gate.h.  Three passes over the two receipts: the setting
 * (a table of fields; kernel counters; the accuracy input), then the
 * figures of the kind (a table each), then the verdict line. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audit/gate.h"
#include "audit/verify.h"

bool tc_gate_handles(const char *kind)
{
    return kind && (!strcmp(kind, "bench") || !strcmp(kind, "accuracy"));
}

/* ---- the setting ---- */

enum { BENCH = 1, ACCURACY = 2, BOTH = 3 };

/* Fields that say what was measured and where; refuse: the receipts are
 * not comparable when it differs. */
static const struct setting {
    const char *path, *label;
    int kinds;
    bool refuse;
} settings[] = {
    { "model.sha256", "model (SHA-256)", BOTH, true },
    { "baseline_model.sha256", "baseline model (SHA-256)", ACCURACY, true },
    { "input.tokens", "input tokens", ACCURACY, true },
    { "input.source", "input source", ACCURACY, false },
    { "input.chunk", "input chunk", ACCURACY, false },
    { "bench.threads", "threads", BENCH, true },
    { "bench.prompt_len", "prompt length", BENCH, false },
    { "bench.gen", "generated tokens", BENCH, false },
    { "bench.repeat", "repeats", BENCH, false },
    { "bench.engine", "engine", BENCH, false },
    { "bench.weight_layout", "weight layout", BENCH, false },
    { "bench.peak_isa", "peak unit", BENCH, false },
    { "bench.against.peer.sha256", "peer (SHA-256)", BENCH, false },
    { "bench.against.peer.build_commit", "peer build", BENCH, false },
    { "bench.against.rounds", "rounds", BENCH, false },
    { "engines.subject.id", "subject engine", ACCURACY, false },
    { "engines.subject.precision", "subject precision", ACCURACY, false },
    { "engines.subject.threads", "subject threads", ACCURACY, false },
    { "engines.baseline.id", "baseline engine", ACCURACY, false },
    { "engines.baseline.precision", "baseline precision", ACCURACY, false },
    { "host.cpu_model", "CPU model", BOTH, false },
    { "host.cpus_online", "CPUs online", BOTH, false },
    { "tool.version", "tool version", BOTH, false },
    { "tool.git_commit", "tool commit", BOTH, false },
    { "tool.compiler", "compiler", BOTH, false },
    { "tool.cflags", "compiler flags", BOTH, false },
};

/* v as text for a setting line (at most n - 1 bytes; arrays and objects
 * by their size); "(absent)" for NULL. */
static void as_text(const cJSON *v, char *buf, size_t n)
{
    if (!v) snprintf(buf, n, "(absent)");
    else if (cJSON_IsString(v)) snprintf(buf, n, "%s", v->valuestring);
    else if (cJSON_IsNumber(v)) snprintf(buf, n, "%.17g", v->valuedouble);
    else if (cJSON_IsBool(v)) snprintf(buf, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsArray(v)) snprintf(buf, n, "(%d items)", cJSON_GetArraySize(v));
    else snprintf(buf, n, "(an object)");
}

/* Kernel counters that differ (names that ran on one side only, or other
 * call counts) under path; one line each. */
static int diff_counters(const cJSON *a, const cJSON *b, const char *path, FILE *out)
{
    const cJSON *x = tc_audit_at(a, path), *y = tc_audit_at(b, path), *k;
    int n = 0;
    cJSON_ArrayForEach(k, x) {
        const cJSON *m = k->string ? cJSON_GetObjectItemCaseSensitive(y, k->string) : NULL;
        const double ca = tc_audit_num(k), cb = m ? tc_audit_num(m) : 0.0;
        if (ca != cb && !(ca == 0 && !m)) {
            fprintf(out, "setting: %s %s: %g -> %g calls\n", path, k->string, ca, cb);
            n++;
        }
    }
    cJSON_ArrayForEach(k, y)
        if (k->string && !cJSON_GetObjectItemCaseSensitive(x, k->string) && tc_audit_num(k) != 0) {
            fprintf(out, "setting: %s %s: 0 -> %g calls\n", path, k->string, tc_audit_num(k));
            n++;
        }
    return n;
}

/* Every difference in the setting, one line each; *why: the first that
 * makes the receipts incomparable ("" when none). */
static int diff_setting(const cJSON *a, const cJSON *b, int kind, FILE *out, char *why, size_t nwhy)
{
    int n = 0;
    why[0] = '\0';
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        const struct setting *s = &settings[i];
        if (!(s->kinds & kind)) continue;
        const cJSON *x = tc_audit_at(a, s->path), *y = tc_audit_at(b, s->path);
        if (!x && !y) continue;
        if (x && y && cJSON_Compare(x, y, true)) continue;
        char ta[160], tb[160];
        as_text(x, ta, sizeof ta);
        as_text(y, tb, sizeof tb);
        fprintf(out, "setting: %s: %s -> %s%s\n", s->label, ta, tb, s->refuse ? "  (not comparable)" : "");
        if (s->refuse && !why[0]) snprintf(why, nwhy, "%s: %.60s -> %.60s", s->label, ta, tb);
        n++;
    }
    if (kind == BENCH) n += diff_counters(a, b, "bench.kernels", out);
    else {
        n += diff_counters(a, b, "engines.subject.kernels", out);
        n += diff_counters(a, b, "engines.baseline.kernels", out);
    }
    return n;
}

/* ---- judging figures ---- */

typedef enum { JUDGE_NONE, JUDGE_NOISE, JUDGE_BETTER, JUDGE_WORSE } judgement;

typedef struct tally {
    int worse, better, noise, listed;
} tally;

static const char *judgement_text(judgement j)
{
    return j == JUDGE_WORSE ? "REGRESSION" : j == JUDGE_BETTER ? "improvement" : j == JUDGE_NOISE ? "within noise" : "";
}

static void count(tally *t, judgement j)
{
    if (j == JUDGE_WORSE) t->worse++;
    else if (j == JUDGE_BETTER) t->better++;
    else if (j == JUDGE_NOISE) t->noise++;
    else t->listed++;
}

/* A bench figure {median, min, max} at path: the range rule. */
static void bench_figure(const cJSON *a, const cJSON *b, const char *path, const char *label, FILE *out, tally *t)
{
    const cJSON *x = tc_audit_at(a, path), *y = tc_audit_at(b, path);
    if (!x && !y) return;
    if (!x || !y) {
        fprintf(out, "%-24s only in the %s receipt\n", label, x ? "old" : "new");
        count(t, JUDGE_NONE);
        return;
    }
    const double am = tc_audit_num(tc_audit_at(x, "median")), alo = tc_audit_num(tc_audit_at(x, "min")),
                 ahi = tc_audit_num(tc_audit_at(x, "max")), bm = tc_audit_num(tc_audit_at(y, "median")),
                 blo = tc_audit_num(tc_audit_at(y, "min")), bhi = tc_audit_num(tc_audit_at(y, "max"));
    if (!(alo <= am && am <= ahi && blo <= bm && bm <= bhi)) {   /* NaN, absent, or min > max */
        fprintf(out, "%-24s not judged: a median, min or max is missing or out of order\n", label);
        count(t, JUDGE_NONE);
        return;
    }
    /* higher is better for every bench figure judged (tokens/s, ratios) */
    const judgement j = bhi < alo ? JUDGE_WORSE : blo > ahi ? JUDGE_BETTER : JUDGE_NOISE;
    fprintf(out, "%-24s %.2f (%.2f-%.2f) -> %.2f (%.2f-%.2f)  %+.1f %%  %s%s\n", label, am, alo, ahi, bm, blo, bhi,
            am > 0 ? 100.0 * (bm - am) / am : 0.0, judgement_text(j),
            j == JUDGE_WORSE ? " (the new range lies wholly below the old)"
            : j == JUDGE_BETTER ? " (the new range lies wholly above the old)"
            : am == bm && alo == blo && ahi == bhi ? " (unchanged)"
                                                   : " (the ranges overlap)");
    count(t, j);
}

/* Mean and standard error of f(a[i], b[i]) over the positions of two
 * per-position arrays (b may be NULL); false when absent, empty or not
 * finite. */
static bool mean_se(const cJSON *x, const cJSON *y, double (*f)(double, double), double *mean, double *se, int *n)
{
    double s = 0, ss = 0;
    int k = 0;
    const cJSON *v, *w = y ? y->child : NULL;
    cJSON_ArrayForEach(v, x) {
        const double d = f(tc_audit_num(v), w ? tc_audit_num(w) : 0.0);
        if (!isfinite(d)) return false;
        s += d, ss += d * d, k++;
        if (w) w = w->next;
    }
    if (k == 0 || (y && cJSON_GetArraySize(y) != k)) return false;
    *mean = s / k;
    const double var = k > 1 ? (ss - s * s / k) / (k - 1) : 0.0;
    *se = var > 0 ? sqrt(var / k) : 0.0;
    *n = k;
    return true;
}

static double first(double x, double y) { (void)y; return x; }
static double difference(double x, double y) { return x - y; }

/* An accuracy figure: the mean over positions of f(arr[i], arr2[i]),
 * shown as show(mean); lower_better says its direction.  The rule: worse
 * by more than twice the old standard error. */
static void accuracy_figure(const cJSON *a, const cJSON *b, const char *arr, const char *arr2,
                            double (*f)(double, double), double (*show)(double), bool lower_better, const char *label,
                            FILE *out, tally *t)
{
    double ma, sa, mb, sb;
    int na, nb;
    const bool oka = mean_se(tc_audit_at(a, arr), arr2 ? tc_audit_at(a, arr2) : NULL, f, &ma, &sa, &na);
    const bool okb = mean_se(tc_audit_at(b, arr), arr2 ? tc_audit_at(b, arr2) : NULL, f, &mb, &sb, &nb);
    if (!oka || !okb) {
        if (oka && !tc_audit_at(b, arr)) fprintf(out, "%-24s only in the old receipt\n", label);
        else if (okb && !tc_audit_at(a, arr)) fprintf(out, "%-24s only in the new receipt\n", label);
        else if (oka) fprintf(out, "%-24s %.6g -> not finite  REGRESSION\n", label, show(ma));
        else fprintf(out, "%-24s not judged: no finite per-position values in the old receipt\n", label);
        count(t, oka && tc_audit_at(b, arr) ? JUDGE_WORSE : JUDGE_NONE);
        return;
    }
    const double delta = lower_better ? ma - mb : mb - ma;   /* > 0: better */
    const judgement j = delta < -2 * sa ? JUDGE_WORSE : delta > 2 * sa ? JUDGE_BETTER : JUDGE_NOISE;
    fprintf(out, "%-24s %.6g -> %.6g  (mean over %d -> %d positions, old standard error %.3g)  %s%s\n", label,
            show(ma), show(mb), na, nb, sa, judgement_text(j), ma == mb ? " (unchanged)" : "");
    count(t, j);
}

static double identity(double x) { return x; }
static double fifth(double x) { return x / 5.0; }

/* Headline figures with no per-position values: listed when they changed. */
static void listed_figure(const cJSON *a, const cJSON *b, const char *metric, FILE *out, tally *t)
{
    const cJSON *h, *x = NULL, *y = NULL;
    cJSON_ArrayForEach(h, tc_audit_at(a, "headline"))
        if (cJSON_IsString(tc_audit_at(h, "metric")) && !strcmp(tc_audit_at(h, "metric")->valuestring, metric)) x = h;
    cJSON_ArrayForEach(h, tc_audit_at(b, "headline"))
        if (cJSON_IsString(tc_audit_at(h, "metric")) && !strcmp(tc_audit_at(h, "metric")->valuestring, metric)) y = h;
    if (!x || !y) return;
    const double va = tc_audit_num(tc_audit_at(x, "value")), vb = tc_audit_num(tc_audit_at(y, "value"));
    if (va == vb) return;
    fprintf(out, "%-24s %.6g -> %.6g  (listed, not judged: no per-position values)\n", metric, va, vb);
    count(t, JUDGE_NONE);
}

static void bench_figures(const cJSON *a, const cJSON *b, FILE *out, tally *t)
{
    bench_figure(a, b, "bench.prefill_tok_s", "prefill tok/s", out, t);
    bench_figure(a, b, "bench.decode_tok_s", "decode tok/s", out, t);
    bench_figure(a, b, "bench.against.prefill_ratio", "prefill / peer", out, t);
    bench_figure(a, b, "bench.against.decode_ratio", "decode / peer", out, t);
}

static void accuracy_figures(const cJSON *a, const cJSON *b, FILE *out, tally *t)
{
    accuracy_figure(a, b, "per_position.kl", NULL, first, identity, true, "kl_mean_nats", out, t);
    accuracy_figure(a, b, "per_position.top1_agree", NULL, first, identity, false, "top1_agreement", out, t);
    accuracy_figure(a, b, "per_position.top5_overlap", NULL, first, fifth, false, "top5_overlap", out, t);
    accuracy_figure(a, b, "per_position.nll_subject", NULL, first, exp, true, "perplexity_subject", out, t);
    accuracy_figure(a, b, "per_position.nll_subject", "per_position.nll_baseline", difference, exp, true,
                    "perplexity_ratio", out, t);
    listed_figure(a, b, "blk_out_cosine_min", out, t);
    listed_figure(a, b, "kl_p99_nats", out, t);
}

tc_status tc_gate(const cJSON *a, const cJSON *b, bool force, FILE *out, bool *regressed, tc_err *err)
{
    const char *k = cJSON_GetStringValue(tc_audit_at(a, "kind"));
    const int kind = k && !strcmp(k, "bench") ? BENCH : ACCURACY;
    char why[200];
    *regressed = false;
    diff_setting(a, b, kind, out, why, sizeof why);
    if (why[0] && !force)
        return tc_fail(err, TC_E_USAGE, "diff: the receipts measure different things (%s): not comparable; "
                       "--force compares them anyway", why);
    tally t = { 0, 0, 0, 0 };
    if (kind == BENCH) bench_figures(a, b, out, &t);
    else accuracy_figures(a, b, out, &t);
    *regressed = t.worse > 0;
    if (t.worse) fprintf(out, "gate: REGRESSION: %d figure%s regressed", t.worse, t.worse == 1 ? "" : "s");
    else fprintf(out, "gate: no regression");
    fprintf(out, " (%d improved, %d within noise, %d listed without a judgement)%s\n", t.better, t.noise, t.listed,
            why[0] ? "; forced across a setting that makes them incomparable" : "");
    return TC_OK;
}

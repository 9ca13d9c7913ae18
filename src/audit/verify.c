/* verify.c -- checking receipts (`tritcheck verify`), and reading their
 * fields for diff.c and report.c. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/accuracy.h"
#include "check/compare.h"
#include "engine/registry.h"
#include "receipt/receipt.h"
#include "base/fileio.h"
#include "base/num.h"
#include "base/sha256.h"
#include "check/against.h"
#include "check/bench.h"
#include "audit/coverage.h"
#include "audit/merge.h"
#include "audit/verify.h"
#include "audit/verify_shard.h"

/* ---- a list of problems ---- */

/* The problems found, and what the checks need to know. */
typedef struct problems {
    FILE *out;
    int n;
    const unsigned char *trusted;   /* the user's public key (32 bytes), or NULL */
    char first[300];                /* the first problem's text */
} problems;

/* at most this many problems are printed; the rest are counted */
enum { PROBLEMS_SHOWN = 40 };

static void problem(problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(problems *p, const char *fmt, ...)
{
    va_list ap;
    char line[1024];
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* a receipt's strings reach the terminal: no control characters */
    for (char *c = line; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    if (p->out && p->n < PROBLEMS_SHOWN) fprintf(p->out, "  - %s\n", line);
    if (p->n == 0) snprintf(p->first, sizeof p->first, "%.299s", line);
    p->n++;
}

/* The line that says how many problems were not printed. */
static void problems_end(const problems *p)
{
    if (p->out && p->n > PROBLEMS_SHOWN) fprintf(p->out, "  - ... and %d more problems\n", p->n - PROBLEMS_SHOWN);
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

/* ---- an index by name ---- */

typedef struct ix_entry {
    const char *name;
    const cJSON *item;
    size_t order;   /* position in the container: the first of equal names wins */
} ix_entry;

struct tc_audit_index {
    ix_entry *e;
    size_t n;
};

static int ix_cmp(const void *a, const void *b)
{
    const ix_entry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

tc_audit_index *tc_audit_index_new(const cJSON *container, const char *member)
{
    size_t n = 0, k = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, container) n++;
    tc_audit_index *ix = calloc(1, sizeof *ix);
    if (!ix || !(ix->e = malloc((n ? n : 1) * sizeof *ix->e))) {
        free(ix);
        return NULL;
    }
    cJSON_ArrayForEach(c, container) {
        const char *name = !member ? c->string : cJSON_IsString(c) ? c->valuestring
                           : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, member));
        if (name) ix->e[ix->n++] = (ix_entry){ name, c, k };
        k++;
    }
    qsort(ix->e, ix->n, sizeof *ix->e, ix_cmp);
    return ix;
}

/* The first entry whose name is >= name. */
static size_t ix_lower(const tc_audit_index *ix, const char *name)
{
    size_t lo = 0, hi = ix ? ix->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix->e[mid].name, name) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

const cJSON *tc_audit_index_find(const tc_audit_index *ix, const char *name)
{
    size_t lo = ix_lower(ix, name);
    return lo < (ix ? ix->n : 0) && !strcmp(ix->e[lo].name, name) ? ix->e[lo].item : NULL;
}

size_t tc_audit_index_count(const tc_audit_index *ix, const char *name)
{
    size_t i = ix_lower(ix, name), n = 0;
    while (i + n < (ix ? ix->n : 0) && !strcmp(ix->e[i + n].name, name)) n++;
    return n;
}

void tc_audit_index_free(tc_audit_index *ix)
{
    if (!ix) return;
    free(ix->e);
    free(ix);
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

/* ---- what a rerun takes from the receipt: in range, or not at all ---- */

/* v as a short JSON text for a message (at most 60 characters). */
static void shown(const cJSON *v, char *buf, size_t n)
{
    if (cJSON_IsNumber(v)) {   /* every digit: two figures may differ in the 17th */
        snprintf(buf, n, "%.17g", v->valuedouble);
        return;
    }
    char *t = v ? cJSON_PrintUnformatted(v) : NULL;
    snprintf(buf, n, "%.60s%s", t ? t : "nothing", t && strlen(t) > 60 ? "..." : "");
    free(t);
}

/* The field at path, when present, an integer in [lo, hi]. */
static void opt_int(problems *p, const cJSON *r, const char *path, int64_t lo, int64_t hi)
{
    const cJSON *v = tc_audit_at(r, path);
    int64_t x;
    char buf[80];
    if (v && !(cJSON_IsNumber(v) && tc_num_to_i64(v->valuedouble, lo, hi, &x))) {
        shown(v, buf, sizeof buf);
        problem(p, "schema: %s: expected an integer %" PRId64 "..%" PRId64 ", found %s", path, lo, hi, buf);
    }
}

/* Every item of the array at path a token id (0..2^31-1). */
static void need_token_ids(problems *p, const cJSON *r, const char *path)
{
    const cJSON *v;
    size_t i = 0;
    cJSON_ArrayForEach(v, tc_audit_at(r, path)) {
        int32_t x;
        if (!cJSON_IsNumber(v) || !tc_num_to_i32(v->valuedouble, 0, INT32_MAX, &x)) {
            char buf[80];
            shown(v, buf, sizeof buf);
            problem(p, "schema: %s[%zu]: expected a token id (an integer 0..2147483647), found %s", path, i, buf);
            return;
        }
        i++;
    }
}

/* An engine section's threads, context and precision. */
static void engine_params(problems *p, const cJSON *r, const char *side)
{
    char path[64];
    snprintf(path, sizeof path, "engines.%s.threads", side);
    opt_int(p, r, path, 1, 1024);
    snprintf(path, sizeof path, "engines.%s.context", side);
    opt_int(p, r, path, 1, 1 << 24);
    snprintf(path, sizeof path, "engines.%s.precision", side);
    const cJSON *v = tc_audit_at(r, path);
    tc_precision prec;
    if (v && (!cJSON_IsString(v) || tc_precision_from_name(v->valuestring, &prec)))
        problem(p, "schema: %s: expected \"i2s\" or \"fp32\"", path);
}

static void check_inputs_compare(problems *p, const cJSON *r)
{
    need_token_ids(p, r, "input.tokens");
    opt_int(p, r, "input.prompt_tokens", 0, INT32_MAX);
    opt_int(p, r, "input.generated_tokens", 0, INT32_MAX);
    engine_params(p, r, "ref");
    engine_params(p, r, "cand");
    double tol = tc_audit_num(tc_audit_at(r, "criteria.tolerance")),
           margin = tc_audit_num(tc_audit_at(r, "criteria.q8_margin"));
    if (cJSON_IsNumber(tc_audit_at(r, "criteria.tolerance")) && !(tol >= 0))
        problem(p, "schema: criteria.tolerance: expected a number >= 0");
    if (cJSON_IsNumber(tc_audit_at(r, "criteria.q8_margin")) && !(margin >= 0 && margin < 0.5))
        problem(p, "schema: criteria.q8_margin: expected a number in [0, 0.5)");
}

static void check_inputs_accuracy(problems *p, const cJSON *r)
{
    need_token_ids(p, r, "input.tokens");
    opt_int(p, r, "input.chunk", 1, 1 << 24);
    engine_params(p, r, "subject");
    engine_params(p, r, "baseline");
}

/* ---- a receipt against what a rerun (or the model) gives ----
 *
 * Every field of the receipt is either reproduced (the rerun gives the
 * same value), checked against the model (the model section, when
 * --model is given), or listed as unchecked: the provenance (when and
 * where it ran, by which build) and the times, which no rerun can give
 * again.  Objects are matched by key through an index and arrays item by
 * item, so the walk is O(n log n) in the size of the receipt. */

/* Paths, with "*" for any one key, that a rerun cannot reproduce. */
static const char *const unreproducible[] = {
    "created", "tool", "host", "timings", "engines.*.seconds",
    "engines.*.recording", "input.recording",   /* a directory: the one the user named ran */
    "conformance_case",                         /* what a suite expected, checked by its summary */
};

typedef struct walk {
    problems *p;
    const char *label;          /* "rerun" or "model" */
    const char *comp[600];      /* the path, component by component */
    int depth;
    char unchecked[1024];       /* the unreproducible paths met, comma-separated */
    size_t n_unchecked;
    int notes;                  /* fields the rerun gives that the receipt lacks */
    bool skip_model;            /* the model section was checked against the file */
    const char *const *extra;   /* more unreproducible paths (the run's own), or NULL */
    size_t n_extra;
} walk;

/* The path as text ("results[3].max_abs"); components that are indices
 * are stored as "[3]". */
static void path_text(const walk *w, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < w->depth && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", i && w->comp[i][0] != '[' ? "." : "", w->comp[i]);
}

/* Whether the path so far is one the rerun cannot reproduce. */
static bool is_unreproducible(const walk *w)
{
    const size_t n_fixed = sizeof unreproducible / sizeof unreproducible[0];
    for (size_t k = 0; k < n_fixed + w->n_extra; k++) {
        char pat[64];
        snprintf(pat, sizeof pat, "%s", k < n_fixed ? unreproducible[k] : w->extra[k - n_fixed]);
        int i = 0;
        bool match = true;
        for (char *save = NULL, *c = strtok_r(pat, ".", &save); c; c = strtok_r(NULL, ".", &save), i++)
            if (i >= w->depth || (strcmp(c, "*") && strcmp(c, w->comp[i]))) match = false;
        if (match && i == w->depth) return true;
    }
    return false;
}

static bool same_leaf(const cJSON *a, const cJSON *b)
{
    if ((a->type & 0xff) != (b->type & 0xff)) return false;
    if (cJSON_IsNumber(a)) return a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a)) return !strcmp(a->valuestring, b->valuestring);
    return true;   /* true, false, null */
}

static void differ(walk *w, const cJSON *a, const cJSON *b)
{
    char path[512], x[80], y[80];
    path_text(w, path, sizeof path);
    shown(a, x, sizeof x);
    shown(b, y, sizeof y);
    if (!strcmp(w->label, "model"))
        problem(w->p, "model: %s: the receipt says %s, the model file gives %s", path, x, y);
    else
        problem(w->p, "rerun: %s: recorded %s, now %s", path, x, y);
}

static void compare_tree(walk *w, const cJSON *a, const cJSON *b);

/* Descend into child (key or index text) of a and b (b may be NULL). */
static void descend(walk *w, const char *comp, const cJSON *a, const cJSON *b)
{
    if (w->depth >= (int)(sizeof w->comp / sizeof w->comp[0])) return;   /* deeper than a strict parse allows */
    w->comp[w->depth++] = comp;
    if (w->depth == 1 && w->skip_model && !strcmp(comp, "model")) {
        /* checked against the model file already */
    } else if (is_unreproducible(w)) {
        char path[512];
        path_text(w, path, sizeof path);
        size_t len = strlen(w->unchecked);
        if (len + strlen(path) + 3 < sizeof w->unchecked)
            snprintf(w->unchecked + len, sizeof w->unchecked - len, "%s%s", len ? ", " : "", path);
        w->n_unchecked++;
    } else if (!b) {
        char path[512], x[80];
        path_text(w, path, sizeof path);
        shown(a, x, sizeof x);
        problem(w->p, "%s: %s: the receipt says %s, the %s gives nothing", w->label, path, x,
                strcmp(w->label, "model") ? "rerun" : "model file");
    } else {
        compare_tree(w, a, b);
    }
    w->depth--;
}

static void compare_tree(walk *w, const cJSON *a, const cJSON *b)
{
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        tc_audit_index *ib = tc_audit_index_new(b, NULL), *ia = tc_audit_index_new(a, NULL);
        if (!ia || !ib) {
            problem(w->p, "%s: out of memory comparing the receipt", w->label);
        } else {
            const cJSON *c;
            cJSON_ArrayForEach(c, a) {
                if (w->depth == 0 && (!strcmp(c->string, "digest") || !strcmp(c->string, "signature"))) continue;
                descend(w, c->string, c, tc_audit_index_find(ib, c->string));
            }
            cJSON_ArrayForEach(c, b)
                if (!tc_audit_index_find(ia, c->string)) w->notes++;
        }
        tc_audit_index_free(ia);
        tc_audit_index_free(ib);
    } else if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
        const cJSON *x = a->child, *y = b->child;
        size_t i = 0;
        char idx[32];
        for (; x && y; x = x->next, y = y->next, i++) {
            snprintf(idx, sizeof idx, "[%zu]", i);
            descend(w, idx, x, y);
        }
        if (x || y) {
            char path[512];
            path_text(w, path, sizeof path);
            problem(w->p, "%s: %s: the receipt lists %d items, the %s %d", w->label, path, cJSON_GetArraySize(a),
                    strcmp(w->label, "model") ? "rerun" : "model file", cJSON_GetArraySize(b));
        }
    } else if (cJSON_IsObject(a) || cJSON_IsArray(a) || cJSON_IsObject(b) || cJSON_IsArray(b) || !same_leaf(a, b)) {
        differ(w, a, b);
    }
}

/* What a corpus run's rerun cannot give again: verify reads no file a
 * receipt names, so the ids run, not the text. */
static const char *const corpus_fields[] = { "input.source", "input.corpus", "input.corpus_sha256",
                                              "input.corpus_bytes", "input.tokenizer_sha256" };

/* Compare the receipt r with again (a rerun's receipt); list on out what
 * cannot be reproduced (with corpus: a corpus's description too).
 * *n_unchecked counts it. */
static void reproduced(problems *p, const cJSON *r, const cJSON *again, bool skip_model, bool corpus,
                       size_t *n_unchecked)
{
    walk *w = calloc(1, sizeof *w);
    if (!w) {
        problem(p, "rerun: out of memory comparing the receipt");
        return;
    }
    w->p = p;
    w->label = "rerun";
    w->skip_model = skip_model;
    if (corpus) {
        w->extra = corpus_fields;
        w->n_extra = sizeof corpus_fields / sizeof corpus_fields[0];
    }
    compare_tree(w, r, again);
    if (p->out && w->n_unchecked)
        fprintf(p->out, "  unchecked (no rerun reproduces them): %s\n", w->unchecked);
    if (p->out && w->notes)
        fprintf(p->out, "  note: the rerun gives %d field%s the receipt does not have\n", w->notes,
                w->notes == 1 ? "" : "s");
    *n_unchecked = w->n_unchecked;
    free(w);
}

/* ---- the model section against the file ---- */

/* Every field of the model section as the file gives it, and every
 * token id inside its vocabulary.  TC_OK, or an error when the file is
 * not a model (TC_E_IO, TC_E_FORMAT, TC_E_MODEL, TC_E_NOMEM). */
static tc_status check_model(problems *p, const cJSON *r, const char *model, tc_err *err)
{
    tc_model *m = NULL;
    tc_status s = tc_model_load(model, &m, err);
    if (s) return s;
    cJSON *mine = cJSON_CreateObject();
    if (!mine) s = tc_fail(err, TC_E_NOMEM, "out of memory");
    if (!s) s = tc_receipt_add_model(mine, m, model, err);
    if (!s) {
        walk *w = calloc(1, sizeof *w);
        if (!w) {
            s = tc_fail(err, TC_E_NOMEM, "out of memory");
        } else {
            w->p = p;
            w->label = "model";
            w->comp[0] = "model";
            w->depth = 1;
            compare_tree(w, tc_audit_at(r, "model"), tc_audit_at(mine, "model"));
            free(w);
        }
        const cJSON *t;
        size_t i = 0;
        cJSON_ArrayForEach(t, tc_audit_at(r, "input.tokens")) {
            int32_t id;   /* an id that is not one at all is the schema's problem */
            if (tc_num_to_i32(tc_audit_num(t), 0, INT32_MAX, &id) && (uint32_t)id >= m->hp.n_vocab) {
                problem(p, "model: input.tokens[%zu]: token %" PRId32 " is outside the model's vocabulary (0..%" PRIu32
                        ")", i, id, m->hp.n_vocab - 1);
                break;
            }
            i++;
        }
    }
    cJSON_Delete(mine);
    tc_model_free(m);
    return s;
}

/* ---- rerun ---- */

/* The receipt's input.tokens (checked: ids 0..2^31-1) as a new array. */
static tc_status receipt_tokens(const cJSON *r, int32_t **out, size_t *n, tc_err *err)
{
    const cJSON *tl = tc_audit_at(r, "input.tokens"), *it;
    int32_t *tokens = malloc(((size_t)cJSON_GetArraySize(tl) + 1) * sizeof *tokens);
    if (!tokens) return tc_fail(err, TC_E_NOMEM, "out of memory");
    *n = 0;
    cJSON_ArrayForEach(it, tl) {
        if (!tc_num_to_i32(tc_audit_num(it), 0, INT32_MAX, &tokens[*n])) {
            free(tokens);
            return tc_fail(err, TC_E_FORMAT, "input.tokens[%zu]: expected a token id", *n);
        }
        (*n)++;
    }
    *out = tokens;
    return TC_OK;
}

/* The receipt's input as a rerun takes it: its recipe where the recipe
 * is self-contained (seeded random ids: n_random of them; a prompt), so
 * that the ids are reproduced too, else the ids themselves (*tokens, the
 * caller frees; *corpus for a corpus, whose file is not read again). */
static tc_status input_of(const cJSON *r, uint32_t n_random, tc_input *in, int32_t **tokens, bool *corpus,
                          tc_err *err)
{
    const char *src = cJSON_GetStringValue(tc_audit_at(r, "input.source"));
    const char *prompt = cJSON_GetStringValue(tc_audit_at(r, "input.prompt"));
    int64_t seed;
    memset(in, 0, sizeof *in);
    *tokens = NULL;
    *corpus = src && !strcmp(src, "corpus");
    if (src && !strncmp(src, "random", 6) && n_random > 0) {
        if (!tc_num_to_i64(tc_audit_num(tc_audit_at(r, "input.seed")), 0, (int64_t)1 << 53, &seed))
            return tc_fail(err, TC_E_FORMAT, "rerun: input.seed: expected an integer 0..2^53");
        in->n_random = n_random;
        in->seed = (uint64_t)seed;
        return TC_OK;
    }
    if (src && !strcmp(src, "prompt") && prompt) {
        in->prompt = prompt;
        return TC_OK;
    }
    size_t n = 0;
    tc_status s = receipt_tokens(r, tokens, &n, err);
    if (s) return s;
    in->tokens = *tokens;
    in->n_tokens = (uint32_t)n;
    return TC_OK;
}

/* The engine a rerun runs for the side `side` ("engines.ref") of the
 * receipt: the user's (flag), else the receipt's when it is built in.
 * NULL when neither: the side is not rerun, and the reason is printed. */
static const char *rerun_engine(problems *p, const char *user, const cJSON *r, const char *side, const char *flag)
{
    if (user) return user;
    const cJSON *e = tc_audit_at(r, side);
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "id"));
    const char *rec = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "recording"));
    if (!rec && tc_engine_is_builtin(id)) return id;   /* engines verify opens on a receipt's word alone */
    char what[200];
    snprintf(what, sizeof what, "%s %.120s", rec ? "the recording" : "the engine", rec ? rec : id ? id : "?");
    for (char *c = what; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    if (p->out)
        fprintf(p->out, "  not rerun: %s names %s; verify opens only the built-in engines (ref, fast, fast:ISA, "
                "cuda) on a receipt's word, never a plug-in or a recording: give %s ENGINE to rerun that side\n",
                side, what, flag);
    return NULL;
}

/* The comparison a compare receipt records, as a job: the engines the
 * user names (or built-in ones the receipt names), precision, threads,
 * context, criteria and, unless a recording brings its own, the tokens
 * (*tokens, the caller frees).  *refused when a side cannot be rerun. */
static tc_status compare_job_of(problems *p, const cJSON *r, const tc_verify_opts *vo, tc_compare_job *job,
                                int32_t **tokens, bool *corpus, bool *refused, tc_err *err)
{
    *tokens = NULL;
    *corpus = false;
    tc_engine_opts_default(&job->eng);
    tc_compare_opts_default(&job->opts);
    job->ref = rerun_engine(p, vo->ref, r, "engines.ref", "--ref");
    job->cand = rerun_engine(p, vo->cand, r, "engines.cand", "--cand");
    *refused = !job->ref || !job->cand;
    if (*refused) return TC_OK;
    job->model_path = vo->model;
    const bool ref_rec = !strncmp(job->ref, "dump:", 5), cand_rec = !strncmp(job->cand, "dump:", 5);
    const cJSON *live = tc_audit_at(r, ref_rec ? "engines.cand" : "engines.ref");
    const char *prec = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(live, "precision"));
    if (prec && tc_precision_from_name(prec, &job->eng.precision))
        return tc_fail(err, TC_E_FORMAT, "rerun: unknown precision \"%s\"", prec);
    uint32_t th, ctx;   /* in range: check_inputs_compare */
    if (tc_num_to_u32(tc_audit_num(cJSON_GetObjectItemCaseSensitive(live, "threads")), 1, 1024, &th))
        job->eng.n_threads = (int)th;
    if (tc_num_to_u32(tc_audit_num(cJSON_GetObjectItemCaseSensitive(live, "context")), 1, 1u << 24, &ctx))
        job->eng.n_ctx = ctx;
    job->inject = cJSON_GetStringValue(tc_audit_at(r, "engines.cand.inject"));
    const char *mode = cJSON_GetStringValue(tc_audit_at(r, "criteria.mode"));
    job->opts.mode = mode && !strcmp(mode, "chained") ? TC_COMPARE_CHAINED : TC_COMPARE_ISOLATED;
    job->opts.tol = tc_audit_num(tc_audit_at(r, "criteria.tolerance"));
    job->opts.q8_margin = tc_audit_num(tc_audit_at(r, "criteria.q8_margin"));
    job->opts.determinism = cJSON_IsTrue(tc_audit_at(r, "determinism.measured"));
    job->opts.select = cJSON_GetStringValue(tc_audit_at(r, "criteria.selection"));
    if (ref_rec || cand_rec) return TC_OK;   /* a recording brings its tokens */
    uint32_t pt = 0, gt = 0;
    tc_num_to_u32(tc_audit_num(tc_audit_at(r, "input.prompt_tokens")), 1, UINT32_MAX, &pt);
    tc_num_to_u32(tc_audit_num(tc_audit_at(r, "input.generated_tokens")), 0, 1u << 24, &gt);
    tc_status s = input_of(r, pt, &job->in, tokens, corpus, err);
    if (s) return s;
    if (job->in.tokens) job->n_prompt = pt;   /* the ids given: the first batch as recorded */
    else job->n_gen = gt;                      /* the recipe: generated again */
    return TC_OK;
}

static tc_status rerun_compare(problems *p, const cJSON *r, const tc_verify_opts *vo, tc_verify_result *res,
                               tc_err *err)
{
    tc_compare_job job = { 0 };
    int32_t *tokens = NULL;
    bool refused, corpus;
    tc_status s = compare_job_of(p, r, vo, &job, &tokens, &corpus, &refused, err);
    if (s || refused) {
        free(tokens);
        res->complete = !refused;
        return s;
    }
    cJSON *again = NULL;
    bool pass;
    s = tc_compare_job_run(&job, NULL, &again, &pass, err);
    free(tokens);
    if (s) return s;
    /* every field: every figure of every tap, the verdict, determinism,
     * the kernel counts, the input */
    reproduced(p, r, again, vo->model != NULL, corpus, &res->n_unchecked);
    cJSON_Delete(again);
    res->rerun = true;
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
 * per tensor, the headline and the KL statistics; every other field is
 * reproduced or listed as unchecked. */
static tc_status rerun_accuracy(problems *p, const cJSON *r, const tc_verify_opts *vo, tc_verify_result *res,
                                tc_err *err)
{
    tc_accuracy_opts o;
    tc_accuracy_opts_default(&o);
    o.n_random = 0;
    o.model_path = vo->model;
    if (tc_audit_at(r, "baseline_model")) {
        if (!vo->baseline) return tc_fail(err, TC_E_USAGE, "rerun: this receipt has a latent baseline: give --baseline FILE");
        o.baseline_path = vo->baseline;
    }
    const char *ps = cJSON_GetStringValue(tc_audit_at(r, "engines.subject.precision"));
    const char *pb = cJSON_GetStringValue(tc_audit_at(r, "engines.baseline.precision"));
    if (!ps || !pb || tc_precision_from_name(ps, &o.precision) || tc_precision_from_name(pb, &o.baseline_precision))
        return tc_fail(err, TC_E_FORMAT, "rerun: engines.subject/baseline id and precision are needed");
    /* the baseline always runs on ref: a receipt naming another cannot be reproduced */
    o.engine = rerun_engine(p, vo->engine, r, "engines.subject", "--engine");
    if (!o.engine) {
        res->complete = false;
        return TC_OK;
    }
    uint32_t th, chunk, ctx;
    o.n_threads = tc_num_to_u32(tc_audit_num(tc_audit_at(r, "engines.subject.threads")), 1, 1024, &th) ? (int)th : 1;
    if (!tc_num_to_u32(tc_audit_num(tc_audit_at(r, "input.chunk")), 1, 1u << 24, &chunk))
        return tc_fail(err, TC_E_FORMAT, "rerun: input.chunk: expected an integer 1..16777216");
    /* the run's context; its chunk is that, or the whole input when shorter */
    o.ctx = tc_num_to_u32(tc_audit_num(tc_audit_at(r, "engines.subject.context")), 1, 1u << 24, &ctx) ? ctx : chunk;
    /* a shard's receipt (its own, or cut from a merged one): the whole
     * job's input again from its recipe, and only this shard run */
    uint32_t n_all = (uint32_t)cJSON_GetArraySize(tc_audit_at(r, "input.tokens"));
    const cJSON *sh = tc_audit_at(r, "shard");
    if (sh) {
        uint32_t idx, cnt;
        const char *src = cJSON_GetStringValue(tc_audit_at(r, "input.source"));
        if (!tc_num_to_u32(tc_audit_num(tc_audit_at(sh, "index")), 0, TC_SHARD_MAX - 1, &idx) ||
            !tc_num_to_u32(tc_audit_num(tc_audit_at(sh, "count")), 1, TC_SHARD_MAX, &cnt) || idx >= cnt ||
            !tc_num_to_u32(tc_audit_num(tc_audit_at(sh, "job.options.tokens")), 1, 1u << 30, &n_all))
            return tc_fail(err, TC_E_FORMAT, "rerun: shard: expected index < count and job.options.tokens");
        if (!src || (strncmp(src, "random", 6) && strcmp(src, "prompt"))) {
            if (p->out)
                fprintf(p->out, "  not rerun: a shard of an input given as token ids holds only its own ids; "
                        "rerun the merged receipt\n");
            res->complete = false;
            return TC_OK;
        }
        o.shard = (tc_shard){ idx, cnt };
    }
    int32_t *tokens;
    tc_input in;
    bool corpus;
    tc_status s = input_of(r, n_all, &in, &tokens, &corpus, err);
    if (s) return s;
    o.prompt = in.prompt;
    o.n_random = in.n_random;
    o.seed = in.seed;
    o.tokens = in.tokens;
    o.n_tokens = in.n_tokens;
    cJSON *again = NULL;
    s = tc_accuracy_run(&o, NULL, &again, err);
    free(tokens);
    if (s) return s;
    reproduced(p, r, again, vo->model != NULL, corpus, &res->n_unchecked);
    cJSON_Delete(again);
    res->rerun = true;
    return TC_OK;
}

/* ---- conform summaries ---- */

struct kind_rules;
static const struct kind_rules *check_doc(problems *p, const cJSON *r, const char *path, tc_seal_info *seal);

/* Whether the resolved path `real` lies inside the directory `dir`
 * (resolved too). */
static bool inside_dir(const char *real, const char *dir)
{
    size_t n = strlen(dir);
    return !strncmp(real, dir, n) && (real[n] == '/' || (n == 1 && dir[0] == '/'));
}

/* A case's own receipt: a plain file name in the summary's directory (not
 * a path, not a link out of it), a regular file, a compare receipt that
 * verifies (schema, digest, signature by the trusted key when one is
 * given, consistency), with the digest and verdict the summary records. */
static void check_case_receipt(problems *p, const cJSON *c, const char *name, const char *dir, const char *verdict)
{
    const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "receipt"));
    const char *dg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "receipt_digest"));
    if (!file || !*file || strchr(file, '/') || !strcmp(file, ".") || !strcmp(file, "..")) {
        problem(p, "case %s: receipt: expected the name of a file beside the summary, found %s%.80s%s", name,
                file ? "\"" : "", file ? file : "none", file ? "\"" : "");
        return;
    }
    char rp[8200];
    snprintf(rp, sizeof rp, "%s/%s", dir, file);
    char *real = realpath(rp, NULL), *real_dir = realpath(dir, NULL);
    cJSON *cr = NULL;
    tc_err e = { 0 };
    if (!real || !real_dir) {
        problem(p, "case %s: its receipt %s: %s", name, rp, strerror(errno));
    } else if (!inside_dir(real, real_dir)) {
        problem(p, "case %s: its receipt %s leads out of the summary's directory (to %s)", name, rp, real);
    } else if (tc_receipt_load(rp, &cr, &e)) {
        problem(p, "case %s: %s", name, e.msg);
    } else {
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cr, "kind"));
        const char *v = cJSON_GetStringValue(tc_audit_at(cr, "summary.verdict"));
        const char *cdg = cJSON_GetStringValue(tc_audit_at(cr, "digest.value"));
        problems sub = { NULL, 0, p->trusted, "" };
        if (!kind || strcmp(kind, "compare")) {
            problem(p, "case %s: %s is not a compare receipt", name, file);
        } else if (check_doc(&sub, cr, rp, NULL), sub.n) {
            problem(p, "case %s: %s does not verify: %s%s", name, file, sub.first,
                    sub.n > 1 ? " (and more)" : "");
        } else if (!dg || !cdg || strcmp(dg, cdg)) {
            problem(p, "case %s: %s's digest is not the one the summary records", name, file);
        } else if (!v || !verdict || strcmp(v, verdict)) {
            problem(p, "case %s: the summary says %s, its receipt says %s", name, verdict ? verdict : "?",
                    v ? v : "?");
        }
    }
    cJSON_Delete(cr);
    free(real);
    free(real_dir);
}


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
        check_case_receipt(p, c, name ? name : "?", dir, verdict);
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
 * a model, rerun) by the single comparison's rules, its problems prefixed
 * with the prompt. */
static tc_status each_prompt(problems *p, const cJSON *r, const tc_verify_opts *vo, tc_verify_result *res,
                             tc_err *err)
{
    tc_status s = TC_OK;
    for (int i = 0; i < cJSON_GetArraySize(tc_audit_at(r, "prompts")) && !s; i++) {
        cJSON *view = tc_prompt_view(r, i);
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        problems sub = { mem, 0, p->trusted, "" };
        if (!view || !mem) s = tc_fail(err, TC_E_NOMEM, "out of memory");
        else if (vo && vo->model) s = rerun_compare(&sub, view, vo, res, err);
        else {
            check_schema_compare(&sub, view);
            check_inputs_compare(&sub, view);
            if (!sub.n) check_consistency_compare(&sub, view);
        }
        if (mem) fclose(mem);
        const double index = tc_audit_num(tc_audit_at(cJSON_GetArrayItem(tc_audit_at(r, "prompts"), i), "prompt"));
        /* its problems ("  - ...") are the set's; its notes (what a rerun
         * cannot reproduce) are shown as notes */
        for (char *save = NULL, *line = buf ? strtok_r(buf, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
            if (!strncmp(line, "  - ", 4)) problem(p, "prompt %g: %s", index, line + 4);
            else if (p->out) fprintf(p->out, "  prompt %g: %s\n", index, line + strspn(line, " "));
        }
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

/* a prompt set's inputs are checked prompt by prompt (each_prompt) */
static void inputs_compare(problems *p, const cJSON *r)
{
    if (!tc_verify_is_prompt_set(r)) check_inputs_compare(p, r);
}

static void consistency_compare(problems *p, const cJSON *r, const char *path)
{
    (void)path;
    if (!tc_verify_is_prompt_set(r)) {
        check_consistency_compare(p, r);
        return;
    }
    tc_verify_prompt_set_summary(r, coverage_problem, p);
    each_prompt(p, r, NULL, NULL, NULL);
}

static tc_status rerun_compare_kind(problems *p, const cJSON *r, const tc_verify_opts *o, tc_verify_result *res,
                                    tc_err *err)
{
    if (tc_verify_is_prompt_set(r)) return each_prompt(p, r, o, res, err);
    return rerun_compare(p, r, o, res, err);
}
static void consistency_accuracy(problems *p, const cJSON *r, const char *path) { (void)path; check_consistency_accuracy(p, r); }
static void consistency_kernels(problems *p, const cJSON *r, const char *path) { (void)path; check_kernels(p, r); }
static void consistency_bench(problems *p, const cJSON *r, const char *path) { (void)path; check_bench(p, r); }
static void consistency_vectors(problems *p, const cJSON *r, const char *path) { (void)path; tc_verify_vectors(r, coverage_problem, p); }

typedef struct kind_rules {
    const char *kind;
    bool has_model;                                               /* a model section is required */
    void (*schema)(problems *p, const cJSON *r);                  /* fields beyond the common ones, or NULL */
    void (*inputs)(problems *p, const cJSON *r);                  /* what a rerun takes, in range; or NULL */
    void (*consistency)(problems *p, const cJSON *r, const char *path); /* the verdicts follow from the figures */
    /* run it again (NULL: no rerun for this kind) */
    tc_status (*rerun)(problems *p, const cJSON *r, const tc_verify_opts *o, tc_verify_result *res, tc_err *err);
} kind_rules;

static const kind_rules kinds[] = {
    { "compare", true, schema_compare, inputs_compare, consistency_compare, rerun_compare_kind },
    { "accuracy", true, check_schema_accuracy, check_inputs_accuracy, consistency_accuracy, rerun_accuracy },
    { "conform", false, NULL, NULL, check_conform, NULL },
    { "kernels", false, NULL, NULL, consistency_kernels, NULL },
    { "bench", true, NULL, NULL, consistency_bench, NULL },
    { "vectors", false, NULL, NULL, consistency_vectors, NULL },
};

static const kind_rules *find_kind(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].kind, kind)) return &kinds[i];
    return NULL;
}

/* Schema, seal and consistency of the receipt r (read from path); its
 * kind's rules, or NULL for an unknown kind. */
static const kind_rules *check_doc(problems *p, const cJSON *r, const char *path, tc_seal_info *seal)
{
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "kind"));
    const kind_rules *k = find_kind(kind);
    check_schema_common(p, r, k && !k->has_model);
    if (!k) {
        problem(p, "schema: kind: expected compare, accuracy, conform, kernels, bench or vectors, found \"%.40s\"",
                kind ? kind : "none");
    } else {
        if (k->schema) k->schema(p, r);
        if (k->inputs) k->inputs(p, r);
    }
    tc_err serr = { 0 };
    if (tc_receipt_check_seal(r, p->trusted, seal, &serr)) problem(p, "%s", serr.msg);
    if (k && p->n == 0) k->consistency(p, r, path);
    if (k && p->n == 0) tc_verify_shards(r, path, p->out, coverage_problem, p);
    return k;
}

/* ---- verify ---- */

/* Rerun the receipt, or with o->one_shard only that shard of a merged
 * receipt (its view: audit/merge.h) or of a shard's own receipt. */
static tc_status rerun_some(problems *p, const cJSON *r, const kind_rules *k, const tc_verify_opts *o,
                            tc_verify_result *res, tc_err *err)
{
    if (!o->one_shard) return k->rerun(p, r, o, res, err);
    const cJSON *own = tc_audit_at(r, "shard.index");
    if (own) {
        if (tc_audit_num(own) != o->shard)
            return tc_fail(err, TC_E_USAGE, "--shard %d: this receipt is shard %g's", o->shard, tc_audit_num(own));
        return k->rerun(p, r, o, res, err);
    }
    cJSON *view = tc_merge_shard_view(r, o->shard, err);
    if (!view) return err->status;
    if (p->out) fprintf(p->out, "  (rerun: shard %d only)\n", o->shard);
    tc_status s = k->rerun(p, view, o, res, err);
    cJSON_Delete(view);
    return s;
}

tc_status tc_verify_receipt(const char *path, const tc_verify_opts *o, FILE *out, tc_verify_result *res,
                            tc_err *err)
{
    memset(res, 0, sizeof *res);
    res->complete = true;
    /* the options first: a key that cannot be read is the user's error */
    unsigned char trusted[32];
    tc_status s = o->pubkey ? tc_pubkey_load(o->pubkey, trusted, err) : TC_OK;
    if (s) return s;
    if (o->rerun && !o->model)
        return tc_fail(err, TC_E_USAGE, "%s: --rerun needs --model FILE (the model the receipt names)", path);
    cJSON *r;
    if ((s = tc_receipt_load(path, &r, err))) return s;
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "kind"));
    const kind_rules *k = find_kind(kind);
    if (o->rerun && (!k || !k->rerun)) {
        s = tc_fail(err, TC_E_USAGE, "%s: --rerun reproduces compare and accuracy receipts, not %.40s", path,
                    kind ? kind : "this kind");
        goto out;
    }
    if (o->model && k && !k->has_model) {
        s = tc_fail(err, TC_E_USAGE, "%s: a %s receipt names no model: --model does not apply", path, kind);
        goto out;
    }
    if ((o->ref || o->cand) && (!k || strcmp(k->kind, "compare") || !o->rerun)) {
        s = tc_fail(err, TC_E_USAGE, "%s: --ref and --cand choose the engines of a compare receipt's --rerun", path);
        goto out;
    }
    if (o->engine && (!k || strcmp(k->kind, "accuracy") || !o->rerun)) {
        s = tc_fail(err, TC_E_USAGE, "%s: --engine chooses the subject engine of an accuracy receipt's --rerun", path);
        goto out;
    }
    if (out) fprintf(out, "%s:\n", path);
    problems p = { out, 0, o->pubkey ? trusted : NULL, "" };
    check_doc(&p, r, path, &res->seal);
    if (o->model) {
        if ((s = check_model(&p, r, o->model, err))) goto out;
        res->model_checked = true;
    }
    if (o->rerun) {
        if (p.n) {
            if (out) fprintf(out, "  (not rerun: the receipt already fails the checks above)\n");
            res->complete = false;
        } else if ((s = rerun_some(&p, r, k, o, res, err))) {
            goto out;
        }
    }
    problems_end(&p);
    res->valid = p.n == 0;
out:
    cJSON_Delete(r);
    return s;
}

tc_status tc_verify(const char *path, const tc_verify_opts *o, FILE *out, bool *valid, tc_err *err)
{
    tc_verify_result res;
    tc_status s = tc_verify_receipt(path, o, out, &res, err);
    *valid = !s && res.valid && res.complete;
    return s;
}

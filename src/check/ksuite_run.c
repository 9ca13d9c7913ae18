/* ksuite_run.c -- the kernel suite's runners: one kernel of a table on
 * one case's data, and the checks of ksuite.h on what it wrote.  The data
 * come from the seeded generator or a golden vector (ksuite_impl.h); the
 * runners do not know which.
 *
 * This file and the generator are the comparator at kernel level, not an
 * engine: the one place outside the engines that calls a tc_fast_kernels
 * table on inputs it did not make itself from a model.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/stats.h"
#include "check/ksuite_impl.h"
#include "format/types.h"

#define GUARD TC_KS_GUARD
#define GUARD_BYTE 0xA5
#define FLOAT_TOL TC_KS_FLOAT_TOL

/* ---- results ---- */

static tc_ks_check *add_check(tc_ks_result *r, const char *name, bool pass)
{
    tc_ks_check *c = &r->c[r->n < TC_KS_MAX_CHECKS ? r->n++ : TC_KS_MAX_CHECKS - 1];
    *c = (tc_ks_check){ .name = name, .pass = pass };
    return c;
}

static bool all_pass(tc_ks_result *res)
{
    res->pass = true;
    for (int i = 0; i < res->n; i++) res->pass = res->pass && res->c[i].pass;
    return res->pass;
}

double tc_ks_worst_scaled(const tc_ks_result *r)
{
    double worst = 0.0;
    for (int i = 0; i < r->n; i++)
        if (r->c[i].has_value && !(r->c[i].value <= worst)) worst = r->c[i].value;
    return worst;
}

/* ---- guarded buffers: GUARD bytes of 0xA5 on each side ---- */

typedef struct gbuf {
    uint8_t *base;
    size_t bytes;
    const char *what;
} gbuf;

/* The body, filled with 0xA5 too (so that untouched elements can be told). */
static void *galloc(gbuf *g, size_t bytes, const char *what)
{
    g->what = what;
    g->bytes = bytes;
    g->base = malloc(bytes + 2 * GUARD);
    if (!g->base) return NULL;
    memset(g->base, GUARD_BYTE, bytes + 2 * GUARD);
    return g->base + GUARD;
}

static void gfree(gbuf *g)
{
    free(g->base);
    g->base = NULL;
}

/* Check the guards of n buffers: one check "guards" naming the first
 * damaged one (buffer, side, offset, bytes). */
static void check_guards(tc_ks_result *r, gbuf *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t *before = g[i].base, *after = g[i].base + GUARD + g[i].bytes;
        size_t nb = 0, na = 0, first_b = 0, first_a = 0;
        for (size_t j = 0; j < GUARD; j++) {
            if (before[j] != GUARD_BYTE && !nb++) first_b = GUARD - j;
            if (after[j] != GUARD_BYTE && !na++) first_a = j;
        }
        if (nb || na) {
            tc_ks_check *c = add_check(r, "guards", false);
            if (na)
                snprintf(c->detail, sizeof c->detail, "out-of-bounds write: %zu byte%s after %s [%zu bytes] "
                         "overwritten, the first at +%zu", na, na == 1 ? "" : "s", g[i].what, g[i].bytes, first_a);
            else
                snprintf(c->detail, sizeof c->detail, "out-of-bounds write: %zu byte%s before %s overwritten, "
                         "the nearest at -%zu", nb, nb == 1 ? "" : "s", g[i].what, first_b);
            return;
        }
    }
    add_check(r, "guards", true);
}

/* Whether bytes [from, to) of a guarded body are still 0xA5. */
static bool untouched(const void *body, size_t from, size_t to)
{
    const uint8_t *p = body;
    for (size_t i = from; i < to; i++)
        if (p[i] != GUARD_BYTE) return false;
    return true;
}

/* ---- float checks ---- */

/* finite: no NaN or Inf in c where r has none */
static void check_finite(tc_ks_result *res, const float *c, const float *r, size_t n, const char *what)
{
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(c[i]) && isfinite(r[i]) && !bad++) first = i;
    tc_ks_check *ck = add_check(res, "finite", bad == 0);
    if (bad)
        snprintf(ck->detail, sizeof ck->detail, "%zu non-finite value%s in %s where the reference has none; first "
                 "element %zu: %g", bad, bad == 1 ? "" : "s", what, first, (double)c[first]);
}

/* scaled_err = max_i |c_i - r_i| / scale_i  (scale NULL: max |r|) */
static void check_scaled(tc_ks_result *res, const float *c, const float *r, const double *scale, size_t n,
                         const char *what)
{
    double mr = 0, worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)r[i]) > mr) mr = fabs((double)r[i]);
    for (size_t i = 0; i < n; i++) {
        double s = scale ? scale[i] : mr, d = fabs((double)c[i] - (double)r[i]);
        if (isnan(d) && isfinite(r[i])) d = INFINITY;
        else if (isnan(d)) d = 0;   /* both non-finite alike: the finite check's business */
        double e = s > 0 ? d / s : d;
        if (e > worst || (isinf(e) && !isinf(worst))) worst = e, at = i;
    }
    tc_ks_check *ck = add_check(res, "scaled_err", worst <= FLOAT_TOL);
    ck->has_value = true;
    ck->value = worst;
    ck->limit = FLOAT_TOL;
    if (worst > FLOAT_TOL)
        snprintf(ck->detail, sizeof ck->detail, "%s element %zu: %.9g (reference %.9g), scaled error %.3g > %g", what,
                 at, (double)c[at], (double)r[at], worst, FLOAT_TOL);
}

/* inputs: every input as it was before the kernel ran */
static void check_inputs(tc_ks_result *res, bool intact, const char *detail)
{
    tc_ks_check *ck = add_check(res, "inputs", intact);
    if (!intact) snprintf(ck->detail, sizeof ck->detail, "%s", detail);
}

/* ---- timing: median of repeats, each long enough to measure ---- */

typedef void (*call_fn)(void *arg);

/* Seconds per call: one warm-up call, calls per repeat chosen so that a
 * repeat lasts >= 20 ms, the median over `repeat` repeats. */
static double time_median(call_fn fn, void *arg, uint32_t repeat)
{
    double t0 = tc_now_s();
    fn(arg);   /* warm-up: caches, pages, branch predictors */
    double one = tc_now_s() - t0;
    size_t calls = one > 0.02 ? 1 : (size_t)(0.02 / (one > 1e-7 ? one : 1e-7)) + 1;
    double v[64];
    if (repeat > 64) repeat = 64;
    for (uint32_t r = 0; r < repeat; r++) {
        t0 = tc_now_s();
        for (size_t c = 0; c < calls; c++) fn(arg);
        v[r] = (tc_now_s() - t0) / (double)calls;
    }
    return tc_median(v, repeat);
}

static void set_perf(tc_ks_result *r, double seconds, double amount, bool macs, const tc_ks_ceilings *cl, bool fp32)
{
    r->timed = true;
    r->seconds = seconds;
    r->rate = amount / seconds / 1e9;
    r->unit = macs ? "GMAC/s" : "GB/s";
    r->ceiling = macs ? (fp32 ? cl->fp32_gmacs : cl->int8_gmacs) : cl->bw_gbps;
    r->ceiling_name = macs ? (fp32 ? "fp32_fma_peak" : "int8_mac_peak") : "read_bandwidth";
    /* a timed call repeats on the same buffers: a working set that fits
     * in the last-level cache is read from it, not from DRAM, and may beat
     * the DRAM ceiling.  Said, not hidden. */
    r->in_cache = !macs && cl->llc_bytes > 0 && amount <= (double)cl->llc_bytes;
}

/* ---- row ranges ---- */

/* The kernel (fn on args, whose row range is *r0, *r1) called as two
 * threads would split the rows: [0, split), then [split, rows).  Whether
 * each call left every 4-byte output element outside its range alone:
 * the other's rows, and the gap up to ld between tokens.  *bad_t, *bad_r:
 * the first element written out of turn. */
static bool split_calls(call_fn fn, void *args, size_t *r0, size_t *r1, const void *out, size_t rows, size_t n,
                        size_t ld, size_t split, size_t *bad_t, size_t *bad_r)
{
    bool only = true;
    *r0 = 0;
    *r1 = split;
    fn(args);
    for (size_t t = 0; t < n && only; t++)
        for (size_t r = split; r < (t + 1 < n ? ld : rows) && only; r++)
            if (!untouched(out, (t * ld + r) * 4, (t * ld + r) * 4 + 4)) only = false, *bad_t = t, *bad_r = r;
    *r0 = split;
    *r1 = rows;
    fn(args);
    for (size_t t = 0; t + 1 < n && only; t++)
        for (size_t r = rows; r < ld && only; r++)
            if (!untouched(out, (t * ld + r) * 4, (t * ld + r) * 4 + 4)) only = false, *bad_t = t, *bad_r = r;
    return only;
}

/* ---- I2_S GEMV / GEMM ---- */

typedef struct i2s_args {
    const tc_fast_kernels *kt;
    const uint8_t *w;
    size_t K, r0, r1, n, ld;
    const int8_t *q;
    const int32_t *qsum;
    int32_t *out;
    bool gemv;
} i2s_args;

static void i2s_call(void *p)
{
    i2s_args *a = p;
    if (a->gemv) a->kt->i2s_gemv(a->w, a->K, a->r0, a->r1, a->q, a->qsum, a->out);
    else a->kt->i2s_gemm(a->w, a->K, a->r0, a->r1, a->q, a->qsum, a->n, a->out, a->ld);
}

/* exact: every sum of the rows (not the gap) equal to the reference's */
static void check_sums(tc_ks_result *res, const int32_t *out, const int32_t *want, size_t rows, size_t n, size_t ld)
{
    size_t bad = 0, first = 0;
    for (size_t t = 0; t < n; t++)
        for (size_t r = 0; r < rows; r++)
            if (out[t * ld + r] != want[t * ld + r] && !bad++) first = t * ld + r;
    tc_ks_check *ck = add_check(res, "exact", bad == 0);
    if (bad)
        snprintf(ck->detail, sizeof ck->detail, "%zu of %zu sums differ; first token %zu row %zu: %" PRId32
                 " (reference %" PRId32 ")", bad, n * rows, first / ld, first % ld, out[first], want[first]);
}

static tc_status run_i2s(const tc_ks_case *c, const tc_ks_data *d, const tc_fast_kernels *kt, const tc_ks_ceilings *cl,
                         uint32_t repeat, tc_ks_result *res, tc_err *err)
{
    const size_t rows = c->rows, K = c->K, n = c->n, ld = c->ld, nout = (n - 1) * ld + rows;
    /* the weights as the table reads them: I2_S, or rewritten into its
     * layout as the engine does when it opens */
    const size_t wbytes = kt->repack ? kt->layout_bytes(K, rows) : rows * K / 4;
    uint8_t *packed = kt->repack ? aligned_alloc(64, (wbytes + 63) / 64 * 64) : NULL;
    uint8_t *wcopy = malloc(wbytes);
    int8_t *qcopy = malloc(n * K);
    int32_t *qsum = malloc(n * sizeof *qsum);
    gbuf ob;
    int32_t *out = galloc(&ob, nout * sizeof *out, "out");
    tc_status st = TC_OK;
    if ((kt->repack && !packed) || !wcopy || !qcopy || !qsum || !out) {
        st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory for %s %zux%zu", tc_ks_kernel_name[c->kernel], rows, K);
        goto done;
    }
    for (size_t t = 0; t < n; t++) {
        int32_t s = 0;
        for (size_t i = 0; i < K; i++) s += d->q8[t * K + i];
        qsum[t] = s;
    }
    if (packed) kt->repack(d->w_i2s, K, rows, packed);
    const uint8_t *w = packed ? packed : d->w_i2s;
    memcpy(wcopy, w, wbytes);
    memcpy(qcopy, d->q8, n * K);
    const size_t split = rows / 3;
    i2s_args a = { kt, w, K, 0, 0, n, ld, d->q8, qsum, out, c->kernel == TC_KS_I2S_GEMV };
    size_t bad_t = 0, bad_r = 0;
    const bool only = split_calls(i2s_call, &a, &a.r0, &a.r1, out, rows, n, ld, split, &bad_t, &bad_r);
    tc_ks_check *ck = add_check(res, "rows_only", only);
    if (!only)
        snprintf(ck->detail, sizeof ck->detail, "a call on rows [%zu, %zu) wrote out[token %zu][row %zu] (ld %zu)",
                 bad_r >= rows ? split : (size_t)0, bad_r >= rows ? rows : split, bad_t, bad_r, ld);
    check_sums(res, out, d->want_sums, rows, n, ld);
    check_guards(res, &ob, 1);
    check_inputs(res, !memcmp(w, wcopy, wbytes) && !memcmp(d->q8, qcopy, n * K),
                 "the kernel modified its weights or activations");
    if (all_pass(res) && cl && c->timed) {
        a.r0 = 0;
        double t = time_median(i2s_call, &a, repeat);
        if (a.gemv) set_perf(res, t, (double)rows * K / 4 + (double)K + 4.0 * rows, false, cl, false);
        else set_perf(res, t, (double)rows * K * n, true, cl, false);
    }
done:
    free(packed), free(wcopy), free(qcopy), free(qsum);
    gfree(&ob);
    return st;
}

/* ---- RMSNorm (+ q8): n rows of K, one call per row ---- */

typedef struct norm_args {
    const tc_fast_kernels *kt;
    const float *x, *w;
    size_t n;
    float eps;
    int8_t *q;
    int32_t *qsum;
    float *y;
} norm_args;

static void norm_q8_call(void *p)
{
    norm_args *a = p;
    (void)a->kt->rmsnorm_q8(a->x, a->w, a->n, a->eps, a->q, a->qsum);
}

static void norm_call(void *p)
{
    norm_args *a = p;
    a->kt->rmsnorm(a->x, a->w, a->n, a->eps, a->y);
}

static int32_t code_sum(const int8_t *q, size_t n)
{
    int32_t s = 0;
    for (size_t i = 0; i < n; i++) s += q[i];
    return s;
}

/* exact: the codes, each row's scale (bit for bit) and code sum */
static void check_q8(tc_ks_result *res, const tc_ks_data *d, const int8_t *q, const float *s, const int32_t *qsum,
                     size_t rows, size_t K)
{
    size_t bad = 0, first = 0, bad_s = rows, bad_sum = rows;
    for (size_t i = 0; i < rows * K; i++)
        if (q[i] != d->want_q8[i] && !bad++) first = i;
    for (size_t t = rows; t-- > 0;) {
        if (memcmp(&s[t], &d->want_scale[t], sizeof s[t])) bad_s = t;
        if (qsum[t] != code_sum(d->want_q8 + t * K, K)) bad_sum = t;
    }
    tc_ks_check *ck = add_check(res, "exact", bad == 0 && bad_s == rows && bad_sum == rows);
    char hs[40] = "";
    if (bad && d->want_h) snprintf(hs, sizeof hs, ", h*s %.9g", (double)(d->want_h[first] * d->want_scale[first / K]));
    if (bad)
        snprintf(ck->detail, sizeof ck->detail, "%zu of %zu codes differ; first element %zu: %d (reference %d%s)", bad,
                 rows * K, first, q[first], d->want_q8[first], hs);
    else if (bad_s < rows)
        snprintf(ck->detail, sizeof ck->detail, "scale s %.9g, the reference's %.9g (must be identical)",
                 (double)s[bad_s], (double)d->want_scale[bad_s]);
    else if (bad_sum < rows)
        snprintf(ck->detail, sizeof ck->detail, "qsum %" PRId32 ", the codes sum to %" PRId32, qsum[bad_sum],
                 code_sum(d->want_q8 + bad_sum * K, K));
}

/* rmsnorm_q8 on every row: exact, finite scales, guards */
static tc_status norm_q8_checks(const tc_ks_case *c, const tc_ks_data *d, norm_args *a, gbuf gb[2], tc_ks_result *res,
                                tc_err *err)
{
    const size_t rows = c->n, K = c->K;
    int8_t *q = galloc(&gb[0], rows * K, "q");
    int32_t *qsum = galloc(&gb[1], rows * sizeof *qsum, "qsum");
    float *s = malloc(rows * sizeof *s);
    if (!q || !qsum || !s) {
        free(s);
        return tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
    }
    size_t bad = rows;
    for (size_t t = rows; t-- > 0;) {
        s[t] = a->kt->rmsnorm_q8(d->x + t * K, d->w, K, d->eps, q + t * K, qsum + t);
        if (!isfinite(s[t])) bad = t;
    }
    check_q8(res, d, q, s, qsum, rows, K);
    tc_ks_check *ck = add_check(res, "finite", bad == rows);
    if (bad < rows) snprintf(ck->detail, sizeof ck->detail, "scale s is %g", (double)s[bad]);
    check_guards(res, gb, 2);
    free(s);
    a->q = q;
    a->qsum = qsum;
    return TC_OK;
}

/* rmsnorm on every row: scaled_err, finite, in place (y == x) the same
 * bits as out of place, guards */
static tc_status norm_checks(const tc_ks_case *c, const tc_ks_data *d, norm_args *a, gbuf gb[2], tc_ks_result *res,
                             tc_err *err)
{
    const size_t rows = c->n, K = c->K;
    float *y = galloc(&gb[0], rows * K * 4, "y"), *yy = galloc(&gb[1], rows * K * 4, "y (in place)");
    if (!y || !yy) return tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
    for (size_t t = 0; t < rows; t++) a->kt->rmsnorm(d->x + t * K, d->w, K, d->eps, y + t * K);
    memcpy(yy, d->x, rows * K * 4);
    for (size_t t = 0; t < rows; t++) a->kt->rmsnorm(yy + t * K, d->w, K, d->eps, yy + t * K);   /* y may alias x */
    check_scaled(res, y, d->want, NULL, rows * K, "y");
    check_finite(res, y, d->want, rows * K, "y");
    if (res->c[res->n - 2].pass && memcmp(y, yy, rows * K * 4)) {
        tc_ks_check *ck = add_check(res, "in_place", false);
        snprintf(ck->detail, sizeof ck->detail, "y = rmsnorm(x) in place (y == x) differs from out of place");
    }
    check_guards(res, gb, 2);
    a->y = y;
    return TC_OK;
}

static tc_status run_norm(const tc_ks_case *c, const tc_ks_data *d, const tc_fast_kernels *kt, const tc_ks_ceilings *cl,
                          uint32_t repeat, tc_ks_result *res, tc_err *err)
{
    const size_t rows = c->n, K = c->K;
    const bool q8 = c->kernel == TC_KS_RMSNORM_Q8;
    float *xc = malloc(rows * K * 4), *wc = malloc(K * 4);
    gbuf gb[2] = { 0 };
    norm_args a = { kt, d->x, d->w, K, d->eps, NULL, NULL, NULL };
    tc_status st = TC_OK;
    if (!xc || !wc) st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
    if (!st) {
        memcpy(xc, d->x, rows * K * 4);
        memcpy(wc, d->w, K * 4);
        st = q8 ? norm_q8_checks(c, d, &a, gb, res, err) : norm_checks(c, d, &a, gb, res, err);
    }
    if (!st) {
        check_inputs(res, !memcmp(d->x, xc, rows * K * 4) && !memcmp(d->w, wc, K * 4), "the kernel modified x or w");
        if (all_pass(res) && cl && c->timed)   /* the first row */
            set_perf(res, time_median(q8 ? norm_q8_call : norm_call, &a, repeat), (double)K * (q8 ? 9 : 12), false, cl,
                     false);
    }
    free(xc), free(wc);
    gfree(&gb[0]);
    gfree(&gb[1]);
    return st;
}

/* ---- F16 GEMV / GEMM ---- */

typedef struct f16_args {
    const tc_fast_kernels *kt;
    const uint16_t *w;
    size_t K, r0, r1;
    const float *x;
    size_t n;
    float *y;
    size_t ld;
} f16_args;

static void f16_call(void *p)
{
    f16_args *a = p;
    a->kt->f16_gemm(a->w, a->K, a->r0, a->r1, a->x, a->n, a->y, a->ld);
}

/* The error's scale of each output: sum_i |w_i x_i| in double (where
 * cancellation makes max |r| meaningless).  mag: {n x ld}. */
static bool f16_scale(const tc_ks_case *c, const tc_ks_data *d, double *mag)
{
    const size_t K = c->K;
    float *wf = malloc(K * sizeof *wf);
    if (!wf) return false;
    for (size_t r = 0; r < c->rows; r++) {
        for (size_t i = 0; i < K; i++) wf[i] = tc_f16_to_f32(d->w_f16[r * K + i]);
        for (size_t t = 0; t < c->n; t++) {
            double a = 0;
            for (size_t i = 0; i < K; i++) a += fabs((double)wf[i] * d->x[t * K + i]);
            mag[t * c->ld + r] = a;
        }
    }
    free(wf);
    return true;
}

/* range_independent: each row computed alone gives the bits it gave in
 * a range (the engine's thread count must not change bits) */
static tc_status f16_range_check(const f16_args *a, size_t rows, const float *y, tc_ks_result *res, tc_err *err)
{
    const size_t n = a->n, ld = a->ld;
    gbuf y1b = { 0 };   /* guarded: a kernel that writes outside its row fails rows_only, not the process */
    float *y1 = galloc(&y1b, ((n - 1) * ld + rows) * 4, "y");
    if (!y1) return tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
    f16_args one = *a;
    one.y = y1;
    size_t moved = 0, first_moved = 0;
    for (size_t r = 0; r < rows; r++) {
        one.r0 = r;
        one.r1 = r + 1;
        f16_call(&one);
        for (size_t t = 0; t < n; t++)
            if (memcmp(&y1[t * ld + r], &y[t * ld + r], 4) && !moved++) first_moved = r;
    }
    gfree(&y1b);
    tc_ks_check *ck = add_check(res, "range_independent", moved == 0);
    if (moved)
        snprintf(ck->detail, sizeof ck->detail, "%zu outputs differ when their row is computed alone; first row %zu",
                 moved, first_moved);
    return TC_OK;
}

/* scaled_err and finite over the rows only (the gap up to ld is sentinel) */
static tc_status f16_compare(const tc_ks_case *c, const float *y, const float *want, const double *mag,
                             tc_ks_result *res, tc_err *err)
{
    const size_t rows = c->rows, n = c->n, ld = c->ld;
    float *yc = malloc(n * rows * 4), *wc = malloc(n * rows * 4);
    double *mc = malloc(n * rows * sizeof *mc);
    if (!yc || !wc || !mc) {
        free(yc), free(wc), free(mc);
        return tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
    }
    for (size_t t = 0; t < n; t++)
        for (size_t r = 0; r < rows; r++) {
            yc[t * rows + r] = y[t * ld + r];
            wc[t * rows + r] = want[t * ld + r];
            mc[t * rows + r] = mag[t * ld + r];
        }
    check_scaled(res, yc, wc, mc, n * rows, "y");
    check_finite(res, yc, wc, n * rows, "y");
    free(yc), free(wc), free(mc);
    return TC_OK;
}

static tc_status run_f16(const tc_ks_case *c, const tc_ks_data *d, const tc_fast_kernels *kt, const tc_ks_ceilings *cl,
                         uint32_t repeat, tc_ks_result *res, tc_err *err)
{
    const size_t rows = c->rows, K = c->K, n = c->n, ld = c->ld, nout = (n - 1) * ld + rows;
    float *xc = malloc(n * K * 4);
    double *mag = calloc(nout, sizeof *mag);
    gbuf yb;
    float *y = galloc(&yb, nout * 4, "y");
    tc_status st = TC_OK;
    if (!xc || !mag || !y || !f16_scale(c, d, mag)) {
        st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory for f16 %zux%zu", rows, K);
        goto done;
    }
    memcpy(xc, d->x, n * K * 4);
    f16_args a = { kt, d->w_f16, K, 0, 0, d->x, n, y, ld };
    size_t bad_t, bad_r;
    const bool only = split_calls(f16_call, &a, &a.r0, &a.r1, y, rows, n, ld, rows / 2, &bad_t, &bad_r);
    tc_ks_check *ck = add_check(res, "rows_only", only);
    if (!only) snprintf(ck->detail, sizeof ck->detail, "a call on a row range wrote outside it (rows %zu, ld %zu)",
                        rows, ld);
    if ((st = f16_range_check(&a, rows, y, res, err)) || (st = f16_compare(c, y, d->want, mag, res, err))) goto done;
    check_guards(res, &yb, 1);
    check_inputs(res, !memcmp(d->x, xc, n * K * 4), "the kernel modified x");
    if (all_pass(res) && cl && c->timed) {
        a.r0 = 0;
        double t = time_median(f16_call, &a, repeat);
        if (n == 1) set_perf(res, t, (double)rows * K * 2 + 4.0 * K + 4.0 * rows, false, cl, false);
        else set_perf(res, t, (double)rows * K * n, true, cl, true);
    }
done:
    free(xc), free(mag);
    gfree(&yb);
    return st;
}

/* ---- attention ---- */

typedef struct attn_args {
    const tc_fast_kernels *kt;
    const float *q, *k, *v;
    size_t nk, hd;
    float *scores, *out;
} attn_args;

static void attn_call(void *p)
{
    attn_args *a = p;
    a->kt->attention_head(a->q, a->k, a->v, a->nk, a->hd, a->scores, a->out);
}

static tc_status run_attention(const tc_ks_case *c, const tc_ks_data *d, const tc_fast_kernels *kt,
                               const tc_ks_ceilings *cl, uint32_t repeat, tc_ks_result *res, tc_err *err)
{
    const size_t nk = c->rows, hd = c->K;
    float *cq = malloc(hd * 4), *ck_ = malloc(nk * hd * 4), *cv = malloc(nk * hd * 4);
    double *scale = malloc(hd * sizeof *scale);
    gbuf gb[2] = { 0 };
    float *out = galloc(&gb[0], hd * 4, "out"), *scores = galloc(&gb[1], nk * 4, "scores");
    tc_status st = TC_OK;
    if (!cq || !ck_ || !cv || !scale || !out || !scores) {
        st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory for attention %zu keys", nk);
        goto done;
    }
    memcpy(cq, d->q, hd * 4);
    memcpy(ck_, d->k, nk * hd * 4);
    memcpy(cv, d->v, nk * hd * 4);
    attn_args a = { kt, d->q, d->k, d->v, nk, hd, scores, out };
    attn_call(&a);
    /* the error's scale: max |v| (out is a convex combination of the v_j) */
    double vmax = 0;
    for (size_t i = 0; i < nk * hd; i++)
        if (fabs((double)d->v[i]) > vmax) vmax = fabs((double)d->v[i]);
    for (size_t i = 0; i < hd; i++) scale[i] = vmax;
    check_scaled(res, out, d->want, scale, hd, "out");
    check_finite(res, out, d->want, hd, "out");
    check_guards(res, gb, 2);
    check_inputs(res, !memcmp(d->q, cq, hd * 4) && !memcmp(d->k, ck_, nk * hd * 4) && !memcmp(d->v, cv, nk * hd * 4),
                 "the kernel modified q, k or v");
    if (all_pass(res) && cl && c->timed)
        set_perf(res, time_median(attn_call, &a, repeat), 2.0 * nk * hd * 4 + 8.0 * hd, false, cl, false);
done:
    free(cq), free(ck_), free(cv), free(scale);
    gfree(&gb[0]);
    gfree(&gb[1]);
    return st;
}

/* ---- element-wise steps: bit for bit against the scalar formulas ---- */

static bool same_bits(float a, float b) { return !memcmp(&a, &b, sizeof a) || (isnan(a) && isnan(b)); }

static tc_status run_elementwise(const tc_ks_case *c, const tc_ks_data *d, const tc_fast_kernels *kt,
                                 tc_ks_result *res, tc_err *err)
{
    const size_t n = c->K;
    float *ca = malloc(n * 4), *cb = malloc(n * 4);
    gbuf gb[1] = { 0 };
    float *out = galloc(&gb[0], n * 4, "out");
    tc_status st = TC_OK;
    if (!ca || !cb || !out) {
        st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory for %zu elements", n);
        goto done;
    }
    memcpy(ca, d->a, n * 4);
    memcpy(cb, d->b, n * 4);
    if (c->kernel == TC_KS_I2S_SCALE) {
        kt->i2s_scale(d->acc, n, d->s, d->m, c->n == 2 ? &d->mul : NULL, out);
    } else if (c->kernel == TC_KS_RELU2_MUL) {
        kt->relu2_mul(d->a, d->b, n, out);
    } else {
        memcpy(out, d->a, n * 4);
        kt->add(out, d->b, n);
    }
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (!same_bits(out[i], d->want[i]) && !bad++) first = i;
    tc_ks_check *ck = add_check(res, "exact", bad == 0);
    if (bad)
        snprintf(ck->detail, sizeof ck->detail, "%zu of %zu elements differ from the scalar formula; first %zu: %.9g "
                 "(want %.9g)", bad, n, first, (double)out[first], (double)d->want[first]);
    check_guards(res, gb, 1);
    check_inputs(res, !memcmp(d->a, ca, n * 4) && !memcmp(d->b, cb, n * 4), "the kernel modified its inputs");
    all_pass(res);
done:
    free(ca), free(cb);
    gfree(&gb[0]);
    return st;
}

/* ---- a case ---- */

tc_status tc_ks_run_case(const tc_ks_case *c, const tc_ks_data *d, const tc_fast_kernels *kt, const tc_ks_ceilings *cl,
                         uint32_t repeat, tc_ks_result *r, tc_err *err)
{
    memset(r, 0, sizeof *r);
    switch (c->kernel) {
    case TC_KS_I2S_GEMV:
    case TC_KS_I2S_GEMM: return run_i2s(c, d, kt, cl, repeat, r, err);
    case TC_KS_RMSNORM_Q8:
    case TC_KS_RMSNORM: return run_norm(c, d, kt, cl, repeat, r, err);
    case TC_KS_F16_GEMV:
    case TC_KS_F16_GEMM: return run_f16(c, d, kt, cl, repeat, r, err);
    case TC_KS_ATTENTION: return run_attention(c, d, kt, cl, repeat, r, err);
    default: return run_elementwise(c, d, kt, r, err);
    }
}

/* kernels.c -- `tritcheck kernels`: every kernel of a fast-engine table
 * (built-in ISA or plug-in) against the reference kernels, case by case,
 * with guard bytes around every output, and optionally timed (kernels.h).
 *
 * This file is the comparator at kernel level, not an engine: it is the one
 * place outside the engines that calls both src/ref/kernels.h and a
 * tc_fast_kernels table.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "base/clock.h"
#include "base/stats.h"
#include "check/hostprobe.h"
#include "check/ksuite.h"
#include "engine/registry.h"
#include "fast/cpu/dispatch.h"
#include "receipt/receipt.h"
#include "ref/ref_kernels.h"
#include "base/sha256.h"
#include "format/types.h"

/* ---- the case table ---- */

enum kernel {
    KN_I2S_GEMV, KN_I2S_GEMM, KN_RMSNORM_Q8, KN_RMSNORM, KN_F16_GEMV, KN_F16_GEMM, KN_ATTENTION,
    KN_I2S_SCALE, KN_RELU2_MUL, KN_ADD, KN_COUNT
};
static const char *const kernel_name[KN_COUNT] = { "i2s_gemv", "i2s_gemm", "rmsnorm_q8", "rmsnorm",
                                                   "f16_gemv", "f16_gemm", "attention_head", "i2s_scale",
                                                   "relu2_mul", "add" };

/* The inputs of a case: random, or one edge the kernels must survive. */
enum input {
    IN_RANDOM,
    IN_Q8_MIN, IN_Q8_MAX, IN_Q8_ALT,   /* activations all -128, all 127, alternating */
    IN_ZERO_ROWS,                      /* every other weight row all 0 (code 1) */
    IN_SIGN_ROWS,                      /* rows all -1 / all +1, activations +-127/-128: largest sums */
    IN_EXTREME_SUMS,                   /* rows all +1, activations all -128 or all 127 (by token or row
                                        * parity): every partial sum at its bound */
    IN_CODE3,                          /* packed bytes holding code 3 (reads as 0) */
    IN_ZEROS,                          /* norm input all 0: the 1e-5 amax floor */
    IN_DENORMAL,                       /* norm input entirely subnormal floats */
    IN_SPIKE,                          /* one +1e4 and one -1e4 among N(0, 2.385): saturated codes */
    IN_HUGE,                           /* norm input ~1e30: squares overflow float, not double */
    IN_F16_SUBNORMAL,                  /* half weights with exponent 0 */
    IN_F16_MAX,                        /* half weights at +-65504 among small ones */
    IN_NEG_SCORES,                     /* every key but one scores ~ -1e4 */
    IN_EQUAL_SCORES,                   /* all keys equal: uniform softmax */
    IN_SPECIALS,                       /* element-wise: +-0, +-inf, NaN, subnormals, int32 extremes */
    IN_COUNT
};
static const char *const input_name[IN_COUNT] = {
    "random", "q8=-128", "q8=127", "q8=alternating", "zero-rows", "sign-rows", "extreme-sums", "code3",
    "zeros", "denormal", "spike", "huge", "f16-subnormal", "f16-max", "neg-scores", "equal-scores",
    "specials",
};

/* One case.  Shapes: I2_S and F16 {rows x K} weights with n tokens and
 * output stride ld (>= rows); norms n elements in K; attention rows =
 * n_keys and K = head_dim. */
typedef struct kcase {
    enum kernel kernel;
    size_t rows, K, n, ld;
    enum input input;
    bool large;           /* only with perf or filter "large" */
    bool timed;           /* in the perf timing set */
    const char *label;    /* the model tensor it stands for, or NULL */
    unsigned long seed;
} kcase;

typedef struct case_list {
    kcase *v;
    size_t n, cap;
} case_list;

static bool push(case_list *l, kcase c)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        kcase *v = realloc(l->v, cap * sizeof *v);
        if (!v) return false;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = c;
    return true;
}

/* Every case, in a fixed order (the seed of case i is seed + i whatever
 * the filter, so a filtered run reproduces the same inputs). */
static bool build_cases(case_list *l)
{
    bool ok = true;
#define C(...) (ok = ok && push(l, (kcase){ __VA_ARGS__ }))
    static const size_t odd[] = { 1, 3, 17 };
    /* the 2b4t linears {rows x K} */
    static const struct { size_t rows, K; const char *label; } m2b4t[] = {
        { 2560, 2560, "2b4t attn_q/attn_output" }, { 640, 2560, "2b4t attn_k/attn_v" },
        { 6912, 2560, "2b4t ffn_gate/ffn_up" }, { 2560, 6912, "2b4t ffn_down" },
    };
    static const enum input i2s_edges[] = { IN_Q8_MIN,   IN_Q8_MAX,       IN_Q8_ALT, IN_ZERO_ROWS,
                                            IN_SIGN_ROWS, IN_EXTREME_SUMS, IN_CODE3 };

    /* I2_S GEMV: every K of the family at odd row counts, the 2b4t shapes, edges */
    for (size_t K = 128; K <= 6912; K += 128)
        for (size_t r = 0; r < 3; r++) C(.kernel = KN_I2S_GEMV, .rows = odd[r], .K = K, .n = 1, .ld = odd[r]);
    for (size_t i = 0; i < 4; i++)
        C(.kernel = KN_I2S_GEMV, .rows = m2b4t[i].rows, .K = m2b4t[i].K, .n = 1, .ld = m2b4t[i].rows,
          .timed = true, .label = m2b4t[i].label);
    for (size_t e = 0; e < 7; e++) {
        C(.kernel = KN_I2S_GEMV, .rows = 17, .K = 2560, .n = 1, .ld = 17, .input = i2s_edges[e]);
        C(.kernel = KN_I2S_GEMV, .rows = 3, .K = 6912, .n = 1, .ld = 3, .input = i2s_edges[e]);
    }
    /* I2_S GEMM: odd rows, a few K, 2 and 5 tokens (5 with a gap up to ld) */
    static const size_t gk[] = { 128, 1152, 2560, 6912 };
    for (size_t k = 0; k < 4; k++)
        for (size_t r = 0; r < 3; r++) {
            C(.kernel = KN_I2S_GEMM, .rows = odd[r], .K = gk[k], .n = 2, .ld = odd[r]);
            C(.kernel = KN_I2S_GEMM, .rows = odd[r], .K = gk[k], .n = 5, .ld = odd[r] + 3);
        }
    for (size_t i = 0; i < 4; i++)
        C(.kernel = KN_I2S_GEMM, .rows = m2b4t[i].rows, .K = m2b4t[i].K, .n = 8, .ld = m2b4t[i].rows,
          .timed = true, .label = m2b4t[i].label);
    for (size_t e = 0; e < 7; e++)
        C(.kernel = KN_I2S_GEMM, .rows = 17, .K = 2560, .n = 5, .ld = 20, .input = i2s_edges[e]);
    /* norms: odd and model widths, edges */
    static const size_t nn[] = { 1, 3, 17, 128, 136, 1000, 2560, 6912 };
    static const enum input norm_edges[] = { IN_ZEROS, IN_DENORMAL, IN_SPIKE, IN_HUGE };
    for (int kn = KN_RMSNORM_Q8; kn <= KN_RMSNORM; kn++) {
        for (size_t i = 0; i < 8; i++)
            C(.kernel = (enum kernel)kn, .K = nn[i], .n = 1, .timed = nn[i] >= 2560,
              .label = nn[i] == 2560 ? "2b4t d" : nn[i] == 6912 ? "2b4t ffn" : NULL);
        for (size_t e = 0; e < 4; e++) {
            C(.kernel = (enum kernel)kn, .K = 2560, .n = 1, .input = norm_edges[e]);
            C(.kernel = (enum kernel)kn, .K = 17, .n = 1, .input = norm_edges[e]);
        }
    }
    /* F16 GEMV / GEMM (the tied LM head), odd K included */
    static const size_t fk[] = { 7, 100, 128, 2560 };
    for (size_t k = 0; k < 4; k++)
        for (size_t r = 0; r < 3; r++) {
            C(.kernel = KN_F16_GEMV, .rows = odd[r], .K = fk[k], .n = 1, .ld = odd[r]);
            if (fk[k] == 7) continue;
            C(.kernel = KN_F16_GEMM, .rows = odd[r], .K = fk[k], .n = 2, .ld = odd[r]);
            C(.kernel = KN_F16_GEMM, .rows = odd[r], .K = fk[k], .n = 5, .ld = odd[r] + 3);
        }
    C(.kernel = KN_F16_GEMV, .rows = 17, .K = 2560, .n = 1, .ld = 17, .input = IN_F16_SUBNORMAL);
    C(.kernel = KN_F16_GEMV, .rows = 17, .K = 2560, .n = 1, .ld = 17, .input = IN_F16_MAX);
    C(.kernel = KN_F16_GEMM, .rows = 17, .K = 2560, .n = 5, .ld = 17, .input = IN_F16_SUBNORMAL);
    C(.kernel = KN_F16_GEMV, .rows = 128256, .K = 2560, .n = 1, .ld = 128256, .large = true, .timed = true,
      .label = "2b4t lm_head");
    /* attention: 1 to 4096 keys, head dims 128, 64 and 40 */
    static const size_t nk[] = { 1, 7, 100, 1000, 4096 }, hd[] = { 128, 64, 40 };
    for (size_t j = 0; j < 5; j++)
        for (size_t h = 0; h < 3; h++)
            C(.kernel = KN_ATTENTION, .rows = nk[j], .K = hd[h], .n = 1, .timed = hd[h] == 128 && nk[j] >= 1000,
              .label = hd[h] == 128 && nk[j] == 4096 ? "2b4t decode at 4096" : NULL);
    C(.kernel = KN_ATTENTION, .rows = 4, .K = 128, .n = 1, .input = IN_NEG_SCORES);
    C(.kernel = KN_ATTENTION, .rows = 4096, .K = 128, .n = 1, .input = IN_NEG_SCORES);
    C(.kernel = KN_ATTENTION, .rows = 100, .K = 128, .n = 1, .input = IN_EQUAL_SCORES);
    /* element-wise steps: lengths around the 8-lane width, the 2b4t rows,
     * special values; i2s_scale with (n = 2) and without (n = 1) the
     * extra multiplier */
    static const size_t en[] = { 1, 7, 8, 17, 2560, 6912 };
    for (int kn = KN_I2S_SCALE; kn <= KN_ADD; kn++) {
        for (size_t i = 0; i < 6; i++)
            for (size_t n = 1; n <= (kn == KN_I2S_SCALE ? 2u : 1u); n++)
                C(.kernel = (enum kernel)kn, .K = en[i], .n = n);
        C(.kernel = (enum kernel)kn, .K = 1000, .n = 2, .input = IN_SPECIALS);
    }
#undef C
    return ok;
}

/* ---- results ---- */

enum { MAX_CHECKS = 8, GUARD = 64 };
#define GUARD_BYTE 0xA5

typedef struct check {
    const char *name;      /* exact, scaled_err, finite, guards, rows_only, range_independent, inputs */
    bool pass;
    bool has_value;
    double value, limit;   /* scaled_err: the error and the tolerance */
    char detail[200];      /* what failed, where */
} check;

typedef struct result {
    check c[MAX_CHECKS];
    int n;
    bool pass;
    /* perf */
    bool timed;
    double seconds;        /* median of one call */
    double rate;           /* GB/s or GMAC/s */
    const char *unit;      /* "GB/s" or "GMAC/s" */
    double ceiling;        /* the ceiling in the same unit */
    const char *ceiling_name;
    bool in_cache;         /* the working set fits in the last-level cache */
} result;

static check *add_check(result *r, const char *name, bool pass)
{
    check *c = &r->c[r->n < MAX_CHECKS ? r->n++ : MAX_CHECKS - 1];
    *c = (check){ .name = name, .pass = pass };
    return c;
}

static const char *const FLOAT_TOL_NAME = "scaled_err";
static const double FLOAT_TOL = 1e-6;

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
static void check_guards(result *r, gbuf *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t *before = g[i].base, *after = g[i].base + GUARD + g[i].bytes;
        size_t nb = 0, na = 0, first_b = 0, first_a = 0;
        for (size_t j = 0; j < GUARD; j++) {
            if (before[j] != GUARD_BYTE && !nb++) first_b = GUARD - j;
            if (after[j] != GUARD_BYTE && !na++) first_a = j;
        }
        if (nb || na) {
            check *c = add_check(r, "guards", false);
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

/* ---- random inputs ---- */

static int8_t rand_q8(gsl_rng *g) { return (int8_t)((int)gsl_rng_uniform_int(g, 256) - 128); }

/* I2_S rows {rows x K} packed; codes per the input kind */
static void fill_i2s(gsl_rng *g, uint8_t *w, size_t rows, size_t K, enum input in)
{
    const size_t rb = K / 4;
    for (size_t r = 0; r < rows; r++)
        for (size_t b = 0; b < rb; b++) {
            unsigned byte = 0;
            for (int f = 0; f < 4; f++) {
                unsigned code = (unsigned)gsl_rng_uniform_int(g, in == IN_CODE3 ? 4 : 3);
                if (in == IN_ZERO_ROWS && r % 2 == 0) code = 1;
                if (in == IN_SIGN_ROWS) code = r % 2 ? 2 : 0;
                if (in == IN_EXTREME_SUMS) code = 2;
                byte = byte << 2 | code;
            }
            w[r * rb + b] = (uint8_t)byte;
        }
}

static void fill_q8(gsl_rng *g, int8_t *q, size_t n, size_t K, enum input in)
{
    for (size_t i = 0; i < n; i++) {
        int v = rand_q8(g);
        if (in == IN_Q8_MIN) v = -128;
        if (in == IN_Q8_MAX) v = 127;
        if (in == IN_Q8_ALT) v = i % 2 ? 127 : -128;
        if (in == IN_SIGN_ROWS) v = v < 0 ? -128 : 127;
        if (in == IN_EXTREME_SUMS) v = (i / K) % 2 ? 127 : -128;   /* token 0 all -128, token 1 all 127, ... */
        q[i] = (int8_t)v;
    }
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

/* Machine ceilings, measured once per run (one thread: the suite times
 * one call on one core). */
typedef struct ceilings {
    double bw_gbps;       /* read bandwidth */
    double ghz;
    int int8_macs;        /* per cycle */
    const char *peak_isa;
    double int8_gmacs;    /* ghz x int8_macs */
    double fp32_gmacs;    /* ghz x fp32 FMA lanes x 2 units */
    long llc_bytes;       /* last-level cache size (sysconf), 0 when unknown */
} ceilings;

static void set_perf(result *r, double seconds, double amount, bool macs, const ceilings *cl, bool fp32)
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

static tc_status run_i2s(const kcase *c, const tc_fast_kernels *kt, gsl_rng *g, const ceilings *cl, uint32_t repeat,
                         result *res, tc_err *err)
{
    const bool gemv = c->kernel == KN_I2S_GEMV;
    const size_t rows = c->rows, K = c->K, n = c->n, ld = c->ld, nout = (n - 1) * ld + rows;
    uint8_t *raw = malloc(rows * K / 4), *w = malloc(rows * K / 4), *wcopy = malloc(rows * K / 4);
    int8_t *q = malloc(n * K), *qcopy = malloc(n * K);
    int32_t *qsum = malloc(n * sizeof *qsum), *want = malloc(nout * sizeof *want);
    gbuf ob;
    int32_t *out = galloc(&ob, nout * sizeof *out, "out");
    tc_status st = TC_OK;
    if (!raw || !w || !wcopy || !q || !qcopy || !qsum || !want || !out) {
        st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory for %s %zux%zu", kernel_name[c->kernel], rows, K);
        goto done;
    }
    fill_i2s(g, raw, rows, K, c->input);
    fill_q8(g, q, n * K, K, c->input);
    /* code 3 never reaches a kernel: the engine rewrites it at load (ABI) */
    if (c->input == IN_CODE3) tc_fast_i2s_sanitize(raw, rows * K / 4, w);
    else memcpy(w, raw, rows * K / 4);
    for (size_t t = 0; t < n; t++) {
        int32_t s = 0;
        for (size_t i = 0; i < K; i++) s += q[t * K + i];
        qsum[t] = s;
    }
    memcpy(wcopy, w, rows * K / 4);
    memcpy(qcopy, q, n * K);
    /* the reference reads the raw bytes (code 3 as 0) */
    for (size_t t = 0; t < n; t++)
        for (size_t r = 0; r < rows; r++) want[t * ld + r] = (int32_t)tc_ref_i2s_dot_q8(raw + r * (K / 4), q + t * K, K);

    /* two calls, as two threads would split the rows: [0, split), [split, rows) */
    const size_t split = rows / 3;
    i2s_args a = { kt, w, K, 0, split, n, ld, q, qsum, out, gemv };
    i2s_call(&a);
    bool only = true;
    size_t bad_t = 0, bad_r = 0;
    for (size_t t = 0; t < n && only; t++)
        for (size_t r = split; r < (t + 1 < n ? ld : rows) && only; r++)
            if (!untouched(out, (t * ld + r) * 4, (t * ld + r) * 4 + 4)) only = false, bad_t = t, bad_r = r;
    a.r0 = split;
    a.r1 = rows;
    i2s_call(&a);
    for (size_t t = 0; t + 1 < n && only; t++)
        for (size_t r = rows; r < ld && only; r++)
            if (!untouched(out, (t * ld + r) * 4, (t * ld + r) * 4 + 4)) only = false, bad_t = t, bad_r = r;
    check *ck = add_check(res, "rows_only", only);
    if (!only)
        snprintf(ck->detail, sizeof ck->detail, "a call on rows [%zu, %zu) wrote out[token %zu][row %zu] (ld %zu)",
                 bad_r >= rows ? split : (size_t)0, bad_r >= rows ? rows : split, bad_t, bad_r, ld);

    size_t bad = 0, first = 0;
    for (size_t t = 0; t < n; t++)
        for (size_t r = 0; r < rows; r++)
            if (out[t * ld + r] != want[t * ld + r] && !bad++) first = t * ld + r;
    ck = add_check(res, "exact", bad == 0);
    if (bad)
        snprintf(ck->detail, sizeof ck->detail, "%zu of %zu sums differ; first token %zu row %zu: %" PRId32
                 " (reference %" PRId32 ")", bad, n * rows, first / ld, first % ld, out[first], want[first]);
    check_guards(res, &ob, 1);
    bool intact = !memcmp(w, wcopy, rows * K / 4) && !memcmp(q, qcopy, n * K);
    ck = add_check(res, "inputs", intact);
    if (!intact) snprintf(ck->detail, sizeof ck->detail, "the kernel modified its weights or activations");

    res->pass = true;
    for (int i = 0; i < res->n; i++) res->pass = res->pass && res->c[i].pass;
    if (cl && c->timed && res->pass) {
        a.r0 = 0;
        double t = time_median(i2s_call, &a, repeat);
        if (gemv) set_perf(res, t, (double)rows * K / 4 + (double)K + 4.0 * rows, false, cl, false);
        else set_perf(res, t, (double)rows * K * n, true, cl, false);
    }
done:
    free(raw), free(w), free(wcopy), free(q), free(qcopy), free(qsum), free(want);
    gfree(&ob);
    return st;
}

/* ---- float checks ---- */

/* finite: no NaN or Inf in c where r has none */
static void check_finite(result *res, const float *c, const float *r, size_t n, const char *what)
{
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(c[i]) && isfinite(r[i]) && !bad++) first = i;
    check *ck = add_check(res, "finite", bad == 0);
    if (bad)
        snprintf(ck->detail, sizeof ck->detail, "%zu non-finite value%s in %s where the reference has none; first "
                 "element %zu: %g", bad, bad == 1 ? "" : "s", what, first, (double)c[first]);
}

/* scaled_err = max_i |c_i - r_i| / scale_i  (scale NULL: max |r|) */
static void check_scaled(result *res, const float *c, const float *r, const double *scale, size_t n,
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
    check *ck = add_check(res, FLOAT_TOL_NAME, worst <= FLOAT_TOL);
    ck->has_value = true;
    ck->value = worst;
    ck->limit = FLOAT_TOL;
    if (worst > FLOAT_TOL)
        snprintf(ck->detail, sizeof ck->detail, "%s element %zu: %.9g (reference %.9g), scaled error %.3g > %g", what,
                 at, (double)c[at], (double)r[at], worst, FLOAT_TOL);
}

static bool all_pass(result *res)
{
    res->pass = true;
    for (int i = 0; i < res->n; i++) res->pass = res->pass && res->c[i].pass;
    return res->pass;
}

/* ---- RMSNorm (+ q8) ---- */

static void fill_norm_input(gsl_rng *g, float *x, float *w, size_t n, enum input in)
{
    for (size_t i = 0; i < n; i++) {
        double v = gsl_ran_gaussian(g, 2.385);
        if (in == IN_ZEROS) v = 0;
        if (in == IN_DENORMAL) v *= 1e-39;   /* below FLT_MIN = 1.18e-38 */
        if (in == IN_HUGE) v *= 1e30;
        x[i] = (float)v;
        w[i] = (float)(0.5 + gsl_rng_uniform(g));
    }
    if (in == IN_SPIKE) {
        x[n / 2] = 1e4f;
        x[n / 3] = -1e4f;   /* n = 1: the same element */
    }
}

typedef struct norm_args {
    const tc_fast_kernels *kt;
    const float *x, *w;
    size_t n;
    int8_t *q;
    int32_t *qsum;
    float *y;
} norm_args;

static void norm_q8_call(void *p)
{
    norm_args *a = p;
    (void)a->kt->rmsnorm_q8(a->x, a->w, a->n, 1e-5f, a->q, a->qsum);
}

static void norm_call(void *p)
{
    norm_args *a = p;
    a->kt->rmsnorm(a->x, a->w, a->n, 1e-5f, a->y);
}

static tc_status run_norm(const kcase *c, const tc_fast_kernels *kt, gsl_rng *g, const ceilings *cl, uint32_t repeat,
                          result *res, tc_err *err)
{
    const size_t n = c->K;
    const float eps = 1e-5f;
    float *x = malloc(n * 4), *w = malloc(n * 4), *xc = malloc(n * 4), *wc = malloc(n * 4), *h = malloc(n * 4);
    int8_t *rq = malloc(n);
    gbuf gb[3] = { 0 };
    tc_status st = TC_OK;
    if (!x || !w || !xc || !wc || !h || !rq) {
        st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
        goto done;
    }
    fill_norm_input(g, x, w, n, c->input);
    memcpy(xc, x, n * 4);
    memcpy(wc, w, n * 4);
    tc_ref_rmsnorm(x, w, n, eps, h);
    norm_args a = { kt, x, w, n, NULL, NULL, NULL };
    if (c->kernel == KN_RMSNORM_Q8) {
        const float rs = tc_ref_quantize_q8(h, n, rq);
        int32_t rsum = 0;
        for (size_t i = 0; i < n; i++) rsum += rq[i];
        int8_t *q = galloc(&gb[0], n, "q");
        int32_t *qsum = galloc(&gb[1], sizeof *qsum, "qsum");
        if (!q || !qsum) {
            st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
            goto done;
        }
        const float s = kt->rmsnorm_q8(x, w, n, eps, q, qsum);
        size_t bad = 0, first = 0;
        for (size_t i = 0; i < n; i++)
            if (q[i] != rq[i] && !bad++) first = i;
        bool same_s = !memcmp(&s, &rs, sizeof s);
        check *ck = add_check(res, "exact", bad == 0 && same_s && *qsum == rsum);
        if (bad)
            snprintf(ck->detail, sizeof ck->detail, "%zu of %zu codes differ; first element %zu: %d (reference %d, "
                     "h*s %.9g)", bad, n, first, q[first], rq[first], (double)(h[first] * rs));
        else if (!same_s)
            snprintf(ck->detail, sizeof ck->detail, "scale s %.9g, the reference's %.9g (must be identical)",
                     (double)s, (double)rs);
        else if (*qsum != rsum)
            snprintf(ck->detail, sizeof ck->detail, "qsum %" PRId32 ", the codes sum to %" PRId32, *qsum, rsum);
        ck = add_check(res, "finite", isfinite(s));
        if (!isfinite(s)) snprintf(ck->detail, sizeof ck->detail, "scale s is %g", (double)s);
        check_guards(res, gb, 2);
        a.q = q;
        a.qsum = qsum;
    } else {
        float *y = galloc(&gb[0], n * 4, "y"), *yy = galloc(&gb[1], n * 4, "y (in place)");
        if (!y || !yy) {
            st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
            goto done;
        }
        kt->rmsnorm(x, w, n, eps, y);
        memcpy(yy, x, n * 4);
        kt->rmsnorm(yy, w, n, eps, yy);   /* y may alias x */
        check_scaled(res, y, h, NULL, n, "y");
        check_finite(res, y, h, n, "y");
        if (res->c[res->n - 2].pass && memcmp(y, yy, n * 4)) {
            check *ck = add_check(res, "in_place", false);
            snprintf(ck->detail, sizeof ck->detail, "y = rmsnorm(x) in place (y == x) differs from out of place");
        }
        check_guards(res, gb, 2);
        a.y = y;
    }
    bool intact = !memcmp(x, xc, n * 4) && !memcmp(w, wc, n * 4);
    check *ck = add_check(res, "inputs", intact);
    if (!intact) snprintf(ck->detail, sizeof ck->detail, "the kernel modified x or w");
    if (all_pass(res) && cl && c->timed) {
        double t = time_median(c->kernel == KN_RMSNORM_Q8 ? norm_q8_call : norm_call, &a, repeat);
        set_perf(res, t, (double)n * (c->kernel == KN_RMSNORM_Q8 ? 9 : 12), false, cl, false);
    }
done:
    free(x), free(w), free(xc), free(wc), free(h), free(rq);
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

static tc_status run_f16(const kcase *c, const tc_fast_kernels *kt, gsl_rng *g, const ceilings *cl, uint32_t repeat,
                         result *res, tc_err *err)
{
    const size_t rows = c->rows, K = c->K, n = c->n, ld = c->ld, nout = (n - 1) * ld + rows;
    uint16_t *w = malloc(rows * K * 2);
    float *x = malloc(n * K * 4), *xc = malloc(n * K * 4), *want = calloc(nout, 4);
    double *mag = calloc(nout, sizeof *mag);
    gbuf yb;
    float *y = galloc(&yb, nout * 4, "y");
    tc_status st = TC_OK;
    if (!w || !x || !xc || !want || !mag || !y) {
        st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory for f16 %zux%zu", rows, K);
        goto done;
    }
    /* random halves straight from bits where the table is large (the LM head) */
    for (size_t i = 0; i < rows * K; i++) {
        float v = (float)gsl_ran_gaussian(g, 0.05);
        uint16_t hv = tc_f32_to_f16(v);
        if (c->input == IN_F16_SUBNORMAL && i % 2) hv = (uint16_t)((hv & 0x8000u) | gsl_rng_uniform_int(g, 0x400));
        if (c->input == IN_F16_MAX && i % 97 == 0) hv = (uint16_t)((hv & 0x8000u) | 0x7bffu);   /* +-65504 */
        w[i] = hv;
    }
    for (size_t i = 0; i < n * K; i++) x[i] = (float)gsl_ran_gaussian(g, 1.0);
    memcpy(xc, x, n * K * 4);
    /* the reference: the dot in double, and sum |w x| as the error's scale */
    float *wf = malloc(K * 4);
    if (!wf) {
        st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
        goto done;
    }
    for (size_t r = 0; r < rows; r++) {
        for (size_t i = 0; i < K; i++) wf[i] = tc_f16_to_f32(w[r * K + i]);
        for (size_t t = 0; t < n; t++) {
            double s = 0, a = 0;
            for (size_t i = 0; i < K; i++) {
                double p = (double)wf[i] * x[t * K + i];
                s += p;
                a += fabs(p);
            }
            want[t * ld + r] = (float)s;
            mag[t * ld + r] = a;
        }
    }
    free(wf);
    const size_t split = rows / 2;
    f16_args a = { kt, w, K, 0, split, x, n, y, ld };
    f16_call(&a);
    bool only = true;
    for (size_t t = 0; t < n && only; t++)
        for (size_t r = split; r < (t + 1 < n ? ld : rows) && only; r++)
            only = untouched(y, (t * ld + r) * 4, (t * ld + r) * 4 + 4);
    a.r0 = split;
    a.r1 = rows;
    f16_call(&a);
    for (size_t t = 0; t + 1 < n && only; t++)
        for (size_t r = rows; r < ld && only; r++) only = untouched(y, (t * ld + r) * 4, (t * ld + r) * 4 + 4);
    check *ck = add_check(res, "rows_only", only);
    if (!only) snprintf(ck->detail, sizeof ck->detail, "a call on a row range wrote outside it (rows %zu, ld %zu)",
                        rows, ld);
    /* the contract: an element's value does not depend on the row range it
     * was computed in (the engine's thread count must not change bits) */
    gbuf y1b = { 0 };   /* guarded: a kernel that writes outside its row fails rows_only, not the process */
    float *y1 = galloc(&y1b, nout * 4, "y");
    if (!y1) {
        st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
        goto done;
    }
    f16_args one = { kt, w, K, 0, 0, x, n, y1, ld };
    size_t moved = 0, first_moved = 0;
    for (size_t r = 0; r < rows; r++) {
        one.r0 = r;
        one.r1 = r + 1;
        f16_call(&one);
        for (size_t t = 0; t < n; t++)
            if (memcmp(&y1[t * ld + r], &y[t * ld + r], 4) && !moved++) first_moved = r;
    }
    gfree(&y1b);
    ck = add_check(res, "range_independent", moved == 0);
    if (moved)
        snprintf(ck->detail, sizeof ck->detail, "%zu outputs differ when their row is computed alone; first row %zu",
                 moved, first_moved);
    /* compare only the rows (the gap is sentinel) */
    float *yc = malloc(n * rows * 4), *wc2 = malloc(n * rows * 4);
    double *mc = malloc(n * rows * sizeof *mc);
    if (!yc || !wc2 || !mc) {
        free(yc), free(wc2), free(mc);
        st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
        goto done;
    }
    for (size_t t = 0; t < n; t++)
        for (size_t r = 0; r < rows; r++) {
            yc[t * rows + r] = y[t * ld + r];
            wc2[t * rows + r] = want[t * ld + r];
            mc[t * rows + r] = mag[t * ld + r];
        }
    check_scaled(res, yc, wc2, mc, n * rows, "y");
    check_finite(res, yc, wc2, n * rows, "y");
    free(yc), free(wc2), free(mc);
    check_guards(res, &yb, 1);
    ck = add_check(res, "inputs", !memcmp(x, xc, n * K * 4));
    if (!ck->pass) snprintf(ck->detail, sizeof ck->detail, "the kernel modified x");
    if (all_pass(res) && cl && c->timed) {
        a.r0 = 0;
        double t = time_median(f16_call, &a, repeat);
        if (n == 1) set_perf(res, t, (double)rows * K * 2 + 4.0 * K + 4.0 * rows, false, cl, false);
        else set_perf(res, t, (double)rows * K * n, true, cl, true);
    }
done:
    free(w), free(x), free(xc), free(want), free(mag);
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

static tc_status run_attention(const kcase *c, const tc_fast_kernels *kt, gsl_rng *g, const ceilings *cl,
                               uint32_t repeat, result *res, tc_err *err)
{
    const size_t nk = c->rows, hd = c->K;
    float *q = malloc(hd * 4), *k = malloc(nk * hd * 4), *v = malloc(nk * hd * 4), *want = malloc(hd * 4);
    float *cq = malloc(hd * 4), *ck_ = malloc(nk * hd * 4), *cv = malloc(nk * hd * 4);
    double *ds = malloc(nk * sizeof *ds);
    gbuf gb[2] = { 0 };
    float *out = galloc(&gb[0], hd * 4, "out"), *scores = galloc(&gb[1], nk * 4, "scores");
    tc_status st = TC_OK;
    if (!q || !k || !v || !want || !cq || !ck_ || !cv || !ds || !out || !scores) {
        st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory for attention %zu keys", nk);
        goto done;
    }
    for (size_t i = 0; i < hd; i++) q[i] = (float)gsl_ran_gaussian(g, 1.0);
    for (size_t j = 0; j < nk; j++)
        for (size_t i = 0; i < hd; i++) {
            double kv = gsl_ran_gaussian(g, 1.0);
            if (c->input == IN_NEG_SCORES) kv = j == 0 ? q[i] : -100.0 * q[i] + 0.01 * kv;   /* scores ~ -1e4 */
            if (c->input == IN_EQUAL_SCORES) kv = q[i] * 0.5;
            k[j * hd + i] = (float)kv;
            v[j * hd + i] = (float)gsl_ran_gaussian(g, 1.0);
        }
    memcpy(cq, q, hd * 4);
    memcpy(ck_, k, nk * hd * 4);
    memcpy(cv, v, nk * hd * 4);
    tc_ref_attention_head(q, k, v, hd, nk, hd, ds, want);
    attn_args a = { kt, q, k, v, nk, hd, scores, out };
    attn_call(&a);
    /* the error's scale: max |v| (out is a convex combination of the v_j) */
    double vmax = 0;
    for (size_t i = 0; i < nk * hd; i++)
        if (fabs((double)v[i]) > vmax) vmax = fabs((double)v[i]);
    double *scale = malloc(hd * sizeof *scale);
    if (!scale) {
        st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
        goto done;
    }
    for (size_t i = 0; i < hd; i++) scale[i] = vmax;
    check_scaled(res, out, want, scale, hd, "out");
    free(scale);
    check_finite(res, out, want, hd, "out");
    check_guards(res, gb, 2);
    bool intact = !memcmp(q, cq, hd * 4) && !memcmp(k, ck_, nk * hd * 4) && !memcmp(v, cv, nk * hd * 4);
    check *ck = add_check(res, "inputs", intact);
    if (!intact) snprintf(ck->detail, sizeof ck->detail, "the kernel modified q, k or v");
    if (all_pass(res) && cl && c->timed) {
        double t = time_median(attn_call, &a, repeat);
        set_perf(res, t, 2.0 * nk * hd * 4 + 8.0 * hd, false, cl, false);
    }
done:
    free(q), free(k), free(v), free(want), free(cq), free(ck_), free(cv), free(ds);
    gfree(&gb[0]);
    gfree(&gb[1]);
    return st;
}

/* ---- element-wise steps: bit for bit against the scalar formulas ---- */

static float special_float(gsl_rng *g, size_t i)
{
    static const float sp[] = { 0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-40f, -1e-40f, 3.4e38f, -3.4e38f };
    return i % 3 == 0 ? sp[gsl_rng_uniform_int(g, sizeof sp / sizeof sp[0])] : (float)gsl_ran_gaussian(g, 3.0);
}

static bool same_bits(float a, float b) { return !memcmp(&a, &b, sizeof a) || (isnan(a) && isnan(b)); }

static tc_status run_elementwise(const kcase *c, const tc_fast_kernels *kt, gsl_rng *g, result *res, tc_err *err)
{
    const size_t n = c->K;
    const bool sp = c->input == IN_SPECIALS;
    int32_t *acc = malloc(n * sizeof *acc);
    float *a = malloc(n * 4), *b = malloc(n * 4), *want = malloc(n * 4), *ca = malloc(n * 4), *cb = malloc(n * 4);
    gbuf gb[1] = { 0 };
    float *out = galloc(&gb[0], n * 4, "out");
    tc_status st = TC_OK;
    if (!acc || !a || !b || !want || !ca || !cb || !out) {
        st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory for %zu elements", n);
        goto done;
    }
    static const int32_t extremes[] = { INT32_MAX, INT32_MIN, 16777217, -16777217, 0 };
    for (size_t i = 0; i < n; i++) {
        acc[i] = sp && i % 2 ? extremes[gsl_rng_uniform_int(g, 5)] : (int32_t)gsl_rng_uniform_int(g, 400001) - 200000;
        a[i] = sp ? special_float(g, i) : (float)gsl_ran_gaussian(g, 3.0);
        b[i] = sp ? special_float(g, i + 1) : (float)gsl_ran_gaussian(g, 1.0);
    }
    memcpy(ca, a, n * 4);
    memcpy(cb, b, n * 4);
    const float s = sp ? 0.0127f : (float)(127.0 / (1.0 + gsl_rng_uniform(g))), m = 0.75f, mul = 1.0f / 3.0f;
    switch (c->kernel) {
    case KN_I2S_SCALE:
        for (size_t i = 0; i < n; i++) {
            want[i] = (float)acc[i] / s * m;   /* the reference engine's bitlinear output */
            if (c->n == 2) want[i] *= mul;
        }
        kt->i2s_scale(acc, n, s, m, c->n == 2 ? &mul : NULL, out);
        break;
    case KN_RELU2_MUL:
        for (size_t i = 0; i < n; i++) want[i] = tc_ref_relu2(a[i]) * b[i];
        kt->relu2_mul(a, b, n, out);
        break;
    default:
        memcpy(out, a, n * 4);
        for (size_t i = 0; i < n; i++) want[i] = a[i] + b[i];
        kt->add(out, b, n);
        break;
    }
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (!same_bits(out[i], want[i]) && !bad++) first = i;
    check *ck = add_check(res, "exact", bad == 0);
    if (bad)
        snprintf(ck->detail, sizeof ck->detail, "%zu of %zu elements differ from the scalar formula; first %zu: %.9g "
                 "(want %.9g)", bad, n, first, (double)out[first], (double)want[first]);
    check_guards(res, gb, 1);
    bool intact = !memcmp(a, ca, n * 4) && !memcmp(b, cb, n * 4);
    ck = add_check(res, "inputs", intact);
    if (!intact) snprintf(ck->detail, sizeof ck->detail, "the kernel modified its inputs");
    all_pass(res);
done:
    free(acc), free(a), free(b), free(want), free(ca), free(cb);
    gfree(&gb[0]);
    return st;
}

/* ---- the run ---- */

/* the table's counter name for a kernel */
static const char *variant(const tc_fast_kernels *kt, enum kernel k)
{
    switch (k) {
    case KN_I2S_GEMV: return kt->i2s_gemv_name;
    case KN_I2S_GEMM: return kt->i2s_gemm_name;
    case KN_RMSNORM_Q8: return kt->rmsnorm_q8_name;
    case KN_RMSNORM: return kt->rmsnorm_name;
    case KN_F16_GEMV: return kt->f16_gemv_name;
    case KN_F16_GEMM: return kt->f16_gemm_name;
    case KN_I2S_SCALE: return kt->i2s_gemv_name;   /* the epilogue of the I2_S linears */
    case KN_RELU2_MUL: return kt->relu2_mul_name;
    case KN_ADD: return kt->add_name;
    default: return kt->attention_name;
    }
}

/* "17x2560" / "17x2560 n=5 ld=20" / "n=2560" / "keys=4096 hd=128" */
static void shape_text(const kcase *c, char *buf, size_t size)
{
    switch (c->kernel) {
    case KN_RMSNORM_Q8:
    case KN_RMSNORM:
    case KN_RELU2_MUL:
    case KN_ADD: snprintf(buf, size, "n=%zu", c->K); break;
    case KN_I2S_SCALE: snprintf(buf, size, "n=%zu%s", c->K, c->n == 2 ? " mul" : ""); break;
    case KN_ATTENTION: snprintf(buf, size, "keys=%zu hd=%zu", c->rows, c->K); break;
    default:
        if (c->n == 1) snprintf(buf, size, "%zux%zu", c->rows, c->K);
        else if (c->ld == c->rows) snprintf(buf, size, "%zux%zu n=%zu", c->rows, c->K, c->n);
        else snprintf(buf, size, "%zux%zu n=%zu ld=%zu", c->rows, c->K, c->n, c->ld);
    }
}

static bool selected(const kcase *c, const tc_kernels_opts *o)
{
    const bool want_large = o->filter && strstr(o->filter, "large");
    if (c->large && !o->perf && !want_large) return false;
    if (!o->filter || !*o->filter) return true;
    if (want_large && !strcmp(o->filter, "large")) return c->large;
    return strstr(kernel_name[c->kernel], o->filter) != NULL;
}

static cJSON *case_json(const kcase *c, const tc_fast_kernels *kt, const result *r, const char *name)
{
    char shape[64];
    shape_text(c, shape, sizeof shape);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "kernel", kernel_name[c->kernel]);
    cJSON_AddStringToObject(o, "variant", variant(kt, c->kernel));
    cJSON_AddStringToObject(o, "shape", shape);
    cJSON *sh = cJSON_AddObjectToObject(o, "dims");
    cJSON_AddNumberToObject(sh, "rows", (double)c->rows);
    cJSON_AddNumberToObject(sh, "K", (double)c->K);
    cJSON_AddNumberToObject(sh, "n", (double)c->n);
    cJSON_AddNumberToObject(sh, "ld", (double)c->ld);
    cJSON_AddStringToObject(o, "input", input_name[c->input]);
    if (c->label) cJSON_AddStringToObject(o, "stands_for", c->label);
    cJSON_AddNumberToObject(o, "seed", (double)c->seed);
    cJSON *checks = cJSON_AddArrayToObject(o, "checks");
    for (int i = 0; i < r->n; i++) {
        cJSON *k = cJSON_CreateObject();
        cJSON_AddStringToObject(k, "check", r->c[i].name);
        cJSON_AddBoolToObject(k, "pass", r->c[i].pass);
        if (r->c[i].has_value) {
            if (isfinite(r->c[i].value)) cJSON_AddNumberToObject(k, "value", r->c[i].value);
            else cJSON_AddStringToObject(k, "value", r->c[i].value > 0 ? "inf" : "nan");
            cJSON_AddNumberToObject(k, "limit", r->c[i].limit);
        }
        if (r->c[i].detail[0]) cJSON_AddStringToObject(k, "detail", r->c[i].detail);
        cJSON_AddItemToArray(checks, k);
    }
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

static tc_status measure_ceilings(ceilings *cl, const char *isa, tc_err *err)
{
    tc_status st = tc_probe_bandwidth((size_t)256 << 20, 1, &cl->bw_gbps, NULL, err);
    if (st) return st;
    cl->ghz = tc_probe_ghz();
    cl->int8_macs = tc_probe_int8_macs(&cl->peak_isa);
    /* the scalar kernels get the scalar unit's ceilings: 1 MAC per cycle */
    if (isa && !strcmp(isa, "scalar")) cl->int8_macs = 1, cl->peak_isa = "scalar";
    if (isa && !strcmp(isa, "avx2") && cl->int8_macs > 64) cl->int8_macs = 64, cl->peak_isa = "avx2";
    cl->int8_gmacs = cl->ghz * cl->int8_macs;
    /* fp32 FMA lanes x 2 units: 16 per 256-bit unit pair, 32 for AVX-512 */
    int fp32 = cl->int8_macs >= 128 ? 32 : cl->int8_macs >= 64 ? 16 : 1;
    cl->fp32_gmacs = cl->ghz * fp32;
    cl->llc_bytes = tc_probe_llc_bytes();
    return TC_OK;
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
    case_list l = { 0 };
    if (!build_cases(&l)) {
        free(l.v);
        cJSON_Delete(engine);
        return tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
    }
    size_t n_sel = 0;
    for (size_t i = 0; i < l.n; i++) {
        l.v[i].seed = o->seed + i;
        n_sel += selected(&l.v[i], o);
    }
    if (n_sel == 0) {
        free(l.v);
        cJSON_Delete(engine);
        return tc_fail(err, TC_E_USAGE, "kernels: no case matches --filter '%s' (kernels: i2s_gemv, i2s_gemm, "
                       "rmsnorm_q8, rmsnorm, f16_gemv, f16_gemm, attention_head, i2s_scale, relu2_mul, add; or 'large')", o->filter);
    }
    ceilings cl = { 0 };
    tc_status st = TC_OK;
    const char *isa = strncmp(kt->isa, "plugin:", 7) ? kt->isa : NULL;
    if (o->perf && (st = measure_ceilings(&cl, isa, err))) {
        free(l.v);
        cJSON_Delete(engine);
        return st;
    }
    cJSON *root = receipt ? tc_receipt_new("kernels") : NULL, *cases = NULL;
    if (receipt && !root) st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
    if (root) {
        cJSON_AddItemToObject(root, "engine", engine ? engine : cJSON_CreateObject());
        engine = NULL;
        cJSON *cr = cJSON_AddObjectToObject(root, "tolerances");
        cJSON_AddStringToObject(cr, "integers", "exact: sums, int8 codes, q8 scale and code sum bit for bit");
        cJSON_AddNumberToObject(cr, "float_tol", FLOAT_TOL);
        cJSON_AddStringToObject(cr, "float_metric", "max |c - r| / scale; scale = sum |w x| (dot products), "
                                "max |r| (norms), max |v| (attention)");
        cJSON_AddNumberToObject(cr, "guard_bytes", GUARD);
        cJSON_AddNumberToObject(cr, "seed", (double)o->seed);
        cJSON_AddStringToObject(cr, "filter", o->filter ? o->filter : "");
        cJSON_AddBoolToObject(cr, "perf", o->perf);
        if (o->perf) {
            cJSON *c = cJSON_AddObjectToObject(root, "ceilings");
            cJSON_AddNumberToObject(c, "threads", 1);
            cJSON_AddNumberToObject(c, "read_bandwidth_gbps", cl.bw_gbps);
            cJSON_AddNumberToObject(c, "ghz", cl.ghz);
            cJSON_AddStringToObject(c, "peak_isa", cl.peak_isa);
            cJSON_AddNumberToObject(c, "int8_macs_per_cycle", cl.int8_macs);
            cJSON_AddNumberToObject(c, "int8_mac_peak_gmacs", cl.int8_gmacs);
            cJSON_AddNumberToObject(c, "fp32_fma_peak_gmacs", cl.fp32_gmacs);
            cJSON_AddNumberToObject(c, "repeat", o->repeat);
            cJSON_AddNumberToObject(c, "last_level_cache_bytes", (double)cl.llc_bytes);
        }
        cases = cJSON_AddArrayToObject(root, "cases");
    }
    cJSON_Delete(engine);
    size_t n_run = 0, n_pass = 0;
    char first_failure[256] = "";
    const double t0 = tc_now_s();
    if (out && o->perf)
        fprintf(out, "ceilings (1 thread): read %.1f GB/s; int8 %.1f GMAC/s (%.2f GHz x %d, %s); fp32 FMA %.1f GMAC/s\n",
                cl.bw_gbps, cl.int8_gmacs, cl.ghz, cl.int8_macs, cl.peak_isa, cl.fp32_gmacs);
    for (size_t i = 0; i < l.n && st == TC_OK; i++) {
        const kcase *c = &l.v[i];
        if (!selected(c, o)) continue;
        gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
        if (!g) {
            st = tc_fail(err, TC_E_NOMEM, "kernels: out of memory");
            break;
        }
        gsl_rng_set(g, c->seed);
        result r = { 0 };
        const ceilings *pc = o->perf ? &cl : NULL;
        switch (c->kernel) {
        case KN_I2S_GEMV:
        case KN_I2S_GEMM: st = run_i2s(c, kt, g, pc, o->repeat, &r, err); break;
        case KN_RMSNORM_Q8:
        case KN_RMSNORM: st = run_norm(c, kt, g, pc, o->repeat, &r, err); break;
        case KN_F16_GEMV:
        case KN_F16_GEMM: st = run_f16(c, kt, g, pc, o->repeat, &r, err); break;
        case KN_ATTENTION: st = run_attention(c, kt, g, pc, o->repeat, &r, err); break;
        default: st = run_elementwise(c, kt, g, &r, err); break;
        }
        gsl_rng_free(g);
        if (st) break;
        char shape[64], name[160];
        shape_text(c, shape, sizeof shape);
        snprintf(name, sizeof name, "%s %s %s", kernel_name[c->kernel], shape, input_name[c->input]);
        n_run++;
        n_pass += r.pass;
        if (!r.pass && !first_failure[0]) snprintf(first_failure, sizeof first_failure, "%s", name);
        if (out && (!r.pass || o->verbose)) {
            fprintf(out, "%-4s %-44s %s", r.pass ? "ok" : "FAIL", name, variant(kt, c->kernel));
            for (int k = 0; k < r.n; k++)
                if (!r.c[k].pass) fprintf(out, "\n       %s: %s", r.c[k].name, r.c[k].detail);
            fputc('\n', out);
        }
        if (cases) cJSON_AddItemToArray(cases, case_json(c, kt, &r, name));
        if (out && r.timed)
            fprintf(out, "perf %-44s %-30s %9.2f %-6s of %7.1f = %5.1f %%  (%.3g s)%s\n", name, variant(kt, c->kernel),
                    r.rate, r.unit, r.ceiling, 100.0 * r.rate / r.ceiling, r.seconds,
                    r.in_cache ? "  [in cache: above DRAM possible]" : "");
    }
    const double secs = tc_now_s() - t0;
    free(l.v);
    if (st) {
        cJSON_Delete(root);
        return st;
    }
    *all_pass_out = n_run > 0 && n_pass == n_run;
    if (out)
        fprintf(out, "kernels %s: %zu cases, %zu pass, %zu fail (%.1f s)%s%s\n", kt->isa, n_run, n_pass,
                n_run - n_pass, secs, first_failure[0] ? "; first failure: " : "", first_failure);
    if (root) {
        cJSON *s = cJSON_AddObjectToObject(root, "summary");
        cJSON_AddNumberToObject(s, "cases", (double)n_run);
        cJSON_AddNumberToObject(s, "passed", (double)n_pass);
        cJSON_AddNumberToObject(s, "failed", (double)(n_run - n_pass));
        cJSON_AddStringToObject(s, "verdict", *all_pass_out ? "pass" : "fail");
        if (first_failure[0]) cJSON_AddStringToObject(s, "first_failure", first_failure);
        else cJSON_AddNullToObject(s, "first_failure");
        cJSON *tm = cJSON_AddObjectToObject(root, "timings");
        cJSON_AddNumberToObject(tm, "seconds", secs);
        *receipt = root;
    }
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

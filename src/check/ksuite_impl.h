/* ksuite_impl.h -- the kernel suite's insides, shared by its files in the
 * check layer (not a public header):
 *
 *   ksuite_cases.c  the case table: which kernel, which shape, which input
 *   ksuite_gen.c    the seeded generator: a case's inputs (GSL mt19937)
 *                   and the reference kernels' answers
 *   ksuite_run.c    the per-kernel runners and the checks of ksuite.h
 *   ksuite.c        the driver: selection, ceilings, printout, receipt
 *   kvectors.c      golden kernel vectors: another source of cases
 *
 * A case's data (tc_ks_data) comes from either source; the runner does
 * not know which, so the same checks run on both.
 */
#ifndef TC_CHECK_KSUITE_IMPL_H
#define TC_CHECK_KSUITE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "base/status.h"
#include "engine/ktable.h"

/* ---- the case table (ksuite_cases.c) ---- */

typedef enum tc_ks_kernel {
    TC_KS_I2S_GEMV, TC_KS_I2S_GEMM, TC_KS_RMSNORM_Q8, TC_KS_RMSNORM, TC_KS_F16_GEMV, TC_KS_F16_GEMM,
    TC_KS_ATTENTION, TC_KS_I2S_SCALE, TC_KS_RELU2_MUL, TC_KS_ADD, TC_KS_N_KERNELS
} tc_ks_kernel;

/* The inputs of a case: random, or one edge the kernels must survive. */
typedef enum tc_ks_input {
    TC_KS_IN_RANDOM,
    TC_KS_IN_Q8_MIN, TC_KS_IN_Q8_MAX, TC_KS_IN_Q8_ALT,   /* activations all -128, all 127, alternating */
    TC_KS_IN_ZERO_ROWS,        /* every other weight row all 0 (code 1) */
    TC_KS_IN_SIGN_ROWS,        /* rows all -1 / all +1, activations +-127/-128: largest sums */
    TC_KS_IN_EXTREME_SUMS,     /* rows all +1, activations all -128 or all 127 (by token or row
                                * parity): every partial sum at its bound */
    TC_KS_IN_CODE3,            /* packed bytes holding code 3 (reads as 0) */
    TC_KS_IN_ZEROS,            /* norm input all 0: the 1e-5 amax floor */
    TC_KS_IN_DENORMAL,         /* norm input entirely subnormal floats */
    TC_KS_IN_SPIKE,            /* one +1e4 and one -1e4 among N(0, 2.385): saturated codes */
    TC_KS_IN_HUGE,             /* norm input ~1e30: squares overflow float, not double */
    TC_KS_IN_F16_SUBNORMAL,    /* half weights with exponent 0 */
    TC_KS_IN_F16_MAX,          /* half weights at +-65504 among small ones */
    TC_KS_IN_NEG_SCORES,       /* every key but one scores ~ -1e4 */
    TC_KS_IN_EQUAL_SCORES,     /* all keys equal: uniform softmax */
    TC_KS_IN_SPECIALS,         /* element-wise: +-0, +-inf, NaN, subnormals, int32 extremes */
    TC_KS_IN_TIES,             /* norm input whose x*s are exact ties k + 1/2 of both signs, up to
                                * +-126.5 beside the clamp: half to even, not away from zero */
    TC_KS_N_INPUTS
} tc_ks_input;

extern const char *const tc_ks_kernel_name[TC_KS_N_KERNELS];   /* "i2s_gemv" ... */
extern const char *const tc_ks_input_name[TC_KS_N_INPUTS];     /* "random" ... */

/* One case.  Shapes: I2_S and F16 {rows x K} weights with n tokens and
 * output stride ld (>= rows); norms n rows of K elements; attention
 * rows = n_keys and K = head_dim; element-wise K elements (i2s_scale: n
 * = 2 with the extra multiplier). */
typedef struct tc_ks_case {
    tc_ks_kernel kernel;
    size_t rows, K, n, ld;
    tc_ks_input input;
    bool large;           /* only with perf or filter "large" */
    bool timed;           /* in the perf timing set */
    const char *label;    /* the model tensor it stands for, or NULL */
    unsigned long seed;
} tc_ks_case;

/* The table, in a fixed order, into v (NULL: only count); returns the
 * number of cases. */
size_t tc_ks_cases(tc_ks_case *v);

/* "17x2560" / "17x2560 n=5 ld=20" / "n=2560" / "keys=4096 hd=128" */
void tc_ks_shape_text(const tc_ks_case *c, char *buf, size_t size);

/* The counter name of the variant of table kt that kernel k runs. */
const char *tc_ks_variant(const tc_fast_kernels *kt, tc_ks_kernel k);

/* ---- a case's data (ksuite_gen.c, kvectors.c) ---- */

/* The inputs a kernel reads and the reference's answers, laid out as
 * the case's shape says; unused fields are NULL or 0. */
typedef struct tc_ks_data {
    /* inputs */
    const uint8_t *w_i2s;       /* I2_S: {rows x K/4} packed codes in {0,1,2} */
    const int8_t *q8;           /* I2_S: {n x K} activation codes */
    const uint16_t *w_f16;      /* F16: {rows x K} half weights */
    const float *x;             /* norms, F16: {n x K} activations */
    const float *w;             /* norms: [K] weights */
    float eps;                  /* norms */
    const float *q, *k, *v;     /* attention: q [K], keys and values {rows x K} */
    const int32_t *acc;         /* i2s_scale: [K] integer sums */
    const float *a, *b;         /* relu2_mul (gate, up) and add (x, y): [K] */
    float s, m, mul;            /* i2s_scale: activation scale, weight scale, multiplier */
    /* the reference's answers */
    const int32_t *want_sums;   /* I2_S: {n x ld} */
    const int8_t *want_q8;      /* rmsnorm_q8: {n x K} codes */
    const float *want_scale;    /* rmsnorm_q8: [n] scales */
    const float *want_h;        /* rmsnorm_q8: the float norm {n x K}, for the details; may be NULL */
    const float *want;          /* rmsnorm {n x K}, F16 {n x ld}, attention [K], element-wise [K] */
    void *own[8];               /* what the generator allocated (tc_ks_data_free) */
} tc_ks_data;

/* Case c's inputs from g (seeded with c->seed) and the reference kernels'
 * answers into *d.  TC_OK, TC_E_NOMEM. */
tc_status tc_ks_generate(const tc_ks_case *c, gsl_rng *g, tc_ks_data *d, tc_err *err);

/* A norm row x[n], w[n] (eps 1e-5) whose normalized values are exact
 * half-integers: x_i = +-100 (so that (float)(x_i * scale) is exactly
 * +-1), w_i = 0.5, 0.5, 1.5, 1.5, ..., 126.5, 126.5, 0.5 ... with
 * alternating signs, and the last w 127, the row's largest: s = 1 and
 * every other x*s is a tie k + 1/2 (SPEC 2.2 rounds them half to even). */
void tc_ks_tie_row(float *x, float *w, size_t n);

/* Free what tc_ks_generate allocated and empty *d. */
void tc_ks_data_free(tc_ks_data *d);

/* ---- running a case (ksuite_run.c) ---- */

enum { TC_KS_MAX_CHECKS = 8, TC_KS_GUARD = 64 };
#define TC_KS_FLOAT_TOL 1e-6

typedef struct tc_ks_check {
    const char *name;      /* exact, scaled_err, finite, guards, rows_only, range_independent, in_place, inputs */
    bool pass;
    bool has_value;
    double value, limit;   /* scaled_err: the error and the tolerance */
    char detail[200];      /* what failed, where */
} tc_ks_check;

typedef struct tc_ks_result {
    tc_ks_check c[TC_KS_MAX_CHECKS];
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
} tc_ks_result;

/* Machine ceilings, measured once per run (one thread: the suite times
 * one call on one core). */
typedef struct tc_ks_ceilings {
    double bw_gbps;       /* read bandwidth */
    double ghz;
    int int8_macs;        /* per cycle */
    const char *peak_isa;
    double int8_gmacs;    /* ghz x int8_macs */
    double fp32_gmacs;    /* ghz x fp32 FMA lanes x 2 units */
    long llc_bytes;       /* last-level cache size, 0 when unknown */
} tc_ks_ceilings;

/* Run case c of data d on table kt and check it into *r; with cl (not
 * NULL) and a timed case that passed, time it over `repeat` repeats.
 * TC_OK or TC_E_NOMEM: a failed check is a result, not an error. */
tc_status tc_ks_run_case(const tc_ks_case *c, const tc_ks_data *d, const tc_fast_kernels *kt, const tc_ks_ceilings *cl,
                         uint32_t repeat, tc_ks_result *r, tc_err *err);

/* The worst scaled_err of r, 0 where it has none. */
double tc_ks_worst_scaled(const tc_ks_result *r);

#endif

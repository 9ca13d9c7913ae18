/* metrics.h -- error metrics between a candidate and a reference tensor
 * (SPEC 4) and distribution metrics on logits (SPEC 5).  Every reduction
 * is accumulated in double. */
#ifndef TC_METRICS_H
#define TC_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Candidate c against reference r over one row (or a whole tensor). */
typedef struct tc_diff {
    double max_abs;       /* max |c - r| over finite pairs */
    double max_ref;       /* max |r| */
    double scaled;        /* max_abs / max_ref; 0 when both are 0, +inf when only max_ref is */
    double sum_sq_err;    /* sum (c - r)^2 */
    double sum_sq_ref;    /* sum r^2 */
    double sum_sq_cand;   /* sum c^2 */
    double dot;           /* sum c r */
    uint64_t max_ulp;     /* largest distance in units in the last place */
    uint64_t nan_cand, inf_cand, nan_ref, inf_ref;
    size_t worst;         /* index of the largest |c - r| */
    size_t n;             /* elements */
} tc_diff;

/* Compare n floats. */
void tc_diff_f32(const float *c, const float *r, size_t n, tc_diff *d);

/* NMSE = sum (c-r)^2 / sum r^2 (0 when both sums are 0, +inf when only the
 * reference's is). */
double tc_diff_nmse(const tc_diff *d);

/* Cosine similarity (1 when both are all zero, 0 when only one is). */
double tc_diff_cosine(const tc_diff *d);

/* Distance between two floats in units in the last place (0 for equal,
 * including +0/-0; UINT64_MAX when either is NaN). */
uint64_t tc_ulp_distance(float a, float b);

/* ---- distributions (logits) ---- */

/* log-softmax of x[n] into out[n], in double, stably (max subtracted). */
void tc_log_softmax(const float *x, size_t n, double *out);

/* KL(P || Q) = sum p (log p - log q) from two logit rows, in double.
 * work must hold 2n doubles. */
double tc_kl_logits(const float *p_logits, const float *q_logits, size_t n, double *work);

/* Negative log-likelihood of `target` under the logits (work: n doubles). */
double tc_nll_logits(const float *logits, size_t n, uint32_t target, double *work);

/* Indices of the k largest values of x (ties: lower index first), into top[k]. */
void tc_topk(const float *x, size_t n, size_t k, uint32_t *top);

#endif

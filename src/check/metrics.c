/* metrics.c -- error and distribution metrics (SPEC 4, 5). */
#include <math.h>
#include <string.h>

#include "check/metrics.h"

/* ---- element-wise errors ---- */

/* Map a float's bits onto a line where adjacent floats differ by one. */
static int64_t ordered(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return (u & 0x80000000u) ? -(int64_t)(u & 0x7fffffffu) : (int64_t)u;
}

uint64_t tc_ulp_distance(float a, float b)
{
    if (isnan(a) || isnan(b)) return UINT64_MAX;
    int64_t d = ordered(a) - ordered(b);
    return (uint64_t)(d < 0 ? -d : d);
}

void tc_diff_f32(const float *c, const float *r, size_t n, tc_diff *d)
{
    memset(d, 0, sizeof *d);
    d->n = n;
    for (size_t i = 0; i < n; i++) {
        float ci = c[i], ri = r[i];
        d->nan_cand += isnan(ci) != 0;
        d->inf_cand += isinf(ci) != 0;
        d->nan_ref += isnan(ri) != 0;
        d->inf_ref += isinf(ri) != 0;
        if (!isfinite(ci) || !isfinite(ri)) {
            if (!(isnan(ci) && isnan(ri)) && !(isinf(ci) && ci == ri)) d->max_ulp = UINT64_MAX;
            continue;
        }
        double e = fabs((double)ci - (double)ri), a = fabs((double)ri);
        if (e > d->max_abs) {
            d->max_abs = e;
            d->worst = i;
        }
        if (a > d->max_ref) d->max_ref = a;
        d->sum_sq_err += e * e;
        d->sum_sq_ref += (double)ri * ri;
        d->sum_sq_cand += (double)ci * ci;
        d->dot += (double)ci * ri;
        uint64_t u = tc_ulp_distance(ci, ri);
        if (u > d->max_ulp) d->max_ulp = u;
    }
    d->scaled = d->max_abs == 0.0 ? 0.0 : d->max_ref == 0.0 ? INFINITY : d->max_abs / d->max_ref;
}

double tc_diff_nmse(const tc_diff *d)
{
    if (d->sum_sq_err == 0.0) return 0.0;
    return d->sum_sq_ref == 0.0 ? INFINITY : d->sum_sq_err / d->sum_sq_ref;
}

double tc_diff_cosine(const tc_diff *d)
{
    if (d->sum_sq_ref == 0.0 && d->sum_sq_cand == 0.0) return 1.0;
    if (d->sum_sq_ref == 0.0 || d->sum_sq_cand == 0.0) return 0.0;
    return d->dot / (sqrt(d->sum_sq_ref) * sqrt(d->sum_sq_cand));
}

/* ---- distributions ---- */

void tc_log_softmax(const float *x, size_t n, double *out)
{
    double mx = -INFINITY, sum = 0.0;
    for (size_t i = 0; i < n; i++)
        if (x[i] > mx) mx = x[i];
    for (size_t i = 0; i < n; i++) sum += exp((double)x[i] - mx);
    double lse = mx + log(sum);
    for (size_t i = 0; i < n; i++) out[i] = (double)x[i] - lse;
}

double tc_kl_logits(const float *p_logits, const float *q_logits, size_t n, double *work)
{
    double *lp = work, *lq = work + n, kl = 0.0;
    tc_log_softmax(p_logits, n, lp);
    tc_log_softmax(q_logits, n, lq);
    for (size_t i = 0; i < n; i++) {
        double p = exp(lp[i]);
        if (p > 0.0) kl += p * (lp[i] - lq[i]);
    }
    return kl > 0.0 ? kl : 0.0;   /* rounding can leave -1e-17 for equal rows */
}

double tc_nll_logits(const float *logits, size_t n, uint32_t target, double *work)
{
    tc_log_softmax(logits, n, work);
    return -work[target];
}

void tc_topk(const float *x, size_t n, size_t k, uint32_t *top)
{
    /* k is small (5): insertion into a sorted list of k */
    size_t have = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = have < k ? have : k;
        if (j == k && !(x[i] > x[top[k - 1]])) continue;
        if (j == k) j = k - 1;
        while (j > 0 && x[i] > x[top[j - 1]]) {
            if (j < k) top[j] = top[j - 1];
            j--;
        }
        top[j] = (uint32_t)i;
        if (have < k) have++;
    }
}

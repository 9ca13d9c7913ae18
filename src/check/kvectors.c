/* kvectors.c -- golden kernel vectors (kvectors.h): making them with
 * the reference kernels, and checking a kernel table on them as another
 * source of kernel-suite cases (ksuite_impl.h): the inputs and answers
 * come from the file, the runner and its checks are the suite's. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "check/ksuite_impl.h"
#include "base/num.h"
#include "check/kvectors.h"
#include "engine/registry.h"
#include "format/types.h"
#include "engine/q8.h"
#include "ref/ref_kernels.h"

/* ---- the vectors: four kernels, three cases each ---- */

enum kid { K_I2S, K_NORM, K_F16, K_ATTN, K_COUNT };

static const char *const kernel_names[K_COUNT] = { "i2s_gemm", "rmsnorm_q8", "f16_gemm", "attention_head" };

/* Per kernel: rows, K (width / head_dim), n (tokens / keys).  Odd rows,
 * the 2b4t widths, several tokens for the GEMM. */
typedef struct kshape { uint32_t rows, K, n; } kshape;
#define N_CASES 4
static const kshape kshapes[K_COUNT][N_CASES] = {
    { { 17, 256, 1 }, { 40, 2560, 1 }, { 9, 6912, 3 } },
    { { 3, 256, 1 }, { 2, 2560, 1 }, { 2, 6912, 1 }, { 2, 256, 1 } },   /* the last: exact ties */
    { { 17, 256, 1 }, { 33, 2560, 2 }, { 5, 6912, 1 } },
    { { 1, 64, 1 }, { 1, 128, 100 }, { 1, 128, 7 } },
};
/* cases per kernel: the RMSNorm + q8 vector carries a case of exact ties */
static const unsigned n_cases[K_COUNT] = { 3, 4, 3, 3 };
#define KV_EPS 1e-5f

static void ename(char *o, size_t n, unsigned c, const char *what) { snprintf(o, n, "c%u.%s", c, what); }

/* The entries of one kernel vector being made, and the buffers they own. */
typedef struct kvec {
    tc_tcv_entry e[N_CASES * 4];
    void *own[N_CASES * 4];
    size_t n;
} kvec;

/* A new entry c<c>.<what> of rows x width elements, in file order; its
 * buffer, or NULL when out of memory. */
static void *add_entry(kvec *kv, unsigned c, const char *what, tc_tcv_dtype dt, size_t rows, size_t width)
{
    char nm[32];
    void *p = malloc(rows * width * tc_tcv_dtype_size(dt));
    if (!p) return NULL;
    ename(nm, sizeof nm, c, what);
    kv->own[kv->n] = p;
    kv->e[kv->n++] = tc_tcv_entry_2d(nm, dt, rows, width, p);
    return p;
}

/* I2_S: random codes 0..2 (code 3 is cleaned at load) against the whole
 * int8 range; the reference's exact sums */
static bool gen_i2s(kvec *kv, unsigned c, const kshape *sh, gsl_rng *r)
{
    uint8_t *w = add_entry(kv, c, "w", TC_TCV_I8, sh->rows, sh->K / 4);
    int8_t *q = add_entry(kv, c, "q", TC_TCV_I8, sh->n, sh->K);
    int32_t *o = add_entry(kv, c, "out", TC_TCV_I32, sh->n, sh->rows);
    if (!w || !q || !o) return false;
    for (size_t i = 0; i < (size_t)sh->rows * sh->K / 4; i++) {
        unsigned byte = 0;
        for (int g = 0; g < 4; g++) byte = byte << 2 | (unsigned)gsl_rng_uniform_int(r, 3);
        w[i] = (uint8_t)byte;
    }
    for (size_t i = 0; i < (size_t)sh->n * sh->K; i++) q[i] = (int8_t)((int)gsl_rng_uniform_int(r, 256) - 128);
    for (uint32_t t = 0; t < sh->n; t++)
        for (uint32_t row = 0; row < sh->rows; row++)
            o[(size_t)t * sh->rows + row] =
                (int32_t)tc_ref_i2s_dot_q8(w + (size_t)row * sh->K / 4, q + (size_t)t * sh->K, sh->K);
    return true;
}

/* RMSNorm + q8: rows of N(0, 2.385) with one denormal (case 3: rows of
 * exact ties, the second with the signs swapped, tc_ks_tie_row); the
 * reference's codes and scales */
static bool gen_norm(kvec *kv, unsigned c, const kshape *sh, gsl_rng *r)
{
    const size_t n = (size_t)sh->rows * sh->K;
    float *x = add_entry(kv, c, "x", TC_TCV_F32, sh->rows, sh->K), *w = add_entry(kv, c, "w", TC_TCV_F32, 1, sh->K);
    int8_t *q = add_entry(kv, c, "q", TC_TCV_I8, sh->rows, sh->K);
    float *sc = add_entry(kv, c, "s", TC_TCV_F32, sh->rows, 1), *h = malloc(sh->K * sizeof *h);
    const bool ok = x && w && q && sc && h;
    if (ok && c == 3) {
        tc_ks_tie_row(x, w, sh->K);
        for (size_t i = sh->K; i < n; i++) x[i] = i % sh->K == sh->K - 1 ? 100.0f : -x[i - sh->K];
    } else if (ok) {
        for (size_t i = 0; i < n; i++) x[i] = (float)gsl_ran_gaussian(r, 2.385);
        x[0] = 1e-40f;   /* a denormal */
        for (uint32_t i = 0; i < sh->K; i++) w[i] = (float)(0.75 + 0.5 * gsl_rng_uniform(r));
    }
    if (ok) {
        for (uint32_t t = 0; t < sh->rows; t++) {
            tc_ref_rmsnorm(x + (size_t)t * sh->K, w, sh->K, KV_EPS, h);
            sc[t] = tc_q8_quantize(h, sh->K, q + (size_t)t * sh->K);
        }
    }
    free(h);
    return ok;
}

/* F16: N(0, 0.05) halves against N(0, 1) tokens; the reference's dots */
static bool gen_f16(kvec *kv, unsigned c, const kshape *sh, gsl_rng *r)
{
    uint16_t *w = add_entry(kv, c, "w", TC_TCV_U16, sh->rows, sh->K);
    float *x = add_entry(kv, c, "x", TC_TCV_F32, sh->n, sh->K), *y = add_entry(kv, c, "y", TC_TCV_F32, sh->n, sh->rows);
    float *row = malloc(sh->K * sizeof *row);
    const bool ok = w && x && y && row;
    if (ok) {
        for (size_t i = 0; i < (size_t)sh->rows * sh->K; i++) w[i] = tc_f32_to_f16((float)gsl_ran_gaussian(r, 0.05));
        for (size_t i = 0; i < (size_t)sh->n * sh->K; i++) x[i] = (float)gsl_ran_gaussian(r, 1.0);
        for (uint32_t rr = 0; rr < sh->rows; rr++) {
            for (uint32_t i = 0; i < sh->K; i++) row[i] = tc_f16_to_f32(w[(size_t)rr * sh->K + i]);
            for (uint32_t t = 0; t < sh->n; t++)
                y[(size_t)t * sh->rows + rr] = (float)tc_ref_dot(row, x + (size_t)t * sh->K, sh->K);
        }
    }
    free(row);
    return ok;
}

/* attention: N(0, 1) q, k, v over n keys (one score ~ -3e4 where n > 3);
 * the reference's head */
static bool gen_attention(kvec *kv, unsigned c, const kshape *sh, gsl_rng *r)
{
    const size_t hd = sh->K, nk = sh->n;
    float *q = add_entry(kv, c, "q", TC_TCV_F32, 1, hd), *kk = add_entry(kv, c, "k", TC_TCV_F32, nk, hd);
    float *v = add_entry(kv, c, "v", TC_TCV_F32, nk, hd), *o = add_entry(kv, c, "out", TC_TCV_F32, 1, hd);
    double *scores = malloc(nk * sizeof *scores);
    const bool ok = q && kk && v && o && scores;
    if (ok) {
        for (size_t i = 0; i < hd; i++) q[i] = (float)gsl_ran_gaussian(r, 1.0);
        for (size_t i = 0; i < nk * hd; i++) {
            kk[i] = (float)gsl_ran_gaussian(r, 1.0);
            v[i] = (float)gsl_ran_gaussian(r, 1.0);
        }
        if (nk > 3) kk[hd] = -3e4f;   /* one large negative score */
        tc_ref_attention_head(q, kk, v, hd, nk, hd, scores, o);
    }
    free(scores);
    return ok;
}

/* One case of kernel k: random inputs from r, the reference's outputs, as
 * entries c<case>.<name>. */
static bool gen_case(kvec *kv, enum kid k, unsigned c, gsl_rng *r)
{
    const kshape *sh = &kshapes[k][c];
    switch (k) {
    case K_I2S: return gen_i2s(kv, c, sh, r);
    case K_NORM: return gen_norm(kv, c, sh, r);
    case K_F16: return gen_f16(kv, c, sh, r);
    default: return gen_attention(kv, c, sh, r);
    }
}

/* meta of kernel vector k: what it is, and the shape of each case */
static cJSON *kernel_meta(enum kid k)
{
    cJSON *meta = cJSON_CreateObject(), *cs = cJSON_AddArrayToObject(meta, "cases");
    cJSON_AddStringToObject(meta, "kind", "kernel");
    cJSON_AddStringToObject(meta, "kernel", kernel_names[k]);
    cJSON_AddStringToObject(meta, "generator", "tritcheck vectors generate: the reference kernels (src/ref/kernels.c)");
    if (k == K_NORM) cJSON_AddNumberToObject(meta, "eps", KV_EPS);
    for (unsigned c = 0; c < n_cases[k]; c++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "rows", kshapes[k][c].rows);
        cJSON_AddNumberToObject(o, "K", kshapes[k][c].K);
        cJSON_AddNumberToObject(o, "n", kshapes[k][c].n);
        cJSON_AddItemToArray(cs, o);
    }
    return meta;
}

tc_status tc_kvectors_generate(const char *dir, FILE *out, tc_err *err)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r) return tc_fail(err, TC_E_NOMEM, "vectors: out of memory");
    tc_status s = TC_OK;
    for (int k = 0; k < K_COUNT && !s; k++) {
        gsl_rng_set(r, 2385 + (unsigned long)k);
        char path[4200];
        snprintf(path, sizeof path, "%s/kernel-%s.tcv.gz", dir, kernel_names[k]);
        cJSON *meta = kernel_meta((enum kid)k);
        kvec kv = { .n = 0 };
        bool ok = meta != NULL;
        for (unsigned c = 0; c < n_cases[k] && ok; c++) ok = gen_case(&kv, (enum kid)k, c, r);
        s = ok ? tc_tcv_write(path, meta, kv.e, kv.n, err) : tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
        if (!s && out) fprintf(out, "%s: %u cases\n", path, n_cases[k]);
        for (size_t i = 0; i < kv.n; i++) free(kv.own[i]);
        cJSON_Delete(meta);
    }
    gsl_rng_free(r);
    return s;
}

/* ---- the reference kernels as a kernel table ----
 * So that `vectors check --cand ref` checks the reference kernels on the
 * recorded answers with the same runner and checks as any table.  An
 * adapter, not an engine's kernel: it allocates the workspaces the
 * reference formulas need (the table's signatures pass none), and where
 * an allocation fails it writes NaN, which fails the case.  Only the
 * kernels the vectors hold are filled in. */

static void ref_i2s_gemm(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q, const int32_t *qsum,
                         size_t n, int32_t *out, size_t ld)
{
    (void)qsum;   /* the reference reads the codes' values: no correction */
    for (size_t r = r0; r < r1; r++)
        for (size_t t = 0; t < n; t++) out[t * ld + r] = (int32_t)tc_ref_i2s_dot_q8(w + r * (K / 4), q + t * K, K);
}

static void ref_i2s_gemv(const uint8_t *w, size_t K, size_t r0, size_t r1, const int8_t *q, const int32_t *qsum,
                         int32_t *out)
{
    ref_i2s_gemm(w, K, r0, r1, q, qsum, 1, out, 0);
}

static float ref_rmsnorm_q8(const float *x, const float *w, size_t n, float eps, int8_t *q, int32_t *qsum)
{
    float *h = malloc(n * sizeof *h), s = NAN;
    int32_t sum = 0;
    if (h) {
        tc_ref_rmsnorm(x, w, n, eps, h);
        s = tc_q8_quantize(h, n, q);
        for (size_t i = 0; i < n; i++) sum += q[i];
    }
    free(h);
    *qsum = sum;
    return s;
}

static void ref_f16_gemm(const uint16_t *w, size_t K, size_t r0, size_t r1, const float *x, size_t n, float *y,
                         size_t ld)
{
    float *row = malloc(K * sizeof *row);
    for (size_t r = r0; r < r1; r++) {
        for (size_t i = 0; row && i < K; i++) row[i] = tc_f16_to_f32(w[r * K + i]);
        for (size_t t = 0; t < n; t++) y[t * ld + r] = row ? (float)tc_ref_dot(row, x + t * K, K) : NAN;
    }
    free(row);
}

static void ref_attention_head(const float *q, const float *k, const float *v, size_t n_keys, size_t hd,
                               float *scores, float *out)
{
    (void)scores;   /* the reference keeps its scores in double */
    double *ds = malloc(n_keys * sizeof *ds);
    if (ds) tc_ref_attention_head(q, k, v, hd, n_keys, hd, ds, out);
    for (size_t i = 0; !ds && i < hd; i++) out[i] = NAN;
    free(ds);
}

static const tc_fast_kernels ref_table = {
    .isa = "ref",
    .i2s_gemv = ref_i2s_gemv, .i2s_gemm = ref_i2s_gemm, .i2s_gemv_name = "ref.i2s_gemv", .i2s_gemm_name = "ref.i2s_gemm",
    .rmsnorm_q8 = ref_rmsnorm_q8, .rmsnorm_q8_name = "ref.rmsnorm_q8",
    .f16_gemm = ref_f16_gemm, .f16_gemv_name = "ref.f16_gemv", .f16_gemm_name = "ref.f16_gemm",
    .attention_head = ref_attention_head, .attention_name = "ref.attention",
};

/* ---- checking a table on them ---- */

static const tc_tcv_entry *need_entry(const tc_tcv *v, unsigned c, const char *what, tc_tcv_dtype dtype,
                                      uint64_t count, const char *path, tc_err *err)
{
    char nm[32];
    ename(nm, sizeof nm, c, what);
    const tc_tcv_entry *e = tc_tcv_find(v, nm);
    if (!e || e->dtype != dtype || e->count != count) {
        tc_fail(err, TC_E_FORMAT, "%s: entry %s: expected dtype %d with %" PRIu64 " elements", path, nm, (int)dtype,
                count);
        return NULL;
    }
    return e;
}

/* Case c of kernel k with shape sh as a kernel-suite case and its data:
 * the inputs and the recorded answers, borrowed from v. */
static tc_status vector_case(const tc_tcv *v, const char *path, enum kid k, unsigned c, const kshape *sh,
                             tc_ks_case *kc, tc_ks_data *d, tc_err *err)
{
    const tc_tcv_entry *e[4] = { 0 };
    const uint64_t rows = sh->rows, K = sh->K, n = sh->n;
    memset(d, 0, sizeof *d);
    if (k == K_I2S) {
        *kc = (tc_ks_case){ .kernel = n == 1 ? TC_KS_I2S_GEMV : TC_KS_I2S_GEMM, .rows = rows, .K = K, .n = n, .ld = rows };
        if (!(e[0] = need_entry(v, c, "w", TC_TCV_I8, rows * K / 4, path, err)) ||
            !(e[1] = need_entry(v, c, "q", TC_TCV_I8, n * K, path, err)) ||
            !(e[2] = need_entry(v, c, "out", TC_TCV_I32, n * rows, path, err)))
            return TC_E_FORMAT;
        d->w_i2s = e[0]->data, d->q8 = e[1]->data, d->want_sums = e[2]->data;
    } else if (k == K_NORM) {   /* rows of tokens, each K wide */
        *kc = (tc_ks_case){ .kernel = TC_KS_RMSNORM_Q8, .K = K, .n = rows };
        if (!(e[0] = need_entry(v, c, "x", TC_TCV_F32, rows * K, path, err)) ||
            !(e[1] = need_entry(v, c, "w", TC_TCV_F32, K, path, err)) ||
            !(e[2] = need_entry(v, c, "q", TC_TCV_I8, rows * K, path, err)) ||
            !(e[3] = need_entry(v, c, "s", TC_TCV_F32, rows, path, err)))
            return TC_E_FORMAT;
        const cJSON *eps = cJSON_GetObjectItemCaseSensitive(v->meta, "eps");
        d->eps = cJSON_IsNumber(eps) && eps->valuedouble > 0 && eps->valuedouble < 1 ? (float)eps->valuedouble : KV_EPS;
        d->x = e[0]->data, d->w = e[1]->data, d->want_q8 = e[2]->data, d->want_scale = e[3]->data;
    } else if (k == K_F16) {
        *kc = (tc_ks_case){ .kernel = n == 1 ? TC_KS_F16_GEMV : TC_KS_F16_GEMM, .rows = rows, .K = K, .n = n, .ld = rows };
        if (!(e[0] = need_entry(v, c, "w", TC_TCV_U16, rows * K, path, err)) ||
            !(e[1] = need_entry(v, c, "x", TC_TCV_F32, n * K, path, err)) ||
            !(e[2] = need_entry(v, c, "y", TC_TCV_F32, n * rows, path, err)))
            return TC_E_FORMAT;
        d->w_f16 = e[0]->data, d->x = e[1]->data, d->want = e[2]->data;
    } else {   /* one query against n keys of head_dim K */
        *kc = (tc_ks_case){ .kernel = TC_KS_ATTENTION, .rows = n, .K = K, .n = 1 };
        if (!(e[0] = need_entry(v, c, "q", TC_TCV_F32, K, path, err)) ||
            !(e[1] = need_entry(v, c, "k", TC_TCV_F32, n * K, path, err)) ||
            !(e[2] = need_entry(v, c, "v", TC_TCV_F32, n * K, path, err)) ||
            !(e[3] = need_entry(v, c, "out", TC_TCV_F32, K, path, err)))
            return TC_E_FORMAT;
        d->q = e[0]->data, d->k = e[1]->data, d->v = e[2]->data, d->want = e[3]->data;
    }
    return TC_OK;
}

/* meta.cases[c]'s shape; TC_E_FORMAT unless rows, K and n are positive
 * integers (K a multiple of 128 for I2_S) */
static tc_status case_shape(const cJSON *cs, enum kid k, unsigned c, const char *path, kshape *sh, tc_err *err)
{
    const char *const key[3] = { "rows", "K", "n" };
    uint32_t v[3] = { 0 };
    for (int i = 0; i < 3; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(cs, key[i]);
        if (!cJSON_IsNumber(x) || !tc_num_to_u32(x->valuedouble, 1, UINT32_MAX, &v[i])) v[i] = 0;
    }
    *sh = (kshape){ v[0], v[1], v[2] };
    if (sh->rows == 0 || sh->K == 0 || sh->n == 0 || (k == K_I2S && sh->K % 128))
        return tc_fail(err, TC_E_FORMAT, "%s: meta.cases[%u]: expected positive rows, K (a multiple of 128 for I2_S), n",
                       path, c);
    return TC_OK;
}

/* Print a failing case: its shape and each failing check. */
static void print_failure(FILE *out, const char *name, unsigned c, const kshape *sh, const tc_ks_result *r)
{
    fprintf(out, "%-32s case %u (%u x %u, n %u) FAILS", name, c, sh->rows, sh->K, sh->n);
    for (int i = 0; i < r->n; i++)
        if (!r->c[i].pass) fprintf(out, "\n       %s: %s", r->c[i].name, r->c[i].detail);
    fputc('\n', out);
}

/* The kernel table cand stands for: the reference kernels for "ref",
 * else the registry's (*pl: a plug-in's owner). */
static tc_status cand_table(const char *cand, const tc_fast_kernels **kt, tc_plugin **pl, tc_err *err)
{
    *kt = &ref_table;
    *pl = NULL;
    if (tc_engine_is_ref(cand)) return TC_OK;
    return tc_engine_kernel_table(cand, kt, pl, err);   /* TC_E_UNSUPPORTED: the vector is skipped */
}

/* Every case of v on kt: *pass, and the worst scaled error. */
static tc_status check_cases(const tc_tcv *v, const char *path, const char *name, enum kid k,
                             const tc_fast_kernels *kt, FILE *out, unsigned *n_cases, double *worst, bool *pass,
                             tc_err *err)
{
    tc_status s = TC_OK;
    unsigned c = 0;
    const cJSON *cs;
    cJSON_ArrayForEach(cs, cJSON_GetObjectItemCaseSensitive(v->meta, "cases")) {
        kshape sh;
        tc_ks_case kc;
        tc_ks_data d;
        tc_ks_result r;
        if ((s = case_shape(cs, k, c, path, &sh, err)) || (s = vector_case(v, path, k, c, &sh, &kc, &d, err)) ||
            (s = tc_ks_run_case(&kc, &d, kt, NULL, 0, &r, err)))
            break;
        if (!r.pass && out) print_failure(out, name, c, &sh, &r);
        *pass &= r.pass;
        *worst = fmax(*worst, tc_ks_worst_scaled(&r));
        c++;
    }
    *n_cases = c;
    return s;
}

tc_status tc_kvectors_check(const char *path, const char *name, const tc_tcv *v, const char *cand, FILE *out,
                            bool *pass, tc_err *err)
{
    const char *kn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v->meta, "kernel"));
    int k = -1;
    for (int i = 0; kn && i < K_COUNT; i++)
        if (!strcmp(kn, kernel_names[i])) k = i;
    if (k < 0)
        return tc_fail(err, TC_E_FORMAT, "%s: meta.kernel: expected one of i2s_gemm, rmsnorm_q8, f16_gemm, "
                       "attention_head", path);
    /* a vector of no case checks nothing: it must not pass */
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(v->meta, "cases");
    if (!cJSON_IsArray(cases) || !cases->child)
        return tc_fail(err, TC_E_FORMAT, "%s: meta.cases: expected a non-empty array of {rows, K, n}", path);
    const tc_fast_kernels *kt;
    tc_plugin *pl;
    *pass = true;
    tc_status s = cand_table(cand, &kt, &pl, err);
    if (s == TC_E_UNSUPPORTED) {
        if (out) fprintf(out, "%-32s %-6s skipped: %s\n", name, "kernel", err ? err->msg : "");
        return TC_OK;
    }
    if (s) return s;
    double worst = 0.0;
    unsigned n_cases = 0;
    s = check_cases(v, path, name, (enum kid)k, kt, out, &n_cases, &worst, pass, err);
    if (!s && out)
        fprintf(out, "%-32s %-6s %u cases, %s, worst %.3g  %s\n", name, "kernel", n_cases,
                kt == &ref_table ? "ref kernels" : k == K_I2S ? kt->i2s_gemm_name : k == K_NORM ? kt->rmsnorm_q8_name
                : k == K_F16 ? kt->f16_gemm_name : kt->attention_name, worst, *pass ? "PASS" : "FAIL");
    tc_plugin_free(pl);
    return s;
}

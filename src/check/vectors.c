/* vectors.c -- golden vectors (format in vectors.h). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "check/compare.h"
#include "engine/registry.h"
#include "fast/cpu/dispatch.h"
#include "engine/plugin.h"
#include "ref/ref_kernels.h"
#include "tools/gen.h"
#include "receipt/receipt.h"
#include "tools/run.h"
#include "base/sha256.h"
#include "format/types.h"
#include "check/vectors.h"
#include "engine/dump.h"
#include "format/tcv.h"

/* ---- a recording as entries: a float tap is one entry [n_pos][width],
 * a q8 tap two, NAME (i8 codes) then NAME.scale (f32, one per row) ---- */

/* Write a recording and its description as a model vector. */
static tc_status save_recording(const char *path, const cJSON *meta, const tc_dump *d, tc_err *err)
{
    size_t n = 0;
    for (size_t i = 0; i < tc_dump_n_taps(d); i++) n += tc_dump_get(d, i)->kind == TC_TAP_Q8 ? 2 : 1;
    tc_tcv_entry *e = calloc(n ? n : 1, sizeof *e);
    if (!e) return tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    n = 0;
    for (size_t i = 0; i < tc_dump_n_taps(d); i++) {
        const tc_dump_tap *t = tc_dump_get(d, i);
        if (t->kind == TC_TAP_F32) {
            e[n++] = tc_tcv_entry_2d(t->name, TC_TCV_F32, t->n_pos, t->width, t->f);
        } else {
            char sname[TC_TCV_NAME_MAX + 8];
            snprintf(sname, sizeof sname, "%s.scale", t->name);
            e[n++] = tc_tcv_entry_2d(t->name, TC_TCV_I8, t->n_pos, t->width, t->q8);
            e[n++] = tc_tcv_entry_2d(sname, TC_TCV_F32, t->n_pos, 1, t->scale);
        }
    }
    tc_status s = tc_tcv_write(path, meta, e, n, err);
    free(e);
    return s;
}

/* A model vector's entries as taps into d. */
static tc_status entries_to_dump(const tc_tcv *v, const char *path, tc_dump *d, tc_err *err)
{
    for (size_t i = 0; i < v->n_entries; i++) {
        const tc_tcv_entry *e = &v->entries[i];
        uint64_t rows = e->dims[0], width = e->count / rows;
        tc_tap tap = { .name = e->name, .layer = -1, .pos0 = 0, .n_pos = (uint32_t)rows, .width = (uint32_t)width };
        tc_status s;
        if (e->dtype == TC_TCV_F32) {
            tap.kind = TC_TAP_F32;
            tap.f = (float *)e->data;   /* tc_dump_tap_fn copies */
        } else if (e->dtype == TC_TCV_I8) {
            char sname[TC_TCV_NAME_MAX + 8];
            snprintf(sname, sizeof sname, "%s.scale", e->name);
            const tc_tcv_entry *sc = i + 1 < v->n_entries ? &v->entries[i + 1] : NULL;
            if (!sc || strcmp(sc->name, sname) || sc->dtype != TC_TCV_F32 || sc->count != rows)
                return tc_fail(err, TC_E_FORMAT, "%s: entry %s: expected its %s entry (f32 [%" PRIu64 "][1]) next",
                               path, e->name, sname, rows);
            tap.kind = TC_TAP_Q8;
            tap.q8 = (int8_t *)e->data;
            tap.scale = (float *)sc->data;
            i++;
        } else {
            return tc_fail(err, TC_E_FORMAT, "%s: entry %s: a model vector holds f32 and i8 taps only", path, e->name);
        }
        if ((s = tc_dump_tap_fn(d, &tap, err))) return s;
    }
    return TC_OK;
}

/* A read model vector as a recording, its tokens from meta.tokens. */
static tc_status vector_to_recording(const tc_tcv *v, const char *path, tc_dump **out, tc_err *err)
{
    tc_dump *d = tc_dump_new();
    tc_status s = d ? entries_to_dump(v, path, d, err) : tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(v->meta, "tokens")) {
        if (s) break;
        int32_t id = (int32_t)t->valuedouble;
        s = tc_dump_add_tokens(d, &id, 1, err);
    }
    if (s) tc_dump_free(d);
    else *out = d;
    return s;
}



/* ---- kernel vectors: inputs and the reference kernels' outputs ---- */

enum kid { K_I2S, K_NORM, K_F16, K_ATTN, K_COUNT };

static const char *const kernel_names[K_COUNT] = { "i2s_gemm", "rmsnorm_q8", "f16_gemm", "attention_head" };

/* Per kernel: rows, K (width / head_dim), n (tokens / keys).  Odd rows,
 * the 2b4t widths, several tokens for the GEMM. */
typedef struct kshape { uint32_t rows, K, n; } kshape;
static const kshape kshapes[K_COUNT][3] = {
    { { 17, 256, 1 }, { 40, 2560, 1 }, { 9, 6912, 3 } },
    { { 3, 256, 1 }, { 2, 2560, 1 }, { 2, 6912, 1 } },
    { { 17, 256, 1 }, { 33, 2560, 2 }, { 5, 6912, 1 } },
    { { 1, 64, 1 }, { 1, 128, 100 }, { 1, 128, 7 } },
};
#define N_CASES 3
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

/* RMSNorm + q8: rows of N(0, 2.385) with one denormal; the reference's
 * codes and scales */
static bool gen_norm(kvec *kv, unsigned c, const kshape *sh, gsl_rng *r)
{
    const size_t n = (size_t)sh->rows * sh->K;
    float *x = add_entry(kv, c, "x", TC_TCV_F32, sh->rows, sh->K), *w = add_entry(kv, c, "w", TC_TCV_F32, 1, sh->K);
    int8_t *q = add_entry(kv, c, "q", TC_TCV_I8, sh->rows, sh->K);
    float *sc = add_entry(kv, c, "s", TC_TCV_F32, sh->rows, 1), *h = malloc(sh->K * sizeof *h);
    const bool ok = x && w && q && sc && h;
    if (ok) {
        for (size_t i = 0; i < n; i++) x[i] = (float)gsl_ran_gaussian(r, 2.385);
        x[0] = 1e-40f;   /* a denormal */
        for (uint32_t i = 0; i < sh->K; i++) w[i] = (float)(0.75 + 0.5 * gsl_rng_uniform(r));
        for (uint32_t t = 0; t < sh->rows; t++) {
            tc_ref_rmsnorm(x + (size_t)t * sh->K, w, sh->K, KV_EPS, h);
            sc[t] = tc_ref_quantize_q8(h, sh->K, q + (size_t)t * sh->K);
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
    for (unsigned c = 0; c < N_CASES; c++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "rows", kshapes[k][c].rows);
        cJSON_AddNumberToObject(o, "K", kshapes[k][c].K);
        cJSON_AddNumberToObject(o, "n", kshapes[k][c].n);
        cJSON_AddItemToArray(cs, o);
    }
    return meta;
}

static tc_status gen_kernel_vectors(const char *dir, FILE *out, tc_err *err)
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
        for (unsigned c = 0; c < N_CASES && ok; c++) ok = gen_case(&kv, (enum kid)k, c, r);
        s = ok ? tc_tcv_write(path, meta, kv.e, kv.n, err) : tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
        if (!s && out) fprintf(out, "%s: %d cases\n", path, N_CASES);
        for (size_t i = 0; i < kv.n; i++) free(kv.own[i]);
        cJSON_Delete(meta);
    }
    gsl_rng_free(r);
    return s;
}

/* The kernel table an engine name stands for: NULL for "ref" (the
 * reference kernels recompute), a fast table, or a plug-in's. */
/* The candidate's kernel table: NULL for "ref" (the reference kernels
 * themselves), else through the registry. */
static tc_status cand_table(const char *cand, const tc_fast_kernels **kt, tc_plugin **pl, tc_err *err)
{
    *kt = NULL;
    *pl = NULL;
    if (tc_engine_is_ref(cand)) return TC_OK;
    return tc_engine_kernel_table(cand, kt, pl, err);   /* TC_E_UNSUPPORTED: the vector is skipped */
}

/* Guard bytes after every output (0xA5): a kernel that writes past its
 * output fails the case instead of corrupting the heap unnoticed. */
#define KV_GUARD 16

static bool guard_ok(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0xA5) return false;
    return true;
}

static const tc_tcv_entry *need_entry(const tc_tcv *v, unsigned c, const char *what, tc_tcv_dtype dtype, uint64_t count,
                                   const char *path, tc_err *err)
{
    char nm[32];
    ename(nm, sizeof nm, c, what);
    const tc_tcv_entry *e = tc_tcv_find(v, nm);
    if (!e || e->dtype != dtype || e->count != count) {
        tc_fail(err, TC_E_FORMAT, "%s: entry %s: expected dtype %d with %" PRIu64 " elements", path, nm, dtype, count);
        return NULL;
    }
    return e;
}

/* Run case c of kernel k with table kt (NULL: the reference kernels) and
 * compare with the recorded outputs: integers and codes exactly, floats
 * within tol scaled (by sum |w x| for dot products, max |v| for attention). */
static tc_status check_case(const tc_tcv *v, const char *path, enum kid k, unsigned c, const kshape *sh,
                            const tc_fast_kernels *kt, double tol, double *worst, bool *pass, tc_err *err)
{
    const tc_tcv_entry *e[4] = { 0 };
    tc_status s = TC_OK;
    *pass = true;
    if (k == K_I2S) {
        if (!(e[0] = need_entry(v, c, "w", TC_TCV_I8, (uint64_t)sh->rows * sh->K / 4, path, err)) ||
            !(e[1] = need_entry(v, c, "q", TC_TCV_I8, (uint64_t)sh->n * sh->K, path, err)) ||
            !(e[2] = need_entry(v, c, "out", TC_TCV_I32, (uint64_t)sh->n * sh->rows, path, err)))
            return TC_E_FORMAT;
        const uint8_t *w = e[0]->data;
        const int8_t *q = (const int8_t *)e[1]->data;
        size_t no = (size_t)sh->n * sh->rows;
        int32_t *o = malloc((no + KV_GUARD) * 4), *qs = malloc(sh->n * 4);
        if (!o || !qs) s = tc_fail(err, TC_E_NOMEM, "vectors: out of memory");
        else memset(o + no, 0xA5, KV_GUARD * 4);
        for (uint32_t t = 0; !s && t < sh->n; t++) {
            qs[t] = 0;
            for (uint32_t i = 0; i < sh->K; i++) qs[t] += q[(size_t)t * sh->K + i];
            for (uint32_t row = 0; !kt && row < sh->rows; row++)
                o[(size_t)t * sh->rows + row] = (int32_t)tc_ref_i2s_dot_q8(w + (size_t)row * sh->K / 4, q + (size_t)t * sh->K, sh->K);
        }
        if (!s && kt) {
            if (sh->n == 1) kt->i2s_gemv(w, sh->K, 0, sh->rows, q, qs, o);
            else kt->i2s_gemm(w, sh->K, 0, sh->rows, q, qs, sh->n, o, sh->rows);
        }
        if (!s) *pass = !memcmp(o, e[2]->data, no * 4) && guard_ok(o + no, KV_GUARD * 4);
        free(o);
        free(qs);
    } else if (k == K_NORM) {
        size_t n = (size_t)sh->rows * sh->K;
        if (!(e[0] = need_entry(v, c, "x", TC_TCV_F32, n, path, err)) || !(e[1] = need_entry(v, c, "w", TC_TCV_F32, sh->K, path, err)) ||
            !(e[2] = need_entry(v, c, "q", TC_TCV_I8, n, path, err)) || !(e[3] = need_entry(v, c, "s", TC_TCV_F32, sh->rows, path, err)))
            return TC_E_FORMAT;
        const cJSON *eps = cJSON_GetObjectItemCaseSensitive(v->meta, "eps");
        float ep = cJSON_IsNumber(eps) ? (float)eps->valuedouble : KV_EPS;
        int8_t *q = malloc(sh->K + KV_GUARD);
        float *h = malloc(sh->K * 4);
        if (!q || !h) s = tc_fail(err, TC_E_NOMEM, "vectors: out of memory");
        else memset(q + sh->K, 0xA5, KV_GUARD);
        for (uint32_t t = 0; !s && t < sh->rows; t++) {
            const float *x = (const float *)e[0]->data + (size_t)t * sh->K;
            float sc;
            int32_t qsum;
            if (kt) sc = kt->rmsnorm_q8(x, (const float *)e[1]->data, sh->K, ep, q, &qsum);
            else {
                tc_ref_rmsnorm(x, (const float *)e[1]->data, sh->K, ep, h);
                sc = tc_ref_quantize_q8(h, sh->K, q);
            }
            float want;
            memcpy(&want, (const uint8_t *)e[3]->data + 4 * t, 4);
            if (sc != want || memcmp(q, (const int8_t *)e[2]->data + (size_t)t * sh->K, sh->K) || !guard_ok(q + sh->K, KV_GUARD))
                *pass = false;
        }
        free(q);
        free(h);
    } else if (k == K_F16) {
        if (!(e[0] = need_entry(v, c, "w", TC_TCV_U16, (uint64_t)sh->rows * sh->K, path, err)) ||
            !(e[1] = need_entry(v, c, "x", TC_TCV_F32, (uint64_t)sh->n * sh->K, path, err)) ||
            !(e[2] = need_entry(v, c, "y", TC_TCV_F32, (uint64_t)sh->n * sh->rows, path, err)))
            return TC_E_FORMAT;
        const uint16_t *w = (const uint16_t *)e[0]->data;
        const float *x = (const float *)e[1]->data, *want = (const float *)e[2]->data;
        size_t ny = (size_t)sh->n * sh->rows;
        float *y = malloc((ny + KV_GUARD) * 4), *row = malloc(sh->K * 4);
        if (!y || !row) s = tc_fail(err, TC_E_NOMEM, "vectors: out of memory");
        else memset(y + ny, 0xA5, KV_GUARD * 4);
        if (!s && kt) kt->f16_gemm(w, sh->K, 0, sh->rows, x, sh->n, y, sh->rows);
        for (uint32_t rr = 0; !s && rr < sh->rows; rr++) {
            for (uint32_t i = 0; i < sh->K; i++) row[i] = tc_f16_to_f32(w[(size_t)rr * sh->K + i]);
            for (uint32_t t = 0; t < sh->n; t++) {
                const float *xt = x + (size_t)t * sh->K;
                double mag = 0.0;
                for (uint32_t i = 0; i < sh->K; i++) mag += fabs((double)row[i] * xt[i]);
                size_t at = (size_t)t * sh->rows + rr;
                if (!kt) y[at] = (float)tc_ref_dot(row, xt, sh->K);
                double d = fabs((double)y[at] - want[at]) / (mag > 0 ? mag : 1.0);
                if (d > *worst) *worst = d;
                if (!(d <= tol)) *pass = false;
            }
        }
        if (!s && !guard_ok(y + ny, KV_GUARD * 4)) *pass = false;
        free(y);
        free(row);
    } else {
        size_t hd = sh->K, nk = sh->n;
        if (!(e[0] = need_entry(v, c, "q", TC_TCV_F32, hd, path, err)) || !(e[1] = need_entry(v, c, "k", TC_TCV_F32, nk * hd, path, err)) ||
            !(e[2] = need_entry(v, c, "v", TC_TCV_F32, nk * hd, path, err)) || !(e[3] = need_entry(v, c, "out", TC_TCV_F32, hd, path, err)))
            return TC_E_FORMAT;
        const float *vv = (const float *)e[2]->data, *want = (const float *)e[3]->data;
        float *o = malloc((hd + KV_GUARD) * 4), *fs = malloc(nk * 4);
        double *ds = malloc(nk * sizeof *ds);
        if (!o || !fs || !ds) s = tc_fail(err, TC_E_NOMEM, "vectors: out of memory");
        else memset(o + hd, 0xA5, KV_GUARD * 4);
        if (!s && kt) kt->attention_head((const float *)e[0]->data, (const float *)e[1]->data, vv, nk, hd, fs, o);
        if (!s && !kt) tc_ref_attention_head((const float *)e[0]->data, (const float *)e[1]->data, vv, hd, nk, hd, ds, o);
        double vmax = 0.0;
        for (size_t i = 0; i < nk * hd; i++) vmax = fmax(vmax, fabs(vv[i]));
        for (size_t i = 0; !s && i < hd; i++) {
            double d = fabs((double)o[i] - want[i]) / (vmax > 0 ? vmax : 1.0);
            if (d > *worst) *worst = d;
            if (!(d <= tol)) *pass = false;
        }
        if (!s && !guard_ok(o + hd, KV_GUARD * 4)) *pass = false;
        free(o); free(fs); free(ds);
    }
    return s;
}

static tc_status check_kernel_vector(const char *path, const char *name, const tc_tcv *v, const char *cand, FILE *out,
                                     bool *pass, tc_err *err)
{
    const char *kn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v->meta, "kernel"));
    int k = -1;
    for (int i = 0; kn && i < K_COUNT; i++)
        if (!strcmp(kn, kernel_names[i])) k = i;
    if (k < 0) return tc_fail(err, TC_E_FORMAT, "%s: meta.kernel: expected one of i2s_gemm, rmsnorm_q8, f16_gemm, attention_head", path);
    const tc_fast_kernels *kt;
    tc_plugin *pl;
    tc_status s = cand_table(cand, &kt, &pl, err);
    if (s == TC_E_UNSUPPORTED) {
        if (out) fprintf(out, "%-32s %-6s skipped: %s\n", name, "kernel", err ? err->msg : "");
        *pass = true;
        return TC_OK;
    }
    if (s) return s;
    *pass = true;
    double worst = 0.0;
    unsigned c = 0;
    const cJSON *cs;
    cJSON_ArrayForEach(cs, cJSON_GetObjectItemCaseSensitive(v->meta, "cases")) {
        kshape sh = { (uint32_t)cJSON_GetObjectItemCaseSensitive(cs, "rows")->valuedouble,
                      (uint32_t)cJSON_GetObjectItemCaseSensitive(cs, "K")->valuedouble,
                      (uint32_t)cJSON_GetObjectItemCaseSensitive(cs, "n")->valuedouble };
        if (sh.rows == 0 || sh.K == 0 || sh.n == 0 || (k == K_I2S && sh.K % 128)) {
            s = tc_fail(err, TC_E_FORMAT, "%s: meta.cases[%u]: expected positive rows, K (a multiple of 128 for I2_S), n", path, c);
            break;
        }
        bool ok;
        if ((s = check_case(v, path, (enum kid)k, c, &sh, kt, 1e-6, &worst, &ok, err))) break;
        if (!ok && out) fprintf(out, "%-32s case %u (%u x %u, n %u) FAILS\n", name, c, sh.rows, sh.K, sh.n);
        *pass &= ok;
        c++;
    }
    if (!s && out)
        fprintf(out, "%-32s %-6s %u cases, %s, worst %.3g  %s\n", name, "kernel", c,
                !kt ? "ref kernels" : k == K_I2S ? kt->i2s_gemm_name : k == K_NORM ? kt->rmsnorm_q8_name
                : k == K_F16 ? kt->f16_gemm_name : kt->attention_name, worst, *pass ? "PASS" : "FAIL");
    tc_plugin_free(pl);
    return s;
}

/* ---- the model vectors ---- */

typedef struct recipe {
    const char *name, *preset, *arch, *precision;
    uint64_t seed;
    uint32_t n_tokens, n_gen;
} recipe;

static const recipe recipes[] = {
    { "model-tiny-i2s", "tiny", "bitnet-b1.58", "i2s", 101, 6, 2 },
    { "model-tiny-fp32", "tiny", "bitnet-b1.58", "fp32", 102, 6, 2 },
    { "model-tiny-bitnet-silu", "tiny", "bitnet", "i2s", 103, 6, 2 },   /* llama.cpp's arch: SiLU FFN */
};

static tc_status gen_recipe_model(const cJSON *meta, const char *path, tc_err *err)
{
    tc_gen_opts g;
    const char *preset = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "preset"));
    const char *arch = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "arch"));
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(meta, "seed");
    if (!preset || !arch || !cJSON_IsNumber(seed)) return tc_fail(err, TC_E_FORMAT, "vector meta: expected preset, arch, seed");
    tc_status s = tc_gen_preset(preset, &g, err);
    if (s) return s;
    g.arch = arch;
    g.seed = (uint64_t)seed->valuedouble;
    const char *act = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "act"));
    g.silu = act && !strcmp(act, "silu");
    return tc_gen_write(&g, path, err);
}

tc_status tc_vectors_generate(const char *dir, FILE *out, tc_err *err)
{
    char model[4200], path[4200];
    tc_status s = TC_OK;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return tc_fail(err, TC_E_IO, "%s: cannot create: %s", dir, strerror(errno));
    for (size_t i = 0; i < sizeof recipes / sizeof recipes[0] && !s; i++) {
        const recipe *rc = &recipes[i];
        cJSON *meta = cJSON_CreateObject();
        cJSON_AddStringToObject(meta, "kind", "model");
        cJSON_AddStringToObject(meta, "generator", "tritcheck vectors generate: the ref engine's taps");
        cJSON_AddStringToObject(meta, "preset", rc->preset);
        cJSON_AddStringToObject(meta, "arch", rc->arch);
        cJSON_AddStringToObject(meta, "act", strcmp(rc->arch, "bitnet") ? "relu2" : "silu");
        cJSON_AddNumberToObject(meta, "seed", (double)rc->seed);
        cJSON_AddStringToObject(meta, "precision", rc->precision);
        snprintf(model, sizeof model, "%s/.%s.gguf", dir, rc->name);
        tc_model *m = NULL;
        tc_engine *e = NULL;
        tc_dump *d = NULL;
        int32_t *tok = NULL;
        uint32_t n = rc->n_tokens;
        tc_engine_opts eo;
        tc_engine_opts_default(&eo);
        s = gen_recipe_model(meta, model, err);
        if (!s) s = tc_model_load(model, &m, err);
        if (!s) s = tc_precision_from_name(rc->precision, &eo.precision) ? TC_E_USAGE : TC_OK;
        if (!s) s = tc_engine_open("ref", m, &eo, &e, err);
        if (!s) s = tc_random_tokens(n, rc->seed, m->hp.n_vocab, &tok, err);
        if (!s) s = tc_compare_record(e, &tok, &n, rc->n_tokens, rc->n_gen, &d, err);
        if (!s) {
            char sha[65];
            tc_sha256_file(model, sha, NULL);
            cJSON_AddStringToObject(meta, "model_sha256", sha);
            cJSON_AddNumberToObject(meta, "prompt_tokens", rc->n_tokens);
            cJSON *tl = cJSON_AddArrayToObject(meta, "tokens");
            for (uint32_t k = 0; k < n; k++) cJSON_AddItemToArray(tl, cJSON_CreateNumber(tok[k]));
            snprintf(path, sizeof path, "%s/%s.tcv.gz", dir, rc->name);
            s = save_recording(path, meta, d, err);
            if (!s && out) fprintf(out, "%s: %zu taps, %u positions\n", path, tc_dump_n_taps(d), n);
        }
        unlink(model);
        free(tok);
        tc_dump_free(d);
        tc_engine_free(e);
        tc_model_free(m);
        cJSON_Delete(meta);
    }
    if (!s) s = gen_kernel_vectors(dir, out, err);
    return s;
}

/* Every *.tcv.gz in dir, sorted by name (malloc'd array of malloc'd names). */
static tc_status list_vectors(const char *dir, char ***names, size_t *n, tc_err *err)
{
    DIR *dp = opendir(dir);
    if (!dp) return tc_fail(err, TC_E_IO, "%s: cannot open: %s", dir, strerror(errno));
    struct dirent *de;
    *names = NULL;
    *n = 0;
    while ((de = readdir(dp))) {
        size_t len = strlen(de->d_name);
        if (len < 8 || strcmp(de->d_name + len - 7, ".tcv.gz")) continue;
        char **nn = realloc(*names, (*n + 1) * sizeof *nn);
        if (!nn || !(nn[*n] = strdup(de->d_name))) {
            closedir(dp);
            if (nn) *names = nn;
            return tc_fail(err, TC_E_NOMEM, "%s: out of memory", dir);
        }
        *names = nn;
        (*n)++;
    }
    closedir(dp);
    for (size_t i = 1; i < *n; i++)   /* insertion sort: a handful of names */
        for (size_t j = i; j > 0 && strcmp((*names)[j - 1], (*names)[j]) > 0; j--) {
            char *t = (*names)[j];
            (*names)[j] = (*names)[j - 1];
            (*names)[j - 1] = t;
        }
    return TC_OK;
}

/* One model vector: regenerate the model, check its hash, and compare the
 * candidate against the recording in isolated mode. */
static tc_status check_one(const char *dir, const char *name, const char *cand, double tol, FILE *out, bool *pass,
                           tc_err *err)
{
    char path[4200], model[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    tc_dump *rec = NULL;
    cJSON *meta = NULL;
    tc_model *m = NULL;
    tc_engine *e = NULL;
    tc_compare_result res = { 0 };
    *pass = false;
    tc_tcv v;
    tc_status s = tc_tcv_read(path, &v, err);
    if (s) return s;
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v.meta, "kind"));
    if (kind && !strcmp(kind, "kernel")) {   /* a kernel vector: the engine's kernel table, not the engine */
        s = check_kernel_vector(path, name, &v, cand, out, pass, err);
        tc_tcv_free(&v);
        return s;
    }
    s = vector_to_recording(&v, path, &rec, err);
    meta = v.meta;
    v.meta = NULL;
    tc_tcv_free(&v);
    if (s) {
        cJSON_Delete(meta);
        return s;
    }
    const char *tmpdir = getenv("TMPDIR");
    snprintf(model, sizeof model, "%s/tc-vector-%ld-%s.gguf", tmpdir && *tmpdir ? tmpdir : "/tmp", (long)getpid(), name);
    s = gen_recipe_model(meta, model, err);
    char sha[65] = "";
    const char *want = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "model_sha256"));
    if (!s) tc_sha256_file(model, sha, NULL);
    if (!s && want && strcmp(sha, want))
        s = tc_fail(err, TC_E_MODEL, "%s: the regenerated model has SHA-256 %.16s..., the vector was made on %.16s...",
                    path, sha, want);
    tc_engine_opts eo;
    tc_engine_opts_default(&eo);
    const char *prec = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "precision"));
    if (!s && prec && tc_precision_from_name(prec, &eo.precision))
        s = tc_fail(err, TC_E_FORMAT, "%s: meta: unknown precision %s", path, prec);
    if (!s) s = tc_model_load(model, &m, err);
    if (!s) s = tc_engine_open(cand, m, &eo, &e, err);
    if (s == TC_E_UNSUPPORTED) {   /* e.g. fp32 on an engine that only runs i2s */
        if (out) fprintf(out, "%-32s %-6s skipped: %s\n", name, prec ? prec : "", err ? err->msg : "");
        *pass = true;
        s = TC_OK;
    } else if (!s) {
        size_t n;
        const int32_t *tok = tc_dump_tokens(rec, &n);
        tc_compare_opts co;
        tc_compare_opts_default(&co);
        co.tol = tol;
        co.determinism = false;
        const cJSON *pt = cJSON_GetObjectItemCaseSensitive(meta, "prompt_tokens");
        co.n_prompt = cJSON_IsNumber(pt) ? (uint32_t)pt->valuedouble : (uint32_t)n;
        s = tc_compare(e, rec, tok, (uint32_t)n, &co, &res, err);
        if (!s) {
            /* a fused engine may show fewer taps (unmatched); every tap it
             * shows must be in the vector */
            *pass = res.pass && res.n_missing == 0;
            double worst = 0.0;
            const char *wt = "";
            for (size_t i = 0; i < res.n_taps; i++)
                if (res.taps[i].scaled > worst) worst = res.taps[i].scaled, wt = res.taps[i].name;
            if (out) {
                fprintf(out, "%-32s %-6s %3zu taps, worst %s %.3g  %s", name, prec ? prec : "", res.n_taps, wt, worst,
                        *pass ? "PASS" : "FAIL");
                if (!res.pass && res.first_fail != SIZE_MAX) fprintf(out, " (first failure %s)", res.taps[res.first_fail].name);
                if (res.n_missing) fprintf(out, " (%zu taps not in the vector)", res.n_missing);
                fputc('\n', out);
            }
        }
    }
    unlink(model);
    tc_compare_result_free(&res);
    tc_engine_free(e);
    tc_model_free(m);
    tc_dump_free(rec);
    cJSON_Delete(meta);
    return s;
}

tc_status tc_vectors_check(const char *dir, const char *cand, double tol, FILE *out, bool *all_pass, tc_err *err)
{
    char **names = NULL;
    size_t n = 0;
    *all_pass = false;
    tc_status s = list_vectors(dir, &names, &n, err);
    if (s) return s;
    bool all = n > 0;
    for (size_t i = 0; i < n && !s; i++) {
        bool pass;
        s = check_one(dir, names[i], cand, tol, out, &pass, err);
        all &= pass;
    }
    if (!s && n == 0) s = tc_fail(err, TC_E_USAGE, "%s: no *.tcv.gz vectors", dir);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    *all_pass = all;
    return s;
}

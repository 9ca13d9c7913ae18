/* vectors.c -- golden vectors (format in vectors.h). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

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

static const char tcv_magic[8] = { 'T', 'C', 'V', 'E', 'C', '1', '\n', '\0' };

enum { DT_F32 = 0, DT_I8 = 1, DT_I32 = 2, DT_U16 = 3 };

/* ---- writing: build the image in memory, then gzip it atomically ---- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
} buf;

static void put(buf *b, const void *x, size_t n)
{
    if (b->oom) return;
    if (n > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap - b->n < n) cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np) { b->oom = true; return; }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, x, n);
    b->n += n;
}

static void put_u32(buf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(buf *b, uint64_t v) { put(b, &v, 8); }

static void put_entry(buf *b, const char *name, uint32_t dtype, uint64_t rows, uint64_t width, const void *data)
{
    put_u32(b, (uint32_t)strlen(name));
    put(b, name, strlen(name));
    put_u32(b, dtype);
    put_u32(b, 2);
    put_u64(b, rows);
    put_u64(b, width);
    put(b, data, (size_t)(rows * width * (dtype == DT_F32 || dtype == DT_I32 ? 4 : dtype == DT_U16 ? 2 : 1)));
}

/* Start an image: magic, version, meta, entry count. */
static bool begin_image(buf *b, const cJSON *meta, uint32_t n_entries)
{
    char *m = cJSON_PrintUnformatted(meta);
    if (!m) return false;
    put(b, tcv_magic, 8);
    put_u32(b, 1);
    put_u32(b, (uint32_t)strlen(m));
    put(b, m, strlen(m));
    free(m);
    put_u32(b, n_entries);
    return !b->oom;
}

/* Finish an image with its CRC and gzip it into path atomically; frees b. */
static tc_status finish_image(buf *b, const char *path, tc_err *err)
{
    if (b->oom) {
        free(b->p);
        return tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    }
    put_u32(b, (uint32_t)crc32(0L, b->p, (uInt)b->n));
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    gzFile f = gzopen(tmp, "wb9");
    tc_status s = TC_OK;
    if (!f || b->oom || gzwrite(f, b->p, (unsigned)b->n) != (int)b->n) s = tc_fail(err, TC_E_IO, "%s: cannot write", tmp);
    if (f && gzclose(f) != Z_OK && !s) s = tc_fail(err, TC_E_IO, "%s: cannot write", tmp);
    if (!s && rename(tmp, path) != 0) s = tc_fail(err, TC_E_IO, "%s: cannot rename into place: %s", path, strerror(errno));
    if (s) unlink(tmp);
    free(b->p);
    return s;
}

tc_status tc_tcv_write(const char *path, const cJSON *meta, const tc_dump *d, tc_err *err)
{
    buf b = { 0 };
    uint32_t n = 0;
    for (size_t i = 0; i < tc_dump_n_taps(d); i++) n += tc_dump_get(d, i)->kind == TC_TAP_Q8 ? 2 : 1;
    if (!begin_image(&b, meta, n)) {
        free(b.p);
        return tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    }
    for (size_t i = 0; i < tc_dump_n_taps(d); i++) {
        const tc_dump_tap *t = tc_dump_get(d, i);
        if (t->kind == TC_TAP_F32) {
            put_entry(&b, t->name, DT_F32, t->n_pos, t->width, t->f);
        } else {
            char sname[96];
            snprintf(sname, sizeof sname, "%s.scale", t->name);
            put_entry(&b, t->name, DT_I8, t->n_pos, t->width, t->q8);
            put_entry(&b, sname, DT_F32, t->n_pos, 1, t->scale);
        }
    }
    return finish_image(&b, path, err);
}

/* ---- reading: everything bounds-checked, the CRC first ---- */

typedef struct rd {
    const uint8_t *p;
    size_t n, off;
    const char *path;
    tc_err *err;
} rd;

static tc_status take(rd *r, void *dst, size_t n, const char *what)
{
    if (n > r->n - r->off)
        return tc_fail(r->err, TC_E_FORMAT, "%s: %s at byte %zu: expected %zu bytes, the vector ends at %zu", r->path,
                       what, r->off, n, r->n);
    if (dst) memcpy(dst, r->p + r->off, n);
    r->off += n;
    return TC_OK;
}

static size_t dtype_size(uint32_t dt) { return dt == DT_F32 || dt == DT_I32 ? 4 : dt == DT_U16 ? 2 : 1; }

/* One entry, parsed; data points into the vector's buffer. */
typedef struct tcv_entry {
    char name[128];
    uint32_t dtype, nd;
    uint64_t dims[4], count;
    const uint8_t *data;   /* an aligned copy of the entry's bytes (owned) */
} tcv_entry;

/* A whole vector in memory. */
typedef struct tcv {
    uint8_t *buf;
    cJSON *meta;
    tcv_entry *e;
    uint32_t n;
} tcv;

static void tcv_free(tcv *v)
{
    free(v->buf);
    for (uint32_t i = 0; v->e && i < v->n; i++) free((void *)v->e[i].data);
    free(v->e);
    cJSON_Delete(v->meta);
    memset(v, 0, sizeof *v);
}

static const tcv_entry *tcv_find(const tcv *v, const char *name)
{
    for (uint32_t i = 0; i < v->n; i++)
        if (!strcmp(v->e[i].name, name)) return &v->e[i];
    return NULL;
}

static tc_status read_entry(rd *r, tcv_entry *e, tc_err *err)
{
    uint32_t len;
    tc_status s;
    memset(e, 0, sizeof *e);
    if ((s = take(r, &len, 4, "entry name length"))) return s;
    if (len == 0 || len >= sizeof e->name)
        return tc_fail(err, TC_E_FORMAT, "%s: entry name at byte %zu: expected 1..127 bytes, found %" PRIu32, r->path,
                       r->off, len);
    if ((s = take(r, e->name, len, "entry name"))) return s;
    if ((s = take(r, &e->dtype, 4, e->name)) || (s = take(r, &e->nd, 4, e->name))) return s;
    if (e->dtype > DT_U16 || e->nd < 1 || e->nd > 4)
        return tc_fail(err, TC_E_FORMAT, "%s: entry %s: dtype %" PRIu32 " / %" PRIu32 " dims (expected 0..3 / 1..4)",
                       r->path, e->name, e->dtype, e->nd);
    e->count = 1;
    for (uint32_t i = 0; i < 4; i++) e->dims[i] = 1;
    for (uint32_t i = 0; i < e->nd; i++) {
        if ((s = take(r, &e->dims[i], 8, e->name))) return s;
        if (e->dims[i] == 0 || e->dims[i] > (1ull << 32) || e->count > (1ull << 40) / e->dims[i])
            return tc_fail(err, TC_E_FORMAT, "%s: entry %s: dimension %" PRIu32 " is %" PRIu64, r->path, e->name, i,
                           e->dims[i]);
        e->count *= e->dims[i];
    }
    /* entries start at any byte of the file: copy each into its own
     * allocation so that float and int32 loads are aligned */
    size_t bytes = (size_t)e->count * dtype_size(e->dtype);
    const uint8_t *src = r->p + r->off;
    if ((s = take(r, NULL, bytes, e->name))) return s;
    uint8_t *own = malloc(bytes ? bytes : 1);
    if (!own) return tc_fail(err, TC_E_NOMEM, "%s: entry %s: out of memory", r->path, e->name);
    memcpy(own, src, bytes);
    e->data = own;
    return TC_OK;
}

static tc_status tcv_parse(const char *path, tcv *v, tc_err *err)
{
    memset(v, 0, sizeof *v);
    gzFile f = gzopen(path, "rb");
    if (!f) return tc_fail(err, TC_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 20, n = 0;
    uint8_t *p = malloc(cap);
    int k;
    while (p && (k = gzread(f, p + n, (unsigned)(cap - n))) > 0) {
        n += (size_t)k;
        if (n == cap) {
            if (cap >= ((size_t)1 << 31)) break;
            uint8_t *np = realloc(p, cap *= 2);
            if (!np) { free(p); p = NULL; }
            p = np;
        }
    }
    int zerr;
    const char *zmsg = gzerror(f, &zerr);
    bool bad = zerr != Z_OK && zerr != Z_STREAM_END;
    char zbuf[128];
    snprintf(zbuf, sizeof zbuf, "%s", zmsg ? zmsg : "");
    gzclose(f);
    if (!p) return tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    v->buf = p;
    if (bad) return tcv_free(v), tc_fail(err, TC_E_FORMAT, "%s: gzip stream damaged: %s", path, zbuf);
    if (n < 8 + 4 + 4 + 4 + 4 || memcmp(p, tcv_magic, 8) != 0)
        return tcv_free(v), tc_fail(err, TC_E_FORMAT, "%s: magic at byte 0: expected \"TCVEC1\" (a tritcheck golden vector)", path);
    uint32_t stored, crc = (uint32_t)crc32(0L, p, (uInt)(n - 4));
    memcpy(&stored, p + n - 4, 4);
    if (stored != crc)
        return tcv_free(v), tc_fail(err, TC_E_FORMAT, "%s: CRC-32 at byte %zu: expected %08" PRIx32 " (of the %zu bytes "
                                    "before it), found %08" PRIx32 ": the vector is damaged", path, n - 4, crc, n - 4, stored);
    rd r = { p, n - 4, 8, path, err };
    uint32_t ver, mlen;
    tc_status s;
    if ((s = take(&r, &ver, 4, "version"))) return tcv_free(v), s;
    if (ver != 1) return tcv_free(v), tc_fail(err, TC_E_FORMAT, "%s: version at byte 8: expected 1, found %" PRIu32, path, ver);
    if ((s = take(&r, &mlen, 4, "meta length"))) return tcv_free(v), s;
    const char *mtext = (const char *)r.p + r.off;
    if ((s = take(&r, NULL, mlen, "meta"))) return tcv_free(v), s;
    if (!(v->meta = cJSON_ParseWithLength(mtext, mlen)))
        return tcv_free(v), tc_fail(err, TC_E_FORMAT, "%s: meta at byte 16: expected JSON", path);
    if ((s = take(&r, &v->n, 4, "entry count"))) return tcv_free(v), s;
    if (v->n > (r.n - r.off) / 17)   /* each entry needs at least 17 bytes */
        return tcv_free(v), tc_fail(err, TC_E_FORMAT, "%s: entry count %" PRIu32 " cannot fit", path, v->n);
    v->e = calloc(v->n ? v->n : 1, sizeof *v->e);
    if (!v->e) return tcv_free(v), tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    for (uint32_t i = 0; i < v->n; i++)
        if ((s = read_entry(&r, &v->e[i], err))) return tcv_free(v), s;
    if (r.off != r.n) return tcv_free(v), tc_fail(err, TC_E_FORMAT, "%s: %zu bytes after the last entry", path, r.n - r.off);
    return TC_OK;
}

/* A model vector's entries as taps: float rows, or i8 codes NAME followed
 * by NAME.scale (f32, one per row). */
static tc_status tcv_to_dump(const tcv *v, const char *path, tc_dump *d, tc_err *err)
{
    for (uint32_t i = 0; i < v->n; i++) {
        const tcv_entry *e = &v->e[i];
        uint64_t rows = e->dims[0], width = e->count / rows;
        tc_tap tap = { .name = e->name, .layer = -1, .pos0 = 0, .n_pos = (uint32_t)rows, .width = (uint32_t)width };
        tc_status s;
        if (e->dtype == DT_F32) {
            tap.kind = TC_TAP_F32;
            tap.f = (float *)e->data;   /* tc_dump_tap_fn copies */
        } else if (e->dtype == DT_I8) {
            char sname[160];
            snprintf(sname, sizeof sname, "%s.scale", e->name);
            const tcv_entry *sc = i + 1 < v->n ? &v->e[i + 1] : NULL;
            if (!sc || strcmp(sc->name, sname) || sc->dtype != DT_F32 || sc->count != rows)
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

tc_status tc_tcv_read(const char *path, tc_dump **out, cJSON **meta_out, tc_err *err)
{
    *out = NULL;
    *meta_out = NULL;
    tcv v;
    tc_status s = tcv_parse(path, &v, err);
    if (s) return s;
    tc_dump *d = tc_dump_new();
    if (!d) s = tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    if (!s) s = tcv_to_dump(&v, path, d, err);
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(v.meta, "tokens")) {
        if (s) break;
        int32_t id = (int32_t)t->valuedouble;
        s = tc_dump_add_tokens(d, &id, 1, err);
    }
    if (s) {
        tc_dump_free(d);
        tcv_free(&v);
        return s;
    }
    *out = d;
    *meta_out = v.meta;
    v.meta = NULL;
    tcv_free(&v);
    return TC_OK;
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

/* One case of kernel k: random inputs from r, the reference's outputs, as
 * entries c<case>.<name> appended to b. */
static bool gen_case(buf *b, enum kid k, unsigned c, gsl_rng *r)
{
    const kshape *sh = &kshapes[k][c];
    char nm[32];
    bool ok = true;
    if (k == K_I2S) {
        size_t wb = (size_t)sh->rows * sh->K / 4;
        uint8_t *w = malloc(wb);
        int8_t *q = malloc((size_t)sh->n * sh->K);
        int32_t *o = malloc((size_t)sh->n * sh->rows * 4);
        if ((ok = w && q && o)) {
            for (size_t i = 0; i < wb; i++) {   /* codes 0..2: code 3 is cleaned at load */
                unsigned byte = 0;
                for (int g = 0; g < 4; g++) byte = byte << 2 | (unsigned)gsl_rng_uniform_int(r, 3);
                w[i] = (uint8_t)byte;
            }
            for (size_t i = 0; i < (size_t)sh->n * sh->K; i++)   /* the whole int8 range */
                q[i] = (int8_t)((int)gsl_rng_uniform_int(r, 256) - 128);
            for (uint32_t t = 0; t < sh->n; t++)
                for (uint32_t row = 0; row < sh->rows; row++)
                    o[(size_t)t * sh->rows + row] =
                        (int32_t)tc_ref_i2s_dot_q8(w + (size_t)row * sh->K / 4, q + (size_t)t * sh->K, sh->K);
            ename(nm, sizeof nm, c, "w"); put_entry(b, nm, DT_I8, sh->rows, sh->K / 4, w);
            ename(nm, sizeof nm, c, "q"); put_entry(b, nm, DT_I8, sh->n, sh->K, q);
            ename(nm, sizeof nm, c, "out"); put_entry(b, nm, DT_I32, sh->n, sh->rows, o);
        }
        free(w); free(q); free(o);
    } else if (k == K_NORM) {
        size_t n = (size_t)sh->rows * sh->K;
        float *x = malloc(n * 4), *w = malloc(sh->K * 4), *h = malloc(sh->K * 4), *sc = malloc(sh->rows * 4);
        int8_t *q = malloc(n);
        if ((ok = x && w && h && sc && q)) {
            for (size_t i = 0; i < n; i++) x[i] = (float)gsl_ran_gaussian(r, 2.385);
            x[0] = 1e-40f;   /* a denormal */
            for (uint32_t i = 0; i < sh->K; i++) w[i] = (float)(0.75 + 0.5 * gsl_rng_uniform(r));
            for (uint32_t t = 0; t < sh->rows; t++) {
                tc_ref_rmsnorm(x + (size_t)t * sh->K, w, sh->K, KV_EPS, h);
                sc[t] = tc_ref_quantize_q8(h, sh->K, q + (size_t)t * sh->K);
            }
            ename(nm, sizeof nm, c, "x"); put_entry(b, nm, DT_F32, sh->rows, sh->K, x);
            ename(nm, sizeof nm, c, "w"); put_entry(b, nm, DT_F32, 1, sh->K, w);
            ename(nm, sizeof nm, c, "q"); put_entry(b, nm, DT_I8, sh->rows, sh->K, q);
            ename(nm, sizeof nm, c, "s"); put_entry(b, nm, DT_F32, sh->rows, 1, sc);
        }
        free(x); free(w); free(h); free(sc); free(q);
    } else if (k == K_F16) {
        size_t nw = (size_t)sh->rows * sh->K;
        uint16_t *w = malloc(nw * 2);
        float *x = malloc((size_t)sh->n * sh->K * 4), *row = malloc(sh->K * 4), *y = malloc((size_t)sh->n * sh->rows * 4);
        if ((ok = w && x && row && y)) {
            for (size_t i = 0; i < nw; i++) w[i] = tc_f32_to_f16((float)gsl_ran_gaussian(r, 0.05));
            for (size_t i = 0; i < (size_t)sh->n * sh->K; i++) x[i] = (float)gsl_ran_gaussian(r, 1.0);
            for (uint32_t rr = 0; rr < sh->rows; rr++) {
                for (uint32_t i = 0; i < sh->K; i++) row[i] = tc_f16_to_f32(w[(size_t)rr * sh->K + i]);
                for (uint32_t t = 0; t < sh->n; t++)
                    y[(size_t)t * sh->rows + rr] = (float)tc_ref_dot(row, x + (size_t)t * sh->K, sh->K);
            }
            ename(nm, sizeof nm, c, "w"); put_entry(b, nm, DT_U16, sh->rows, sh->K, w);
            ename(nm, sizeof nm, c, "x"); put_entry(b, nm, DT_F32, sh->n, sh->K, x);
            ename(nm, sizeof nm, c, "y"); put_entry(b, nm, DT_F32, sh->n, sh->rows, y);
        }
        free(w); free(x); free(row); free(y);
    } else {
        size_t hd = sh->K, nk = sh->n;
        float *q = malloc(hd * 4), *kk = malloc(nk * hd * 4), *v = malloc(nk * hd * 4), *o = malloc(hd * 4);
        double *scores = malloc(nk * sizeof *scores);
        if ((ok = q && kk && v && o && scores)) {
            for (size_t i = 0; i < hd; i++) q[i] = (float)gsl_ran_gaussian(r, 1.0);
            for (size_t i = 0; i < nk * hd; i++) {
                kk[i] = (float)gsl_ran_gaussian(r, 1.0);
                v[i] = (float)gsl_ran_gaussian(r, 1.0);
            }
            if (nk > 3) kk[hd] = -3e4f;   /* one large negative score */
            tc_ref_attention_head(q, kk, v, hd, nk, hd, scores, o);
            ename(nm, sizeof nm, c, "q"); put_entry(b, nm, DT_F32, 1, hd, q);
            ename(nm, sizeof nm, c, "k"); put_entry(b, nm, DT_F32, nk, hd, kk);
            ename(nm, sizeof nm, c, "v"); put_entry(b, nm, DT_F32, nk, hd, v);
            ename(nm, sizeof nm, c, "out"); put_entry(b, nm, DT_F32, 1, hd, o);
        }
        free(q); free(kk); free(v); free(o); free(scores);
    }
    return ok;
}

static const unsigned entries_per_case[K_COUNT] = { 3, 4, 3, 4 };

static tc_status gen_kernel_vectors(const char *dir, FILE *out, tc_err *err)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r) return tc_fail(err, TC_E_NOMEM, "vectors: out of memory");
    tc_status s = TC_OK;
    for (int k = 0; k < K_COUNT && !s; k++) {
        gsl_rng_set(r, 2385 + (unsigned long)k);
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
        buf b = { 0 };
        bool ok = begin_image(&b, meta, N_CASES * entries_per_case[k]);
        for (unsigned c = 0; c < N_CASES && ok; c++) ok = gen_case(&b, (enum kid)k, c, r);
        cJSON_Delete(meta);
        char path[4200];
        snprintf(path, sizeof path, "%s/kernel-%s.tcv.gz", dir, kernel_names[k]);
        if (!ok) b.oom = true;
        s = finish_image(&b, path, err);
        if (!s && out) fprintf(out, "%s: %d cases\n", path, N_CASES);
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

static const tcv_entry *need_entry(const tcv *v, unsigned c, const char *what, uint32_t dtype, uint64_t count,
                                   const char *path, tc_err *err)
{
    char nm[32];
    ename(nm, sizeof nm, c, what);
    const tcv_entry *e = tcv_find(v, nm);
    if (!e || e->dtype != dtype || e->count != count) {
        tc_fail(err, TC_E_FORMAT, "%s: entry %s: expected dtype %" PRIu32 " with %" PRIu64 " elements", path, nm, dtype, count);
        return NULL;
    }
    return e;
}

/* Run case c of kernel k with table kt (NULL: the reference kernels) and
 * compare with the recorded outputs: integers and codes exactly, floats
 * within tol scaled (by sum |w x| for dot products, max |v| for attention). */
static tc_status check_case(const tcv *v, const char *path, enum kid k, unsigned c, const kshape *sh,
                            const tc_fast_kernels *kt, double tol, double *worst, bool *pass, tc_err *err)
{
    const tcv_entry *e[4] = { 0 };
    tc_status s = TC_OK;
    *pass = true;
    if (k == K_I2S) {
        if (!(e[0] = need_entry(v, c, "w", DT_I8, (uint64_t)sh->rows * sh->K / 4, path, err)) ||
            !(e[1] = need_entry(v, c, "q", DT_I8, (uint64_t)sh->n * sh->K, path, err)) ||
            !(e[2] = need_entry(v, c, "out", DT_I32, (uint64_t)sh->n * sh->rows, path, err)))
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
        if (!(e[0] = need_entry(v, c, "x", DT_F32, n, path, err)) || !(e[1] = need_entry(v, c, "w", DT_F32, sh->K, path, err)) ||
            !(e[2] = need_entry(v, c, "q", DT_I8, n, path, err)) || !(e[3] = need_entry(v, c, "s", DT_F32, sh->rows, path, err)))
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
            memcpy(&want, e[3]->data + 4 * t, 4);
            if (sc != want || memcmp(q, e[2]->data + (size_t)t * sh->K, sh->K) || !guard_ok(q + sh->K, KV_GUARD))
                *pass = false;
        }
        free(q);
        free(h);
    } else if (k == K_F16) {
        if (!(e[0] = need_entry(v, c, "w", DT_U16, (uint64_t)sh->rows * sh->K, path, err)) ||
            !(e[1] = need_entry(v, c, "x", DT_F32, (uint64_t)sh->n * sh->K, path, err)) ||
            !(e[2] = need_entry(v, c, "y", DT_F32, (uint64_t)sh->n * sh->rows, path, err)))
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
        if (!(e[0] = need_entry(v, c, "q", DT_F32, hd, path, err)) || !(e[1] = need_entry(v, c, "k", DT_F32, nk * hd, path, err)) ||
            !(e[2] = need_entry(v, c, "v", DT_F32, nk * hd, path, err)) || !(e[3] = need_entry(v, c, "out", DT_F32, hd, path, err)))
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

static tc_status check_kernel_vector(const char *path, const char *name, tcv *v, const char *cand, FILE *out,
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
            s = tc_tcv_write(path, meta, d, err);
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
    tcv v;
    tc_status s = tcv_parse(path, &v, err);
    if (s) return s;
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v.meta, "kind"));
    if (kind && !strcmp(kind, "kernel")) {   /* a kernel vector: the engine's kernel table, not the engine */
        s = check_kernel_vector(path, name, &v, cand, out, pass, err);
        tcv_free(&v);
        return s;
    }
    tcv_free(&v);
    s = tc_tcv_read(path, &rec, &meta, err);
    if (s) return s;
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

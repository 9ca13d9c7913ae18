/* vectors.c -- golden vectors (format in vectors.h). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "compare.h"
#include "gen.h"
#include "receipt.h"
#include "run.h"
#include "sha256.h"
#include "vectors.h"

static const char tcv_magic[8] = { 'T', 'C', 'V', 'E', 'C', '1', '\n', '\0' };

enum { DT_F32 = 0, DT_I8 = 1 };

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
    put(b, data, (size_t)(rows * width * (dtype == DT_F32 ? 4 : 1)));
}

tc_status tc_tcv_write(const char *path, const cJSON *meta, const tc_dump *d, tc_err *err)
{
    buf b = { 0 };
    char *m = cJSON_PrintUnformatted(meta);
    if (!m) return tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    put(&b, tcv_magic, 8);
    put_u32(&b, 1);
    put_u32(&b, (uint32_t)strlen(m));
    put(&b, m, strlen(m));
    free(m);
    uint32_t n = 0;
    for (size_t i = 0; i < tc_dump_n_taps(d); i++) n += tc_dump_get(d, i)->kind == TC_TAP_Q8 ? 2 : 1;
    put_u32(&b, n);
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
    if (b.oom) {
        free(b.p);
        return tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    }
    put_u32(&b, (uint32_t)crc32(0L, b.p, (uInt)b.n));
    /* gzip into a temporary beside path, then rename */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    gzFile f = gzopen(tmp, "wb9");
    tc_status s = TC_OK;
    if (!f || gzwrite(f, b.p, (unsigned)b.n) != (int)b.n) s = tc_fail(err, TC_E_IO, "%s: cannot write", tmp);
    if (f && gzclose(f) != Z_OK && !s) s = tc_fail(err, TC_E_IO, "%s: cannot write", tmp);
    if (!s && rename(tmp, path) != 0) s = tc_fail(err, TC_E_IO, "%s: cannot rename into place: %s", path, strerror(errno));
    if (s) unlink(tmp);
    free(b.p);
    return s;
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

static tc_status read_entry(rd *r, tc_dump *d, cJSON *pending_q8, tc_err *err)
{
    uint32_t len, dtype, nd;
    uint64_t dims[4] = { 1, 1, 1, 1 };
    char name[128];
    tc_status s;
    if ((s = take(r, &len, 4, "entry name length"))) return s;
    if (len == 0 || len >= sizeof name)
        return tc_fail(err, TC_E_FORMAT, "%s: entry name at byte %zu: expected 1..127 bytes, found %" PRIu32, r->path,
                       r->off, len);
    if ((s = take(r, name, len, "entry name"))) return s;
    name[len] = '\0';
    if ((s = take(r, &dtype, 4, name)) || (s = take(r, &nd, 4, name))) return s;
    if (dtype > DT_I8 || nd < 1 || nd > 4)
        return tc_fail(err, TC_E_FORMAT, "%s: entry %s: dtype %" PRIu32 " / %" PRIu32 " dims (expected 0..1 / 1..4)",
                       r->path, name, dtype, nd);
    uint64_t count = 1;
    for (uint32_t i = 0; i < nd; i++) {
        if ((s = take(r, &dims[i], 8, name))) return s;
        if (dims[i] == 0 || dims[i] > (1ull << 32) || count > (1ull << 40) / dims[i])
            return tc_fail(err, TC_E_FORMAT, "%s: entry %s: dimension %" PRIu32 " is %" PRIu64, r->path, name, i, dims[i]);
        count *= dims[i];
    }
    size_t bytes = (size_t)count * (dtype == DT_F32 ? 4 : 1);
    const uint8_t *data = r->p + r->off;
    if ((s = take(r, NULL, bytes, name))) return s;
    uint64_t rows = dims[0], width = count / rows;
    /* a tap: float rows, or i8 codes followed by NAME.scale */
    size_t nl = strlen(name);
    if (nl > 6 && !strcmp(name + nl - 6, ".scale")) {
        const char *qn = cJSON_GetStringValue(pending_q8);
        if (!qn || strncmp(qn, name, nl - 6) || strlen(qn) != nl - 6)
            return tc_fail(err, TC_E_FORMAT, "%s: entry %s: expected right after its codes", r->path, name);
        cJSON_SetValuestring(pending_q8, "");
        return TC_OK;   /* the scales were attached with the codes */
    }
    tc_tap tap = { .name = name, .layer = -1, .pos0 = 0, .n_pos = (uint32_t)rows, .width = (uint32_t)width };
    if (dtype == DT_F32) {
        tap.kind = TC_TAP_F32;
        tap.f = (float *)data;   /* tc_dump_tap_fn copies */
        return tc_dump_tap_fn(d, &tap, err);
    }
    /* codes: the scales follow as the next entry; peek at it */
    rd peek = *r;
    uint32_t sl, sdt, snd;
    uint64_t sr, sw;
    char sname[128];
    if (take(&peek, &sl, 4, "scale") || sl >= sizeof sname || take(&peek, sname, sl, "scale") ||
        take(&peek, &sdt, 4, "scale") || take(&peek, &snd, 4, "scale") || snd != 2 || sdt != DT_F32 ||
        take(&peek, &sr, 8, "scale") || take(&peek, &sw, 8, "scale") || sr != rows || sw != 1 ||
        peek.n - peek.off < rows * 4)
        return tc_fail(err, TC_E_FORMAT, "%s: entry %s: expected its %s.scale entry (f32 [%" PRIu64 "][1]) next",
                       r->path, name, name, rows);
    tap.kind = TC_TAP_Q8;
    tap.q8 = (int8_t *)data;
    tap.scale = (float *)(peek.p + peek.off);
    cJSON_SetValuestring(pending_q8, name);
    return tc_dump_tap_fn(d, &tap, err);
}

tc_status tc_tcv_read(const char *path, tc_dump **out, cJSON **meta_out, tc_err *err)
{
    *out = NULL;
    *meta_out = NULL;
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
    if (bad) {
        free(p);
        return tc_fail(err, TC_E_FORMAT, "%s: gzip stream damaged: %s", path, zbuf);
    }
    tc_status s = TC_OK;
    if (n < 8 + 4 + 4 + 4 + 4 || memcmp(p, tcv_magic, 8) != 0) {
        s = tc_fail(err, TC_E_FORMAT, "%s: magic at byte 0: expected \"TCVEC1\" (a tritcheck golden vector)", path);
        goto out;
    }
    uint32_t stored, crc = (uint32_t)crc32(0L, p, (uInt)(n - 4));
    memcpy(&stored, p + n - 4, 4);
    if (stored != crc) {
        s = tc_fail(err, TC_E_FORMAT, "%s: CRC-32 at byte %zu: expected %08" PRIx32 " (of the %zu bytes before it), "
                    "found %08" PRIx32 ": the vector is damaged", path, n - 4, crc, n - 4, stored);
        goto out;
    }
    rd r = { p, n - 4, 8, path, err };
    uint32_t ver, mlen, ne;
    if ((s = take(&r, &ver, 4, "version"))) goto out;
    if (ver != 1) {
        s = tc_fail(err, TC_E_FORMAT, "%s: version at byte 8: expected 1, found %" PRIu32, path, ver);
        goto out;
    }
    if ((s = take(&r, &mlen, 4, "meta length"))) goto out;
    const char *mtext = (const char *)r.p + r.off;
    if ((s = take(&r, NULL, mlen, "meta"))) goto out;
    cJSON *meta = cJSON_ParseWithLength(mtext, mlen);
    if (!meta) {
        s = tc_fail(err, TC_E_FORMAT, "%s: meta at byte 16: expected JSON", path);
        goto out;
    }
    tc_dump *d = tc_dump_new();
    cJSON *pending = cJSON_CreateString("");
    if (!d || !pending) s = tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    if (!s) s = take(&r, &ne, 4, "entry count");
    for (uint32_t i = 0; i < ne && !s; i++) s = read_entry(&r, d, pending, err);
    if (!s && r.off != r.n) s = tc_fail(err, TC_E_FORMAT, "%s: %zu bytes after the last entry", path, r.n - r.off);
    const cJSON *toks = cJSON_GetObjectItemCaseSensitive(meta, "tokens"), *t;
    cJSON_ArrayForEach(t, toks) {
        if (s) break;
        int32_t id = (int32_t)t->valuedouble;
        s = tc_dump_add_tokens(d, &id, 1, err);
    }
    cJSON_Delete(pending);
    if (s) {
        tc_dump_free(d);
        cJSON_Delete(meta);
        goto out;
    }
    *out = d;
    *meta_out = meta;
out:
    free(p);
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
    tc_status s = tc_tcv_read(path, &rec, &meta, err);
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

/* vectors.c -- golden vectors (vectors.h): the model vectors, made by
 * recording the reference engine and checked by an isolated comparison;
 * the kernel vectors are kvectors.c's.  The file format is
 * format/tcv.h's: the conversion between a recording and its entries is
 * here, above the engine layer's recordings. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/num.h"
#include "base/sha256.h"
#include "check/compare.h"
#include "check/kvectors.h"
#include "check/vectors.h"
#include "engine/dump.h"
#include "engine/registry.h"
#include "format/input.h"
#include "format/tcv.h"
#include "tools/gen.h"

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

/* A read model vector as a recording, its tokens from meta.tokens
 * (checked by check_model_meta). */
static tc_status vector_to_recording(const tc_tcv *v, const char *path, tc_dump **out, tc_err *err)
{
    tc_dump *d = tc_dump_new();
    tc_status s = d ? entries_to_dump(v, path, d, err) : tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(v->meta, "tokens")) {
        int32_t id;
        if (s) break;
        if (!tc_num_to_i32(cJSON_IsNumber(t) ? t->valuedouble : NAN, 0, INT32_MAX, &id))
            s = tc_fail(err, TC_E_FORMAT, "%s: meta.tokens: expected token ids", path);
        else
            s = tc_dump_add_tokens(d, &id, 1, err);
    }
    if (s) tc_dump_free(d);
    else *out = d;
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

/* The model a vector's meta describes (preset, arch, seed, act), as gen
 * options: nothing is written. */
static tc_status recipe_opts(const cJSON *meta, tc_gen_opts *g, tc_err *err)
{
    const char *preset = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "preset"));
    const char *arch = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "arch"));
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(meta, "seed");
    int64_t sd;
    if (!preset || !arch || !cJSON_IsNumber(seed) || !tc_num_to_i64(seed->valuedouble, 0, (int64_t)1 << 53, &sd))
        return tc_fail(err, TC_E_FORMAT, "vector meta: expected preset, arch and seed (an integer 0..2^53)");
    tc_status s = tc_gen_preset(preset, g, err);
    if (s) return s;
    g->arch = arch;
    g->seed = (uint64_t)sd;
    const char *act = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "act"));
    g->silu = act && !strcmp(act, "silu");
    return tc_gen_check(g, err);
}

static tc_status gen_recipe_model(const cJSON *meta, const char *path, tc_err *err)
{
    tc_gen_opts g;
    tc_status s = recipe_opts(meta, &g, err);
    return s ? s : tc_gen_write(&g, path, err);
}

/* The cheap checks of a model vector, before its model is made (which
 * for a large preset is a gigabyte on disk): the model's SHA-256 is there
 * to compare with (a vector without it would check any model), the
 * tokens are ids of the preset's vocabulary, and every entry has the
 * width its tap has in the preset's shape and no more rows than tokens. */
static tc_status check_model_meta(const tc_tcv *v, const char *path, tc_gen_opts *g, tc_err *err)
{
    const cJSON *meta = v->meta;
    const char *sha = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "model_sha256"));
    unsigned char raw[32];
    if (!sha || strlen(sha) != 64 || !tc_hex_decode(sha, raw, 32))
        return tc_fail(err, TC_E_FORMAT, "%s: meta.model_sha256: expected the SHA-256 of the model the vector was "
                       "made on (64 hex digits)", path);
    tc_status s = recipe_opts(meta, g, err);
    if (s) {
        tc_err_prefix(err, path);
        return s;
    }
    const tc_hparams hp = { .n_vocab = g->n_vocab, .n_ctx = g->n_ctx, .n_embd = g->n_embd, .n_layer = g->n_layer,
                            .n_ff = g->n_ff, .n_head = g->n_head, .n_head_kv = g->n_head_kv,
                            .head_dim = g->n_embd / g->n_head };
    const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(meta, "tokens"), *t;
    size_t n_tok = 0;
    cJSON_ArrayForEach(t, tokens) {
        int32_t id;
        if (!cJSON_IsNumber(t) || !tc_num_to_i32(t->valuedouble, 0, (int32_t)hp.n_vocab - 1, &id))
            return tc_fail(err, TC_E_FORMAT, "%s: meta.tokens[%zu]: expected a token id of the preset %s's "
                           "vocabulary (0..%" PRIu32 ")", path, n_tok, g->name, hp.n_vocab - 1);
        n_tok++;
    }
    if (!cJSON_IsArray(tokens) || n_tok == 0 || n_tok > hp.n_ctx)
        return tc_fail(err, TC_E_FORMAT, "%s: meta.tokens: expected 1..%" PRIu32 " token ids", path, hp.n_ctx);
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(meta, "prompt_tokens");
    uint32_t np;
    if (pt && (!cJSON_IsNumber(pt) || !tc_num_to_u32(pt->valuedouble, 1, (uint32_t)n_tok, &np)))
        return tc_fail(err, TC_E_FORMAT, "%s: meta.prompt_tokens: expected 1..%zu", path, n_tok);
    for (size_t i = 0; i < v->n_entries; i++) {
        const tc_tcv_entry *e = &v->entries[i];
        tc_tap_id id;
        int layer;
        char name[TC_TCV_NAME_MAX];
        snprintf(name, sizeof name, "%s", e->name);
        size_t len = strlen(name);
        const bool scale = len > 6 && !strcmp(name + len - 6, ".scale");
        if (scale) name[len - 6] = '\0';
        if (e->dims[0] > n_tok)
            return tc_fail(err, TC_E_FORMAT, "%s: entry %s: %" PRIu64 " positions, but meta.tokens has %zu", path,
                           e->name, e->dims[0], n_tok);
        if (!tc_tap_parse(name, &id, &layer)) continue;   /* not a canonical tap: compared by name only */
        const uint64_t width = e->count / e->dims[0], want = scale ? 1 : tc_tap_width_of(id, &hp);
        if ((layer >= 0 && (uint32_t)layer >= hp.n_layer) || width != want)
            return tc_fail(err, TC_E_FORMAT, "%s: entry %s: %" PRIu64 " wide, but the preset %s (which the vector "
                           "would make its model from) has %s%" PRIu64 ": the vector does not fit its preset", path,
                           e->name, width, g->name, layer >= 0 && (uint32_t)layer >= hp.n_layer ? "no such block, " : "",
                           want);
    }
    return TC_OK;
}

/* The meta of recipe rc's vector, before the run adds what it recorded. */
static cJSON *recipe_meta(const recipe *rc)
{
    cJSON *meta = cJSON_CreateObject();
    cJSON_AddStringToObject(meta, "kind", "model");
    cJSON_AddStringToObject(meta, "generator", "tritcheck vectors generate: the ref engine's taps");
    cJSON_AddStringToObject(meta, "preset", rc->preset);
    cJSON_AddStringToObject(meta, "arch", rc->arch);
    cJSON_AddStringToObject(meta, "act", strcmp(rc->arch, "bitnet") ? "relu2" : "silu");
    cJSON_AddNumberToObject(meta, "seed", (double)rc->seed);
    cJSON_AddStringToObject(meta, "precision", rc->precision);
    return meta;
}

/* One model vector: the recipe's model made by gen (in dir, removed
 * after), the reference engine's taps recorded on its random tokens. */
static tc_status gen_model_vector(const char *dir, const recipe *rc, FILE *out, tc_err *err)
{
    char model[4200], path[4200];
    cJSON *meta = recipe_meta(rc);
    snprintf(model, sizeof model, "%s/.%s.gguf", dir, rc->name);
    tc_model *m = NULL;
    tc_engine *e = NULL;
    tc_dump *d = NULL;
    int32_t *tok = NULL;
    uint32_t n = rc->n_tokens;
    tc_engine_opts eo;
    tc_engine_opts_default(&eo);
    tc_status s = meta ? gen_recipe_model(meta, model, err) : tc_fail(err, TC_E_NOMEM, "vectors: out of memory");
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
    return s;
}

tc_status tc_vectors_generate(const char *dir, FILE *out, tc_err *err)
{
    tc_status s = TC_OK;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return tc_fail(err, TC_E_IO, "%s: cannot create: %s", dir, strerror(errno));
    for (size_t i = 0; i < sizeof recipes / sizeof recipes[0] && !s; i++) s = gen_model_vector(dir, &recipes[i], out, err);
    if (!s) s = tc_kvectors_generate(dir, out, err);
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

/* The isolated comparison of engine e against recording rec; its line. */
static tc_status compare_line(tc_engine *e, tc_dump *rec, const cJSON *meta, double tol, const char *name,
                              const char *prec, FILE *out, bool *pass, tc_err *err)
{
    size_t n;
    const int32_t *tok = tc_dump_tokens(rec, &n);
    tc_compare_opts co;
    tc_compare_opts_default(&co);
    co.tol = tol;
    co.determinism = false;
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(meta, "prompt_tokens");
    if (!cJSON_IsNumber(pt) || !tc_num_to_u32(pt->valuedouble, 1, (uint32_t)n, &co.n_prompt)) co.n_prompt = (uint32_t)n;
    tc_compare_result res = { 0 };
    tc_status s = tc_compare(e, rec, tok, (uint32_t)n, &co, &res, err);
    if (!s) {
        /* full coverage: every canonical tap of the model compared */
        *pass = res.verdict == TC_VERDICT_PASS;
        double worst = 0.0;
        const char *wt = "";
        for (size_t i = 0; i < res.n_taps; i++)
            if (res.taps[i].scaled > worst) worst = res.taps[i].scaled, wt = res.taps[i].name;
        if (out) {
            fprintf(out, "%-32s %-6s %3zu taps, worst %s %.3g  %s", name, prec ? prec : "", res.n_taps, wt, worst,
                    res.verdict == TC_VERDICT_PASS ? "PASS" : res.verdict == TC_VERDICT_FAIL ? "FAIL" : "INCOMPLETE");
            if (res.first_fail != SIZE_MAX) fprintf(out, " (first failure %s)", res.taps[res.first_fail].name);
            if (res.n_not_compared)
                fprintf(out, " (%zu taps not compared, the first %s: %s)", res.n_not_compared,
                        res.not_compared[0].name, res.not_compared[0].reason);
            fputc('\n', out);
        }
    }
    tc_compare_result_free(&res);
    return s;
}

/* One model vector: regenerate the model, check its hash, and compare the
 * candidate against the recording in isolated mode. */
static tc_status check_model_vector(const char *path, const char *name, tc_dump *rec, const cJSON *meta,
                                    const tc_gen_opts *g, const char *cand, double tol, FILE *out, bool *pass,
                                    tc_err *err)
{
    char model[4300];
    tc_model *m = NULL;
    tc_engine *e = NULL;
    const char *tmpdir = getenv("TMPDIR");
    snprintf(model, sizeof model, "%s/tc-vector-%ld-%s.gguf", tmpdir && *tmpdir ? tmpdir : "/tmp", (long)getpid(), name);
    tc_status s = tc_gen_write(g, model, err);
    char sha[65] = "";
    const char *want = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "model_sha256"));
    if (!s) tc_sha256_file(model, sha, NULL);
    if (!s && strcmp(sha, want ? want : ""))
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
        s = compare_line(e, rec, meta, tol, name, prec, out, pass, err);
    }
    unlink(model);
    tc_engine_free(e);
    tc_model_free(m);
    return s;
}

/* One vector of dir: a kernel vector on the candidate's kernel table, a
 * model vector on the candidate engine. */
static tc_status check_one(const char *dir, const char *name, const char *cand, double tol, FILE *out, bool *pass,
                           tc_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    *pass = false;
    tc_tcv v;
    tc_status s = tc_tcv_read(path, &v, err);
    if (s) return s;
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v.meta, "kind"));
    if (kind && !strcmp(kind, "kernel")) {
        s = tc_kvectors_check(path, name, &v, cand, out, pass, err);
    } else {
        tc_dump *rec = NULL;
        tc_gen_opts g;
        s = check_model_meta(&v, path, &g, err);
        if (!s) s = vector_to_recording(&v, path, &rec, err);
        if (!s) s = check_model_vector(path, name, rec, v.meta, &g, cand, tol, out, pass, err);
        tc_dump_free(rec);
    }
    tc_tcv_free(&v);
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

/* ---- single entries, for a job over a directory (vectors_job.c) ---- */

tc_status tc_vectors_list(const char *dir, char ***names, size_t *n, tc_err *err)
{
    return list_vectors(dir, names, n, err);
}

tc_status tc_vectors_check_one(const char *dir, const char *name, const char *cand, double tol, FILE *out, bool *pass,
                               tc_err *err)
{
    return check_one(dir, name, cand, tol, out, pass, err);
}

/* dump.c -- recorded taps in memory and on disk (layout in dump.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/fileio.h"
#include "base/json.h"
#include "base/num.h"
#include "base/sha256.h"
#include "engine/dump.h"

struct tc_dump {
    tc_dump_tap *taps;    /* [n_taps] in order of first appearance */
    size_t n_taps, cap_taps;
    int32_t *tokens;      /* [n_tokens] */
    size_t n_tokens, cap_tokens;
    char engine[32];      /* "ref", or "" */
    char precision[16];   /* "i2s", or "" */
    /* what another program's recording says about itself (dump.h) */
    uint32_t n_prompt;    /* first batch, 0 when unknown */
    char *model_file;     /* or NULL */
    char model_sha[65];   /* hex, or "" */
    cJSON *identity;      /* object, or NULL */
    cJSON *unmapped;      /* [{"name", "op", "shape"}], or NULL */
    cJSON *missing;       /* [{"tap", "reason"}], or NULL */
    cJSON *notes;         /* [strings], or NULL */
};

tc_dump *tc_dump_new(void)
{
    return calloc(1, sizeof(tc_dump));
}

void tc_dump_free(tc_dump *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->n_taps; i++) {
        free(d->taps[i].name);
        free(d->taps[i].f);
        free(d->taps[i].q8);
        free(d->taps[i].scale);
    }
    free(d->taps);
    free(d->tokens);
    free(d->model_file);
    cJSON_Delete(d->identity);
    cJSON_Delete(d->unmapped);
    cJSON_Delete(d->missing);
    cJSON_Delete(d->notes);
    free(d);
}

size_t tc_dump_n_taps(const tc_dump *d) { return d->n_taps; }
const tc_dump_tap *tc_dump_get(const tc_dump *d, size_t i) { return i < d->n_taps ? &d->taps[i] : NULL; }

const tc_dump_tap *tc_dump_find(const tc_dump *d, const char *name)
{
    for (size_t i = 0; i < d->n_taps; i++)
        if (!strcmp(d->taps[i].name, name)) return &d->taps[i];
    return NULL;
}

/* ---- recording ---- */

/* The entry for tap->name, created on first sight. */
static tc_dump_tap *entry_for(tc_dump *d, const tc_tap *tap, tc_err *err)
{
    tc_dump_tap *t = (tc_dump_tap *)tc_dump_find(d, tap->name);
    if (t) return t;
    if (d->n_taps == d->cap_taps) {
        size_t cap = d->cap_taps ? 2 * d->cap_taps : 64;
        tc_dump_tap *nt = realloc(d->taps, cap * sizeof *nt);
        if (!nt) return tc_fail(err, TC_E_NOMEM, "dump: out of memory"), NULL;
        d->taps = nt;
        d->cap_taps = cap;
    }
    t = &d->taps[d->n_taps];
    *t = (tc_dump_tap){ .name = strdup(tap->name), .kind = tap->kind, .width = tap->width };
    if (!t->name) return tc_fail(err, TC_E_NOMEM, "dump: out of memory"), NULL;
    d->n_taps++;
    return t;
}

/* Grow *p (elem bytes each) from n to n + more elements. */
static int grow(void **p, size_t n, size_t more, size_t elem)
{
    size_t bytes = (n + more) * elem;
    void *np = realloc(*p, bytes > 0 ? bytes : 1);
    if (!np) return -1;
    *p = np;
    return 0;
}

tc_status tc_dump_tap_fn(void *user, const tc_tap *tap, tc_err *err)
{
    tc_dump *d = user;
    tc_dump_tap *t = entry_for(d, tap, err);
    if (!t) return TC_E_NOMEM;
    if (tap->pos0 != t->n_pos || tap->width != t->width || tap->kind != t->kind)
        return tc_fail(err, TC_E_USAGE, "dump: tap %s: rows from position %" PRIu32 " (width %" PRIu32
                       ") after %" PRIu32 " rows of width %" PRIu32, tap->name, tap->pos0, tap->width,
                       t->n_pos, t->width);
    const size_t have = (size_t)t->n_pos * t->width, more = (size_t)tap->n_pos * tap->width;
    if (tap->kind == TC_TAP_F32) {
        if (grow((void **)&t->f, have, more, sizeof(float))) return tc_fail(err, TC_E_NOMEM, "dump: out of memory");
        memcpy(t->f + have, tap->f, more * sizeof(float));
    } else {
        if (grow((void **)&t->q8, have, more, 1) || grow((void **)&t->scale, t->n_pos, tap->n_pos, sizeof(float)))
            return tc_fail(err, TC_E_NOMEM, "dump: out of memory");
        memcpy(t->q8 + have, tap->q8, more);
        memcpy(t->scale + t->n_pos, tap->scale, tap->n_pos * sizeof(float));
    }
    t->n_pos += tap->n_pos;
    return TC_OK;
}

void tc_dump_set_derived(tc_dump *d, const char *name)
{
    tc_dump_tap *t = (tc_dump_tap *)tc_dump_find(d, name);
    if (t) t->derived = true;
}

tc_status tc_dump_add_tokens(tc_dump *d, const int32_t *tokens, size_t n, tc_err *err)
{
    if (d->n_tokens + n > d->cap_tokens) {
        size_t cap = (d->n_tokens + n) * 2;
        int32_t *nt = realloc(d->tokens, cap * sizeof *nt);
        if (!nt) return tc_fail(err, TC_E_NOMEM, "dump: out of memory");
        d->tokens = nt;
        d->cap_tokens = cap;
    }
    memcpy(d->tokens + d->n_tokens, tokens, n * sizeof *tokens);
    d->n_tokens += n;
    return TC_OK;
}

tc_status tc_dump_set_engine(tc_dump *d, const char *engine, const char *precision, tc_err *err)
{
    (void)err;
    snprintf(d->engine, sizeof d->engine, "%s", engine);
    snprintf(d->precision, sizeof d->precision, "%s", precision);
    return TC_OK;
}

/* ---- what another program's recording says about itself ---- */

void tc_dump_set_prompt_tokens(tc_dump *d, uint32_t n) { d->n_prompt = n; }
uint32_t tc_dump_prompt_tokens(const tc_dump *d) { return d->n_prompt; }

tc_status tc_dump_set_model(tc_dump *d, const char *file, const char *sha256, tc_err *err)
{
    char *f = strdup(file);
    if (!f) return tc_fail(err, TC_E_NOMEM, "dump: out of memory");
    free(d->model_file);
    d->model_file = f;
    snprintf(d->model_sha, sizeof d->model_sha, "%s", sha256);
    return TC_OK;
}

const char *tc_dump_model_sha256(const tc_dump *d) { return d->model_sha; }

void tc_dump_set_identity(tc_dump *d, cJSON *identity)
{
    cJSON_Delete(d->identity);
    d->identity = identity;
}

const cJSON *tc_dump_identity(const tc_dump *d) { return d->identity; }

/* The entry of *list whose `key` is value, or NULL. */
static const cJSON *list_find(const cJSON *list, const char *key, const char *value)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, list) {
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, key));
        if (v && !strcmp(v, value)) return it;
    }
    return NULL;
}

/* Append item to *list (created on first use); item NULL: out of memory. */
static tc_status list_add(cJSON **list, cJSON *item, tc_err *err)
{
    if (!*list && !(*list = cJSON_CreateArray())) {
        cJSON_Delete(item);
        return tc_fail(err, TC_E_NOMEM, "dump: out of memory");
    }
    if (!item || !cJSON_AddItemToArray(*list, item)) {
        cJSON_Delete(item);
        return tc_fail(err, TC_E_NOMEM, "dump: out of memory");
    }
    return TC_OK;
}

tc_status tc_dump_add_unmapped(tc_dump *d, const char *name, const char *op, const int64_t *ne, int n_dims,
                               tc_err *err)
{
    if (list_find(d->unmapped, "name", name)) return TC_OK;
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "name", name);
        cJSON_AddStringToObject(o, "op", op);
        cJSON *shape = cJSON_AddArrayToObject(o, "shape");
        for (int i = 0; i < n_dims && shape; i++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)ne[i]));
    }
    return list_add(&d->unmapped, o, err);
}

size_t tc_dump_n_unmapped(const tc_dump *d) { return (size_t)cJSON_GetArraySize(d->unmapped); }

const char *tc_dump_unmapped(const tc_dump *d, size_t i)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(d->unmapped, (int)i), "name"));
}

tc_status tc_dump_add_missing(tc_dump *d, const char *tap, const char *reason, tc_err *err)
{
    if (list_find(d->missing, "tap", tap)) return TC_OK;
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "tap", tap);
        cJSON_AddStringToObject(o, "reason", reason);
    }
    return list_add(&d->missing, o, err);
}

size_t tc_dump_n_missing(const tc_dump *d) { return (size_t)cJSON_GetArraySize(d->missing); }

const char *tc_dump_missing(const tc_dump *d, size_t i, const char **reason)
{
    const cJSON *o = cJSON_GetArrayItem(d->missing, (int)i);
    if (reason) *reason = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "reason"));
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "tap"));
}

tc_status tc_dump_add_note(tc_dump *d, const char *note, tc_err *err)
{
    return list_add(&d->notes, cJSON_CreateString(note), err);
}

size_t tc_dump_n_notes(const tc_dump *d) { return (size_t)cJSON_GetArraySize(d->notes); }
const char *tc_dump_note(const tc_dump *d, size_t i) { return cJSON_GetStringValue(cJSON_GetArrayItem(d->notes, (int)i)); }

/* ---- writing ---- */

/* Files this write created, for removal on failure. */
typedef struct written {
    char **paths;
    size_t n, cap;
} written;

/* Write buf[n] to dir/name through dir/.name.tmp and a rename; record the
 * path in w; hex (if not NULL) <- the SHA-256 of buf. */
static tc_status write_file(const char *dir, const char *name, const void *buf, size_t n, written *w,
                            char hex[TC_SHA256_HEX], tc_err *err)
{
    if (w->n == w->cap) {
        char **np = realloc(w->paths, (w->cap + 64) * sizeof *np);
        if (!np) return tc_fail(err, TC_E_NOMEM, "dump: out of memory");
        w->paths = np;
        w->cap += 64;
    }
    size_t len = strlen(dir) + strlen(name) + 16;
    char *path = malloc(len), *tmp = malloc(len);
    tc_status s = (!path || !tmp) ? tc_fail(err, TC_E_NOMEM, "dump: out of memory") : TC_OK;
    if (!s && hex) s = tc_sha256_hex(buf, n, hex);
    if (!s) {
        snprintf(path, len, "%s/%s", dir, name);
        snprintf(tmp, len, "%s/.%s.tmp", dir, name);
        FILE *fp = fopen(tmp, "wb");
        bool ok = fp != NULL;
        if (ok && n) ok = fwrite(buf, 1, n, fp) == n;
        if (fp && fclose(fp) != 0) ok = false;
        if (ok && rename(tmp, path) != 0) ok = false;
        if (!ok) {
            s = tc_fail(err, TC_E_IO, "%s: cannot write: %s", path, strerror(errno));
            unlink(tmp);
        }
    }
    free(tmp);
    if (s) {
        free(path);
        return s;
    }
    w->paths[w->n++] = path;
    return TC_OK;
}

/* The index entry of one tap; writes its files. */
static tc_status write_tap(const char *dir, const tc_dump_tap *t, cJSON *taps, written *w, tc_err *err)
{
    char file[96], scale_file[112], hex[TC_SHA256_HEX], scale_hex[TC_SHA256_HEX];
    const size_t n_el = (size_t)t->n_pos * t->width;
    const bool q8 = t->kind == TC_TAP_Q8;
    tc_status s;
    snprintf(file, sizeof file, "%s.%s", t->name, q8 ? "i8" : "f32");
    if ((s = write_file(dir, file, q8 ? (const void *)t->q8 : (const void *)t->f, n_el * (q8 ? 1 : sizeof(float)),
                        w, hex, err)))
        return s;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToArray(taps, o);
    cJSON_AddStringToObject(o, "tap", t->name);
    cJSON_AddStringToObject(o, "dtype", q8 ? "int8" : "float32");
    cJSON *shape = cJSON_AddArrayToObject(o, "shape");
    cJSON_AddItemToArray(shape, cJSON_CreateNumber(t->n_pos));
    cJSON_AddItemToArray(shape, cJSON_CreateNumber(t->width));
    cJSON_AddStringToObject(o, "file", file);
    cJSON_AddStringToObject(o, "sha256", hex);
    if (q8) {
        snprintf(scale_file, sizeof scale_file, "%s.scale.f32", t->name);
        if ((s = write_file(dir, scale_file, t->scale, t->n_pos * sizeof(float), w, scale_hex, err))) return s;
        cJSON_AddStringToObject(o, "scale_file", scale_file);
        cJSON_AddStringToObject(o, "scale_sha256", scale_hex);
    }
    return TC_OK;
}

tc_status tc_dump_check_dir(const char *dir, tc_err *err)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return tc_fail(err, TC_E_IO, "%s: not a directory", dir);
        if (access(dir, W_OK) != 0) return tc_fail(err, TC_E_IO, "%s: cannot write: %s", dir, strerror(errno));
        return TC_OK;
    }
    if (errno != ENOENT) return tc_fail(err, TC_E_IO, "%s: %s", dir, strerror(errno));
    /* absent: its parent must be a directory we may create it in */
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    while (slash && slash > parent && slash[1] == '\0') {   /* "dir/" */
        *slash = '\0';
        slash = strrchr(parent, '/');
    }
    if (!slash) snprintf(parent, sizeof parent, ".");
    else if (slash == parent) parent[1] = '\0';
    else *slash = '\0';
    if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode) || access(parent, W_OK) != 0)
        return tc_fail(err, TC_E_IO, "%s: cannot create: %s", dir,
                       stat(parent, &st) != 0 ? strerror(errno) : !S_ISDIR(st.st_mode) ? "not in a directory"
                       : strerror(EACCES));
    return TC_OK;
}

tc_status tc_dump_write(const tc_dump *d, const char *dir, tc_err *err)
{
    written w = { 0 };
    bool made_dir = false;
    tc_status s = TC_OK;
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (mkdir(dir, 0777) != 0) return tc_fail(err, TC_E_IO, "%s: cannot create: %s", dir, strerror(errno));
        made_dir = true;
    } else if (!S_ISDIR(st.st_mode)) {
        return tc_fail(err, TC_E_IO, "%s: not a directory", dir);
    }
    cJSON *root = cJSON_CreateObject();
    if (!root) return tc_fail(err, TC_E_NOMEM, "dump: out of memory");
    cJSON_AddStringToObject(root, "layout", "row-major little-endian float32, one row per token position; "
                                            "q8 taps: int8 codes and one float32 scale per row");
    if (d->engine[0]) cJSON_AddStringToObject(root, "engine", d->engine);
    if (d->precision[0]) cJSON_AddStringToObject(root, "precision", d->precision);
    cJSON *tokens = cJSON_AddArrayToObject(root, "tokens");
    for (size_t i = 0; i < d->n_tokens; i++) cJSON_AddItemToArray(tokens, cJSON_CreateNumber(d->tokens[i]));
    if (d->n_prompt) cJSON_AddNumberToObject(root, "prompt_tokens", d->n_prompt);
    if (d->model_sha[0]) {
        cJSON *model = cJSON_AddObjectToObject(root, "model");
        if (d->model_file) cJSON_AddStringToObject(model, "file", d->model_file);
        cJSON_AddStringToObject(model, "sha256", d->model_sha);
    }
    if (d->identity) cJSON_AddItemToObject(root, "engine_identity", cJSON_Duplicate(d->identity, true));
    /* a recorder (identity set) says "none" explicitly with an empty list */
    cJSON *lists[3] = { d->unmapped, d->missing, d->notes };
    const char *keys[3] = { "unmapped", "missing", "notes" };
    for (int i = 0; i < 3; i++) {
        if (lists[i]) cJSON_AddItemToObject(root, keys[i], cJSON_Duplicate(lists[i], true));
        else if (d->identity && i < 2) cJSON_AddArrayToObject(root, keys[i]);
    }
    cJSON *taps = cJSON_AddArrayToObject(root, "taps");
    for (size_t i = 0; i < d->n_taps && s == TC_OK; i++) s = write_tap(dir, &d->taps[i], taps, &w, err);
    if (s == TC_OK) {
        char *text = cJSON_Print(root);
        if (!text) s = tc_fail(err, TC_E_NOMEM, "dump: out of memory");
        else s = write_file(dir, "index.json", text, strlen(text), &w, NULL, err);
        free(text);
    }
    cJSON_Delete(root);
    /* on failure leave nothing behind */
    for (size_t i = 0; i < w.n; i++) {
        if (s) unlink(w.paths[i]);
        free(w.paths[i]);
    }
    free(w.paths);
    if (s && made_dir) rmdir(dir);
    return s;
}

/* ---- reading ---- */

const int32_t *tc_dump_tokens(const tc_dump *d, size_t *n)
{
    *n = d->n_tokens;
    return d->tokens;
}

const char *tc_dump_engine(const tc_dump *d) { return d->engine; }
const char *tc_dump_precision(const tc_dump *d) { return d->precision; }

/* Read dir/name (or dir/name.gz) into a new buffer of exactly `want` bytes,
 * checking its SHA-256 against hex when hex is not NULL. */
static tc_status read_exact(const char *dir, const char *name, size_t want, const char *hex, void **out,
                            tc_err *err)
{
    char path[4096];
    struct stat st;
    *out = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (access(path, F_OK) != 0) {
        snprintf(path, sizeof path, "%s/%s.gz", dir, name);
        if (access(path, F_OK) != 0) return tc_fail(err, TC_E_IO, "%s/%s: cannot open (nor %s.gz)", dir, name, name);
    } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size != want) {
        /* the cheap check first: a plain file has the size the shape says */
        return tc_fail(err, TC_E_FORMAT, "%s: expected %zu bytes (the shape in index.json), the file has %jd", path,
                       want, (intmax_t)st.st_size);
    }
    void *buf;
    size_t got;
    bool more;
    tc_status s = tc_read_gz(path, want, "a tap file", &buf, &got, &more, err);
    if (s) return s;
    if (more || got != want) {
        free(buf);
        return tc_fail(err, TC_E_FORMAT, "%s: expected %zu bytes (the shape in index.json), found %s%zu", path, want,
                       more ? "more than " : "", got);
    }
    if (hex) {
        char h[TC_SHA256_HEX];
        tc_sha256_hex(buf, want, h);
        if (strcmp(h, hex) != 0) {
            free(buf);
            return tc_fail(err, TC_E_FORMAT, "%s: SHA-256 %.16s... does not match index.json's sha256 %.16s...",
                           path, h, hex);
        }
    }
    *out = buf;
    return TC_OK;
}

/* One index entry into a new tap of d. */
static tc_status load_tap(tc_dump *d, const char *dir, const cJSON *o, tc_err *err)
{
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "tap"));
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(o, "shape");
    const char *dtype = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "dtype"));
    if (!name || !cJSON_IsArray(shape) || cJSON_GetArraySize(shape) != 2)
        return tc_fail(err, TC_E_FORMAT, "%s/index.json: taps: expected {\"tap\": NAME, \"shape\": [positions, width]}", dir);
    uint32_t np, w;
    if (!tc_num_to_u32(cJSON_GetNumberValue(cJSON_GetArrayItem(shape, 0)), 1, (1u << 24) - 1, &np) ||
        !tc_num_to_u32(cJSON_GetNumberValue(cJSON_GetArrayItem(shape, 1)), 1, (1u << 24) - 1, &w))
        return tc_fail(err, TC_E_FORMAT, "%s/index.json: tap %s: shape: expected two integers 1..16777215", dir, name);
    /* a tap holds a row per position the recording ran, and no more: what
     * a claim of rows may cost is bounded by the tokens, not by the claim */
    if (np > d->n_tokens)
        return tc_fail(err, TC_E_FORMAT, "%s/index.json: tap %s: shape: %" PRIu32 " positions, but the recording has %zu "
                       "tokens", dir, name, np, d->n_tokens);
    bool q8 = dtype && !strcmp(dtype, "int8");
    if (dtype && !q8 && strcmp(dtype, "float32"))
        return tc_fail(err, TC_E_FORMAT, "%s/index.json: tap %s: dtype: expected float32 or int8, found %s", dir, name, dtype);
    tc_tap probe = { .name = name, .kind = q8 ? TC_TAP_Q8 : TC_TAP_F32, .width = w };
    if (tc_dump_find(d, name))
        return tc_fail(err, TC_E_FORMAT, "%s/index.json: tap %s: listed twice", dir, name);
    tc_dump_tap *t = entry_for(d, &probe, err);
    if (!t) return TC_E_NOMEM;
    char deffile[128];
    snprintf(deffile, sizeof deffile, "%s.%s", name, q8 ? "i8" : "f32");
    const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "file"));
    if (!file) file = deffile;
    if (strchr(file, '/')) return tc_fail(err, TC_E_FORMAT, "%s/index.json: tap %s: file must be a plain name", dir, name);
    const char *hex = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "sha256"));
    size_t n_el = (size_t)np * w;
    tc_status s = read_exact(dir, file, n_el * (q8 ? 1 : sizeof(float)), hex, q8 ? (void **)&t->q8 : (void **)&t->f, err);
    if (s) return s;
    if (q8) {
        const char *sf = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "scale_file"));
        const char *sh = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "scale_sha256"));
        if (!sf || strchr(sf, '/'))
            return tc_fail(err, TC_E_FORMAT, "%s/index.json: tap %s: scale_file: expected a plain file name", dir, name);
        if ((s = read_exact(dir, sf, (size_t)np * sizeof(float), sh, (void **)&t->scale, err))) return s;
    }
    t->n_pos = np;
    return TC_OK;
}

/* A list key of index.json: absent, or an array of objects each with a
 * string `key` (or of strings, key NULL); kept as it is. */
static tc_status load_list(const cJSON *root, const char *name, const char *key, cJSON **out, const char *path,
                           tc_err *err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, name), *it;
    if (!a) return TC_OK;
    if (!cJSON_IsArray(a)) return tc_fail(err, TC_E_FORMAT, "%s: %s: expected an array", path, name);
    cJSON_ArrayForEach(it, a) {
        const bool ok = key ? cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, key)) : cJSON_IsString(it);
        if (!ok)
            return tc_fail(err, TC_E_FORMAT, "%s: %s: expected %s%s%s", path, name, key ? "objects with a string \"" : "strings",
                           key ? key : "", key ? "\"" : "");
    }
    return (*out = cJSON_Duplicate(a, true)) ? TC_OK : tc_fail(err, TC_E_NOMEM, "dump: out of memory");
}

/* The optional keys another program's recording adds (dump.h). */
static tc_status load_self(tc_dump *d, const cJSON *root, const char *path, tc_err *err)
{
    const cJSON *np = cJSON_GetObjectItemCaseSensitive(root, "prompt_tokens");
    if (np) {
        double v = cJSON_GetNumberValue(np);
        if (!(v >= 1 && v <= (double)d->n_tokens) || v != (uint32_t)v)
            return tc_fail(err, TC_E_FORMAT, "%s: prompt_tokens: expected 1..%zu", path, d->n_tokens);
        d->n_prompt = (uint32_t)v;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (model) {
        const char *sha = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(model, "sha256"));
        const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(model, "file"));
        if (!sha || strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64)
            return tc_fail(err, TC_E_FORMAT, "%s: model.sha256: expected 64 lower-case hex digits", path);
        tc_status s = tc_dump_set_model(d, file ? file : "", sha, err);
        if (s) return s;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "engine_identity");
    if (id) {
        if (!cJSON_IsObject(id)) return tc_fail(err, TC_E_FORMAT, "%s: engine_identity: expected an object", path);
        if (!(d->identity = cJSON_Duplicate(id, true))) return tc_fail(err, TC_E_NOMEM, "dump: out of memory");
    }
    tc_status s = load_list(root, "unmapped", "name", &d->unmapped, path, err);
    if (!s) s = load_list(root, "missing", "tap", &d->missing, path, err);
    if (!s) s = load_list(root, "notes", NULL, &d->notes, path, err);
    return s;
}

tc_status tc_dump_load(const char *dir, tc_dump **out, tc_err *err)
{
    *out = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/index.json", dir);
    cJSON *root;
    tc_status ls = tc_json_load(path, (size_t)64 << 20, "a JSON index", &root, err);
    if (ls) return ls;
    tc_dump *d = tc_dump_new();
    tc_status s = d ? TC_OK : tc_fail(err, TC_E_NOMEM, "dump: out of memory");
    const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(root, "tokens");
    const cJSON *taps = cJSON_GetObjectItemCaseSensitive(root, "taps");
    if (!s && (!cJSON_IsArray(tokens) || !cJSON_IsArray(taps)))
        s = tc_fail(err, TC_E_FORMAT, "%s: expected arrays \"tokens\" and \"taps\"", path);
    const cJSON *it;
    cJSON_ArrayForEach(it, tokens) {
        if (s) break;
        int32_t tok;
        if (!tc_num_to_i32(cJSON_GetNumberValue(it), 0, INT32_MAX, &tok))
            s = tc_fail(err, TC_E_FORMAT, "%s: tokens: expected non-negative integers", path);
        else
            s = tc_dump_add_tokens(d, &tok, 1, err);
    }
    cJSON_ArrayForEach(it, taps) {
        if (s) break;
        s = load_tap(d, dir, it, err);
    }
    if (!s) {
        const char *e = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "engine"));
        const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "precision"));
        tc_dump_set_engine(d, e ? e : "", p ? p : "", err);
        s = load_self(d, root, path, err);
    }
    cJSON_Delete(root);
    if (s) {
        tc_dump_free(d);
        return s;
    }
    *out = d;
    return TC_OK;
}

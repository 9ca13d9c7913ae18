/* dump.c -- recorded taps in memory and on disk (layout in dump.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "dump.h"
#include "sha256.h"

struct tc_dump {
    tc_dump_tap *taps;    /* [n_taps] in order of first appearance */
    size_t n_taps, cap_taps;
    int32_t *tokens;      /* [n_tokens] */
    size_t n_tokens, cap_tokens;
    char engine[32];      /* "ref", or "" */
    char precision[16];   /* "i2s", or "" */
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

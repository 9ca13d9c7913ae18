/* gguf_writer.c -- the streaming GGUF writer (see gguf.h): key/values
 * are serialized as they are added, tensor infos at begin, data as it
 * comes; the file appears under its name only when finish renames the
 * temporary into place. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/gguf.h"
#include "format/types.h"

typedef struct wtensor {
    char *name;
    uint32_t type, n_dims;
    uint64_t ne[TC_GGUF_MAX_DIMS];
    size_t nbytes, offset;
} wtensor;

struct tc_gguf_writer {
    uint32_t version;
    size_t alignment;
    /* serialized key/value section, and the keys for duplicate checks */
    uint8_t *kvbuf;
    size_t kvlen, kvcap, n_kv;
    char **keys;
    wtensor *tensors;
    size_t n_tensors, cap_tensors, data_size;
    /* streaming state */
    FILE *fp;
    char *path, *tmp;
    size_t cur, cur_written;   /* tensor being written, bytes of it so far */
    bool finished;
};

tc_gguf_writer *tc_gguf_writer_new(uint32_t version, size_t alignment)
{
    if (alignment == 0) alignment = TC_GGUF_DEFAULT_ALIGNMENT;
    if ((alignment & (alignment - 1)) != 0 || (version != 2 && version != 3)) return NULL;
    tc_gguf_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->version = version;
    w->alignment = alignment;
    if (alignment != TC_GGUF_DEFAULT_ALIGNMENT &&
        tc_gguf_writer_set_u32(w, "general.alignment", (uint32_t)alignment, NULL) != TC_OK) {
        tc_gguf_writer_free(w);
        return NULL;
    }
    return w;
}

void tc_gguf_writer_free(tc_gguf_writer *w)
{
    if (!w) return;
    if (w->fp) fclose(w->fp);
    if (w->tmp && !w->finished) unlink(w->tmp);
    for (size_t i = 0; i < w->n_kv; i++) free(w->keys[i]);
    free(w->keys);
    free(w->kvbuf);
    for (size_t i = 0; i < w->n_tensors; i++) free(w->tensors[i].name);
    free(w->tensors);
    free(w->path);
    free(w->tmp);
    free(w);
}

static bool kv_put(tc_gguf_writer *w, const void *p, size_t n)
{
    if (n > w->kvcap - w->kvlen) {
        size_t cap = w->kvcap ? w->kvcap : 4096;
        while (cap - w->kvlen < n) {
            if (cap > SIZE_MAX / 2) return false;
            cap *= 2;
        }
        uint8_t *nb = realloc(w->kvbuf, cap);
        if (!nb) return false;
        w->kvbuf = nb;
        w->kvcap = cap;
    }
    memcpy(w->kvbuf + w->kvlen, p, n);
    w->kvlen += n;
    return true;
}

static bool kv_put_u32(tc_gguf_writer *w, uint32_t v) { return kv_put(w, &v, 4); }
static bool kv_put_u64(tc_gguf_writer *w, uint64_t v) { return kv_put(w, &v, 8); }
static bool kv_put_str(tc_gguf_writer *w, const char *p, uint64_t len)
{
    return kv_put_u64(w, len) && kv_put(w, p, (size_t)len);
}

/* Serialize a value body (no type tag). */
static bool kv_put_value(tc_gguf_writer *w, const tc_gguf_value *v)
{
    switch (v->type) {
    case TC_GGUF_STRING: return kv_put_str(w, v->v.str.ptr, v->v.str.len);
    case TC_GGUF_ARRAY: {
        if (!kv_put_u32(w, v->v.arr.type) || !kv_put_u64(w, v->v.arr.n)) return false;
        size_t es = tc_gguf_vtype_size(v->v.arr.type);
        if (es) return v->v.arr.n == 0 || kv_put(w, v->v.arr.raw, (size_t)v->v.arr.n * es);
        for (uint64_t i = 0; i < v->v.arr.n; i++)
            if (!kv_put_value(w, &v->v.arr.items[i])) return false;
        return true;
    }
    case TC_GGUF_U8: case TC_GGUF_I8: case TC_GGUF_BOOL: {
        uint8_t b = v->type == TC_GGUF_BOOL ? (uint8_t)v->v.b : (uint8_t)v->v.u;
        return kv_put(w, &b, 1);
    }
    case TC_GGUF_U16: case TC_GGUF_I16: { uint16_t x = (uint16_t)v->v.u; return kv_put(w, &x, 2); }
    case TC_GGUF_U32: case TC_GGUF_I32: { uint32_t x = (uint32_t)v->v.u; return kv_put(w, &x, 4); }
    case TC_GGUF_U64: case TC_GGUF_I64: return kv_put_u64(w, v->v.u);
    case TC_GGUF_F32: { float x = (float)v->v.f; return kv_put(w, &x, 4); }
    case TC_GGUF_F64: return kv_put(w, &v->v.f, 8);
    default: return false;
    }
}

tc_status tc_gguf_writer_add(tc_gguf_writer *w, const char *key, const tc_gguf_value *v, tc_err *err)
{
    if (w->fp || w->finished) return tc_fail(err, TC_E_USAGE, "gguf writer: key '%s' added after begin", key);
    if ((uint32_t)v->type >= TC_GGUF_NTYPES)
        return tc_fail(err, TC_E_USAGE, "gguf writer: key '%s': unknown value type %d", key, (int)v->type);
    for (size_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->keys[i], key) == 0)
            return tc_fail(err, TC_E_USAGE, "gguf writer: duplicate key '%s'", key);
    char **keys = realloc(w->keys, (w->n_kv + 1) * sizeof *keys);
    if (!keys) return tc_fail(err, TC_E_NOMEM, "gguf writer: out of memory");
    w->keys = keys;
    if (!(keys[w->n_kv] = strdup(key))) return tc_fail(err, TC_E_NOMEM, "gguf writer: out of memory");
    size_t mark = w->kvlen;
    if (!kv_put_str(w, key, strlen(key)) || !kv_put_u32(w, v->type) || !kv_put_value(w, v)) {
        w->kvlen = mark;
        free(keys[w->n_kv]);
        return tc_fail(err, TC_E_NOMEM, "gguf writer: out of memory serializing '%s'", key);
    }
    w->n_kv++;
    return TC_OK;
}

tc_status tc_gguf_writer_set_u32(tc_gguf_writer *w, const char *key, uint32_t x, tc_err *err)
{
    tc_gguf_value v = { .type = TC_GGUF_U32, .v.u = x };
    return tc_gguf_writer_add(w, key, &v, err);
}

tc_status tc_gguf_writer_set_f32(tc_gguf_writer *w, const char *key, float x, tc_err *err)
{
    tc_gguf_value v = { .type = TC_GGUF_F32, .v.f = x };
    return tc_gguf_writer_add(w, key, &v, err);
}

tc_status tc_gguf_writer_set_bool(tc_gguf_writer *w, const char *key, bool x, tc_err *err)
{
    tc_gguf_value v = { .type = TC_GGUF_BOOL, .v.b = x };
    return tc_gguf_writer_add(w, key, &v, err);
}

tc_status tc_gguf_writer_set_str(tc_gguf_writer *w, const char *key, const char *s, tc_err *err)
{
    tc_gguf_value v = { .type = TC_GGUF_STRING, .v.str = { s, strlen(s) } };
    return tc_gguf_writer_add(w, key, &v, err);
}

tc_status tc_gguf_writer_set_arr(tc_gguf_writer *w, const char *key, tc_gguf_vtype t, uint64_t n,
                                 const void *elems, tc_err *err)
{
    if (!tc_gguf_vtype_size(t))
        return tc_fail(err, TC_E_USAGE, "gguf writer: key '%s': %s is not a numeric element type", key,
                       tc_gguf_vtype_name(t));
    tc_gguf_value v = { .type = TC_GGUF_ARRAY, .v.arr = { t, n, elems, NULL } };
    return tc_gguf_writer_add(w, key, &v, err);
}

tc_status tc_gguf_writer_set_arr_str(tc_gguf_writer *w, const char *key, uint64_t n,
                                     const char *const *strs, tc_err *err)
{
    tc_gguf_value *items = calloc(n ? (size_t)n : 1, sizeof *items);
    if (!items) return tc_fail(err, TC_E_NOMEM, "gguf writer: out of memory");
    for (uint64_t i = 0; i < n; i++) {
        items[i].type = TC_GGUF_STRING;
        items[i].v.str.ptr = strs[i];
        items[i].v.str.len = strlen(strs[i]);
    }
    tc_gguf_value v = { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_STRING, n, NULL, items } };
    tc_status s = tc_gguf_writer_add(w, key, &v, err);
    free(items);
    return s;
}

static size_t align_up(size_t x, size_t a) { return (x + a - 1) & ~(a - 1); }

tc_status tc_gguf_writer_add_tensor(tc_gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                                    const uint64_t *ne, tc_err *err)
{
    if (w->fp || w->finished) return tc_fail(err, TC_E_USAGE, "gguf writer: tensor '%s' added after begin", name);
    size_t len = strlen(name);
    if (len == 0 || len > TC_GGUF_MAX_NAME)
        return tc_fail(err, TC_E_USAGE, "gguf writer: tensor name '%s' must have 1..%d bytes", name, TC_GGUF_MAX_NAME);
    if (n_dims < 1 || n_dims > TC_GGUF_MAX_DIMS)
        return tc_fail(err, TC_E_USAGE, "gguf writer: tensor '%s': n_dims %u (expected 1..4)", name, n_dims);
    const tc_type_traits *tr = tc_type_info(type);
    if (!tr) return tc_fail(err, TC_E_USAGE, "gguf writer: tensor '%s': unknown type %u", name, type);
    uint64_t n = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] == 0 || ne[d] > (uint64_t)INT64_MAX / n)
            return tc_fail(err, TC_E_USAGE, "gguf writer: tensor '%s': bad ne[%u]", name, d);
        n *= ne[d];
    }
    size_t nbytes = tc_type_nbytes((tc_type)type, n);
    if (nbytes == 0 || ne[0] % tr->block_size)
        return tc_fail(err, TC_E_USAGE, "gguf writer: tensor '%s': ne[0] %" PRIu64 " is not a multiple of %zu",
                       name, ne[0], tr->block_size);
    for (size_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return tc_fail(err, TC_E_USAGE, "gguf writer: duplicate tensor '%s'", name);
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? 2 * w->cap_tensors : 64;
        wtensor *nt = realloc(w->tensors, cap * sizeof *nt);
        if (!nt) return tc_fail(err, TC_E_NOMEM, "gguf writer: out of memory");
        w->tensors = nt;
        w->cap_tensors = cap;
    }
    wtensor *t = &w->tensors[w->n_tensors];
    memset(t, 0, sizeof *t);
    if (!(t->name = strdup(name))) return tc_fail(err, TC_E_NOMEM, "gguf writer: out of memory");
    t->type = type;
    t->n_dims = n_dims;
    for (uint32_t d = 0; d < TC_GGUF_MAX_DIMS; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    t->nbytes = nbytes;
    t->offset = align_up(w->data_size, w->alignment);
    w->data_size = t->offset + nbytes;
    w->n_tensors++;
    return TC_OK;
}

static tc_status wfail(tc_gguf_writer *w, tc_err *err, const char *what)
{
    tc_status s = tc_fail(err, TC_E_IO, "%s: %s: %s", w->path ? w->path : "gguf writer", what, strerror(errno));
    if (w->fp) fclose(w->fp);
    w->fp = NULL;
    if (w->tmp) unlink(w->tmp);
    return s;
}

static bool put_zeros(FILE *fp, size_t n)
{
    static const uint8_t zeros[64];
    while (n > 0) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        if (fwrite(zeros, 1, k, fp) != k) return false;
        n -= k;
    }
    return true;
}

tc_status tc_gguf_writer_begin(tc_gguf_writer *w, const char *path, tc_err *err)
{
    if (w->fp || w->finished) return tc_fail(err, TC_E_USAGE, "gguf writer: begin called twice");
    size_t plen = strlen(path);
    free(w->path);   /* from an earlier begin that failed */
    free(w->tmp);
    w->path = strdup(path);
    w->tmp = malloc(plen + 16);
    if (!w->path || !w->tmp) return tc_fail(err, TC_E_NOMEM, "gguf writer: out of memory");
    snprintf(w->tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(w->tmp);
    if (fd < 0) {
        free(w->tmp);
        w->tmp = NULL;
        return tc_fail(err, TC_E_IO, "%s: cannot create a temporary file beside it: %s", path, strerror(errno));
    }
    fchmod(fd, 0644);
    w->fp = fdopen(fd, "wb");
    if (!w->fp) {
        close(fd);
        return wfail(w, err, "fdopen");
    }
    uint64_t n_t = w->n_tensors, n_kv = w->n_kv;
    if (fwrite(TC_GGUF_MAGIC, 1, 4, w->fp) != 4 || fwrite(&w->version, 4, 1, w->fp) != 1 ||
        fwrite(&n_t, 8, 1, w->fp) != 1 || fwrite(&n_kv, 8, 1, w->fp) != 1 ||
        (w->kvlen && fwrite(w->kvbuf, 1, w->kvlen, w->fp) != w->kvlen))
        return wfail(w, err, "write header");
    size_t off = 24 + w->kvlen;
    for (size_t i = 0; i < w->n_tensors; i++) {
        wtensor *t = &w->tensors[i];
        uint64_t len = strlen(t->name), o = t->offset;
        if (fwrite(&len, 8, 1, w->fp) != 1 || fwrite(t->name, 1, len, w->fp) != len ||
            fwrite(&t->n_dims, 4, 1, w->fp) != 1 || fwrite(t->ne, 8, t->n_dims, w->fp) != t->n_dims ||
            fwrite(&t->type, 4, 1, w->fp) != 1 || fwrite(&o, 8, 1, w->fp) != 1)
            return wfail(w, err, "write tensor info");
        off += 8 + len + 4 + 8 * t->n_dims + 4 + 8;
    }
    if (!put_zeros(w->fp, align_up(off, w->alignment) - off)) return wfail(w, err, "write padding");
    w->cur = 0;
    w->cur_written = 0;
    return TC_OK;
}

tc_status tc_gguf_writer_write(tc_gguf_writer *w, const void *buf, size_t n, tc_err *err)
{
    if (!w->fp) return tc_fail(err, TC_E_USAGE, "gguf writer: write before begin");
    const uint8_t *p = buf;
    while (n > 0) {
        if (w->cur >= w->n_tensors)
            return tc_fail(err, TC_E_USAGE, "%s: %zu bytes written past the last tensor", w->path, n);
        wtensor *t = &w->tensors[w->cur];
        size_t k = t->nbytes - w->cur_written;
        if (k > n) k = n;
        if (fwrite(p, 1, k, w->fp) != k) return wfail(w, err, "write tensor data");
        p += k;
        n -= k;
        w->cur_written += k;
        if (w->cur_written == t->nbytes) {
            /* pad to the next tensor's offset (none after the last) */
            size_t end = t->offset + t->nbytes;
            size_t next = w->cur + 1 < w->n_tensors ? w->tensors[w->cur + 1].offset : end;
            if (!put_zeros(w->fp, next - end)) return wfail(w, err, "write padding");
            w->cur++;
            w->cur_written = 0;
        }
    }
    return TC_OK;
}

tc_status tc_gguf_writer_finish(tc_gguf_writer *w, tc_err *err)
{
    if (!w->fp) return tc_fail(err, TC_E_USAGE, "gguf writer: finish before begin");
    if (w->cur < w->n_tensors) {
        tc_status s = tc_fail(err, TC_E_USAGE, "%s: tensor '%s' is incomplete (%zu of %zu bytes written)",
                              w->path, w->tensors[w->cur].name, w->cur_written, w->tensors[w->cur].nbytes);
        fclose(w->fp);
        w->fp = NULL;
        unlink(w->tmp);
        return s;
    }
    if (fflush(w->fp) != 0 || fsync(fileno(w->fp)) != 0) return wfail(w, err, "flush");
    if (fclose(w->fp) != 0) {
        w->fp = NULL;
        return wfail(w, err, "close");
    }
    w->fp = NULL;
    if (rename(w->tmp, w->path) != 0) return wfail(w, err, "rename into place");
    w->finished = true;
    return TC_OK;
}

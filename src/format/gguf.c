/* gguf.c -- the GGUF v2/v3 reader (SPEC 1.1); the writer is gguf_writer.c. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/gguf.h"
#include "format/types.h"

/* ---- value types ---- */

static const struct { const char *name; size_t size; } vtypes[TC_GGUF_NTYPES] = {
    [TC_GGUF_U8] = { "u8", 1 },     [TC_GGUF_I8] = { "i8", 1 },
    [TC_GGUF_U16] = { "u16", 2 },   [TC_GGUF_I16] = { "i16", 2 },
    [TC_GGUF_U32] = { "u32", 4 },   [TC_GGUF_I32] = { "i32", 4 },
    [TC_GGUF_F32] = { "f32", 4 },   [TC_GGUF_BOOL] = { "bool", 1 },
    [TC_GGUF_STRING] = { "string", 0 }, [TC_GGUF_ARRAY] = { "array", 0 },
    [TC_GGUF_U64] = { "u64", 8 },   [TC_GGUF_I64] = { "i64", 8 },
    [TC_GGUF_F64] = { "f64", 8 },
};

const char *tc_gguf_vtype_name(uint32_t t)
{
    return t < TC_GGUF_NTYPES ? vtypes[t].name : "unknown";
}

size_t tc_gguf_vtype_size(uint32_t t)
{
    return t < TC_GGUF_NTYPES ? vtypes[t].size : 0;
}

static bool vtype_is_int(tc_gguf_vtype t)
{
    return t <= TC_GGUF_I32 || t == TC_GGUF_U64 || t == TC_GGUF_I64;
}

static bool vtype_is_signed(tc_gguf_vtype t)
{
    return t == TC_GGUF_I8 || t == TC_GGUF_I16 || t == TC_GGUF_I32 || t == TC_GGUF_I64;
}

/* ---- reader: a bounds-checked cursor ---- */

typedef struct cursor {
    const uint8_t *base;
    size_t size, off;
    const char *file;
    tc_err *err;
} cursor;

/* Fail with "FILE: WHAT at byte OFF: expected N bytes, the file ends at SIZE". */
static tc_status need(cursor *c, size_t n, const char *what)
{
    if (n <= c->size - c->off) return TC_OK;
    return tc_fail(c->err, TC_E_FORMAT,
                   "%s: %s at byte %zu: expected %zu bytes, the file ends at byte %zu",
                   c->file, what, c->off, n, c->size);
}

static tc_status rd(cursor *c, void *dst, size_t n, const char *what)
{
    tc_status s = need(c, n, what);
    if (s) return s;
    memcpy(dst, c->base + c->off, n);
    c->off += n;
    return TC_OK;
}

static tc_status rd_u32(cursor *c, uint32_t *v, const char *what) { return rd(c, v, 4, what); }
static tc_status rd_u64(cursor *c, uint64_t *v, const char *what) { return rd(c, v, 8, what); }

/* A length-prefixed string, borrowed.  The length is checked against the
 * bytes left before it is used. */
static tc_status rd_str(cursor *c, const char **ptr, uint64_t *len, const char *what)
{
    size_t at = c->off;
    tc_status s = rd_u64(c, len, what);
    if (s) return s;
    if (*len > c->size - c->off)
        return tc_fail(c->err, TC_E_FORMAT,
                       "%s: %s at byte %zu: string length %" PRIu64
                       " exceeds the %zu bytes left in the file",
                       c->file, what, at, *len, c->size - c->off);
    *ptr = (const char *)c->base + c->off;
    c->off += (size_t)*len;
    return TC_OK;
}

/* A string that becomes a C string (key or tensor name): no NUL inside. */
static tc_status rd_name(cursor *c, char **out, size_t max_len, const char *what)
{
    size_t at = c->off;
    const char *p;
    uint64_t len;
    tc_status s = rd_str(c, &p, &len, what);
    if (s) return s;
    if (len == 0 || len > max_len)
        return tc_fail(c->err, TC_E_FORMAT, "%s: %s at byte %zu: expected 1..%zu bytes, found %" PRIu64,
                       c->file, what, at, max_len, len);
    if (memchr(p, '\0', (size_t)len))
        return tc_fail(c->err, TC_E_FORMAT, "%s: %s at byte %zu: expected no NUL byte inside the name",
                       c->file, what, at);
    *out = malloc((size_t)len + 1);
    if (!*out) return tc_fail(c->err, TC_E_NOMEM, "%s: out of memory reading %s", c->file, what);
    memcpy(*out, p, (size_t)len);
    (*out)[len] = '\0';
    return TC_OK;
}

static void value_free(tc_gguf_value *v);
static tc_status rd_value(cursor *c, uint32_t t, tc_gguf_value *v, int depth, const char *key);

/* The body of a fixed-size value (every type but string and array), from
 * the value's byte `at`. */
static tc_status rd_scalar(cursor *c, tc_gguf_value *v, const char *key, size_t at)
{
    uint8_t b[8];
    tc_status s = rd(c, b, vtypes[v->type].size, key);
    if (s) return s;
    switch (v->type) {
    case TC_GGUF_U8: v->v.u = b[0]; break;
    case TC_GGUF_I8: v->v.i = (int8_t)b[0]; break;
    case TC_GGUF_U16: { uint16_t x; memcpy(&x, b, 2); v->v.u = x; break; }
    case TC_GGUF_I16: { int16_t x; memcpy(&x, b, 2); v->v.i = x; break; }
    case TC_GGUF_U32: { uint32_t x; memcpy(&x, b, 4); v->v.u = x; break; }
    case TC_GGUF_I32: { int32_t x; memcpy(&x, b, 4); v->v.i = x; break; }
    case TC_GGUF_U64: memcpy(&v->v.u, b, 8); break;
    case TC_GGUF_I64: memcpy(&v->v.i, b, 8); break;
    case TC_GGUF_F32: { float x; memcpy(&x, b, 4); v->v.f = x; break; }
    case TC_GGUF_F64: memcpy(&v->v.f, b, 8); break;
    case TC_GGUF_BOOL:
        if (b[0] > 1)
            return tc_fail(c->err, TC_E_FORMAT, "%s: key '%s' at byte %zu: bool value %u (expected 0 or 1)",
                           c->file, key, at, b[0]);
        v->v.b = b[0];
        break;
    default: break;
    }
    return TC_OK;
}

/* An array body: element type, count, elements.  Numeric elements stay
 * borrowed in the mapping; strings and arrays are parsed one by one, a
 * level deeper.  The count is checked against the bytes left first (each
 * element needs at least its minimal encoded size). */
static tc_status rd_array(cursor *c, tc_gguf_value *v, int depth, const char *key, size_t at)
{
    uint32_t et;
    uint64_t n;
    tc_status s;
    if (depth >= TC_GGUF_MAX_ARRAY_DEPTH)
        return tc_fail(c->err, TC_E_FORMAT, "%s: key '%s' at byte %zu: arrays nested deeper than %d",
                       c->file, key, at, TC_GGUF_MAX_ARRAY_DEPTH);
    if ((s = rd_u32(c, &et, key)) || (s = rd_u64(c, &n, key))) return s;
    if (et >= TC_GGUF_NTYPES)
        return tc_fail(c->err, TC_E_FORMAT, "%s: key '%s' at byte %zu: unknown array element type %"
                       PRIu32 " (expected 0..12)", c->file, key, at, et);
    v->v.arr.type = (tc_gguf_vtype)et;
    v->v.arr.n = n;
    /* minimal bytes per element: fixed size, 8 for a string length,
     * 12 for a nested array header */
    size_t min = vtypes[et].size ? vtypes[et].size : (et == TC_GGUF_STRING ? 8 : 12);
    if (n > (c->size - c->off) / min)
        return tc_fail(c->err, TC_E_FORMAT, "%s: key '%s' at byte %zu: array of %" PRIu64
                       " %s needs at least %" PRIu64 " bytes, only %zu are left", c->file, key, at,
                       n, vtypes[et].name, n > UINT64_MAX / min ? UINT64_MAX : n * min,
                       c->size - c->off);
    if (vtypes[et].size) {
        v->v.arr.raw = c->base + c->off;
        c->off += (size_t)n * vtypes[et].size;
        return TC_OK;
    }
    if (n == 0) return TC_OK;
    v->v.arr.items = calloc((size_t)n, sizeof *v->v.arr.items);
    if (!v->v.arr.items)
        return tc_fail(c->err, TC_E_NOMEM, "%s: key '%s': out of memory for %" PRIu64 " items",
                       c->file, key, n);
    for (uint64_t i = 0; i < n; i++) {
        s = rd_value(c, et, &v->v.arr.items[i], depth + 1, key);
        if (s) return s;   /* the caller frees the partial tree */
    }
    return TC_OK;
}

/* Parse one value of type t.  Arrays of strings or arrays recurse, to a
 * bounded depth. */
static tc_status rd_value(cursor *c, uint32_t t, tc_gguf_value *v, int depth, const char *key)
{
    size_t at = c->off;
    memset(v, 0, sizeof *v);
    if (t >= TC_GGUF_NTYPES)
        return tc_fail(c->err, TC_E_FORMAT, "%s: key '%s' at byte %zu: unknown value type %" PRIu32
                       " (expected 0..12)", c->file, key, at, t);
    v->type = (tc_gguf_vtype)t;
    if (v->type == TC_GGUF_STRING) {
        char what[96];
        snprintf(what, sizeof what, "key '%.80s'", key);
        return rd_str(c, &v->v.str.ptr, &v->v.str.len, what);
    }
    if (v->type == TC_GGUF_ARRAY) return rd_array(c, v, depth, key, at);
    return rd_scalar(c, v, key, at);
}

static void value_free(tc_gguf_value *v)
{
    if (v->type == TC_GGUF_ARRAY && v->v.arr.items) {
        for (uint64_t i = 0; i < v->v.arr.n; i++) value_free(&v->v.arr.items[i]);
        free(v->v.arr.items);
        v->v.arr.items = NULL;
    }
}

void tc_gguf_close(tc_gguf *g)
{
    if (!g) return;
    for (size_t i = 0; i < g->n_kv; i++) {
        free(g->kv[i].key);
        value_free(&g->kv[i].value);
    }
    free(g->kv);
    for (size_t i = 0; i < g->n_tensors; i++) free(g->tensors[i].name);
    free(g->tensors);
    if (g->mapped && g->base) munmap((void *)g->base, g->size);
    free(g->path);
    free(g);
}

/* ---- duplicate detection: sort (name, index) pairs, compare neighbours ---- */

typedef struct named { const char *name; size_t idx; } named;

static int cmp_named(const void *a, const void *b)
{
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

/* *dup <- the later index of a name that occurs twice among the n items
 * (item i's name is the char * at byte `at` of items + i * stride), or
 * SIZE_MAX.  O(n log n), so a file with a million tensors cannot make the
 * check quadratic.  TC_OK or TC_E_NOMEM. */
static tc_status find_duplicate(cursor *c, const void *items, size_t n, size_t stride, size_t at, size_t *dup)
{
    *dup = SIZE_MAX;
    named *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return tc_fail(c->err, TC_E_NOMEM, "%s: out of memory", c->file);
    for (size_t i = 0; i < n; i++) {
        const char *item = (const char *)items + i * stride;
        memcpy(&v[i].name, item + at, sizeof v[i].name);
        v[i].idx = i;
    }
    qsort(v, n, sizeof *v, cmp_named);
    for (size_t i = 1; i < n && *dup == SIZE_MAX; i++)
        if (strcmp(v[i - 1].name, v[i].name) == 0)
            *dup = v[i].idx > v[i - 1].idx ? v[i].idx : v[i - 1].idx;
    free(v);
    return TC_OK;
}

/* ---- reader: the file ---- */

/* *out <- zeroed room for n entries of `size` bytes, once the count (the
 * header field `field`) has been checked against the bytes left, each
 * entry needing at least min_bytes of the file: a hostile count fails
 * before anything is allocated.  `items` and `mem_items` name the entries
 * in the two messages. */
static tc_status alloc_entries(cursor *c, uint64_t n, size_t min_bytes, size_t size, const char *field,
                               const char *items, const char *mem_items, void **out)
{
    if (n > (c->size - c->off) / min_bytes)
        return tc_fail(c->err, TC_E_FORMAT, "%s: %s: %" PRIu64 " %s cannot fit in the %zu bytes left", c->file,
                       field, n, items, c->size - c->off);
    *out = calloc(n ? (size_t)n : 1, size);
    if (!*out) return tc_fail(c->err, TC_E_NOMEM, "%s: out of memory for %" PRIu64 " %s", c->file, n, mem_items);
    return TC_OK;
}

static tc_status parse_kvs(cursor *c, tc_gguf *g, uint64_t n_kv)
{
    /* each kv needs at least 8 (key length) + 1 (key) + 4 (type) + 1 bytes */
    void *kv;
    tc_status st = alloc_entries(c, n_kv, 14, sizeof *g->kv, "kv count at byte 16", "key/values", "key/values", &kv);
    if (st) return st;
    g->kv = kv;
    for (uint64_t i = 0; i < n_kv; i++) {
        tc_gguf_kv *kv = &g->kv[i];
        uint32_t t;
        tc_status s;
        kv->offset = c->off;
        g->n_kv = (size_t)i + 1;   /* so close() frees this entry on failure */
        if ((s = rd_name(c, &kv->key, 65535, "key name"))) return s;
        if ((s = rd_u32(c, &t, kv->key))) return s;
        if ((s = rd_value(c, t, &kv->value, 0, kv->key))) return s;
    }
    size_t dup;
    tc_status s = find_duplicate(c, g->kv, g->n_kv, sizeof *g->kv, offsetof(tc_gguf_kv, key), &dup);
    if (s) return s;
    if (dup != SIZE_MAX)
        return tc_fail(c->err, TC_E_FORMAT, "%s: key '%s' at byte %zu: duplicate key (expected unique keys)",
                       c->file, g->kv[dup].key, g->kv[dup].offset);
    return TC_OK;
}

static tc_status parse_alignment(cursor *c, tc_gguf *g)
{
    g->alignment = TC_GGUF_DEFAULT_ALIGNMENT;
    const tc_gguf_kv *kv = tc_gguf_find(g, "general.alignment");
    if (!kv) return TC_OK;
    if (kv->value.type != TC_GGUF_U32)
        return tc_fail(c->err, TC_E_FORMAT, "%s: key 'general.alignment' at byte %zu: expected type u32, found %s",
                       c->file, kv->offset, tc_gguf_vtype_name(kv->value.type));
    uint64_t a = kv->value.v.u;
    if (a == 0 || (a & (a - 1)) != 0)
        return tc_fail(c->err, TC_E_FORMAT, "%s: key 'general.alignment' at byte %zu: %" PRIu64
                       " is not a power of two", c->file, kv->offset, a);
    g->alignment = (size_t)a;
    return TC_OK;
}

static tc_status parse_tensor_info(cursor *c, tc_gguf_tensor *t)
{
    tc_status s;
    t->info_offset = c->off;
    if ((s = rd_name(c, &t->name, TC_GGUF_MAX_NAME, "tensor name"))) return s;
    if ((s = rd_u32(c, &t->n_dims, t->name))) return s;
    if (t->n_dims < 1 || t->n_dims > TC_GGUF_MAX_DIMS)
        return tc_fail(c->err, TC_E_FORMAT, "%s: tensor '%s' at byte %zu: n_dims %" PRIu32 " (expected 1..%d)",
                       c->file, t->name, t->info_offset, t->n_dims, TC_GGUF_MAX_DIMS);
    uint64_t n = 1;
    for (uint32_t d = 0; d < TC_GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        if ((s = rd_u64(c, &t->ne[d], t->name))) return s;
        if (t->ne[d] == 0)
            return tc_fail(c->err, TC_E_FORMAT, "%s: tensor '%s' at byte %zu: ne[%" PRIu32 "] is 0 (expected >= 1)",
                           c->file, t->name, t->info_offset, d);
        if (t->ne[d] > (uint64_t)INT64_MAX / n)
            return tc_fail(c->err, TC_E_FORMAT, "%s: tensor '%s' at byte %zu: element count overflows at ne[%"
                           PRIu32 "] = %" PRIu64, c->file, t->name, t->info_offset, d, t->ne[d]);
        n *= t->ne[d];
    }
    t->n_elements = n;
    if ((s = rd_u32(c, &t->type, t->name))) return s;
    if ((s = rd_u64(c, &t->offset, t->name))) return s;
    const tc_type_traits *tr = tc_type_info(t->type);
    if (!tr)
        return tc_fail(c->err, TC_E_FORMAT, "%s: tensor '%s' at byte %zu: unknown or unsupported tensor type %"
                       PRIu32 " (expected F32 0, F16 1, BF16 30 or I2_S 36)", c->file, t->name,
                       t->info_offset, t->type);
    if (t->ne[0] % tr->block_size != 0)
        return tc_fail(c->err, TC_E_FORMAT, "%s: tensor '%s' at byte %zu: ne[0] = %" PRIu64
                       " is not a multiple of the %s block size %zu", c->file, t->name, t->info_offset,
                       t->ne[0], tr->name, tr->block_size);
    t->nbytes = tc_type_nbytes((tc_type)t->type, n);
    if (t->nbytes == 0)
        return tc_fail(c->err, TC_E_FORMAT, "%s: tensor '%s' at byte %zu: size of %" PRIu64
                       " %s elements overflows", c->file, t->name, t->info_offset, n, tr->name);
    return TC_OK;
}

static int cmp_tensor_offset(const void *a, const void *b)
{
    const tc_gguf_tensor *x = *(tc_gguf_tensor *const *)a, *y = *(tc_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Every tensor aligned, inside the file, and not overlapping another. */
static tc_status check_tensor_extents(cursor *c, tc_gguf *g)
{
    size_t avail = c->size - g->data_offset;
    for (size_t i = 0; i < g->n_tensors; i++) {
        tc_gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment != 0)
            return tc_fail(c->err, TC_E_FORMAT, "%s: tensor '%s' at byte %zu: offset %" PRIu64
                           " is not a multiple of the alignment %zu", c->file, t->name, t->info_offset,
                           t->offset, g->alignment);
        if (t->offset > avail || t->nbytes > avail - t->offset)
            return tc_fail(c->err, TC_E_FORMAT, "%s: tensor '%s' at byte %zu: data [%" PRIu64 ", +%zu) at file byte %"
                           PRIu64 " runs past the end of the file (%zu bytes)", c->file, t->name,
                           t->info_offset, t->offset, t->nbytes, (uint64_t)g->data_offset + t->offset, c->size);
        t->data = c->base + g->data_offset + t->offset;
    }
    if (g->n_tensors < 2) return TC_OK;
    tc_gguf_tensor **by = malloc(g->n_tensors * sizeof *by);
    if (!by) return tc_fail(c->err, TC_E_NOMEM, "%s: out of memory", c->file);
    for (size_t i = 0; i < g->n_tensors; i++) by[i] = &g->tensors[i];
    qsort(by, g->n_tensors, sizeof *by, cmp_tensor_offset);
    tc_status s = TC_OK;
    for (size_t i = 1; i < g->n_tensors && !s; i++)
        if (by[i - 1]->offset + by[i - 1]->nbytes > by[i]->offset)
            s = tc_fail(c->err, TC_E_FORMAT, "%s: tensor '%s' at byte %zu: data at offset %" PRIu64
                        " overlaps tensor '%s' [%" PRIu64 ", +%zu)", c->file, by[i]->name,
                        by[i]->info_offset, by[i]->offset, by[i - 1]->name, by[i - 1]->offset,
                        by[i - 1]->nbytes);
    free(by);
    return s;
}

static tc_status parse_tensors(cursor *c, tc_gguf *g, uint64_t n_t)
{
    /* each tensor info needs at least 8+1 (name) + 4 + 8 (one dim) + 4 + 8 bytes */
    void *ts;
    tc_status st = alloc_entries(c, n_t, 33, sizeof *g->tensors, "tensor count at byte 8", "tensor infos", "tensors",
                                 &ts);
    if (st) return st;
    g->tensors = ts;
    for (uint64_t i = 0; i < n_t; i++) {
        g->n_tensors = (size_t)i + 1;
        tc_status s = parse_tensor_info(c, &g->tensors[i]);
        if (s) return s;
    }
    size_t dup;
    tc_status s = find_duplicate(c, g->tensors, g->n_tensors, sizeof *g->tensors,
                                 offsetof(tc_gguf_tensor, name), &dup);
    if (s) return s;
    if (dup != SIZE_MAX)
        return tc_fail(c->err, TC_E_FORMAT, "%s: tensor '%s' at byte %zu: duplicate tensor name",
                       c->file, g->tensors[dup].name, g->tensors[dup].info_offset);
    /* the data section starts at the next multiple of the alignment */
    size_t pad = (g->alignment - c->off % g->alignment) % g->alignment;
    if (g->n_tensors > 0 && pad > c->size - c->off)
        return tc_fail(c->err, TC_E_FORMAT, "%s: data section at byte %zu: expected %zu bytes of alignment "
                       "padding, the file ends at byte %zu", c->file, c->off, pad, c->size);
    g->data_offset = c->off + (pad <= c->size - c->off ? pad : c->size - c->off);
    return check_tensor_extents(c, g);
}

tc_status tc_gguf_parse(const uint8_t *buf, size_t size, const char *name, tc_gguf **out, tc_err *err)
{
    *out = NULL;
    tc_gguf *g = calloc(1, sizeof *g);
    if (!g || !(g->path = strdup(name))) {
        free(g);
        return tc_fail(err, TC_E_NOMEM, "%s: out of memory", name);
    }
    g->base = buf;
    g->size = size;
    cursor c = { buf, size, 0, g->path, err };
    char magic[4];
    uint64_t n_t, n_kv;
    tc_status s;
    if ((s = rd(&c, magic, 4, "magic"))) goto fail;
    if (memcmp(magic, TC_GGUF_MAGIC, 4) != 0) {
        s = tc_fail(err, TC_E_FORMAT, "%s: magic at byte 0: expected \"GGUF\", found %02x %02x %02x %02x",
                    g->path, (uint8_t)magic[0], (uint8_t)magic[1], (uint8_t)magic[2], (uint8_t)magic[3]);
        goto fail;
    }
    if ((s = rd_u32(&c, &g->version, "version"))) goto fail;
    if (g->version != 2 && g->version != 3) {
        s = tc_fail(err, TC_E_FORMAT, "%s: version at byte 4: expected 2 or 3, found %" PRIu32 "%s", g->path,
                    g->version, (g->version & 0xffff) == 0 ? " (a big-endian file?)" : "");
        goto fail;
    }
    if ((s = rd_u64(&c, &n_t, "tensor count")) || (s = rd_u64(&c, &n_kv, "kv count"))) goto fail;
    if ((s = parse_kvs(&c, g, n_kv))) goto fail;
    if ((s = parse_alignment(&c, g))) goto fail;
    if ((s = parse_tensors(&c, g, n_t))) goto fail;
    *out = g;
    return TC_OK;
fail:
    g->mapped = false;   /* the caller owns buf */
    tc_gguf_close(g);
    return s;
}

tc_status tc_gguf_open(const char *path, tc_gguf **out, tc_err *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return tc_fail(err, TC_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return tc_fail(err, TC_E_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return tc_fail(err, TC_E_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    if (size < 24) {   /* magic, version and the two counts */
        close(fd);
        return tc_fail(err, TC_E_FORMAT, "%s: header at byte 0: expected at least 24 bytes, the file has %zu",
                       path, size);
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) return tc_fail(err, TC_E_IO, "%s: cannot mmap: %s", path, strerror(e));
    tc_gguf *g;
    tc_status s = tc_gguf_parse(map, size, path, &g, err);
    if (s) {
        munmap(map, size);
        return s;
    }
    g->mapped = true;
    *out = g;
    return TC_OK;
}

const tc_gguf_kv *tc_gguf_find(const tc_gguf *g, const char *key)
{
    for (size_t i = 0; i < g->n_kv; i++)
        if (strcmp(g->kv[i].key, key) == 0) return &g->kv[i];
    return NULL;
}

const tc_gguf_tensor *tc_gguf_find_tensor(const tc_gguf *g, const char *name)
{
    for (size_t i = 0; i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0) return &g->tensors[i];
    return NULL;
}

/* ---- typed getters ---- */

tc_status tc_gguf_get_uint(const tc_gguf *g, const char *key, uint64_t max, uint64_t *out, tc_err *err)
{
    const tc_gguf_kv *kv = tc_gguf_find(g, key);
    if (!kv) return tc_fail(err, TC_E_MODEL, "%s: key '%s' is missing (expected an integer)", g->path, key);
    const tc_gguf_value *v = &kv->value;
    if (!vtype_is_int(v->type))
        return tc_fail(err, TC_E_MODEL, "%s: key '%s' at byte %zu: expected an integer, found %s",
                       g->path, key, kv->offset, tc_gguf_vtype_name(v->type));
    if (vtype_is_signed(v->type) ? (v->v.i < 0 || (uint64_t)v->v.i > max) : v->v.u > max)
        return tc_fail(err, TC_E_MODEL, "%s: key '%s' at byte %zu: value %s%" PRIu64 " out of range (expected 0..%" PRIu64 ")",
                       g->path, key, kv->offset, vtype_is_signed(v->type) && v->v.i < 0 ? "-" : "",
                       vtype_is_signed(v->type) && v->v.i < 0 ? (uint64_t)0 - (uint64_t)v->v.i : v->v.u, max);
    *out = vtype_is_signed(v->type) ? (uint64_t)v->v.i : v->v.u;
    return TC_OK;
}

tc_status tc_gguf_get_float(const tc_gguf *g, const char *key, double *out, tc_err *err)
{
    const tc_gguf_kv *kv = tc_gguf_find(g, key);
    if (!kv) return tc_fail(err, TC_E_MODEL, "%s: key '%s' is missing (expected a float)", g->path, key);
    if (kv->value.type != TC_GGUF_F32 && kv->value.type != TC_GGUF_F64)
        return tc_fail(err, TC_E_MODEL, "%s: key '%s' at byte %zu: expected f32 or f64, found %s",
                       g->path, key, kv->offset, tc_gguf_vtype_name(kv->value.type));
    *out = kv->value.v.f;
    return TC_OK;
}

tc_status tc_gguf_get_string(const tc_gguf *g, const char *key, const char **ptr, size_t *len, tc_err *err)
{
    const tc_gguf_kv *kv = tc_gguf_find(g, key);
    if (!kv) return tc_fail(err, TC_E_MODEL, "%s: key '%s' is missing (expected a string)", g->path, key);
    if (kv->value.type != TC_GGUF_STRING)
        return tc_fail(err, TC_E_MODEL, "%s: key '%s' at byte %zu: expected string, found %s",
                       g->path, key, kv->offset, tc_gguf_vtype_name(kv->value.type));
    *ptr = kv->value.v.str.ptr;
    *len = (size_t)kv->value.v.str.len;
    return TC_OK;
}

double tc_gguf_array_num(const tc_gguf_value *arr, uint64_t i)
{
    const uint8_t *p = (const uint8_t *)arr->v.arr.raw + i * vtypes[arr->v.arr.type].size;
    switch (arr->v.arr.type) {
    case TC_GGUF_U8: return *p;
    case TC_GGUF_I8: return (int8_t)*p;
    case TC_GGUF_BOOL: return *p != 0;
    case TC_GGUF_U16: { uint16_t x; memcpy(&x, p, 2); return x; }
    case TC_GGUF_I16: { int16_t x; memcpy(&x, p, 2); return x; }
    case TC_GGUF_U32: { uint32_t x; memcpy(&x, p, 4); return x; }
    case TC_GGUF_I32: { int32_t x; memcpy(&x, p, 4); return x; }
    case TC_GGUF_F32: { float x; memcpy(&x, p, 4); return x; }
    case TC_GGUF_U64: { uint64_t x; memcpy(&x, p, 8); return (double)x; }
    case TC_GGUF_I64: { int64_t x; memcpy(&x, p, 8); return (double)x; }
    case TC_GGUF_F64: { double x; memcpy(&x, p, 8); return x; }
    default: return 0.0;
    }
}

void tc_gguf_value_format(const tc_gguf_value *v, char *buf, size_t bufsz)
{
    switch (v->type) {
    case TC_GGUF_STRING: {
        int n = v->v.str.len > 60 ? 60 : (int)v->v.str.len;
        snprintf(buf, bufsz, "\"%.*s\"%s", n, v->v.str.ptr, v->v.str.len > 60 ? "..." : "");
        break;
    }
    case TC_GGUF_ARRAY: {
        size_t used = (size_t)snprintf(buf, bufsz, "[%s x %" PRIu64 "]", tc_gguf_vtype_name(v->v.arr.type), v->v.arr.n);
        for (uint64_t i = 0; i < v->v.arr.n && i < 4 && used + 1 < bufsz; i++) {
            char item[96];
            if (v->v.arr.items) tc_gguf_value_format(&v->v.arr.items[i], item, sizeof item);
            else snprintf(item, sizeof item, "%.9g", tc_gguf_array_num(v, i));
            used += (size_t)snprintf(buf + used, bufsz - used, " %s", item);
        }
        if (v->v.arr.n > 4 && used + 1 < bufsz) snprintf(buf + used, bufsz - used, " ...");
        break;
    }
    case TC_GGUF_F32: case TC_GGUF_F64: snprintf(buf, bufsz, "%.9g", v->v.f); break;
    case TC_GGUF_BOOL: snprintf(buf, bufsz, "%s", v->v.b ? "true" : "false"); break;
    default:
        if (vtype_is_signed(v->type)) snprintf(buf, bufsz, "%" PRId64, v->v.i);
        else snprintf(buf, bufsz, "%" PRIu64, v->v.u);
    }
}

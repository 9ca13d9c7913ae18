/* tcv.c -- the TCV1 golden-vector format (see tcv.h).  The writer lays
 * the whole image out in one buffer, appends its CRC-32, deflates it with
 * a gzip wrapper (level 9: the bytes zlib's gzwrite gives, so regenerated
 * vectors compare equal) and writes it atomically; the reader checks the
 * CRC before it trusts any length. */
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "base/fileio.h"
#include "base/json.h"
#include "format/tcv.h"

static const char tcv_magic[8] = { 'T', 'C', 'V', 'E', 'C', '1', '\n', '\0' };

/* a vector is read whole; 2 GiB is far above any the tests make */
#define TCV_MAX_BYTES ((size_t)1 << 31)

size_t tc_tcv_dtype_size(tc_tcv_dtype dtype)
{
    switch (dtype) {
    case TC_TCV_F32:
    case TC_TCV_I32: return 4;
    case TC_TCV_U16: return 2;
    case TC_TCV_I8: return 1;
    default: return 0;
    }
}

tc_tcv_entry tc_tcv_entry_2d(const char *name, tc_tcv_dtype dtype, uint64_t rows, uint64_t width, const void *data)
{
    tc_tcv_entry e = { .dtype = dtype, .n_dims = 2, .dims = { rows, width, 1, 1 }, .count = rows * width,
                       .data = data };
    snprintf(e.name, sizeof e.name, "%s", name);
    return e;
}

/* ---- writing ---- */

/* the image's bytes: header, meta, the entries, the CRC */
static size_t image_size(size_t meta_len, const tc_tcv_entry *e, size_t n)
{
    size_t total = 8 + 4 + 4 + meta_len + 4 + 4;
    for (size_t i = 0; i < n; i++)
        total += 4 + strlen(e[i].name) + 4 + 4 + 8 * (size_t)e[i].n_dims + (size_t)e[i].count * tc_tcv_dtype_size(e[i].dtype);
    return total;
}

static uint8_t *put(uint8_t *p, const void *x, size_t n)
{
    memcpy(p, x, n);
    return p + n;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v) { return put(p, &v, 4); }

/* Lay out the image into img (image_size bytes); returns its end. */
static uint8_t *lay_out(uint8_t *img, const char *meta, const tc_tcv_entry *e, size_t n)
{
    uint8_t *p = put(img, tcv_magic, 8);
    p = put_u32(p, 1);
    p = put_u32(p, (uint32_t)strlen(meta));
    p = put(p, meta, strlen(meta));
    p = put_u32(p, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        p = put_u32(p, (uint32_t)strlen(e[i].name));
        p = put(p, e[i].name, strlen(e[i].name));
        p = put_u32(p, (uint32_t)e[i].dtype);
        p = put_u32(p, e[i].n_dims);
        p = put(p, e[i].dims, 8 * (size_t)e[i].n_dims);
        p = put(p, e[i].data, (size_t)e[i].count * tc_tcv_dtype_size(e[i].dtype));
    }
    return put_u32(p, (uint32_t)crc32_z(0L, img, (size_t)(p - img)));
}

/* img[0..n) deflated with a gzip wrapper into a new buffer *out of *zn
 * bytes; false when out of memory. */
static bool gzip_image(const uint8_t *img, size_t n, uint8_t **out, size_t *zn)
{
    z_stream z = { 0 };
    if (deflateInit2(&z, 9, Z_DEFLATED, MAX_WBITS + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
    const size_t cap = deflateBound(&z, (uLong)n);
    uint8_t *buf = malloc(cap);
    int rc = Z_STREAM_ERROR;
    if (buf) {
        z.next_in = (Bytef *)img;
        z.next_out = buf;
        z.avail_out = (uInt)cap;
        size_t left = n;
        do {   /* input in pieces a uInt can count */
            z.avail_in = (uInt)(left < UINT_MAX ? left : UINT_MAX);
            left -= z.avail_in;
            rc = deflate(&z, left ? Z_NO_FLUSH : Z_FINISH);
        } while (left && rc == Z_OK);
    }
    *zn = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return false;
    }
    *out = buf;
    return true;
}

/* Every entry nameable and typed; TC_E_USAGE naming the first that is not. */
static tc_status check_entries(const char *path, const tc_tcv_entry *e, size_t n, tc_err *err)
{
    if (n > UINT32_MAX) return tc_fail(err, TC_E_USAGE, "%s: %zu entries: at most %" PRIu32, path, n, UINT32_MAX);
    for (size_t i = 0; i < n; i++) {
        const size_t len = strnlen(e[i].name, sizeof e[i].name);
        uint64_t count = 1;
        for (uint32_t d = 0; d < e[i].n_dims && d < 4; d++) count *= e[i].dims[d];
        if (len == 0 || len >= sizeof e[i].name || !tc_tcv_dtype_size(e[i].dtype) || e[i].n_dims < 1 ||
            e[i].n_dims > 4 || count != e[i].count)
            return tc_fail(err, TC_E_USAGE, "%s: entry %zu (%.40s): expected a name of 1..127 bytes, dtype 0..3 "
                           "and 1..4 dimensions whose product is its count", path, i, e[i].name);
    }
    return TC_OK;
}

tc_status tc_tcv_write(const char *path, const cJSON *meta, const tc_tcv_entry *entries, size_t n, tc_err *err)
{
    tc_status s = check_entries(path, entries, n, err);
    if (s) return s;
    char *m = cJSON_PrintUnformatted(meta);
    const size_t size = m ? image_size(strlen(m), entries, n) : 0;
    uint8_t *img = m ? malloc(size) : NULL, *z = NULL;
    size_t zn = 0;
    if (!img || !gzip_image(img, (size_t)(lay_out(img, m, entries, n) - img), &z, &zn))
        s = tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    else
        s = tc_write_file_atomic(path, z, zn, err);
    free(m);
    free(img);
    free(z);
    return s;
}

/* ---- reading: everything bounds-checked, the CRC first ---- */

typedef struct reader {
    const char *path;
    tc_err *err;
    const uint8_t *p;   /* the image without its CRC */
    size_t off, end;
} reader;

/* The next n bytes into dst (NULL: skip them). */
static tc_status take(reader *r, void *dst, size_t n, const char *what)
{
    if (n > r->end - r->off)
        return tc_fail(r->err, TC_E_FORMAT, "%s: %s at byte %zu: expected %zu bytes, the vector ends at %zu", r->path,
                       what, r->off, n, r->end);
    if (dst) memcpy(dst, r->p + r->off, n);
    r->off += n;
    return TC_OK;
}

/* An entry's dtype and dimensions (after its name). */
static tc_status read_shape(reader *r, tc_tcv_entry *e)
{
    tc_status s;
    uint32_t dtype;
    if ((s = take(r, &dtype, 4, e->name)) || (s = take(r, &e->n_dims, 4, e->name))) return s;
    e->dtype = (tc_tcv_dtype)dtype;
    if (!tc_tcv_dtype_size(e->dtype) || e->n_dims < 1 || e->n_dims > 4)
        return tc_fail(r->err, TC_E_FORMAT, "%s: entry %s: dtype %" PRIu32 " / %" PRIu32 " dims (expected 0..3 / 1..4)",
                       r->path, e->name, dtype, e->n_dims);
    e->count = 1;
    for (uint32_t i = 0; i < 4; i++) e->dims[i] = 1;
    for (uint32_t i = 0; i < e->n_dims; i++) {
        if ((s = take(r, &e->dims[i], 8, e->name))) return s;
        if (e->dims[i] == 0 || e->dims[i] > (1ull << 32) || e->count > (1ull << 40) / e->dims[i])
            return tc_fail(r->err, TC_E_FORMAT, "%s: entry %s: dimension %" PRIu32 " is %" PRIu64, r->path, e->name, i,
                           e->dims[i]);
        e->count *= e->dims[i];
    }
    return TC_OK;
}

static tc_status read_entry(reader *r, tc_tcv_entry *e)
{
    uint32_t len;
    tc_status s;
    memset(e, 0, sizeof *e);
    if ((s = take(r, &len, 4, "entry name length"))) return s;
    if (len == 0 || len >= sizeof e->name)
        return tc_fail(r->err, TC_E_FORMAT, "%s: entry name at byte %zu: expected 1..127 bytes, found %" PRIu32,
                       r->path, r->off, len);
    if ((s = take(r, e->name, len, "entry name")) || (s = read_shape(r, e))) return s;
    /* entries start at any byte of the file: copy each into its own
     * allocation so that float and int32 loads are aligned */
    const size_t bytes = (size_t)e->count * tc_tcv_dtype_size(e->dtype);
    const uint8_t *src = r->p + r->off;
    if ((s = take(r, NULL, bytes, e->name))) return s;
    void *own = malloc(bytes ? bytes : 1);
    if (!own) return tc_fail(r->err, TC_E_NOMEM, "%s: entry %s: out of memory", r->path, e->name);
    memcpy(own, src, bytes);
    e->data = own;
    return TC_OK;
}

/* The image after the magic: version, meta, the entries, nothing more. */
static tc_status read_body(reader *r, tc_tcv *v)
{
    uint32_t ver = 0, mlen = 0, n = 0;
    tc_status s;
    if ((s = take(r, &ver, 4, "version"))) return s;
    if (ver != 1) return tc_fail(r->err, TC_E_FORMAT, "%s: version at byte 8: expected 1, found %" PRIu32, r->path, ver);
    if ((s = take(r, &mlen, 4, "meta length"))) return s;
    const char *mtext = (const char *)r->p + r->off;
    if ((s = take(r, NULL, mlen, "meta"))) return s;
    if ((s = tc_json_parse(mtext, mlen, r->path, "a JSON meta at byte 16", &v->meta, r->err))) return s;
    if ((s = take(r, &n, 4, "entry count"))) return s;
    if (n > (r->end - r->off) / 17)   /* each entry needs at least 17 bytes */
        return tc_fail(r->err, TC_E_FORMAT, "%s: entry count %" PRIu32 " cannot fit", r->path, n);
    if (!(v->entries = calloc(n ? n : 1, sizeof *v->entries)))
        return tc_fail(r->err, TC_E_NOMEM, "%s: out of memory", r->path);
    for (v->n_entries = 0; v->n_entries < n; v->n_entries++)
        if ((s = read_entry(r, &v->entries[v->n_entries]))) return s;
    if (r->off != r->end)
        return tc_fail(r->err, TC_E_FORMAT, "%s: %zu bytes after the last entry", r->path, r->end - r->off);
    return TC_OK;
}

/* The CRC-32 of a stream but its last four bytes, which are held back
 * (tail) until more of the stream comes or it ends. */
typedef struct crc_lag {
    uLong crc;
    uint8_t tail[4];
    size_t held;    /* bytes in tail */
    uint8_t head[8];
    size_t seen;    /* bytes seen (head holds the first eight) */
} crc_lag;

static void crc_chunk(void *user, const void *buf, size_t n)
{
    crc_lag *c = user;
    const uint8_t *p = buf;
    const size_t all = c->held + n;
    for (size_t i = 0; i < n && c->seen + i < 8; i++) c->head[c->seen + i] = p[i];
    c->seen += n;
    if (all <= 4) {
        memcpy(c->tail + c->held, p, n);
        c->held = all;
        return;
    }
    const size_t commit = all - 4;   /* leave the window: the tail first, then the chunk */
    if (commit >= c->held) {
        c->crc = crc32_z(c->crc, c->tail, c->held);
        c->crc = crc32_z(c->crc, p, commit - c->held);
        memcpy(c->tail, p + (commit - c->held), 4);
    } else {   /* n < 4: part of the tail leaves */
        uint8_t t[8];
        c->crc = crc32_z(c->crc, c->tail, commit);
        memcpy(t, c->tail + commit, c->held - commit);
        memcpy(t + (c->held - commit), p, n);
        memcpy(c->tail, t, 4);
    }
    c->held = 4;
}

/* The stored CRC-32 against the one of the bytes before it, streamed, so
 * that a damaged vector is refused before any of it is kept. */
static tc_status check_crc_streamed(const char *path, tc_err *err)
{
    crc_lag c = { crc32_z(0L, NULL, 0), { 0 }, 0, { 0 }, 0 };
    size_t total;
    tc_status s = tc_read_gz_each(path, TCV_MAX_BYTES, "a golden vector", crc_chunk, &c, &total, err);
    if (s) return s;
    if (total < 8 + 4 + 4 + 4 + 4 || memcmp(c.head, tcv_magic, 8) != 0)
        return tc_fail(err, TC_E_FORMAT, "%s: magic at byte 0: expected \"TCVEC1\" (a tritcheck golden vector)", path);
    uint32_t stored;
    memcpy(&stored, c.tail, 4);
    if (stored != (uint32_t)c.crc)
        return tc_fail(err, TC_E_FORMAT, "%s: CRC-32 at byte %zu: expected %08" PRIx32 " (of the %zu bytes before "
                       "it), found %08" PRIx32 ": the vector is damaged", path, total - 4, (uint32_t)c.crc,
                       total - 4, stored);
    return TC_OK;
}

tc_status tc_tcv_read(const char *path, tc_tcv *v, tc_err *err)
{
    memset(v, 0, sizeof *v);
    void *buf;
    size_t n;
    /* the CRC first, streamed: a damaged or hostile vector costs no memory */
    tc_status s = check_crc_streamed(path, err);
    if (s) return s;
    s = tc_read_gz(path, TCV_MAX_BYTES, "a golden vector", &buf, &n, NULL, err);
    if (s) return s;
    const uint8_t *p = buf;
    if (n < 8 + 4 + 4 + 4 + 4 || memcmp(p, tcv_magic, 8) != 0) {
        s = tc_fail(err, TC_E_FORMAT, "%s: magic at byte 0: expected \"TCVEC1\" (a tritcheck golden vector)", path);
    } else {
        uint32_t stored, crc = (uint32_t)crc32_z(0L, p, n - 4);
        memcpy(&stored, p + n - 4, 4);
        reader r = { path, err, p, 8, n - 4 };
        if (stored != crc)
            s = tc_fail(err, TC_E_FORMAT, "%s: CRC-32 at byte %zu: expected %08" PRIx32 " (of the %zu bytes before "
                        "it), found %08" PRIx32 ": the vector is damaged", path, n - 4, crc, n - 4, stored);
        else
            s = read_body(&r, v);
    }
    free(buf);
    if (s) tc_tcv_free(v);
    return s;
}

const tc_tcv_entry *tc_tcv_find(const tc_tcv *v, const char *name)
{
    for (size_t i = 0; i < v->n_entries; i++)
        if (!strcmp(v->entries[i].name, name)) return &v->entries[i];
    return NULL;
}

void tc_tcv_free(tc_tcv *v)
{
    for (size_t i = 0; v->entries && i < v->n_entries; i++) free((void *)v->entries[i].data);
    free(v->entries);
    cJSON_Delete(v->meta);
    memset(v, 0, sizeof *v);
}

/* tcv.h -- the golden-vector file format "TCV1": named, typed entries and
 * a JSON meta, gzip-compressed.  A plain container: what the entries mean
 * (the taps of a recording, the inputs and answers of a kernel) is the
 * business of the code that writes and reads them (src/check/vectors.c).
 *
 * Layout (little-endian), before compression:
 *   magic    8 bytes "TCVEC1\n\0"
 *   u32      format version (1)
 *   u32      meta_len, then meta_len bytes of JSON
 *   u32      n_entries, then per entry:
 *              u32 name_len (1..127), name bytes
 *              u32 dtype (tc_tcv_dtype), u32 n_dims (1..4), u64 dims[n_dims]
 *              the data: dims multiplied times the dtype's size
 *   u32      CRC-32 (zlib) of every byte before it
 */
#ifndef TC_FORMAT_TCV_H
#define TC_FORMAT_TCV_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/status.h"

/* The element types of an entry. */
typedef enum tc_tcv_dtype {
    TC_TCV_F32 = 0,   /* float */
    TC_TCV_I8 = 1,    /* int8 (also packed I2_S bytes) */
    TC_TCV_I32 = 2,   /* int32 */
    TC_TCV_U16 = 3    /* uint16 (F16 bits) */
} tc_tcv_dtype;

enum { TC_TCV_NAME_MAX = 128 };   /* names are 1..127 bytes */

/* One entry.  Written: dims[0] x dims[1] (n_dims 2), data borrowed from
 * the caller.  Read: data is an aligned copy that the vector owns. */
typedef struct tc_tcv_entry {
    char name[TC_TCV_NAME_MAX];
    tc_tcv_dtype dtype;
    uint32_t n_dims;
    uint64_t dims[4];    /* unused dimensions are 1 */
    uint64_t count;      /* the product of the dimensions */
    const void *data;
} tc_tcv_entry;

/* A vector read into memory. */
typedef struct tc_tcv {
    cJSON *meta;
    tc_tcv_entry *entries;
    size_t n_entries;
} tc_tcv;

/* Bytes per element of dtype (0 for an unknown one). */
size_t tc_tcv_dtype_size(tc_tcv_dtype dtype);

/* An entry of rows x width elements of dtype at data (borrowed), named
 * name (truncated to TC_TCV_NAME_MAX - 1 bytes). */
tc_tcv_entry tc_tcv_entry_2d(const char *name, tc_tcv_dtype dtype, uint64_t rows, uint64_t width, const void *data);

/* Write meta and entries[0..n) to path as a gzip-compressed TCV1 file,
 * atomically (base/fileio.h).  TC_OK, TC_E_USAGE (an empty or overlong
 * name, an unknown dtype), TC_E_IO, TC_E_NOMEM. */
tc_status tc_tcv_write(const char *path, const cJSON *meta, const tc_tcv_entry *entries, size_t n, tc_err *err);

/* Read the (gzip or plain) TCV1 file at path into *v.  The CRC-32 is
 * checked first, then every length against what is left: a damaged file
 * is TC_E_FORMAT naming the file, the field, the byte offset and what was
 * expected.  On failure *v is empty.  TC_OK, TC_E_IO, TC_E_FORMAT,
 * TC_E_NOMEM. */
tc_status tc_tcv_read(const char *path, tc_tcv *v, tc_err *err);

/* The entry called name, or NULL. */
const tc_tcv_entry *tc_tcv_find(const tc_tcv *v, const char *name);

/* Free what tc_tcv_read built and empty *v (an empty *v is fine). */
void tc_tcv_free(tc_tcv *v);

#endif

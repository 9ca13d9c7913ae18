/* gguf.h -- GGUF v2/v3 reader and writer (SPEC 1.1).
 *
 * The reader maps the file read-only and validates every count, length,
 * offset and size against the file before it trusts it: a hostile file
 * gives one error line naming the file, the field or tensor, the byte
 * offset and what was expected -- never a crash or an out-of-bounds read.
 * Tensor data, string values and numeric arrays are borrowed pointers into
 * the mapping and live as long as the tc_gguf.
 *
 * The writer streams: declare key/values and tensors, begin (the header is
 * written to a temporary file beside the target), append tensor data in
 * declaration order, finish (the temporary is renamed into place).  An
 * aborted or failed write removes the temporary and leaves nothing behind.
 */
#ifndef TC_GGUF_H
#define TC_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tritcheck reads GGUF (little-endian) by direct loads: a little-endian host is required"
#endif

#define TC_GGUF_MAGIC "GGUF"
#define TC_GGUF_DEFAULT_ALIGNMENT 32
#define TC_GGUF_MAX_DIMS 4
#define TC_GGUF_MAX_NAME 63       /* bytes in a tensor name (ggml: 64 with NUL) */
#define TC_GGUF_MAX_ARRAY_DEPTH 8 /* nesting of arrays of arrays */

/* Key/value types, numbered as in the file. */
typedef enum tc_gguf_vtype {
    TC_GGUF_U8 = 0, TC_GGUF_I8 = 1, TC_GGUF_U16 = 2, TC_GGUF_I16 = 3,
    TC_GGUF_U32 = 4, TC_GGUF_I32 = 5, TC_GGUF_F32 = 6, TC_GGUF_BOOL = 7,
    TC_GGUF_STRING = 8, TC_GGUF_ARRAY = 9, TC_GGUF_U64 = 10, TC_GGUF_I64 = 11,
    TC_GGUF_F64 = 12,
    TC_GGUF_NTYPES = 13
} tc_gguf_vtype;

/* A value.  Strings are NOT NUL-terminated (ptr, len).  A numeric or bool
 * array keeps its raw little-endian elements in `raw`; an array of strings
 * or of arrays keeps one parsed value per element in `items`. */
typedef struct tc_gguf_value {
    tc_gguf_vtype type;
    union {
        uint64_t u;   /* U8, U16, U32, U64 */
        int64_t i;    /* I8, I16, I32, I64 */
        double f;     /* F32, F64 */
        bool b;       /* BOOL */
        struct { const char *ptr; uint64_t len; } str;
        struct {
            tc_gguf_vtype type;             /* element type */
            uint64_t n;                     /* element count */
            const void *raw;                /* numeric/bool elements, or NULL */
            struct tc_gguf_value *items;    /* string/array elements, or NULL */
        } arr;
    } v;
} tc_gguf_value;

typedef struct tc_gguf_kv {
    char *key;            /* NUL-terminated copy */
    tc_gguf_value value;
    size_t offset;        /* byte offset of the key in the file */
} tc_gguf_kv;

typedef struct tc_gguf_tensor {
    char *name;           /* NUL-terminated copy */
    uint32_t n_dims;      /* 1..4 */
    uint64_t ne[TC_GGUF_MAX_DIMS]; /* ne[0] innermost; unused dims are 1 */
    uint32_t type;        /* tc_type id */
    uint64_t offset;      /* relative to the data section */
    uint64_t n_elements;
    size_t nbytes;        /* true size (I2_S: n/4 + 32) */
    const uint8_t *data;  /* borrowed pointer into the mapping */
    size_t info_offset;   /* byte offset of the tensor info in the file */
} tc_gguf_tensor;

typedef struct tc_gguf {
    char *path;           /* file name used in messages */
    uint32_t version;     /* 2 or 3 */
    const uint8_t *base;  /* the mapping (or the caller's buffer) */
    size_t size;          /* bytes in the file */
    bool mapped;          /* base is an mmap we must unmap */
    size_t n_kv;
    tc_gguf_kv *kv;
    size_t n_tensors;
    tc_gguf_tensor *tensors;
    size_t alignment;     /* general.alignment or 32 */
    size_t data_offset;   /* start of the data section */
} tc_gguf;

/* Open and validate a GGUF file.  Returns TC_OK, TC_E_IO (cannot open,
 * stat or map), TC_E_FORMAT (malformed) or TC_E_NOMEM. */
tc_status tc_gguf_open(const char *path, tc_gguf **out, tc_err *err);

/* Parse a GGUF image already in memory (not copied: buf must outlive the
 * result).  `name` is used in messages.  Same codes as tc_gguf_open. */
tc_status tc_gguf_parse(const uint8_t *buf, size_t size, const char *name,
                        tc_gguf **out, tc_err *err);

/* Unmap and free; NULL is a no-op. */
void tc_gguf_close(tc_gguf *g);

/* Lookups; NULL when absent. */
const tc_gguf_kv *tc_gguf_find(const tc_gguf *g, const char *key);
const tc_gguf_tensor *tc_gguf_find_tensor(const tc_gguf *g, const char *name);

/* Name of a key/value type ("u32", "string"); "unknown" when out of range. */
const char *tc_gguf_vtype_name(uint32_t t);

/* Typed metadata getters.  Integers accept any integer type whose value
 * fits; floats accept f32 or f64.  Return TC_OK, or TC_E_MODEL (absent,
 * wrong type or out of range, with a message naming the file and key). */
tc_status tc_gguf_get_uint(const tc_gguf *g, const char *key, uint64_t max,
                           uint64_t *out, tc_err *err);
tc_status tc_gguf_get_float(const tc_gguf *g, const char *key, double *out, tc_err *err);
tc_status tc_gguf_get_string(const tc_gguf *g, const char *key, const char **ptr,
                             size_t *len, tc_err *err);

/* Numeric element i of an array value (any integer, float or bool element
 * type), as a double.  i must be < n. */
double tc_gguf_array_num(const tc_gguf_value *arr, uint64_t i);

/* Size in bytes of one element of a fixed-size type; 0 for string/array. */
size_t tc_gguf_vtype_size(uint32_t t);

/* Format a value for display (strings quoted and truncated, arrays as
 * "[type x n] first items ..."), into buf of size bufsz. */
void tc_gguf_value_format(const tc_gguf_value *v, char *buf, size_t bufsz);

/* ---- writer ---- */

typedef struct tc_gguf_writer tc_gguf_writer;

/* A writer for GGUF `version` (2 or 3) with the given data alignment (a
 * power of two; 0 means 32, and general.alignment is written when it is
 * not 32).  NULL when out of memory. */
tc_gguf_writer *tc_gguf_writer_new(uint32_t version, size_t alignment);

/* Free the writer; removes the temporary file if not finished. */
void tc_gguf_writer_free(tc_gguf_writer *w);

/* Add a key/value (deep copy of v).  TC_E_USAGE for a duplicate key or a
 * call after begin, TC_E_NOMEM. */
tc_status tc_gguf_writer_add(tc_gguf_writer *w, const char *key, const tc_gguf_value *v,
                             tc_err *err);

/* Conveniences built on tc_gguf_writer_add. */
tc_status tc_gguf_writer_set_u32(tc_gguf_writer *w, const char *key, uint32_t v, tc_err *err);
tc_status tc_gguf_writer_set_f32(tc_gguf_writer *w, const char *key, float v, tc_err *err);
tc_status tc_gguf_writer_set_bool(tc_gguf_writer *w, const char *key, bool v, tc_err *err);
tc_status tc_gguf_writer_set_str(tc_gguf_writer *w, const char *key, const char *s, tc_err *err);
/* A numeric array of n elements of type t, read from elems (raw layout). */
tc_status tc_gguf_writer_set_arr(tc_gguf_writer *w, const char *key, tc_gguf_vtype t,
                                 uint64_t n, const void *elems, tc_err *err);
tc_status tc_gguf_writer_set_arr_str(tc_gguf_writer *w, const char *key, uint64_t n,
                                     const char *const *strs, tc_err *err);

/* Declare the next tensor (data follows in this order).  TC_E_USAGE for a
 * duplicate or over-long name, bad dims, or an unknown type. */
tc_status tc_gguf_writer_add_tensor(tc_gguf_writer *w, const char *name, uint32_t type,
                                    uint32_t n_dims, const uint64_t *ne, tc_err *err);

/* Create a temporary file beside `path` and write the header, key/values
 * and tensor infos.  TC_E_IO on failure. */
tc_status tc_gguf_writer_begin(tc_gguf_writer *w, const char *path, tc_err *err);

/* Append n bytes of tensor data; a tensor may be written in several calls
 * and padding is inserted when it is complete.  TC_E_USAGE when more data
 * is written than declared; TC_E_IO on a write error. */
tc_status tc_gguf_writer_write(tc_gguf_writer *w, const void *buf, size_t n, tc_err *err);

/* Check every declared byte was written, flush, and rename the temporary
 * to the target path.  TC_E_USAGE if data is missing; TC_E_IO. */
tc_status tc_gguf_writer_finish(tc_gguf_writer *w, tc_err *err);

#endif

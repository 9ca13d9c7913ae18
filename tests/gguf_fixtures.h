/* gguf_fixtures.h -- GGUF files for the reader's and the writer's suites:
 * byte images, the small valid file whose layout the error cases patch,
 * and a tiny BitNet model.  Failures are Check assertions. */
#ifndef TC_GGUF_FIXTURES_H
#define TC_GGUF_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/gguf.h"

/* ---- byte images ---- */

typedef struct img { uint8_t *b; size_t n; } img;

/* The whole file at path (malloc'd). */
img img_read(const char *path);

/* Write the image to a fresh temporary file; the caller unlinks and frees. */
char *img_to_temp(const img *m);

/* Store v as `width` little-endian bytes at m->b + at (inside the image). */
void put_le(img *m, size_t at, unsigned width, uint64_t v);

/* Finish a writer into memory (data, if not NULL, writes the tensor
 * data after begin, given ctx); the writer is freed, the file read back
 * and removed. */
img writer_to_img(tc_gguf_writer *w, void (*data)(tc_gguf_writer *, const void *), const void *ctx);

/* tc_gguf_writer_write, asserted to succeed. */
void w_write(tc_gguf_writer *w, const void *p, size_t n);

/* A small deterministic generator (an LCG): seed, then 24-bit draws. */
void rnd_seed(uint32_t seed);
uint32_t rnd(void);

/* ---- the small valid file ----
 *
 * Six key/values with 5-byte keys (so a key can be renamed into another),
 * three tensors with 5-byte names, default alignment 32:
 *
 *   byte   0  header (magic, version 3, 3 tensors, 6 kvs)
 *   byte  24  t.u32  u32 4000000000         value at  41
 *   byte  45  t.str  string "bitnet"        value at  62
 *   byte  76  t.bol  bool true              value at  93
 *   byte  94  t.arr  [u8 x 3] 0 128 255     value at 111 (n at 115)
 *   byte 126  t.sts  [string x 2] "a" "bc"  value at 143 (n at 147)
 *   byte 174  t.nst  [array x 1] [i16 x 2]  value at 191
 *   byte 219  w.f32  F32 {4, 2}   n_dims at 232, ne at 236, type 252, offset 256
 *   byte 264  w.i2s  I2_S {128, 2}  n_dims at 277, ne at 281, type 297, offset 301
 *   byte 309  w.f16  F16 {8}      n_dims at 322, ne at 326, type 334, offset 338
 *   byte 346  padding; the data section starts at 352
 *   data  0 (file 352) w.f32, 32 bytes; 32 (384) w.i2s, 96 bytes (scale at 448,
 *   padding 452..479); 128 (480) w.f16, 16 bytes; the file ends at 496.
 */
enum {
    K0 = 24, K1 = 45, K2 = 76, K3 = 94, K4 = 126, K5 = 174,
    T0 = 219, T1 = 264, T2 = 309, INFO_END = 346, DATA = 352, SMALL_SIZE = 496
};

extern const float small_f32[8];
extern const uint16_t small_f16[8];
extern uint8_t small_i2s[96];   /* filled by build_small */

/* The small file, written with the given GGUF version and alignment (0: 32). */
img build_small(uint32_t version, size_t align);

/* ---- a tiny BitNet model ---- */

enum { MD = 128, MFF = 256, MVOCAB = 16, MLAYERS = 2, MHEADS = 2, MHEADS_KV = 1, MHEAD_DIM = 64 };

typedef struct model_opts {
    const char *arch;         /* general.architecture; NULL leaves it out */
    bool embd_as_string;      /* <arch>.embedding_length written as a string */
    bool no_eps;              /* leave out layer_norm_rms_epsilon */
    uint32_t rope_dim;        /* rope.dimension_count */
    uint32_t head_count;      /* attention.head_count */
    uint32_t block_count;     /* block_count */
    const char *omit;         /* a tensor left out */
    const char *retype;       /* a tensor stored as type retype_to */
    uint32_t retype_to;
    const char *reshape;      /* a tensor stored as {reshape_ne0, reshape_ne1} */
    uint64_t reshape_ne0, reshape_ne1;
    bool junk_padding;        /* leftover bytes in every I2_S padding */
} model_opts;

#define MODEL_DEFAULTS { .arch = "bitnet-b1.58", .rope_dim = MHEAD_DIM, .head_count = MHEADS, \
                         .block_count = MLAYERS }

/* The model, default or spoiled as o says, as a byte image. */
img build_model(const model_opts *o);

/* ---- lookups ---- */

/* Key `key`'s value, asserted present and of type t. */
const tc_gguf_value *val(const tc_gguf *g, const char *key, tc_gguf_vtype t);

#endif

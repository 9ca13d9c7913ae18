/* dump.h -- recorded taps: collect every tap of a run in memory (as a tap
 * callback), look them up, and write them in the layout of
 * vectors/external/bitnet-cpp/:
 *
 *   DIR/<tap>.f32        float taps: raw little-endian float32 [n_pos][width]
 *   DIR/<tap>.i8         q8 taps: int8 codes [n_pos][width]
 *   DIR/<tap>.scale.f32  q8 taps: float32 per-token scales s [n_pos]
 *   DIR/index.json       layout, tokens, engine, precision, and per tap its
 *                        name, kind, shape, file names and SHA-256s
 *
 * A recording made by another program (tritcheck-record) says more, in
 * optional keys that older readers ignore and that this one reads back:
 *   "prompt_tokens"     how many tokens ran as the first batch
 *   "model"             {"file", "sha256"} of the model it ran
 *   "engine_identity"   an object: what ran (program, commit, build flags,
 *                       CPU features, threads, ...), copied verbatim
 *   "unmapped"          [{"name", "op", "shape"}]: tensors the engine showed
 *                       that the recorder could not name as a tap
 *   "missing"           [{"tap", "reason"}]: canonical taps of the
 *                       recording's precision that it does not hold
 *   "notes"             [strings]: anything a reader must know
 *
 * Rows are positions 0.. in order: a tap's batches must arrive in order of
 * position (prefill, then decode), as one run produces them.
 */
#ifndef TC_DUMP_H
#define TC_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "engine/engine.h"

typedef struct tc_dump tc_dump;

/* One recorded tap. */
typedef struct tc_dump_tap {
    char *name;           /* canonical tap name */
    tc_tap_kind kind;
    uint32_t width;       /* elements per row */
    uint32_t n_pos;       /* rows recorded */
    float *f;             /* TC_TAP_F32: [n_pos][width] */
    int8_t *q8;           /* TC_TAP_Q8: [n_pos][width] */
    float *scale;         /* TC_TAP_Q8: [n_pos] */
    bool derived;         /* not recorded: derived from another tap (the comparator's
                           * .q8 codes from a float norm tap) */
} tc_dump_tap;

/* A new empty recording; NULL when out of memory. */
tc_dump *tc_dump_new(void);

/* Free; NULL is a no-op. */
void tc_dump_free(tc_dump *d);

/* The tap callback (user = the tc_dump): appends the tap's rows.  Returns
 * TC_OK, TC_E_USAGE (a batch out of position order, or a width that
 * changed) or TC_E_NOMEM.  Never changes the tensor. */
tc_status tc_dump_tap_fn(void *user, const tc_tap *tap, tc_err *err);

/* Mark tap `name` as derived rather than recorded (no-op when absent). */
void tc_dump_set_derived(tc_dump *d, const char *name);

/* Record the tokens the run fed (appended) and what ran them (copied). */
tc_status tc_dump_add_tokens(tc_dump *d, const int32_t *tokens, size_t n, tc_err *err);
tc_status tc_dump_set_engine(tc_dump *d, const char *engine, const char *precision, tc_err *err);

/* ---- what another program's recording says about itself ---- */

/* The first batch's size (0: not recorded). */
void tc_dump_set_prompt_tokens(tc_dump *d, uint32_t n);
uint32_t tc_dump_prompt_tokens(const tc_dump *d);

/* The model's file name and SHA-256 (hex), copied.  TC_OK or TC_E_NOMEM. */
tc_status tc_dump_set_model(tc_dump *d, const char *file, const char *sha256, tc_err *err);
const char *tc_dump_model_sha256(const tc_dump *d);   /* "" when unknown */

/* The engine's identity: an object the dump takes over (NULL clears).
 * The getter returns NULL when there is none. */
void tc_dump_set_identity(tc_dump *d, cJSON *identity);
const cJSON *tc_dump_identity(const tc_dump *d);

/* A tensor the recorder saw but could not map to a tap: its name, the op
 * that made it ("MUL_MAT") and its shape ne[0..n_dims).  A name already
 * listed is not listed again.  TC_OK or TC_E_NOMEM. */
tc_status tc_dump_add_unmapped(tc_dump *d, const char *name, const char *op, const int64_t *ne, int n_dims,
                               tc_err *err);
size_t tc_dump_n_unmapped(const tc_dump *d);
const char *tc_dump_unmapped(const tc_dump *d, size_t i);

/* A canonical tap the recording lacks, and why.  A tap already listed is
 * not listed again.  TC_OK or TC_E_NOMEM. */
tc_status tc_dump_add_missing(tc_dump *d, const char *tap, const char *reason, tc_err *err);
size_t tc_dump_n_missing(const tc_dump *d);
const char *tc_dump_missing(const tc_dump *d, size_t i, const char **reason);

/* A note (copied).  TC_OK or TC_E_NOMEM. */
tc_status tc_dump_add_note(tc_dump *d, const char *note, tc_err *err);
size_t tc_dump_n_notes(const tc_dump *d);
const char *tc_dump_note(const tc_dump *d, size_t i);

/* Taps in order of first appearance; lookup by name (NULL when absent). */
size_t tc_dump_n_taps(const tc_dump *d);
const tc_dump_tap *tc_dump_get(const tc_dump *d, size_t i);
const tc_dump_tap *tc_dump_find(const tc_dump *d, const char *name);

/* The tokens recorded (*n of them), and the engine and precision ("" when
 * unknown). */
const int32_t *tc_dump_tokens(const tc_dump *d, size_t *n);
const char *tc_dump_engine(const tc_dump *d);
const char *tc_dump_precision(const tc_dump *d);

/* Load a recording from dir: index.json with "tokens" and "taps" (each
 * {tap, shape [n_pos, width], file (default <tap>.f32), sha256, and for
 * int8 taps scale_file}), as run --dump and bitnet.cpp's dumps write it,
 * and the optional keys above (a malformed one is TC_E_FORMAT).
 * A file may also be stored gzip'd as <file>.gz.  Every SHA-256 the index
 * gives is checked against the (decompressed) bytes.  Returns TC_OK,
 * TC_E_IO (a file missing or unreadable), TC_E_FORMAT (index malformed,
 * size or hash mismatch: the message names the file and field), TC_E_NOMEM. */
tc_status tc_dump_load(const char *dir, tc_dump **out, tc_err *err);

/* Whether tc_dump_write could write into dir: a writable directory, or
 * absent in a writable directory; checked before a run, so that a bad
 * --dump is the first thing said.  TC_OK or TC_E_IO naming the reason. */
tc_status tc_dump_check_dir(const char *dir, tc_err *err);

/* Write the recording into dir (created if absent).  Each file is written
 * to a temporary beside it and renamed; index.json comes last.  On failure
 * every file this call wrote is removed (and dir, if this call created
 * it).  Returns TC_OK, TC_E_IO or TC_E_NOMEM. */
tc_status tc_dump_write(const tc_dump *d, const char *dir, tc_err *err);

#endif

/* vectors.h -- golden vectors: a small binary format for known answers,
 * and the per-model vectors the reference engine generates.
 *
 * Format "TCV1" (little-endian), stored gzip-compressed:
 *   magic    8 bytes "TCVEC1\n\0"
 *   u32      format version (1)
 *   u32      meta_len, then meta_len bytes of JSON (what the vector is:
 *            kind, model recipe, tokens, precision, generator)
 *   u32      n_entries, then per entry:
 *              u32 name_len, name bytes
 *              u32 dtype (0 f32, 1 i8, 2 i32, 3 u16), u32 n_dims (1..4), u64 dims[n_dims]
 *              the data, dims multiplied times the dtype's size
 *   u32      CRC-32 (zlib) of every byte before it
 * A model vector (meta.kind "model") holds one entry per tap (all positions
 * as rows; a q8 tap is two entries, NAME (i8 codes) and NAME.scale (f32 per
 * row)).  A kernel vector (meta.kind "kernel") holds, per case c of
 * meta.cases, the inputs and the reference kernel's outputs as c<c>.<name>.
 */
#ifndef TC_VECTORS_H
#define TC_VECTORS_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "engine/dump.h"
#include "base/status.h"

/* Write a recording and its description as a TCV1 file (gzip, atomic).
 * TC_OK, TC_E_IO, TC_E_NOMEM. */
tc_status tc_tcv_write(const char *path, const cJSON *meta, const tc_dump *d, tc_err *err);

/* Read a TCV1 file into a recording (its tokens from meta.tokens) and its
 * meta (caller frees both).  Every length is checked and the CRC-32 first:
 * a damaged file is TC_E_FORMAT naming the file and what was expected.
 * TC_OK, TC_E_IO, TC_E_FORMAT, TC_E_NOMEM. */
tc_status tc_tcv_read(const char *path, tc_dump **out, cJSON **meta, tc_err *err);

/* Generate the vectors into dir: for each built-in recipe, the model is
 * made by gen (deterministic) and the reference engine's taps recorded; for
 * each kernel, random inputs and the reference kernel's outputs.
 * One line per vector on out.  TC_OK, TC_E_IO, TC_E_NOMEM. */
tc_status tc_vectors_generate(const char *dir, FILE *out, tc_err *err);

/* Check engine `cand` against every *.tcv.gz in dir: model vectors by an
 * isolated comparison within tol, kernel vectors on the engine's kernel
 * table (ref, fast[:ISA], plugin:PATH) exactly or within 1e-6, with guard
 * bytes.  *all_pass says whether each passed.  TC_OK, or the error
 * of a vector that could not be checked (TC_E_FORMAT for a CRC mismatch). */
tc_status tc_vectors_check(const char *dir, const char *cand, double tol, FILE *out, bool *all_pass, tc_err *err);

#endif

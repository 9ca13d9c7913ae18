/* vectors.h -- golden vectors: known answers in TCV1 files
 * (format/tcv.h), made by the reference engine and its kernels.
 *
 * A model vector (meta.kind "model") holds one entry per tap of a
 * recording (all positions as rows; a q8 tap is two entries, NAME (i8
 * codes) and NAME.scale (f32 per row)).  A kernel vector (meta.kind
 * "kernel") holds, per case c of meta.cases, the inputs and the reference
 * kernel's outputs as c<c>.<name>; the kernel suite (check/ksuite.h)
 * checks a kernel table on them.
 */
#ifndef TC_VECTORS_H
#define TC_VECTORS_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "base/status.h"

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

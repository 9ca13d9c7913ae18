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
#include "check/shard.h"

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

/* The *.tcv.gz entries of dir sorted by name (malloc'd array of *n
 * malloc'd names).  TC_OK, TC_E_IO, TC_E_NOMEM. */
tc_status tc_vectors_list(const char *dir, char ***names, size_t *n, tc_err *err);

/* Check one entry of dir as tc_vectors_check does (its line, and one per
 * failing kernel case, on out).  TC_OK (see *pass), or the error of a
 * vector that could not be checked. */
tc_status tc_vectors_check_one(const char *dir, const char *name, const char *cand, double tol, FILE *out, bool *pass,
                               tc_err *err);

/* ---- a check with a receipt (vectors_job.c) ---- */

typedef struct tc_vectors_job {
    const char *dir;     /* the vectors */
    const char *cand;    /* the engine checked */
    double tol;          /* model vectors: the scaled error tolerance */
    tc_shard shard;      /* only this shard of the entries (count 0: all) */
} tc_vectors_job;

/* Check the entries of j->dir (a shard's share of them with j->shard),
 * the lines on out (may be NULL), the receipt (kind "vectors", not
 * sealed) in *receipt when receipt is not NULL: each entry's name,
 * SHA-256, pass and report, and the summary.  TC_OK (see *all_pass), or
 * TC_E_USAGE (no vectors; more shards than entries), TC_E_IO,
 * TC_E_FORMAT (a damaged vector), TC_E_NOMEM. */
tc_status tc_vectors_job_run(const tc_vectors_job *j, FILE *out, cJSON **receipt, bool *all_pass, tc_err *err);

/* A vectors receipt's summary (entries, passed, failed, verdict,
 * first_failure) derived from its entries, in place of an earlier one: a
 * run and `tritcheck merge` both call it.  TC_OK, TC_E_NOMEM. */
tc_status tc_vectors_finish(cJSON *r, FILE *summary, tc_err *err);

#endif

/* conform.h -- conformance suites (`tritcheck conform`): manifests of
 * comparison cases with their expected verdicts, run against a candidate.
 *
 * A manifest (conformance/SUITE.json) lists cases: a model (a gen recipe,
 * a file under the vectors directory, or the user's file under
 * --model-dir), the tokens, precision, mode, tolerances, an optional fault
 * injection, and the verdict expected.  Running a suite writes one sealed
 * receipt per case and a summary receipt (kind "conform") into a directory.
 * A shard (--shard I/N) runs a contiguous share of the cases and writes
 * its own summary; tritcheck merge joins the summaries.
 */
#ifndef TC_CONFORM_H
#define TC_CONFORM_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "base/status.h"
#include "check/shard.h"

typedef struct tc_conform_opts {
    const char *suite;       /* a manifest path, or a suite name found in suite_dir */
    const char *suite_dir;   /* where named suites live (the conformance/ directory) */
    const char *vectors;     /* where model and recording paths of the manifest point */
    const char *model_dir;   /* where the user's own model files are (cases marked "user") */
    const char *cand;        /* the candidate engine for every case that names none */
    const char *out_dir;     /* receipts go here (created) */
    const char *sign_key;    /* Ed25519 key to sign each receipt, or NULL */
    int n_threads;
    tc_shard shard;          /* run only this shard of the cases (count 0: all); its summary is
                                summary.shard-I-of-N.json */
} tc_conform_opts;

/* Run the suite.  One line per case on out.  *all_conform says whether
 * every case gave its expected verdict.  TC_OK (see *all_conform),
 * TC_E_IO / TC_E_FORMAT (manifest, with the field named), TC_E_USAGE,
 * or an error that stopped a case (the message names the case). */
tc_status tc_conform_run(const tc_conform_opts *o, FILE *out, bool *all_conform, tc_err *err);

/* A conform summary's "summary" (cases, conforming, verdict) derived from
 * its cases, in place of an earlier one: a run and `tritcheck merge` both
 * call it.  TC_OK, TC_E_NOMEM. */
tc_status tc_conform_finish(cJSON *sum, FILE *out, tc_err *err);

/* A shard's section of a conform summary: the job is the suite (the
 * manifest's SHA-256), the candidate and the threads.  TC_OK, TC_E_IO,
 * TC_E_NOMEM. */
tc_status tc_conform_mark_shard(cJSON *sum, const tc_conform_opts *o, const char *manifest_sha256, uint64_t n_cases,
                                uint64_t first, uint64_t end, tc_err *err);

#endif

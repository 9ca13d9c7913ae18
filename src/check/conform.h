/* conform.h -- conformance suites (`tritcheck conform`): manifests of
 * comparison cases with their expected verdicts, run against a candidate.
 *
 * A manifest (conformance/SUITE.json) lists cases: a model (a gen recipe,
 * a file under the vectors directory, or the user's file under
 * --model-dir), the tokens, precision, mode, tolerances, an optional fault
 * injection, and the verdict expected.  Running a suite writes one sealed
 * receipt per case and a summary receipt (kind "conform") into a directory.
 */
#ifndef TC_CONFORM_H
#define TC_CONFORM_H

#include <stdbool.h>
#include <stdio.h>

#include "base/status.h"

typedef struct tc_conform_opts {
    const char *suite;       /* a manifest path, or a suite name found in suite_dir */
    const char *suite_dir;   /* where named suites live (the conformance/ directory) */
    const char *vectors;     /* where model and recording paths of the manifest point */
    const char *model_dir;   /* where the user's own model files are (cases marked "user") */
    const char *cand;        /* the candidate engine for every case that names none */
    const char *out_dir;     /* receipts go here (created) */
    const char *sign_key;    /* Ed25519 key to sign each receipt, or NULL */
    int n_threads;
} tc_conform_opts;

/* Run the suite.  One line per case on out.  *all_conform says whether
 * every case gave its expected verdict.  TC_OK (see *all_conform),
 * TC_E_IO / TC_E_FORMAT (manifest, with the field named), TC_E_USAGE,
 * or an error that stopped a case (the message names the case). */
tc_status tc_conform_run(const tc_conform_opts *o, FILE *out, bool *all_conform, tc_err *err);

#endif

/* verify.h -- checking receipts (`tritcheck verify`) and comparing two of
 * them (`tritcheck diff`). */
#ifndef TC_VERIFY_H
#define TC_VERIFY_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "base/status.h"

typedef struct tc_verify_opts {
    const char *model;     /* check the model's size and SHA-256 against this file (and rerun on it) */
    const char *baseline;  /* accuracy receipts with a latent baseline: its file */
    const char *pubkey;    /* require a signature by this Ed25519 public key (PEM) */
    bool rerun;            /* run the receipt again and compare every figure */
} tc_verify_opts;

/* Check a receipt: schema (required fields and types for its kind),
 * digest, signature, internal consistency (verdicts follow from the
 * figures and criteria, counts add up), the model file, and with rerun the
 * figures themselves.  Each problem is one line on out.  *valid says
 * whether all checks passed.  Returns TC_OK (checked: see *valid), or an
 * error when the receipt could not be checked at all (TC_E_IO, TC_E_FORMAT
 * for a file that is not a receipt, TC_E_MODEL, TC_E_NOMEM). */
tc_status tc_verify(const char *path, const tc_verify_opts *o, FILE *out, bool *valid, tc_err *err);

/* What changed between two receipts of the same kind: per tap, error
 * before and after and verdict flips; kernel variants that changed;
 * timings.  *worse says whether any verdict got worse.  TC_OK or an error
 * reading either receipt. */
tc_status tc_diff_receipts(const char *old_path, const char *new_path, FILE *out, bool *worse, tc_err *err);

#endif

/* verify.h -- checking receipts (`tritcheck verify`), and reading a
 * receipt's fields the way verify does (also for diff.c and report.c). */
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
    bool one_shard;        /* with rerun: only shard `shard` of a merged receipt */
    int shard;
} tc_verify_opts;

/* Check a receipt: schema (required fields and types for its kind),
 * digest, signature, internal consistency (verdicts follow from the
 * figures and criteria, counts add up), the model file, and with rerun the
 * figures themselves.  Each problem is one line on out.  *valid says
 * whether all checks passed.  Returns TC_OK (checked: see *valid), or an
 * error when the receipt could not be checked at all (TC_E_IO, TC_E_FORMAT
 * for a file that is not a receipt, TC_E_MODEL, TC_E_NOMEM). */
tc_status tc_verify(const char *path, const tc_verify_opts *o, FILE *out, bool *valid, tc_err *err);

/* ---- reading a receipt's fields ---- */

/* The value at a dotted path ("model.hparams.vocab") under root, or NULL. */
const cJSON *tc_audit_at(const cJSON *root, const char *path);

/* A figure as receipts write it: a number, or "inf" / "-inf" for the
 * infinities; NAN for anything else (absent, "nan", another type). */
double tc_audit_num(const cJSON *v);

/* The entry of a results array whose "tap" is name, or NULL. */
const cJSON *tc_audit_tap(const cJSON *results, const char *name);

#endif

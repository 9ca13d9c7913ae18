/* verify.h -- checking receipts (`tritcheck verify`), and reading a
 * receipt's fields the way verify does (also for diff.c and report.c). */
#ifndef TC_VERIFY_H
#define TC_VERIFY_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "base/status.h"

#include "receipt/seal.h"

typedef struct tc_verify_opts {
    const char *model;     /* check the model section against this file (and rerun on it) */
    const char *baseline;  /* accuracy receipts with a latent baseline: its file */
    const char *pubkey;    /* require a signature by this Ed25519 public key (PEM) */
    bool rerun;            /* run the receipt again and compare every figure */
    bool one_shard;        /* with rerun: only shard `shard` of a merged receipt */
    int shard;
    /* The engines a rerun may use.  A rerun never opens an engine, loads a
     * plug-in or reads a recording because the receipt names it: each side
     * runs the engine given here, or (when NULL) the built-in engine the
     * receipt names -- ref, fast, fast:ISA or cuda only.  A side whose
     * receipt names a plug-in or a recording is not rerun unless the user
     * names an engine for it. */
    const char *ref;       /* compare: the reference side */
    const char *cand;      /* compare: the candidate side */
    const char *engine;    /* accuracy: the subject engine */
} tc_verify_opts;

/* What tc_verify found. */
typedef struct tc_verify_result {
    bool valid;            /* every check that ran passed */
    bool complete;         /* every check asked for ran (false: a rerun was refused, see out) */
    bool model_checked;    /* the model section was checked against opts.model */
    bool rerun;            /* the rerun ran and every figure reproduced */
    size_t n_unchecked;    /* receipt fields a rerun cannot reproduce (listed on out) */
    tc_seal_info seal;     /* the signature: present, valid, authenticated, its signer */
} tc_verify_result;

/* Check a receipt: schema (required fields and types for its kind),
 * digest, signature, internal consistency (verdicts follow from the
 * figures and criteria, counts add up), with opts.model the model section
 * against the file, and with rerun the figures themselves: every field is
 * reproduced, checked against the model, or listed as unchecked.  Each
 * problem is one line on out.  Returns TC_OK (checked: see *res), or an
 * error when the receipt could not be checked at all (TC_E_IO, TC_E_FORMAT
 * for a file that is not a receipt, TC_E_USAGE for options that do not
 * fit the receipt or a public key that cannot be read, TC_E_MODEL,
 * TC_E_NOMEM). */
tc_status tc_verify_receipt(const char *path, const tc_verify_opts *o, FILE *out, tc_verify_result *res,
                            tc_err *err);

/* The same with one answer: *valid when every check passed and every
 * check asked for ran (res.valid && res.complete). */
tc_status tc_verify(const char *path, const tc_verify_opts *o, FILE *out, bool *valid, tc_err *err);

/* ---- reading a receipt's fields ---- */

/* The value at a dotted path ("model.hparams.vocab") under root, or NULL. */
const cJSON *tc_audit_at(const cJSON *root, const char *path);

/* A figure as receipts write it: a number, or "inf" / "-inf" for the
 * infinities; NAN for anything else (absent, "nan", another type). */
double tc_audit_num(const cJSON *v);

/* The entry of a results array whose "tap" is name, or NULL.  Linear:
 * for many lookups use an index. */
const cJSON *tc_audit_tap(const cJSON *results, const char *name);

/* An index of the items of an array by their string member `member` (a
 * string item by itself; an item without either is left out), or of an
 * object's members by key (member NULL): built in O(n log n), each lookup
 * O(log n), so that comparing two receipts of a million taps takes
 * seconds.  find gives the first of equal names, count how many there
 * are.  NULL when out of memory. */
typedef struct tc_audit_index tc_audit_index;
tc_audit_index *tc_audit_index_new(const cJSON *container, const char *member);
const cJSON *tc_audit_index_find(const tc_audit_index *ix, const char *name);
size_t tc_audit_index_count(const tc_audit_index *ix, const char *name);
void tc_audit_index_free(tc_audit_index *ix);

#endif

/* receipt.h -- conformance receipts (SPEC 6): schema tritcheck.receipt/1.
 *
 * A receipt is a cJSON document built by the command that measured its
 * figures.  Sealing adds a digest (SHA-256 over the canonical JSON: the
 * document without "digest" and "signature", object keys sorted at every
 * level, printed without whitespace) and optionally an Ed25519 signature of
 * that digest.  Receipts are written to a temporary file and renamed.
 */
#ifndef TC_RECEIPT_H
#define TC_RECEIPT_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "engine.h"
#include "model.h"
#include "status.h"

#define TC_RECEIPT_SCHEMA "tritcheck.receipt/1"

/* A new receipt of `kind` ("compare", "accuracy", ...) with schema, tool
 * and host sections filled from this build and machine.  NULL when out of
 * memory. */
cJSON *tc_receipt_new(const char *kind);

/* The hyper-parameters as a JSON object (architecture when with_arch). */
cJSON *tc_hparams_json(const tc_hparams *hp, bool with_arch);

/* Count tensors per type name into the object `types`. */
void tc_tensor_type_counts(cJSON *types, const tc_gguf *g);

/* Add the "model" section: file name, size, SHA-256 (of the file at path),
 * architecture, hyper-parameters and tensor type counts.  TC_OK, TC_E_IO,
 * TC_E_NOMEM. */
tc_status tc_receipt_add_model(cJSON *root, const tc_model *m, const char *path, tc_err *err);

/* An engine's description: id, precision, threads, context and the
 * observed kernel dispatch counts. */
cJSON *tc_receipt_engine(const tc_engine *e);

/* The canonical text of a receipt (malloc'd), or NULL when out of memory. */
char *tc_receipt_canonical(const cJSON *root);

/* Add "digest" and, when key_path is not NULL, "signature" (Ed25519 of the
 * digest bytes, with the public key).  Replaces earlier ones.  TC_OK,
 * TC_E_IO (key unreadable), TC_E_USAGE (not an Ed25519 private key),
 * TC_E_NOMEM. */
tc_status tc_receipt_seal(cJSON *root, const char *key_path, tc_err *err);

/* Check the digest, and the signature when present.  When pubkey_path is
 * given, a signature is required and must be by that key.  Returns TC_OK,
 * TC_E_FORMAT (mismatch, with what is wrong in err), TC_E_IO. */
tc_status tc_receipt_check_seal(const cJSON *root, const char *pubkey_path, tc_err *err);

/* Write pretty JSON to path through a temporary file.  TC_OK or TC_E_IO. */
tc_status tc_receipt_write(const cJSON *root, const char *path, tc_err *err);

/* Parse the receipt at path.  TC_OK, TC_E_IO, TC_E_FORMAT (not JSON, or
 * not schema tritcheck.receipt/1). */
tc_status tc_receipt_load(const char *path, cJSON **out, tc_err *err);

/* Read and parse a JSON file of at most max_bytes; `what` names it in
 * messages ("a JSON receipt").  TC_OK, TC_E_IO, TC_E_FORMAT (too large, or
 * not JSON: the byte of the parse error), TC_E_NOMEM. */
tc_status tc_json_load(const char *path, size_t max_bytes, const char *what, cJSON **out, tc_err *err);

/* Write a new Ed25519 key pair: path (private, PEM, mode 0600) and
 * path.pub (public, PEM).  TC_OK, TC_E_IO, TC_E_NOMEM. */
tc_status tc_keygen(const char *path, tc_err *err);

/* Write `text` to path atomically (temporary beside it, renamed). */
tc_status tc_write_file_atomic(const char *path, const void *text, size_t n, tc_err *err);

#endif

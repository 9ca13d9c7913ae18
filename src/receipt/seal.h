/* seal.h -- sealing a receipt: its canonical form, a SHA-256 digest of it,
 * and an optional Ed25519 signature of the digest (SPEC 6).
 *
 * The canonical text is the document without "digest" and "signature",
 * object keys sorted at every level, printed without whitespace.
 */
#ifndef TC_RECEIPT_SEAL_H
#define TC_RECEIPT_SEAL_H

#include <cjson/cJSON.h>

#include "base/status.h"

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

/* Write a new Ed25519 key pair: path (private, PEM, mode 0600) and
 * path.pub (public, PEM).  TC_OK, TC_E_IO, TC_E_NOMEM. */
tc_status tc_keygen(const char *path, tc_err *err);

#endif

/* seal.h -- sealing a receipt: its canonical form, a SHA-256 digest of it,
 * and an optional Ed25519 signature of the digest (SPEC 6).
 *
 * The canonical text is the RFC 8785 (JSON Canonicalization Scheme) form
 * of the document without its top-level "digest" and "signature"; the
 * digest is its SHA-256, and the signature signs the digest's 32 bytes.
 * tritcheck-receipt(5) gives the procedure for checking both by hand.
 */
#ifndef TC_RECEIPT_SEAL_H
#define TC_RECEIPT_SEAL_H

#include <cjson/cJSON.h>

#include <stdbool.h>

#include "base/sha256.h"
#include "base/status.h"

/* What digest.over says the digest covers. */
#define TC_DIGEST_OVER "SHA-256 of the RFC 8785 (JCS) canonical form of the receipt without digest and signature"

/* What tc_receipt_check_seal found out about the signature. */
typedef struct tc_seal_info {
    bool has_signature;          /* a "signature" section is present */
    bool signature_valid;        /* it verifies against the digest with the key it carries */
    bool authenticated;          /* ... and that key is the trusted one the caller gave */
    char signer[TC_SHA256_HEX];  /* the fingerprint of the key it carries ("" when none) */
} tc_seal_info;

/* The canonical text of a receipt (malloc'd), or NULL when out of memory
 * or when the document holds what JSON cannot (a non-finite number). */
char *tc_receipt_canonical(const cJSON *root);

/* The receipt as its file holds it (malloc'd, ending in a newline): pretty
 * JSON in the document's order, strings and numbers written as the
 * canonical form writes them, so that the file reads back as exactly the
 * document that was sealed (cJSON_Print may drop the 16th and 17th digit
 * of a double).  NULL when out of memory or not JSON (a non-finite
 * number: seal first). */
char *tc_receipt_text(const cJSON *root);

/* Add "digest" and, when key_path is not NULL, "signature" (Ed25519 of the
 * digest bytes, with the public key).  Replaces earlier ones.  First makes
 * the document what its file will read back as: a non-finite number
 * becomes null, a string that is not UTF-8 has its bad bytes replaced by
 * U+FFFD.  TC_OK, TC_E_IO (key unreadable), TC_E_USAGE (not an Ed25519
 * private key), TC_E_NOMEM. */
tc_status tc_receipt_seal(cJSON *root, const char *key_path, tc_err *err);

/* Check the digest, and the signature when present; *info (may be NULL)
 * says what the signature is.  trusted (NULL, or the 32 bytes of an
 * Ed25519 public key, tc_pubkey_load) is the key the user trusts: then a
 * signature is required and must be by it.  Without it a valid signature
 * is only that -- made by whoever holds the key it carries, which anyone
 * can generate: info->authenticated stays false.  Returns TC_OK,
 * TC_E_FORMAT (what is wrong in err), TC_E_NOMEM. */
tc_status tc_receipt_check_seal(const cJSON *root, const unsigned char *trusted, tc_seal_info *info, tc_err *err);

/* Read the Ed25519 public key (PEM, as keygen writes KEY.pub) at path into
 * raw.  TC_OK, TC_E_IO (missing, unreadable, not a regular file),
 * TC_E_USAGE (not an Ed25519 public key). */
tc_status tc_pubkey_load(const char *path, unsigned char raw[32], tc_err *err);

/* A key's fingerprint: the SHA-256 of its 32 raw bytes, in hex. */
void tc_key_fingerprint(const unsigned char raw[32], char hex[TC_SHA256_HEX]);

/* Write a new Ed25519 key pair: path (private, PEM, mode 0600) and
 * path.pub (public, PEM).  TC_OK, TC_E_IO, TC_E_NOMEM. */
tc_status tc_keygen(const char *path, tc_err *err);

#endif

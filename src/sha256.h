/* sha256.h -- SHA-256 of buffers and files (OpenSSL libcrypto). */
#ifndef TC_SHA256_H
#define TC_SHA256_H

#include <stddef.h>

#include "status.h"

#define TC_SHA256_HEX 65   /* 64 hex digits and a NUL */

/* hex <- SHA-256(buf[0..n)) in lowercase hex.  Returns TC_OK or TC_E_NOMEM. */
tc_status tc_sha256_hex(const void *buf, size_t n, char hex[TC_SHA256_HEX]);

/* hex <- SHA-256 of the file at path, read in chunks.  Returns TC_OK,
 * TC_E_IO (message names the file) or TC_E_NOMEM. */
tc_status tc_sha256_file(const char *path, char hex[TC_SHA256_HEX], tc_err *err);

#endif

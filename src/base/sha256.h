/* sha256.h -- SHA-256 of buffers, files and streams (OpenSSL libcrypto),
 * and the hex form every receipt uses. */
#ifndef TC_BASE_SHA256_H
#define TC_BASE_SHA256_H

#include <stdbool.h>
#include <stddef.h>

#include "base/status.h"

#define TC_SHA256_HEX 65   /* 64 hex digits and a NUL */

/* hex <- SHA-256(buf[0..n)) in lowercase hex.  Returns TC_OK or TC_E_NOMEM. */
tc_status tc_sha256_hex(const void *buf, size_t n, char hex[TC_SHA256_HEX]);

/* md <- SHA-256(buf[0..n)), the 32 raw bytes.  TC_OK or TC_E_NOMEM. */
tc_status tc_sha256(const void *buf, size_t n, unsigned char md[32]);

/* hex <- SHA-256 of the file at path, read in chunks.  Returns TC_OK,
 * TC_E_IO (message names the file) or TC_E_NOMEM. */
tc_status tc_sha256_file(const char *path, char hex[TC_SHA256_HEX], tc_err *err);

/* A streaming digest: begin, update any number of times, end.  end frees
 * the stream whatever happens; NULL from begin means out of memory. */
typedef struct tc_sha256_stream tc_sha256_stream;
tc_sha256_stream *tc_sha256_begin(void);
void tc_sha256_update(tc_sha256_stream *s, const void *buf, size_t n);
tc_status tc_sha256_end(tc_sha256_stream *s, char hex[TC_SHA256_HEX]);

/* out[2n+1] <- the lowercase hex of p[0..n). */
void tc_hex_encode(const unsigned char *p, size_t n, char *out);

/* out[n] <- the bytes of the 2n hex digits of s; false when s is NULL,
 * not exactly 2n characters, or not hex. */
bool tc_hex_decode(const char *s, unsigned char *out, size_t n);

#endif

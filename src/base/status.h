/* status.h -- status codes and error messages shared by every module.
 *
 * The library never exits: every fallible function returns a tc_status and,
 * on failure, writes one human-readable line into a tc_err that the caller
 * owns.  Only main() turns a status into an exit code.
 */
#ifndef TC_BASE_STATUS_H
#define TC_BASE_STATUS_H

#include <stddef.h>

typedef enum tc_status {
    TC_OK = 0,        /* success */
    TC_E_IO,          /* open/read/write/mmap/rename failed (errno text in msg) */
    TC_E_FORMAT,      /* malformed file: wrong magic, bounds, sizes, types */
    TC_E_MODEL,       /* a valid file that is not a usable BitNet model */
    TC_E_NOMEM,       /* an allocation failed */
    TC_E_USAGE,       /* bad option or argument */
    TC_E_RANGE,       /* a value outside its allowed range (token id, length) */
    TC_E_UNSUPPORTED, /* valid but not supported here (type, feature, device) */
    TC_E_DEVICE       /* a GPU call failed (CUDA error string in msg) */
} tc_status;

/* One error line.  The message names the file, the field or tensor, the
 * byte offset where it applies, and what was expected. */
typedef struct tc_err {
    tc_status status;
    char msg[512];
} tc_err;

/* The constant name of a status ("format error"). */
const char *tc_strerror(tc_status s);

/* Record a formatted message in err (may be NULL) and return s. */
tc_status tc_fail(tc_err *err, tc_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clear err to TC_OK with an empty message. */
void tc_err_clear(tc_err *err);

/* Make err's message start with "prefix: " unless it already does (a
 * message from deeper code that does not know the file name); returns
 * err's status. */
tc_status tc_err_prefix(tc_err *err, const char *prefix);

/* Exit code for a status: 0 for TC_OK, 2 for every input/usage error. */
int tc_exit_code(tc_status s);

#endif

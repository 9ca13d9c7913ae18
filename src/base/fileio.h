/* fileio.h -- whole files: bounded reads (plain or gzip) of regular files
 * only, and atomic writes (a temporary beside the target, renamed). */
#ifndef TC_BASE_FILEIO_H
#define TC_BASE_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

#include "base/status.h"

/* Read the file at path ("-": standard input) into a new buffer with a NUL
 * after its *n bytes.  At most max_bytes are read: a larger file is
 * TC_E_FORMAT "PATH: expected WHAT of at most N bytes" (told by its size
 * before anything is read).  Only a regular file is read: a directory,
 * device or FIFO is TC_E_IO saying what it is, checked on the opened
 * descriptor (a FIFO is never waited on).
 * Returns TC_OK, TC_E_IO, TC_E_FORMAT or TC_E_NOMEM. */
tc_status tc_read_file(const char *path, size_t max_bytes, const char *what, char **out, size_t *n, tc_err *err);

/* The same for a gzip-compressed or plain regular file, decompressed;
 * decompression stops after max_bytes.  When more is not NULL, a file
 * holding more than max_bytes is not an error: *more is set and the first
 * max_bytes are returned.  Same codes as tc_read_file. */
tc_status tc_read_gz(const char *path, size_t max_bytes, const char *what, void **out, size_t *n, bool *more,
                     tc_err *err);

/* Stream the (gzip or plain) regular file at path through fn, a chunk
 * of at most 1 MiB at a time, holding no more than that in memory: a
 * check of the whole (a CRC) before anything is kept.  *total gets the
 * decompressed size.  More than max_bytes is TC_E_FORMAT (fn has then
 * seen the first max_bytes).  Same codes as tc_read_file. */
tc_status tc_read_gz_each(const char *path, size_t max_bytes, const char *what,
                         void (*fn)(void *user, const void *buf, size_t n), void *user, size_t *total, tc_err *err);

/* TC_OK unless the output path out names the same file (device and
 * inode) as one of inputs[0..n) (NULL and "-" entries are skipped): then
 * TC_E_USAGE "OUT: is the same file as the input IN: refusing to overwrite
 * an input".  Every command that writes checks its outputs with this
 * before it runs.  An output that does not exist yet passes. */
tc_status tc_check_output(const char *out, const char *const *inputs, size_t n, tc_err *err);

/* TC_OK when path is a regular file; TC_E_IO naming what it is instead
 * ("a directory", "a FIFO", "a device"), or why it cannot be read. */
tc_status tc_check_regular(const char *path, tc_err *err);

/* Write data[0..n) to path atomically: a temporary file beside it (mode
 * 0644), renamed into place; on failure nothing is left behind.  TC_OK,
 * TC_E_IO or TC_E_NOMEM. */
tc_status tc_write_file_atomic(const char *path, const void *data, size_t n, tc_err *err);

#endif

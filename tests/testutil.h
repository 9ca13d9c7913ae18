/* testutil.h -- helpers shared by the Check suites. */
#ifndef TC_TESTUTIL_H
#define TC_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>

/* Path of a file under the source tree's vectors/ (TC_VECTORS in the
 * environment, else the configured source directory). Static buffer. */
const char *tu_vector_path(const char *rel);

/* Decompress the gzip file `gz` into a new temporary file and return its
 * path (malloc'd; the caller unlinks and frees), or NULL on failure. */
char *tu_gunzip_temp(const char *gz);

/* Read a whole gzip or plain file into memory (malloc'd); *n gets the size. */
uint8_t *tu_read_gz(const char *path, size_t *n);

/* A fresh temporary path in TMPDIR (malloc'd, file not created). */
char *tu_temp_path(const char *suffix);

/* Run every test of suite s (freed) and return the exit status:
 * EXIT_SUCCESS when none failed. */
int tu_run(Suite *s);

#endif

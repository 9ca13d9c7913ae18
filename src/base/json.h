/* json.h -- reading JSON documents (cJSON): receipts, manifests, dump
 * indexes and vector metadata all go through these two calls. */
#ifndef TC_BASE_JSON_H
#define TC_BASE_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "base/status.h"

/* Parse text[0..n) as one JSON document; `name` (a file name) and `what`
 * ("a JSON receipt") go into the message.  TC_OK, TC_E_FORMAT (not JSON:
 * the byte of the parse error), TC_E_NOMEM. */
tc_status tc_json_parse(const char *text, size_t n, const char *name, const char *what, cJSON **out, tc_err *err);

/* Read (tc_read_file: a regular file of at most max_bytes) and parse a
 * JSON file.  TC_OK, TC_E_IO, TC_E_FORMAT, TC_E_NOMEM. */
tc_status tc_json_load(const char *path, size_t max_bytes, const char *what, cJSON **out, tc_err *err);

#endif

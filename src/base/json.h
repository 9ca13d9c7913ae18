/* json.h -- reading JSON documents (cJSON): receipts, manifests, dump
 * indexes and vector metadata all go through these two calls. */
#ifndef TC_BASE_JSON_H
#define TC_BASE_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "base/status.h"

/* Parse text[0..n) as one strict JSON document (RFC 8259), so that every
 * reader sees the same document: one value and nothing after it but
 * whitespace (no second document, no NUL), UTF-8 only, no \u0000, no lone
 * surrogate, numbers as the RFC writes them (at most 63 characters, finite
 * as a double), nesting at most 512 deep, and no object with two members of
 * one key, at any depth.  `name` (a file name) and `what` ("a JSON
 * receipt") go into the message.  TC_OK, TC_E_FORMAT (the reason and the
 * byte, or the path of a duplicate key), TC_E_NOMEM. */
tc_status tc_json_parse(const char *text, size_t n, const char *name, const char *what, cJSON **out, tc_err *err);

/* Read (tc_read_file: a regular file of at most max_bytes) and parse a
 * JSON file as tc_json_parse does.  TC_OK, TC_E_IO, TC_E_FORMAT, TC_E_NOMEM. */
tc_status tc_json_load(const char *path, size_t max_bytes, const char *what, cJSON **out, tc_err *err);

#endif

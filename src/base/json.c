/* json.c -- see json.h. */
#include <stdlib.h>

#include "base/fileio.h"
#include "base/json.h"

tc_status tc_json_parse(const char *text, size_t n, const char *name, const char *what, cJSON **out, tc_err *err)
{
    const char *end = NULL;
    *out = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, n, &end, 0);
    if (!root) {
        size_t at = end ? (size_t)(end - text) : 0;
        return tc_fail(err, TC_E_FORMAT, "%s: expected %s, not valid JSON (parse error at byte %zu)", name, what, at);
    }
    *out = root;
    return TC_OK;
}

tc_status tc_json_load(const char *path, size_t max_bytes, const char *what, cJSON **out, tc_err *err)
{
    char *buf;
    size_t n;
    *out = NULL;
    tc_status s = tc_read_file(path, max_bytes, what, &buf, &n, err);
    if (s) return s;
    s = tc_json_parse(buf, n, path, what, out, err);
    free(buf);
    return s;
}

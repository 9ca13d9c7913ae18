/* json.c -- see json.h.
 *
 * cJSON alone is a lenient reader: it keeps the first of two members with
 * one key, stops at the end of the first value and ignores what follows,
 * reads "01" and "\u0000", passes bytes that are not UTF-8.  Other readers
 * (Python, jq, a schema validator) resolve each of these differently, so a
 * document that is not strict JSON can mean two things at once.  Every
 * document is therefore checked against RFC 8259 first (validate), then
 * parsed by cJSON, then walked once for what only the tree shows (check_tree:
 * duplicate keys, numbers outside the range of a double).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fileio.h"
#include "base/json.h"

/* ---- the grammar (RFC 8259), byte by byte ---- */

typedef struct scan {
    const unsigned char *p;
    size_t n, at;             /* the text, its length, the next byte */
    const char *why;          /* the first problem found, or NULL */
} scan;

static bool stop(scan *s, const char *why)
{
    if (!s->why) s->why = why;
    return false;
}

static void skip_ws(scan *s)
{
    while (s->at < s->n && (s->p[s->at] == ' ' || s->p[s->at] == '\t' || s->p[s->at] == '\n' || s->p[s->at] == '\r'))
        s->at++;
}

static bool literal(scan *s, const char *word)
{
    size_t len = strlen(word);
    if (s->n - s->at < len || memcmp(s->p + s->at, word, len)) return stop(s, "an unknown word (expected true, false or null)");
    s->at += len;
    return true;
}

static int hex4(const unsigned char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* One UTF-8 character at s->at (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static bool utf8_char(scan *s)
{
    const unsigned char *p = s->p + s->at;
    size_t left = s->n - s->at, len;
    uint32_t cp, min;
    if (p[0] < 0x80) len = 1, cp = p[0], min = 0;
    else if ((p[0] & 0xe0) == 0xc0) len = 2, cp = p[0] & 0x1f, min = 0x80;
    else if ((p[0] & 0xf0) == 0xe0) len = 3, cp = p[0] & 0x0f, min = 0x800;
    else if ((p[0] & 0xf8) == 0xf0) len = 4, cp = p[0] & 0x07, min = 0x10000;
    else return stop(s, "a byte that is not UTF-8");
    if (len > left) return stop(s, "a byte that is not UTF-8");
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) return stop(s, "a byte that is not UTF-8");
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return stop(s, "a byte that is not UTF-8");
    s->at += len;
    return true;
}

/* A string, from its opening quote. */
static bool string(scan *s)
{
    s->at++;
    for (;;) {
        if (s->at >= s->n) return stop(s, "a string without its closing quote");
        unsigned char c = s->p[s->at];
        if (c == '"') {
            s->at++;
            return true;
        }
        if (c < 0x20) return stop(s, "a control character (or NUL) inside a string");
        if (c != '\\') {
            if (!utf8_char(s)) return false;
            continue;
        }
        if (s->n - s->at < 2) return stop(s, "a string without its closing quote");
        c = s->p[s->at + 1];
        if (c && strchr("\"\\/bfnrt", c)) {
            s->at += 2;
            continue;
        }
        if (c != 'u') return stop(s, "an unknown escape in a string");
        int u = s->n - s->at >= 6 ? hex4(s->p + s->at + 2) : -1;
        if (u < 0) return stop(s, "a \\u escape without four hex digits");
        if (u == 0) return stop(s, "\\u0000 in a string (C readers would cut the string there)");
        s->at += 6;
        if (u >= 0xdc00 && u <= 0xdfff) return stop(s, "a lone low surrogate escape");
        if (u >= 0xd800 && u <= 0xdbff) {   /* a pair: \uD8xx\uDCxx */
            int lo = s->n - s->at >= 6 && s->p[s->at] == '\\' && s->p[s->at + 1] == 'u' ? hex4(s->p + s->at + 2) : -1;
            if (lo < 0xdc00 || lo > 0xdfff) return stop(s, "a lone high surrogate escape");
            s->at += 6;
        }
    }
}

static bool digits(scan *s)
{
    size_t from = s->at;
    while (s->at < s->n && s->p[s->at] >= '0' && s->p[s->at] <= '9') s->at++;
    return s->at > from;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, at most 63 characters
 * (cJSON reads no more of a number). */
static bool number(scan *s)
{
    size_t from = s->at;
    if (s->p[s->at] == '-') s->at++;
    if (s->at < s->n && s->p[s->at] == '0') s->at++;
    else if (!digits(s)) return stop(s, "a malformed number");
    if (s->at < s->n && s->p[s->at] == '.') {
        s->at++;
        if (!digits(s)) return stop(s, "a malformed number (digits must follow '.')");
    }
    if (s->at < s->n && (s->p[s->at] == 'e' || s->p[s->at] == 'E')) {
        s->at++;
        if (s->at < s->n && (s->p[s->at] == '+' || s->p[s->at] == '-')) s->at++;
        if (!digits(s)) return stop(s, "a malformed number (digits must follow the exponent)");
    }
    if (s->at - from > 63) return stop(s, "a number of more than 63 characters");
    return true;
}

enum { MAX_DEPTH = 512 };

static bool value(scan *s, int depth);

/* An object or array, from its opening bracket. */
static bool container(scan *s, int depth)
{
    const bool object = s->p[s->at] == '{';
    const unsigned char close = object ? '}' : ']';
    if (depth >= MAX_DEPTH) return stop(s, "objects and arrays nested more than 512 deep");
    s->at++;
    skip_ws(s);
    if (s->at < s->n && s->p[s->at] == close) {
        s->at++;
        return true;
    }
    for (;;) {
        if (object) {
            if (s->at >= s->n || s->p[s->at] != '"') return stop(s, "an object member without a string key");
            if (!string(s)) return false;
            skip_ws(s);
            if (s->at >= s->n || s->p[s->at] != ':') return stop(s, "a key without ':'");
            s->at++;
            skip_ws(s);
        }
        if (!value(s, depth + 1)) return false;
        skip_ws(s);
        if (s->at < s->n && s->p[s->at] == ',') {
            s->at++;
            skip_ws(s);
            continue;
        }
        if (s->at < s->n && s->p[s->at] == close) {
            s->at++;
            return true;
        }
        return stop(s, object ? "an object without ',' or '}'" : "an array without ',' or ']'");
    }
}

static bool value(scan *s, int depth)
{
    if (s->at >= s->n) return stop(s, "the end of the text where a value belongs");
    switch (s->p[s->at]) {
    case '{':
    case '[': return container(s, depth);
    case '"': return string(s);
    case 't': return literal(s, "true");
    case 'f': return literal(s, "false");
    case 'n': return literal(s, "null");
    default:
        if (s->p[s->at] == '-' || (s->p[s->at] >= '0' && s->p[s->at] <= '9')) return number(s);
        return stop(s, s->p[s->at] == 0 ? "a NUL byte" : "a byte that starts no JSON value");
    }
}

/* ---- what only the tree shows ---- */

static int cmp_keys(const void *a, const void *b)
{
    return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

/* The key that two members of object o share, or NULL.  Sorting makes
 * this O(n log n): an object of a million members is checked in a second. */
static const char *duplicate_key(const cJSON *o, bool *oom)
{
    size_t n = 0, i = 0;
    for (const cJSON *c = o->child; c; c = c->next) n++;
    if (n < 2) return NULL;
    if (n <= 8) {
        for (const cJSON *a = o->child; a; a = a->next)
            for (const cJSON *b = a->next; b; b = b->next)
                if (!strcmp(a->string, b->string)) return a->string;
        return NULL;
    }
    cJSON **v = malloc(n * sizeof *v);
    if (!v) {
        *oom = true;
        return NULL;
    }
    for (cJSON *c = o->child; c; c = c->next) v[i++] = c;
    qsort(v, n, sizeof *v, cmp_keys);
    const char *dup = NULL;
    for (i = 1; i < n && !dup; i++)
        if (!strcmp(v[i - 1]->string, v[i]->string)) dup = v[i]->string;
    free(v);
    return dup;
}

/* Append "[i]" or ".key" to a path of at most `cap` bytes. */
static void path_push(char *path, size_t cap, const cJSON *item, size_t index)
{
    size_t len = strlen(path);
    if (len >= cap - 1) return;
    if (item->string) snprintf(path + len, cap - len, "%s%s", len ? "." : "", item->string);
    else snprintf(path + len, cap - len, "[%zu]", index);
}

/* Duplicate keys and numbers a double cannot hold, anywhere under node
 * (depth is bounded by validate); the first problem into why. */
static bool check_tree(const cJSON *node, char *path, size_t cap, char *why, size_t why_n, bool *oom)
{
    if (cJSON_IsNumber(node) && !isfinite(node->valuedouble)) {
        snprintf(why, why_n, "a number too large for a double at %s", path[0] ? path : "the top level");
        return false;
    }
    if (cJSON_IsObject(node)) {
        const char *dup = duplicate_key(node, oom);
        if (*oom) return false;
        if (dup) {
            snprintf(why, why_n, "duplicate key \"%.80s\" %s%s", dup, path[0] ? "in " : "at the top level",
                     path);
            return false;
        }
    }
    size_t i = 0, len = strlen(path);
    for (const cJSON *c = node->child; c; c = c->next, i++) {
        path_push(path, cap, c, i);
        bool ok = check_tree(c, path, cap, why, why_n, oom);
        path[len] = '\0';
        if (!ok) return false;
    }
    return true;
}

tc_status tc_json_parse(const char *text, size_t n, const char *name, const char *what, cJSON **out, tc_err *err)
{
    *out = NULL;
    scan s = { (const unsigned char *)text, n, 0, NULL };
    skip_ws(&s);
    if (value(&s, 0)) {
        skip_ws(&s);
        if (s.at < n) stop(&s, text[s.at] == 0 ? "a NUL byte after the document" : "bytes after the document");
    }
    if (s.why)
        return tc_fail(err, TC_E_FORMAT, "%s: expected %s, not valid JSON: %s at byte %zu", name, what, s.why, s.at);
    cJSON *root = cJSON_ParseWithLength(text, n);
    if (!root) return tc_fail(err, TC_E_NOMEM, "%s: out of memory reading %s", name, what);
    char path[256] = "", why[200];
    bool oom = false;
    if (!check_tree(root, path, sizeof path, why, sizeof why, &oom)) {
        cJSON_Delete(root);
        if (oom) return tc_fail(err, TC_E_NOMEM, "%s: out of memory reading %s", name, what);
        return tc_fail(err, TC_E_FORMAT, "%s: expected %s, not valid JSON: %s", name, what, why);
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

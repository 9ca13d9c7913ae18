/* check_json.c -- strict JSON (src/base/json.c): one reading of every document. */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"
#include "testutil.h"

/* Parse n bytes of text; the status, with the message in err. */
static tc_status parse_n(const char *text, size_t n, tc_err *err)
{
    cJSON *j = NULL;
    tc_status s = tc_json_parse(text, n, "t.json", "a JSON test", &j, err);
    ck_assert(s == TC_OK ? j != NULL : j == NULL);
    cJSON_Delete(j);
    return s;
}

static tc_status parse(const char *text, tc_err *err) { return parse_n(text, strlen(text), err); }

/* ---- json: what every reader reads the same ---- */

START_TEST(json_accepts_strict_json)
{
    static const char *const ok[] = {
        "{}", " [ ] ", "0", "-0.5e-3", "1E+2", "\"a\\u00e9\\ud83d\\ude00\\/\"", "{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}",
        "\"caf\xc3\xa9\"", "{\"x\":null,\"y\":true,\"z\":false}\n",
    };
    tc_err err;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        ck_assert_msg(parse(ok[i], &err) == TC_OK, "%s: %s", ok[i], err.msg);
}
END_TEST

/* Two members of one key mean two documents to two readers: refused at
 * every depth, even when the keys are spelled differently. */
START_TEST(json_refuses_duplicate_keys)
{
    static const struct { const char *text, *says; } bad[] = {
        { "{\"summary\":{\"v\":\"fail\"},\"summary\":{\"v\":\"pass\"}}", "duplicate key \"summary\" at the top level" },
        { "{\"a\":[{\"x\":1,\"y\":2,\"x\":3}]}", "duplicate key \"x\" in a[0]" },
        { "{\"k\":1,\"\\u006b\":2}", "duplicate key \"k\"" },
    };
    tc_err err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(parse(bad[i].text, &err), TC_E_FORMAT);
        ck_assert_msg(strstr(err.msg, bad[i].says), "%s: %s", bad[i].text, err.msg);
    }
    /* a large object: sorted, not compared pair by pair */
    size_t n = 200000, len = 0;
    char *big = malloc(n * 16 + 16);
    len += (size_t)sprintf(big, "{");
    for (size_t i = 0; i < n; i++) len += (size_t)sprintf(big + len, "%s\"k%zu\":0", i ? "," : "", i);
    strcpy(big + len, "}");
    ck_assert_int_eq(parse(big, &err), TC_OK);
    strcpy(big + len, ",\"k123456\":1}");
    ck_assert_int_eq(parse(big, &err), TC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "duplicate key \"k123456\""));
    free(big);
}
END_TEST

/* One document and nothing after it (a NUL included); and what cJSON
 * would read one way and another reader another. */
START_TEST(json_refuses_what_readers_read_differently)
{
    static const struct { const char *text; size_t n; const char *says; } bad[] = {
        { "{\"a\":1}garbage{{{", 0, "bytes after the document at byte 7" },
        { "{\"a\":1}\0{\"a\":2}", 15, "NUL byte after the document" },
        { "{\"a\":1} {\"a\":2}", 0, "bytes after the document" },
        { "\xef\xbb\xbf{}", 0, "starts no JSON value" },
        { "{\"a\":01}", 0, "an object without ','" },
        { "[1.]", 0, "digits must follow '.'" },
        { "[.5]", 0, "starts no JSON value" },
        { "[+1]", 0, "starts no JSON value" },
        { "[1e400]", 0, "too large for a double" },
        { "[NaN]", 0, "starts no JSON value" },
        { "[\"a\\u0000b\"]", 0, "\\u0000" },
        { "[\"\\ud800\"]", 0, "lone high surrogate" },
        { "[\"\\udc00\"]", 0, "lone low surrogate" },
        { "[\"\xff\"]", 0, "not UTF-8" },
        { "[\"\xc0\xaf\"]", 0, "not UTF-8" },          /* overlong '/' */
        { "[\"\xed\xa0\x80\"]", 0, "not UTF-8" },      /* a surrogate in UTF-8 */
        { "[\"a\tb\"]", 0, "control character" },
        { "[\"\\x41\"]", 0, "unknown escape" },
        { "[1,]", 0, "starts no JSON value" },
        { "{\"a\" 1}", 0, "without ':'" },
        { "", 0, "end of the text" },
        { "[1", 0, "without ',' or ']'" },
        { "[1000000000000000000000000000000000000000000000000000000000000000]", 0, "more than 63 characters" },
    };
    tc_err err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = bad[i].n ? bad[i].n : strlen(bad[i].text);
        ck_assert_msg(parse_n(bad[i].text, n, &err) == TC_E_FORMAT, "accepted: %s", bad[i].text);
        ck_assert_msg(strstr(err.msg, bad[i].says), "%s: %s", bad[i].text, err.msg);
        ck_assert(!strncmp(err.msg, "t.json: expected a JSON test, not valid JSON: ", 46));
    }
}
END_TEST

START_TEST(json_limits_depth)
{
    char deep[2100];
    tc_err err;
    memset(deep, '[', 512);
    memset(deep + 512, ']', 512);
    ck_assert_msg(parse_n(deep, 1024, &err) == TC_OK, "%s", err.msg);
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    ck_assert_int_eq(parse_n(deep, 2000, &err), TC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "nested more than 512 deep"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors"), *limits = tcase_create("limits");
    tcase_add_test(core, json_accepts_strict_json);
    tcase_add_test(errors, json_refuses_duplicate_keys);
    tcase_add_test(errors, json_refuses_what_readers_read_differently);
    tcase_add_test(limits, json_limits_depth);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    suite_add_tcase(s, limits);
    return tu_run(s);
}

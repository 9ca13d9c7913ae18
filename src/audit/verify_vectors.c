/* verify_vectors.c -- verify's rules for receipts of kind "vectors"
 * (tritcheck vectors check -o): the schema, and that the summary follows
 * from the entries. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit/verify.h"
#include "audit/verify_shard.h"

#define SAY(...) do { char line_[320]; snprintf(line_, sizeof line_, __VA_ARGS__); report(ctx, line_); } while (0)

void tc_verify_vectors(const cJSON *r, void (*report)(void *ctx, const char *line), void *ctx)
{
    static const char *const strs[] = { "engine.id", "summary.verdict" };
    static const char *const nums[] = { "tolerances.model_tol", "summary.entries", "summary.passed", "summary.failed" };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (!cJSON_IsString(tc_audit_at(r, strs[i]))) SAY("schema: %s: expected a string", strs[i]);
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (!cJSON_IsNumber(tc_audit_at(r, nums[i]))) SAY("schema: %s: expected a number", nums[i]);
    if (!cJSON_IsArray(tc_audit_at(r, "entries"))) {
        SAY("schema: entries: expected an array");
        return;
    }
    int n = 0, ok = 0;
    const char *first = NULL;
    const cJSON *e;
    cJSON_ArrayForEach(e, tc_audit_at(r, "entries")) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
        const char *sha = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "sha256"));
        const cJSON *pass = cJSON_GetObjectItemCaseSensitive(e, "pass");
        if (!name || !sha || strlen(sha) != 64 || !cJSON_IsBool(pass) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "report"))) {
            SAY("schema: entries[%d]: expected name, sha256, pass and report", n);
            return;
        }
        if (!cJSON_IsTrue(pass) && !first) first = name;
        n++;
        ok += cJSON_IsTrue(pass);
    }
    if (tc_audit_num(tc_audit_at(r, "summary.entries")) != n || tc_audit_num(tc_audit_at(r, "summary.passed")) != ok ||
        tc_audit_num(tc_audit_at(r, "summary.failed")) != n - ok)
        SAY("consistency: summary counts %g entries, %g passed, %g failed; the entries say %d, %d and %d",
            tc_audit_num(tc_audit_at(r, "summary.entries")), tc_audit_num(tc_audit_at(r, "summary.passed")),
            tc_audit_num(tc_audit_at(r, "summary.failed")), n, ok, n - ok);
    const char *v = cJSON_GetStringValue(tc_audit_at(r, "summary.verdict")), *want = n > 0 && ok == n ? "pass" : "fail";
    if (v && strcmp(v, want)) SAY("consistency: summary.verdict is \"%s\", the entries say \"%s\"", v, want);
    const char *ff = cJSON_GetStringValue(tc_audit_at(r, "summary.first_failure"));
    if ((ff == NULL) != (first == NULL) || (ff && strcmp(ff, first)))
        SAY("consistency: summary.first_failure is %s, the entries say %s", ff ? ff : "null", first ? first : "null");
}

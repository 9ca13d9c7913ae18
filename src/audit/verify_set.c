/* verify_set.c -- verify's rules for a compare receipt of a prompt set
 * (compare --prompts): the set level here; each prompt is checked by the
 * compare rules of verify.c on its own view (verify_shard.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/verify.h"
#include "audit/verify_shard.h"
#include "check/compare.h"
#include "receipt/seal.h"

#define SAY(...) do { char line_[400]; snprintf(line_, sizeof line_, __VA_ARGS__); report(ctx, line_); } while (0)

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

bool tc_verify_is_prompt_set(const cJSON *r)
{
    const char *src = cJSON_GetStringValue(tc_audit_at(r, "input.source"));
    return (src && !strcmp(src, "prompts")) || get(r, "prompts");
}

/* Put a copy of v under key in o, in place of what is there. */
static void put(cJSON *o, const char *key, const cJSON *v)
{
    cJSON *c = v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
    if (get(o, key)) cJSON_ReplaceItemInObjectCaseSensitive(o, key, c);
    else cJSON_AddItemToObject(o, key, c);
}

cJSON *tc_prompt_view(const cJSON *r, int i)
{
    const cJSON *e = cJSON_GetArrayItem(get(r, "prompts"), i), *s;
    if (!e) return NULL;
    cJSON *v = cJSON_CreateObject();
    static const char *const whole[] = { "schema", "kind", "model", "engines", "criteria" };
    static const char *const own[] = { "input", "results", "summary", "determinism", "timings" };
    for (size_t k = 0; k < sizeof whole / sizeof whole[0]; k++) put(v, whole[k], get(r, whole[k]));
    for (size_t k = 0; k < sizeof own / sizeof own[0]; k++) put(v, own[k], get(e, own[k]));
    /* the engines as this prompt's runs used them: its counts and seconds */
    cJSON *eng;
    cJSON_ArrayForEach(eng, get(v, "engines")) {
        const cJSON *mine = get(get(e, "engines"), eng->string);
        cJSON_ArrayForEach(s, mine) put(eng, s->string, s);
    }
    return v;
}

void tc_verify_prompt_set_schema(const cJSON *r, void (*report)(void *ctx, const char *line), void *ctx)
{
    static const char *const objs[] = { "input", "engines", "engines.ref", "engines.cand", "criteria", "summary",
                                        "determinism", "timings" };
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        if (!cJSON_IsObject(tc_audit_at(r, objs[i]))) SAY("schema: %s: expected an object", objs[i]);
    static const char *const strs[] = { "input.source", "input.sha256", "engines.ref.id", "engines.cand.id",
                                        "criteria.mode", "summary.verdict" };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (!cJSON_IsString(tc_audit_at(r, strs[i]))) SAY("schema: %s: expected a string", strs[i]);
    static const char *const nums[] = { "input.prompts", "criteria.tolerance", "criteria.q8_margin",
                                        "summary.prompts", "summary.taps_compared", "summary.taps_failed" };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (!cJSON_IsNumber(tc_audit_at(r, nums[i]))) SAY("schema: %s: expected a number", nums[i]);
    if (!cJSON_IsArray(get(r, "prompts")) || cJSON_GetArraySize(get(r, "prompts")) == 0) {
        SAY("schema: prompts: expected an array of one entry per prompt");
        return;
    }
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, get(r, "prompts")) {
        static const char *const own[] = { "input", "engines", "summary", "determinism" };
        if (!cJSON_IsNumber(get(e, "prompt")) || !cJSON_IsArray(get(e, "results")))
            SAY("schema: prompts[%d]: expected prompt (its index) and results", i);
        for (size_t k = 0; k < sizeof own / sizeof own[0]; k++)
            if (!cJSON_IsObject(get(e, own[k]))) SAY("schema: prompts[%d].%s: expected an object", i, own[k]);
        i++;
    }
}

/* The canonical text of r's member key. */
static char *canon(const cJSON *r, const char *key)
{
    cJSON *o = cJSON_CreateObject();
    put(o, "v", get(r, key));
    char *t = tc_receipt_canonical(o);
    cJSON_Delete(o);
    return t;
}

void tc_verify_prompt_set_summary(const cJSON *r, void (*report)(void *ctx, const char *line), void *ctx)
{
    cJSON *again = cJSON_Duplicate(r, 1);
    if (!again || tc_compare_set_finish(again, NULL, NULL)) {
        cJSON_Delete(again);
        SAY("consistency: out of memory");
        return;
    }
    static const char *const parts[] = { "summary", "determinism" };
    for (size_t k = 0; k < 2; k++) {
        char *a = canon(r, parts[k]), *b = canon(again, parts[k]);
        if (!a || !b || strcmp(a, b))
            SAY("consistency: the set's %s does not follow from its prompts (recomputed: %.200s)", parts[k],
                b ? b + 5 : "?");
        free(a);
        free(b);
    }
    /* the prompts: in order, each once */
    const cJSON *e;
    double last = -1;
    cJSON_ArrayForEach(e, get(r, "prompts")) {
        const double i = tc_audit_num(get(e, "prompt"));
        if (!(i > last)) SAY("consistency: prompt %g listed after prompt %g", i, last);
        last = i;
    }
    if (!(last < tc_audit_num(tc_audit_at(r, "input.prompts"))))
        SAY("consistency: prompt %g listed, the file has %g", last, tc_audit_num(tc_audit_at(r, "input.prompts")));
    cJSON_Delete(again);
}

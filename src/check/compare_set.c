/* compare_set.c -- a comparison over a file of prompts (compare.h): each
 * prompt compared as one `compare --prompt` is, one receipt for the set
 * with an entry per prompt, and a shard's share of the prompts. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/fileio.h"
#include "base/sha256.h"
#include "check/compare.h"
#include "engine/registry.h"
#include "receipt/receipt.h"

/* ---- the prompts ---- */

typedef struct prompt_file {
    char *text;           /* the file, its lines cut in place */
    char **line;          /* the prompts: non-empty lines, without \r\n */
    size_t n;
    char sha[TC_SHA256_HEX];
} prompt_file;

static void prompt_file_free(prompt_file *p)
{
    free(p->text);
    free(p->line);
}

/* Read and split the file: one prompt per line, blank lines skipped (at
 * most 64 MiB of text). */
static tc_status read_prompts(const char *path, prompt_file *p, tc_err *err)
{
    size_t len;
    tc_status s = tc_read_file(path, (size_t)64 << 20, "a prompts file", &p->text, &len, err);
    if (s) return s;
    if (memchr(p->text, '\0', len)) return tc_fail(err, TC_E_USAGE, "%s: expected text, found a NUL byte", path);
    tc_sha256_hex(p->text, len, p->sha);
    size_t cap = 1;
    for (size_t i = 0; i < len; i++) cap += p->text[i] == '\n';
    if (!(p->line = malloc(cap * sizeof *p->line))) return tc_fail(err, TC_E_NOMEM, "out of memory");
    for (char *at = p->text, *end = p->text + len; at < end;) {
        char *nl = memchr(at, '\n', (size_t)(end - at));
        char *stop = nl ? nl : end;
        if (stop > at && stop[-1] == '\r') stop--;
        *stop = '\0';
        if (stop > at) p->line[p->n++] = at;
        at = nl ? nl + 1 : end;
    }
    if (p->n == 0) return tc_fail(err, TC_E_USAGE, "%s: no prompt (one per line)", path);
    return TC_OK;
}

/* ---- kernel counts of one prompt ---- */

/* The engine's kernel counts so far (a new object). */
static cJSON *kernels_of(const tc_engine *e)
{
    cJSON *d = tc_engine_describe(e), *k = cJSON_DetachItemFromObjectCaseSensitive(d, "kernels");
    cJSON_Delete(d);
    return k ? k : cJSON_CreateObject();
}

/* after - before, kernel by kernel, the ones that ran (before and after
 * are taken). */
static cJSON *kernels_delta(cJSON *before, cJSON *after)
{
    cJSON *k, *out = cJSON_CreateObject();
    cJSON_ArrayForEach(k, after) {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(before, k->string);
        const double n = k->valuedouble - (cJSON_IsNumber(b) ? b->valuedouble : 0.0);
        if (n > 0) cJSON_AddNumberToObject(out, k->string, n);
    }
    cJSON_Delete(before);
    cJSON_Delete(after);
    return out;
}

/* ---- one prompt ---- */

typedef struct set_run {
    const tc_compare_set *set;
    tc_model *m;
    tc_engine *ref, *cand;
    double ref_seconds, cand_seconds;   /* totals */
} set_run;

static cJSON *determinism_json(const tc_compare_result *res, const tc_engine *live)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddBoolToObject(d, "measured", res->deterministic >= 0);
    if (res->deterministic >= 0) {
        cJSON_AddStringToObject(d, "engine", tc_engine_name(live));
        cJSON_AddStringToObject(d, "method", "the live engine run twice over the same input; every tap compared "
                                             "bit for bit");
        cJSON_AddBoolToObject(d, "bit_identical", res->deterministic == 1);
        if (res->deterministic == 0) cJSON_AddStringToObject(d, "first_difference", res->first_nondeterministic);
    }
    return d;
}

static cJSON *side_json(cJSON *kernels, double seconds)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "kernels", kernels);
    cJSON_AddNumberToObject(o, "seconds", seconds);
    return o;
}

/* One line: the prompt's verdict. */
static void print_prompt(size_t index, uint32_t n_prompt, uint32_t n, const tc_compare_result *res, FILE *out)
{
    fprintf(out, "prompt %zu (%" PRIu32 "+%" PRIu32 " tokens): ", index, n_prompt, n - n_prompt);
    const size_t total = res->n_taps + res->n_not_compared;
    if (res->verdict == TC_VERDICT_PASS) {
        fprintf(out, "PASS, %zu of %zu reference taps compared", res->n_taps, total);
    } else if (res->verdict == TC_VERDICT_INCOMPLETE) {
        fprintf(out, "INCOMPLETE, %zu of %zu reference taps compared", res->n_taps, total);
    } else {
        const tc_tap_result *f = &res->taps[res->first_fail];
        fprintf(out, "FAIL, first failing tap %s at position %" PRIu32 ", element %" PRIu32 " (scaled error %.3g)",
                f->name, f->fail_pos, f->fail_elem, f->scaled);
    }
    if (res->deterministic == 0) fprintf(out, "; runs differ at %s", res->first_nondeterministic);
    fputc('\n', out);
}

/* Compare prompt `index` (text): its entry appended to prompts. */
static tc_status run_prompt(set_run *x, size_t index, const char *text, cJSON *prompts, FILE *out, tc_err *err)
{
    const tc_compare_job *j = &x->set->job;
    tc_input in = { .prompt = text };
    cJSON *input = cJSON_CreateObject();
    int32_t *tokens = NULL;
    size_t n = 0;
    tc_dump *rec = NULL;
    tc_compare_result res = { 0 };
    tc_status s = input ? tc_input_tokens(&in, x->m, &tokens, &n, input, err) : tc_fail(err, TC_E_NOMEM, "out of memory");
    uint32_t n32 = (uint32_t)n;
    const uint32_t n_prompt = n32;
    cJSON *kr = kernels_of(x->ref), *kc = kernels_of(x->cand);
    double t0 = tc_now_s(), rs = 0.0;
    if (!s) s = tc_compare_record(x->ref, &tokens, &n32, n_prompt, j->n_gen, &rec, err);
    rs = tc_now_s() - t0;
    tc_compare_opts co = j->opts;
    co.n_prompt = n_prompt;
    co.progress = NULL;
    if (!s) s = tc_compare(x->cand, rec, tokens, n32, &co, &res, err);
    if (!s) {
        cJSON_AddNumberToObject(input, "prompt_tokens", n_prompt);
        cJSON_AddNumberToObject(input, "generated_tokens", n32 - n_prompt);
        cJSON *tl = cJSON_AddArrayToObject(input, "tokens");
        for (uint32_t i = 0; i < n32; i++) cJSON_AddItemToArray(tl, cJSON_CreateNumber(tokens[i]));
        cJSON *e = cJSON_CreateObject(), *eng;
        cJSON_AddNumberToObject(e, "prompt", (double)index);
        cJSON_AddItemToObject(e, "input", input);
        input = NULL;
        eng = cJSON_AddObjectToObject(e, "engines");
        cJSON_AddItemToObject(eng, "ref", side_json(kernels_delta(kr, kernels_of(x->ref)), rs));
        cJSON_AddItemToObject(eng, "cand", side_json(kernels_delta(kc, kernels_of(x->cand)), res.seconds_live));
        kr = kc = NULL;
        cJSON_AddItemToObject(e, "results", tc_compare_taps_json(&res, &co));
        cJSON_AddItemToObject(e, "summary", tc_compare_summary_json(&res, &co));
        cJSON_AddItemToObject(e, "determinism", determinism_json(&res, x->cand));
        cJSON *t = cJSON_AddObjectToObject(e, "timings");
        cJSON_AddNumberToObject(t, "ref_seconds", rs);
        cJSON_AddNumberToObject(t, "cand_seconds", res.seconds_live);
        cJSON_AddItemToArray(prompts, e);
        x->ref_seconds += rs;
        x->cand_seconds += res.seconds_live;
        if (out) print_prompt(index, n_prompt, n32, &res, out);
    } else {
        char what[32];
        snprintf(what, sizeof what, "prompt %zu", index);
        tc_err_prefix(err, what);
    }
    cJSON_Delete(kr);
    cJSON_Delete(kc);
    cJSON_Delete(input);
    tc_compare_result_free(&res);
    tc_dump_free(rec);
    free(tokens);
    return s;
}

/* ---- the set ---- */

/* Open both sides; neither may be a recording (a prompt needs a run). */
static tc_status open_sides(set_run *x, tc_err *err)
{
    const tc_compare_job *j = &x->set->job;
    tc_engine_opts lo = j->eng;
    lo.inject = j->inject;
    tc_status s = tc_model_load(j->model_path, &x->m, err);
    if (!s) s = tc_engine_open(j->ref, x->m, &j->eng, &x->ref, err);
    if (!s) s = tc_engine_open(j->cand, x->m, &lo, &x->cand, err);
    if (!s && (tc_engine_recording(x->ref) || tc_engine_recording(x->cand)))
        s = tc_fail(err, TC_E_USAGE, "compare: --prompts runs both sides on each prompt: no recording (dump:DIR)");
    return s;
}

/* The receipt's head: model, the prompts file, the engines with their
 * totals, criteria, the prompts (taken). */
static tc_status set_receipt(set_run *x, const prompt_file *pf, cJSON *prompts, cJSON **out, tc_err *err)
{
    const tc_compare_set *set = x->set;
    cJSON *r = tc_receipt_new("compare");
    if (!r) {
        cJSON_Delete(prompts);
        return tc_fail(err, TC_E_NOMEM, "receipt: out of memory");
    }
    tc_status s = tc_receipt_add_model(r, x->m, set->job.model_path, err);
    cJSON *in = cJSON_AddObjectToObject(r, "input");
    cJSON_AddStringToObject(in, "source", "prompts");
    cJSON_AddStringToObject(in, "file", set->prompts_path);
    cJSON_AddStringToObject(in, "sha256", pf->sha);
    cJSON_AddNumberToObject(in, "prompts", (double)pf->n);
    cJSON *eng = cJSON_AddObjectToObject(r, "engines"), *e;
    cJSON_AddItemToObject(eng, "ref", e = tc_engine_describe(x->ref));
    cJSON_AddNumberToObject(e, "seconds", x->ref_seconds);
    cJSON_AddItemToObject(eng, "cand", e = tc_engine_describe(x->cand));
    cJSON_AddNumberToObject(e, "seconds", x->cand_seconds);
    cJSON_AddItemToObject(r, "criteria", tc_compare_criteria_json(&set->job.opts));
    cJSON_AddItemToObject(r, "prompts", prompts);
    cJSON_AddObjectToObject(r, "summary");
    cJSON_AddObjectToObject(r, "determinism");
    cJSON *t = cJSON_AddObjectToObject(r, "timings");
    cJSON_AddNumberToObject(t, "ref_seconds", x->ref_seconds);
    cJSON_AddNumberToObject(t, "cand_seconds", x->cand_seconds);
    if (s) cJSON_Delete(r);
    else *out = r;
    return s;
}

/* A shard's section: the job is both engines, the criteria, determinism
 * and generation over the prompts file. */
static tc_status mark_shard(cJSON *r, const tc_compare_set *set, const prompt_file *pf, uint64_t first, uint64_t end,
                            tc_err *err)
{
    cJSON *opts = cJSON_CreateObject();
    if (!opts) return tc_fail(err, TC_E_NOMEM, "out of memory");
    const cJSON *eng = cJSON_GetObjectItemCaseSensitive(r, "engines");
    cJSON_AddItemToObject(opts, "ref", tc_engine_options_json(cJSON_GetObjectItemCaseSensitive(eng, "ref")));
    cJSON_AddItemToObject(opts, "cand", tc_engine_options_json(cJSON_GetObjectItemCaseSensitive(eng, "cand")));
    cJSON_AddItemToObject(opts, "criteria", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r, "criteria"), 1));
    cJSON_AddBoolToObject(opts, "determinism", set->job.opts.determinism);
    cJSON_AddNumberToObject(opts, "gen", set->job.n_gen);
    cJSON *job = tc_job_identity(r, opts, pf->sha, err);
    if (!job) return err ? err->status : TC_E_NOMEM;
    return tc_shard_mark(r, &set->shard, "prompt", pf->n, first, end, job, err);
}

tc_status tc_compare_set_run(const tc_compare_set *set, FILE *out, cJSON **receipt, bool *pass, tc_err *err)
{
    set_run x = { .set = set };
    prompt_file pf = { 0 };
    uint64_t first = 0, end = 0;
    cJSON *prompts = cJSON_CreateArray(), *r = NULL;
    *pass = false;
    if (receipt) *receipt = NULL;
    tc_status s = prompts ? read_prompts(set->prompts_path, &pf, err) : tc_fail(err, TC_E_NOMEM, "out of memory");
    if (!s && (s = tc_shard_range(&set->shard, pf.n, "prompts", &first, &end, err))) tc_err_prefix(err, "compare");
    if (!s) s = open_sides(&x, err);
    for (uint64_t i = first; i < end && !s; i++) {
        s = run_prompt(&x, (size_t)i, pf.line[i], prompts, out, err);
        if (!s && set->job.opts.progress) set->job.opts.progress(set->job.opts.progress_user, (uint32_t)(i - first + 1),
                                                                 (uint32_t)(end - first));
    }
    if (!s) {
        s = set_receipt(&x, &pf, prompts, &r, err);   /* takes prompts */
        prompts = NULL;
    }
    if (!s && tc_shard_on(&set->shard)) s = mark_shard(r, set, &pf, first, end, err);
    /* the set's figures from the entries as the receipt file holds them */
    if (!s) s = tc_receipt_as_written(&r, err);
    if (!s) s = tc_compare_set_finish(r, out, err);
    if (!s) {
        *pass = !strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(r, "summary"), "verdict")), "pass");
        if (receipt) {
            *receipt = r;
            r = NULL;
        }
    }
    cJSON_Delete(r);
    cJSON_Delete(prompts);
    prompt_file_free(&pf);
    tc_engine_free(x.cand);
    tc_engine_free(x.ref);
    tc_model_free(x.m);
    return s;
}

/* ---- the set's figures, from its entries ---- */

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* NaN counts as the worst error; a tie keeps the earlier prompt. */
static bool worse(const cJSON *a, const cJSON *b)
{
    const double x = tc_json_figure(a), y = tc_json_figure(b);
    return isnan(x) ? !isnan(y) : !isnan(y) && x > y;
}

/* Per tap, in order of first appearance: the worst scaled error over the
 * prompts, where (prompt, position, element), whether every prompt
 * passed it, and in how many it was compared. */
static void worst_taps(const cJSON *prompts, cJSON *worst)
{
    const cJSON *e, *t;
    cJSON_ArrayForEach(e, prompts) {
        cJSON_ArrayForEach(t, get(e, "results")) {
            const char *name = cJSON_GetStringValue(get(t, "tap"));
            if (!name) continue;
            cJSON *w = NULL, *c;
            cJSON_ArrayForEach(c, worst) if (!strcmp(cJSON_GetStringValue(get(c, "tap")), name)) w = c;
            if (!w) {
                w = cJSON_CreateObject();
                cJSON_AddStringToObject(w, "tap", name);
                cJSON_AddBoolToObject(w, "pass", true);
                cJSON_AddNumberToObject(w, "prompts", 0);
                cJSON_AddItemToArray(worst, w);
            }
            cJSON *n = cJSON_GetObjectItemCaseSensitive(w, "prompts");
            cJSON_SetNumberValue(n, n->valuedouble + 1);
            if (!cJSON_IsTrue(get(t, "pass"))) cJSON_ReplaceItemInObjectCaseSensitive(w, "pass", cJSON_CreateFalse());
            if (get(w, "scaled_err") && !worse(get(t, "scaled_err"), get(w, "scaled_err"))) continue;
            static const char *const keep[][2] = { { "scaled_err", "scaled_err" }, { "max_abs", "max_abs" },
                                                   { "worst_position", "position" }, { "worst_element", "element" } };
            cJSON *p = cJSON_Duplicate(get(e, "prompt"), 1);
            if (get(w, "prompt")) cJSON_ReplaceItemInObjectCaseSensitive(w, "prompt", p);
            else cJSON_AddItemToObject(w, "prompt", p);
            for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) {
                cJSON *v = cJSON_Duplicate(get(t, keep[k][0]), 1);
                if (!v) v = cJSON_CreateNull();
                if (get(w, keep[k][1])) cJSON_ReplaceItemInObjectCaseSensitive(w, keep[k][1], v);
                else cJSON_AddItemToObject(w, keep[k][1], v);
            }
        }
    }
}

/* The set's determinism: measured and bit-identical in every prompt. */
static cJSON *set_determinism(const cJSON *prompts)
{
    const cJSON *e;
    bool measured = cJSON_GetArraySize(prompts) > 0, same = true;
    cJSON *d = cJSON_CreateObject(), *first = NULL;
    cJSON_ArrayForEach(e, prompts) {
        measured = measured && cJSON_IsTrue(get(get(e, "determinism"), "measured"));
        if (!cJSON_IsTrue(get(get(e, "determinism"), "bit_identical")) && same) {
            same = false;
            first = cJSON_CreateObject();
            cJSON_AddItemToObject(first, "prompt", cJSON_Duplicate(get(e, "prompt"), 1));
            cJSON_AddItemToObject(first, "tap", cJSON_Duplicate(get(get(e, "determinism"), "first_difference"), 1));
        }
    }
    cJSON_AddBoolToObject(d, "measured", measured);
    if (measured) {
        cJSON_AddStringToObject(d, "method", "each prompt's live run made twice, every tap compared bit for bit");
        cJSON_AddBoolToObject(d, "bit_identical", same);
        if (first) cJSON_AddItemToObject(d, "first_difference", first), first = NULL;
    }
    cJSON_Delete(first);
    return d;
}

static void set_part(cJSON *r, const char *key, cJSON *item)
{
    if (cJSON_GetObjectItemCaseSensitive(r, key)) cJSON_ReplaceItemInObjectCaseSensitive(r, key, item);
    else cJSON_AddItemToObject(r, key, item);
}

tc_status tc_compare_set_finish(cJSON *r, FILE *out, tc_err *err)
{
    const cJSON *prompts = get(r, "prompts"), *e;
    double n = 0, passed = 0, failed = 0, incomplete = 0, compared = 0, tfailed = 0;
    cJSON *sum = cJSON_CreateObject(), *ff = NULL;
    if (!sum) return tc_fail(err, TC_E_NOMEM, "out of memory");
    cJSON_ArrayForEach(e, prompts) {
        const cJSON *s = get(e, "summary");
        const char *v = cJSON_GetStringValue(get(s, "verdict"));
        n++;
        passed += v && !strcmp(v, "pass");
        failed += v && !strcmp(v, "fail");
        incomplete += v && !strcmp(v, "incomplete");
        compared += tc_json_figure(get(s, "taps_compared"));
        tfailed += tc_json_figure(get(s, "taps_failed"));
        const cJSON *f = get(s, "first_failure");
        if (!ff && cJSON_IsObject(f)) {
            ff = cJSON_CreateObject();
            cJSON_AddItemToObject(ff, "prompt", cJSON_Duplicate(get(e, "prompt"), 1));
            cJSON_AddItemToObject(ff, "tap", cJSON_Duplicate(get(f, "tap"), 1));
            cJSON_AddItemToObject(ff, "position", cJSON_Duplicate(get(f, "position"), 1));
            cJSON_AddItemToObject(ff, "element", cJSON_Duplicate(get(f, "element"), 1));
        }
    }
    const char *verdict = failed ? "fail" : n > 0 && passed == n ? "pass" : "incomplete";
    cJSON_AddStringToObject(sum, "verdict", verdict);
    cJSON_AddNumberToObject(sum, "prompts", n);
    cJSON_AddNumberToObject(sum, "passed", passed);
    cJSON_AddNumberToObject(sum, "failed", failed);
    cJSON_AddNumberToObject(sum, "incomplete", incomplete);
    cJSON_AddNumberToObject(sum, "taps_compared", compared);
    cJSON_AddNumberToObject(sum, "taps_failed", tfailed);
    cJSON_AddItemToObject(sum, "first_failure", ff ? ff : cJSON_CreateNull());
    worst_taps(prompts, cJSON_AddArrayToObject(sum, "worst"));
    set_part(r, "summary", sum);
    set_part(r, "determinism", set_determinism(prompts));
    if (out) {
        fprintf(out, "prompt set: %g prompts, %g pass, %g fail, %g incomplete; ", n, passed, failed, incomplete);
        if (ff)
            fprintf(out, "FAIL: first failure prompt %g, tap %s at position %g\n", tc_json_figure(get(ff, "prompt")),
                    cJSON_GetStringValue(get(ff, "tap")), tc_json_figure(get(ff, "position")));
        else
            fprintf(out, "%s\n", !strcmp(verdict, "pass") ? "PASS" : "INCOMPLETE");
    }
    return TC_OK;
}

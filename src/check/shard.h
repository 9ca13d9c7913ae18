/* shard.h -- one job split into shards (`--shard I/N`), and what a shard's
 * receipt records so that `tritcheck merge` (audit/merge.h) can put the
 * pieces back together exactly.
 *
 * A job is a list of units in a fixed order: the chunks of accuracy's
 * token sequence, the prompts of a compare prompt set, the cases of a
 * kernel suite or a conformance suite, the entries of a vectors
 * directory.  Shard I of N takes a contiguous run of whole units,
 * [floor(I U / N), floor((I + 1) U / N)), so the shards are in unit order,
 * differ in size by at most one unit and together hold each unit once.
 *
 * Every shard's receipt carries the section "shard": its index, the
 * count, the unit, the job's unit count, its range, and the job's
 * identity ("job"): the kind, the model's SHA-256, the binary (SHA-256 of
 * the running executable, version, commit), the options that decide the
 * figures, and a digest of the whole job's input.  Receipts belong to one
 * job exactly when their "job" objects are equal; job_id is the SHA-256
 * of the job's canonical form.
 *
 * Each check writes per-unit figures (the mergeable part) and derives its
 * summary from them with a "finish" function that reads the units back
 * from the receipt.  An unsharded run goes through the same path: its
 * receipt is printed and parsed back (tc_receipt_as_written) before it is
 * finished, so the summary is computed from exactly the numbers a merge
 * will read, in the same order, by the same code.
 */
#ifndef TC_CHECK_SHARD_H
#define TC_CHECK_SHARD_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/status.h"

typedef struct tc_shard {
    uint32_t index;   /* this shard, 0 <= index < count */
    uint32_t count;   /* shards in the job; 0: the job is not sharded */
} tc_shard;

#define TC_SHARD_MAX 65536

/* "I/N" (0 <= I < N <= TC_SHARD_MAX) into *out.  TC_OK, TC_E_USAGE (the
 * message quotes the text). */
tc_status tc_shard_parse(const char *text, tc_shard *out, tc_err *err);

/* Whether sh splits the job (count > 0). */
bool tc_shard_on(const tc_shard *sh);

/* The units [*first, *end) of n_units that shard sh takes (all of them
 * when sh is off).  TC_OK, or TC_E_USAGE when the job has fewer units
 * than shards ("--shard 5/8: the job has 4 chunks: use at most 4
 * shards"); `unit` names the unit in the plural ("chunks"). */
tc_status tc_shard_range(const tc_shard *sh, uint64_t n_units, const char *unit, uint64_t *first, uint64_t *end,
                         tc_err *err);

/* The same arithmetic without the check: shard index of count over
 * n_units (for verify and merge, which check ranges). */
void tc_shard_bounds(uint64_t index, uint64_t count, uint64_t n_units, uint64_t *first, uint64_t *end);

/* The job identity of a receipt r being built (its kind, model.sha256
 * and tool already in place): {kind, model_sha256 (null without a
 * model), binary {sha256, version, git_commit}, options (taken),
 * input_sha256}.  NULL with err set: TC_E_IO (the executable unreadable),
 * TC_E_NOMEM. */
cJSON *tc_job_identity(const cJSON *r, cJSON *options, const char *input_sha256, tc_err *err);

/* SHA-256 of a JSON value's canonical form (keys sorted, no spaces). */
tc_status tc_json_sha256(const cJSON *v, char hex[65]);

/* Add the "shard" section to r: index, count, unit (singular, "chunk"),
 * units, first, end, job (taken) and job_id.  TC_OK, TC_E_NOMEM. */
tc_status tc_shard_mark(cJSON *r, const tc_shard *sh, const char *unit, uint64_t n_units, uint64_t first,
                        uint64_t end, cJSON *job, tc_err *err);

/* An engine's description without what a run counts or times (kernels,
 * seconds): the part of it that is an option of the job.  NULL when out
 * of memory. */
cJSON *tc_engine_options_json(const cJSON *described);

/* Replace *r by its printed form parsed back: every number becomes the
 * double a reader of the receipt file gets (cJSON prints 15 significant
 * digits where they read back within an ulp).  TC_OK, TC_E_NOMEM. */
tc_status tc_receipt_as_written(cJSON **r, tc_err *err);

/* The number a receipt holds at v: a JSON number, or "inf", "-inf",
 * "nan" (NAN for anything else). */
double tc_json_figure(const cJSON *v);

/* The "finish" of a check whose units are a list of pass/fail results
 * (kernels: "cases", vectors: "entries"): r's summary becomes {COUNT: n,
 * passed, failed, verdict, first_failure}, the verdict "pass" only when
 * at least one unit ran and every one passed (an empty list fails: it
 * checked nothing), first_failure the name of the first that did not
 * pass, or null.  With out, one line "WHAT: n COUNT, p pass, f fail[;
 * first failure: NAME]". */
tc_status tc_tally_finish(cJSON *r, const char *what, const char *list, const char *count,
                          bool (*passed)(const cJSON *unit), FILE *out, tc_err *err);

#endif

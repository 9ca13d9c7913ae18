/* verify_shard.h -- verify's rules for shards and merged receipts
 * (check/shard.h, audit/merge.h), and for the vectors receipts that came
 * with them. */
#ifndef TC_AUDIT_VERIFY_SHARD_H
#define TC_AUDIT_VERIFY_SHARD_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/* Check r's "shard" section (a shard's receipt: its range is its index's
 * share of the units, its unit array holds them, the job is this
 * receipt's and job_id its SHA-256) or "merged" section (each shard
 * listed once and in order with its range, the joined parts as long as
 * the shards' lengths add up to, the kernel counts the sums of the
 * shards', and each shard receipt found beside the merged one at path:
 * intact, with the digest listed, of the same job).  Each problem goes to
 * report(ctx, line); a shard receipt not found is a note on out (may be
 * NULL), not a problem. */
void tc_verify_shards(const cJSON *r, const char *path, FILE *out, void (*report)(void *ctx, const char *line),
                      void *ctx);

/* A receipt of kind "vectors" (audit/verify_vectors.c): its schema, and
 * that its summary follows from its entries. */
void tc_verify_vectors(const cJSON *r, void (*report)(void *ctx, const char *line), void *ctx);

/* ---- a compare receipt of a prompt set (audit/verify_set.c) ---- */

/* Whether r is one (input.source "prompts", or a "prompts" array). */
bool tc_verify_is_prompt_set(const cJSON *r);

/* Prompt i as a single compare receipt (a new object, not sealed): the
 * model, criteria and engines (with that prompt's kernel counts and
 * seconds), its input, results, summary, determinism and timings; NULL
 * when there is no prompt i.  verify checks and reruns each prompt on it
 * with the rules of a single comparison. */
cJSON *tc_prompt_view(const cJSON *r, int i);

/* The set level: its fields, and that its summary and determinism are
 * what tc_compare_set_finish derives from its prompts, listed in order. */
void tc_verify_prompt_set_schema(const cJSON *r, void (*report)(void *ctx, const char *line), void *ctx);
void tc_verify_prompt_set_summary(const cJSON *r, void (*report)(void *ctx, const char *line), void *ctx);

#endif

/* verify_shard.h -- verify's rules for shards and merged receipts
 * (check/shard.h, audit/merge.h), and for the vectors receipts that came
 * with them. */
#ifndef TC_AUDIT_VERIFY_SHARD_H
#define TC_AUDIT_VERIFY_SHARD_H

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

#endif

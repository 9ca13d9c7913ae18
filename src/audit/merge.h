/* merge.h -- `tritcheck merge`: the receipts of a job's shards
 * (check/shard.h) put back together into one receipt whose figures are
 * those of an unsharded run, bit for bit.
 *
 * The shards must be one job: the same kind and job identity (model,
 * binary, options, input), each shard of the count exactly once, each
 * holding the units its index says, each intact (digest, signature when
 * a public key is given, and verify's consistency rules).  The merged
 * receipt is the first shard's with the per-unit parts joined in shard
 * order (accuracy: the tokens, per-position figures and per-chunk sums;
 * compare: the prompts; kernels, conform: the cases; vectors: the
 * entries), the kernel counts, seconds and timings added, and the
 * figures derived again by the check's own finish function from the
 * joined parts.  Its "merged" section lists the shards (index, units,
 * receipt file, digest, host, kernel counts, timings) and the job.
 */
#ifndef TC_AUDIT_MERGE_H
#define TC_AUDIT_MERGE_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "base/status.h"

/* Merge the n shard receipts at paths (any order) into *merged (not
 * sealed); the check's summary lines go to out (may be NULL).  With
 * pubkey, every shard must be signed by that key.  TC_OK, or TC_E_USAGE
 * with one line saying why the receipts are not the shards of one job
 * (another model, binary or options; a shard missing or given twice; not
 * a shard), TC_E_FORMAT (a shard damaged or changed: digest, signature,
 * consistency), TC_E_IO, TC_E_NOMEM. */
tc_status tc_merge(const char *const *paths, size_t n, const char *pubkey, FILE *out, cJSON **merged, tc_err *err);

/* The kinds merge knows, and where each keeps its units: the array of
 * per-unit entries whose length is the shard's unit count ("cases"), or
 * for accuracy "per_chunk".  NULL for a kind merge does not know. */
const char *tc_merge_units_path(const char *kind);

/* A merged receipt's view of shard `index` (its "merged" section lists
 * it): the units of that shard cut out of the joined parts, its own
 * kernel counts and timings, the figures derived again as the shard's
 * own receipt had them, its "shard" section, and no "merged" section.  NULL with err set:
 * TC_E_USAGE (no such shard, not a merged receipt), TC_E_FORMAT,
 * TC_E_NOMEM. */
cJSON *tc_merge_shard_view(const cJSON *merged, int index, tc_err *err);

#endif

/* accuracy.h -- I2_S accuracy against an FP32 baseline (SPEC 5), every
 * metric named and defined.
 *
 * The baseline is either the same file run in fp32 precision (ternary
 * weights dequantized, activations unquantized: the cost of 8-bit
 * activations alone), or a latent F32/F16 model run in fp32 against its
 * I2_S quantization (the full cost of W1.58A8).  Both sides run the same
 * tokens, chunk by chunk, each chunk from position 0 as one batch.
 */
#ifndef TC_ACCURACY_H
#define TC_ACCURACY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "base/status.h"
#include "check/shard.h"
#include "engine/engine.h"

typedef struct tc_accuracy_opts {
    const char *model_path;         /* the subject: normally the I2_S model */
    const char *baseline_path;      /* a latent model, or NULL: the same file */
    const char *engine;             /* the subject's engine ("ref", "fast"...) */
    tc_precision precision;         /* the subject's precision (i2s) */
    tc_precision baseline_precision;/* the baseline's (fp32); the baseline runs on ref */
    int n_threads;
    uint32_t ctx;                   /* tokens per chunk; 0: the model's context */
    /* the tokens: one of these */
    const char *token_list;         /* "1,2,3" */
    const char *prompt;             /* text */
    const char *corpus;             /* a text file */
    uint32_t n_random;              /* random ids ... */
    uint64_t seed;                  /* ... from this seed */
    const int32_t *tokens;          /* explicit ids (verify --rerun) */
    uint32_t n_tokens;
    tc_shard shard;                 /* run only these chunks (count 0: all) */
    void (*progress)(void *user, uint32_t done, uint32_t total);
    void *progress_user;
} tc_accuracy_opts;

/* Defaults: ref, i2s against fp32, 1 thread, 256 random tokens, seed 1. */
void tc_accuracy_opts_default(tc_accuracy_opts *o);

/* Run both sides and build the receipt (kind "accuracy", not sealed); the
 * headline lines go to summary (may be NULL).  With o->shard, only the
 * shard's chunks run (whole chunks of the token sequence, check/shard.h)
 * and the receipt is that shard's: its tokens and figures, and the
 * "shard" section tritcheck merge needs.  TC_OK, or TC_E_IO /
 * TC_E_FORMAT / TC_E_MODEL (a model), TC_E_USAGE (shapes differ between
 * the two models; more shards than chunks), TC_E_RANGE,
 * TC_E_UNSUPPORTED, TC_E_NOMEM. */
tc_status tc_accuracy_run(const tc_accuracy_opts *o, FILE *summary, cJSON **receipt, tc_err *err);

/* Derive an accuracy receipt's figures from its mergeable parts, as they
 * stand in r: per_layer from per_chunk (the sums of blk.N.out per chunk,
 * added in chunk order), kl (statistics, histogram) and the headline
 * from per_position and per_tensor, each replacing an earlier one in
 * place.  The headline lines go to summary (may be NULL).  Both a run
 * and `tritcheck merge` call it, on numbers as the receipt file holds
 * them, so a merge of shards gives the same figures bit for bit.
 * TC_OK, TC_E_NOMEM. */
tc_status tc_accuracy_finish(cJSON *r, FILE *summary, tc_err *err);

/* The analytic relative RMS error ||W - code m|| / ||W|| of absmean
 * ternarization of Gaussian weights (m = E|W|): sqrt(1 - 4 a phi(a/2) +
 * 2 a^2 Q(a/2)) with a = sqrt(2/pi). */
double tc_accuracy_gaussian_rel_rms(void);

#endif

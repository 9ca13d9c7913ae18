/* compare.h -- the comparator (SPEC 4): one engine against a recording of
 * another, tap by tap.
 *
 * A comparison has two sides, the reference and the candidate.  One side
 * is a recording (tc_dump: every tap of every position, from a free run of
 * an engine or a recording on disk replayed as one), the other a live
 * engine run over the same tokens: the prompt as one batch, then one token
 * at a time.  In isolated mode each of the live engine's taps is recorded
 * and then overwritten with the recording's values, so each comparison
 * measures one segment of computation; in chained mode the live engine
 * runs free.  The two recordings are then compared per tap and position.
 *
 * Coverage is part of the verdict (SPEC 4): every tap of the reference --
 * and every canonical tap of the model (engine/taps.h) -- is compared,
 * derived, or listed as not compared with the reason.  A recording with a
 * float norm tap and not its .q8 tap gets the codes derived with the SPEC
 * 2.2 quantizer (engine/q8.h), marked "derived".  PASS: every such tap
 * compared and within the criteria; FAIL: some tap failed; INCOMPLETE:
 * none failed but some were not compared (or none were).
 */
#ifndef TC_CHECK_COMPARE_H
#define TC_CHECK_COMPARE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "check/shard.h"
#include "engine/dump.h"
#include "engine/engine.h"
#include "format/input.h"

typedef enum tc_compare_mode {
    TC_COMPARE_ISOLATED,   /* teacher-forced: each tap measures one segment */
    TC_COMPARE_CHAINED     /* both run free: errors accumulate */
} tc_compare_mode;

/* The verdict of a comparison. */
typedef enum tc_verdict {
    TC_VERDICT_PASS,        /* every reference tap compared, none failed */
    TC_VERDICT_FAIL,        /* some tap failed */
    TC_VERDICT_INCOMPLETE   /* none failed, but some reference tap was not compared */
} tc_verdict;

/* "pass", "fail", "incomplete". */
const char *tc_verdict_name(tc_verdict v);

typedef struct tc_compare_opts {
    tc_compare_mode mode;
    double tol;            /* pass: scaled error <= tol (default 1e-5) */
    double q8_margin;      /* an off-by-one code is a boundary flip when the two
                              sides' unrounded values x*s differ and both lie
                              within this of the same k + 1/2 */
    const char *select;    /* --taps: comma-separated shell patterns; only taps
                              matching one are compared and counted (NULL: all) */
    const tc_hparams *expect;  /* the model whose canonical taps the reference is
                              expected to show (NULL: only the reference's own) */
    bool expect_q8;        /* ... including the .q8 taps (precision i2s) */
    uint32_t n_prompt;     /* the first n_prompt tokens run as one batch */
    bool live_is_ref;      /* the live engine is the reference side */
    bool determinism;      /* run the live engine twice, compare tap hashes */
    /* progress (may be NULL): called after each batch */
    void (*progress)(void *user, uint32_t done, uint32_t total);
    void *progress_user;
} tc_compare_opts;

/* Defaults: isolated, tol 1e-5, margin 1e-3, determinism on. */
void tc_compare_opts_default(tc_compare_opts *o);

#define TC_COMPARE_FLIPS_LISTED 8

/* Two codes of one element that differ, with each side's unrounded value
 * x*s (NAN where that side's float input is unknown) and the rounding
 * boundary k + 1/2 between them. */
typedef struct tc_q8_flip {
    uint32_t pos, elem;    /* where */
    int ref, cand;         /* the two codes */
    float u_ref, u_cand;   /* each side's x*s, or NAN */
    double boundary;       /* the k + 1/2 nearest the known values */
} tc_q8_flip;

/* One tap's result, worst over positions. */
typedef struct tc_tap_result {
    char name[64];
    bool derived;                 /* a side's codes were derived from its float tap */
    int layer;
    tc_tap_kind kind;
    uint32_t width, n_pos;        /* elements per row, positions compared */
    /* float values (q8 taps: the per-token scales) */
    double max_abs, scaled, nmse, cosine;   /* worst position's */
    uint64_t max_ulp;
    uint32_t worst_pos, worst_elem;         /* where the largest scaled error is */
    uint64_t nonfinite;           /* NaN/Inf in the candidate where the reference is finite */
    /* q8 codes */
    uint64_t q8_mismatches;       /* codes that differ and are not boundary flips */
    uint64_t q8_flips;            /* accepted boundary flips */
    tc_q8_flip flips[TC_COMPARE_FLIPS_LISTED];
    uint32_t n_flips_listed;
    /* logits */
    uint32_t top1_agree;          /* positions whose argmax agree */
    /* SHA-256 of each side's tensor, all positions in order */
    char sha_ref[65], sha_cand[65];
    bool pass;
    uint32_t fail_pos, fail_elem; /* first failing position and element, if !pass */
} tc_tap_result;

/* A reference tap that was not compared, and why. */
typedef struct tc_uncovered {
    char name[64];
    const char *reason;           /* static text */
} tc_uncovered;

/* Where a chained comparison's runs began to differ. */
typedef struct tc_divergence {
    bool differ;                  /* some compared tap is not bit-identical */
    char first_tap[64];           /* the first such tap in execution order ... */
    uint32_t first_pos, first_elem;   /* ... at its first position and element */
    uint64_t first_ulp;           /* float taps: the distance there, in ulps */
    bool code_upstream;           /* a .q8 code differs upstream of the first failing tap */
    char code_tap[64];            /* ... the first such .q8 tap in execution order */
    tc_q8_flip code;              /* ... its first differing code */
} tc_divergence;

typedef struct tc_compare_result {
    tc_tap_result *taps;          /* compared, in execution order */
    size_t n_taps;
    size_t n_derived;             /* of them, with derived codes */
    tc_uncovered *not_compared;   /* reference (or expected) taps not compared */
    size_t n_not_compared;
    char **cand_only;             /* taps the candidate shows and the reference lacks */
    size_t n_cand_only;
    size_t n_not_selected;        /* reference taps left out by opts.select */
    tc_verdict verdict;
    bool pass;                    /* verdict == TC_VERDICT_PASS */
    size_t first_fail;            /* index in taps of the first failure (lowest
                                     position, then execution order); SIZE_MAX */
    tc_divergence divergence;     /* chained mode */
    int deterministic;            /* 1 bit-identical, 0 not, -1 not measured */
    char first_nondeterministic[64];
    double seconds_live;          /* wall time of the live run */
} tc_compare_result;

/* Run the live engine over tokens[0..n) (reset first) against the
 * recording rec, which must hold the same positions.  In precision i2s,
 * the .q8 taps rec lacks are first derived from its float norm taps (and
 * added to rec, marked derived).  The canonical taps of the live engine's
 * model are expected unless o->expect says otherwise.  Returns TC_OK (the
 * verdict is in res), TC_E_USAGE (no token), TC_E_RANGE, TC_E_NOMEM, or an
 * engine's error. */
tc_status tc_compare(tc_engine *live, tc_dump *rec, const int32_t *tokens, uint32_t n, const tc_compare_opts *o,
                     tc_compare_result *res, tc_err *err);

/* Add to rec the .q8 taps it lacks where it has their float norm taps:
 * the codes of SPEC 2.2's quantizer, marked derived.  TC_OK, TC_E_NOMEM. */
tc_status tc_compare_derive_q8(tc_dump *rec, tc_err *err);

/* Compare two recordings tap by tap (o->live_is_ref says which side is
 * the reference; in isolated mode `live` was fed `rec`'s values).  No
 * engine runs; determinism is not measured.  res must start zeroed.
 * TC_OK or TC_E_NOMEM. */
tc_status tc_compare_dumps(const tc_dump *live, const tc_dump *rec, const tc_compare_opts *o,
                           tc_compare_result *res, tc_err *err);

/* Record a free run of e over tokens: the first n_prompt as one batch,
 * then one at a time; when n_gen > 0, n_gen more tokens are generated
 * greedily and appended to *tokens (realloc'd; *n updated).  The recording
 * holds every tap and the tokens. */
tc_status tc_compare_record(tc_engine *e, int32_t **tokens, uint32_t *n, uint32_t n_prompt, uint32_t n_gen,
                            tc_dump **out, tc_err *err);

void tc_compare_result_free(tc_compare_result *res);

/* The per-tap results as a JSON array. */
cJSON *tc_compare_taps_json(const tc_compare_result *res, const tc_compare_opts *o);

/* The coverage as a JSON object (summary.coverage of a receipt). */
cJSON *tc_compare_coverage_json(const tc_compare_result *res, const tc_compare_opts *o);

/* One side of a comparison, for the receipt: an engine (a recording is
 * one too, see tc_engine_recording). */
typedef struct tc_compare_side {
    const tc_engine *engine;
    double seconds;               /* wall time of its (first) run; 0 for a recording */
} tc_compare_side;

/* The whole receipt of a comparison (kind "compare"): model, input (the
 * caller's object, taken over), engines with observed kernel counts,
 * criteria, per-tap results, summary, determinism and timings.  Not yet
 * sealed.  TC_OK, TC_E_IO (model hash), TC_E_NOMEM. */
tc_status tc_compare_receipt(const tc_model *m, const char *model_path, cJSON *input, const tc_compare_side *ref,
                             const tc_compare_side *cand, const tc_compare_opts *o,
                             const tc_compare_result *res, cJSON **out, tc_err *err);

/* A receipt's "criteria" and "summary" sections (with coverage and, in
 * chained mode, divergence) as new objects: a prompt set repeats the
 * summary per prompt. */
cJSON *tc_compare_criteria_json(const tc_compare_opts *o);
cJSON *tc_compare_summary_json(const tc_compare_result *res, const tc_compare_opts *o);

/* A whole comparison as `tritcheck compare` and `verify --rerun` run it. */
typedef struct tc_compare_job {
    const char *model_path;
    const char *ref, *cand;       /* engine names (engine/registry.h); at most one "dump:DIR" */
    tc_engine_opts eng;           /* precision, threads, context for both */
    const char *inject;           /* the candidate's fault injection (testing aid), or NULL */
    tc_input in;                  /* the prompt, unless a recording brings its own */
    uint32_t n_prompt;            /* with in.tokens: how many form the first batch (0: all) */
    uint32_t n_gen;               /* greedy tokens after the prompt */
    tc_compare_opts opts;         /* mode, tolerance, margin, determinism, progress */
} tc_compare_job;

/* Run the job; the summary goes to `summary` (may be NULL) and the
 * unsealed receipt to *receipt (may be NULL).  Returns TC_OK (verdict in
 * *pass) or the error that stopped it (the message names the file). */
tc_status tc_compare_job_run(const tc_compare_job *job, FILE *summary, cJSON **receipt, bool *pass, tc_err *err);

/* ---- a prompt set (compare_set.c) ---- */

/* A comparison of every prompt of a file (one per line; blank lines
 * skipped), each compared as a single `compare --prompt` is: recorded
 * (with job.n_gen generated tokens), the candidate run live against it,
 * every tap judged, coverage and determinism.  The receipt (kind
 * "compare", input.source "prompts") holds one entry per prompt in
 * "prompts" (its input, results, summary, determinism, and the kernel
 * counts and seconds of its own runs), the engines' totals, and a
 * summary of the set derived from the entries by tc_compare_set_finish.
 * With shard, only that shard's prompts run (check/shard.h). */
typedef struct tc_compare_set {
    tc_compare_job job;           /* model, engines, options, n_gen; job.in is not used */
    const char *prompts_path;     /* the prompts file */
    tc_shard shard;               /* count 0: every prompt */
} tc_compare_set;

/* Run the set; one line per prompt and the set's verdict go to summary
 * (may be NULL), the unsealed receipt to *receipt (may be NULL).  *pass:
 * every prompt passed.  TC_OK, TC_E_IO (the prompts file), TC_E_USAGE (no
 * prompt; a recording as a side; more shards than prompts), or an
 * engine's or a model's error. */
tc_status tc_compare_set_run(const tc_compare_set *set, FILE *summary, cJSON **receipt, bool *pass, tc_err *err);

/* A prompt set receipt's "summary" (verdict: fail when a prompt fails,
 * else incomplete when one is incomplete, else pass; counts of prompts
 * and taps; the first failure with its prompt; per tap, the worst
 * scaled error over the prompts with its prompt, position and element)
 * and "determinism" derived from its prompts, in place of earlier ones:
 * a run and `tritcheck merge` both call it.  TC_OK, TC_E_NOMEM. */
tc_status tc_compare_set_finish(cJSON *r, FILE *summary, tc_err *err);

/* A compact terminal summary: one line per layer (its worst tap), the
 * coverage, where a chained run began to differ, then the verdict and
 * the first failing tap. */
void tc_compare_print(const tc_compare_result *res, const tc_compare_opts *o, FILE *out);

#endif

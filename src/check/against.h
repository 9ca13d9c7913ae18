/* against.h -- `tritcheck bench MODEL --against PATH/llama-bench`: a peer's
 * llama-bench (bitnet.cpp's, llama.cpp's) on the same file with the same
 * thread count, prompt length, generated tokens and repeats, run in rounds
 * that alternate with tritcheck's own bench, so that both see the same
 * moments of a shared machine.  Each side's figure of a round is the
 * median of its repeats; the report is the median and range over rounds
 * of each side and of the per-round ratio tritcheck / peer. */
#ifndef TC_CHECK_AGAINST_H
#define TC_CHECK_AGAINST_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "base/stats.h"
#include "base/status.h"
#include "check/bench.h"
#include "format/model.h"

enum { TC_AGAINST_MAX_ROUNDS = 20 };

/* Who the peer is: its path and SHA-256, and what its JSON says of itself. */
typedef struct tc_peer_identity {
    char path[1024];
    char sha256[65];
    char build_commit[64];   /* "40ed0f29" */
    int build_number;
    char cpu_info[256];      /* as the peer reads it */
    char model_type[128];    /* as the peer loaded the file */
    int n_threads;           /* as the peer ran */
    char type_k[16], type_v[16];   /* its KV cache types */
    int n_batch, n_ubatch;
} tc_peer_identity;

typedef struct tc_against_result {
    uint32_t rounds;
    tc_peer_identity peer;
    /* per round: the median of the repeats of each side */
    double ours_prefill[TC_AGAINST_MAX_ROUNDS], ours_decode[TC_AGAINST_MAX_ROUNDS];
    double peer_prefill[TC_AGAINST_MAX_ROUNDS], peer_decode[TC_AGAINST_MAX_ROUNDS];
    /* over rounds */
    tc_stat ours_prefill_tps, ours_decode_tps, peer_prefill_tps, peer_decode_tps;
    tc_stat prefill_ratio, decode_ratio;   /* ours / peer, round by round */
    tc_bench_result last;                  /* tritcheck's full result of the last round */
} tc_against_result;

/* Run `rounds` rounds (1..TC_AGAINST_MAX_ROUNDS) of tc_bench_run(m, o)
 * then `peer -m model_path -t threads -p prompt_len -n gen -r repeat -o
 * json`.  A peer that is not an executable file, exits non-zero, or
 * prints no figures for the two tests is TC_E_IO (TC_E_USAGE for a bad
 * round count) with a one-line message naming it. */
tc_status tc_bench_against(const tc_model *m, const char *model_path, const tc_bench_opts *o, const char *peer,
                           uint32_t rounds, tc_against_result *r, tc_err *err);

/* The comparison as a table, after the last round's bench table. */
void tc_against_print(const tc_against_result *r, FILE *out);

/* The "against" object of a bench receipt (NULL when out of memory). */
cJSON *tc_against_json(const tc_against_result *r);

/* Median, min, max of ours[k] / peer[k], k < n (n >= 1, every peer[k] > 0). */
tc_stat tc_against_ratio(const double *ours, const double *peer, uint32_t n);

#endif

/* bench.h -- `tritcheck bench`: how fast an engine runs a model, against
 * what this machine's memory and integer units allow.
 *
 * It measures, in one run (the machine's figures by check/hostprobe.h):
 * the machine's read bandwidth (a STREAM-like
 * pass over a buffer far larger than the caches, with the engine's thread
 * count, the best pass before and after the runs), prefill tokens/s
 * and decode tokens/s (median, min and max over repeats, after one
 * warm-up run), the bytes a decoded token must read
 * (weights, and the KV cache at the mean decode position), the floor
 * bandwidth / bytes per token and the ratio of the decode speed to it,
 * and the prefill's int8 multiply-accumulates per second against the
 * cores' peak (cores x measured GHz x int8 MACs per cycle).  No figure is
 * asserted anywhere: a bench reports.
 */
#ifndef TC_BENCH_H
#define TC_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "base/stats.h"
#include "engine/engine.h"
#include "format/model.h"
#include "base/status.h"

typedef struct tc_bench_opts {
    const char *engine;    /* engine name: "ref", "fast", "fast:avx2" */
    int n_threads;         /* engine and bandwidth threads, >= 1 */
    uint32_t prompt_len;   /* prefill tokens (>= 1) */
    uint32_t n_gen;        /* decoded tokens (>= 1) */
    uint32_t repeat;       /* timed repeats (>= 1) after one warm-up */
    size_t bw_bytes;       /* bandwidth buffer; 0 = tc_probe_bandwidth_bytes() */
} tc_bench_opts;

/* median and spread of one figure over the repeats */
typedef tc_stat tc_bench_stat;

enum { TC_BENCH_MAX_KERNELS = 32, TC_BENCH_MAX_REPEAT = 1000 };

typedef struct tc_bench_result {
    char engine[256];           /* resolved engine name ("fast:avx2", "plugin:PATH") */
    char weight_layout[32];     /* the kernels' weight layout ("i2s-x16"), or "": as stored */
    int n_threads;
    uint32_t prompt_len, n_gen, repeat;
    tc_bench_stat prefill_tps;  /* prefill tokens per second */
    tc_bench_stat decode_tps;   /* decoded tokens per second */
    double bw_gbps;             /* measured read bandwidth, GB/s (1e9 bytes) */
    int bw_streams;             /* streams per thread of the best bandwidth pass */
    double bw_bytes;            /* the bandwidth buffer's size (also the paired passes') */
    double bw_huge;             /* its share in huge pages, 0 to 1 */
    double weight_bytes;        /* weight bytes read per decoded token */
    double kv_bytes;            /* KV-cache bytes read per decoded token, at the mean position */
    double floor_tps;           /* bw / (weight_bytes + kv_bytes): the bandwidth-bound decode speed */
    double decode_gbps;         /* median decode tokens/s x bytes per token */
    double decode_ratio;        /* median decode / floor */
    /* Paired: before each timed decode (after its prefill) a bandwidth pass
     * of paired_bytes; the ratio of that repeat's decode GB/s to it, whose
     * median does not mix a quiet moment's bandwidth with a busy moment's
     * decode (a shared host's neighbours move both) */
    double paired_bw[TC_BENCH_MAX_REPEAT];    /* GB/s, per repeat */
    double paired_dec[TC_BENCH_MAX_REPEAT];   /* decode tok/s, per repeat */
    double paired_ratio;                      /* median over repeats of decode GB/s / paired_bw */
    double paired_bytes;
    double prefill_macs;        /* int8 MACs of the I2_S linears per prefill token */
    double prefill_gmacs;       /* median prefill, 1e9 int8 MACs per second */
    double ghz;                 /* measured core clock (tc_probe_clock) */
    const char *ghz_method;     /* how it was measured */
    double ghz_cpuinfo;         /* what /proc/cpuinfo says (0: nothing) */
    bool ghz_agrees;            /* the two within a factor 1.5 */
    int cores;                  /* cores the peak assumes: min(threads, online cpus) */
    int macs_per_cycle;         /* int8 MACs per cycle per core of the best SIMD unit */
    const char *peak_isa;       /* which unit: "avx512vnni", "avx2", "scalar" */
    double peak_gmacs;          /* cores x ghz x macs_per_cycle */
    double prefill_peak_ratio;  /* prefill_gmacs / peak_gmacs */
    double peak_rss_bytes;      /* the process's peak RSS after the timed runs (the engine with its
                                 * mapped model); 0 where /proc/self/status has no VmHWM */
    double model_bytes;         /* the model file's size */
    size_t n_kernels;           /* the engine's kernel counters after the run */
    struct {
        char name[128];         /* a copy: a plug-in's names are gone once it is unloaded */
        uint64_t calls;
    } kernels[TC_BENCH_MAX_KERNELS];
} tc_bench_result;

/* Defaults: engine fast, one thread per online core, 128 prompt tokens, 128 generated, 5 repeats. */
void tc_bench_opts_default(tc_bench_opts *o);

/* The median over n repeats of dec_tps[k] x bytes_per_token / bw_gbps[k]
 * (GB/s over GB/s); 0 for n == 0.  Shared with verify. */
double tc_bench_paired_ratio(const double *dec_tps, const double *bw_gbps, uint32_t n, double bytes_per_token);

/* Run the bench of engine o->engine on model m.  TC_OK, TC_E_USAGE (bad
 * options), or any code of tc_engine_open / tc_engine_prefill. */
tc_status tc_bench_run(const tc_model *m, const tc_bench_opts *o, tc_bench_result *r, tc_err *err);

/* The result as text (a table) or as a JSON object (the "bench" section
 * of a receipt; NULL when out of memory). */
void tc_bench_print(const tc_bench_result *r, FILE *out);
cJSON *tc_bench_json(const tc_bench_result *r);

/* {"median", "min", "max"} of a statistic (NULL when out of memory). */
cJSON *tc_bench_stat_json(const tc_bench_stat *s);

/* A sealed receipt (SPEC 6) of kind "bench": the model section (hashing
 * the file at path) and the result as "bench", with `against` (a peer's
 * figures, check/against.h; taken over, may be NULL) inside it.  TC_OK,
 * TC_E_IO, TC_E_NOMEM. */
tc_status tc_bench_receipt(const tc_model *m, const char *path, const tc_bench_result *r, cJSON *against, cJSON **out,
                           tc_err *err);

#endif

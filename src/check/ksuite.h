/* ksuite.h -- `tritcheck kernels`: per-kernel conformance (SPEC 6, issue
 * 9), in the spirit of llama.cpp's test-backend-ops.
 *
 * Every kernel of a kernel table (engine/ktable.h: a built-in ISA table or
 * a plug-in's, engine/plugin.h) is run against the reference engine's
 * kernels (ref/ref_kernels.h) on GSL-random inputs (mt19937, a fixed seed
 * per case) over a table of shapes: odd row counts, every K the model
 * family uses, the 2b4t shapes, and edge values.  Checks per case:
 *   exact       integer results and int8 codes equal, bit for bit (with
 *               the q8 scale and the code sum);
 *   scaled_err  float results: max |c - r| / scale <= 1e-6, the scale being
 *               max |r| (norms), sum_i |w_i x_i| per output (dot products,
 *               where cancellation makes max |r| meaningless), max |v|
 *               (attention);
 *   finite      no NaN or Inf where the reference has none;
 *   guards      64 bytes of 0xA5 before and after every output buffer and
 *               workspace are intact (an out-of-bounds write fails);
 *   rows_only   a call on rows [r0, r1) leaves every other output
 *               element untouched (and, for GEMM, the gap up to ld);
 *   inputs      the activation inputs are unchanged.
 * With perf, each passing case of the timing set is timed (median of
 * repeats after a warm-up) and reported in GB/s (GEMV, LM head, norms,
 * attention) or GMAC/s (GEMM) against the ceilings this run measures
 * (one thread: read bandwidth, int8 and fp32 multiply-accumulate peaks).
 */
#ifndef TC_CHECK_KSUITE_H
#define TC_CHECK_KSUITE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "base/status.h"
#include "check/shard.h"
#include "engine/ktable.h"

typedef struct tc_kernels_opts {
    const char *engine;    /* "fast" (default) or the path of a plug-in (.so) */
    const char *isa;       /* fast: scalar|avx2|avx512|amx|neon|neon_dotprod|neon_i8mm,
                            * NULL = the best here */
    const char *filter;    /* run cases whose kernel name contains it (NULL: all);
                            * "large" selects the large cases (the LM head) */
    bool perf;             /* time the timing set (includes the large cases) */
    uint32_t repeat;       /* perf: timed repeats per case (default 7) */
    unsigned long seed;    /* base seed (default 2385); case i uses seed + i */
    bool verbose;          /* print every case, not only failures */
    tc_shard shard;        /* run only this shard of the selected cases (count 0: all) */
} tc_kernels_opts;

/* Defaults: engine fast, best ISA, all cases but the large ones, no perf. */
void tc_kernels_opts_default(tc_kernels_opts *o);

/* Run the suite on the kernels o->engine / o->isa name; print one line per
 * failing case (every case when verbose) and a summary to out (NULL:
 * quiet); build the receipt (kind "kernels", not sealed) in *receipt when
 * receipt is not NULL.  *all_pass: every case passed (and at least one
 * ran).  With o->shard, only that shard of the selected cases runs
 * (check/shard.h) and the receipt is the shard's.  Returns TC_OK,
 * TC_E_USAGE (unknown ISA, no case matches the filter, more shards than
 * cases, --perf with a shard), TC_E_UNSUPPORTED (the CPU lacks the ISA; a plug-in refused),
 * TC_E_IO (the plug-in cannot be loaded), TC_E_NOMEM. */
tc_status tc_kernels_run(const tc_kernels_opts *o, FILE *out, cJSON **receipt, bool *all_pass, tc_err *err);

/* A kernels receipt's summary (cases, passed, failed, verdict,
 * first_failure) derived from its cases, in place of an earlier one: a
 * run and `tritcheck merge` both call it.  TC_OK, TC_E_NOMEM. */
tc_status tc_kernels_finish(cJSON *r, FILE *summary, tc_err *err);

/* The same on a given table (engine describes it in the receipt; may be
 * NULL).  For tests. */
tc_status tc_kernels_run_table(const tc_fast_kernels *kt, cJSON *engine, const tc_kernels_opts *o, FILE *out,
                               cJSON **receipt, bool *all_pass, tc_err *err);

#endif

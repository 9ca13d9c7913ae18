/* hostprobe.h -- what this machine can do, measured rather than assumed:
 * read bandwidth, core clock, int8 multiply-accumulates per cycle, the
 * last-level cache, the process's peak RSS.  `tritcheck bench` sets its
 * figures against them and the kernel suite's perf mode its ceilings.
 * CPU features come from base/host.h; only the measuring is done here. */
#ifndef TC_CHECK_HOSTPROBE_H
#define TC_CHECK_HOSTPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

/* Read bandwidth in GB/s (1e9 bytes): the best of several passes over a
 * buffer of `bytes` (at least 1 MiB, written before it is timed; in huge
 * pages where the kernel offers them, as the engines' weights) with
 * n_threads threads, each reading its slice as `streams` streams in
 * lockstep, or with streams 0 as 1, 2, 4 and 8 in turn (a core keeps more
 * lines in flight over several streams; *best_streams, when not NULL: the
 * count of the best pass).  Five rounds over 256 MiB or less, fewer over
 * a larger buffer (at least two).  *huge, when not NULL: the share of the
 * buffer the kernel backed by huge pages, 0 to 1.  TC_OK, TC_E_USAGE
 * (n_threads outside 1..256), TC_E_NOMEM. */
tc_status tc_probe_bandwidth(size_t bytes, int n_threads, int streams, double *gbps, int *best_streams,
                             double *huge, tc_err *err);

/* The same passes over a buffer held across calls.  A benchmark that
 * measures between its timed runs keeps one: in a VM with free page
 * reporting (virtio-balloon) a gigabyte freed is handed to the host ~2 s
 * later, and the guest stalls for tens of milliseconds a time while it
 * does -- inside whatever run is then timed (doc/perf.md v15).
 * tc_bw_buffer_open writes every page before it returns; TC_E_NOMEM. */
typedef struct tc_bw_buffer {
    uint64_t *p;
    size_t words;
} tc_bw_buffer;
tc_status tc_bw_buffer_open(tc_bw_buffer *b, size_t bytes, tc_err *err);
tc_status tc_probe_bandwidth_in(const tc_bw_buffer *b, int n_threads, int streams, double *gbps, int *best_streams,
                                double *huge, tc_err *err);
void tc_bw_buffer_close(tc_bw_buffer *b);   /* idempotent */

/* The size of memory's bandwidth passes: twice the last-level cache, and
 * at least 256 MiB.  A smaller buffer is read partly from the cache (a
 * 480 MiB L3 read 256 MiB at 36 GB/s and 128 MiB at 41, memory at ~33,
 * doc/perf.md v13), and the floor set by it is too high. */
size_t tc_probe_bandwidth_bytes(void);

/* The core clock, measured, and what /proc/cpuinfo says. */
typedef struct tc_clock {
    double ghz;            /* measured: the best of three runs */
    const char *method;    /* how: the cycle counter, the multiply chain, or /proc/cpuinfo */
    double cpuinfo_ghz;    /* /proc/cpuinfo's "cpu MHz" / 1000; 0 where there is none */
    bool agrees;           /* within a factor 1.5 of cpuinfo_ghz (or nothing to check against) */
} tc_clock;

/* Measure the clock with what no core can skip: the kernel's cycle
 * counter around a busy loop where perf_event_open allows it, else a
 * chain of dependent 64-bit multiplies of known latency (3 cycles), and
 * read /proc/cpuinfo to check it against (off x86: /proc/cpuinfo alone). */
void tc_probe_clock(tc_clock *c);

/* tc_probe_clock's ghz. */
double tc_probe_ghz(void);

/* int8 multiply-accumulates per cycle per core of the best integer unit
 * here that kernels of isa may use ("scalar", "avx2", "avx512", "amx";
 * NULL: any), as the vendor rates it (1024 AMX tiles, 128 AVX-512 VNNI,
 * 64 AVX2, 1 scalar); *unit names the unit ("amx-int8", "avx512vnni"). */
int tc_probe_int8_macs(const char *isa, const char **unit);

/* The last-level cache's size in bytes (sysconf: L3, else L2); 0 when
 * unknown. */
long tc_probe_llc_bytes(void);

/* The process's peak RSS (VmHWM) in bytes; 0 where there is none. */
double tc_probe_peak_rss(void);

/* Reset the peak RSS to the current RSS (Linux: "5" to clear_refs);
 * false where that is not possible. */
bool tc_probe_reset_peak_rss(void);

#endif

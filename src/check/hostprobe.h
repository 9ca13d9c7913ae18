/* hostprobe.h -- what this machine can do, measured rather than assumed:
 * read bandwidth, core clock, int8 multiply-accumulates per cycle, the
 * last-level cache, the process's peak RSS.  `tritcheck bench` sets its
 * figures against them and the kernel suite's perf mode its ceilings.
 * CPU features come from base/host.h; only the measuring is done here. */
#ifndef TC_CHECK_HOSTPROBE_H
#define TC_CHECK_HOSTPROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/status.h"

/* Read bandwidth in GB/s (1e9 bytes): the best of several passes over a
 * buffer of `bytes` (at least 1 MiB, written before it is timed) with
 * n_threads threads, each reading its slice as 1, 2, 4 and 8 streams in
 * lockstep (*streams, when not NULL: the count of the best pass; a core
 * keeps more lines in flight over several streams).  TC_OK, TC_E_USAGE
 * (n_threads outside 1..256), TC_E_NOMEM. */
tc_status tc_probe_bandwidth(size_t bytes, int n_threads, double *gbps, int *streams, tc_err *err);

/* Core clock in GHz, timed on a chain of dependent integer adds (falls
 * back to /proc/cpuinfo off x86). */
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

/* host.h -- what this machine is: operating system, CPU model, the CPU
 * features the kernels dispatch on, and numbers from /proc.  The one
 * place that asks the CPU what it can run (CPUID on x86, the kernel's
 * hardware capabilities, getauxval(AT_HWCAP/AT_HWCAP2), on aarch64). */
#ifndef TC_BASE_HOST_H
#define TC_BASE_HOST_H

#include <stdbool.h>
#include <stddef.h>

/* CPU features, in the order receipts list them, spelled as the
 * kernel's /proc/cpuinfo spells them.  A feature of another architecture
 * is never present. */
typedef enum tc_cpu_feature {
    TC_CPU_AVX2,
    TC_CPU_FMA,
    TC_CPU_F16C,
    TC_CPU_AVX512F,
    TC_CPU_AVX512BW,
    TC_CPU_AVX512VL,
    TC_CPU_AVX512VNNI,
    TC_CPU_AMX_INT8,   /* AMX tiles and int8 products, enabled for this process */
    TC_CPU_ASIMD,      /* aarch64 Advanced SIMD (NEON) */
    TC_CPU_ASIMDDP,    /* aarch64 SDOT/UDOT (FEAT_DotProd) */
    TC_CPU_I8MM,       /* aarch64 SMMLA (FEAT_I8MM) */
    TC_CPU_N_FEATURES
} tc_cpu_feature;

/* Whether this CPU (and the OS, for the vector state) supports f. */
bool tc_cpu_has(tc_cpu_feature f);

/* The feature's name as receipts spell it ("avx512vnni"). */
const char *tc_cpu_feature_name(tc_cpu_feature f);

/* The "model name" of /proc/cpuinfo into buf (on aarch64, its "CPU
 * implementer" and "CPU part" numbers, or a host's model name marked as
 * emulated), or "unknown". */
void tc_cpu_model(char *buf, size_t n);

/* "Linux 6.1.0 x86_64" into buf, or "" when uname fails. */
void tc_host_os(char *buf, size_t n);

/* Online CPUs (sysconf), at least 1. */
int tc_cpus_online(void);

/* The number after the ':' of the first line of the text file at path
 * that starts with key ("VmHWM" in /proc/self/status, "cpu MHz" in
 * /proc/cpuinfo); 0 where there is none. */
double tc_proc_number(const char *path, const char *key);

/* Whether the kernel backs memory advised with MADV_HUGEPAGE by huge
 * pages (Linux transparent huge pages, set to "always" or "madvise"), and
 * the environment does not say TC_HUGE_PAGES=0.  The kernel is asked
 * once. */
bool tc_huge_pages_offered(void);

/* n bytes for data read from memory over and over (the weights a decoded
 * token streams, the bandwidth probe's buffer): 2 MiB aligned and advised
 * for huge pages where the kernel offers them (two cores here read 10-15 %
 * faster from them than from 4 KiB pages, doc/perf.md v13), else 64-byte
 * aligned.  Release with free(); NULL when out of memory. */
void *tc_alloc_streamed(size_t n);

/* The bytes of [p, p + n) that the kernel backs by huge pages now (the
 * AnonHugePages of /proc/self/smaps), or 0 where it cannot say. */
size_t tc_huge_bytes(const void *p, size_t n);

#endif

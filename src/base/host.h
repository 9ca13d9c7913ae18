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

#endif

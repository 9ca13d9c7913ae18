/* host.c -- see host.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>
#define TC_X86 1
#endif

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
/* the bits of <asm/hwcap.h>, for a libc whose headers predate them */
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1UL << 13)
#endif
#define TC_AARCH64_LINUX 1
#endif

#include "base/host.h"

static const char *const feature_names[TC_CPU_N_FEATURES] = {
    "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512vnni", "amx-int8",
    "asimd", "asimddp", "i8mm",
};

#ifdef TC_X86
#include <sys/syscall.h>

/* AMX: CPUID.(7,0):EDX bits 24 (AMX-TILE) and 25 (AMX-INT8), the OS
 * saving the tile state (XCR0 bits 17 and 18), and Linux letting this
 * process use it (arch_prctl ARCH_REQ_XCOMP_PERM for XTILEDATA, which
 * holds for every thread of the process).  Asked once. */
static bool amx_usable(void)
{
    static int known = -1;   /* -1 not asked yet; the answer is the same on every call */
    if (known >= 0) return known;
    unsigned a, b, c, d, lo, hi;
    bool ok = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (d >> 24 & 1) && (d >> 25 & 1) &&
              __get_cpuid(1, &a, &b, &c, &d) && (c >> 27 & 1);   /* OSXSAVE: xgetbv exists */
    if (ok) {
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        ok = (lo >> 17 & 3) == 3;
    }
#if defined(__linux__) && defined(SYS_arch_prctl)
    if (ok) ok = syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */) == 0;
#else
    ok = false;   /* no known way to ask for the tile state */
#endif
    known = ok;
    return ok;
}
#endif

const char *tc_cpu_feature_name(tc_cpu_feature f)
{
    return f < TC_CPU_N_FEATURES ? feature_names[f] : "unknown";
}

bool tc_cpu_has(tc_cpu_feature f)
{
#ifdef TC_X86
    unsigned a, b, c, d;
    __builtin_cpu_init();
    /* __builtin_cpu_supports also checks that the OS saves the YMM/ZMM
     * state.  F16C (CPUID.1:ECX bit 29) and AVX512-VNNI (CPUID.(7,0):ECX
     * bit 11) are read directly: not every compiler's builtin knows them
     * (clang 14 knows neither). */
    switch (f) {
    case TC_CPU_AVX2: return __builtin_cpu_supports("avx2");
    case TC_CPU_FMA: return __builtin_cpu_supports("fma");
    case TC_CPU_F16C: return __get_cpuid(1, &a, &b, &c, &d) && (c >> 29 & 1);
    case TC_CPU_AVX512F: return __builtin_cpu_supports("avx512f");
    case TC_CPU_AVX512BW: return __builtin_cpu_supports("avx512bw");
    case TC_CPU_AVX512VL: return __builtin_cpu_supports("avx512vl");
    case TC_CPU_AVX512VNNI:
        return __builtin_cpu_supports("avx512f") && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c >> 11 & 1);
    case TC_CPU_AMX_INT8: return amx_usable();
    default: return false;
    }
#elif defined(TC_AARCH64_LINUX)
    /* what the kernel says this CPU runs (an emulator such as qemu-user
     * answers for the CPU model it emulates) */
    switch (f) {
    case TC_CPU_ASIMD: return getauxval(AT_HWCAP) & HWCAP_ASIMD;
    case TC_CPU_ASIMDDP: return getauxval(AT_HWCAP) & HWCAP_ASIMDDP;
    case TC_CPU_I8MM: return getauxval(AT_HWCAP2) & HWCAP2_I8MM;
    default: return false;
    }
#else
    (void)f;
    return false;
#endif
}

double tc_proc_number(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    char line[256];
    double v = 0.0;
    if (!f) return 0.0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, strlen(key)) && strchr(line, ':')) {
            v = strtod(strchr(line, ':') + 1, NULL);
            break;
        }
    fclose(f);
    return v;
}

/* The value after "key<spaces>: " on a line of /proc/cpuinfo, into v */
static bool cpuinfo_value(const char *line, const char *key, char *v, size_t n)
{
    const size_t k = strlen(key);
    if (strncmp(line, key, k) != 0 || (line[k] != ' ' && line[k] != '\t' && line[k] != ':')) return false;
    const char *c = strchr(line, ':');
    if (!c) return false;
    c++;
    while (*c == ' ') c++;
    snprintf(v, n, "%s", c);
    v[strcspn(v, "\n")] = '\0';
    return true;
}

void tc_cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    FILE *fp = fopen("/proc/cpuinfo", "r");
    if (!fp) return;
    char line[512], model[256] = "", impl[32] = "", part[32] = "";
    while (fgets(line, sizeof line, fp) && !(model[0] || (impl[0] && part[0]))) {
        cpuinfo_value(line, "model name", model, sizeof model);
        cpuinfo_value(line, "CPU implementer", impl, sizeof impl);
        cpuinfo_value(line, "CPU part", part, sizeof part);
    }
    fclose(fp);
#ifdef __aarch64__
    /* An arm64 kernel names no model, only the implementer and part
     * numbers (MIDR_EL1).  A "model name" seen by an aarch64 process is
     * another architecture's /proc/cpuinfo: qemu-user passes the host's
     * through, and the receipt says so. */
    if (impl[0] && part[0]) snprintf(buf, n, "aarch64 implementer %s part %s", impl, part);
    else if (model[0]) snprintf(buf, n, "%s (the host's /proc/cpuinfo: aarch64 emulated)", model);
#else
    if (model[0]) snprintf(buf, n, "%s", model);
#endif
}

void tc_host_os(char *buf, size_t n)
{
    struct utsname u;
    if (uname(&u) == 0) snprintf(buf, n, "%s %s %s", u.sysname, u.release, u.machine);
    else if (n) buf[0] = '\0';
}

int tc_cpus_online(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < (1L << 20) ? (int)n : 1;
}

/* ---- memory for streamed data ---- */

#define TC_HUGE_PAGE ((size_t)2 << 20)

bool tc_huge_pages_offered(void)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const char *env = getenv("TC_HUGE_PAGES");
    if (env && strcmp(env, "0") == 0) return false;   /* the user's choice: 4 KiB pages, no copies */
    static int known = -1;   /* the kernel's setting, read once */
    if (known >= 0) return known;
    char line[128] = "";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f) {
        if (!fgets(line, sizeof line, f)) line[0] = 0;
        fclose(f);
    }
    /* "always [madvise] never": the bracketed word is the setting */
    known = strstr(line, "[always]") || strstr(line, "[madvise]");
    return known;
#else
    return false;
#endif
}

void *tc_alloc_streamed(size_t n)
{
    if (!n) n = 1;
    if (!tc_huge_pages_offered() || n < TC_HUGE_PAGE) return aligned_alloc(64, (n + 63) / 64 * 64);
    const size_t bytes = (n + TC_HUGE_PAGE - 1) / TC_HUGE_PAGE * TC_HUGE_PAGE;
    void *p = aligned_alloc(TC_HUGE_PAGE, bytes);
#ifdef MADV_HUGEPAGE
    if (p) (void)madvise(p, bytes, MADV_HUGEPAGE);   /* advice: a refusal leaves 4 KiB pages */
#endif
    return p;
}

size_t tc_huge_bytes(const void *p, size_t n)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return 0;
    const uintptr_t lo = (uintptr_t)p, hi = lo + n;
    char line[512];
    bool in = false;
    size_t huge = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b, kb;
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' '))
            in = a < hi && b > lo;   /* a mapping's first line: does it overlap? */
        else if (in && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
            huge += (size_t)kb << 10;
    }
    fclose(f);
    return huge < n ? huge : n;
}

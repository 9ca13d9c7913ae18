/* dispatch.c -- which kernel table runs: chosen once, when an engine
 * opens, from what the CPU reports (CPUID through __builtin_cpu_supports). */
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>
#endif

#include "fast/cpu/kernels.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
/* AVX512-VNNI: CPUID.(EAX=7,ECX=0):ECX bit 11; F16C: CPUID.1:ECX bit 29.
 * Read directly: not every compiler's __builtin_cpu_supports knows
 * "avx512vnni" or "f16c" (clang 14 knows neither).  The OS support of the
 * YMM/ZMM state is what __builtin_cpu_supports("avx2"/"avx512f") checks. */
static int cpu_has_vnni(void)
{
    unsigned a, b, c, d;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c >> 11 & 1);
}

static int cpu_has_f16c(void)
{
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c >> 29 & 1);
}
#endif

int tc_fast_isa_supported(const char *isa)
{
    if (!isa) return 0;
    if (!strcmp(isa, "scalar")) return 1;
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();
    const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
    if (!strcmp(isa, "avx2")) return avx2;
    if (!strcmp(isa, "avx512"))
        return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && cpu_has_vnni();
#endif
    return 0;
}

const tc_fast_kernels *tc_fast_kernels_for(const char *isa)
{
    if (!isa || !*isa || !strcmp(isa, "best")) {
        if (tc_fast_isa_supported("avx512")) return &tc_fast_kernels_avx512;
        if (tc_fast_isa_supported("avx2")) return &tc_fast_kernels_avx2;
        return &tc_fast_kernels_scalar;
    }
    if (!strcmp(isa, "scalar")) return &tc_fast_kernels_scalar;
    if (!strcmp(isa, "avx2")) return &tc_fast_kernels_avx2;
    if (!strcmp(isa, "avx512")) return &tc_fast_kernels_avx512;
    return NULL;
}

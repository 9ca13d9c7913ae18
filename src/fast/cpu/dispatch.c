/* dispatch.c -- which kernel table runs: chosen once, when an engine
 * opens, from what the CPU reports (base/host.h). */
#include <string.h>

#include "base/host.h"
#include "fast/cpu/dispatch.h"

int tc_fast_isa_supported(const char *isa)
{
    if (!isa) return 0;
    if (!strcmp(isa, "scalar")) return 1;
    const int avx2 = tc_cpu_has(TC_CPU_AVX2) && tc_cpu_has(TC_CPU_FMA) && tc_cpu_has(TC_CPU_F16C);
    if (!strcmp(isa, "avx2")) return avx2;
    if (!strcmp(isa, "avx512"))
        return avx2 && tc_cpu_has(TC_CPU_AVX512F) && tc_cpu_has(TC_CPU_AVX512BW) && tc_cpu_has(TC_CPU_AVX512VL) &&
               tc_cpu_has(TC_CPU_AVX512VNNI);
    if (!strcmp(isa, "amx")) return tc_fast_isa_supported("avx512") && tc_cpu_has(TC_CPU_AMX_INT8);
    return 0;
}

const tc_fast_kernels *tc_fast_kernels_for(const char *isa)
{
    if (!isa || !*isa || !strcmp(isa, "best")) {
        if (tc_fast_isa_supported("amx")) return &tc_fast_kernels_amx;
        if (tc_fast_isa_supported("avx512")) return &tc_fast_kernels_avx512;
        if (tc_fast_isa_supported("avx2")) return &tc_fast_kernels_avx2;
        return &tc_fast_kernels_scalar;
    }
    if (!strcmp(isa, "scalar")) return &tc_fast_kernels_scalar;
    if (!strcmp(isa, "avx2")) return &tc_fast_kernels_avx2;
    if (!strcmp(isa, "avx512")) return &tc_fast_kernels_avx512;
    if (!strcmp(isa, "amx")) return &tc_fast_kernels_amx;
    return NULL;
}

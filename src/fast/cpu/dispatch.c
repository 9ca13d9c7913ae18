/* dispatch.c -- which kernel table runs: chosen once, when an engine
 * opens, from what the CPU reports (base/host.h). */
#include <stddef.h>
#include <string.h>

#include "base/host.h"
#include "fast/cpu/dispatch.h"

/* A known ISA this build has no kernels for (Makefile.am compiles each
 * architecture's files only for it): its name only, never run, since
 * tc_fast_isa_supported is false for it here. */
#if defined(__x86_64__) || defined(__i386__)
#define X86_TABLE(name) (&tc_fast_kernels_##name)
#else
static const tc_fast_kernels absent_amx = { .isa = "amx" }, absent_avx512 = { .isa = "avx512" },
                             absent_avx2 = { .isa = "avx2" };
#define X86_TABLE(name) (&absent_##name)
#endif
#ifdef __aarch64__
#define NEON_TABLE(name) (&tc_fast_kernels_##name)
#else
static const tc_fast_kernels absent_neon_i8mm = { .isa = "neon_i8mm" },
                             absent_neon_dotprod = { .isa = "neon_dotprod" }, absent_neon = { .isa = "neon" };
#define NEON_TABLE(name) (&absent_##name)
#endif

/* One row per ISA, the best of each architecture first. */
static const struct isa_row {
    const char *name;
    const tc_fast_kernels *table;
    const char *needs;   /* what the refusal says the CPU lacks */
} isa_rows[] = {
    { "amx", X86_TABLE(amx), "needs AVX-512 VNNI and AMX-INT8 tiles the OS enables" },
    { "avx512", X86_TABLE(avx512), "needs AVX-512 F, BW, VL and VNNI" },
    { "avx2", X86_TABLE(avx2), "needs AVX2, FMA and F16C" },
    { "neon_i8mm", NEON_TABLE(neon_i8mm), "needs an aarch64 CPU with ASIMD, DotProd and I8MM" },
    { "neon_dotprod", NEON_TABLE(neon_dotprod), "needs an aarch64 CPU with ASIMD and DotProd" },
    { "neon", NEON_TABLE(neon), "needs an aarch64 CPU with ASIMD" },
    { "scalar", &tc_fast_kernels_scalar, "" },
};
enum { N_ISA_ROWS = sizeof isa_rows / sizeof isa_rows[0] };

static const struct isa_row *row_of(const char *isa)
{
    for (int i = 0; isa && i < N_ISA_ROWS; i++)
        if (!strcmp(isa, isa_rows[i].name)) return &isa_rows[i];
    return NULL;
}

int tc_fast_isa_supported(const char *isa)
{
    if (!isa) return 0;
    if (!strcmp(isa, "scalar")) return 1;
#if defined(__x86_64__) || defined(__i386__)
    const int avx2 = tc_cpu_has(TC_CPU_AVX2) && tc_cpu_has(TC_CPU_FMA) && tc_cpu_has(TC_CPU_F16C);
    if (!strcmp(isa, "avx2")) return avx2;
    if (!strcmp(isa, "avx512"))
        return avx2 && tc_cpu_has(TC_CPU_AVX512F) && tc_cpu_has(TC_CPU_AVX512BW) && tc_cpu_has(TC_CPU_AVX512VL) &&
               tc_cpu_has(TC_CPU_AVX512VNNI);
    if (!strcmp(isa, "amx")) return tc_fast_isa_supported("avx512") && tc_cpu_has(TC_CPU_AMX_INT8);
#endif
#ifdef __aarch64__
    const int asimd = tc_cpu_has(TC_CPU_ASIMD);
    if (!strcmp(isa, "neon")) return asimd;
    if (!strcmp(isa, "neon_dotprod")) return asimd && tc_cpu_has(TC_CPU_ASIMDDP);
    if (!strcmp(isa, "neon_i8mm")) return asimd && tc_cpu_has(TC_CPU_ASIMDDP) && tc_cpu_has(TC_CPU_I8MM);
#endif
    return 0;
}

const char *tc_fast_isa_needs(const char *isa)
{
    const struct isa_row *r = row_of(isa);
    return r ? r->needs : "";
}

const tc_fast_kernels *tc_fast_kernels_for(const char *isa)
{
    if (!isa || !*isa || !strcmp(isa, "best")) {
        for (int i = 0; i < N_ISA_ROWS; i++)   /* best first; scalar always */
            if (tc_fast_isa_supported(isa_rows[i].name)) return isa_rows[i].table;
        return &tc_fast_kernels_scalar;
    }
    const struct isa_row *r = row_of(isa);
    return r ? r->table : NULL;
}

/* dispatch.h -- the fast CPU engine's kernel tables, one per instruction
 * set, which one this CPU runs (chosen once, when an engine opens, from
 * CPUID through base/host.h), and the scalar pieces every variant shares.
 */
#ifndef TC_FAST_CPU_DISPATCH_H
#define TC_FAST_CPU_DISPATCH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/ktable.h"

/* The tables (NULL-free).  The AVX2, AVX-512 and AMX tables exist in an
 * x86 build, the NEON tables (neon.c) in an aarch64 build; calling one on
 * a CPU without its ISA is undefined: check with tc_fast_isa_supported
 * first, or reach them through tc_fast_kernels_for. */
extern const tc_fast_kernels tc_fast_kernels_scalar;
#if defined(__x86_64__) || defined(__i386__)
extern const tc_fast_kernels tc_fast_kernels_avx2;
extern const tc_fast_kernels tc_fast_kernels_avx512;
extern const tc_fast_kernels tc_fast_kernels_amx;
#endif
#ifdef __aarch64__
extern const tc_fast_kernels tc_fast_kernels_neon;
extern const tc_fast_kernels tc_fast_kernels_neon_dotprod;
extern const tc_fast_kernels tc_fast_kernels_neon_i8mm;
#endif

/* ---- dispatch (dispatch.c) ---- */

/* Every ISA name, for messages: known in every build, whichever this
 * build or CPU runs. */
#define TC_FAST_ISA_NAMES "scalar, avx2, avx512, amx, neon, neon_dotprod or neon_i8mm"

/* Whether this CPU runs isa ("scalar", "avx2", "avx512", "amx", "neon",
 * "neon_dotprod", "neon_i8mm"); false for an unknown name and for an
 * ISA of another architecture.  "amx" also asks the OS for the tile
 * state. */
int tc_fast_isa_supported(const char *isa);

/* What the CPU must report to run isa ("needs AVX2, FMA and F16C"), for
 * the message that refuses it; "" for scalar or an unknown name. */
const char *tc_fast_isa_needs(const char *isa);

/* The table for isa, or for the best ISA this CPU has when isa is NULL,
 * "" or "best".  NULL for an unknown name.  A known ISA this build has no
 * kernels for (another architecture's) gives a table that carries only
 * its name, which tc_fast_isa_supported never selects. */
const tc_fast_kernels *tc_fast_kernels_for(const char *isa);

/* ---- shared scalar pieces (scalar.c), used by every variant ---- */

/* The I2_S bitlinear output of one element: (float)sum / s * m. */
static inline float tc_fast_i2s_scale(int32_t sum, float s, float m) { return (float)sum / s * m; }

/* One element of the fused RMSNorm + quantize: h = (float)(x * scale) * w,
 * then h * s rounded to float, then half-even, clamped to int8.  The scalar
 * kernel's loop and the SIMD kernels' tails, so that they cannot drift. */
static inline int8_t tc_fast_q8_one(float x, double scale, float w, float s)
{
    const float h = (float)(x * scale) * w;
    float r = nearbyintf(h * s);
    if (r > 127.0f) r = 127.0f;
    if (r < -128.0f) r = -128.0f;
    return (int8_t)r;
}

/* the scalar element-wise steps (the scalar table's) */
void tc_fast_scalar_i2s_scale(const int32_t *acc, size_t n, float s, float m, const float *mul, float *y);
void tc_fast_scalar_relu2_mul(const float *gate, const float *up, size_t n, float *out);
void tc_fast_scalar_add(float *x, const float *y, size_t n);

/* sum of n int8 codes */
int32_t tc_fast_q8_sum(const int8_t *q, size_t n);

/* Any code 3 in n bytes of packed I2_S codes? */
int tc_fast_i2s_has_code3(const uint8_t *packed, size_t nbytes);

/* Copy nbytes of packed codes with every code 3 replaced by 1 (value 0). */
void tc_fast_i2s_sanitize(const uint8_t *in, size_t nbytes, uint8_t *out);

#endif

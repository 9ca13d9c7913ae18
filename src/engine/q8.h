/* q8.h -- the int8 activation quantizer of SPEC 2.2, bitnet.cpp's
 * arithmetic as its clang build executes it: the one definition that the
 * engines (ref; fast and CUDA when a tapped float input is replaced), the
 * comparator (codes derived from a recording's float norm taps; boundary
 * flips) and the kernel suite (the expected codes) use. */
#ifndef TC_ENGINE_Q8_H
#define TC_ENGINE_Q8_H

#include <stddef.h>
#include <stdint.h>

/* Per-token quantization of x[n] into q[n]:
 *   amax = max(1e-5, max|x_i|)   in double
 *   s    = (float)(127.0 / amax)
 *   q_i  = clamp(round_half_even((float)(x_i * s)), -128, 127)
 * Returns s, so that x_i ~ q_i / s. */
float tc_q8_quantize(const float *x, size_t n, int8_t *q);

/* The unrounded value of one element: x * s as a float product (no FMA). */
float tc_q8_unrounded(float x, float s);

/* Where u sits against its nearest rounding boundary k + 1/2: the signed
 * distance u - (k + 1/2) for the k + 1/2 nearest to u, and that boundary
 * in *boundary (may be NULL). */
double tc_q8_boundary_offset(float u, double *boundary);

#endif

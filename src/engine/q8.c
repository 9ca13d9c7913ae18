/* q8.c -- the SPEC 2.2 activation quantizer (q8.h). */
#include <math.h>

#include "engine/q8.h"

float tc_q8_quantize(const float *x, size_t n, int8_t *q)
{
    double amax = 1e-5;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)x[i]) > amax) amax = fabs((double)x[i]);
    const float s = (float)(127.0 / amax);
    for (size_t i = 0; i < n; i++) {
        float r = nearbyintf(tc_q8_unrounded(x[i], s));   /* half to even: the default rounding mode */
        if (r > 127.0f) r = 127.0f;                       /* x*s can exceed 127 by an ulp */
        if (r < -128.0f) r = -128.0f;
        q[i] = (int8_t)r;
    }
    return s;
}

float tc_q8_unrounded(float x, float s)
{
    return x * s;   /* a float product: the build has -ffp-contract=off, no FMA */
}

double tc_q8_boundary_offset(float u, double *boundary)
{
    const double b = floor((double)u) + 0.5;
    if (boundary) *boundary = b;
    return (double)u - b;
}

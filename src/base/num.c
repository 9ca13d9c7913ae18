/* num.c -- see num.h. */
#include <math.h>

#include "base/num.h"

/* 2^63: the first double above every int64_t */
#define TWO63 9223372036854775808.0

bool tc_num_to_i64(double v, int64_t lo, int64_t hi, int64_t *out)
{
    if (!(v >= -TWO63 && v < TWO63) || v != trunc(v)) return false;   /* NaN fails the first test */
    const int64_t i = (int64_t)v;
    if (i < lo || i > hi) return false;
    *out = i;
    return true;
}

bool tc_num_to_u32(double v, uint32_t lo, uint32_t hi, uint32_t *out)
{
    int64_t i;
    if (!tc_num_to_i64(v, lo, hi, &i)) return false;
    *out = (uint32_t)i;
    return true;
}

bool tc_num_to_i32(double v, int32_t lo, int32_t hi, int32_t *out)
{
    int64_t i;
    if (!tc_num_to_i64(v, lo, hi, &i)) return false;
    *out = (int32_t)i;
    return true;
}

int64_t tc_num_clamp(double v, int64_t lo, int64_t hi)
{
    if (isnan(v) || v <= (double)lo) return lo;
    if (v >= (double)hi) return hi;
    return (int64_t)v;   /* lo < v < hi: in range */
}

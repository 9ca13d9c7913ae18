/* num.h -- untrusted doubles (a receipt's figures, a manifest's sizes, a
 * recording's shapes) to integers.  C leaves a conversion of a value
 * outside the target type's range undefined, so every double that comes
 * from a file goes through one of these before it becomes an integer. */
#ifndef TC_BASE_NUM_H
#define TC_BASE_NUM_H

#include <stdbool.h>
#include <stdint.h>

/* *out = v when v is an integer (no fraction) in [lo, hi]; false for
 * anything else (NaN, an infinity, a fraction, out of range), *out then
 * untouched. */
bool tc_num_to_i64(double v, int64_t lo, int64_t hi, int64_t *out);

/* The same for the common targets. */
bool tc_num_to_u32(double v, uint32_t lo, uint32_t hi, uint32_t *out);
bool tc_num_to_i32(double v, int32_t lo, int32_t hi, int32_t *out);

/* v truncated toward zero and clamped into [lo, hi] (NaN gives lo): for
 * figures any value of which is acceptable, such as a bar's position in
 * a chart. */
int64_t tc_num_clamp(double v, int64_t lo, int64_t hi);

#endif

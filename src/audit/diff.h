/* diff.h -- what changed between two receipts (`tritcheck diff`). */
#ifndef TC_DIFF_H
#define TC_DIFF_H

#include <stdbool.h>
#include <stdio.h>

#include "base/status.h"

/* What changed between two receipts of the same kind.  compare (and the
 * others): per tap, error before and after and verdict flips; kernel
 * variants that changed; timings; *worse when a verdict got worse.  bench
 * and accuracy: the benchmark gate (audit/gate.h), *worse when a figure
 * regressed; receipts of different models or thread counts are
 * TC_E_USAGE unless force.  TC_OK or an error reading either receipt
 * (TC_E_IO, TC_E_FORMAT, TC_E_NOMEM), TC_E_USAGE for receipts of two
 * kinds. */
tc_status tc_diff_receipts(const char *old_path, const char *new_path, bool force, FILE *out, bool *worse,
                           tc_err *err);

#endif

/* coverage.h -- the coverage of a compare receipt, recomputed from the
 * receipt alone (SPEC 4): verify rejects a verdict the coverage does not
 * support, diff shows how the coverage changed. */
#ifndef TC_AUDIT_COVERAGE_H
#define TC_AUDIT_COVERAGE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

/* The verdict a compare receipt's figures give: "fail" when a result
 * fails, else "incomplete" when a reference tap was not compared (or none
 * was), else "pass". */
const char *tc_coverage_verdict(const cJSON *r);

/* Check summary.coverage against the results and the model: the counts
 * add up, every canonical tap of the model (its blocks, and the .q8 taps
 * in precision i2s) is compared or listed as not compared (or left out by
 * the recorded selection), no compared tap lies outside the selection,
 * no tap is listed twice.  Each problem goes to report(ctx, line). */
void tc_coverage_check(const cJSON *r, void (*report)(void *ctx, const char *line), void *ctx);

#endif

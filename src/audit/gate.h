/* gate.h -- `tritcheck diff` of bench and accuracy receipts: the benchmark
 * gate a maintainer's CI runs on every change (the base branch's receipt
 * against the change's).
 *
 * First the setting: every difference in what was measured and where
 * (model, thread count, prompt length, CPU, engine and ISA, weight
 * layout, kernel counters, tool version, input).  Receipts of different
 * models or thread counts (bench), or of different models, baselines or
 * inputs (accuracy), are not comparable: refused unless forced.
 *
 * Then every figure, old -> new, judged against the runs' own spread:
 *   bench (tokens/s, and the ratios to a peer with --against): each figure
 *     has a range (min..max over its repeats or rounds).  Regression when
 *     the new range lies wholly below the old one, improvement when wholly
 *     above, else within noise.  With a few repeats this claims no more
 *     than the runs show.
 *   accuracy (KL mean, top-1 agreement, top-5 overlap, subject perplexity
 *     and the perplexity ratio, each a mean over positions): the spread is
 *     the old receipt's standard error of that mean (sd / sqrt(positions)).
 *     Regression when the new figure is worse by more than twice it,
 *     improvement when better by more than twice it, else within noise.
 *     Figures without per-position values (cosine minimum, KL p99) are
 *     listed, not judged. */
#ifndef TC_AUDIT_GATE_H
#define TC_AUDIT_GATE_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "base/status.h"

/* Whether gate handles receipts of this kind ("bench", "accuracy"). */
bool tc_gate_handles(const char *kind);

/* Compare two receipts a (old) and b (new) of a kind tc_gate_handles.
 * Prints the setting's differences, then a line per figure and a verdict
 * line; *regressed when any figure regressed.  TC_OK, or TC_E_USAGE when
 * the receipts are not comparable and force is false (the setting is
 * printed first, then nothing is judged). */
tc_status tc_gate(const cJSON *a, const cJSON *b, bool force, FILE *out, bool *regressed, tc_err *err);

#endif

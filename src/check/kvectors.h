/* kvectors.h -- golden kernel vectors (meta.kind "kernel", format/tcv.h):
 * per case c of meta.cases ({rows, K, n}), the inputs and the reference
 * kernel's outputs as entries c<c>.<name>, for four kernels:
 *   i2s_gemm        c.w (i8 {rows x K/4} packed codes), c.q (i8 {n x K}),
 *                   c.out (i32 {n x rows}); n == 1 runs the GEMV
 *   rmsnorm_q8      c.x (f32 {rows x K}), c.w (f32 [K]), c.q (i8 {rows x K}),
 *                   c.s (f32 [rows]); meta.eps
 *   f16_gemm        c.w (u16 {rows x K}), c.x (f32 {n x K}), c.y (f32 {n x rows})
 *   attention_head  c.q (f32 [K]), c.k, c.v (f32 {n x K}), c.out (f32 [K])
 * Checking one runs each case through the kernel suite's runner and
 * checks (check/ksuite.h), with the recorded outputs as the answers.
 */
#ifndef TC_CHECK_KVECTORS_H
#define TC_CHECK_KVECTORS_H

#include <stdbool.h>
#include <stdio.h>

#include "base/status.h"
#include "format/tcv.h"

/* Write the four kernel vectors into dir (kernel-NAME.tcv.gz): random
 * inputs (GSL mt19937, fixed seeds) and the reference kernels' outputs;
 * one line per vector on out (may be NULL).  TC_OK, TC_E_IO, TC_E_NOMEM. */
tc_status tc_kvectors_generate(const char *dir, FILE *out, tc_err *err);

/* Check the kernel table that engine name cand stands for (ref: the
 * reference kernels themselves; fast, fast:ISA, plugin:PATH through the
 * registry) on the kernel vector v read from path; one line for it on
 * out, named name, and one more per failing case.  An engine without a
 * kernel table, or an ISA this CPU lacks, is reported as skipped and
 * passes.  *pass: every case passed.  TC_OK, TC_E_FORMAT (a malformed
 * vector), TC_E_USAGE (an unknown engine), TC_E_IO, TC_E_NOMEM. */
tc_status tc_kvectors_check(const char *path, const char *name, const tc_tcv *v, const char *cand, FILE *out,
                            bool *pass, tc_err *err);

#endif

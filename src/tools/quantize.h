/* quantize.h -- latent or ternary F32/F16/BF16 models to I2_S (SPEC 2.3)
 * or to llama.cpp's TQ1_0/TQ2_0 (doc/q8k.md). */
#ifndef TC_QUANTIZE_H
#define TC_QUANTIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/status.h"
#include "format/types.h"

/* Which rule quantized a tensor. */
typedef enum tc_qrule {
    TC_QRULE_TERNARY,  /* already {0, ±m}: m = max|W|, code = sign(W); lossless */
    TC_QRULE_LATENT    /* m = max(1e-5, mean|W|), code = clamp(round(W/m), -1, 1) */
} tc_qrule;

/* Quantize n weights (n % 128 == 0) into out[n/4 + 32] of I2_S.  Reports
 * the rule, the scale and the relative RMS error ||W - code*m|| / ||W||
 * (0 for an all-zero W).  Returns TC_OK or TC_E_RANGE (n not a multiple of
 * 128 or a non-finite weight). */
tc_status tc_quantize_i2s(const float *w, size_t n, uint8_t *out, tc_qrule *rule,
                          float *scale, double *rel_rms);

/* The same codes packed as TQ1_0 or TQ2_0 (n % 256 == 0) into
 * out[tc_type_nbytes(type, n)]: every block stores d = m rounded to F16,
 * or 0 when the block has no non-zero code -- on a ternary tensor exactly
 * what llama.cpp's llama-quantize writes.  *scale gets m rounded to F16 and
 * the error is measured against code * that.  Returns TC_OK, TC_E_RANGE
 * (n, type, or a non-finite weight) or TC_E_NOMEM. */
tc_status tc_quantize_tq(const float *w, size_t n, tc_type type, uint8_t *out, tc_qrule *rule, float *scale,
                         double *rel_rms);

/* Convert the model at in_path to out_path: linear weights to I2_S,
 * token_embd to F16, everything else copied; general.file_type = 40.
 * One line per tensor on `log` (may be NULL) says which rule applied.
 * Returns TC_OK, TC_E_IO, TC_E_FORMAT, TC_E_MODEL or TC_E_NOMEM; on
 * failure nothing is left at out_path. */
tc_status tc_quantize_file(const char *in_path, const char *out_path, FILE *log, tc_err *err);

/* The same with the linear weights in type `linear` (TC_TYPE_I2_S,
 * TC_TYPE_TQ1_0 or TC_TYPE_TQ2_0); general.file_type 40, 36 or 37.  Also
 * TC_E_USAGE for another type. */
tc_status tc_quantize_file_to(const char *in_path, const char *out_path, tc_type linear, FILE *log, tc_err *err);

#endif

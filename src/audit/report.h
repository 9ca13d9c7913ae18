/* report.h -- a receipt as one self-contained HTML page (`tritcheck report`). */
#ifndef TC_REPORT_H
#define TC_REPORT_H

#include "base/status.h"

/* Read the receipt at in_path and write out_path (atomically): whether it
 * verified (schema, digest, signature -- authenticated only by the public
 * key at pubkey, which may be NULL -- and consistency), summary, an
 * inline SVG chart of each tap's scaled error on a log scale against the
 * tolerance, the per-layer table, the kernels that ran and the
 * provenance.  Every string of the receipt is escaped and a
 * Content-Security-Policy forbids scripts.  TC_OK, TC_E_IO, TC_E_FORMAT
 * (not a receipt), TC_E_USAGE (out_path is in_path or the key),
 * TC_E_NOMEM. */
tc_status tc_report_html(const char *in_path, const char *out_path, const char *pubkey, tc_err *err);

#endif

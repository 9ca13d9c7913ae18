/* receipt.h -- the receipt document (SPEC 6): schema tritcheck.receipt/1.
 *
 * A receipt is a cJSON document built by the command that measured its
 * figures: this layer gives it the parts every kind shares (schema, kind,
 * creation time, the tool that made it, the host it ran on, the model it
 * ran) and reads and writes it.  Sealing (digest and signature) is in
 * seal.h.  Receipts are written to a temporary file and renamed.
 */
#ifndef TC_RECEIPT_RECEIPT_H
#define TC_RECEIPT_RECEIPT_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "base/status.h"
#include "format/model.h"
#include "receipt/seal.h"

#define TC_RECEIPT_SCHEMA "tritcheck.receipt/1"

/* A new receipt of `kind` ("compare", "accuracy", ...) with schema, tool
 * and host sections filled from this build and machine.  NULL when out of
 * memory. */
cJSON *tc_receipt_new(const char *kind);

/* The hyper-parameters as a JSON object (architecture when with_arch). */
cJSON *tc_hparams_json(const tc_hparams *hp, bool with_arch);

/* Count tensors per type name into the object `types`. */
void tc_tensor_type_counts(cJSON *types, const tc_gguf *g);

/* Add the "model" section: file name, size, SHA-256 (of the file at path),
 * architecture, hyper-parameters and tensor type counts.  TC_OK, TC_E_IO,
 * TC_E_NOMEM. */
tc_status tc_receipt_add_model(cJSON *root, const tc_model *m, const char *path, tc_err *err);

/* Write pretty JSON to path through a temporary file.  TC_OK or TC_E_IO. */
tc_status tc_receipt_write(const cJSON *root, const char *path, tc_err *err);

/* Parse the receipt at path.  TC_OK, TC_E_IO, TC_E_FORMAT (not JSON, or
 * not schema tritcheck.receipt/1). */
tc_status tc_receipt_load(const char *path, cJSON **out, tc_err *err);

#endif

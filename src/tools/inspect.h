/* inspect.h -- describe and validate a GGUF file (`tritcheck inspect`). */
#ifndef TC_INSPECT_H
#define TC_INSPECT_H

#include <stdbool.h>
#include <stdio.h>

#include "base/status.h"

/* Print the metadata, tensor table, SHA-256, I2_S statistics and the
 * validation verdict of path to out, as text or (json) one JSON document.
 * Returns TC_OK when the file is a valid model; TC_E_FORMAT / TC_E_MODEL
 * when it is not (the report, as far as it got, is still printed, and
 * err holds the reason); TC_E_IO or TC_E_NOMEM. */
tc_status tc_inspect(const char *path, bool json, FILE *out, tc_err *err);

#endif

/* input.h -- the token sequence a command runs, from one of several
 * sources, described for its receipt. */
#ifndef TC_INPUT_H
#define TC_INPUT_H

#include <stdint.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "model.h"
#include "status.h"

typedef struct tc_input {
    const char *token_list;   /* "1,2,3" */
    const char *prompt;       /* text, through the model's tokenizer */
    const char *corpus;       /* a text file, likewise */
    uint32_t n_random;        /* ids uniform over the vocabulary ... */
    uint64_t seed;            /* ... from GSL's mt19937 with this seed */
    const int32_t *tokens;    /* explicit ids (a rerun) */
    uint32_t n_tokens;
} tc_input;

/* How many sources are set (a command accepts exactly one, or none for
 * its default). */
int tc_input_count(const tc_input *in);

/* The ids (malloc'd *out, *n of them); `desc` (may be NULL) gets "source"
 * and the source's parameters.  With no source set, n_random (or 16)
 * random ids.  TC_OK, TC_E_USAGE (bad list), TC_E_IO (corpus unreadable),
 * TC_E_UNSUPPORTED (text the vocabulary cannot encode), TC_E_NOMEM. */
tc_status tc_input_tokens(const tc_input *in, const tc_model *m, int32_t **out, size_t *n, cJSON *desc,
                          tc_err *err);

#endif

/* input.h -- token input: the token sequence a command runs, from one of
 * several sources (a list of ids, a prompt or corpus through the model's
 * tokenizer, seeded random ids), described for its receipt. */
#ifndef TC_FORMAT_INPUT_H
#define TC_FORMAT_INPUT_H

#include <stdint.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "base/status.h"
#include "format/model.h"
#include "format/tokenizer.h"

typedef struct tc_input {
    const char *token_list;   /* "1,2,3" */
    const char *prompt;       /* text, through the model's tokenizer */
    const char *corpus;       /* a text file, likewise */
    uint32_t n_random;        /* ids uniform over the vocabulary ... */
    uint64_t seed;            /* ... from GSL's mt19937 with this seed */
    const int32_t *tokens;    /* explicit ids (a rerun) */
    uint32_t n_tokens;
} tc_input;

/* The prompt text as the model's token ids (malloc'd *out of *n ids), BOS
 * first as add_bos_token says, special tokens in the text recognised.
 * TC_OK, TC_E_MODEL (malformed tokenizer metadata), TC_E_UNSUPPORTED (an
 * unknown tokenizer, or a byte with no token), TC_E_NOMEM. */
tc_status tc_prompt_to_tokens(const tc_model *m, const char *text, int32_t **out, size_t *n, tc_err *err);

/* The same with a loaded tokenizer; messages start with `path`.  TC_OK,
 * TC_E_UNSUPPORTED, TC_E_RANGE, TC_E_NOMEM. */
tc_status tc_prompt_encode(const tc_tokenizer *tok, const char *path, const char *text, int32_t **out, size_t *n,
                           tc_err *err);

/* "1,2,3" as token ids (malloc'd).  Ranges are checked by the engine.
 * TC_OK, TC_E_USAGE (message quotes the list), TC_E_NOMEM. */
tc_status tc_parse_token_list(const char *list, int32_t **out, size_t *n, tc_err *err);

/* n token ids drawn uniformly from [0, n_vocab) by GSL's mt19937 with
 * `seed`: the same on every machine.  TC_OK or TC_E_NOMEM. */
tc_status tc_random_tokens(uint32_t n, uint64_t seed, uint32_t n_vocab, int32_t **out, tc_err *err);

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

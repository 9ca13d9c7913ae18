/* run.h -- `tritcheck run`: greedy generation with one engine, optionally
 * recording every tap into a dump directory (dump.h).
 *
 * A text prompt goes through the model's tokenizer (tokenizer.h: Llama 3
 * byte-level BPE, or <0xNN> byte fallback), and prompt and generated ids
 * are printed with their decoded text.
 */
#ifndef TC_RUN_H
#define TC_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "engine/engine.h"

typedef struct tc_run_opts {
    const char *engine;       /* "ref" */
    tc_engine_opts eng;       /* precision, threads, context (0: the model's) */
    const int32_t *tokens;    /* prompt token ids [n_tokens], or NULL */
    size_t n_tokens;
    const char *prompt;       /* prompt text, or NULL (exactly one of tokens/prompt) */
    uint32_t n_predict;       /* tokens to generate; stops early at EOS or a full context */
    const char *dump_dir;     /* write every tap here, or NULL */
} tc_run_opts;

/* Load model_path, run the prompt and generate greedily.  Token ids and
 * text go to out, timings to info (may be NULL).  Every error message
 * starts with the model's file name.  Returns TC_OK, TC_E_IO, TC_E_FORMAT,
 * TC_E_MODEL (missing or mis-shaped tensors), TC_E_RANGE (token outside
 * the vocabulary, prompt longer than the context), TC_E_USAGE,
 * TC_E_UNSUPPORTED (precision i2s on non-I2_S weights; a prompt byte with
 * no token), TC_E_NOMEM.  Nothing is written to dump_dir on failure. */
tc_status tc_run(const char *model_path, const tc_run_opts *o, FILE *out, FILE *info, tc_err *err);

#endif

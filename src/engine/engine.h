/* engine.h -- the engine interface (SPEC 3, 7): the one seam every engine
 * (ref, fast CPU, CUDA, a plug-in, a recorded dump) implements.  This
 * header shows an opaque handle and the calls; engines include
 * engine_impl.h for the struct and the function table, and the registry
 * (registry.h) opens an engine by name.
 *
 * An engine is opened on a loaded tc_model (borrowed: it must outlive the
 * engine) with a precision, a thread count and a context length.  It runs
 * a batch of tokens at a start position (prefill) or one token after the
 * last (decode) against its own KV cache, and keeps the logits of the last
 * position of the last batch.
 *
 * Taps (SPEC 3.1): while a batch runs, the engine shows every named
 * intermediate tensor to ONE callback, one call per tap per batch, with all
 * the batch's positions as rows.  The callback may overwrite the values in
 * place; the engine continues with what it finds there.  That is how
 * isolated comparison and fault injection work.
 *
 * Kernel counters (SPEC 3.2): each engine counts, at dispatch time, every
 * kernel variant it runs ("ref.i2s_gemv": calls).  One call is one kernel
 * invocation over a whole batch.
 */
#ifndef TC_ENGINE_ENGINE_H
#define TC_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/status.h"
#include "engine/taps.h"
#include "format/model.h"

/* ---- options ---- */

/* Arithmetic of every bitlinear (SPEC 2.2, 2.3, doc/q8k.md). */
typedef enum tc_precision {
    TC_PRECISION_I2S,   /* W1.58 x A8: per-token int8 activations, exact integer sums */
    TC_PRECISION_FP32,  /* W_f32 . x: no activation quantization */
    TC_PRECISION_Q8K    /* llama.cpp's: TQ1_0/TQ2_0 x int8 activations per block of 256
                         * (Q8_K), F16 weights x F16-rounded activations */
} tc_precision;

typedef struct tc_engine_opts {
    tc_precision precision;
    int n_threads;      /* >= 1 */
    uint32_t n_ctx;     /* positions the KV cache holds; 0 = the model's context length */
    /* Fault injection, a testing aid that proves a comparison can fail:
     * "TAP:EPS" multiplies every value of tap TAP by (1 + EPS) as the engine
     * shows it (the engine continues from the perturbed values); on a .q8
     * tap it moves the first code of every row one step (towards 0 from
     * the extremes).  NULL: none.  Applies while a tap callback is set. */
    const char *inject;
} tc_engine_opts;

/* Defaults: i2s, 1 thread, the model's context. */
void tc_engine_opts_default(tc_engine_opts *o);

/* "i2s" / "fp32" / "q8k". */
const char *tc_precision_name(tc_precision p);

/* Parse "i2s" (or "i2_s"), "fp32" (or "f32"), "q8k" (or "q8_k").
 * Returns TC_OK or TC_E_USAGE. */
tc_status tc_precision_from_name(const char *name, tc_precision *out);

/* ---- taps ---- */

/* One tap of one batch.  Rows are positions pos0 .. pos0 + n_pos - 1.  The
 * data pointers are the engine's own buffers: writable, valid only during
 * the callback. */
typedef struct tc_tap {
    tc_tap_id id;         /* which canonical tap (engine/taps.h); TC_TAP_COUNT for a
                           * recording's tap of another name */
    const char *name;     /* its name (SPEC 3.1): "blk.3.ffn_gate", "logits" */
    int layer;            /* block index, or -1 for inp_embd, output_norm, logits */
    uint32_t pos0;        /* position of the first row */
    uint32_t n_pos;       /* rows */
    uint32_t width;       /* elements per row */
    tc_tap_kind kind;
    float *f;             /* TC_TAP_F32: [n_pos][width]; NULL for q8 */
    int8_t *q8;           /* TC_TAP_Q8:  [n_pos][width] codes; NULL for float */
    float *scale;         /* TC_TAP_Q8:  [n_pos] per-token s: x ~ q8 / s */
} tc_tap;

/* The callback.  Return TC_OK to continue; any other status stops the
 * batch and is returned by prefill/decode (with err's message when the
 * callback wrote one). */
typedef tc_status (*tc_tap_fn)(void *user, const tc_tap *tap, tc_err *err);

/* ---- kernel counters ---- */

typedef struct tc_kernel_count {
    const char *name;     /* "ref.i2s_gemv": engine.kernel[.variant] */
    uint64_t calls;       /* dispatches since open (not cleared by reset) */
} tc_kernel_count;

/* ---- the engine ---- */

typedef struct tc_engine tc_engine;

/* Free the engine; NULL is a no-op. */
void tc_engine_free(tc_engine *e);

/* The engine's name ("ref"), its resolved options, the model. */
const char *tc_engine_name(const tc_engine *e);

/* The layout the engine's I2_S kernels read the weights in, rewritten
 * when it opened ("i2s-x16"), or NULL: as the file stores them. */
const char *tc_engine_weight_layout(const tc_engine *e);
const tc_engine_opts *tc_engine_options(const tc_engine *e);
const tc_model *tc_engine_model(const tc_engine *e);

/* Install the tap callback (fn NULL: none).  Without a callback an engine
 * may skip work that only taps need (the logits of all but the last row). */
void tc_engine_set_tap(tc_engine *e, tc_tap_fn fn, void *user);

/* Run tokens[0..n) at positions pos0 .. pos0+n-1.  pos0 may be at most
 * tc_engine_n_past(e): the cache keeps positions below pos0 and forgets the
 * rest.  Returns TC_OK, TC_E_RANGE (n == 0, a token outside the vocabulary,
 * pos0 past the cache, or pos0+n beyond n_ctx; nothing is run), TC_E_NOMEM,
 * or the status a tap callback returned.  After a failure n_past = pos0. */
tc_status tc_engine_prefill(tc_engine *e, const int32_t *tokens, uint32_t n, uint32_t pos0,
                            tc_err *err);

/* Run one token at position n_past.  Same codes as prefill. */
tc_status tc_engine_decode(tc_engine *e, int32_t token, tc_err *err);

/* Positions held in the KV cache. */
uint32_t tc_engine_n_past(const tc_engine *e);

/* Logits [n_vocab] of the last position of the last batch (zeros before
 * the first).  Valid until the next prefill/decode/reset. */
const float *tc_engine_logits(const tc_engine *e);

/* Forget the KV cache (n_past = 0).  Counters are kept. */
void tc_engine_reset(tc_engine *e);

/* The kernel counters: *n entries, in the engine's order. */
const tc_kernel_count *tc_engine_kernels(const tc_engine *e, size_t *n);

/* Index of the largest logit (the lowest index among equals). */
uint32_t tc_argmax(const float *x, size_t n);

/* A recording replayed as an engine ("dump:DIR", engine/replay.c): it
 * shows the recorded taps of the positions it is asked to run (replacing
 * them changes nothing downstream: a recording cannot be steered), and
 * brings the tokens it was recorded on. */
typedef struct tc_recording_info {
    const char *dir;          /* the recording's directory */
    const int32_t *tokens;    /* the tokens it holds, [n_tokens] */
    size_t n_tokens;
    const cJSON *recorded_by; /* the recorder's engine_identity object, or NULL */
    const char *model_sha256; /* the model it ran, hex, or "" */
} tc_recording_info;

/* The recording e replays, or NULL for a live engine. */
const tc_recording_info *tc_engine_recording(const tc_engine *e);

/* The engine as a receipt describes it: id, precision, threads, context,
 * fault injection, and the observed kernel dispatch counts; a recording
 * as {"id": "dump", "recording": DIR}, with "recorded_by" (what ran it)
 * and "model_sha256" when the recording says.  NULL when out of memory. */
cJSON *tc_engine_describe(const tc_engine *e);

#endif

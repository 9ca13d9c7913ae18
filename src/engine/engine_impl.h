/* engine_impl.h -- for engine implementations only (ref, fast CPU, CUDA,
 * recordings): the struct behind the opaque tc_engine, the function table
 * an engine provides, and the helpers every engine shares (init, kernel
 * counts, showing taps).  Nothing outside src/engine/, src/ref/ and
 * src/fast/ includes it.
 */
#ifndef TC_ENGINE_ENGINE_IMPL_H
#define TC_ENGINE_ENGINE_IMPL_H

#include "engine/engine.h"

/* What an engine provides.  forward() may assume the arguments were
 * checked (tokens in range, pos0 <= n_past, pos0 + n <= n_ctx). */
typedef struct tc_engine_vtable {
    const char *name;
    tc_status (*forward)(tc_engine *e, const int32_t *tokens, uint32_t n, uint32_t pos0, tc_err *err);
    void (*free_impl)(void *impl);
} tc_engine_vtable;

struct tc_engine {
    const tc_engine_vtable *vt;
    const tc_model *model;    /* borrowed */
    tc_engine_opts opts;      /* resolved: n_ctx > 0 */
    uint32_t n_past;          /* positions in the KV cache */
    tc_tap_fn tap;            /* or NULL */
    void *tap_user;
    float *logits;            /* [n_vocab] last row of the last batch */
    tc_kernel_count *kernels; /* [n_kernels] */
    size_t n_kernels;
    void *impl;               /* the engine's own state */
};

/* Fill the shared part of a new engine: options resolved, logits and
 * counters (names borrowed, static) allocated.  TC_OK, TC_E_USAGE,
 * TC_E_RANGE or TC_E_NOMEM. */
tc_status tc_engine_init(tc_engine *e, const tc_engine_vtable *vt, const tc_model *m,
                         const tc_engine_opts *o, const char *const *kernel_names,
                         size_t n_kernels, tc_err *err);

/* Count one dispatch of kernel k. */
static inline void tc_engine_count(tc_engine *e, size_t k) { e->kernels[k].calls++; }

/* Whether a tap callback is installed. */
static inline bool tc_engine_tapping(const tc_engine *e) { return e->tap != NULL; }

/* Show a tap to the callback (TC_OK when none is installed). */
tc_status tc_engine_emit(tc_engine *e, const tc_tap *tap, tc_err *err);

#endif

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
 * checked (tokens in range, pos0 <= n_past, pos0 + n <= n_ctx).  A
 * recording replayed as an engine (replay.c) also provides recording();
 * live engines leave it NULL. */
typedef struct tc_engine_vtable {
    const char *name;
    tc_status (*forward)(tc_engine *e, const int32_t *tokens, uint32_t n, uint32_t pos0, tc_err *err);
    void (*free_impl)(void *impl);
    const tc_recording_info *(*recording)(const tc_engine *e);
    const char *weight_layout;   /* the I2_S weights as the kernels read them (ktable.h), or NULL: as stored */
} tc_engine_vtable;

/* The dimensions and settings a forward pass runs with: derived once, by
 * tc_engine_init, from the model's hyper-parameters and the resolved
 * options, so that no engine derives them again. */
typedef struct tc_engine_config {
    uint32_t d;           /* residual width n_embd */
    uint32_t d_kv;        /* key/value width n_head_kv * head_dim */
    uint32_t n_ff;        /* FFN hidden width */
    uint32_t n_layer;     /* transformer blocks */
    uint32_t n_head;      /* query heads */
    uint32_t n_head_kv;   /* key/value heads (GQA groups) */
    uint32_t head_dim;    /* d / n_head */
    uint32_t n_vocab;     /* rows of the LM head */
    uint32_t n_ctx;       /* positions the KV cache holds */
    double rope_base;     /* RoPE frequency base */
    float eps;            /* RMSNorm epsilon */
    tc_act act;           /* FFN activation: relu2 or silu */
    tc_precision prec;    /* i2s, fp32 or q8k bitlinear */
    int n_threads;        /* threads the engine may use */
} tc_engine_config;

struct tc_engine {
    const tc_engine_vtable *vt;
    const tc_model *model;    /* borrowed */
    tc_engine_opts opts;      /* resolved: n_ctx > 0 */
    tc_engine_config cfg;     /* from the model and opts */
    uint32_t n_past;          /* positions in the KV cache */
    tc_tap_fn tap;            /* or NULL */
    void *tap_user;
    float *logits;            /* [n_vocab] last row of the last batch */
    tc_kernel_count *kernels; /* [n_kernels] */
    size_t n_kernels;
    void *impl;               /* the engine's own state */
};

/* Fill the shared part of a new engine: options resolved, the config
 * derived, logits and counters (names borrowed, static) allocated.  TC_OK, TC_E_USAGE,
 * TC_E_RANGE or TC_E_NOMEM. */
tc_status tc_engine_init(tc_engine *e, const tc_engine_vtable *vt, const tc_model *m,
                         const tc_engine_opts *o, const char *const *kernel_names,
                         size_t n_kernels, tc_err *err);

/* A new engine around impl (the engine's own state, which it takes over:
 * on failure vt->free_impl(impl) is called; a NULL impl, from a failed
 * calloc, is TC_E_NOMEM), initialized as tc_engine_init does.  Same codes
 * as tc_engine_init. */
tc_status tc_engine_new(const tc_engine_vtable *vt, void *impl, const tc_model *m, const tc_engine_opts *o,
                        const char *const *kernel_names, size_t n_kernels, tc_engine **out, tc_err *err);

/* Count one dispatch of kernel k. */
static inline void tc_engine_count(tc_engine *e, size_t k) { e->kernels[k].calls++; }

/* Whether a tap callback is installed. */
static inline bool tc_engine_tapping(const tc_engine *e) { return e->tap != NULL; }

/* Show a tap to the callback (TC_OK when none is installed). */
tc_status tc_engine_emit(tc_engine *e, const tc_tap *tap, tc_err *err);

/* Show float tap id of `layer` (ignored for a model-wide tap), rows
 * pos0 .. pos0+n-1 of data [n][width of id]; the callback may replace
 * them.  TC_OK at once when no callback is installed. */
tc_status tc_engine_show_f32(tc_engine *e, tc_tap_id id, int layer, uint32_t pos0, uint32_t n, float *data,
                             tc_err *err);

/* Show .q8 tap id: codes q8 [n][width of id] and per-token scales [n]. */
tc_status tc_engine_show_q8(tc_engine *e, tc_tap_id id, int layer, uint32_t pos0, uint32_t n, int8_t *q8,
                            float *scale, tc_err *err);

#endif

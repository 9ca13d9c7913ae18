/* engine.c -- the CUDA engine: the whole BitNet b1.58 forward pass of SPEC
 * 2.1 on one NVIDIA GPU, in the I2_S precision (SPEC 2.2), behind the
 * engine interface.
 *
 * Plain C11: every kernel, copy and graph call goes through the C APIs of
 * kernels.h and stream.h, so this file needs no CUDA header.
 *
 * Layout on the device (uploaded once, at open):
 *   one arena of weights: I2_S codes as stored (n/4 bytes a tensor, the
 *   scale m kept on the host), F32 norms, the F16 embedding (the LM head
 *   too when tied, else its own F16 copy);
 *   the KV cache [n_layer][n_ctx][d_kv] floats; a RoPE table [n_ctx][hd/2]
 *   of (cos, sin) doubles; the batch buffers (grown on demand); the batch's
 *   tokens and its first position, both read by the kernels on the device.
 *
 * One non-blocking stream carries all the work.  A batch is issued by
 * issue() below, which follows SPEC 2.1 in the reference's order:
 *   - with a tap callback installed, each tap is downloaded, shown, and
 *     uploaded again when the callback changed it (the engine continues
 *     from the replaced values), then the next kernel is launched;
 *   - without one, prefill is launched back to back and synchronized once,
 *     and a one-token decode replays a CUDA Graph captured from the same
 *     issue() on the first such decode: because the token and the
 *     position live on the device (copied in before the replay), one graph
 *     serves every position.  Only the last row's logits come back.
 * The norms that feed a bitlinear are fused with the activation
 * quantization (cuda.rmsnorm_q8); while tapping the fused kernel also
 * writes its float output, shown as the float norm tap (and the codes are
 * quantized again when a callback replaced it), so every tap of SPEC 3.1
 * is reported.
 *
 * Determinism: every kernel reduces in a fixed order for a fixed launch
 * configuration and none uses atomics; the integer sums are exact; the
 * GEMV and GEMM variants give each token the same arithmetic.  So the
 * taps, the eager path and the graph agree bit for bit, run after run.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gpu.h"
#include "engine/engine_impl.h"
#include "fast/cuda/cuda_engine.h"
#include "fast/cuda/cuda_kernels.h"
#include "fast/cuda/stream.h"

/* ---- kernels this engine counts (SPEC 3.2) ---- */

enum {
    K_EMBED,        /* F16 embedding rows -> float */
    K_RMSNORM_Q8,   /* fused RMSNorm + int8 quantization (bitlinear inputs) */
    K_RMSNORM,      /* plain RMSNorm (output_norm) */
    K_I2S_GEMV,     /* I2_S x q8, one token */
    K_I2S_GEMM,     /* I2_S x q8, a batch */
    K_SCALE,        /* optional per-projection output multiplier */
    K_ROPE,         /* NEOX RoPE of q or k */
    K_KV_STORE,     /* k, v rows into the cache */
    K_ATTENTION,    /* causal GQA attention */
    K_ACT,          /* relu2 or silu (.) up */
    K_ADD,          /* residual add */
    K_F16_GEMV,     /* the F16 LM head, one row */
    K_F16_GEMM,     /* the F16 LM head, a batch */
    K_GRAPH,        /* replays of the decode graph (each also counts its kernels) */
    K_QUANTIZE,     /* codes again from a float norm tap a callback replaced */
    K_COUNT
};

/* ---- weights: device pointers into the arena ---- */

typedef struct cu_linear {
    const uint8_t *codes; /* I2_S packed codes {K, rows}: row r at r*K/4 */
    uint32_t K, rows;
    float m;              /* the per-tensor scale */
    bool has_mul;         /* an F32 {1} output multiplier follows */
    float mul;
} cu_linear;

typedef struct cu_layer {
    const float *attn_norm;        /* F32 {d} */
    const float *attn_sub_norm;    /* F32 {d} */
    const float *ffn_norm;         /* F32 {d} */
    const float *ffn_sub_norm;     /* F32 {n_ff} */
    cu_linear wq, wk, wv, wo;      /* {d, d}, {d, d_kv} x 2, {d, d} */
    cu_linear w_gate, w_up, w_down;/* {d, n_ff} x 2, {n_ff, d} */
} cu_layer;

/* ---- run state on the device ---- */

typedef struct cu_state {
    uint32_t cap;         /* rows the batch buffers hold */
    uint32_t cap_logits;  /* rows the logits buffer holds */
    int32_t *tokens;      /* [cap] the batch's token ids */
    uint32_t *pos0;       /* [1] the batch's first position */
    float *x;             /* [cap][d] residual stream */
    int8_t *q8;           /* [cap][max(d, n_ff)] bitlinear input codes */
    float *q8_scale;      /* [cap] per-token s */
    float *q, *att, *proj;/* [cap][d] */
    float *k, *v;         /* [cap][d_kv] */
    float *gate, *up, *act; /* [cap][n_ff] */
    float *hnorm;         /* [cap][d] output_norm */
    float *htap;          /* [cap][max(d, n_ff)] a fused norm's float output, while tapping */
    float *logits;        /* [cap_logits][n_vocab] */
    float *kcache;        /* [n_layer][n_ctx][d_kv] */
    float *vcache;        /* [n_layer][n_ctx][d_kv] */
    double *rope;         /* [n_ctx][head_dim/2][2] cos, sin */
} cu_state;

typedef struct cuda_engine {
    const tc_engine_config *c;    /* the interface's (engine_impl.h) */
    cu_layer *layers;             /* [n_layer] */
    const uint16_t *embd;         /* F16 {d, n_vocab} token_embd */
    const uint16_t *head;         /* F16 {d, n_vocab}: output.weight, or embd (tied) */
    const float *output_norm;     /* F32 {d} */
    uint8_t *arena;               /* every weight, one allocation */
    size_t arena_used;            /* bytes placed so far (open only) */
    cu_state s;
    tc_cuda_stream stream;
    tc_cuda_graph graph;          /* the decode graph, or NULL */
    bool graph_off;               /* TC_CUDA_GRAPH=0, or the graph cannot be built */
    uint64_t graph_calls[K_COUNT];/* kernel dispatches of one replay */
    uint8_t *stage, *snap;        /* host staging of one tap, and its copy */
    size_t stage_bytes;
    bool logits_pinned;           /* base->logits is page-locked */
    const char *kname[K_COUNT];
    tc_engine *base;
} cuda_engine;

#define TRY(call) do { if ((st = (call)) != TC_OK) return st; } while (0)

/* ---- taps: download, show, upload what the callback changed ---- */

/* Grow the host staging to bytes. */
static tc_status stage(cuda_engine *ce, size_t bytes, tc_err *err)
{
    if (bytes <= ce->stage_bytes) return TC_OK;
    free(ce->stage);
    free(ce->snap);
    ce->stage = malloc(bytes);
    ce->snap = malloc(bytes);
    ce->stage_bytes = ce->stage && ce->snap ? bytes : 0;
    if (!ce->stage_bytes) return tc_fail(err, TC_E_NOMEM, "cuda: out of memory staging a tap of %zu bytes", bytes);
    return TC_OK;
}

/* Download the device copy a [a_bytes] (and b [b_bytes], staged at
 * b_off: a q8 tap's scales), show tap id of layer through the interface,
 * and upload what the callback changed: the engine continues from it. */
static tc_status exchange(cuda_engine *ce, tc_tap_id id, int layer, uint32_t pos0, uint32_t n, void *a,
                          size_t a_bytes, void *b, size_t b_off, size_t b_bytes, bool *changed, tc_err *err)
{
    const size_t total = b ? b_off + b_bytes : a_bytes;
    tc_status st;
    TRY(stage(ce, total, err));
    TRY(tc_cuda_download_async(ce->stage, a, a_bytes, ce->stream, err));
    if (b) TRY(tc_cuda_download_async(ce->stage + b_off, b, b_bytes, ce->stream, err));
    TRY(tc_cuda_stream_sync(ce->stream, err));
    memcpy(ce->snap, ce->stage, total);
    if (b) TRY(tc_engine_show_q8(ce->base, id, layer, pos0, n, (int8_t *)ce->stage,
                                 (float *)(void *)(ce->stage + b_off), err));
    else TRY(tc_engine_show_f32(ce->base, id, layer, pos0, n, (float *)(void *)ce->stage, err));
    const bool a_changed = memcmp(ce->snap, ce->stage, a_bytes) != 0;
    if (changed) *changed = a_changed;
    if (a_changed) TRY(tc_cuda_upload_async(a, ce->stage, a_bytes, ce->stream, err));
    if (b && memcmp(ce->snap + b_off, ce->stage + b_off, b_bytes))
        TRY(tc_cuda_upload_async(b, ce->stage + b_off, b_bytes, ce->stream, err));
    return TC_OK;
}

/* Float tap id [n][width] at device address dev. */
static tc_status tap_f32(cuda_engine *ce, tc_tap_id id, int layer, uint32_t pos0, uint32_t n, uint32_t width,
                         float *dev, tc_err *err)
{
    if (!tc_engine_tapping(ce->base)) return TC_OK;
    return exchange(ce, id, layer, pos0, n, dev, (size_t)n * width * sizeof(float), NULL, 0, 0, NULL, err);
}

/* The codes [n][width] and scales [n] of the current bitlinear input:
 * .q8 tap id. */
static tc_status tap_q8(cuda_engine *ce, tc_tap_id id, int layer, uint32_t pos0, uint32_t n, uint32_t width,
                        tc_err *err)
{
    if (!tc_engine_tapping(ce->base)) return TC_OK;
    const size_t codes = (size_t)n * width, off = (codes + 15) & ~(size_t)15;
    return exchange(ce, id, layer, pos0, n, ce->s.q8, codes, ce->s.q8_scale, off, (size_t)n * sizeof(float), NULL,
                    err);
}

/* ---- batch steps: count, then launch on the engine's stream ---- */

/* The bitlinear input: q8, q8_scale <- quantize(rmsnorm(x) (.) w) over n
 * rows of width, fused.  While tapping the fused kernel also writes its
 * float output (htap), shown as float tap id; when the callback replaced
 * it the codes are quantized again from the replaced values (SPEC 3.1);
 * then the .q8 tap. */
static tc_status norm_input(cuda_engine *ce, tc_tap_id id, int layer, uint32_t pos0, const float *x,
                            const float *w, uint32_t n, uint32_t width, tc_err *err)
{
    cu_state *s = &ce->s;
    const bool tapping = tc_engine_tapping(ce->base);
    bool changed = false;
    tc_status st;
    tc_engine_count(ce->base, K_RMSNORM_Q8);
    TRY(tc_cuda_rmsnorm_q8(x, w, width, n, ce->c->eps, s->q8, s->q8_scale, tapping ? s->htap : NULL, ce->stream,
                           err));
    if (!tapping) return TC_OK;
    TRY(exchange(ce, id, layer, pos0, n, s->htap, (size_t)n * width * sizeof(float), NULL, 0, 0, &changed, err));
    if (changed) {
        tc_engine_count(ce->base, K_QUANTIZE);
        TRY(tc_cuda_quantize_q8(s->htap, width, n, s->q8, s->q8_scale, ce->stream, err));
    }
    return tap_q8(ce, tc_tap_q8_of(id), layer, pos0, n, width, err);
}

/* y [n][rows] = bitlinear(W, q8) (* mul) */
static tc_status linear(cuda_engine *ce, const cu_linear *w, uint32_t n, float *y, tc_err *err)
{
    const cu_state *s = &ce->s;
    tc_status st;
    tc_engine_count(ce->base, n == 1 ? K_I2S_GEMV : K_I2S_GEMM);
    if (n == 1) TRY(tc_cuda_i2s_gemv(w->codes, w->rows, w->K, s->q8, s->q8_scale, w->m, y, NULL, ce->stream, err));
    else TRY(tc_cuda_i2s_gemm(w->codes, w->rows, w->K, s->q8, n, s->q8_scale, w->m, y, NULL, w->rows, ce->stream, err));
    if (!w->has_mul) return TC_OK;
    tc_engine_count(ce->base, K_SCALE);
    return tc_cuda_scale(y, (size_t)n * w->rows, w->mul, ce->stream, err);
}

/* NEOX RoPE in place of n rows of n_heads heads, at the device position */
static tc_status rope(cuda_engine *ce, float *v, uint32_t n, uint32_t n_heads, tc_err *err)
{
    tc_engine_count(ce->base, K_ROPE);
    return tc_cuda_rope_dev(v, v, n, n_heads, ce->c->head_dim, ce->s.pos0, ce->s.rope, ce->stream, err);
}

/* x <- x + y over n rows of d */
static tc_status add_rows(cuda_engine *ce, float *x, const float *y, uint32_t n, tc_err *err)
{
    tc_engine_count(ce->base, K_ADD);
    return tc_cuda_add(x, y, (size_t)n * ce->c->d, x, ce->stream, err);
}

/* ---- the forward pass (SPEC 2.1) ---- */

/* Issue one batch of n tokens (already on the device, at the position
 * *s->pos0, which the host knows as pos0 for the tap rows).  keys_cap
 * bounds pos0 + n for the attention's launch (pos0 + n eagerly, n_ctx in
 * the decode graph).  Logits: every row when tapping, else the last row
 * only, into row 0. */
static tc_status issue(cuda_engine *ce, uint32_t n, uint32_t pos0, size_t keys_cap, tc_err *err)
{
    const tc_engine_config *c = ce->c;
    cu_state *s = &ce->s;
    tc_engine *e = ce->base;
    const tc_cuda_stream str = ce->stream;
    const bool tapping = tc_engine_tapping(e);
    tc_status st;

    /* x = token_embd[tok] */
    tc_engine_count(e, K_EMBED);
    TRY(tc_cuda_embed_f16(ce->embd, c->d, s->tokens, n, s->x, str, err));
    TRY(tap_f32(ce, TC_TAP_INP_EMBD, -1, pos0, n, c->d, s->x, err));

    for (uint32_t l = 0; l < c->n_layer; l++) {
        const cu_layer *L = &ce->layers[l];
        const int il = (int)l;
        float *kc = s->kcache + (size_t)l * c->n_ctx * c->d_kv;   /* [n_ctx][d_kv] */
        float *vc = s->vcache + (size_t)l * c->n_ctx * c->d_kv;

        /* q, k, v = bitlinear(W, rmsnorm(x) (.) attn_norm) */
        TRY(norm_input(ce, TC_TAP_ATTN_NORM, il, pos0, s->x, L->attn_norm, n, c->d, err));
        TRY(linear(ce, &L->wq, n, s->q, err));
        TRY(linear(ce, &L->wk, n, s->k, err));
        TRY(linear(ce, &L->wv, n, s->v, err));
        TRY(tap_f32(ce, TC_TAP_Q, il, pos0, n, c->d, s->q, err));
        TRY(tap_f32(ce, TC_TAP_K, il, pos0, n, c->d_kv, s->k, err));
        TRY(tap_f32(ce, TC_TAP_V, il, pos0, n, c->d_kv, s->v, err));

        /* q, k = rope_neox(q, p), rope_neox(k, p); k, v into the cache */
        TRY(rope(ce, s->q, n, c->n_head, err));
        TRY(rope(ce, s->k, n, c->n_head_kv, err));
        TRY(tap_f32(ce, TC_TAP_Q_ROPE, il, pos0, n, c->d, s->q, err));
        TRY(tap_f32(ce, TC_TAP_K_ROPE, il, pos0, n, c->d_kv, s->k, err));
        tc_engine_count(e, K_KV_STORE);
        TRY(tc_cuda_kv_store(s->k, s->v, kc, vc, n, c->d_kv, s->pos0, str, err));

        /* a = causal_gqa_attention(q, K[0..p], V[0..p]) */
        tc_engine_count(e, K_ATTENTION);
        TRY(tc_cuda_attention_dev(s->q, kc, vc, s->att, n, s->pos0, keys_cap, c->n_head, c->n_head_kv, c->head_dim,
                                  str, err));
        TRY(tap_f32(ce, TC_TAP_ATTN, il, pos0, n, c->d, s->att, err));

        /* x = x + bitlinear(Wo, rmsnorm(a) (.) attn_sub_norm) */
        TRY(norm_input(ce, TC_TAP_ATTN_SUB_NORM, il, pos0, s->att, L->attn_sub_norm, n, c->d, err));
        TRY(linear(ce, &L->wo, n, s->proj, err));
        TRY(tap_f32(ce, TC_TAP_ATTN_OUT, il, pos0, n, c->d, s->proj, err));
        TRY(add_rows(ce, s->x, s->proj, n, err));
        TRY(tap_f32(ce, TC_TAP_ATTN_RESID, il, pos0, n, c->d, s->x, err));

        /* f = act(bitlinear(Wgate, h)) (.) bitlinear(Wup, h), h = rmsnorm(x) (.) ffn_norm */
        TRY(norm_input(ce, TC_TAP_FFN_NORM, il, pos0, s->x, L->ffn_norm, n, c->d, err));
        TRY(linear(ce, &L->w_gate, n, s->gate, err));
        TRY(linear(ce, &L->w_up, n, s->up, err));
        TRY(tap_f32(ce, TC_TAP_FFN_GATE, il, pos0, n, c->n_ff, s->gate, err));
        TRY(tap_f32(ce, TC_TAP_FFN_UP, il, pos0, n, c->n_ff, s->up, err));
        tc_engine_count(e, K_ACT);
        TRY(tc_cuda_act_mul(s->gate, s->up, (size_t)n * c->n_ff,
                            c->act == TC_ACT_RELU2 ? TC_CUDA_ACT_RELU2 : TC_CUDA_ACT_SILU, s->act, str, err));
        TRY(tap_f32(ce, TC_TAP_FFN_ACT, il, pos0, n, c->n_ff, s->act, err));

        /* x = x + bitlinear(Wdown, rmsnorm(f) (.) ffn_sub_norm) */
        TRY(norm_input(ce, TC_TAP_FFN_SUB_NORM, il, pos0, s->act, L->ffn_sub_norm, n, c->n_ff, err));
        TRY(linear(ce, &L->w_down, n, s->proj, err));
        TRY(tap_f32(ce, TC_TAP_FFN_DOWN, il, pos0, n, c->d, s->proj, err));
        TRY(add_rows(ce, s->x, s->proj, n, err));
        TRY(tap_f32(ce, TC_TAP_OUT, il, pos0, n, c->d, s->x, err));
    }

    /* logits = head . (rmsnorm(x) (.) output_norm); without taps the last row only */
    const uint32_t first = tapping ? 0 : n - 1, rows = n - first;
    const float *h = s->hnorm + (size_t)first * c->d;
    tc_engine_count(e, K_RMSNORM);
    TRY(tc_cuda_rmsnorm(s->x + (size_t)first * c->d, ce->output_norm, c->d, rows, c->eps, s->hnorm + (size_t)first * c->d,
                        str, err));
    TRY(tap_f32(ce, TC_TAP_OUTPUT_NORM, -1, pos0, n, c->d, s->hnorm, err));
    tc_engine_count(e, rows == 1 ? K_F16_GEMV : K_F16_GEMM);
    if (rows == 1) TRY(tc_cuda_f16_gemv(ce->head, c->n_vocab, c->d, h, s->logits, str, err));
    else TRY(tc_cuda_f16_gemm(ce->head, c->n_vocab, c->d, h, rows, s->logits, c->n_vocab, str, err));
    return tap_f32(ce, TC_TAP_LOGITS, -1, pos0, n, c->n_vocab, s->logits, err);
}

/* One token without taps: replay the decode graph, capturing it first
 * when there is none.  The token and position are already on the device. */
static tc_status decode_graph(cuda_engine *ce, uint32_t pos0, tc_err *err)
{
    tc_engine *e = ce->base;
    tc_status st;
    if (!ce->graph) {
        uint64_t before[K_COUNT];
        tc_err cap = { 0 };
        for (size_t k = 0; k < K_COUNT; k++) before[k] = e->kernels[k].calls;
        TRY(tc_cuda_capture_begin(ce->stream, err));
        tc_status issued = issue(ce, 1, pos0, ce->c->n_ctx, &cap);
        TRY(tc_cuda_capture_end(ce->stream, issued == TC_OK, &ce->graph, err));
        if (issued != TC_OK) {
            /* nothing ran: undo the counts; a launch shape the device
             * cannot take at n_ctx keys (attention's shared memory) falls
             * back to eager decoding for good */
            for (size_t k = 0; k < K_COUNT; k++) e->kernels[k].calls = before[k];
            if (issued != TC_E_UNSUPPORTED) return tc_fail(err, issued, "%s", cap.msg);
            ce->graph_off = true;
            return issue(ce, 1, pos0, (size_t)pos0 + 1, err);
        }
        /* the capture counted this first replay's kernels */
        for (size_t k = 0; k < K_COUNT; k++) ce->graph_calls[k] = e->kernels[k].calls - before[k];
    } else {
        for (size_t k = 0; k < K_COUNT; k++) e->kernels[k].calls += ce->graph_calls[k];
    }
    tc_engine_count(e, K_GRAPH);
    return tc_cuda_graph_launch(ce->graph, ce->stream, err);
}

/* Free the batch buffers (and the graph, which points into them). */
static void free_batch(cuda_engine *ce)
{
    cu_state *s = &ce->s;
    void *p[] = { s->tokens, s->x, s->q8, s->q8_scale, s->q, s->att, s->proj, s->k, s->v, s->gate, s->up, s->act,
                  s->hnorm, s->htap };
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) tc_cuda_free(p[i]);
    s->tokens = NULL, s->x = s->q8_scale = s->q = s->att = s->proj = s->k = s->v = NULL;
    s->gate = s->up = s->act = s->hnorm = s->htap = NULL;
    s->q8 = NULL;
    s->cap = 0;
    tc_cuda_graph_free(ce->graph);
    ce->graph = NULL;
}

/* Grow the device batch buffers to n rows and the logits to n_logits. */
static tc_status ensure_batch(cuda_engine *ce, uint32_t n, uint32_t n_logits, tc_err *err)
{
    cu_state *s = &ce->s;
    const tc_engine_config *c = ce->c;
    const size_t wide = c->d > c->n_ff ? c->d : c->n_ff, f = sizeof(float);
    tc_status st;
    if (n > s->cap) {
        free_batch(ce);
        struct { void **p; size_t bytes; } b[] = {
            { (void **)&s->tokens, (size_t)n * sizeof(int32_t) }, { (void **)&s->x, (size_t)n * c->d * f },
            { (void **)&s->q8, (size_t)n * wide }, { (void **)&s->q8_scale, (size_t)n * f },
            { (void **)&s->q, (size_t)n * c->d * f }, { (void **)&s->att, (size_t)n * c->d * f },
            { (void **)&s->proj, (size_t)n * c->d * f }, { (void **)&s->k, (size_t)n * c->d_kv * f },
            { (void **)&s->v, (size_t)n * c->d_kv * f }, { (void **)&s->gate, (size_t)n * c->n_ff * f },
            { (void **)&s->up, (size_t)n * c->n_ff * f }, { (void **)&s->act, (size_t)n * c->n_ff * f },
            { (void **)&s->hnorm, (size_t)n * c->d * f }, { (void **)&s->htap, (size_t)n * wide * f },
        };
        for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
            if ((st = tc_cuda_alloc(b[i].p, b[i].bytes, err)) != TC_OK) {
                free_batch(ce);
                return st;
            }
        s->cap = n;
    }
    if (n_logits > s->cap_logits) {
        tc_cuda_graph_free(ce->graph);
        ce->graph = NULL;
        tc_cuda_free(s->logits);
        s->logits = NULL;
        s->cap_logits = 0;
        TRY(tc_cuda_alloc((void **)&s->logits, (size_t)n_logits * c->n_vocab * f, err));
        s->cap_logits = n_logits;
    }
    return TC_OK;
}

static tc_status forward(tc_engine *e, const int32_t *tokens, uint32_t n, uint32_t pos0, tc_err *err)
{
    cuda_engine *ce = e->impl;
    const bool tapping = tc_engine_tapping(e);
    tc_status st;
    TRY(ensure_batch(ce, n, tapping ? n : 1, err));
    /* from pageable memory: the sources may go once these return */
    TRY(tc_cuda_upload_async(ce->s.tokens, tokens, (size_t)n * sizeof *tokens, ce->stream, err));
    TRY(tc_cuda_upload_async(ce->s.pos0, &pos0, sizeof pos0, ce->stream, err));
    if (n == 1 && !tapping && !ce->graph_off) TRY(decode_graph(ce, pos0, err));
    else TRY(issue(ce, n, pos0, (size_t)pos0 + n, err));
    /* the last row: row n-1 when every row was computed, else row 0 */
    const float *last = ce->s.logits + (size_t)(tapping ? n - 1 : 0) * ce->c->n_vocab;
    TRY(tc_cuda_download_async(e->logits, last, (size_t)ce->c->n_vocab * sizeof(float), ce->stream, err));
    return tc_cuda_stream_sync(ce->stream, err);
}

/* ---- open / free ---- */

static void cuda_free_impl(void *impl)
{
    cuda_engine *ce = impl;
    if (!ce) return;
    if (ce->stream) tc_cuda_stream_sync(ce->stream, NULL);
    free_batch(ce);
    cu_state *s = &ce->s;
    void *p[] = { s->pos0, s->logits, s->kcache, s->vcache, s->rope, ce->arena };
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) tc_cuda_free(p[i]);
    tc_cuda_stream_free(ce->stream);
    if (ce->logits_pinned) tc_cuda_host_unregister(ce->base->logits);
    free(ce->layers);
    free(ce->stage);
    free(ce->snap);
    free(ce);
}

static const tc_engine_vtable cuda_vtable = { .name = "cuda", .forward = forward, .free_impl = cuda_free_impl };

/* Place bytes of host data in the arena: with ce->arena NULL, only count
 * (the first pass); else upload.  *dev gets the device address. */
static tc_status place(cuda_engine *ce, const void *host, size_t bytes, const void **dev, tc_err *err)
{
    const size_t at = ce->arena_used;
    ce->arena_used += (bytes + 255) & ~(size_t)255;   /* 256-byte aligned, as cudaMalloc */
    if (!ce->arena) return TC_OK;
    *dev = ce->arena + at;
    return tc_cuda_upload(ce->arena + at, host, bytes, err);
}

/* An I2_S linear: its codes (the trailing scale stays on the host) and
 * its optional multiplier. */
static tc_status place_linear(cuda_engine *ce, const tc_weight *w, const tc_weight *mul, cu_linear *out, tc_err *err)
{
    const void *dev = NULL;
    tc_status st;
    TRY(place(ce, w->data, (size_t)(w->ne0 * w->ne1 / 4), &dev, err));
    *out = (cu_linear){ .codes = dev, .K = (uint32_t)w->ne0, .rows = (uint32_t)w->ne1, .m = w->scale,
                        .has_mul = mul->t != NULL, .mul = mul->t ? *(const float *)mul->data : 1.0f };
    return TC_OK;
}

static tc_status place_norm(cuda_engine *ce, const tc_weight *w, const float **out, tc_err *err)
{
    const void *dev = NULL;
    tc_status st;
    TRY(place(ce, w->data, (size_t)w->ne0 * sizeof(float), &dev, err));
    *out = dev;
    return TC_OK;
}

/* Every weight, in file order; twice: counting, then uploading. */
static tc_status place_weights(cuda_engine *ce, const tc_model *m, tc_err *err)
{
    const tc_weight *head = tc_model_lm_head(m);
    const size_t f16_bytes = (size_t)m->token_embd.ne0 * m->token_embd.ne1 * 2;
    const void *dev = NULL;
    tc_status st;
    TRY(place(ce, m->token_embd.data, f16_bytes, &dev, err));
    ce->embd = dev;
    ce->head = ce->embd;
    if (head != &m->token_embd) {
        TRY(place(ce, head->data, (size_t)head->ne0 * head->ne1 * 2, &dev, err));
        ce->head = dev;
    }
    TRY(place_norm(ce, &m->output_norm, &ce->output_norm, err));
    for (uint32_t l = 0; l < m->hp.n_layer; l++) {
        const tc_layer *src = &m->layers[l];
        cu_layer *L = &ce->layers[l];
        TRY(place_norm(ce, &src->attn_norm, &L->attn_norm, err));
        TRY(place_norm(ce, &src->attn_sub_norm, &L->attn_sub_norm, err));
        TRY(place_norm(ce, &src->ffn_norm, &L->ffn_norm, err));
        TRY(place_norm(ce, &src->ffn_sub_norm, &L->ffn_sub_norm, err));
        TRY(place_linear(ce, &src->attn_q, &src->attn_q_scale, &L->wq, err));
        TRY(place_linear(ce, &src->attn_k, &src->attn_k_scale, &L->wk, err));
        TRY(place_linear(ce, &src->attn_v, &src->attn_v_scale, &L->wv, err));
        TRY(place_linear(ce, &src->attn_output, &src->attn_output_scale, &L->wo, err));
        TRY(place_linear(ce, &src->ffn_gate, &src->ffn_gate_scale, &L->w_gate, err));
        TRY(place_linear(ce, &src->ffn_up, &src->ffn_up_scale, &L->w_up, err));
        TRY(place_linear(ce, &src->ffn_down, &src->ffn_down_scale, &L->w_down, err));
    }
    return TC_OK;
}

/* What this engine runs: F16 embedding and head, I2_S linears. */
static tc_status check_model(const tc_model *m, tc_err *err)
{
    const char *path = m->gguf->path;
    const tc_weight *f16[] = { &m->token_embd, tc_model_lm_head(m) };
    for (size_t i = 0; i < 2; i++)
        if (f16[i]->type != TC_TYPE_F16)
            return tc_fail(err, TC_E_UNSUPPORTED, "%s: tensor '%s' is %s: the cuda engine needs an F16 embedding "
                           "and LM head", path, f16[i]->t->name, tc_type_name(f16[i]->type));
    for (uint32_t l = 0; l < m->hp.n_layer; l++) {
        const tc_layer *L = &m->layers[l];
        const tc_weight *lin[] = { &L->attn_q, &L->attn_k, &L->attn_v, &L->attn_output, &L->ffn_gate, &L->ffn_up,
                                   &L->ffn_down };
        for (size_t i = 0; i < sizeof lin / sizeof lin[0]; i++)
            if (lin[i]->type != TC_TYPE_I2_S)
                return tc_fail(err, TC_E_UNSUPPORTED, "%s: tensor '%s' is %s: the cuda engine needs I2_S linear "
                               "weights (quantize the model)", path, lin[i]->t->name, tc_type_name(lin[i]->type));
    }
    return TC_OK;
}

/* A GPU this build can run on: one of compute capability 9.0 or newer. */
static tc_status check_gpu(tc_err *err)
{
    tc_gpu_info info[1];
    int count = 0;
    tc_status st;
    TRY(tc_cuda_devices(info, 1, &count, err));
    if (count == 0)
        return tc_fail(err, TC_E_UNSUPPORTED, "cuda: no CUDA GPU on this machine (the cuda engine needs an NVIDIA "
                       "GPU of compute capability 9.0 or newer)");
    if (info[0].cc_major < 9)
        return tc_fail(err, TC_E_UNSUPPORTED, "cuda: %s is compute capability %d.%d; this build carries sm_90 code only",
                       info[0].name, info[0].cc_major, info[0].cc_minor);
    return TC_OK;
}

/* The device side of a new engine: stream, weights, cache, RoPE table. */
static tc_status open_device(cuda_engine *ce, const tc_model *m, tc_err *err)
{
    const tc_engine_config *c = ce->c;
    tc_status st;
    TRY(tc_cuda_stream_new(&ce->stream, err));
    ce->arena_used = 0;
    TRY(place_weights(ce, m, err));   /* counts */
    TRY(tc_cuda_alloc((void **)&ce->arena, ce->arena_used, err));
    ce->arena_used = 0;
    TRY(place_weights(ce, m, err));   /* uploads */

    const size_t cache = (size_t)c->n_layer * c->n_ctx * c->d_kv * sizeof(float);
    TRY(tc_cuda_alloc((void **)&ce->s.kcache, cache, err));
    TRY(tc_cuda_alloc((void **)&ce->s.vcache, cache, err));
    TRY(tc_cuda_memset(ce->s.kcache, 0, cache, ce->stream, err));
    TRY(tc_cuda_memset(ce->s.vcache, 0, cache, ce->stream, err));
    TRY(tc_cuda_alloc((void **)&ce->s.rope, (size_t)c->n_ctx * c->head_dim * sizeof(double), err));
    TRY(tc_cuda_rope_table_upload(ce->s.rope, c->n_ctx, c->head_dim, m->hp.rope_base, err));
    TRY(tc_cuda_alloc((void **)&ce->s.pos0, sizeof(uint32_t), err));
    TRY(ensure_batch(ce, 1, 1, err));
    /* the uploads above ran on the legacy stream: finish them before the
     * engine's own stream reads anything */
    TRY(tc_cuda_sync(err));
    ce->logits_pinned = tc_cuda_host_register(ce->base->logits, (size_t)c->n_vocab * sizeof(float));
    return TC_OK;
}

tc_status tc_cuda_engine_open(const tc_model *m, const tc_engine_opts *o, tc_engine **out, tc_err *err)
{
    tc_engine_opts def;
    tc_status st;
    *out = NULL;
    if (!o) {
        tc_engine_opts_default(&def);
        o = &def;
    }
    if (o->precision != TC_PRECISION_I2S)
        return tc_fail(err, TC_E_UNSUPPORTED, "cuda: precision %s is not implemented (the ref engine runs it)",
                       tc_precision_name(o->precision));
    TRY(check_gpu(err));
    TRY(check_model(m, err));
    tc_engine *e;
    cuda_engine *ce = calloc(1, sizeof *ce);
    if (!ce) return tc_fail(err, TC_E_NOMEM, "cuda: out of memory");
    const tc_hparams *hp = &m->hp;
    static const char *const names[K_COUNT] = {
        [K_EMBED] = "cuda.embed_f16", [K_RMSNORM_Q8] = "cuda.rmsnorm_q8", [K_RMSNORM] = "cuda.rmsnorm",
        [K_I2S_GEMV] = "cuda.i2s_gemv", [K_I2S_GEMM] = "cuda.i2s_gemm", [K_SCALE] = "cuda.scale",
        [K_ROPE] = "cuda.rope_neox", [K_KV_STORE] = "cuda.kv_store", [K_ATTENTION] = "cuda.attention",
        [K_ACT] = "cuda.relu2_mul", [K_ADD] = "cuda.add", [K_F16_GEMV] = "cuda.f16_gemv",
        [K_F16_GEMM] = "cuda.f16_gemm", [K_GRAPH] = "cuda.decode_graph", [K_QUANTIZE] = "cuda.quantize_q8",
    };
    memcpy(ce->kname, names, sizeof names);
    if (hp->act == TC_ACT_SILU) ce->kname[K_ACT] = "cuda.silu_mul";
    if ((st = tc_engine_new(&cuda_vtable, ce, m, o, ce->kname, K_COUNT, &e, err))) return st;
    ce->base = e;
    ce->c = &e->cfg;
    const char *graph_env = getenv("TC_CUDA_GRAPH");
    ce->graph_off = graph_env && !strcmp(graph_env, "0");
    ce->layers = calloc(hp->n_layer ? hp->n_layer : 1, sizeof *ce->layers);
    if (!ce->layers) {
        tc_engine_free(e);
        return tc_fail(err, TC_E_NOMEM, "cuda: out of memory");
    }
    if ((st = open_device(ce, m, err))) {
        tc_engine_free(e);
        return st;
    }
    *out = e;
    return TC_OK;
}

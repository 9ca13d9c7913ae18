/* ref.c -- the reference engine: the whole BitNet b1.58 forward pass of
 * SPEC 2.1 in plain C11, in the I2_S (2.2), FP32 (2.3) or llama.cpp's
 * Q8_K (doc/q8k.md) precision.
 *
 * Read it top to bottom: the config, the weights (borrowed pointers into
 * the mapped file, never expanded), the run state (activations of one batch
 * and the KV cache), the bitlinear, then forward(), which follows SPEC 2.1
 * step by step and shows every tap of SPEC 3.1 to the engine's callback.
 * A batch runs layer by layer over all its tokens, so that each tap holds
 * every position of the batch.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_impl.h"
#include "ref/ref.h"
#include "engine/q8.h"
#include "ref/ref_kernels.h"

/* ---- kernels this engine counts (SPEC 3.2) ---- */

enum {
    K_EMBED,        /* token_embd row -> float */
    K_RMSNORM,      /* one rmsnorm over a batch */
    K_QUANTIZE,     /* per-token int8 activation quantization */
    K_I2S_GEMV,     /* I2_S codes x q8 activations, integer sums (precision i2s) */
    K_I2S_F32_GEMV, /* I2_S codes * m x float activations (precision fp32) */
    K_F32_GEMV,     /* F32 weights x float */
    K_F16_GEMV,     /* F16 weights x float (the tied LM head) */
    K_BF16_GEMV,    /* BF16 weights x float */
    K_QUANTIZE_Q8K, /* Q8_K activation quantization per block of 256 (precision q8k) */
    K_TQ1_GEMV,     /* TQ1_0 trits x Q8_K activations (precision q8k) */
    K_TQ2_GEMV,     /* TQ2_0 codes x Q8_K activations (precision q8k) */
    K_TQ_F32_GEMV,  /* TQ1_0/TQ2_0 trit * d x float activations (precision fp32) */
    K_ROUND_F16,    /* the LM head's input rounded to F16 (precision q8k, F16 head) */
    K_ROPE,         /* NEOX rotary embedding of q or k */
    K_ATTENTION,    /* causal GQA attention */
    K_RELU2_MUL,    /* relu(gate)^2 (.) up */
    K_SILU_MUL,     /* silu(gate) (.) up */
    K_ADD,          /* residual add */
    K_COUNT
};

static const char *const kernel_names[K_COUNT] = {
    "ref.embed", "ref.rmsnorm", "ref.quantize_q8", "ref.i2s_gemv", "ref.i2s_f32_gemv",
    "ref.f32_gemv", "ref.f16_gemv", "ref.bf16_gemv", "ref.quantize_q8k", "ref.tq1_q8k_gemv",
    "ref.tq2_q8k_gemv", "ref.tq_f32_gemv", "ref.round_f16", "ref.rope_neox", "ref.attention",
    "ref.relu2_mul", "ref.silu_mul", "ref.add",
};

/* ---- config ----
 * The engine's dimensions and settings are the interface's
 * tc_engine_config (engine_impl.h: d, d_kv, n_ff, n_layer, n_head,
 * n_head_kv, head_dim, n_vocab, n_ctx, rope_base, eps, act, prec,
 * n_threads), derived once when the engine opens. */

/* ---- weights: borrowed from the model ---- */

typedef struct ref_layer {
    const float *attn_norm;        /* F32 {d} */
    const tc_weight *wq;           /* {d, d} */
    const tc_weight *wk;           /* {d, d_kv} */
    const tc_weight *wv;           /* {d, d_kv} */
    const float *attn_sub_norm;    /* F32 {d} */
    const tc_weight *wo;           /* {d, d} */
    const float *ffn_norm;         /* F32 {d} */
    const tc_weight *w_gate;       /* {d, n_ff} */
    const tc_weight *w_up;         /* {d, n_ff} */
    const float *ffn_sub_norm;     /* F32 {n_ff} */
    const tc_weight *w_down;       /* {n_ff, d} */
    /* optional F32 {1} output multipliers, NULL when absent */
    const float *wq_scale, *wk_scale, *wv_scale, *wo_scale;
    const float *w_gate_scale, *w_up_scale, *w_down_scale;
} ref_layer;

typedef struct ref_weights {
    const tc_weight *token_embd;   /* F16/F32/BF16 {d, n_vocab} */
    const tc_weight *lm_head;      /* {d, n_vocab}: output.weight, or token_embd (tied) */
    const float *output_norm;      /* F32 {d} */
    ref_layer *layers;             /* [n_layer], owned array of borrowed pointers */
    float *f16_table;              /* [65536] F16 bits -> float, for F16 weight rows */
} ref_weights;

/* ---- run state ---- */

typedef struct ref_state {
    uint32_t cap;         /* rows the batch buffers hold */
    uint32_t cap_logits;  /* rows the logits buffer holds */
    float *x;             /* [cap][d] residual stream */
    float *h;             /* [cap][max(d, n_ff)] normed bitlinear input */
    int8_t *q8;           /* [cap][max(d, n_ff)] int8 codes of h (precision i2s, q8k) */
    float *q8_scale;      /* [cap] per-token s of q8 (precision i2s) */
    float *q8k_d;         /* [cap][max(d, n_ff)/256 + 1] Q8_K block scales of q8 (precision q8k) */
    float *head_in;       /* [cap][d] the LM head's input rounded to F16 (precision q8k) */
    float *q;             /* [cap][d] queries */
    float *k;             /* [cap][d_kv] keys of the batch */
    float *v;             /* [cap][d_kv] values of the batch */
    float *att;           /* [cap][d] attention output */
    float *proj;          /* [cap][d] output of Wo or Wdown */
    float *gate;          /* [cap][n_ff] */
    float *up;            /* [cap][n_ff] */
    float *act;           /* [cap][n_ff] act(gate) (.) up */
    float *logits;        /* [cap_logits][n_vocab] */
    double *scores;       /* [n_ctx] attention scores of one head */
    float *row_scratch;   /* [n_threads][max(d, n_ff)] one decoded weight row per thread */
    float *key_cache;     /* [n_layer][n_ctx][d_kv] */
    float *value_cache;   /* [n_layer][n_ctx][d_kv] */
} ref_state;

typedef struct ref_engine {
    const tc_engine_config *c;   /* the interface's, see above */
    ref_weights w;
    ref_state s;
    tc_engine *base;      /* the interface object that owns this */
} ref_engine;

/* ---- bitlinear: Y[n][rows] = X[n][K] . W^T ---- */

/* Q8_K block scales per token row: enough for the widest input. */
static size_t q8k_stride(const tc_engine_config *c)
{
    return (c->d > c->n_ff ? c->d : c->n_ff) / TC_QK_K + 1;
}

/* The work of one thread: rows [r0, r1) of the output for all n tokens.
 * Each output element is one sequential loop, whatever the thread count. */
typedef struct linear_job {
    const ref_engine *r;
    const tc_weight *w;   /* {K, rows} */
    const float *scale;   /* optional F32 {1} output multiplier, or NULL */
    bool integer;         /* q8 x I2_S or TQ integer sums, else float rows */
    uint32_t n;           /* tokens */
    const float *x;       /* [n][K] float input (fp32 path) */
    const int8_t *q8;     /* [n][K] codes (i2s and q8k paths) */
    const float *q8_scale;/* [n] (i2s) */
    const float *q8k_d;   /* [n][q8k_stride] Q8_K block scales (q8k) */
    size_t q8k_stride;    /* block scales per token row */
    float *y;             /* [n][rows] */
    float *row;           /* [K] scratch: the decoded weight row */
    uint64_t r0, r1;
} linear_job;

/* row <- W[r] as floats (code * m for I2_S) */
static void weight_row_f32(const ref_engine *r, const tc_weight *w, uint64_t row, float *out)
{
    const uint64_t K = w->ne0;
    if (w->type == TC_TYPE_I2_S) {
        tc_ref_i2s_row_f32((const uint8_t *)w->data + row * K / 4, K, w->scale, out);
    } else if (w->type == TC_TYPE_F16) {
        const uint8_t *p = (const uint8_t *)w->data + row * K * 2;
        for (uint64_t i = 0; i < K; i++) out[i] = r->w.f16_table[p[2 * i] | (p[2 * i + 1] << 8)];
    } else {
        tc_weight_row(w, row, out);   /* F32, BF16 */
    }
}

/* The bytes of row r of a TQ1_0/TQ2_0 weight {K, rows}: K/256 blocks. */
static const uint8_t *tq_row(const tc_weight *w, uint64_t r)
{
    const size_t bb = w->type == TC_TYPE_TQ1_0 ? TC_TQ1_BLOCK_BYTES : TC_TQ2_BLOCK_BYTES;
    return (const uint8_t *)w->data + r * (w->ne0 / TC_QK_K) * bb;
}

/* i2s: y = (float)sum / s * m;  q8k: y = (float)sum_b sumi_b * (d_b * w_d_b);
 * fp32: y = (float)(W_f32[r] . x) */
static void *linear_rows(void *arg)
{
    linear_job *j = arg;
    const uint64_t K = j->w->ne0, rows = j->w->ne1;
    const bool integer = j->integer, tq = j->w->type == TC_TYPE_TQ1_0 || j->w->type == TC_TYPE_TQ2_0;
    for (uint64_t r = j->r0; r < j->r1; r++) {
        if (integer && tq) {
            const uint8_t *blocks = tq_row(j->w, r);   /* [K/256 blocks] */
            const int tq1 = j->w->type == TC_TYPE_TQ1_0;
            for (uint32_t t = 0; t < j->n; t++)
                j->y[(size_t)t * rows + r] = (float)tc_ref_tq_dot_q8k(blocks, tq1, j->q8 + (size_t)t * K,
                                                                      j->q8k_d + (size_t)t * j->q8k_stride, K);
        } else if (integer) {
            const uint8_t *packed = (const uint8_t *)j->w->data + r * K / 4;   /* [K/4] */
            for (uint32_t t = 0; t < j->n; t++) {
                int64_t sum = tc_ref_i2s_dot_q8(packed, j->q8 + (size_t)t * K, K);
                j->y[(size_t)t * rows + r] = (float)sum / j->q8_scale[t] * j->w->scale;
            }
        } else {
            weight_row_f32(j->r, j->w, r, j->row);
            for (uint32_t t = 0; t < j->n; t++)
                j->y[(size_t)t * rows + r] = (float)tc_ref_dot(j->row, j->x + (size_t)t * K, K);
        }
        if (j->scale)
            for (uint32_t t = 0; t < j->n; t++) j->y[(size_t)t * rows + r] *= *j->scale;
    }
    return NULL;
}

/* The kernel a weight type runs: integer sums, or a float matvec. */
static int linear_kernel(const tc_weight *w, bool integer)
{
    switch (w->type) {
    case TC_TYPE_I2_S: return integer ? K_I2S_GEMV : K_I2S_F32_GEMV;
    case TC_TYPE_TQ1_0: return integer ? K_TQ1_GEMV : K_TQ_F32_GEMV;
    case TC_TYPE_TQ2_0: return integer ? K_TQ2_GEMV : K_TQ_F32_GEMV;
    case TC_TYPE_F16: return K_F16_GEMV;
    case TC_TYPE_BF16: return K_BF16_GEMV;
    default: return K_F32_GEMV;
    }
}

/* Y[n][rows] = W X over n tokens, the rows split evenly across the
 * threads.  integer: the input is s->q8 with s->q8_scale (precision i2s,
 * I2_S weights) or s->q8k_d (precision q8k, TQ weights); else the float
 * rows x [n][K]. */
static void linear(ref_engine *r, const tc_weight *w, const float *scale, uint32_t n, const float *x,
                   bool integer, float *y)
{
    enum { MAX_THREADS = 64 };
    const int n_threads = r->c->n_threads < MAX_THREADS ? r->c->n_threads : MAX_THREADS;
    const uint64_t rows = w->ne1;
    const size_t scratch = r->c->d > r->c->n_ff ? r->c->d : r->c->n_ff;   /* >= K of every weight */
    linear_job jobs[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    bool started[MAX_THREADS] = { false };
    tc_engine_count(r->base, (size_t)linear_kernel(w, integer));
    for (int t = 0; t < n_threads; t++)
        jobs[t] = (linear_job){ .r = r, .w = w, .scale = scale, .integer = integer, .n = n, .x = x,
                                .q8 = r->s.q8, .q8_scale = r->s.q8_scale, .q8k_d = r->s.q8k_d,
                                .q8k_stride = q8k_stride(r->c), .y = y,
                                .row = r->s.row_scratch + (size_t)t * scratch,
                                .r0 = rows * (uint64_t)t / (uint64_t)n_threads,
                                .r1 = rows * (uint64_t)(t + 1) / (uint64_t)n_threads };
    /* threads 1.. run beside the caller, who runs slice 0; a thread that
     * cannot start has its slice run here (same arithmetic either way) */
    for (int t = 1; t < n_threads; t++)
        started[t] = pthread_create(&tid[t], NULL, linear_rows, &jobs[t]) == 0;
    linear_rows(&jobs[0]);
    for (int t = 1; t < n_threads; t++) {
        if (started[t]) pthread_join(tid[t], NULL);
        else linear_rows(&jobs[t]);
    }
}

/* ---- batch steps ---- */

/* y[t] = rmsnorm(x[t]) (.) w for each of n rows of width n_el */
static void rmsnorm_rows(ref_engine *r, const float *x, const float *w, uint32_t n, uint32_t n_el, float *y)
{
    tc_engine_count(r->base, K_RMSNORM);
    for (uint32_t t = 0; t < n; t++) tc_ref_rmsnorm(x + (size_t)t * n_el, w, n_el, r->c->eps, y + (size_t)t * n_el);
}

/* The input of a bitlinear: in precision i2s, quantize each row of h
 * [n][width] to s->q8 / s->q8_scale and show the .q8 tap norm_q8 (which
 * may replace the codes); in q8k, quantize each row to Q8_K blocks
 * (s->q8 / s->q8k_d): there is no .q8 tap, whose one scale per row cannot
 * hold a scale per block, and the codes follow from the float norm tap,
 * which the callback may replace; in fp32 the float rows are the input. */
static tc_status bitlinear_input(ref_engine *r, int layer, tc_tap_id norm_q8, const float *h, uint32_t pos0,
                                 uint32_t n, uint32_t width, tc_err *err)
{
    if (r->c->prec == TC_PRECISION_Q8K) {
        tc_engine_count(r->base, K_QUANTIZE_Q8K);
        const size_t stride = q8k_stride(r->c);
        for (uint32_t t = 0; t < n; t++)
            tc_ref_quantize_q8k(h + (size_t)t * width, width, r->s.q8 + (size_t)t * width, r->s.q8k_d + t * stride);
        return TC_OK;
    }
    if (r->c->prec != TC_PRECISION_I2S) return TC_OK;
    tc_engine_count(r->base, K_QUANTIZE);
    for (uint32_t t = 0; t < n; t++)
        r->s.q8_scale[t] = tc_q8_quantize(h + (size_t)t * width, width, r->s.q8 + (size_t)t * width);
    return tc_engine_show_q8(r->base, norm_q8, layer, pos0, n, r->s.q8, r->s.q8_scale, err);
}

/* x[t] <- x[t] + y[t] for n rows of width d */
static void add_rows(ref_engine *r, float *x, const float *y, uint32_t n)
{
    tc_engine_count(r->base, K_ADD);
    for (size_t i = 0; i < (size_t)n * r->c->d; i++) x[i] += y[i];
}

/* RoPE every head of n rows [n][n_heads * head_dim], row t at pos0 + t */
static void rope_rows(ref_engine *r, float *v, uint32_t n, uint32_t n_heads, uint32_t pos0)
{
    tc_engine_count(r->base, K_ROPE);
    for (uint32_t t = 0; t < n; t++)
        for (uint32_t hh = 0; hh < n_heads; hh++)
            tc_ref_rope_neox(v + ((size_t)t * n_heads + hh) * r->c->head_dim, r->c->head_dim, pos0 + t,
                             r->c->rope_base);
}

/* att[t] = causal GQA attention of q[t] over cached positions 0..pos0+t */
static void attention_rows(ref_engine *r, uint32_t layer, uint32_t n, uint32_t pos0)
{
    const tc_engine_config *c = r->c;
    const float *kc = r->s.key_cache + (size_t)layer * c->n_ctx * c->d_kv;     /* [n_ctx][d_kv] */
    const float *vc = r->s.value_cache + (size_t)layer * c->n_ctx * c->d_kv;   /* [n_ctx][d_kv] */
    tc_engine_count(r->base, K_ATTENTION);
    for (uint32_t t = 0; t < n; t++) {
        for (uint32_t hh = 0; hh < c->n_head; hh++) {
            const uint32_t kvh = tc_ref_kv_head(hh, c->n_head, c->n_head_kv);
            const size_t off = (size_t)kvh * c->head_dim;
            tc_ref_attention_head(r->s.q + (size_t)t * c->d + (size_t)hh * c->head_dim, kc + off, vc + off,
                                  c->d_kv, (size_t)pos0 + t + 1, c->head_dim, r->s.scores,
                                  r->s.att + (size_t)t * c->d + (size_t)hh * c->head_dim);
        }
    }
}

/* act[i] = act(gate[i]) * up[i] over n rows of n_ff */
static void ffn_act_rows(ref_engine *r, uint32_t n)
{
    const bool relu2 = r->c->act == TC_ACT_RELU2;
    tc_engine_count(r->base, relu2 ? K_RELU2_MUL : K_SILU_MUL);
    for (size_t i = 0; i < (size_t)n * r->c->n_ff; i++) {
        float a = relu2 ? tc_ref_relu2(r->s.gate[i]) : tc_ref_silu(r->s.gate[i]);
        r->s.act[i] = a * r->s.up[i];
    }
}

/* Grow the batch buffers to n rows (and the logits to n_logits rows). */
static tc_status ensure_batch(ref_engine *r, uint32_t n, uint32_t n_logits, tc_err *err)
{
    ref_state *s = &r->s;
    const tc_engine_config *c = r->c;
    const size_t wide = c->d > c->n_ff ? c->d : c->n_ff;
    if (n > s->cap) {
        void *p[] = { s->x, s->h, s->q8, s->q8_scale, s->q8k_d, s->head_in, s->q, s->k, s->v, s->att, s->proj,
                      s->gate, s->up, s->act };
        for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
        s->x = malloc((size_t)n * c->d * sizeof(float));
        s->h = malloc((size_t)n * wide * sizeof(float));
        s->q8 = malloc((size_t)n * wide);
        s->q8_scale = malloc((size_t)n * sizeof(float));
        s->q8k_d = malloc((size_t)n * q8k_stride(c) * sizeof(float));
        s->head_in = malloc((size_t)n * c->d * sizeof(float));
        s->q = malloc((size_t)n * c->d * sizeof(float));
        s->k = malloc((size_t)n * c->d_kv * sizeof(float));
        s->v = malloc((size_t)n * c->d_kv * sizeof(float));
        s->att = malloc((size_t)n * c->d * sizeof(float));
        s->proj = malloc((size_t)n * c->d * sizeof(float));
        s->gate = malloc((size_t)n * c->n_ff * sizeof(float));
        s->up = malloc((size_t)n * c->n_ff * sizeof(float));
        s->act = malloc((size_t)n * c->n_ff * sizeof(float));
        s->cap = n;
        if (!s->x || !s->h || !s->q8 || !s->q8_scale || !s->q8k_d || !s->head_in || !s->q || !s->k || !s->v || !s->att || !s->proj ||
            !s->gate || !s->up || !s->act) {
            s->cap = 0;
            return tc_fail(err, TC_E_NOMEM, "ref: out of memory for a batch of %" PRIu32 " tokens", n);
        }
    }
    if (n_logits > s->cap_logits) {
        free(s->logits);
        s->logits = malloc((size_t)n_logits * c->n_vocab * sizeof(float));
        s->cap_logits = s->logits ? n_logits : 0;
        if (!s->logits)
            return tc_fail(err, TC_E_NOMEM, "ref: out of memory for %" PRIu32 " rows of logits", n_logits);
    }
    return TC_OK;
}

/* ---- the forward pass (SPEC 2.1) ---- */

#define TRY(call) do { if ((st = (call)) != TC_OK) return st; } while (0)

static tc_status forward(tc_engine *e, const int32_t *tokens, uint32_t n, uint32_t pos0, tc_err *err)
{
    ref_engine *r = e->impl;
    const tc_engine_config *c = r->c;
    ref_state *s = &r->s;
    const bool tapping = tc_engine_tapping(e);
    /* checked at open: I2_S weights for i2s, TQ1_0/TQ2_0 for q8k */
    const bool integer = c->prec == TC_PRECISION_I2S || c->prec == TC_PRECISION_Q8K;
    tc_status st;
    TRY(ensure_batch(r, n, tapping ? n : 1, err));

    /* x = token_embd[tok] */
    tc_engine_count(e, K_EMBED);
    for (uint32_t t = 0; t < n; t++) weight_row_f32(r, r->w.token_embd, (uint64_t)tokens[t], s->x + (size_t)t * c->d);
    TRY(tc_engine_show_f32(e, TC_TAP_INP_EMBD, -1, pos0, n, s->x, err));

    for (uint32_t l = 0; l < c->n_layer; l++) {
        const ref_layer *L = &r->w.layers[l];
        const int il = (int)l;
        float *kc = s->key_cache + ((size_t)l * c->n_ctx + pos0) * c->d_kv;     /* [n][d_kv] slots */
        float *vc = s->value_cache + ((size_t)l * c->n_ctx + pos0) * c->d_kv;   /* [n][d_kv] slots */

        /* h = rmsnorm(x) (.) attn_norm;  q, k, v = bitlinear(W, h) */
        rmsnorm_rows(r, s->x, L->attn_norm, n, c->d, s->h);
        TRY(tc_engine_show_f32(e, TC_TAP_ATTN_NORM, il, pos0, n, s->h, err));
        TRY(bitlinear_input(r, il, TC_TAP_ATTN_NORM_Q8, s->h, pos0, n, c->d, err));
        linear(r, L->wq, L->wq_scale, n, s->h, integer, s->q);
        linear(r, L->wk, L->wk_scale, n, s->h, integer, s->k);
        linear(r, L->wv, L->wv_scale, n, s->h, integer, s->v);
        TRY(tc_engine_show_f32(e, TC_TAP_Q, il, pos0, n, s->q, err));
        TRY(tc_engine_show_f32(e, TC_TAP_K, il, pos0, n, s->k, err));
        TRY(tc_engine_show_f32(e, TC_TAP_V, il, pos0, n, s->v, err));

        /* q, k = rope_neox(q, p), rope_neox(k, p); k, v into the cache */
        rope_rows(r, s->q, n, c->n_head, pos0);
        rope_rows(r, s->k, n, c->n_head_kv, pos0);
        TRY(tc_engine_show_f32(e, TC_TAP_Q_ROPE, il, pos0, n, s->q, err));
        TRY(tc_engine_show_f32(e, TC_TAP_K_ROPE, il, pos0, n, s->k, err));
        memcpy(kc, s->k, (size_t)n * c->d_kv * sizeof(float));
        memcpy(vc, s->v, (size_t)n * c->d_kv * sizeof(float));

        /* a = causal_gqa_attention(q, K[0..p], V[0..p]) */
        attention_rows(r, l, n, pos0);
        TRY(tc_engine_show_f32(e, TC_TAP_ATTN, il, pos0, n, s->att, err));

        /* a = rmsnorm(a) (.) attn_sub_norm;  x = x + bitlinear(Wo, a) */
        rmsnorm_rows(r, s->att, L->attn_sub_norm, n, c->d, s->h);
        TRY(tc_engine_show_f32(e, TC_TAP_ATTN_SUB_NORM, il, pos0, n, s->h, err));
        TRY(bitlinear_input(r, il, TC_TAP_ATTN_SUB_NORM_Q8, s->h, pos0, n, c->d, err));
        linear(r, L->wo, L->wo_scale, n, s->h, integer, s->proj);
        TRY(tc_engine_show_f32(e, TC_TAP_ATTN_OUT, il, pos0, n, s->proj, err));
        add_rows(r, s->x, s->proj, n);
        TRY(tc_engine_show_f32(e, TC_TAP_ATTN_RESID, il, pos0, n, s->x, err));

        /* h = rmsnorm(x) (.) ffn_norm;  f = act(bitlinear(Wgate, h)) (.) bitlinear(Wup, h) */
        rmsnorm_rows(r, s->x, L->ffn_norm, n, c->d, s->h);
        TRY(tc_engine_show_f32(e, TC_TAP_FFN_NORM, il, pos0, n, s->h, err));
        TRY(bitlinear_input(r, il, TC_TAP_FFN_NORM_Q8, s->h, pos0, n, c->d, err));
        linear(r, L->w_gate, L->w_gate_scale, n, s->h, integer, s->gate);
        linear(r, L->w_up, L->w_up_scale, n, s->h, integer, s->up);
        TRY(tc_engine_show_f32(e, TC_TAP_FFN_GATE, il, pos0, n, s->gate, err));
        TRY(tc_engine_show_f32(e, TC_TAP_FFN_UP, il, pos0, n, s->up, err));
        ffn_act_rows(r, n);
        TRY(tc_engine_show_f32(e, TC_TAP_FFN_ACT, il, pos0, n, s->act, err));

        /* f = rmsnorm(f) (.) ffn_sub_norm;  x = x + bitlinear(Wdown, f) */
        rmsnorm_rows(r, s->act, L->ffn_sub_norm, n, c->n_ff, s->h);
        TRY(tc_engine_show_f32(e, TC_TAP_FFN_SUB_NORM, il, pos0, n, s->h, err));
        TRY(bitlinear_input(r, il, TC_TAP_FFN_SUB_NORM_Q8, s->h, pos0, n, c->n_ff, err));
        linear(r, L->w_down, L->w_down_scale, n, s->h, integer, s->proj);
        TRY(tc_engine_show_f32(e, TC_TAP_FFN_DOWN, il, pos0, n, s->proj, err));
        add_rows(r, s->x, s->proj, n);
        TRY(tc_engine_show_f32(e, TC_TAP_OUT, il, pos0, n, s->x, err));
    }

    /* logits = lm_head . (rmsnorm(x) (.) output_norm); without taps only
     * the last row is needed */
    rmsnorm_rows(r, s->x, r->w.output_norm, n, c->d, s->h);
    TRY(tc_engine_show_f32(e, TC_TAP_OUTPUT_NORM, -1, pos0, n, s->h, err));
    const uint32_t first = tapping ? 0 : n - 1;
    /* the head is a float matvec in every precision; in q8k an F16 head
     * multiplies F16-rounded activations, as llama.cpp converts the input
     * of an F16 matmul to F16 */
    const float *head_in = s->h + (size_t)first * c->d;
    if (c->prec == TC_PRECISION_Q8K && r->w.lm_head->type == TC_TYPE_F16) {
        tc_engine_count(e, K_ROUND_F16);
        tc_ref_round_f16(head_in, (size_t)(n - first) * c->d, s->head_in);
        head_in = s->head_in;
    }
    linear(r, r->w.lm_head, NULL, n - first, head_in, false, s->logits);
    TRY(tc_engine_show_f32(e, TC_TAP_LOGITS, -1, pos0, n, s->logits, err));
    memcpy(e->logits, s->logits + (size_t)(n - 1 - first) * c->n_vocab, (size_t)c->n_vocab * sizeof(float));
    return TC_OK;
}

/* ---- open / free ---- */

static void ref_free(void *impl)
{
    ref_engine *r = impl;
    if (!r) return;
    ref_state *s = &r->s;
    void *p[] = { s->x, s->h, s->q8, s->q8_scale, s->q8k_d, s->head_in, s->q, s->k, s->v, s->att, s->proj,
                  s->gate, s->up, s->act, s->logits, s->scores, s->row_scratch, s->key_cache, s->value_cache, r->w.layers,
                  r->w.f16_table };
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
    free(r);
}

static const tc_engine_vtable ref_vtable = { .name = "ref", .forward = forward, .free_impl = ref_free };

/* data of an optional F32 {1} multiplier, or NULL */
static const float *opt_scale(const tc_weight *w) { return w->t ? (const float *)w->data : NULL; }

/* In precision i2s every linear weight must be I2_S (the activation
 * quantization of SPEC 2.2 is defined against its ternary codes and one
 * scale per tensor); in q8k, TQ1_0 or TQ2_0 (Q8_K blocks meet their
 * blocks of 256). */
static tc_status check_linear(const tc_engine_config *c, const tc_weight *w, const char *path, tc_err *err)
{
    if (c->prec == TC_PRECISION_I2S && w->type != TC_TYPE_I2_S)
        return tc_fail(err, TC_E_UNSUPPORTED, "%s: tensor '%s' is %s: precision i2s needs I2_S linear weights "
                       "(quantize the model, or use precision fp32)", path, w->t->name, tc_type_name(w->type));
    if (c->prec == TC_PRECISION_Q8K && w->type != TC_TYPE_TQ1_0 && w->type != TC_TYPE_TQ2_0)
        return tc_fail(err, TC_E_UNSUPPORTED, "%s: tensor '%s' is %s: precision q8k needs TQ1_0 or TQ2_0 linear "
                       "weights (quantize --type tq2_0, or use precision fp32)", path, w->t->name,
                       tc_type_name(w->type));
    return TC_OK;
}

/* Bind layer l's weights and check they suit the precision. */
static tc_status bind_layer(ref_engine *r, const tc_layer *src, ref_layer *L, tc_err *err)
{
    const char *path = r->base->model->gguf->path;
    *L = (ref_layer){
        .attn_norm = src->attn_norm.data, .wq = &src->attn_q, .wk = &src->attn_k, .wv = &src->attn_v,
        .attn_sub_norm = src->attn_sub_norm.data, .wo = &src->attn_output, .ffn_norm = src->ffn_norm.data,
        .w_gate = &src->ffn_gate, .w_up = &src->ffn_up, .ffn_sub_norm = src->ffn_sub_norm.data,
        .w_down = &src->ffn_down,
        .wq_scale = opt_scale(&src->attn_q_scale), .wk_scale = opt_scale(&src->attn_k_scale),
        .wv_scale = opt_scale(&src->attn_v_scale), .wo_scale = opt_scale(&src->attn_output_scale),
        .w_gate_scale = opt_scale(&src->ffn_gate_scale), .w_up_scale = opt_scale(&src->ffn_up_scale),
        .w_down_scale = opt_scale(&src->ffn_down_scale),
    };
    const tc_weight *lin[] = { L->wq, L->wk, L->wv, L->wo, L->w_gate, L->w_up, L->w_down };
    tc_status st;
    for (size_t i = 0; i < sizeof lin / sizeof lin[0]; i++)
        if ((st = check_linear(r->c, lin[i], path, err))) return st;
    return TC_OK;
}

tc_status tc_ref_engine_open(const tc_model *m, const tc_engine_opts *o, tc_engine **out, tc_err *err)
{
    tc_engine *e;
    ref_engine *r = calloc(1, sizeof *r);
    tc_status st = tc_engine_new(&ref_vtable, r, m, o, kernel_names, K_COUNT, &e, err);
    *out = NULL;
    if (st) return st;
    r->base = e;

    r->c = &e->cfg;
    const tc_hparams *hp = &m->hp;

    /* weights: pointers into the mapping, checked against the precision */
    r->w.token_embd = &m->token_embd;
    r->w.lm_head = tc_model_lm_head(m);
    r->w.output_norm = m->output_norm.data;
    r->w.layers = calloc(hp->n_layer ? hp->n_layer : 1, sizeof *r->w.layers);
    r->w.f16_table = malloc(65536 * sizeof(float));
    if (!r->w.layers || !r->w.f16_table) {
        tc_engine_free(e);
        return tc_fail(err, TC_E_NOMEM, "ref: out of memory");
    }
    for (uint32_t i = 0; i < 65536; i++) r->w.f16_table[i] = tc_f16_to_f32((uint16_t)i);
    for (uint32_t l = 0; l < hp->n_layer; l++)
        if ((st = bind_layer(r, &m->layers[l], &r->w.layers[l], err))) {
            tc_engine_free(e);
            return st;
        }

    /* run state: the KV cache is calloc'd, so its pages cost memory only
     * once a position is written */
    const tc_engine_config *c = r->c;
    const size_t wide = c->d > c->n_ff ? c->d : c->n_ff;
    const size_t cache = (size_t)c->n_layer * c->n_ctx * c->d_kv;
    r->s.key_cache = calloc(cache, sizeof(float));
    r->s.value_cache = calloc(cache, sizeof(float));
    r->s.scores = malloc((size_t)c->n_ctx * sizeof(double));
    r->s.row_scratch = malloc((size_t)(c->n_threads < 64 ? c->n_threads : 64) * wide * sizeof(float));
    if (!r->s.key_cache || !r->s.value_cache || !r->s.scores || !r->s.row_scratch) {
        tc_engine_free(e);
        return tc_fail(err, TC_E_NOMEM, "ref: out of memory for a KV cache of %" PRIu32 " positions", c->n_ctx);
    }
    *out = e;
    return TC_OK;
}

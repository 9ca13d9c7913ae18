/* engine.c -- the fast CPU engine: the forward pass of SPEC 2.1 in the
 * I2_S precision (2.2), with the kernels of one ISA table (kernels.h)
 * chosen at open, a thread pool created at open, and static partitioning
 * of every kernel's rows (or tokens, or heads) across the threads.
 *
 * Weights (bind_weights): where Linux offers huge pages, every weight a
 * decoded token streams (the I2_S codes, in the table's layout if it names
 * one, and the LM head) is copied once, at open, into one arena in huge
 * pages; otherwise the codes are read where they lie in the mapped file,
 * and only a table's layout or a tensor holding the unused code 3 is
 * copied.  Every copy writes code 3 as code 1 (both read as 0), so the
 * kernels may compute sum (c - 1) q.  The KV cache (ensure_kv) grows with
 * the positions used, in huge pages where offered.
 *
 * Determinism: every output element is computed by exactly one thread with
 * an order of operations that depends only on its own index, so outputs
 * are bit-identical for any thread count and run.
 *
 * Fusions: RMSNorm + int8 quantization is one kernel.  While a tap
 * callback is installed, the float norm output is formed in addition (the
 * table's plain rmsnorm, the same arithmetic) and shown before the codes;
 * when the callback replaced it, the codes are quantized again from the
 * replaced values (SPEC 3.1), so isolated comparison isolates every
 * segment.  Without a callback nothing of this runs.  Q, K and V (and
 * gate, up) share one dispatch over their concatenated rows.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/host.h"
#include "engine/engine_impl.h"
#include "engine/q8.h"
#include "fast/cpu/gemm_blocked.h"
#include "fast/cpu/dispatch.h"
#include "fast/cpu/fast_engine.h"
#include "fast/cpu/pool.h"

/* ---- kernels this engine counts (SPEC 3.2) ---- */

enum {
    K_EMBED, K_RMSNORM_Q8, K_RMSNORM, K_I2S_GEMV, K_I2S_GEMM, K_F16_GEMV, K_F16_GEMM,
    K_FLOAT_HEAD, K_ROPE, K_ATTENTION, K_ACT, K_ADD, K_QUANTIZE, K_COUNT
};

/* ---- config, weights, state ---- */

/* One I2_S linear {K, rows}. */
typedef struct fast_linear {
    const uint8_t *codes;  /* [rows][K/4] packed codes, no code 3 */
    uint32_t K, rows;
    float m;               /* per-tensor scale */
    const float *mul;      /* optional F32 {1} output multiplier, or NULL */
} fast_linear;

typedef struct fast_layer {
    const float *attn_norm, *attn_sub_norm, *ffn_norm, *ffn_sub_norm;   /* F32 {d} / {n_ff} */
    fast_linear wq, wk, wv, wo, w_gate, w_up, w_down;
} fast_layer;

typedef struct fast_state {
    uint32_t cap, cap_logits;   /* rows the batch / logits buffers hold */
    float *x;          /* [cap][d] residual stream */
    int8_t *q8;        /* [cap][max(d, n_ff)] codes of the current bitlinear input */
    float *q8_scale;   /* [cap] per-token s */
    int32_t *qsum;     /* [cap] sum of each row of q8 */
    float *q, *k, *v;  /* [cap][d], [cap][d_kv], [cap][d_kv] */
    float *att;        /* [cap][d] */
    float *proj;       /* [cap][d] output of Wo / Wdown */
    float *gate, *up, *act;   /* [cap][n_ff] */
    float *hnorm;      /* [cap][d] output_norm */
    float *htap;       /* [cap_tap][max(d, n_ff)] a fused norm's float output, while tapping */
    float *hsnap;      /* [cap_tap][max(d, n_ff)] its copy, to see what the callback changed */
    uint32_t cap_tap;  /* rows htap and hsnap hold */
    int32_t *acc;      /* [cap][max(d + 2 d_kv, 2 n_ff)] integer sums */
    float *logits;     /* [cap_logits][n_vocab] */
    double *rope_cs;   /* [cap][head_dim/2][2] cos, sin of the batch positions */
    float *scores;     /* [n_threads][n_ctx] */
    float *head_row;   /* [n_threads][d] a decoded LM-head row (non-F16 heads) */
    float *kcache, *vcache;   /* [n_layer][n_head_kv][kv_cap][head_dim] (ensure_kv) */
    uint32_t kv_cap;          /* positions each KV head's plane holds */
} fast_state;

typedef struct fast_engine {
    const tc_engine_config *c;   /* the interface's (engine_impl.h) */
    const tc_fast_kernels *kt;
    const char *kname[K_COUNT];
    fast_layer *layers;       /* [n_layer] */
    const tc_weight *embd, *head;
    const float *output_norm;
    double *inv_freq;         /* [head_dim/2] base^(-2i/hd), computed as the reference does */
    uint8_t *arena;           /* the weights the engine holds itself (bind_weights) */
    size_t arena_used;
    bool copy_weights;        /* every streamed weight copied to huge pages */
    tc_weight head_copy;      /* the head, when copied */
    fast_state s;
    tc_pool *pool;
    tc_engine *base;
    char name[4200];          /* "fast:avx2", or "plugin:PATH" */
    tc_engine_vtable vt;
    void (*release)(void *);  /* frees owner (a plug-in holding kt) with the engine, or NULL */
    void *owner;
} fast_engine;

/* [lo, hi) of n items for thread tid of nt */
static inline void split(size_t n, int tid, int nt, size_t *lo, size_t *hi)
{
    *lo = n * (size_t)tid / (size_t)nt;
    *hi = n * (size_t)(tid + 1) / (size_t)nt;
}

/* ---- parallel jobs ----
 * The big jobs (linear, attention, LM head) hand out chunks through
 * tc_pool_claim; the cheap element-wise ones split statically. */

/* prefill rows per claimed chunk (one GEMM row block) and LM-head rows
 * per chunk (32 rows of 2560 F16 = 160 KiB) */
#define TC_LINEAR_ROWS_PREFILL TC_GEMM_ROWS
#define TC_HEAD_ROWS 32

/* rmsnorm + quantize each row of src [n][width] into s->q8 */
typedef struct norm_job {
    fast_engine *f;
    const float *src, *w;
    uint32_t n, width;
} norm_job;

static void norm_q8_run(void *arg, int tid, int nt)
{
    norm_job *j = arg;
    fast_state *s = &j->f->s;
    size_t lo, hi;
    split(j->n, tid, nt, &lo, &hi);
    for (size_t t = lo; t < hi; t++)
        s->q8_scale[t] = j->f->kt->rmsnorm_q8(j->src + t * j->width, j->w, j->width, j->f->c->eps,
                                              s->q8 + t * j->width, &s->qsum[t]);
}

/* Y_i = bitlinear(W_i, q8) for up to three weights sharing one input: the
 * threads split the concatenated rows. */
typedef struct linear_job {
    fast_engine *f;
    const fast_linear *w[3];
    float *y[3];       /* [n][rows_i] */
    int n_w;
    uint32_t n;
} linear_job;

/* rows [lo, hi) of the concatenated weights */
static void linear_rows(const linear_job *j, size_t lo, size_t hi)
{
    fast_engine *f = j->f;
    fast_state *s = &f->s;
    size_t base = 0;
    for (int i = 0; i < j->n_w; i++) {
        const fast_linear *w = j->w[i];
        const size_t rows = w->rows;
        int32_t *acc = s->acc + base * j->n;   /* [n][rows] */
        if (hi > base && lo < base + rows) {   /* the part of weight i: rows [a, b) */
            const size_t a = lo > base ? lo - base : 0, b = hi - base < rows ? hi - base : rows;
            if (j->n == 1) f->kt->i2s_gemv(w->codes, w->K, a, b, s->q8, s->qsum, acc);
            else f->kt->i2s_gemm(w->codes, w->K, a, b, s->q8, s->qsum, j->n, acc, rows);
            for (size_t t = 0; t < j->n; t++)
                f->kt->i2s_scale(acc + t * rows + a, b - a, s->q8_scale[t], w->m, w->mul, j->y[i] + t * rows + a);
        }
        base += rows;
    }
}

/* rows of one decode chunk: ~192 KiB of codes, a multiple of 32.  The
 * GEMVs stream two halves of what they are given in lockstep, and the
 * i2s-x16 layout holds rows in groups of 16: 32 rows make two whole
 * groups, where 16 left a 3-group chunk of K = 6912 one stream for its
 * last group.  Each chunk restarts the streams: 192 KiB chunks measured
 * faster than 96 KiB ones (doc/perf.md v13). */
#define TC_DECODE_CHUNK_BYTES ((size_t)192 << 10)
#define TC_DECODE_CHUNK_ROWS 32

static size_t decode_chunk_rows(const linear_job *j)
{
    const size_t rows = TC_DECODE_CHUNK_BYTES / (j->w[0]->K / 4) / TC_DECODE_CHUNK_ROWS * TC_DECODE_CHUNK_ROWS;
    return rows < TC_DECODE_CHUNK_ROWS ? TC_DECODE_CHUNK_ROWS : rows;
}

/* Decode: each thread streams its own part of the rows in order and then
 * steals chunks from the back of the other's (tc_pool_take); prefill
 * claims GEMM row blocks, so a slower core takes fewer of them. */
static void linear_run(void *arg, int tid, int nt)
{
    linear_job *j = arg;
    size_t total = 0, lo;
    (void)nt;
    for (int i = 0; i < j->n_w; i++) total += j->w[i]->rows;
    if (j->n == 1) {
        const size_t ch = decode_chunk_rows(j);
        for (size_t ci; (ci = tc_pool_take(j->f->pool, tid)) != SIZE_MAX;) {
            lo = ci * ch;
            linear_rows(j, lo, lo + ch < total ? lo + ch : total);
        }
        return;
    }
    const size_t n_chunks = (total + TC_LINEAR_ROWS_PREFILL - 1) / TC_LINEAR_ROWS_PREFILL;
    for (size_t ci; (ci = tc_pool_claim(j->f->pool)) < n_chunks;) {
        lo = ci * TC_LINEAR_ROWS_PREFILL;
        linear_rows(j, lo, lo + TC_LINEAR_ROWS_PREFILL < total ? lo + TC_LINEAR_ROWS_PREFILL : total);
    }
}

/* causal GQA attention: items (token, head) split across threads */
typedef struct attn_job {
    fast_engine *f;
    uint32_t layer, n, pos0;
} attn_job;

static void attn_run(void *arg, int tid, int nt)
{
    attn_job *j = arg;
    fast_engine *f = j->f;
    const tc_engine_config *c = f->c;
    fast_state *s = &f->s;
    const size_t plane = (size_t)s->kv_cap * c->head_dim;   /* one KV head of one layer */
    const uint32_t group = c->n_head / c->n_head_kv;
    (void)nt;
    /* prefill: one (token, head) per claim, as a causal row's cost grows
     * with its position (a static split would leave the first thread
     * idle).  Decode: the heads in each thread's own range, then stolen
     * ones (tc_pool_run_split), so that the query heads of one KV head
     * mostly meet on one core and its keys and values are read from
     * memory once (claimed in turn, both cores read nearly every KV head:
     * -0.3 ms a token at 160 positions, doc/perf.md v13). */
    const size_t n_items = (size_t)j->n * c->n_head;
    for (size_t it; (it = j->n == 1 ? tc_pool_take(f->pool, tid) : tc_pool_claim(f->pool)) < n_items;) {
        const uint32_t t = (uint32_t)(it / c->n_head), h = (uint32_t)(it % c->n_head);
        const size_t kv = ((size_t)j->layer * c->n_head_kv + h / group) * plane;
        f->kt->attention_head(s->q + (size_t)t * c->d + (size_t)h * c->head_dim, s->kcache + kv, s->vcache + kv,
                              (size_t)j->pos0 + t + 1, c->head_dim, s->scores + (size_t)tid * c->n_ctx,
                              s->att + (size_t)t * c->d + (size_t)h * c->head_dim);
    }
}

/* logits rows [0, n_vocab) for n tokens of hnorm starting at row `first` */
typedef struct head_job {
    fast_engine *f;
    uint32_t first, n;
    float *out;   /* [n][n_vocab] */
} head_job;

/* logits rows [lo, hi) */
static void head_rows(const head_job *j, int tid, size_t lo, size_t hi)
{
    fast_engine *f = j->f;
    const tc_engine_config *c = f->c;
    fast_state *s = &f->s;
    const float *x = s->hnorm + (size_t)j->first * c->d;
    if (f->head->type == TC_TYPE_F16) {
        f->kt->f16_gemm(f->head->data, c->d, lo, hi, x, j->n, j->out, c->n_vocab);
        return;
    }
    float *row = s->head_row + (size_t)tid * c->d;   /* F32 / BF16: one decoded row at a time */
    for (size_t r = lo; r < hi; r++) {
        tc_weight_row(f->head, r, row);
        for (size_t t = 0; t < j->n; t++) {
            const float *xt = x + t * c->d;
            float acc[8] = { 0 };
            for (size_t i = 0; i < c->d; i += 8)   /* d % 128 == 0 */
                for (size_t l = 0; l < 8; l++) acc[l] += row[i + l] * xt[i + l];
            j->out[t * c->n_vocab + r] =
                ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        }
    }
}

/* As the linears: decode takes own-then-stolen chunks, several tokens
 * claim them; chunks of TC_HEAD_ROWS rows. */
static void head_run(void *arg, int tid, int nt)
{
    head_job *j = arg;
    const size_t n_vocab = j->f->c->n_vocab;
    size_t lo;
    (void)nt;
    if (j->n == 1) {
        for (size_t ci; (ci = tc_pool_take(j->f->pool, tid)) != SIZE_MAX;) {
            lo = ci * TC_HEAD_ROWS;
            head_rows(j, tid, lo, lo + TC_HEAD_ROWS < n_vocab ? lo + TC_HEAD_ROWS : n_vocab);
        }
        return;
    }
    for (size_t ci; (ci = tc_pool_claim(j->f->pool)) < (n_vocab + TC_HEAD_ROWS - 1) / TC_HEAD_ROWS;) {
        lo = ci * TC_HEAD_ROWS;
        head_rows(j, tid, lo, lo + TC_HEAD_ROWS < n_vocab ? lo + TC_HEAD_ROWS : n_vocab);
    }
}

/* act = act(gate) (.) up over elements split across threads; the
 * reference's arithmetic (relu2: the square rounded to float) */
typedef struct act_job {
    fast_engine *f;
    size_t n_el;
} act_job;

static void act_run(void *arg, int tid, int nt)
{
    act_job *j = arg;
    fast_state *s = &j->f->s;
    size_t lo, hi;
    split(j->n_el, tid, nt, &lo, &hi);
    if (j->f->c->act == TC_ACT_RELU2) {
        j->f->kt->relu2_mul(s->gate + lo, s->up + lo, hi - lo, s->act + lo);
    } else {
        for (size_t i = lo; i < hi; i++) {
            float a = (float)((double)s->gate[i] / (1.0 + exp(-(double)s->gate[i])));
            s->act[i] = a * s->up[i];
        }
    }
}

/* ---- taps ---- */

/* The fused norm's output: q8 codes and scales.  A callback may replace
 * them, so the per-token code sums are taken again afterwards. */
static tc_status tap_q8(fast_engine *f, tc_tap_id id, int layer, uint32_t pos0, uint32_t n, uint32_t width,
                        tc_err *err)
{
    if (!tc_engine_tapping(f->base)) return TC_OK;
    tc_status st = tc_engine_show_q8(f->base, id, layer, pos0, n, f->s.q8, f->s.q8_scale, err);
    for (uint32_t t = 0; t < n; t++) f->s.qsum[t] = tc_fast_q8_sum(f->s.q8 + (size_t)t * width, width);
    return st;
}

/* ---- batch steps (run on the calling thread, fan out through the pool) ---- */

static void norm_q8(fast_engine *f, const float *src, const float *w, uint32_t n, uint32_t width)
{
    norm_job j = { f, src, w, n, width };
    tc_engine_count(f->base, K_RMSNORM_Q8);
    if (n == 1) norm_q8_run(&j, 0, 1);   /* one row: not worth a handoff */
    else tc_pool_run(f->pool, norm_q8_run, &j);
}

/* Every scratch buffer starts on a 64-byte line: the kernels' 32-byte
 * loads of q8 rows, head rows and KV rows then never straddle two lines
 * (malloc's 16-byte alignment split every other load: -13 to -17 % in the
 * I2_S GEMM, doc/perf.md v6). */
static void *line_alloc(size_t bytes)
{
    return aligned_alloc(64, (bytes + 63) / 64 * 64);
}

/* The buffers of a fused norm's float tap, for n rows (only ever while
 * tapping). */
static tc_status ensure_tap(fast_engine *f, uint32_t n, tc_err *err)
{
    fast_state *s = &f->s;
    if (n <= s->cap_tap) return TC_OK;
    const size_t wide = f->c->d > f->c->n_ff ? f->c->d : f->c->n_ff;
    free(s->htap);
    free(s->hsnap);
    s->htap = line_alloc((size_t)n * wide * sizeof(float));
    s->hsnap = line_alloc((size_t)n * wide * sizeof(float));
    s->cap_tap = s->htap && s->hsnap ? n : 0;
    if (!s->cap_tap) return tc_fail(err, TC_E_NOMEM, "fast: out of memory for the taps of %" PRIu32 " tokens", n);
    return TC_OK;
}

/* The bitlinear input: codes of rmsnorm(src) (.) w by the fused kernel.
 * While tapping, also the float norm tap id (formed, shown, and when the
 * callback replaced it the codes quantized again from it), then its .q8
 * tap. */
static tc_status norm_input(fast_engine *f, tc_tap_id id, int layer, uint32_t pos0, const float *src,
                            const float *w, uint32_t n, uint32_t width, tc_err *err)
{
    fast_state *s = &f->s;
    tc_status st;
    norm_q8(f, src, w, n, width);
    if (!tc_engine_tapping(f->base)) return TC_OK;
    if ((st = ensure_tap(f, n, err))) return st;
    const size_t bytes = (size_t)n * width * sizeof(float);
    tc_engine_count(f->base, K_RMSNORM);
    for (uint32_t t = 0; t < n; t++)
        f->kt->rmsnorm(src + (size_t)t * width, w, width, f->c->eps, s->htap + (size_t)t * width);
    memcpy(s->hsnap, s->htap, bytes);
    if ((st = tc_engine_show_f32(f->base, id, layer, pos0, n, s->htap, err))) return st;
    if (memcmp(s->hsnap, s->htap, bytes)) {
        tc_engine_count(f->base, K_QUANTIZE);
        for (uint32_t t = 0; t < n; t++)
            s->q8_scale[t] = tc_q8_quantize(s->htap + (size_t)t * width, width, s->q8 + (size_t)t * width);
    }
    return tap_q8(f, tc_tap_q8_of(id), layer, pos0, n, width, err);   /* also takes the code sums again */
}

static void linear(fast_engine *f, uint32_t n, int n_w, const fast_linear *w0, float *y0, const fast_linear *w1,
                   float *y1, const fast_linear *w2, float *y2)
{
    linear_job j = { .f = f, .w = { w0, w1, w2 }, .y = { y0, y1, y2 }, .n_w = n_w, .n = n };
    for (int i = 0; i < n_w; i++) tc_engine_count(f->base, n == 1 ? K_I2S_GEMV : K_I2S_GEMM);
    if (n == 1) {
        size_t total = 0;
        for (int i = 0; i < n_w; i++) total += j.w[i]->rows;
        const size_t ch = decode_chunk_rows(&j);
        tc_pool_run_split(f->pool, linear_run, &j, (total + ch - 1) / ch);
    } else {
        tc_pool_run(f->pool, linear_run, &j);
    }
}

/* NEOX RoPE from the batch's table: (a, b) <- (a cos - b sin, a sin + b cos) in double */
static void rope(fast_engine *f, float *v, uint32_t n, uint32_t n_heads)
{
    const uint32_t hd = f->c->head_dim, half = hd / 2;
    tc_engine_count(f->base, K_ROPE);
    for (uint32_t t = 0; t < n; t++) {
        const double *cs = f->s.rope_cs + (size_t)t * half * 2;
        for (uint32_t h = 0; h < n_heads; h++) {
            float *p = v + ((size_t)t * n_heads + h) * hd;
            for (uint32_t i = 0; i < half; i++) {
                const double a = p[i], b = p[i + half], c = cs[2 * i], s = cs[2 * i + 1];
                p[i] = (float)(a * c - b * s);
                p[i + half] = (float)(a * s + b * c);
            }
        }
    }
}

/* the batch's cos/sin: theta = pos * base^(-2i/hd), as the reference computes it */
static void rope_table(fast_engine *f, uint32_t n, uint32_t pos0)
{
    const uint32_t half = f->c->head_dim / 2;
    for (uint32_t t = 0; t < n; t++)
        for (uint32_t i = 0; i < half; i++) {
            const double theta = (double)(pos0 + t) * f->inv_freq[i];
            f->s.rope_cs[((size_t)t * half + i) * 2] = cos(theta);
            f->s.rope_cs[((size_t)t * half + i) * 2 + 1] = sin(theta);
        }
}

/* k, v rows of the batch into the cache [layer][kv head][pos][hd] */
static void cache_store(fast_engine *f, uint32_t l, uint32_t n, uint32_t pos0)
{
    const tc_engine_config *c = f->c;
    for (uint32_t t = 0; t < n; t++)
        for (uint32_t h = 0; h < c->n_head_kv; h++) {
            const size_t dst = (((size_t)l * c->n_head_kv + h) * f->s.kv_cap + pos0 + t) * c->head_dim;
            const size_t src = (size_t)t * c->d_kv + (size_t)h * c->head_dim;
            memcpy(f->s.kcache + dst, f->s.k + src, c->head_dim * sizeof(float));
            memcpy(f->s.vcache + dst, f->s.v + src, c->head_dim * sizeof(float));
        }
}

static void add_rows(fast_engine *f, float *x, const float *y, uint32_t n)
{
    tc_engine_count(f->base, K_ADD);
    f->kt->add(x, y, (size_t)n * f->c->d);
}

/* The KV cache holds kv_cap positions of each KV head, contiguous as the
 * attention kernel reads them, and grows by doubling (from
 * TC_KV_FIRST_CAP up to n_ctx) when a batch needs more: its memory
 * follows the positions used, at most twice them, and it lives in huge
 * pages where the kernel offers them (tc_alloc_streamed).  In 4 KiB
 * pages every decoded token walked the page tables of ~12000 pages and
 * restarted the hardware prefetcher at each: 2.2 against 2.7-2.9 ms of
 * attention a token at 160 positions, and ~1 ms of the linears' and the
 * head's time as well (doc/perf.md v14).  The positions before pos0 are
 * copied; a position is always written before it is read. */
#define TC_KV_FIRST_CAP 256u

static tc_status ensure_kv(fast_engine *f, uint32_t need, uint32_t pos0, tc_err *err)
{
    fast_state *s = &f->s;
    const tc_engine_config *c = f->c;
    if (need <= s->kv_cap) return TC_OK;
    uint32_t cap = s->kv_cap ? s->kv_cap : TC_KV_FIRST_CAP;
    while (cap < need) cap = cap > c->n_ctx / 2 ? c->n_ctx : cap * 2;
    if (cap > c->n_ctx) cap = c->n_ctx;
    const size_t planes = (size_t)c->n_layer * c->n_head_kv, row = (size_t)c->head_dim * sizeof(float);
    float *k = tc_alloc_streamed(planes * cap * row), *v = tc_alloc_streamed(planes * cap * row);
    if (!k || !v) {
        free(k);
        free(v);
        return tc_fail(err, TC_E_NOMEM, "fast: out of memory for a KV cache of %" PRIu32 " positions", cap);
    }
    const size_t keep = pos0 < s->kv_cap ? pos0 : s->kv_cap;
    for (size_t i = 0; keep && i < planes; i++) {
        memcpy((char *)k + i * cap * row, (const char *)s->kcache + i * s->kv_cap * row, keep * row);
        memcpy((char *)v + i * cap * row, (const char *)s->vcache + i * s->kv_cap * row, keep * row);
    }
    free(s->kcache);
    free(s->vcache);
    s->kcache = k;
    s->vcache = v;
    s->kv_cap = cap;
    return TC_OK;
}

/* Grow the batch buffers to n rows and the logits to n_logits rows (the
 * only allocation after open; decode after a prefill never grows). */
static tc_status ensure_batch(fast_engine *f, uint32_t n, uint32_t n_logits, tc_err *err)
{
    fast_state *s = &f->s;
    const tc_engine_config *c = f->c;
    const size_t wide = c->d > c->n_ff ? c->d : c->n_ff;
    const size_t acc_w = (size_t)c->d + 2 * (size_t)c->d_kv > 2 * (size_t)c->n_ff ? (size_t)c->d + 2 * (size_t)c->d_kv
                                                                                   : 2 * (size_t)c->n_ff;
    if (n > s->cap) {
        void *p[] = { s->x, s->q8, s->q8_scale, s->qsum, s->q, s->k, s->v, s->att, s->proj, s->gate, s->up,
                      s->act, s->hnorm, s->acc, s->rope_cs };
        for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
        s->x = line_alloc((size_t)n * c->d * sizeof(float));
        s->q8 = line_alloc((size_t)n * wide);
        s->q8_scale = line_alloc((size_t)n * sizeof(float));
        s->qsum = line_alloc((size_t)n * sizeof(int32_t));
        s->q = line_alloc((size_t)n * c->d * sizeof(float));
        s->k = line_alloc((size_t)n * c->d_kv * sizeof(float));
        s->v = line_alloc((size_t)n * c->d_kv * sizeof(float));
        s->att = line_alloc((size_t)n * c->d * sizeof(float));
        s->proj = line_alloc((size_t)n * c->d * sizeof(float));
        s->gate = line_alloc((size_t)n * c->n_ff * sizeof(float));
        s->up = line_alloc((size_t)n * c->n_ff * sizeof(float));
        s->act = line_alloc((size_t)n * c->n_ff * sizeof(float));
        s->hnorm = line_alloc((size_t)n * c->d * sizeof(float));
        s->acc = line_alloc((size_t)n * acc_w * sizeof(int32_t));
        s->rope_cs = line_alloc((size_t)n * c->head_dim * sizeof(double));
        s->cap = n;
        if (!s->x || !s->q8 || !s->q8_scale || !s->qsum || !s->q || !s->k || !s->v || !s->att || !s->proj ||
            !s->gate || !s->up || !s->act || !s->hnorm || !s->acc || !s->rope_cs) {
            s->cap = 0;
            return tc_fail(err, TC_E_NOMEM, "fast: out of memory for a batch of %" PRIu32 " tokens", n);
        }
    }
    if (n_logits > s->cap_logits) {
        free(s->logits);
        s->logits = line_alloc((size_t)n_logits * c->n_vocab * sizeof(float));
        s->cap_logits = s->logits ? n_logits : 0;
        if (!s->logits) return tc_fail(err, TC_E_NOMEM, "fast: out of memory for %" PRIu32 " rows of logits", n_logits);
    }
    return TC_OK;
}

/* ---- the forward pass (SPEC 2.1) ---- */

#define TRY(call) do { if ((st = (call)) != TC_OK) return st; } while (0)

static tc_status forward(tc_engine *e, const int32_t *tokens, uint32_t n, uint32_t pos0, tc_err *err)
{
    fast_engine *f = e->impl;
    const tc_engine_config *c = f->c;
    fast_state *s = &f->s;
    const bool tapping = tc_engine_tapping(e);
    tc_status st;
    TRY(ensure_batch(f, n, tapping ? n : 1, err));
    TRY(ensure_kv(f, pos0 + n, pos0, err));

    /* x = token_embd[tok] */
    tc_engine_count(e, K_EMBED);
    for (uint32_t t = 0; t < n; t++) tc_weight_row(f->embd, (uint64_t)tokens[t], s->x + (size_t)t * c->d);
    TRY(tc_engine_show_f32(e, TC_TAP_INP_EMBD, -1, pos0, n, s->x, err));
    rope_table(f, n, pos0);

    for (uint32_t l = 0; l < c->n_layer; l++) {
        const fast_layer *L = &f->layers[l];
        const int il = (int)l;

        /* q, k, v = bitlinear(W, rmsnorm(x) (.) attn_norm) */
        TRY(norm_input(f, TC_TAP_ATTN_NORM, il, pos0, s->x, L->attn_norm, n, c->d, err));
        linear(f, n, 3, &L->wq, s->q, &L->wk, s->k, &L->wv, s->v);
        TRY(tc_engine_show_f32(e, TC_TAP_Q, il, pos0, n, s->q, err));
        TRY(tc_engine_show_f32(e, TC_TAP_K, il, pos0, n, s->k, err));
        TRY(tc_engine_show_f32(e, TC_TAP_V, il, pos0, n, s->v, err));

        /* rope, then k, v into the cache */
        rope(f, s->q, n, c->n_head);
        rope(f, s->k, n, c->n_head_kv);
        TRY(tc_engine_show_f32(e, TC_TAP_Q_ROPE, il, pos0, n, s->q, err));
        TRY(tc_engine_show_f32(e, TC_TAP_K_ROPE, il, pos0, n, s->k, err));
        cache_store(f, l, n, pos0);

        /* a = causal_gqa_attention(q, K, V) */
        attn_job aj = { f, l, n, pos0 };
        tc_engine_count(e, K_ATTENTION);
        if (n == 1) tc_pool_run_split(f->pool, attn_run, &aj, c->n_head);
        else tc_pool_run(f->pool, attn_run, &aj);
        TRY(tc_engine_show_f32(e, TC_TAP_ATTN, il, pos0, n, s->att, err));

        /* x = x + bitlinear(Wo, rmsnorm(a) (.) attn_sub_norm) */
        TRY(norm_input(f, TC_TAP_ATTN_SUB_NORM, il, pos0, s->att, L->attn_sub_norm, n, c->d, err));
        linear(f, n, 1, &L->wo, s->proj, NULL, NULL, NULL, NULL);
        TRY(tc_engine_show_f32(e, TC_TAP_ATTN_OUT, il, pos0, n, s->proj, err));
        add_rows(f, s->x, s->proj, n);
        TRY(tc_engine_show_f32(e, TC_TAP_ATTN_RESID, il, pos0, n, s->x, err));

        /* f = act(bitlinear(Wgate, h)) (.) bitlinear(Wup, h), h = rmsnorm(x) (.) ffn_norm */
        TRY(norm_input(f, TC_TAP_FFN_NORM, il, pos0, s->x, L->ffn_norm, n, c->d, err));
        linear(f, n, 2, &L->w_gate, s->gate, &L->w_up, s->up, NULL, NULL);
        TRY(tc_engine_show_f32(e, TC_TAP_FFN_GATE, il, pos0, n, s->gate, err));
        TRY(tc_engine_show_f32(e, TC_TAP_FFN_UP, il, pos0, n, s->up, err));
        act_job xj = { f, (size_t)n * c->n_ff };
        tc_engine_count(e, K_ACT);
        if (n == 1) act_run(&xj, 0, 1);
        else tc_pool_run(f->pool, act_run, &xj);
        TRY(tc_engine_show_f32(e, TC_TAP_FFN_ACT, il, pos0, n, s->act, err));

        /* x = x + bitlinear(Wdown, rmsnorm(f) (.) ffn_sub_norm) */
        TRY(norm_input(f, TC_TAP_FFN_SUB_NORM, il, pos0, s->act, L->ffn_sub_norm, n, c->n_ff, err));
        linear(f, n, 1, &L->w_down, s->proj, NULL, NULL, NULL, NULL);
        TRY(tc_engine_show_f32(e, TC_TAP_FFN_DOWN, il, pos0, n, s->proj, err));
        add_rows(f, s->x, s->proj, n);
        TRY(tc_engine_show_f32(e, TC_TAP_OUT, il, pos0, n, s->x, err));
    }

    /* logits = head . (rmsnorm(x) (.) output_norm); without taps only the last row */
    const uint32_t first = tapping ? 0 : n - 1;
    tc_engine_count(e, K_RMSNORM);
    for (uint32_t t = first; t < n; t++)
        f->kt->rmsnorm(s->x + (size_t)t * c->d, f->output_norm, c->d, c->eps, s->hnorm + (size_t)t * c->d);
    TRY(tc_engine_show_f32(e, TC_TAP_OUTPUT_NORM, -1, pos0, n, s->hnorm, err));
    /* untapped, one row: straight into the engine's logits, without a
     * 0.5 MB copy a token (a tap shows, and may replace, s->logits) */
    head_job hj = { f, first, n - first, tapping ? s->logits : e->logits };
    tc_engine_count(e, f->head->type != TC_TYPE_F16 ? K_FLOAT_HEAD : n - first == 1 ? K_F16_GEMV : K_F16_GEMM);
    if (hj.n == 1) tc_pool_run_split(f->pool, head_run, &hj, (c->n_vocab + TC_HEAD_ROWS - 1) / TC_HEAD_ROWS);
    else tc_pool_run(f->pool, head_run, &hj);
    TRY(tc_engine_show_f32(e, TC_TAP_LOGITS, -1, pos0, n, s->logits, err));
    if (hj.out != e->logits)
        memcpy(e->logits, s->logits + (size_t)(n - 1 - first) * c->n_vocab, (size_t)c->n_vocab * sizeof(float));
    return TC_OK;
}

/* ---- open / free ---- */

static void fast_free(void *impl)
{
    fast_engine *f = impl;
    if (!f) return;
    tc_pool_free(f->pool);
    fast_state *s = &f->s;
    void *p[] = { s->x, s->q8, s->q8_scale, s->qsum, s->q, s->k, s->v, s->att, s->proj, s->gate, s->up, s->act,
                  s->hnorm, s->acc, s->logits, s->rope_cs, s->scores, s->head_row, f->layers, f->inv_freq,
                  s->htap, s->hsnap };
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
    free(s->kcache);
    free(s->vcache);
    free(f->arena);
    if (f->release) f->release(f->owner);
    free(f);
}

/* The weights the engine holds itself live in one arena, allocated at
 * open for data streamed every token (tc_alloc_streamed: huge pages where
 * the kernel offers them).  arena_take carves n bytes, 64-byte aligned,
 * from what bind_weights sized it for. */
static uint8_t *arena_take(fast_engine *f, size_t n)
{
    uint8_t *p = f->arena + f->arena_used;
    f->arena_used += (n + 63) / 64 * 64;
    return p;
}

/* The seven linears of a layer, their output multipliers and where the
 * engine binds them, in one order. */
enum { N_LINEARS = 7 };

static void layer_linears(const tc_layer *src, fast_layer *L, const tc_weight *w[N_LINEARS],
                          const tc_weight *mul[N_LINEARS], fast_linear *dst[N_LINEARS])
{
    const tc_weight *ws[N_LINEARS] = { &src->attn_q, &src->attn_k, &src->attn_v, &src->attn_output,
                                       &src->ffn_gate, &src->ffn_up, &src->ffn_down };
    const tc_weight *ms[N_LINEARS] = { &src->attn_q_scale, &src->attn_k_scale, &src->attn_v_scale,
                                       &src->attn_output_scale, &src->ffn_gate_scale, &src->ffn_up_scale,
                                       &src->ffn_down_scale };
    fast_linear *ds[N_LINEARS] = { &L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down };
    for (int i = 0; i < N_LINEARS; i++) {
        w[i] = ws[i];
        mul[i] = ms[i];
        dst[i] = ds[i];
    }
}

/* The arena bytes linear w takes (I2_S, checked): the table's layout; a
 * sanitized copy where code 3 occurs; a plain copy where the weights go to
 * huge pages; else none (the codes are read in the mapping). */
static size_t linear_own_bytes(const fast_engine *f, const tc_weight *w)
{
    const size_t nbytes = (size_t)(w->ne0 * w->ne1 / 4);
    if (f->kt->repack) return f->kt->layout_bytes((size_t)w->ne0, (size_t)w->ne1);
    return f->copy_weights || tc_fast_i2s_has_code3(w->data, nbytes) ? nbytes : 0;
}

static tc_status check_linear(const fast_engine *f, const tc_weight *w, tc_err *err)
{
    if (w->type == TC_TYPE_I2_S) return TC_OK;
    return tc_fail(err, TC_E_UNSUPPORTED, "%s: tensor '%s' is %s: the fast engine needs I2_S linear weights "
                   "(quantize the model)", f->base->model->gguf->path, w->t->name, tc_type_name(w->type));
}

/* Bind one linear (checked, its arena bytes reserved): a table that names
 * a layout gets the codes rewritten into it (from sanitized codes: the
 * layouts assume no code 3); otherwise the codes are copied with code 3
 * written as 1 (the copy of a tensor without code 3 is exact). */
static tc_status bind_linear(fast_engine *f, const tc_weight *w, const tc_weight *mul, fast_linear *out, tc_err *err)
{
    const size_t nbytes = (size_t)(w->ne0 * w->ne1 / 4);
    const tc_fast_kernels *kt = f->kt;
    *out = (fast_linear){ .codes = w->data, .K = (uint32_t)w->ne0, .rows = (uint32_t)w->ne1, .m = w->scale,
                          .mul = mul->t ? (const float *)mul->data : NULL };
    const size_t own = linear_own_bytes(f, w);
    if (!own) return TC_OK;
    uint8_t *dst = arena_take(f, own);
    if (!kt->repack) {
        tc_fast_i2s_sanitize(w->data, nbytes, dst);   /* a copy, code 3 written as 1 */
    } else {
        uint8_t *clean = NULL;
        if (tc_fast_i2s_has_code3(w->data, nbytes)) {
            if (!(clean = malloc(nbytes))) return tc_fail(err, TC_E_NOMEM, "fast: out of memory copying '%s'", w->t->name);
            tc_fast_i2s_sanitize(w->data, nbytes, clean);
        }
        kt->repack(clean ? clean : out->codes, out->K, out->rows, dst);
        free(clean);
    }
    out->codes = dst;
    return TC_OK;
}

/* "scalar" / "avx2" / "amx" / "neon_dotprod" ...: from the argument, else TC_ISA, else the best */
static tc_status pick_isa(const char *isa, const tc_fast_kernels **out, tc_err *err)
{
    const char *env = getenv("TC_ISA");
    if (!isa || !*isa) isa = env && *env ? env : NULL;
    if (!isa) {
        *out = tc_fast_kernels_for(NULL);
        return TC_OK;
    }
    const tc_fast_kernels *k = tc_fast_kernels_for(isa);
    if (!k) return tc_fail(err, TC_E_USAGE, "fast: unknown ISA '%s' (expected " TC_FAST_ISA_NAMES ")", isa);
    if (!tc_fast_isa_supported(isa))
        return tc_fail(err, TC_E_UNSUPPORTED, "fast: this CPU cannot run the %s kernels (%s)", isa,
                       tc_fast_isa_needs(isa));
    *out = k;
    return TC_OK;
}

tc_status tc_fast_engine_open(const tc_model *m, const tc_engine_opts *o, const char *isa, tc_engine **out,
                              tc_err *err)
{
    const tc_fast_kernels *kt = NULL;
    *out = NULL;
    tc_status st = pick_isa(isa, &kt, err);
    return st ? st : tc_fast_engine_open_table(m, o, kt, NULL, NULL, out, err);
}

/* The counter names: the table's for its kernels, fixed ones for the
 * steps every table shares. */
static void name_kernels(fast_engine *f, const tc_fast_kernels *kt, tc_act act)
{
    f->kname[K_EMBED] = "fast.cpu.scalar.embed";
    f->kname[K_RMSNORM_Q8] = kt->rmsnorm_q8_name;
    f->kname[K_RMSNORM] = kt->rmsnorm_name;
    f->kname[K_I2S_GEMV] = kt->i2s_gemv_name;
    f->kname[K_I2S_GEMM] = kt->i2s_gemm_name;
    f->kname[K_F16_GEMV] = kt->f16_gemv_name;
    f->kname[K_F16_GEMM] = kt->f16_gemm_name;
    f->kname[K_FLOAT_HEAD] = "fast.cpu.scalar.float_head_gemm";
    f->kname[K_ROPE] = "fast.cpu.scalar.rope_table";
    f->kname[K_ATTENTION] = kt->attention_name;
    f->kname[K_ACT] = act == TC_ACT_RELU2 ? kt->relu2_mul_name : "fast.cpu.scalar.silu_mul";
    f->kname[K_ADD] = kt->add_name;
    f->kname[K_QUANTIZE] = "fast.cpu.scalar.quantize_q8";
}

/* Weights: pointers into the mapping (sanitized copies where code 3 is,
 * rewritten ones where the table names a layout), and the RoPE frequencies as the reference computes them. */
static tc_status bind_weights(fast_engine *f, const tc_model *m, tc_err *err)
{
    const tc_engine_config *c = f->c;
    tc_status st;
    f->embd = &m->token_embd;
    f->head = tc_model_lm_head(m);
    f->output_norm = m->output_norm.data;
    f->layers = calloc(c->n_layer ? c->n_layer : 1, sizeof *f->layers);
    f->inv_freq = malloc((c->head_dim / 2 + 1) * sizeof(double));
    if (!f->layers || !f->inv_freq) return tc_fail(err, TC_E_NOMEM, "fast: out of memory");
    for (uint32_t i = 0; i < c->head_dim / 2; i++)
        f->inv_freq[i] = pow(c->rope_base, -2.0 * (double)i / (double)c->head_dim);
    /* the arena: every linear's own bytes, and the head where it is copied */
    f->copy_weights = tc_huge_pages_offered();
    const tc_weight *w[N_LINEARS], *mul[N_LINEARS];
    fast_linear *dst[N_LINEARS];
    size_t bytes = f->copy_weights ? (f->head->t->nbytes + 63) / 64 * 64 : 0;
    for (uint32_t l = 0; l < c->n_layer; l++) {
        layer_linears(&m->layers[l], &f->layers[l], w, mul, dst);
        for (int i = 0; i < N_LINEARS; i++) {
            if ((st = check_linear(f, w[i], err))) return st;
            bytes += (linear_own_bytes(f, w[i]) + 63) / 64 * 64;
        }
    }
    if (bytes && !(f->arena = tc_alloc_streamed(bytes)))
        return tc_fail(err, TC_E_NOMEM, "fast: out of memory for %zu bytes of weights", bytes);
    for (uint32_t l = 0; l < c->n_layer; l++) {
        const tc_layer *src = &m->layers[l];
        fast_layer *L = &f->layers[l];
        L->attn_norm = src->attn_norm.data;
        L->attn_sub_norm = src->attn_sub_norm.data;
        L->ffn_norm = src->ffn_norm.data;
        L->ffn_sub_norm = src->ffn_sub_norm.data;
        layer_linears(src, L, w, mul, dst);
        for (int i = 0; i < N_LINEARS; i++)
            if ((st = bind_linear(f, w[i], mul[i], dst[i], err))) return st;
    }
    if (f->copy_weights) {   /* the head: the largest weight a token streams */
        f->head_copy = *f->head;
        uint8_t *d = arena_take(f, f->head->t->nbytes);
        memcpy(d, f->head->data, f->head->t->nbytes);
        f->head_copy.data = d;
        f->head = &f->head_copy;
    }
    return TC_OK;
}

/* State: the KV cache comes with the first batch (ensure_kv). */
static tc_status alloc_state(fast_engine *f, tc_err *err)
{
    const tc_engine_config *c = f->c;
    f->s.scores = line_alloc((size_t)c->n_threads * c->n_ctx * sizeof(float));
    f->s.head_row = line_alloc((size_t)c->n_threads * c->d * sizeof(float));
    f->pool = tc_pool_new(c->n_threads);
    if (!f->s.scores || !f->s.head_row || !f->pool)
        return tc_fail(err, TC_E_NOMEM, "fast: out of memory (or threads) for %d threads and a context of %" PRIu32,
                       c->n_threads, c->n_ctx);
    return ensure_batch(f, 1, 1, err);
}

tc_status tc_fast_engine_open_table(const tc_model *m, const tc_engine_opts *o, const tc_fast_kernels *kt,
                                    void (*release)(void *), void *owner, tc_engine **out, tc_err *err)
{
    tc_status st;
    tc_engine_opts def;
    *out = NULL;
    if (!o) {
        tc_engine_opts_default(&def);
        o = &def;
    }
    if (o->precision != TC_PRECISION_I2S) {
        if (release) release(owner);
        return tc_fail(err, TC_E_UNSUPPORTED, "fast: precision %s is not implemented (the ref engine runs it)",
                       tc_precision_name(o->precision));
    }
    tc_engine *e;
    fast_engine *f = calloc(1, sizeof *f);
    if (!f) {
        if (release) release(owner);
        return tc_fail(err, TC_E_NOMEM, "fast: out of memory");
    }
    f->kt = kt;
    f->release = release;   /* from here on, fast_free releases the owner */
    f->owner = owner;
    /* "fast:avx2"; a plug-in's table names itself ("plugin:PATH") */
    snprintf(f->name, sizeof f->name, strncmp(kt->isa, "plugin:", 7) ? "fast:%s" : "%s", kt->isa);
    f->vt = (tc_engine_vtable){ .name = f->name, .forward = forward, .free_impl = fast_free,
                                .weight_layout = kt->layout };
    name_kernels(f, kt, m->hp.act);
    if ((st = tc_engine_new(&f->vt, f, m, o, f->kname, K_COUNT, &e, err))) return st;
    f->base = e;
    f->c = &e->cfg;
    if ((st = bind_weights(f, m, err)) || (st = alloc_state(f, err))) {
        tc_engine_free(e);
        return st;
    }
    *out = e;
    return TC_OK;
}

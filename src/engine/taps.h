/* taps.h -- the canonical taps of SPEC 3.1: one table that every engine,
 * the comparator, accuracy and the dump code use.  A tap is a named
 * intermediate tensor of the forward pass; per-layer taps are named
 * "blk.N.<name>", the others "<name>".  No tap name is spelled anywhere
 * else in src/.
 */
#ifndef TC_ENGINE_TAPS_H
#define TC_ENGINE_TAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/model.h"

/* Every canonical tap, in the order a forward pass shows them (SPEC 2.1). */
typedef enum tc_tap_id {
    TC_TAP_INP_EMBD,            /* x = token_embd[tok] */
    TC_TAP_ATTN_NORM,           /* rmsnorm(x) (.) attn_norm */
    TC_TAP_ATTN_NORM_Q8,        /* ... quantized: the input of q, k, v */
    TC_TAP_Q,
    TC_TAP_K,
    TC_TAP_V,
    TC_TAP_Q_ROPE,
    TC_TAP_K_ROPE,
    TC_TAP_ATTN,                /* causal GQA attention */
    TC_TAP_ATTN_SUB_NORM,
    TC_TAP_ATTN_SUB_NORM_Q8,    /* the input of attn_output */
    TC_TAP_ATTN_OUT,
    TC_TAP_ATTN_RESID,          /* x + attn_out */
    TC_TAP_FFN_NORM,
    TC_TAP_FFN_NORM_Q8,         /* the input of ffn_gate, ffn_up */
    TC_TAP_FFN_GATE,
    TC_TAP_FFN_UP,
    TC_TAP_FFN_ACT,             /* act(gate) (.) up */
    TC_TAP_FFN_SUB_NORM,
    TC_TAP_FFN_SUB_NORM_Q8,     /* the input of ffn_down */
    TC_TAP_FFN_DOWN,
    TC_TAP_OUT,                 /* the block's output: x + ffn_down */
    TC_TAP_OUTPUT_NORM,
    TC_TAP_LOGITS,
    TC_TAP_COUNT
} tc_tap_id;

/* What a tap holds. */
typedef enum tc_tap_kind {
    TC_TAP_F32,   /* float rows: f[n_pos][width] */
    TC_TAP_Q8     /* int8 activation codes q8[n_pos][width], one scale per row */
} tc_tap_kind;

/* The width of a tap's rows, in the model's dimensions. */
typedef enum tc_tap_width {
    TC_WIDTH_D,       /* n_embd */
    TC_WIDTH_D_KV,    /* n_head_kv * head_dim */
    TC_WIDTH_FF,      /* n_ff */
    TC_WIDTH_VOCAB    /* n_vocab */
} tc_tap_width;

/* One row of the table. */
typedef struct tc_tap_def {
    tc_tap_id id;
    const char *name;       /* "attn_norm.q8"; "blk.N." in front when per_layer */
    bool per_layer;
    tc_tap_kind kind;
    tc_tap_width width;
    int quantizes;          /* a .q8 tap: the id of the float tap whose values it
                             * quantizes (SPEC 2.2); -1 for every other tap */
} tc_tap_def;

/* The row of tap id (id < TC_TAP_COUNT). */
const tc_tap_def *tc_tap_def_of(tc_tap_id id);

/* The name of tap id of `layer` ("blk.3.ffn_gate"; layer is ignored for a
 * model-wide tap) into buf. */
void tc_tap_format(tc_tap_id id, int layer, char *buf, size_t n);

/* A canonical name's id and layer (-1 for a model-wide tap); false when
 * name is not a canonical tap name. */
bool tc_tap_parse(const char *name, tc_tap_id *id, int *layer);

/* Elements per row of tap id for a model of these hyper-parameters. */
uint32_t tc_tap_width_of(tc_tap_id id, const tc_hparams *hp);

/* The name of the float tap that the .q8 tap q8_name quantizes, into buf;
 * false when q8_name is not a canonical .q8 tap. */
bool tc_tap_q8_source(const char *q8_name, char *buf, size_t n);

/* The .q8 tap that quantizes float tap id, or TC_TAP_COUNT when none does. */
tc_tap_id tc_tap_q8_of(tc_tap_id id);

/* Whether a tap exists in this precision: the .q8 taps only in i2s
 * (a precision-free caller passes with_q8). */
bool tc_tap_shown(tc_tap_id id, bool with_q8);

/* The number of canonical taps a forward pass shows for n_layer blocks. */
size_t tc_tap_count(uint32_t n_layer, bool with_q8);

#endif

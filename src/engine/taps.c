/* taps.c -- the canonical tap table (taps.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/taps.h"

#define Q8(src) (int)(src)
static const tc_tap_def table[TC_TAP_COUNT] = {
    { TC_TAP_INP_EMBD, "inp_embd", false, TC_TAP_F32, TC_WIDTH_D, -1 },
    { TC_TAP_ATTN_NORM, "attn_norm", true, TC_TAP_F32, TC_WIDTH_D, -1 },
    { TC_TAP_ATTN_NORM_Q8, "attn_norm.q8", true, TC_TAP_Q8, TC_WIDTH_D, Q8(TC_TAP_ATTN_NORM) },
    { TC_TAP_Q, "q", true, TC_TAP_F32, TC_WIDTH_D, -1 },
    { TC_TAP_K, "k", true, TC_TAP_F32, TC_WIDTH_D_KV, -1 },
    { TC_TAP_V, "v", true, TC_TAP_F32, TC_WIDTH_D_KV, -1 },
    { TC_TAP_Q_ROPE, "q_rope", true, TC_TAP_F32, TC_WIDTH_D, -1 },
    { TC_TAP_K_ROPE, "k_rope", true, TC_TAP_F32, TC_WIDTH_D_KV, -1 },
    { TC_TAP_ATTN, "attn", true, TC_TAP_F32, TC_WIDTH_D, -1 },
    { TC_TAP_ATTN_SUB_NORM, "attn_sub_norm", true, TC_TAP_F32, TC_WIDTH_D, -1 },
    { TC_TAP_ATTN_SUB_NORM_Q8, "attn_sub_norm.q8", true, TC_TAP_Q8, TC_WIDTH_D, Q8(TC_TAP_ATTN_SUB_NORM) },
    { TC_TAP_ATTN_OUT, "attn_out", true, TC_TAP_F32, TC_WIDTH_D, -1 },
    { TC_TAP_ATTN_RESID, "attn_resid", true, TC_TAP_F32, TC_WIDTH_D, -1 },
    { TC_TAP_FFN_NORM, "ffn_norm", true, TC_TAP_F32, TC_WIDTH_D, -1 },
    { TC_TAP_FFN_NORM_Q8, "ffn_norm.q8", true, TC_TAP_Q8, TC_WIDTH_D, Q8(TC_TAP_FFN_NORM) },
    { TC_TAP_FFN_GATE, "ffn_gate", true, TC_TAP_F32, TC_WIDTH_FF, -1 },
    { TC_TAP_FFN_UP, "ffn_up", true, TC_TAP_F32, TC_WIDTH_FF, -1 },
    { TC_TAP_FFN_ACT, "ffn_act", true, TC_TAP_F32, TC_WIDTH_FF, -1 },
    { TC_TAP_FFN_SUB_NORM, "ffn_sub_norm", true, TC_TAP_F32, TC_WIDTH_FF, -1 },
    { TC_TAP_FFN_SUB_NORM_Q8, "ffn_sub_norm.q8", true, TC_TAP_Q8, TC_WIDTH_FF, Q8(TC_TAP_FFN_SUB_NORM) },
    { TC_TAP_FFN_DOWN, "ffn_down", true, TC_TAP_F32, TC_WIDTH_D, -1 },
    { TC_TAP_OUT, "out", true, TC_TAP_F32, TC_WIDTH_D, -1 },
    { TC_TAP_OUTPUT_NORM, "output_norm", false, TC_TAP_F32, TC_WIDTH_D, -1 },
    { TC_TAP_LOGITS, "logits", false, TC_TAP_F32, TC_WIDTH_VOCAB, -1 },
};
#undef Q8

const tc_tap_def *tc_tap_def_of(tc_tap_id id)
{
    return &table[id];
}

void tc_tap_format(tc_tap_id id, int layer, char *buf, size_t n)
{
    if (table[id].per_layer) snprintf(buf, n, "blk.%d.%s", layer, table[id].name);
    else snprintf(buf, n, "%s", table[id].name);
}

bool tc_tap_parse(const char *name, tc_tap_id *id, int *layer)
{
    const char *rest = name;
    int l = -1;
    if (!strncmp(name, "blk.", 4)) {
        /* "blk.N." with N a decimal without sign or leading zeros */
        const char *p = name + 4;
        if (*p < '0' || *p > '9' || (*p == '0' && p[1] != '.')) return false;
        char *end;
        long v = strtol(p, &end, 10);
        if (*end != '.' || v > 1000000) return false;
        l = (int)v;
        rest = end + 1;
    }
    for (int i = 0; i < TC_TAP_COUNT; i++)
        if (table[i].per_layer == (l >= 0) && !strcmp(table[i].name, rest)) {
            *id = (tc_tap_id)i;
            *layer = l;
            return true;
        }
    return false;
}

uint32_t tc_tap_width_of(tc_tap_id id, const tc_hparams *hp)
{
    switch (table[id].width) {
    case TC_WIDTH_D: return hp->n_embd;
    case TC_WIDTH_D_KV: return hp->n_head_kv * hp->head_dim;
    case TC_WIDTH_FF: return hp->n_ff;
    default: return hp->n_vocab;
    }
}

bool tc_tap_q8_source(const char *q8_name, char *buf, size_t n)
{
    tc_tap_id id;
    int layer;
    if (!tc_tap_parse(q8_name, &id, &layer) || table[id].quantizes < 0) return false;
    tc_tap_format((tc_tap_id)table[id].quantizes, layer, buf, n);
    return true;
}

tc_tap_id tc_tap_q8_of(tc_tap_id id)
{
    for (int i = 0; i < TC_TAP_COUNT; i++)
        if (table[i].quantizes == (int)id) return (tc_tap_id)i;
    return TC_TAP_COUNT;
}

bool tc_tap_shown(tc_tap_id id, bool with_q8)
{
    return with_q8 || table[id].kind != TC_TAP_Q8;
}

size_t tc_tap_count(uint32_t n_layer, bool with_q8)
{
    size_t per_layer = 0, global = 0;
    for (int i = 0; i < TC_TAP_COUNT; i++) {
        if (!tc_tap_shown((tc_tap_id)i, with_q8)) continue;
        if (table[i].per_layer) per_layer++;
        else global++;
    }
    return global + (size_t)n_layer * per_layer;
}

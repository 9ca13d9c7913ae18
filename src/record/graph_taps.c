/* graph_taps.c -- graph tensor names to canonical taps (graph_taps.h).
 * The names were read from the graph builders of bitnet.cpp's fork
 * (40ed0f29, build_bitnet_158) and mainline llama.cpp (c392e509,
 * build_bitnet), and checked against what their eval callback shows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record/graph_taps.h"

/* One rule: graph name (without "-<layer>"), the op when it matters
 * (NULL: any; "!ROPE": any but ROPE), and the tap. */
typedef struct rule {
    const char *name;
    const char *op;
    tc_tap_id tap;
} rule;

struct tc_graph_table {
    const char *arch;
    const rule *rules;
    size_t n;
};

/* The part both graphs share: llm_build_inp_embd, llm_build_norm's
 * callers, the projections, llm_build_kv ("kqv_out"), the residuals. */
#define SHARED_RULES \
    { "inp_embd", NULL, TC_TAP_INP_EMBD }, \
    { "attn_norm", NULL, TC_TAP_ATTN_NORM }, \
    { "Qcur", "!ROPE", TC_TAP_Q }, \
    { "Kcur", "!ROPE", TC_TAP_K }, \
    { "Vcur", NULL, TC_TAP_V }, \
    { "Qcur", "ROPE", TC_TAP_Q_ROPE }, \
    { "Kcur", "ROPE", TC_TAP_K_ROPE }, \
    { "kqv_out", NULL, TC_TAP_ATTN }, \
    { "attn_sub_norm", NULL, TC_TAP_ATTN_SUB_NORM }, \
    { "attn_o_out", NULL, TC_TAP_ATTN_OUT }, \
    { "ffn_inp", NULL, TC_TAP_ATTN_RESID }, \
    { "ffn_norm", NULL, TC_TAP_FFN_NORM }, \
    { "ffn_gate", NULL, TC_TAP_FFN_GATE }, \
    { "ffn_gate_s", NULL, TC_TAP_FFN_GATE },   /* after a per-projection scale: wins, it comes later */ \
    { "ffn_up", NULL, TC_TAP_FFN_UP }, \
    { "ffn_up_s", NULL, TC_TAP_FFN_UP }, \
    { "ffn_gate_par", NULL, TC_TAP_FFN_ACT },  /* act(gate) * up, where no later name replaced it */ \
    { "ffn_sub_norm", NULL, TC_TAP_FFN_SUB_NORM }, \
    { "ffn_down", NULL, TC_TAP_FFN_DOWN }, \
    { "l_out", NULL, TC_TAP_OUT }, \
    { "result_norm", NULL, TC_TAP_OUTPUT_NORM }, \
    { "result_output", NULL, TC_TAP_LOGITS }

/* bitnet.cpp's build_bitnet_158 renames act(gate) * up "ffn_out" */
static const rule bitnet_b158[] = { SHARED_RULES, { "ffn_out", NULL, TC_TAP_FFN_ACT } };
/* mainline's (and the fork's) build_bitnet renames it "ffn_sub_out" */
static const rule bitnet[] = { SHARED_RULES, { "ffn_sub_out", NULL, TC_TAP_FFN_ACT } };

static const tc_graph_table tables[] = {
    { "bitnet-b1.58", bitnet_b158, sizeof bitnet_b158 / sizeof bitnet_b158[0] },
    { "bitnet-25", bitnet_b158, sizeof bitnet_b158 / sizeof bitnet_b158[0] },
    { "bitnet", bitnet, sizeof bitnet / sizeof bitnet[0] },
};

const tc_graph_table *tc_graph_table_for(const char *arch)
{
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        if (!strcmp(tables[i].arch, arch)) return &tables[i];
    return NULL;
}

/* "<base>-<digits>": the base's length and the layer; -1 without one */
static size_t split_layer(const char *name, int *layer)
{
    const char *dash = strrchr(name, '-');
    *layer = -1;
    if (!dash || !dash[1] || strspn(dash + 1, "0123456789") != strlen(dash + 1) || strlen(dash + 1) > 6)
        return strlen(name);
    *layer = atoi(dash + 1);
    return (size_t)(dash - name);
}

static bool op_matches(const char *want, const char *op)
{
    if (!want) return true;
    if (want[0] == '!') return strcmp(want + 1, op) != 0;
    return !strcmp(want, op);
}

bool tc_graph_tap(const tc_graph_table *t, const char *name, const char *op, tc_tap_id *id, int *layer)
{
    int l;
    size_t len = split_layer(name, &l);
    for (size_t i = 0; i < t->n; i++) {
        const rule *r = &t->rules[i];
        if (strlen(r->name) != len || strncmp(r->name, name, len) || !op_matches(r->op, op)) continue;
        if (tc_tap_def_of(r->tap)->per_layer != (l >= 0)) return false;
        *id = r->tap;
        *layer = l;
        return true;
    }
    return false;
}

void tc_graph_names_of(const tc_graph_table *t, tc_tap_id id, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < t->n && used < n; i++) {
        const rule *r = &t->rules[i];
        if (r->tap != id) continue;
        used += (size_t)snprintf(buf + used, n - used, "%s\"%s\"%s%s%s", used ? " or " : "", r->name,
                                 r->op ? " (op " : "", r->op ? r->op : "", r->op ? ")" : "");
    }
}

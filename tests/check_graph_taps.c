/* check_graph_taps.c -- graph tensor names to canonical taps
 * (src/record/graph_taps.c): every tap of both tables, the two "Qcur"
 * told apart by their op, layers parsed, and what must stay unmapped. */
#include <check.h>
#include <string.h>

#include "record/graph_taps.h"
#include "testutil.h"

/* name, op, expected tap ("" for unmapped), layer */
typedef struct want {
    const char *name, *op, *tap;
} want;

static void expect(const tc_graph_table *t, const want *w)
{
    tc_tap_id id;
    int layer;
    bool mapped = tc_graph_tap(t, w->name, w->op, &id, &layer);
    if (!w->tap[0]) {
        ck_assert_msg(!mapped, "%s (%s) should be unmapped", w->name, w->op);
        return;
    }
    ck_assert_msg(mapped, "%s (%s) should map to %s", w->name, w->op, w->tap);
    char got[64];
    tc_tap_format(id, layer, got, sizeof got);
    ck_assert_str_eq(got, w->tap);
}

/* What bitnet.cpp's build_bitnet_158 and mainline's build_bitnet name
 * their tensors, layer 7 (and a model-wide one). */
static const want shared[] = {
    { "inp_embd", "GET_ROWS", "inp_embd" },
    { "attn_norm-7", "MUL", "blk.7.attn_norm" },
    { "Qcur-7", "MUL_MAT", "blk.7.q" },
    { "Qcur-7", "MUL", "blk.7.q" },              /* after a wq_scale */
    { "Kcur-7", "MUL_MAT", "blk.7.k" },
    { "Vcur-7", "MUL_MAT", "blk.7.v" },
    { "Qcur-7", "ROPE", "blk.7.q_rope" },
    { "Kcur-7", "ROPE", "blk.7.k_rope" },
    { "kqv_out-7", "CONT", "blk.7.attn" },
    { "attn_sub_norm-7", "MUL", "blk.7.attn_sub_norm" },
    { "attn_o_out-7", "MUL_MAT", "blk.7.attn_out" },
    { "ffn_inp-7", "ADD", "blk.7.attn_resid" },
    { "ffn_norm-7", "MUL", "blk.7.ffn_norm" },
    { "ffn_gate-7", "MUL_MAT", "blk.7.ffn_gate" },
    { "ffn_up-7", "MUL_MAT", "blk.7.ffn_up" },
    { "ffn_up_s-7", "MUL", "blk.7.ffn_up" },
    { "ffn_sub_norm-7", "MUL", "blk.7.ffn_sub_norm" },
    { "ffn_down-7", "MUL_MAT", "blk.7.ffn_down" },
    { "l_out-7", "ADD", "blk.7.out" },
    { "l_out-12", "ADD", "blk.12.out" },
    { "result_norm", "MUL", "output_norm" },
    { "result_output", "MUL_MAT", "logits" },
    /* intermediates: listed as unmapped by the recorder */
    { "norm-7", "RMS_NORM", "" },
    { "kq-7", "MUL_MAT", "" },
    { "kq_soft_max_ext-7", "SOFT_MAX", "" },
    { "kqv-7", "MUL_MAT", "" },
    { "ffn_relu-7", "UNARY", "" },
    { "ffn_silu-7", "UNARY", "" },
    { "k_cache_view-7", "VIEW", "" },
    { "Qcur-7 (reshaped)", "RESHAPE", "" },
    { "cache_k_l7 (view)", "VIEW", "" },
    /* layers where they do not belong */
    { "l_out", "ADD", "" },
    { "result_norm-3", "MUL", "" },
    { "attn_norm-x", "MUL", "" },
    { "attn_norm-", "MUL", "" },
};

START_TEST(shared_names)
{
    const char *arch[] = { "bitnet-b1.58", "bitnet-25", "bitnet" };
    for (size_t a = 0; a < 3; a++) {
        const tc_graph_table *t = tc_graph_table_for(arch[a]);
        ck_assert_ptr_nonnull(t);
        for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++) expect(t, &shared[i]);
    }
}
END_TEST

/* act(gate) * up: renamed "ffn_out" by bitnet.cpp's build_bitnet_158,
 * "ffn_sub_out" by build_bitnet; each table knows only its own. */
START_TEST(ffn_act_per_architecture)
{
    const tc_graph_table *b158 = tc_graph_table_for("bitnet-b1.58"), *bn = tc_graph_table_for("bitnet");
    const want b158_w[] = { { "ffn_out-3", "MUL", "blk.3.ffn_act" }, { "ffn_sub_out-3", "MUL", "" } };
    const want bn_w[] = { { "ffn_sub_out-3", "MUL", "blk.3.ffn_act" }, { "ffn_out-3", "MUL", "" } };
    for (int i = 0; i < 2; i++) expect(b158, &b158_w[i]), expect(bn, &bn_w[i]);
    const want par = { "ffn_gate_par-3", "MUL", "blk.3.ffn_act" };
    expect(b158, &par);
    char buf[160];
    tc_graph_names_of(bn, TC_TAP_Q_ROPE, buf, sizeof buf);
    ck_assert_str_eq(buf, "\"Qcur\" (op ROPE)");
    tc_graph_names_of(bn, TC_TAP_ATTN_NORM_Q8, buf, sizeof buf);
    ck_assert_str_eq(buf, "");
}
END_TEST

/* Every float tap has a graph name in each table; no .q8 tap has one. */
START_TEST(every_float_tap_covered)
{
    const char *arch[] = { "bitnet-b1.58", "bitnet" };
    for (size_t a = 0; a < 2; a++) {
        const tc_graph_table *t = tc_graph_table_for(arch[a]);
        for (int i = 0; i < TC_TAP_COUNT; i++) {
            char buf[160];
            tc_graph_names_of(t, (tc_tap_id)i, buf, sizeof buf);
            bool q8 = tc_tap_def_of((tc_tap_id)i)->kind == TC_TAP_Q8;
            ck_assert_msg(q8 == (buf[0] == '\0'), "%s: tap %s: names '%s'", arch[a], tc_tap_def_of((tc_tap_id)i)->name, buf);
        }
    }
}
END_TEST

START_TEST(unknown_architecture)
{
    ck_assert_ptr_null(tc_graph_table_for("llama"));
    ck_assert_ptr_null(tc_graph_table_for("bitnet-b1.58 "));
    ck_assert_ptr_null(tc_graph_table_for(""));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("graph_taps");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors");
    tcase_add_test(core, shared_names);
    tcase_add_test(core, ffn_act_per_architecture);
    tcase_add_test(core, every_float_tap_covered);
    tcase_add_test(errors, unknown_architecture);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return tu_run(s);
}

/* check_model.c -- hyper-parameters and tensor binding (src/model.c):
 * the architecture variants of SPEC 1.3 and their defaults.  Malformed
 * models are provoked in check_gguf.c. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/gen.h"
#include "format/gguf.h"
#include "format/model.h"
#include "testutil.h"

/* One extra F32 tensor to add when rewriting. */
typedef struct extra { const char *name; uint64_t ne0, ne1; float value; } extra;

/* Copy a generated tiny model, dropping the keys in `drop`, overriding
 * one string key, and adding F32 tensors filled with a constant. */
static char *rewrite(const char *const *drop, const char *skey, const char *sval, const extra *ex, size_t n_ex)
{
    tc_gen_opts o;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset("tiny", &o, &err), TC_OK);
    char *src = tu_temp_path(".gguf"), *dst = tu_temp_path(".gguf");
    ck_assert_int_eq(tc_gen_write(&o, src, &err), TC_OK);
    tc_gguf *g;
    ck_assert_int_eq(tc_gguf_open(src, &g, &err), TC_OK);
    tc_gguf_writer *w = tc_gguf_writer_new(3, 32);
    for (size_t i = 0; i < g->n_kv; i++) {
        bool skip = false;
        for (const char *const *d = drop; d && *d; d++) skip |= !strcmp(*d, g->kv[i].key);
        if (skey && !strcmp(skey, g->kv[i].key)) skip = true;
        if (!skip) ck_assert_int_eq(tc_gguf_writer_add(w, g->kv[i].key, &g->kv[i].value, &err), TC_OK);
    }
    if (skey) ck_assert_int_eq(tc_gguf_writer_set_str(w, skey, sval, &err), TC_OK);
    for (size_t i = 0; i < g->n_tensors; i++)
        ck_assert_int_eq(tc_gguf_writer_add_tensor(w, g->tensors[i].name, g->tensors[i].type, g->tensors[i].n_dims,
                                                   g->tensors[i].ne, &err), TC_OK);
    for (size_t i = 0; i < n_ex; i++) {
        uint64_t ne[2] = { ex[i].ne0, ex[i].ne1 };
        ck_assert_int_eq(tc_gguf_writer_add_tensor(w, ex[i].name, TC_TYPE_F32, ex[i].ne1 > 1 ? 2 : 1, ne, &err), TC_OK);
    }
    ck_assert_int_eq(tc_gguf_writer_begin(w, dst, &err), TC_OK);
    for (size_t i = 0; i < g->n_tensors; i++)
        ck_assert_int_eq(tc_gguf_writer_write(w, g->tensors[i].data, g->tensors[i].nbytes, &err), TC_OK);
    for (size_t i = 0; i < n_ex; i++)
        for (uint64_t k = 0; k < ex[i].ne0 * ex[i].ne1; k++)
            ck_assert_int_eq(tc_gguf_writer_write(w, &ex[i].value, 4, &err), TC_OK);
    ck_assert_msg(tc_gguf_writer_finish(w, &err) == TC_OK, "%s", err.msg);
    tc_gguf_writer_free(w);
    tc_gguf_close(g);
    unlink(src);
    free(src);
    return dst;
}

static tc_model *load(const char *p)
{
    tc_model *m;
    tc_err err;
    ck_assert_msg(tc_model_load(p, &m, &err) == TC_OK, "%s", err.msg);
    return m;
}

/* ---- core ---- */

START_TEST(defaults_apply_when_keys_are_absent)
{
    static const char *const drop[] = { "bitnet-b1.58.rope.freq_base", "bitnet-b1.58.vocab_size",
                                        "bitnet-b1.58.rope.dimension_count", NULL };
    char *p = rewrite(drop, NULL, NULL, NULL, 0);
    tc_model *m = load(p);
    ck_assert_double_eq(m->hp.rope_base, 10000.0);        /* default base */
    ck_assert_uint_eq(m->hp.n_vocab, 512);                /* from tokenizer.ggml.tokens */
    tc_model_free(m);
    unlink(p);
    free(p);
}
END_TEST

START_TEST(arch_selects_activation)
{
    /* llama.cpp's bitnet: SiLU unless hidden_activation says relu2 */
    static const char *const drop[] = { "bitnet-b1.58.hidden_activation", NULL };
    char *p = rewrite(drop, "general.architecture", "bitnet", NULL, 0);
    tc_gguf *g;
    tc_err err;
    tc_model *m;
    /* the keys are still prefixed bitnet-b1.58: the model must say what is missing */
    ck_assert_int_eq(tc_gguf_open(p, &g, &err), TC_OK);
    ck_assert_int_eq(tc_model_from_gguf(g, &m, &err), TC_E_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "bitnet.embedding_length"));
    tc_gguf_close(g);
    unlink(p);
    free(p);

    tc_gen_opts o;
    ck_assert_int_eq(tc_gen_preset("tiny", &o, &err), TC_OK);
    o.arch = "bitnet-25";
    p = tu_temp_path(".gguf");
    ck_assert_int_eq(tc_gen_write(&o, p, &err), TC_OK);
    m = load(p);
    ck_assert_int_eq(m->hp.act, TC_ACT_RELU2);
    tc_model_free(m);
    unlink(p);
    free(p);
}
END_TEST

START_TEST(bitnet_arch_defaults_to_silu)
{
    tc_gen_opts o;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset("tiny", &o, &err), TC_OK);
    o.arch = "bitnet";
    char *src = tu_temp_path(".gguf");
    ck_assert_int_eq(tc_gen_write(&o, src, &err), TC_OK);
    tc_model *m = load(src);
    ck_assert_int_eq(m->hp.act, TC_ACT_RELU2);            /* gen names relu2 */
    tc_model_free(m);
    /* without the key, SiLU */
    tc_gguf *g;
    ck_assert_int_eq(tc_gguf_open(src, &g, &err), TC_OK);
    char *dst = tu_temp_path(".gguf");
    tc_gguf_writer *w = tc_gguf_writer_new(3, 32);
    for (size_t i = 0; i < g->n_kv; i++)
        if (strcmp(g->kv[i].key, "bitnet.hidden_activation"))
            ck_assert_int_eq(tc_gguf_writer_add(w, g->kv[i].key, &g->kv[i].value, &err), TC_OK);
    for (size_t i = 0; i < g->n_tensors; i++)
        ck_assert_int_eq(tc_gguf_writer_add_tensor(w, g->tensors[i].name, g->tensors[i].type, g->tensors[i].n_dims,
                                                   g->tensors[i].ne, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_begin(w, dst, &err), TC_OK);
    for (size_t i = 0; i < g->n_tensors; i++)
        ck_assert_int_eq(tc_gguf_writer_write(w, g->tensors[i].data, g->tensors[i].nbytes, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_finish(w, &err), TC_OK);
    tc_gguf_writer_free(w);
    tc_gguf_close(g);
    m = load(dst);
    ck_assert_int_eq(m->hp.act, TC_ACT_SILU);
    tc_model_free(m);
    unlink(src); unlink(dst);
    free(src); free(dst);
}
END_TEST

/* An output.weight, where present, is the LM head; .scale tensors bind. */
START_TEST(untied_head_and_scales_bind)
{
    extra ex[] = { { "output.weight", 256, 512, 2.385f }, { "blk.1.ffn_down.scale", 1, 1, 0.5f } };
    char *p = rewrite(NULL, NULL, NULL, ex, 2);
    tc_model *m = load(p);
    ck_assert_ptr_nonnull(m->output.t);
    ck_assert_ptr_eq(tc_model_lm_head(m), &m->output);
    float row[256];
    tc_weight_row(tc_model_lm_head(m), 511, row);
    ck_assert_float_eq(row[255], 2.385f);
    ck_assert_ptr_nonnull(m->layers[1].ffn_down_scale.t);
    ck_assert_ptr_null(m->layers[0].ffn_down_scale.t);
    ck_assert_float_eq(*(const float *)m->layers[1].ffn_down_scale.data, 0.5f);
    tc_model_free(m);
    unlink(p);
    free(p);
}
END_TEST

/* tc_weight_row decodes I2_S rows as code * m, one row at a time. */
START_TEST(weight_row_decodes_i2s)
{
    char *p = rewrite(NULL, NULL, NULL, NULL, 0);
    tc_model *m = load(p);
    const tc_weight *w = &m->layers[0].attn_k;
    float row[256];
    tc_weight_row(w, 77, row);
    for (int i = 0; i < 256; i++) {
        int c = tc_i2s_code_value(tc_i2s_code(w->data, 77 * 256 + (size_t)i));
        ck_assert_float_eq(row[i], (float)c * w->scale);
    }
    tc_model_free(m);
    unlink(p);
    free(p);
}
END_TEST

/* ---- errors ---- */

/* Without head_count_kv the KV width defaults to head_count heads, which
 * the tiny model's {256, 128} attn_k then contradicts. */
START_TEST(head_count_kv_defaults_to_head_count)
{
    static const char *const drop[] = { "bitnet-b1.58.attention.head_count_kv", NULL };
    char *p = rewrite(drop, NULL, NULL, NULL, 0);
    tc_model *m;
    tc_err err;
    ck_assert_int_eq(tc_model_load(p, &m, &err), TC_E_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "blk.0.attn_k.weight: expected shape {256, 256}, found {256, 128}"));
    unlink(p);
    free(p);
}
END_TEST

START_TEST(unknown_arch_is_named)
{
    char *p = rewrite(NULL, "general.architecture", "llama", NULL, 0);
    tc_model *m;
    tc_err err;
    ck_assert_int_eq(tc_model_load(p, &m, &err), TC_E_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "found 'llama'"));
    unlink(p);
    free(p);
}
END_TEST

START_TEST(scale_of_wrong_shape_is_named)
{
    extra ex[] = { { "blk.0.attn_q.scale", 2, 1, 1.0f } };
    char *p = rewrite(NULL, NULL, NULL, ex, 1);
    tc_model *m;
    tc_err err;
    ck_assert_int_eq(tc_model_load(p, &m, &err), TC_E_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "blk.0.attn_q.scale: expected shape {1}, found {2}"));
    unlink(p);
    free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors");
    tcase_add_test(core, defaults_apply_when_keys_are_absent);
    tcase_add_test(core, arch_selects_activation);
    tcase_add_test(core, bitnet_arch_defaults_to_silu);
    tcase_add_test(core, untied_head_and_scales_bind);
    tcase_add_test(core, weight_row_decodes_i2s);
    tcase_add_test(errors, head_count_kv_defaults_to_head_count);
    tcase_add_test(errors, unknown_arch_is_named);
    tcase_add_test(errors, scale_of_wrong_shape_is_named);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return tu_run(s);
}

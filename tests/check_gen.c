/* check_gen.c -- synthetic models (src/gen.c) and I2_S quantization (src/quantize.c). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/gen.h"
#include "format/gguf.h"
#include "format/model.h"
#include "tools/quantize.h"
#include "base/sha256.h"
#include "testutil.h"

/* Generate a preset (with optional tweaks) into a fresh temp path. */
static char *gen_temp(const char *preset, tc_type wt, bool latent, uint64_t seed)
{
    tc_gen_opts o;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset(preset, &o, &err), TC_OK);
    o.weight_type = wt;
    o.latent = latent;
    o.seed = seed;
    char *p = tu_temp_path(".gguf");
    ck_assert_msg(tc_gen_write(&o, p, &err) == TC_OK, "%s", err.msg);
    return p;
}

static void file_sha(const char *p, char hex[TC_SHA256_HEX])
{
    tc_err err;
    ck_assert_msg(tc_sha256_file(p, hex, &err) == TC_OK, "%s", err.msg);
}

static uint8_t *slurp(const char *p, size_t *n)
{
    return tu_read_gz(p, n);   /* zlib reads plain files too */
}

/* ---- core ---- */

START_TEST(gen_is_deterministic)
{
    char *a = gen_temp("tiny", TC_TYPE_I2_S, false, 7), *b = gen_temp("tiny", TC_TYPE_I2_S, false, 7);
    char *c = gen_temp("tiny", TC_TYPE_I2_S, false, 8);
    char ha[TC_SHA256_HEX], hb[TC_SHA256_HEX], hc[TC_SHA256_HEX];
    file_sha(a, ha);
    file_sha(b, hb);
    file_sha(c, hc);
    ck_assert_str_eq(ha, hb);
    ck_assert_str_ne(ha, hc);
    unlink(a); unlink(b); unlink(c);
    free(a); free(b); free(c);
}
END_TEST

START_TEST(gen_tiny_binds_with_official_layout)
{
    char *p = gen_temp("tiny", TC_TYPE_I2_S, false, 1);
    tc_model *m;
    tc_err err;
    ck_assert_msg(tc_model_load(p, &m, &err) == TC_OK, "%s", err.msg);
    ck_assert_str_eq(m->hp.arch, "bitnet-b1.58");
    ck_assert_uint_eq(m->hp.n_layer, 2);
    ck_assert_uint_eq(m->hp.n_embd, 256);
    ck_assert_uint_eq(m->hp.head_dim, 64);
    ck_assert_int_eq(m->hp.act, TC_ACT_RELU2);
    ck_assert_ptr_null(m->output.t);                       /* tied LM head */
    ck_assert_int_eq(m->token_embd.type, TC_TYPE_F16);
    ck_assert_int_eq(m->layers[1].ffn_down.type, TC_TYPE_I2_S);
    ck_assert_uint_eq(m->hp.file_type, 40);
    /* the vocabulary has one entry per embedding row; BOS/EOS are the
     * first two specials, at the end of the vocabulary */
    const tc_gguf_kv *tok = tc_gguf_find(m->gguf, "tokenizer.ggml.tokens");
    ck_assert_ptr_nonnull(tok);
    ck_assert_uint_eq(tok->value.v.arr.n, m->token_embd.ne1);
    uint64_t bos;
    ck_assert_int_eq(tc_gguf_get_uint(m->gguf, "tokenizer.ggml.bos_token_id", UINT32_MAX, &bos, &err), TC_OK);
    ck_assert_uint_eq(bos, m->hp.n_vocab - 256);
    const tc_gguf_value *b = &tok->value.v.arr.items[bos];
    ck_assert_int_eq((int)b->v.str.len, 17);
    ck_assert(memcmp(b->v.str.ptr, "<|begin_of_text|>", 17) == 0);
    tc_model_free(m);
    unlink(p);
    free(p);
}
END_TEST

/* Codes are uniform over {-1, 0, +1}: each fraction within 5 sigma of 1/3. */
START_TEST(gen_codes_are_balanced)
{
    char *p = gen_temp("small", TC_TYPE_I2_S, false, 3);
    tc_model *m;
    tc_err err;
    ck_assert_msg(tc_model_load(p, &m, &err) == TC_OK, "%s", err.msg);
    const tc_weight *w = &m->layers[0].ffn_up;
    size_t n = (size_t)(w->ne0 * w->ne1), count[3] = { 0 };
    for (size_t i = 0; i < n; i++) count[tc_i2s_code(w->data, i)]++;
    double sigma = sqrt(n * (1.0 / 3) * (2.0 / 3));
    for (int c = 0; c < 3; c++) ck_assert_double_le(fabs(count[c] - n / 3.0), 5 * sigma);
    /* scale as documented: u / sqrt(2K/3), u in [0.75, 1.25] */
    double unit = 1.0 / sqrt(2.0 * (double)w->ne0 / 3.0);
    ck_assert_double_ge(w->scale, 0.75 * unit);
    ck_assert_double_le(w->scale, 1.25 * unit);
    tc_model_free(m);
    unlink(p);
    free(p);
}
END_TEST

/* gen --weights f32, quantized, is byte for byte gen's own I2_S file:
 * the ternary rule is lossless and every tensor draws the same numbers. */
START_TEST(quantize_of_f32_gen_is_i2s_gen)
{
    char *f = gen_temp("tiny", TC_TYPE_F32, false, 5), *i = gen_temp("tiny", TC_TYPE_I2_S, false, 5);
    char *q = tu_temp_path(".gguf");
    tc_err err;
    ck_assert_msg(tc_quantize_file(f, q, NULL, &err) == TC_OK, "%s", err.msg);
    char hq[TC_SHA256_HEX], hi[TC_SHA256_HEX];
    file_sha(q, hq);
    file_sha(i, hi);
    ck_assert_str_eq(hq, hi);
    unlink(f); unlink(i); unlink(q);
    free(f); free(i); free(q);
}
END_TEST

/* bitnet.cpp's llama-quantize output is reproduced tensor by tensor: the
 * packed codes and the scale byte for byte (the 28 padding bytes are junk
 * in bitnet.cpp's file and are not compared), the F16 embedding exactly. */
START_TEST(quantize_matches_bitnet_cpp)
{
    char *f32 = tu_gunzip_temp(tu_vector_path("external/bitnet-cpp/tiny-bitnet-b158-f32.gguf.gz"));
    char *ref = tu_gunzip_temp(tu_vector_path("external/bitnet-cpp/tiny-bitnet-b158-i2_s.gguf.gz"));
    ck_assert_ptr_nonnull(f32);
    ck_assert_ptr_nonnull(ref);
    char *q = tu_temp_path(".gguf");
    tc_err err;
    ck_assert_msg(tc_quantize_file(f32, q, NULL, &err) == TC_OK, "%s", err.msg);
    tc_gguf *a, *b;
    ck_assert_int_eq(tc_gguf_open(q, &a, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_open(ref, &b, &err), TC_OK);
    ck_assert_uint_eq(a->n_tensors, b->n_tensors);
    int n_i2s = 0;
    for (size_t k = 0; k < b->n_tensors; k++) {
        const tc_gguf_tensor *tb = &b->tensors[k], *ta = tc_gguf_find_tensor(a, tb->name);
        ck_assert_ptr_nonnull(ta);
        ck_assert_uint_eq(ta->type, tb->type);
        size_t cmp = tb->type == TC_TYPE_I2_S ? (size_t)tb->n_elements / 4 + 4 : tb->nbytes;
        ck_assert_msg(memcmp(ta->data, tb->data, cmp) == 0, "%s differs from bitnet.cpp", tb->name);
        n_i2s += tb->type == TC_TYPE_I2_S;
    }
    ck_assert_int_eq(n_i2s, 14);
    tc_gguf_close(a);
    tc_gguf_close(b);
    unlink(f32); unlink(ref); unlink(q);
    free(f32); free(ref); free(q);
}
END_TEST

/* The latent rule on a hand-worked tensor: mean|W| = 0.5, so s = 2 and the
 * codes are round(2W) clamped: 2.385 -> 1, -0.2 -> -0.4 -> 0, 0.3 -> 0.6 -> 1,
 * -0.26 -> -0.52 -> -1, 0.25 -> 0.5 -> 0 (ties to even). */
START_TEST(quantize_latent_known_answer)
{
    float w[128] = { 2.385f, -0.2f, 0.3f, -0.26f, 0.25f };
    /* pad so that the mean |W| is exactly 0.5: the first five sum to 3.395 */
    double rest = 0.5 * 128 - 3.395;
    for (int i = 5; i < 128; i++) w[i] = (float)(rest / 123.0) * (i % 2 ? 1 : -1);
    uint8_t out[128 / 4 + 32];
    tc_qrule rule;
    float m;
    double rel;
    ck_assert_int_eq(tc_quantize_i2s(w, 128, out, &rule, &m, &rel), TC_OK);
    ck_assert_int_eq(rule, TC_QRULE_LATENT);
    ck_assert_float_eq_tol(m, 0.5f, 1e-6f);
    int8_t t[128];
    float scale = tc_i2s_unpack(out, 128, t, NULL);
    ck_assert_float_eq(scale, m);
    int8_t want[5] = { 1, 0, 1, -1, 0 };
    for (int i = 0; i < 5; i++) ck_assert_int_eq(t[i], want[i]);
    ck_assert_double_gt(rel, 0.0);
}
END_TEST

START_TEST(quantize_ternary_known_answer)
{
    float w[256];
    for (int i = 0; i < 256; i++) w[i] = (float)((i * 7) % 3 - 1) * 2.385f;
    uint8_t out[256 / 4 + 32];
    tc_qrule rule;
    float m;
    double rel;
    ck_assert_int_eq(tc_quantize_i2s(w, 256, out, &rule, &m, &rel), TC_OK);
    ck_assert_int_eq(rule, TC_QRULE_TERNARY);
    ck_assert_float_eq(m, 2.385f);
    ck_assert_double_eq(rel, 0.0);
    for (int i = 0; i < 256; i++) ck_assert_int_eq(tc_i2s_code_value(tc_i2s_code(out, i)), (i * 7) % 3 - 1);
    for (int i = 4; i < 32; i++) ck_assert_uint_eq(out[64 + i], 0);   /* padding zeroed */
}
END_TEST

/* Latent weights quantize with the documented statistics: a code is 0 when
 * |W| < m/2, about 31 % of Gaussian weights. */
START_TEST(gen_latent_quantizes_with_expected_zero_fraction)
{
    char *p = gen_temp("tiny", TC_TYPE_F32, true, 9);
    tc_model *m;
    tc_err err;
    ck_assert_msg(tc_model_load(p, &m, &err) == TC_OK, "%s", err.msg);
    const tc_weight *w = &m->layers[0].ffn_gate;
    size_t n = (size_t)(w->ne0 * w->ne1);
    uint8_t *out = malloc(n / 4 + 32);
    tc_qrule rule;
    float scale;
    double rel;
    ck_assert_int_eq(tc_quantize_i2s(w->data, n, out, &rule, &scale, &rel), TC_OK);
    ck_assert_int_eq(rule, TC_QRULE_LATENT);
    size_t zeros = 0;
    for (size_t i = 0; i < n; i++) zeros += tc_i2s_code(out, i) == 1;
    /* mean|W| = sigma sqrt(2/pi), so P(|W| < m/2) = erf(sqrt(1/pi)/2) */
    double expect = erf(0.5 * sqrt(1.0 / M_PI));
    ck_assert_double_le(fabs((double)zeros / n - expect), 0.01);
    ck_assert_double_gt(rel, 0.3);
    ck_assert_double_lt(rel, 0.7);
    free(out);
    tc_model_free(m);
    unlink(p);
    free(p);
}
END_TEST

/* ---- errors ---- */

START_TEST(gen_rejects_bad_options)
{
    tc_gen_opts o;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset("huge", &o, &err), TC_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "tiny, small, medium or 2b4t"));
    ck_assert_int_eq(tc_gen_preset("tiny", &o, &err), TC_OK);
    o.n_embd = 200;
    ck_assert_int_eq(tc_gen_check(&o, &err), TC_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "multiples of 128"));
    ck_assert_int_eq(tc_gen_preset("tiny", &o, &err), TC_OK);
    o.n_head_kv = 3;
    ck_assert_int_eq(tc_gen_check(&o, &err), TC_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "--kv-heads 3"));
    ck_assert_int_eq(tc_gen_preset("tiny", &o, &err), TC_OK);
    o.n_vocab = 100;
    ck_assert_int_eq(tc_gen_check(&o, &err), TC_E_USAGE);
    ck_assert_int_eq(tc_gen_preset("tiny", &o, &err), TC_OK);
    o.arch = "llama";
    ck_assert_int_eq(tc_gen_check(&o, &err), TC_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "'llama'"));
}
END_TEST

/* A failed write leaves nothing behind: no file, no temporary. */
START_TEST(gen_into_missing_dir_leaves_nothing)
{
    tc_gen_opts o;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset("tiny", &o, &err), TC_OK);
    ck_assert_int_eq(tc_gen_write(&o, "/nonexistent-dir/x.gguf", &err), TC_E_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent-dir/x.gguf"));
}
END_TEST

START_TEST(quantize_rejects_non_model_and_leaves_nothing)
{
    char *in = tu_temp_path(".gguf"), *out = tu_temp_path(".gguf");
    FILE *fp = fopen(in, "wb");
    fputs("not a gguf file at all, but long enough", fp);
    fclose(fp);
    tc_err err;
    ck_assert_int_eq(tc_quantize_file(in, out, NULL, &err), TC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "magic"));
    ck_assert_int_ne(access(out, F_OK), 0);
    unlink(in);
    free(in);
    free(out);
}
END_TEST

START_TEST(quantize_rejects_bad_sizes_and_nan)
{
    float w[128] = { 0 };
    uint8_t out[64];
    tc_qrule rule;
    float m;
    double rel;
    ck_assert_int_eq(tc_quantize_i2s(w, 100, out, &rule, &m, &rel), TC_E_RANGE);
    w[3] = NAN;
    ck_assert_int_eq(tc_quantize_i2s(w, 128, out, &rule, &m, &rel), TC_E_RANGE);
}
END_TEST

/* ---- limits ---- */

/* All-zero weights are not "ternary" (no m > 0): the latent rule gives the
 * floor scale 1e-5 and all-zero codes, with a relative error of 0. */
START_TEST(quantize_all_zero)
{
    float w[128] = { 0 };
    uint8_t out[128 / 4 + 32];
    tc_qrule rule;
    float m;
    double rel;
    ck_assert_int_eq(tc_quantize_i2s(w, 128, out, &rule, &m, &rel), TC_OK);
    ck_assert_int_eq(rule, TC_QRULE_LATENT);
    ck_assert_float_eq(m, 1e-5f);
    ck_assert_double_eq(rel, 0.0);
    for (int i = 0; i < 128; i++) ck_assert_uint_eq(tc_i2s_code(out, i), 1);
}
END_TEST

/* Dimension overrides: a non-preset shape, and the bitnet arch. */
START_TEST(gen_overrides)
{
    tc_gen_opts o;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset("tiny", &o, &err), TC_OK);
    o.n_embd = 384;
    o.n_head = 6;
    o.n_head_kv = 3;
    o.n_ff = 640;
    o.n_layer = 1;
    o.n_vocab = 300;
    o.arch = "bitnet";
    char *p = tu_temp_path(".gguf");
    ck_assert_msg(tc_gen_write(&o, p, &err) == TC_OK, "%s", err.msg);
    tc_model *m;
    ck_assert_msg(tc_model_load(p, &m, &err) == TC_OK, "%s", err.msg);
    ck_assert_uint_eq(m->hp.n_embd, 384);
    ck_assert_uint_eq(m->hp.n_vocab, 300);
    ck_assert_uint_eq(m->layers[0].attn_k.ne1, 3 * 64);
    ck_assert_int_eq(m->hp.act, TC_ACT_RELU2);   /* gen writes hidden_activation relu2 */
    tc_model_free(m);
    size_t n;
    uint8_t *bytes = slurp(p, &n);
    ck_assert_ptr_nonnull(bytes);
    free(bytes);
    unlink(p);
    free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gen");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors"), *limits = tcase_create("limits");
    tcase_add_test(core, gen_is_deterministic);
    tcase_add_test(core, gen_tiny_binds_with_official_layout);
    tcase_add_test(core, gen_codes_are_balanced);
    tcase_add_test(core, quantize_of_f32_gen_is_i2s_gen);
    tcase_add_test(core, quantize_matches_bitnet_cpp);
    tcase_add_test(core, quantize_latent_known_answer);
    tcase_add_test(core, quantize_ternary_known_answer);
    tcase_add_test(core, gen_latent_quantizes_with_expected_zero_fraction);
    tcase_add_test(errors, gen_rejects_bad_options);
    tcase_add_test(errors, gen_into_missing_dir_leaves_nothing);
    tcase_add_test(errors, quantize_rejects_non_model_and_leaves_nothing);
    tcase_add_test(errors, quantize_rejects_bad_sizes_and_nan);
    tcase_add_test(limits, quantize_all_zero);
    tcase_add_test(limits, gen_overrides);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    suite_add_tcase(s, limits);
    return tu_run(s);
}

/* fuzz_gguf.c -- libFuzzer harness for the GGUF reader and model binding.
 *
 * Each input is parsed as a GGUF image in memory.  A file that parses has
 * every tensor's first and last byte read, its first and last element
 * decoded through the traits table, and every key/value formatted; then it
 * is bound as a model, and row 0 of every bound weight is decoded.  Any
 * out-of-bounds read, leak or UB is the sanitizers' to report; a failure
 * without a message, or a status that disagrees with err.status, traps.
 *
 * Built with -DTC_FUZZ_MAKE_SEEDS instead, the file is a small program that
 * writes the seed corpus (see tests/fuzz/README.md).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/gguf.h"
#include "format/model.h"
#include "format/types.h"

#ifndef TC_FUZZ_MAKE_SEEDS

static volatile uint8_t sink;

static void touch_value(const tc_gguf_value *v)
{
    char big[256], small[7];
    tc_gguf_value_format(v, big, sizeof big);
    tc_gguf_value_format(v, small, sizeof small);
    sink ^= (uint8_t)(big[0] ^ small[0]);
    if (v->type != TC_GGUF_ARRAY || v->v.arr.n == 0) return;
    if (v->v.arr.items) {
        touch_value(&v->v.arr.items[0]);
        touch_value(&v->v.arr.items[v->v.arr.n - 1]);
    } else {
        sink ^= (uint8_t)(tc_gguf_array_num(v, v->v.arr.n - 1) > 0.0);   /* no float->int cast: UB */
    }
}

static void touch_tensor(const tc_gguf_tensor *t)
{
    const tc_type_traits *tr = tc_type_info(t->type);
    float f[2];
    sink ^= t->data[0];
    sink ^= t->data[t->nbytes - 1];
    tr->to_float(t->data, t->nbytes, 0, 1, &f[0]);
    tr->to_float(t->data, t->nbytes, (size_t)t->n_elements - 1, 1, &f[1]);
    sink ^= (uint8_t)(f[0] == f[1]);
}

static void touch_weight(const tc_weight *w)
{
    if (!w->t) return;
    float *row = malloc((size_t)w->ne0 * sizeof *row);
    if (!row) return;
    tc_weight_row(w, 0, row);
    tc_weight_row(w, w->ne1 - 1, row);
    sink ^= (uint8_t)(row[0] == row[w->ne0 - 1]);
    free(row);
}

static void check_err(tc_status s, const tc_err *err)
{
    if (err->status != s || err->msg[0] == '\0' || !memchr(err->msg, '\0', sizeof err->msg))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tc_gguf *g;
    tc_err err;
    tc_err_clear(&err);
    tc_status s = tc_gguf_parse(data, size, "fuzz.gguf", &g, &err);
    if (s != TC_OK) {
        check_err(s, &err);
        if (g) __builtin_trap();
        return 0;
    }
    for (size_t i = 0; i < g->n_kv; i++) touch_value(&g->kv[i].value);
    for (size_t i = 0; i < g->n_tensors; i++) touch_tensor(&g->tensors[i]);

    tc_model *m;
    s = tc_model_from_gguf(g, &m, &err);
    if (s != TC_OK) {
        check_err(s, &err);
        tc_gguf_close(g);
        return 0;
    }
    touch_weight(&m->token_embd);
    touch_weight(&m->output);
    touch_weight(&m->output_norm);
    for (uint32_t il = 0; il < m->hp.n_layer; il++) {
        const tc_layer *L = &m->layers[il];
        const tc_weight *ws[] = {
            &L->attn_norm, &L->attn_q, &L->attn_k, &L->attn_v, &L->attn_sub_norm, &L->attn_output,
            &L->ffn_norm, &L->ffn_gate, &L->ffn_up, &L->ffn_sub_norm, &L->ffn_down,
            &L->attn_q_scale, &L->attn_k_scale, &L->attn_v_scale, &L->attn_output_scale,
            &L->ffn_gate_scale, &L->ffn_up_scale, &L->ffn_down_scale,
        };
        for (size_t k = 0; k < sizeof ws / sizeof ws[0]; k++) touch_weight(ws[k]);
    }
    tc_model_free(m);
    return 0;
}

#else /* TC_FUZZ_MAKE_SEEDS: write the seed corpus into argv[1] */

static uint32_t rng = 12345u;
static uint32_t next(void) { rng = rng * 1664525u + 1013904223u; return rng >> 8; }

static int die(const char *what, const tc_err *err)
{
    fprintf(stderr, "%s: %s\n", what, err ? err->msg : "failed");
    return 1;
}

/* Write n_bytes of data for a tensor of type t and n elements. */
static int put_tensor(tc_gguf_writer *w, uint32_t t, size_t n, tc_err *err)
{
    size_t nb = tc_type_nbytes((tc_type)t, n);
    uint8_t *buf = malloc(nb);
    if (!buf) return 1;
    if (t == TC_TYPE_I2_S) {
        int8_t *tern = malloc(n);
        for (size_t i = 0; i < n; i++) tern[i] = (int8_t)(next() % 3) - 1;
        tc_i2s_pack(tern, n, 2.385f, buf);
        free(tern);
    } else {
        for (size_t i = 0; i < n; i++) {
            float x = (float)(next() % 2001) / 1000.0f - 1.0f;
            if (t == TC_TYPE_F32) memcpy(buf + 4 * i, &x, 4);
            else {
                uint16_t h = t == TC_TYPE_F16 ? tc_f32_to_f16(x) : tc_f32_to_bf16(x);
                memcpy(buf + 2 * i, &h, 2);
            }
        }
    }
    tc_status s = tc_gguf_writer_write(w, buf, nb, err);
    free(buf);
    return s != TC_OK;
}

/* A one-layer bitnet-b1.58 model: d 128, 2 heads, 1 KV head, FFN 128. */
static int seed_model(const char *dir)
{
    enum { D = 128, FF = 128, VOCAB = 8, DKV = 64 };
    const char *arch = "bitnet-b1.58";
    char path[4096], key[128];
    tc_err err;
    tc_gguf_writer *w = tc_gguf_writer_new(3, 0);
    struct { const char *k; uint32_t v; } u[] = {
        { "context_length", 64 }, { "embedding_length", D }, { "block_count", 1 },
        { "feed_forward_length", FF }, { "attention.head_count", 2 },
        { "attention.head_count_kv", 1 }, { "rope.dimension_count", 64 }, { "vocab_size", VOCAB },
    };
    if (tc_gguf_writer_set_str(w, "general.architecture", arch, &err)) return die("arch", &err);
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        snprintf(key, sizeof key, "%s.%s", arch, u[i].k);
        if (tc_gguf_writer_set_u32(w, key, u[i].v, &err)) return die(key, &err);
    }
    snprintf(key, sizeof key, "%s.rope.freq_base", arch);
    tc_gguf_writer_set_f32(w, key, 500000.0f, &err);
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", arch);
    tc_gguf_writer_set_f32(w, key, 1e-5f, &err);
    tc_gguf_writer_set_u32(w, "general.file_type", 40, &err);
    snprintf(key, sizeof key, "%s.hidden_activation", arch);
    tc_gguf_writer_set_str(w, key, "relu2", &err);
    const char *toks[VOCAB] = { "<unk>", "<s>", "</s>", "a", "b", "c", "d", "e" };
    tc_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", VOCAB, toks, &err);
    struct { const char *name; uint32_t type; uint64_t ne0, ne1; } t[] = {
        { "token_embd.weight", TC_TYPE_F16, D, VOCAB },
        { "output_norm.weight", TC_TYPE_F32, D, 1 },
        { "blk.0.attn_norm.weight", TC_TYPE_F32, D, 1 },
        { "blk.0.attn_q.weight", TC_TYPE_I2_S, D, D },
        { "blk.0.attn_k.weight", TC_TYPE_I2_S, D, DKV },
        { "blk.0.attn_v.weight", TC_TYPE_I2_S, D, DKV },
        { "blk.0.attn_sub_norm.weight", TC_TYPE_F32, D, 1 },
        { "blk.0.attn_output.weight", TC_TYPE_I2_S, D, D },
        { "blk.0.ffn_norm.weight", TC_TYPE_F32, D, 1 },
        { "blk.0.ffn_gate.weight", TC_TYPE_I2_S, D, FF },
        { "blk.0.ffn_up.weight", TC_TYPE_I2_S, D, FF },
        { "blk.0.ffn_sub_norm.weight", TC_TYPE_F32, FF, 1 },
        { "blk.0.ffn_down.weight", TC_TYPE_I2_S, FF, D },
    };
    size_t nt = sizeof t / sizeof t[0];
    for (size_t i = 0; i < nt; i++) {
        uint64_t ne[2] = { t[i].ne0, t[i].ne1 };
        if (tc_gguf_writer_add_tensor(w, t[i].name, t[i].type, t[i].ne1 > 1 ? 2 : 1, ne, &err))
            return die(t[i].name, &err);
    }
    snprintf(path, sizeof path, "%s/model-1layer-i2s.gguf", dir);
    if (tc_gguf_writer_begin(w, path, &err)) return die("begin", &err);
    for (size_t i = 0; i < nt; i++)
        if (put_tensor(w, t[i].type, (size_t)(t[i].ne0 * t[i].ne1), &err)) return die(t[i].name, &err);
    if (tc_gguf_writer_finish(w, &err)) return die("finish", &err);
    tc_gguf_writer_free(w);
    return 0;
}

/* Every key/value type, and one tensor of each type; version and alignment
 * as given. */
static int seed_kinds(const char *dir, const char *name, uint32_t version, size_t align)
{
    char path[4096];
    tc_err err;
    tc_gguf_writer *w = tc_gguf_writer_new(version, align);
    tc_gguf_value v;
    int16_t i16[3] = { -7, 0, 32767 };
    float f32[2] = { 2.385f, -1e-5f };
    uint8_t bools[2] = { 1, 0 };
    const char *strs[2] = { "hello", "" };
    v = (tc_gguf_value){ .type = TC_GGUF_U8, .v.u = 200 };
    tc_gguf_writer_add(w, "u8", &v, &err);
    v = (tc_gguf_value){ .type = TC_GGUF_I8, .v.i = -100 };
    tc_gguf_writer_add(w, "i8", &v, &err);
    v = (tc_gguf_value){ .type = TC_GGUF_I64, .v.i = -1234567890123 };
    tc_gguf_writer_add(w, "i64", &v, &err);
    v = (tc_gguf_value){ .type = TC_GGUF_F64, .v.f = 2.385 };
    tc_gguf_writer_add(w, "f64", &v, &err);
    tc_gguf_writer_set_bool(w, "bool", true, &err);
    tc_gguf_writer_set_str(w, "str", "bitnet", &err);
    tc_gguf_writer_set_arr(w, "a.i16", TC_GGUF_I16, 3, i16, &err);
    tc_gguf_writer_set_arr(w, "a.f32", TC_GGUF_F32, 2, f32, &err);
    tc_gguf_writer_set_arr(w, "a.bool", TC_GGUF_BOOL, 2, bools, &err);
    tc_gguf_writer_set_arr_str(w, "a.str", 2, strs, &err);
    tc_gguf_value inner[2] = {
        { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_I16, 3, i16, NULL } },
        { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_U8, 0, NULL, NULL } },
    };
    v = (tc_gguf_value){ .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_ARRAY, 2, NULL, inner } };
    tc_gguf_writer_add(w, "a.nested", &v, &err);
    uint64_t ne_f32[2] = { 3, 2 }, ne_f16[1] = { 5 }, ne_bf16[3] = { 2, 1, 2 }, ne_i2s[2] = { 128, 2 };
    tc_gguf_writer_add_tensor(w, "f32", TC_TYPE_F32, 2, ne_f32, &err);
    tc_gguf_writer_add_tensor(w, "f16", TC_TYPE_F16, 1, ne_f16, &err);
    tc_gguf_writer_add_tensor(w, "bf16", TC_TYPE_BF16, 3, ne_bf16, &err);
    tc_gguf_writer_add_tensor(w, "i2s", TC_TYPE_I2_S, 2, ne_i2s, &err);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (tc_gguf_writer_begin(w, path, &err)) return die("begin", &err);
    if (put_tensor(w, TC_TYPE_F32, 6, &err) || put_tensor(w, TC_TYPE_F16, 5, &err) ||
        put_tensor(w, TC_TYPE_BF16, 4, &err) || put_tensor(w, TC_TYPE_I2_S, 256, &err))
        return die("data", &err);
    if (tc_gguf_writer_finish(w, &err)) return die("finish", &err);
    tc_gguf_writer_free(w);
    return 0;
}

/* Arrays nested as deep as the reader allows (one more level is an error). */
static int seed_deep(const char *dir)
{
    char path[4096];
    tc_err err;
    const int8_t leaf[2] = { -1, 1 };
    tc_gguf_value v[TC_GGUF_MAX_ARRAY_DEPTH];
    v[TC_GGUF_MAX_ARRAY_DEPTH - 1] = (tc_gguf_value){ .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_I8, 2, leaf, NULL } };
    for (int i = TC_GGUF_MAX_ARRAY_DEPTH - 2; i >= 0; i--)
        v[i] = (tc_gguf_value){ .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_ARRAY, 1, NULL, &v[i + 1] } };
    tc_gguf_writer *w = tc_gguf_writer_new(3, 0);
    if (tc_gguf_writer_add(w, "deep", &v[0], &err)) return die("deep", &err);
    snprintf(path, sizeof path, "%s/nested-depth8.gguf", dir);
    if (tc_gguf_writer_begin(w, path, &err) || tc_gguf_writer_finish(w, &err)) return die("deep", &err);
    tc_gguf_writer_free(w);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    return seed_model(argv[1]) || seed_kinds(argv[1], "kinds-v3.gguf", 3, 0) ||
           seed_kinds(argv[1], "kinds-v2-align64.gguf", 2, 64) || seed_deep(argv[1]);
}

#endif

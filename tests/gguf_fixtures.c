/* gguf_fixtures.c -- GGUF files for the reader's and the writer's suites
 * (check_gguf.c, check_gguf_writer.c): byte images, the small valid file
 * the error cases patch, and a tiny BitNet model. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/types.h"
#include "gguf_fixtures.h"
#include "testutil.h"

/* ---- byte images ---- */

img img_read(const char *path)
{
    img m = { NULL, 0 };
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    m.n = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    m.b = malloc(m.n ? m.n : 1);
    ck_assert_uint_eq(fread(m.b, 1, m.n, fp), m.n);
    fclose(fp);
    return m;
}

/* Write the image to a fresh temporary file; the caller unlinks and frees. */
char *img_to_temp(const img *m)
{
    char *path = tu_temp_path(".gguf");
    ck_assert_ptr_nonnull(path);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(m->b, 1, m->n, fp), m->n);
    fclose(fp);
    return path;
}

void put_le(img *m, size_t at, unsigned width, uint64_t v)
{
    ck_assert_uint_le(at + width, m->n);
    for (unsigned i = 0; i < width; i++) m->b[at + i] = (uint8_t)(v >> (8 * i));
}

/* Finish a writer into memory: the file is read back and removed. */
img writer_to_img(tc_gguf_writer *w, void (*data)(tc_gguf_writer *, const void *), const void *ctx)
{
    tc_err err;
    char *path = tu_temp_path(".gguf");
    ck_assert_int_eq(tc_gguf_writer_begin(w, path, &err), TC_OK);
    if (data) data(w, ctx);
    ck_assert_msg(tc_gguf_writer_finish(w, &err) == TC_OK, "%s", err.msg);
    tc_gguf_writer_free(w);
    img m = img_read(path);
    unlink(path);
    free(path);
    return m;
}

static uint32_t rng_state;
void rnd_seed(uint32_t seed) { rng_state = seed; }
uint32_t rnd(void) { rng_state = rng_state * 1664525u + 1013904223u; return rng_state >> 8; }

void w_write(tc_gguf_writer *w, const void *p, size_t n)
{
    tc_err err;
    ck_assert_msg(tc_gguf_writer_write(w, p, n, &err) == TC_OK, "%s", err.msg);
}

/* ---- the small valid file (layout in gguf_fixtures.h) ---- */

const float small_f32[8] = { 2.385f, -1.0f, 0.5f, -0.0f, 65504.0f, 1e-7f, -3.25f, 100.0f };
const uint16_t small_f16[8] = { 0x40c5, 0x3c00, 0x0001, 0x8000, 0x7bff, 0xc000, 0x0400, 0x3555 };
uint8_t small_i2s[96];

static void small_data(tc_gguf_writer *w, const void *ctx)
{
    (void)ctx;
    int8_t t[256];
    for (size_t i = 0; i < 256; i++) t[i] = (int8_t)(i % 3) - 1;
    ck_assert_int_eq(tc_i2s_pack(t, 256, 0.75f, small_i2s), TC_OK);
    w_write(w, small_f32, sizeof small_f32);
    w_write(w, small_i2s, sizeof small_i2s);
    w_write(w, small_f16, sizeof small_f16);
}

img build_small(uint32_t version, size_t align)
{
    tc_err err;
    tc_gguf_writer *w = tc_gguf_writer_new(version, align);
    ck_assert_ptr_nonnull(w);
    const uint8_t u8s[3] = { 0, 128, 255 };
    const char *strs[2] = { "a", "bc" };
    const int16_t i16s[2] = { -32768, 32767 };
    tc_gguf_value inner = { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_I16, 2, i16s, NULL } };
    tc_gguf_value nested = { .type = TC_GGUF_ARRAY, .v.arr = { TC_GGUF_ARRAY, 1, NULL, &inner } };
    ck_assert_int_eq(tc_gguf_writer_set_u32(w, "t.u32", 4000000000u, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_set_str(w, "t.str", "bitnet", &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_set_bool(w, "t.bol", true, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_set_arr(w, "t.arr", TC_GGUF_U8, 3, u8s, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_set_arr_str(w, "t.sts", 2, strs, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_add(w, "t.nst", &nested, &err), TC_OK);
    const uint64_t ne0[2] = { 4, 2 }, ne1[2] = { 128, 2 }, ne2[1] = { 8 };
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "w.f32", TC_TYPE_F32, 2, ne0, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "w.i2s", TC_TYPE_I2_S, 2, ne1, &err), TC_OK);
    ck_assert_int_eq(tc_gguf_writer_add_tensor(w, "w.f16", TC_TYPE_F16, 1, ne2, &err), TC_OK);
    return writer_to_img(w, small_data, NULL);
}

/* ---- a tiny BitNet model ---- */

typedef struct mtensor { char name[64]; uint32_t type; uint64_t ne0, ne1; } mtensor;

static size_t model_tensors(const model_opts *o, mtensor *out)
{
    static const struct { const char *suffix; int kind; } per_layer[] = {
        /* kind: 0 norm {d}, 1 {d, d}, 2 {d, d_kv}, 3 {d, ff}, 4 {ff} norm, 5 {ff, d} */
        { "attn_norm.weight", 0 }, { "attn_q.weight", 1 }, { "attn_k.weight", 2 }, { "attn_v.weight", 2 },
        { "attn_sub_norm.weight", 0 }, { "attn_output.weight", 1 }, { "ffn_norm.weight", 0 },
        { "ffn_gate.weight", 3 }, { "ffn_up.weight", 3 }, { "ffn_sub_norm.weight", 4 }, { "ffn_down.weight", 5 },
    };
    const uint64_t shapes[6][2] = { { MD, 1 }, { MD, MD }, { MD, MHEADS_KV * MHEAD_DIM }, { MD, MFF },
                                    { MFF, 1 }, { MFF, MD } };
    size_t n = 0;
    out[n++] = (mtensor){ "token_embd.weight", TC_TYPE_F16, MD, MVOCAB };
    out[n++] = (mtensor){ "output_norm.weight", TC_TYPE_F32, MD, 1 };
    for (int il = 0; il < MLAYERS; il++)
        for (size_t k = 0; k < sizeof per_layer / sizeof per_layer[0]; k++) {
            mtensor *t = &out[n++];
            snprintf(t->name, sizeof t->name, "blk.%d.%s", il, per_layer[k].suffix);
            int kind = per_layer[k].kind;
            t->type = kind == 0 || kind == 4 ? TC_TYPE_F32 : TC_TYPE_I2_S;
            t->ne0 = shapes[kind][0];
            t->ne1 = shapes[kind][1];
        }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        mtensor t = out[i];
        if (o->omit && !strcmp(t.name, o->omit)) continue;
        if (o->retype && !strcmp(t.name, o->retype)) t.type = o->retype_to;
        if (o->reshape && !strcmp(t.name, o->reshape)) { t.ne0 = o->reshape_ne0; t.ne1 = o->reshape_ne1; }
        out[kept++] = t;
    }
    return kept;
}

static void write_tensor_data(tc_gguf_writer *w, const mtensor *t, bool junk_padding)
{
    size_t n = (size_t)(t->ne0 * t->ne1), nb = tc_type_nbytes((tc_type)t->type, n);
    uint8_t *buf = malloc(nb);
    if (t->type == TC_TYPE_I2_S) {
        int8_t *tern = malloc(n);
        for (size_t i = 0; i < n; i++) tern[i] = (int8_t)(rnd() % 3) - 1;
        ck_assert_int_eq(tc_i2s_pack(tern, n, 2.385f, buf), TC_OK);
        if (junk_padding) memset(buf + n / 4 + 4, 0xa5, 28);
        free(tern);
    } else {
        for (size_t i = 0; i < n; i++) {
            float x = (float)(rnd() % 2001) / 1000.0f - 1.0f;
            uint16_t h = t->type == TC_TYPE_F16 ? tc_f32_to_f16(x) : tc_f32_to_bf16(x);
            if (t->type == TC_TYPE_F32) memcpy(buf + 4 * i, &x, 4);
            else memcpy(buf + 2 * i, &h, 2);
        }
    }
    w_write(w, buf, nb);
    free(buf);
}

/* The tensors' data, in declaration order, from a fixed seed. */
typedef struct model_data { const mtensor *ts; size_t nt; bool junk_padding; } model_data;

static void model_data_write(tc_gguf_writer *w, const void *ctx)
{
    const model_data *md = ctx;
    rnd_seed(2385);
    for (size_t i = 0; i < md->nt; i++) write_tensor_data(w, &md->ts[i], md->junk_padding);
}

img build_model(const model_opts *o)
{
    tc_err err;
    char key[128];
    tc_gguf_writer *w = tc_gguf_writer_new(3, 0);
    const char *arch = o->arch ? o->arch : "bitnet-b1.58";
    if (o->arch) ck_assert_int_eq(tc_gguf_writer_set_str(w, "general.architecture", o->arch, &err), TC_OK);
    const struct { const char *k; uint32_t v; } u[] = {
        { "context_length", 64 }, { "block_count", o->block_count }, { "feed_forward_length", MFF },
        { "attention.head_count", o->head_count }, { "attention.head_count_kv", MHEADS_KV },
        { "rope.dimension_count", o->rope_dim }, { "vocab_size", MVOCAB },
    };
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        snprintf(key, sizeof key, "%s.%s", arch, u[i].k);
        ck_assert_int_eq(tc_gguf_writer_set_u32(w, key, u[i].v, &err), TC_OK);
    }
    snprintf(key, sizeof key, "%s.embedding_length", arch);
    if (o->embd_as_string) ck_assert_int_eq(tc_gguf_writer_set_str(w, key, "128", &err), TC_OK);
    else ck_assert_int_eq(tc_gguf_writer_set_u32(w, key, MD, &err), TC_OK);
    snprintf(key, sizeof key, "%s.rope.freq_base", arch);
    ck_assert_int_eq(tc_gguf_writer_set_f32(w, key, 500000.0f, &err), TC_OK);
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", arch);
    if (!o->no_eps) ck_assert_int_eq(tc_gguf_writer_set_f32(w, key, 1e-5f, &err), TC_OK);
    mtensor ts[64];
    size_t nt = model_tensors(o, ts);
    for (size_t i = 0; i < nt; i++) {
        uint64_t ne[2] = { ts[i].ne0, ts[i].ne1 };
        ck_assert_int_eq(tc_gguf_writer_add_tensor(w, ts[i].name, ts[i].type, ts[i].ne1 > 1 ? 2 : 1, ne, &err), TC_OK);
    }
    model_data md = { ts, nt, o->junk_padding };
    return writer_to_img(w, model_data_write, &md);
}

/* ---- lookups ---- */

const tc_gguf_value *val(const tc_gguf *g, const char *key, tc_gguf_vtype t)
{
    const tc_gguf_kv *kv = tc_gguf_find(g, key);
    ck_assert_msg(kv != NULL, "key %s missing", key);
    ck_assert_msg(kv->value.type == t, "key %s: type %d, expected %d", key, kv->value.type, t);
    return &kv->value;
}

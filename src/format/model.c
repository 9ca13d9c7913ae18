/* model.c -- hyper-parameters, tensor binding and validation (SPEC 1.3). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/model.h"

/* ---- hyper-parameters ---- */

/* Read <arch>.<suffix> as an unsigned integer in 1..max. */
static tc_status hp_uint(const tc_gguf *g, const char *arch, const char *suffix, uint64_t max,
                         uint32_t *out, tc_err *err)
{
    char key[128];
    uint64_t v;
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    tc_status s = tc_gguf_get_uint(g, key, max, &v, err);
    if (s) return s;
    if (v == 0) return tc_fail(err, TC_E_MODEL, "%s: key '%s': expected a value >= 1, found 0", g->path, key);
    *out = (uint32_t)v;
    return TC_OK;
}

/* The same, but a missing key leaves *out unchanged. */
static tc_status hp_uint_opt(const tc_gguf *g, const char *arch, const char *suffix, uint64_t max,
                             uint32_t *out, tc_err *err)
{
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return tc_gguf_find(g, key) ? hp_uint(g, arch, suffix, max, out, err) : TC_OK;
}

/* general.architecture: one of the three BitNet names, which also gives
 * the default FFN activation. */
static tc_status read_arch(const tc_gguf *g, tc_hparams *hp, tc_err *err)
{
    const char *a;
    size_t alen;
    tc_status s = tc_gguf_get_string(g, "general.architecture", &a, &alen, err);
    if (s) return s == TC_E_MODEL ? s : TC_E_MODEL;
    if (memchr(a, '\0', alen))   /* "bitnet\0junk" must not pass as "bitnet" */
        return tc_fail(err, TC_E_MODEL, "%s: key 'general.architecture': expected no NUL byte inside the name", g->path);
    if (alen >= sizeof hp->arch) alen = sizeof hp->arch - 1;
    memcpy(hp->arch, a, alen);
    hp->arch[alen] = '\0';
    if (!strcmp(hp->arch, "bitnet-b1.58") || !strcmp(hp->arch, "bitnet-25"))
        hp->act = TC_ACT_RELU2;
    else if (!strcmp(hp->arch, "bitnet"))
        hp->act = TC_ACT_SILU;
    else
        return tc_fail(err, TC_E_MODEL, "%s: key 'general.architecture': expected bitnet-b1.58, bitnet-25 or "
                       "bitnet, found '%s'", g->path, hp->arch);
    return TC_OK;
}

/* The float settings: RoPE base (default 10000), the RMS norm epsilon,
 * and the activation llama.cpp's bitnet may name. */
static tc_status read_float_settings(const tc_gguf *g, tc_hparams *hp, tc_err *err)
{
    const char *arch = hp->arch;
    char key[128];
    double f;
    tc_status s;
    snprintf(key, sizeof key, "%s.rope.freq_base", arch);
    hp->rope_base = 10000.0;
    if (tc_gguf_find(g, key)) {
        if ((s = tc_gguf_get_float(g, key, &f, err))) return s;
        if (!(f > 1.0)) return tc_fail(err, TC_E_MODEL, "%s: key '%s': expected a value > 1, found %g", g->path, key, f);
        hp->rope_base = f;
    }
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", arch);
    if ((s = tc_gguf_get_float(g, key, &f, err))) return s;
    if (!(f > 0.0 && f < 1.0)) return tc_fail(err, TC_E_MODEL, "%s: key '%s': expected 0 < eps < 1, found %g", g->path, key, f);
    hp->eps = (float)f;

    /* llama.cpp's bitnet may name its activation */
    snprintf(key, sizeof key, "%s.hidden_activation", arch);
    const tc_gguf_kv *kv = tc_gguf_find(g, key);
    if (kv && kv->value.type == TC_GGUF_STRING && kv->value.v.str.len == 5 &&
        !memcmp(kv->value.v.str.ptr, "relu2", 5))
        hp->act = TC_ACT_RELU2;
    return TC_OK;
}

/* The attention shape: heads divide d and each other, head_dim is even
 * and is what RoPE rotates. */
static tc_status check_heads(const tc_gguf *g, tc_hparams *hp, tc_err *err)
{
    if (hp->n_embd % hp->n_head != 0)
        return tc_fail(err, TC_E_MODEL, "%s: embedding_length %" PRIu32 " is not a multiple of head_count %" PRIu32,
                       g->path, hp->n_embd, hp->n_head);
    if (hp->n_head % hp->n_head_kv != 0)
        return tc_fail(err, TC_E_MODEL, "%s: head_count %" PRIu32 " is not a multiple of head_count_kv %" PRIu32,
                       g->path, hp->n_head, hp->n_head_kv);
    hp->head_dim = hp->n_embd / hp->n_head;
    if (hp->head_dim % 2 != 0)
        return tc_fail(err, TC_E_MODEL, "%s: head_dim %" PRIu32 " is odd (NEOX RoPE rotates pairs)", g->path, hp->head_dim);
    uint32_t rope_dim = hp->head_dim;
    tc_status s = hp_uint_opt(g, hp->arch, "rope.dimension_count", 1u << 24, &rope_dim, err);
    if (s) return s;
    if (rope_dim != hp->head_dim)
        return tc_fail(err, TC_E_MODEL, "%s: key '%s.rope.dimension_count': expected %" PRIu32
                       " (head_dim), found %" PRIu32, g->path, hp->arch, hp->head_dim, rope_dim);
    return TC_OK;
}

/* The vocabulary: <arch>.vocab_size, else the tokenizer's length; the
 * embedding's rows decide when neither is present (checked at binding).
 * And general.file_type, UINT32_MAX when absent. */
static tc_status read_vocab_and_file_type(const tc_gguf *g, tc_hparams *hp, tc_err *err)
{
    hp->n_vocab = 0;
    tc_status s = hp_uint_opt(g, hp->arch, "vocab_size", 1u << 26, &hp->n_vocab, err);
    if (s) return s;
    const tc_gguf_kv *kv = tc_gguf_find(g, "tokenizer.ggml.tokens");
    if (hp->n_vocab == 0 && kv && kv->value.type == TC_GGUF_ARRAY)
        hp->n_vocab = (uint32_t)(kv->value.v.arr.n < (1u << 26) ? kv->value.v.arr.n : 0);
    uint64_t ft;
    hp->file_type = UINT32_MAX;
    if (tc_gguf_find(g, "general.file_type") &&
        (s = tc_gguf_get_uint(g, "general.file_type", UINT32_MAX - 1, &ft, err)) == TC_OK)
        hp->file_type = (uint32_t)ft;
    return s;
}

static tc_status read_hparams(const tc_gguf *g, tc_hparams *hp, tc_err *err)
{
    tc_status s = read_arch(g, hp, err);
    if (s) return s;
    const char *arch = hp->arch;
    const uint64_t big = 1u << 24;   /* no dimension of a BitNet model comes near this */
    if ((s = hp_uint(g, arch, "embedding_length", big, &hp->n_embd, err)) ||
        (s = hp_uint(g, arch, "block_count", 4096, &hp->n_layer, err)) ||
        (s = hp_uint(g, arch, "feed_forward_length", big, &hp->n_ff, err)) ||
        (s = hp_uint(g, arch, "attention.head_count", 65536, &hp->n_head, err)) ||
        (s = hp_uint(g, arch, "context_length", big, &hp->n_ctx, err)))
        return s;
    hp->n_head_kv = hp->n_head;
    if ((s = hp_uint_opt(g, arch, "attention.head_count_kv", 65536, &hp->n_head_kv, err))) return s;
    if ((s = read_float_settings(g, hp, err)) || (s = check_heads(g, hp, err))) return s;
    return read_vocab_and_file_type(g, hp, err);
}

/* ---- tensor binding ---- */

enum kind { LINEAR, NORM, EMBED, SCALE };

static bool type_ok(enum kind k, uint32_t t)
{
    switch (k) {
    case LINEAR: return t == TC_TYPE_I2_S || t == TC_TYPE_TQ1_0 || t == TC_TYPE_TQ2_0 || t == TC_TYPE_F32 ||
                        t == TC_TYPE_F16 || t == TC_TYPE_BF16;
    case EMBED: return t == TC_TYPE_F32 || t == TC_TYPE_F16 || t == TC_TYPE_BF16;
    case NORM: case SCALE: return t == TC_TYPE_F32;
    }
    return false;
}

static const char *kind_types(enum kind k)
{
    return k == LINEAR ? "I2_S, TQ1_0, TQ2_0, F32, F16 or BF16" : k == EMBED ? "F32, F16 or BF16" : "F32";
}

static void fmt_shape(char *buf, size_t n, const uint64_t *ne, uint32_t nd)
{
    size_t used = (size_t)snprintf(buf, n, "{");
    for (uint32_t d = 0; d < nd && used < n; d++)
        used += (size_t)snprintf(buf + used, n - used, "%s%" PRIu64, d ? ", " : "", ne[d]);
    if (used < n) snprintf(buf + used, n - used, "}");
}

/* Bind `name` of the expected kind and shape {ne0} or {ne0, ne1}. */
static tc_status bind(const tc_gguf *g, const char *name, enum kind k, uint64_t ne0, uint64_t ne1,
                      bool required, tc_weight *w, tc_err *err)
{
    memset(w, 0, sizeof *w);
    const tc_gguf_tensor *t = tc_gguf_find_tensor(g, name);
    if (!t) {
        if (!required) return TC_OK;
        return tc_fail(err, TC_E_MODEL, "%s: %s: required tensor is missing (expected %s {%" PRIu64 "%s})",
                       g->path, name, kind_types(k), ne0, ne1 > 1 ? ", ..." : "");
    }
    uint64_t want[2] = { ne0, ne1 };
    uint32_t want_nd = ne1 > 1 ? 2 : 1;
    bool shape_ok = t->ne[0] == ne0 && t->ne[1] == ne1 && t->ne[2] == 1 && t->ne[3] == 1;
    if (!shape_ok) {
        char a[96], b[96];
        fmt_shape(a, sizeof a, want, want_nd);
        fmt_shape(b, sizeof b, t->ne, t->n_dims);
        return tc_fail(err, TC_E_MODEL, "%s: %s: expected shape %s, found %s", g->path, name, a, b);
    }
    if (!type_ok(k, t->type))
        return tc_fail(err, TC_E_MODEL, "%s: %s: expected type %s, found %s (%" PRIu32 ")", g->path, name,
                       kind_types(k), tc_type_name(t->type), t->type);
    w->t = t;
    w->type = (tc_type)t->type;
    w->data = t->data;
    w->ne0 = ne0;
    w->ne1 = ne1;
    w->scale = t->type == TC_TYPE_I2_S ? tc_i2s_scale(t->data, (size_t)t->n_elements) : 1.0f;
    return TC_OK;
}

static tc_status bind_layer(const tc_gguf *g, const tc_hparams *hp, uint32_t il, tc_layer *L, tc_err *err)
{
    const uint64_t d = hp->n_embd, ff = hp->n_ff, dkv = (uint64_t)hp->n_head_kv * hp->head_dim;
    struct { const char *suffix; enum kind k; uint64_t ne0, ne1; bool req; tc_weight *w; } tab[] = {
        { "attn_norm.weight", NORM, d, 1, true, &L->attn_norm },
        { "attn_q.weight", LINEAR, d, d, true, &L->attn_q },
        { "attn_k.weight", LINEAR, d, dkv, true, &L->attn_k },
        { "attn_v.weight", LINEAR, d, dkv, true, &L->attn_v },
        { "attn_sub_norm.weight", NORM, d, 1, true, &L->attn_sub_norm },
        { "attn_output.weight", LINEAR, d, d, true, &L->attn_output },
        { "ffn_norm.weight", NORM, d, 1, true, &L->ffn_norm },
        { "ffn_gate.weight", LINEAR, d, ff, true, &L->ffn_gate },
        { "ffn_up.weight", LINEAR, d, ff, true, &L->ffn_up },
        { "ffn_sub_norm.weight", NORM, ff, 1, true, &L->ffn_sub_norm },
        { "ffn_down.weight", LINEAR, ff, d, true, &L->ffn_down },
        { "attn_q.scale", SCALE, 1, 1, false, &L->attn_q_scale },
        { "attn_k.scale", SCALE, 1, 1, false, &L->attn_k_scale },
        { "attn_v.scale", SCALE, 1, 1, false, &L->attn_v_scale },
        { "attn_output.scale", SCALE, 1, 1, false, &L->attn_output_scale },
        { "ffn_gate.scale", SCALE, 1, 1, false, &L->ffn_gate_scale },
        { "ffn_up.scale", SCALE, 1, 1, false, &L->ffn_up_scale },
        { "ffn_down.scale", SCALE, 1, 1, false, &L->ffn_down_scale },
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        char name[TC_GGUF_MAX_NAME + 1];
        snprintf(name, sizeof name, "blk.%" PRIu32 ".%s", il, tab[i].suffix);
        tc_status s = bind(g, name, tab[i].k, tab[i].ne0, tab[i].ne1, tab[i].req, tab[i].w, err);
        if (s) return s;
    }
    return TC_OK;
}

tc_status tc_model_from_gguf(tc_gguf *g, tc_model **out, tc_err *err)
{
    *out = NULL;
    tc_model *m = calloc(1, sizeof *m);
    if (!m) return tc_fail(err, TC_E_NOMEM, "%s: out of memory", g->path);
    tc_status s = read_hparams(g, &m->hp, err);
    if (s) goto fail;
    /* the embedding decides the vocabulary when no key states it */
    const tc_gguf_tensor *te = tc_gguf_find_tensor(g, "token_embd.weight");
    if (m->hp.n_vocab == 0 && te && te->ne[1] <= (1u << 26)) m->hp.n_vocab = (uint32_t)te->ne[1];
    if (m->hp.n_vocab == 0) {
        s = tc_fail(err, TC_E_MODEL, "%s: token_embd.weight: required tensor is missing", g->path);
        goto fail;
    }
    if ((s = bind(g, "token_embd.weight", EMBED, m->hp.n_embd, m->hp.n_vocab, true, &m->token_embd, err)) ||
        (s = bind(g, "output.weight", LINEAR, m->hp.n_embd, m->hp.n_vocab, false, &m->output, err)) ||
        (s = bind(g, "output_norm.weight", NORM, m->hp.n_embd, 1, true, &m->output_norm, err)))
        goto fail;
    m->layers = calloc(m->hp.n_layer, sizeof *m->layers);
    if (!m->layers) {
        s = tc_fail(err, TC_E_NOMEM, "%s: out of memory for %" PRIu32 " layers", g->path, m->hp.n_layer);
        goto fail;
    }
    for (uint32_t il = 0; il < m->hp.n_layer; il++)
        if ((s = bind_layer(g, &m->hp, il, &m->layers[il], err))) goto fail;
    m->gguf = g;
    *out = m;
    return TC_OK;
fail:
    free(m->layers);
    free(m);
    return s;
}

tc_status tc_model_load(const char *path, tc_model **out, tc_err *err)
{
    tc_gguf *g;
    *out = NULL;
    tc_status s = tc_gguf_open(path, &g, err);
    if (s) return s;
    s = tc_model_from_gguf(g, out, err);
    if (s) tc_gguf_close(g);
    return s;
}

void tc_model_free(tc_model *m)
{
    if (!m) return;
    tc_gguf_close(m->gguf);
    free(m->layers);
    free(m);
}

const tc_weight *tc_model_lm_head(const tc_model *m)
{
    return m->output.t ? &m->output : &m->token_embd;
}

void tc_weight_row(const tc_weight *w, uint64_t r, float *out)
{
    const tc_type_traits *tr = tc_type_info(w->type);
    tr->to_float(w->data, w->t->nbytes, (size_t)(r * w->ne0), (size_t)w->ne0, out);
}

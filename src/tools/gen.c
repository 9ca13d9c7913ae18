/* gen.c -- deterministic synthetic BitNet b1.58 models (SPEC 8).
 *
 * Statistics, chosen so that a generated model behaves like a trained one
 * in the ways the engines care about and its greedy output varies:
 *   token_embd  N(0, 1/d): rows of RMS ~ 1/sqrt(d); logits e_j . h have
 *               unit scale, and the residual stream soon outgrows the
 *               embedding, so the next token depends on the context;
 *   norms       uniform in [0.75, 1.25];
 *   linears     ternary codes, P(0) = 1/3, times a per-tensor scale
 *               m = u / sqrt(2K/3), u uniform in [0.75, 1.25], which keeps
 *               each projection's output at about unit RMS;
 *   latent      N(0, sigma) with sigma = m * sqrt(pi/2), so mean|W| ~ m.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "tools/gen.h"
#include "format/gguf.h"

/* ---- presets ---- */

typedef struct preset {
    const char *name;
    uint32_t vocab, ctx, embd, layers, ffn, heads, kv_heads;
    double rope_base;
} preset;

static const preset presets[] = {
    { "tiny", 512, 512, 256, 2, 512, 4, 2, 500000.0 },
    { "small", 2048, 1024, 512, 4, 1536, 8, 2, 500000.0 },
    { "medium", 8192, 2048, 1024, 8, 2816, 16, 4, 500000.0 },
    { "2b4t", 128256, 4096, 2560, 30, 6912, 20, 5, 500000.0 },   /* the official shape */
};

tc_status tc_gen_preset(const char *name, tc_gen_opts *o, tc_err *err)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        const preset *p = &presets[i];
        if (strcmp(p->name, name) != 0) continue;
        *o = (tc_gen_opts){ .name = p->name, .arch = "bitnet-b1.58", .n_vocab = p->vocab, .n_ctx = p->ctx,
                            .n_embd = p->embd, .n_layer = p->layers, .n_ff = p->ffn, .n_head = p->heads,
                            .n_head_kv = p->kv_heads, .rope_base = p->rope_base, .eps = 1e-5f,
                            .weight_type = TC_TYPE_I2_S, .latent = false, .seed = 1 };
        return TC_OK;
    }
    return tc_fail(err, TC_E_USAGE, "gen: unknown preset '%s' (expected tiny, small, medium or 2b4t)", name);
}

tc_status tc_gen_check(const tc_gen_opts *o, tc_err *err)
{
    if (strcmp(o->arch, "bitnet-b1.58") && strcmp(o->arch, "bitnet-25") && strcmp(o->arch, "bitnet"))
        return tc_fail(err, TC_E_USAGE, "gen: --arch '%s': expected bitnet-b1.58, bitnet-25 or bitnet", o->arch);
    if (o->n_vocab < 258)
        return tc_fail(err, TC_E_USAGE, "gen: --vocab %" PRIu32 ": expected >= 258 (256 bytes and 2 specials)", o->n_vocab);
    if (o->n_embd % 128 || o->n_ff % 128)
        return tc_fail(err, TC_E_USAGE, "gen: --embd %" PRIu32 " and --ffn %" PRIu32
                       ": expected multiples of 128 (the I2_S block)", o->n_embd, o->n_ff);
    if (o->n_embd % o->n_head || (o->n_embd / o->n_head) % 2)
        return tc_fail(err, TC_E_USAGE, "gen: --embd %" PRIu32 " / --heads %" PRIu32
                       ": expected an even head_dim", o->n_embd, o->n_head);
    if (o->n_head % o->n_head_kv)
        return tc_fail(err, TC_E_USAGE, "gen: --kv-heads %" PRIu32 ": expected a divisor of --heads %" PRIu32,
                       o->n_head_kv, o->n_head);
    if (o->n_layer == 0 || o->n_ctx == 0)
        return tc_fail(err, TC_E_USAGE, "gen: --layers and --ctx: expected >= 1");
    if (o->silu && strcmp(o->arch, "bitnet"))
        return tc_fail(err, TC_E_USAGE, "gen: --act silu: only the bitnet arch has a SiLU FFN");
    if (o->latent && o->weight_type != TC_TYPE_F32)
        return tc_fail(err, TC_E_USAGE, "gen: --latent weights are F32");
    return TC_OK;
}

/* ---- the tokenizer vocabulary ---- */

/* GPT-2's byte-to-unicode map: printable bytes stand for themselves, the
 * others for U+0100 + k in order.  Writes the UTF-8 of byte b's token. */
static void byte_token(unsigned b, char out[4])
{
    unsigned cp;
    if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174) {
        cp = b;
    } else {
        unsigned k = 0;   /* rank of b among the non-printable bytes */
        for (unsigned x = 0; x < b; x++)
            if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || x >= 174)) k++;
        cp = 256 + k;
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        out[1] = 0;
    } else {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        out[2] = 0;
    }
}

/* Llama 3's special tokens, placed in the last min(256, V - 256) ids. */
static void special_token(unsigned k, char *out, size_t n)
{
    static const char *named[] = { "<|begin_of_text|>", "<|end_of_text|>", NULL, NULL, NULL, NULL,
                                   "<|start_header_id|>", "<|end_header_id|>", NULL, "<|eot_id|>" };
    if (k < sizeof named / sizeof named[0] && named[k]) snprintf(out, n, "%s", named[k]);
    else snprintf(out, n, "<|reserved_special_token_%u|>", k);
}

/* Vocabulary: ids 0..255 the bytes, then filler tokens, then the specials
 * (for the 2b4t vocabulary of 128256 that puts BOS at 128000, as in the
 * official file).  BOS is the first special, EOS the second. */
static tc_status write_vocab(tc_gguf_writer *w, uint32_t V, tc_err *err)
{
    uint32_t n_special = V - 256 < 256 ? V - 256 : 256, first_special = V - n_special;
    char **tok = calloc(V, sizeof *tok);
    int32_t *type = calloc(V, sizeof *type);
    tc_status s = TC_E_NOMEM;
    if (!tok || !type) goto out;
    for (uint32_t i = 0; i < V; i++) {
        char buf[48];
        if (i < 256) byte_token(i, buf);
        else if (i < first_special) snprintf(buf, sizeof buf, "[filler%" PRIu32 "]", i);
        else special_token(i - first_special, buf, sizeof buf);
        if (!(tok[i] = strdup(buf))) goto out;
        type[i] = i >= first_special ? 3 : 1;   /* 3 = control, 1 = normal */
    }
    if ((s = tc_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", err)) ||
        (s = tc_gguf_writer_set_str(w, "tokenizer.ggml.pre", "llama-bpe", err)) ||
        (s = tc_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", V, (const char *const *)tok, err)) ||
        (s = tc_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", TC_GGUF_I32, V, type, err)) ||
        (s = tc_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", 0, NULL, err)) ||
        (s = tc_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", first_special, err)) ||
        (s = tc_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", first_special + 1, err)))
        goto out;
    s = TC_OK;
out:
    if (s == TC_E_NOMEM) tc_fail(err, s, "gen: out of memory for the vocabulary");
    for (uint32_t i = 0; tok && i < V; i++) free(tok[i]);
    free(tok);
    free(type);
    return s;
}

static tc_status write_metadata(tc_gguf_writer *w, const tc_gen_opts *o, tc_err *err)
{
    char name[128], key[128];
    uint32_t ft = o->weight_type == TC_TYPE_I2_S ? 40 : o->weight_type == TC_TYPE_F16 ? 1 : 0;
    snprintf(name, sizeof name, "tritcheck-gen-%s-seed%" PRIu64 "%s", o->name ? o->name : "custom", o->seed,
             o->latent ? "-latent" : "");
    tc_status s;
    if ((s = tc_gguf_writer_set_str(w, "general.architecture", o->arch, err)) ||
        (s = tc_gguf_writer_set_str(w, "general.name", name, err)))
        return s;
    struct { const char *suffix; uint32_t v; } u32s[] = {
        { "vocab_size", o->n_vocab }, { "context_length", o->n_ctx }, { "embedding_length", o->n_embd },
        { "block_count", o->n_layer }, { "feed_forward_length", o->n_ff },
        { "rope.dimension_count", o->n_embd / o->n_head }, { "attention.head_count", o->n_head },
        { "attention.head_count_kv", o->n_head_kv },
    };
    for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++) {
        snprintf(key, sizeof key, "%s.%s", o->arch, u32s[i].suffix);
        if ((s = tc_gguf_writer_set_u32(w, key, u32s[i].v, err))) return s;
    }
    snprintf(key, sizeof key, "%s.rope.freq_base", o->arch);
    if ((s = tc_gguf_writer_set_f32(w, key, (float)o->rope_base, err))) return s;
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", o->arch);
    if ((s = tc_gguf_writer_set_f32(w, key, o->eps, err))) return s;
    if (!strcmp(o->arch, "bitnet") && !o->silu) {   /* llama.cpp's arch defaults to SiLU */
        snprintf(key, sizeof key, "%s.hidden_activation", o->arch);
        if ((s = tc_gguf_writer_set_str(w, key, "relu2", err))) return s;
    }
    if ((s = tc_gguf_writer_set_u32(w, "general.file_type", ft, err)) ||
        (s = tc_gguf_writer_set_u32(w, "general.quantization_version", 2, err)))
        return s;
    return write_vocab(w, o->n_vocab, err);
}

/* ---- tensors ---- */

enum tkind { T_EMBED, T_NORM, T_LINEAR };

typedef struct gtensor {
    char name[64];
    enum tkind kind;
    uint64_t ne0, ne1;   /* ne1 = 1 for a vector */
    tc_type type;
} gtensor;

/* The official tensor order of bitnet.cpp's files. */
static size_t list_tensors(const tc_gen_opts *o, gtensor *t)
{
    size_t n = 0;
    uint64_t d = o->n_embd, ff = o->n_ff, dkv = (uint64_t)o->n_head_kv * (o->n_embd / o->n_head);
#define ADD(kind_, ne0_, ne1_, type_, ...) \
    do { snprintf(t[n].name, sizeof t[n].name, __VA_ARGS__); t[n].kind = kind_; \
         t[n].ne0 = ne0_; t[n].ne1 = ne1_; t[n].type = type_; n++; } while (0)
    ADD(T_EMBED, d, o->n_vocab, TC_TYPE_F16, "token_embd.weight");
    for (uint32_t l = 0; l < o->n_layer; l++) {
        tc_type lt = o->weight_type;
        ADD(T_NORM, d, 1, TC_TYPE_F32, "blk.%" PRIu32 ".attn_norm.weight", l);
        ADD(T_LINEAR, d, d, lt, "blk.%" PRIu32 ".attn_q.weight", l);
        ADD(T_LINEAR, d, dkv, lt, "blk.%" PRIu32 ".attn_k.weight", l);
        ADD(T_LINEAR, d, dkv, lt, "blk.%" PRIu32 ".attn_v.weight", l);
        ADD(T_LINEAR, d, d, lt, "blk.%" PRIu32 ".attn_output.weight", l);
        ADD(T_NORM, d, 1, TC_TYPE_F32, "blk.%" PRIu32 ".attn_sub_norm.weight", l);
        ADD(T_NORM, d, 1, TC_TYPE_F32, "blk.%" PRIu32 ".ffn_norm.weight", l);
        ADD(T_LINEAR, d, ff, lt, "blk.%" PRIu32 ".ffn_gate.weight", l);
        ADD(T_LINEAR, d, ff, lt, "blk.%" PRIu32 ".ffn_up.weight", l);
        ADD(T_LINEAR, ff, d, lt, "blk.%" PRIu32 ".ffn_down.weight", l);
        ADD(T_NORM, ff, 1, TC_TYPE_F32, "blk.%" PRIu32 ".ffn_sub_norm.weight", l);
    }
    ADD(T_NORM, d, 1, TC_TYPE_F32, "output_norm.weight");
#undef ADD
    return n;
}

/* Seed of tensor i's own stream: splitmix64 of (seed, i). */
static unsigned long tensor_seed(uint64_t seed, size_t i)
{
    uint64_t z = seed * 0x9e3779b97f4a7c15ull + (uint64_t)(i + 1) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (unsigned long)((z ^ (z >> 31)) & 0xffffffffu);
}

/* n ternary codes, uniform over {-1, 0, +1}: 20 base-3 digits from each
 * 32-bit draw below 3^20 (draws above it are rejected, keeping it exact). */
static void draw_ternary(gsl_rng *r, int8_t *out, size_t n)
{
    const unsigned long lim = 3486784401ul;   /* 3^20 */
    size_t i = 0;
    while (i < n) {
        unsigned long x = gsl_rng_get(r);
        if (x >= lim) continue;
        for (int k = 0; k < 20 && i < n; k++, x /= 3) out[i++] = (int8_t)((int)(x % 3) - 1);
    }
}

/* Bytes of one row of the stored type, from float values. */
static void store_row(tc_type t, const float *v, size_t n, uint8_t *out)
{
    if (t == TC_TYPE_F32) {
        memcpy(out, v, n * 4);
    } else {
        for (size_t i = 0; i < n; i++) {
            uint16_t h = tc_f32_to_f16(v[i]);
            out[2 * i] = (uint8_t)h;
            out[2 * i + 1] = (uint8_t)(h >> 8);
        }
    }
}

#define ROWS_PER_CHUNK 256

/* Generate and stream one tensor, ROWS_PER_CHUNK rows at a time so that
 * even the 2b4t embedding never needs more than a few MB. */
static tc_status emit_tensor(tc_gguf_writer *w, const tc_gen_opts *o, const gtensor *t, gsl_rng *r,
                             float *fbuf, int8_t *tbuf, uint8_t *obuf, tc_err *err)
{
    tc_status s = TC_OK;
    if (t->kind == T_NORM) {
        for (uint64_t i = 0; i < t->ne0; i++) fbuf[i] = (float)(0.75 + 0.5 * gsl_rng_uniform(r));
        return tc_gguf_writer_write(w, fbuf, t->ne0 * 4, err);
    }
    if (t->kind == T_EMBED) {
        double sigma = 1.0 / sqrt((double)t->ne0);
        for (uint64_t r0 = 0; r0 < t->ne1 && !s; r0 += ROWS_PER_CHUNK) {
            uint64_t nr = t->ne1 - r0 < ROWS_PER_CHUNK ? t->ne1 - r0 : ROWS_PER_CHUNK;
            for (uint64_t i = 0; i < nr * t->ne0; i++) fbuf[i] = (float)gsl_ran_gaussian_ziggurat(r, sigma);
            store_row(t->type, fbuf, nr * t->ne0, obuf);
            s = tc_gguf_writer_write(w, obuf, nr * t->ne0 * 2, err);
        }
        return s;
    }
    /* a linear weight: the scale first, so every storage type shares it */
    float m = (float)((0.75 + 0.5 * gsl_rng_uniform(r)) / sqrt(2.0 * (double)t->ne0 / 3.0));
    for (uint64_t r0 = 0; r0 < t->ne1 && !s; r0 += ROWS_PER_CHUNK) {
        uint64_t nr = t->ne1 - r0 < ROWS_PER_CHUNK ? t->ne1 - r0 : ROWS_PER_CHUNK;
        size_t n = (size_t)(nr * t->ne0);
        if (o->latent) {
            double sigma = m * sqrt(M_PI / 2.0);
            for (size_t i = 0; i < n; i++) fbuf[i] = (float)gsl_ran_gaussian_ziggurat(r, sigma);
            s = tc_gguf_writer_write(w, fbuf, n * 4, err);
            continue;
        }
        draw_ternary(r, tbuf, n);
        if (t->type == TC_TYPE_I2_S) {
            /* packed codes only; the 32-byte tail follows the last chunk */
            for (size_t b = 0; b < n / TC_I2S_BLOCK; b++) {
                uint8_t *ob = obuf + b * TC_I2S_BLOCK_BYTES;
                const int8_t *tb = tbuf + b * TC_I2S_BLOCK;
                for (size_t j = 0; j < 32; j++)
                    ob[j] = (uint8_t)(((tb[j] + 1) << 6) | ((tb[32 + j] + 1) << 4) |
                                      ((tb[64 + j] + 1) << 2) | (tb[96 + j] + 1));
            }
            s = tc_gguf_writer_write(w, obuf, n / 4, err);
        } else {
            for (size_t i = 0; i < n; i++) fbuf[i] = (float)tbuf[i] * m;
            store_row(t->type, fbuf, n, obuf);
            s = tc_gguf_writer_write(w, obuf, n * (t->type == TC_TYPE_F32 ? 4 : 2), err);
        }
    }
    if (!s && t->type == TC_TYPE_I2_S) {
        uint8_t tail[TC_I2S_TAIL_BYTES] = { 0 };
        memcpy(tail, &m, sizeof m);
        s = tc_gguf_writer_write(w, tail, sizeof tail, err);
    }
    return s;
}

tc_status tc_gen_write(const tc_gen_opts *o, const char *path, tc_err *err)
{
    tc_status s = tc_gen_check(o, err);
    if (s) return s;
    size_t max_t = 2 + 11 * (size_t)o->n_layer;
    gtensor *ts = calloc(max_t, sizeof *ts);
    uint64_t widest = o->n_embd > o->n_ff ? o->n_embd : o->n_ff;
    size_t chunk = (size_t)(ROWS_PER_CHUNK * widest);
    float *fbuf = malloc(chunk * sizeof *fbuf);
    int8_t *tbuf = malloc(chunk);
    uint8_t *obuf = malloc(chunk * 4);
    tc_gguf_writer *w = tc_gguf_writer_new(3, 32);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!ts || !fbuf || !tbuf || !obuf || !w || !r) {
        s = tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
        goto out;
    }
    size_t n = list_tensors(o, ts);
    if ((s = write_metadata(w, o, err))) goto out;
    for (size_t i = 0; i < n; i++) {
        const gtensor *t = &ts[i];
        uint64_t ne[2] = { t->ne0, t->ne1 };
        if ((s = tc_gguf_writer_add_tensor(w, t->name, t->type, t->ne1 > 1 ? 2 : 1, ne, err))) goto out;
    }
    if ((s = tc_gguf_writer_begin(w, path, err))) goto out;
    for (size_t i = 0; i < n && !s; i++) {
        gsl_rng_set(r, tensor_seed(o->seed, i));
        s = emit_tensor(w, o, &ts[i], r, fbuf, tbuf, obuf, err);
    }
    if (!s) s = tc_gguf_writer_finish(w, err);
out:
    gsl_rng_free(r);
    tc_gguf_writer_free(w);   /* removes the temporary on failure */
    free(ts);
    free(fbuf);
    free(tbuf);
    free(obuf);
    return s;
}

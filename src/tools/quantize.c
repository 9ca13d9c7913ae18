/* quantize.c -- F32/F16/BF16 models to the official I2_S form (SPEC 2.3),
 * or to llama.cpp's TQ1_0/TQ2_0 (doc/q8k.md). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "format/gguf.h"
#include "format/model.h"
#include "tools/quantize.h"
#include "format/types.h"

/* ---- one tensor ---- */

/* Ternary when every value is 0 or ±m for a single m > 0. */
static bool is_ternary(const float *w, size_t n, float *m)
{
    float mag = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(w[i]);
        if (a == 0.0f) continue;
        if (mag == 0.0f) mag = a;
        else if (a != mag) return false;
    }
    *m = mag;
    return mag > 0.0f;
}

/* codes[n] <- the ternary codes of w by SPEC 2.3's two rules; *m the scale. */
static tc_qrule ternarize(const float *w, size_t n, int8_t *codes, float *m)
{
    if (is_ternary(w, n, m)) {
        /* lossless: what bitnet.cpp's llama-quantize does */
        for (size_t i = 0; i < n; i++) codes[i] = (int8_t)(w[i] > 0.0f ? 1 : w[i] < 0.0f ? -1 : 0);
        return TC_QRULE_TERNARY;
    }
    /* bitnet.cpp's converter: s = 1 / max(1e-5, mean|W|), round(W * s) to
     * nearest even as torch.round, clamped to [-1, 1] */
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += fabs((double)w[i]);
    double mean = n ? sum / (double)n : 0.0;
    *m = (float)(mean > 1e-5 ? mean : 1e-5);
    float s = 1.0f / *m;
    for (size_t i = 0; i < n; i++) {
        float q = nearbyintf(w[i] * s);
        codes[i] = (int8_t)(q > 1.0f ? 1 : q < -1.0f ? -1 : (int)q);
    }
    return TC_QRULE_LATENT;
}

/* ||W - code * m|| / ||W|| (0 for an all-zero W) */
static double rel_rms_error(const float *w, const int8_t *codes, size_t n, float m)
{
    double err2 = 0.0, norm2 = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)w[i] - (double)codes[i] * m;
        err2 += d * d;
        norm2 += (double)w[i] * w[i];
    }
    return norm2 > 0.0 ? sqrt(err2 / norm2) : 0.0;
}

/* Finite weights, into new codes; TC_E_RANGE or TC_E_NOMEM. */
static tc_status codes_of(const float *w, size_t n, int8_t **codes)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(w[i])) return TC_E_RANGE;
    return (*codes = malloc(n ? n : 1)) ? TC_OK : TC_E_NOMEM;
}

tc_status tc_quantize_i2s(const float *w, size_t n, uint8_t *out, tc_qrule *rule, float *scale, double *rel_rms)
{
    if (n % TC_I2S_BLOCK != 0) return TC_E_RANGE;
    int8_t *codes;
    tc_status s = codes_of(w, n, &codes);
    if (s) return s;
    float m = 0.0f;
    *rule = ternarize(w, n, codes, &m);
    *scale = m;
    *rel_rms = rel_rms_error(w, codes, n, m);
    s = tc_i2s_pack(codes, n, m, out);
    free(codes);
    return s;
}

tc_status tc_quantize_tq(const float *w, size_t n, tc_type type, uint8_t *out, tc_qrule *rule, float *scale,
                         double *rel_rms)
{
    if (n % TC_QK_K != 0 || (type != TC_TYPE_TQ1_0 && type != TC_TYPE_TQ2_0)) return TC_E_RANGE;
    int8_t *codes;
    tc_status s = codes_of(w, n, &codes);
    if (s) return s;
    float m = 0.0f;
    *rule = ternarize(w, n, codes, &m);
    /* the scale each block stores: m rounded to F16, or 0 for a block
     * without a non-zero code (llama.cpp's d = max|W| of the block) */
    const uint16_t d = tc_f32_to_f16(m);
    const float md = tc_f16_to_f32(d);
    const size_t bb = type == TC_TYPE_TQ1_0 ? TC_TQ1_BLOCK_BYTES : TC_TQ2_BLOCK_BYTES;
    for (size_t b = 0; b < n / TC_QK_K && !s; b++) {
        const int8_t *c = codes + b * TC_QK_K;
        bool any = false;
        for (size_t i = 0; i < TC_QK_K && !any; i++) any = c[i] != 0;
        s = type == TC_TYPE_TQ1_0 ? tc_tq1_pack_block(c, any ? d : 0, out + b * bb)
                                  : tc_tq2_pack_block(c, any ? d : 0, out + b * bb);
    }
    *scale = md;
    *rel_rms = rel_rms_error(w, codes, n, md);
    free(codes);
    return s;
}

/* ---- the file ---- */

/* Linear weights of SPEC 1.3 (and output.weight): the tensors that become I2_S. */
static bool is_linear(const char *name)
{
    static const char *suffixes[] = { ".attn_q.weight", ".attn_k.weight", ".attn_v.weight",
                                      ".attn_output.weight", ".ffn_gate.weight", ".ffn_up.weight",
                                      ".ffn_down.weight" };
    if (!strcmp(name, "output.weight")) return true;
    if (strncmp(name, "blk.", 4) != 0) return false;
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t sl = strlen(suffixes[i]);
        if (len > sl && !strcmp(name + len - sl, suffixes[i])) return true;
    }
    return false;
}

/* The output type of a tensor: linear weights to `linear` (already
 * ternary types are left alone only when they are that type). */
static uint32_t target_type(const tc_gguf_tensor *t, tc_type linear)
{
    if (is_linear(t->name)) return linear;
    if (!strcmp(t->name, "token_embd.weight") && (t->type == TC_TYPE_F32 || t->type == TC_TYPE_BF16))
        return TC_TYPE_F16;
    return t->type;
}

/* general.file_type of a model whose linear weights are `linear`
 * (llama.cpp's LLAMA_FTYPE_MOSTLY_*; 40 is bitnet.cpp's I2_S). */
static uint32_t file_type_of(tc_type linear)
{
    return linear == TC_TYPE_TQ1_0 ? 36 : linear == TC_TYPE_TQ2_0 ? 37 : 40;
}

static tc_status declare(tc_gguf_writer *w, const tc_gguf *g, tc_type linear, tc_err *err)
{
    tc_status s;
    bool have_qv = false;
    const uint32_t ft = file_type_of(linear);
    for (size_t i = 0; i < g->n_kv; i++) {
        const tc_gguf_kv *kv = &g->kv[i];
        if (!strcmp(kv->key, "general.alignment")) continue;   /* the writer sets it */
        if (!strcmp(kv->key, "general.quantization_version")) have_qv = true;
        if (!strcmp(kv->key, "general.file_type")) s = tc_gguf_writer_set_u32(w, kv->key, ft, err);
        else s = tc_gguf_writer_add(w, kv->key, &kv->value, err);
        if (s) return s;
    }
    if (!tc_gguf_find(g, "general.file_type") && (s = tc_gguf_writer_set_u32(w, "general.file_type", ft, err)))
        return s;
    if (!have_qv && (s = tc_gguf_writer_set_u32(w, "general.quantization_version", 2, err))) return s;
    for (size_t i = 0; i < g->n_tensors; i++) {
        const tc_gguf_tensor *t = &g->tensors[i];
        uint32_t tt = target_type(t, linear);
        const size_t block = tc_type_info(tt)->block_size;
        if (t->ne[0] % block)
            return tc_fail(err, TC_E_MODEL, "%s: %s: ne[0] = %" PRIu64 " is not a multiple of %zu (%s block)",
                           g->path, t->name, t->ne[0], block, tc_type_name(tt));
        if ((s = tc_gguf_writer_add_tensor(w, t->name, tt, t->n_dims, t->ne, err))) return s;
    }
    return TC_OK;
}

/* Write tensor t converted to type tt; log one line. */
static tc_status convert(tc_gguf_writer *w, const tc_gguf *g, const tc_gguf_tensor *t, uint32_t tt,
                         FILE *log, tc_err *err)
{
    if (tt == t->type) {
        if (log) fprintf(log, "%-28s %-5s copied\n", t->name, tc_type_name(t->type));
        return tc_gguf_writer_write(w, t->data, t->nbytes, err);
    }
    size_t n = (size_t)t->n_elements;
    float *f = malloc(n * sizeof *f);
    size_t out_bytes = tc_type_nbytes((tc_type)tt, n);
    uint8_t *out = malloc(out_bytes);
    tc_status s = TC_OK;
    if (!f || !out) {
        s = tc_fail(err, TC_E_NOMEM, "%s: %s: out of memory", g->path, t->name);
        goto done;
    }
    tc_type_info(t->type)->to_float(t->data, t->nbytes, 0, n, f);
    if (tt == TC_TYPE_I2_S || tt == TC_TYPE_TQ1_0 || tt == TC_TYPE_TQ2_0) {
        tc_qrule rule;
        float m;
        double rel;
        s = tt == TC_TYPE_I2_S ? tc_quantize_i2s(f, n, out, &rule, &m, &rel)
                               : tc_quantize_tq(f, n, (tc_type)tt, out, &rule, &m, &rel);
        if (s) {
            s = tc_fail(err, s == TC_E_NOMEM ? TC_E_NOMEM : TC_E_MODEL, "%s: %s: expected finite weights",
                        g->path, t->name);
            goto done;
        }
        /* TQ blocks store m rounded to F16: the line says so */
        if (log)
            fprintf(log, "%-28s %-5s -> %-5s %s m = %.9g%s, relative RMS error %.6f\n", t->name,
                    tc_type_name(t->type), tc_type_name(tt),
                    rule == TC_QRULE_TERNARY ? "ternary (lossless): m = max|W|," : "latent: m = mean|W|,", m,
                    tt == TC_TYPE_I2_S ? "" : " (F16)", rel);
    } else {   /* token_embd to F16 */
        for (size_t i = 0; i < n; i++) {
            uint16_t h = tc_f32_to_f16(f[i]);
            memcpy(out + 2 * i, &h, 2);
        }
        if (log) fprintf(log, "%-28s %-5s -> F16\n", t->name, tc_type_name(t->type));
    }
    s = tc_gguf_writer_write(w, out, out_bytes, err);
done:
    free(f);
    free(out);
    return s;
}

tc_status tc_quantize_file(const char *in_path, const char *out_path, FILE *log, tc_err *err)
{
    return tc_quantize_file_to(in_path, out_path, TC_TYPE_I2_S, log, err);
}

tc_status tc_quantize_file_to(const char *in_path, const char *out_path, tc_type linear, FILE *log, tc_err *err)
{
    if (linear != TC_TYPE_I2_S && linear != TC_TYPE_TQ1_0 && linear != TC_TYPE_TQ2_0)
        return tc_fail(err, TC_E_USAGE, "quantize: type %s: expected i2_s, tq1_0 or tq2_0", tc_type_name(linear));
    /* the input must be a whole, valid model before anything is written */
    tc_model *model;
    tc_status s = tc_model_load(in_path, &model, err);
    if (s) return s;
    const tc_gguf *g = model->gguf;
    tc_gguf_writer *w = tc_gguf_writer_new(3, g->alignment);
    if (!w) {
        tc_model_free(model);
        return tc_fail(err, TC_E_NOMEM, "%s: out of memory", out_path);
    }
    if (!(s = declare(w, g, linear, err)) && !(s = tc_gguf_writer_begin(w, out_path, err))) {
        for (size_t i = 0; i < g->n_tensors && !s; i++)
            s = convert(w, g, &g->tensors[i], target_type(&g->tensors[i], linear), log, err);
        if (!s) s = tc_gguf_writer_finish(w, err);
    }
    tc_gguf_writer_free(w);   /* removes the temporary on failure */
    tc_model_free(model);
    return s;
}

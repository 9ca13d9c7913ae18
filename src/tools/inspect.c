/* inspect.c -- describe and validate a GGUF file (`tritcheck inspect`). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "format/gguf.h"
#include "tools/inspect.h"
#include "format/model.h"
#include "receipt/receipt.h"
#include "base/sha256.h"
#include "format/types.h"

/* Code histogram of an I2_S tensor: counts of codes 0..3 (-1, 0, +1, unused). */
static void i2s_histogram(const tc_gguf_tensor *t, uint64_t hist[4])
{
    memset(hist, 0, 4 * sizeof *hist);
    size_t packed = (size_t)(t->n_elements / 4);
    for (size_t i = 0; i < packed; i++) {
        uint8_t b = t->data[i];
        hist[b >> 6]++;
        hist[(b >> 4) & 3]++;
        hist[(b >> 2) & 3]++;
        hist[b & 3]++;
    }
}

/* Statistics of a TQ1_0/TQ2_0 tensor: value counts (-1, 0, +1, and
 * TQ2_0's unused code 3, which llama.cpp reads as +2) and the range of
 * the per-block F16 scales. */
typedef struct tq_stats {
    uint64_t hist[4];     /* -1, 0, +1, code 3 */
    uint64_t blocks;
    float d_min, d_max;
} tq_stats;

static bool is_tq(uint32_t type) { return type == TC_TYPE_TQ1_0 || type == TC_TYPE_TQ2_0; }

static void tq_histogram(const tc_gguf_tensor *t, tq_stats *st)
{
    const bool tq1 = t->type == TC_TYPE_TQ1_0;
    const size_t bb = tq1 ? TC_TQ1_BLOCK_BYTES : TC_TQ2_BLOCK_BYTES;
    memset(st, 0, sizeof *st);
    st->blocks = t->n_elements / TC_QK_K;
    for (uint64_t b = 0; b < st->blocks; b++) {
        const uint8_t *blk = t->data + b * bb;
        float d = tc_f16_to_f32(tq1 ? tc_tq1_scale_bits(blk) : tc_tq2_scale_bits(blk));
        if (b == 0 || d < st->d_min) st->d_min = d;
        if (b == 0 || d > st->d_max) st->d_max = d;
        for (unsigned i = 0; i < TC_QK_K; i++)
            st->hist[(tq1 ? tc_tq1_value(blk, i) : tc_tq2_value(blk, i)) + 1]++;
    }
}

static void shape_str(const tc_gguf_tensor *t, char *buf, size_t n)
{
    size_t used = (size_t)snprintf(buf, n, "{");
    for (uint32_t d = 0; d < t->n_dims && used < n; d++)
        used += (size_t)snprintf(buf + used, n - used, "%s%" PRIu64, d ? ", " : "", t->ne[d]);
    if (used < n) snprintf(buf + used, n - used, "}");
}

/* ---- text ---- */

static void print_text(const tc_gguf *g, const char *sha, const tc_model *m, const tc_err *verr, FILE *out)
{
    fprintf(out, "file: %s\nsize: %zu bytes\nsha256: %s\ngguf version: %" PRIu32 ", alignment %zu, data at byte %zu\n",
            g->path, g->size, sha, g->version, g->alignment, g->data_offset);
    fprintf(out, "\nmetadata (%zu keys):\n", g->n_kv);
    for (size_t i = 0; i < g->n_kv; i++) {
        char val[512];
        tc_gguf_value_format(&g->kv[i].value, val, sizeof val);
        fprintf(out, "  %-44s %-7s %s\n", g->kv[i].key, tc_gguf_vtype_name(g->kv[i].value.type), val);
    }
    size_t counts[64] = { 0 };
    fprintf(out, "\ntensors (%zu):\n  %-32s %-16s %-5s %12s %12s\n", g->n_tensors, "name", "shape", "type", "bytes", "offset");
    for (size_t i = 0; i < g->n_tensors; i++) {
        const tc_gguf_tensor *t = &g->tensors[i];
        char shape[96];
        shape_str(t, shape, sizeof shape);
        fprintf(out, "  %-32s %-16s %-5s %12zu %12zu\n", t->name, shape, tc_type_name(t->type), t->nbytes,
                g->data_offset + (size_t)t->offset);
        counts[t->type < 64 ? t->type : 63]++;
    }
    fprintf(out, "\ntensor types:");
    for (uint32_t ty = 0; ty < 64; ty++)
        if (counts[ty]) fprintf(out, " %s %zu", tc_type_name(ty), counts[ty]);
    fprintf(out, "\n");
    bool any = false;
    for (size_t i = 0; i < g->n_tensors; i++) {
        const tc_gguf_tensor *t = &g->tensors[i];
        if (t->type != TC_TYPE_I2_S) continue;
        if (!any) fprintf(out, "\nI2_S tensors:\n  %-32s %14s %8s %8s %8s %8s\n", "name", "scale", "-1", "0", "+1", "code3");
        any = true;
        uint64_t h[4];
        i2s_histogram(t, h);
        double n = (double)t->n_elements;
        fprintf(out, "  %-32s %14.9g %7.2f%% %7.2f%% %7.2f%% %8" PRIu64 "\n", t->name,
                tc_i2s_scale(t->data, (size_t)t->n_elements), 100 * h[0] / n, 100 * h[1] / n, 100 * h[2] / n, h[3]);
    }
    any = false;
    for (size_t i = 0; i < g->n_tensors; i++) {
        const tc_gguf_tensor *t = &g->tensors[i];
        if (!is_tq(t->type)) continue;
        if (!any)
            fprintf(out, "\nTQ1_0/TQ2_0 tensors (one F16 scale per block of 256):\n  %-32s %-5s %8s %12s %12s %8s %8s %8s %8s\n",
                    "name", "type", "blocks", "scale min", "scale max", "-1", "0", "+1", "code3");
        any = true;
        tq_stats st;
        tq_histogram(t, &st);
        double n = (double)t->n_elements;
        fprintf(out, "  %-32s %-5s %8" PRIu64 " %12.6g %12.6g %7.2f%% %7.2f%% %7.2f%% %8" PRIu64 "\n", t->name,
                tc_type_name(t->type), st.blocks, (double)st.d_min, (double)st.d_max, 100 * st.hist[0] / n,
                100 * st.hist[1] / n, 100 * st.hist[2] / n, st.hist[3]);
    }
    if (m) {
        const tc_hparams *hp = &m->hp;
        fprintf(out, "\nmodel: %s, vocab %" PRIu32 ", context %" PRIu32 ", embedding %" PRIu32 ", %" PRIu32
                " blocks, FFN %" PRIu32 ", %" PRIu32 " heads, %" PRIu32 " KV heads (head_dim %" PRIu32
                "), RoPE base %g, eps %g, FFN activation %s, LM head %s\n",
                hp->arch, hp->n_vocab, hp->n_ctx, hp->n_embd, hp->n_layer, hp->n_ff, hp->n_head, hp->n_head_kv,
                hp->head_dim, hp->rope_base, (double)hp->eps, hp->act == TC_ACT_RELU2 ? "relu2" : "silu",
                m->output.t ? "output.weight" : "tied to token_embd");
        fprintf(out, "verdict: valid\n");
    } else {
        fprintf(out, "\nverdict: invalid: %s\n", verr->msg);
    }
}

/* ---- JSON ---- */

static cJSON *value_json(const tc_gguf_value *v)
{
    switch (v->type) {
    case TC_GGUF_STRING: {
        char *s = malloc((size_t)v->v.str.len + 1);
        if (!s) return NULL;
        memcpy(s, v->v.str.ptr, (size_t)v->v.str.len);
        s[v->v.str.len] = '\0';
        cJSON *j = cJSON_CreateString(s);
        free(s);
        return j;
    }
    case TC_GGUF_ARRAY: {
        /* long arrays (vocabularies) are summarized, not dumped */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "element_type", tc_gguf_vtype_name(v->v.arr.type));
        cJSON_AddNumberToObject(o, "length", (double)v->v.arr.n);
        cJSON *items = cJSON_AddArrayToObject(o, "first");
        for (uint64_t i = 0; i < v->v.arr.n && i < 8; i++)
            cJSON_AddItemToArray(items, v->v.arr.items ? value_json(&v->v.arr.items[i])
                                                       : cJSON_CreateNumber(tc_gguf_array_num(v, i)));
        return o;
    }
    case TC_GGUF_BOOL: return cJSON_CreateBool(v->v.b);
    case TC_GGUF_F32: case TC_GGUF_F64: return cJSON_CreateNumber(v->v.f);
    case TC_GGUF_I8: case TC_GGUF_I16: case TC_GGUF_I32: case TC_GGUF_I64: return cJSON_CreateNumber((double)v->v.i);
    default: return cJSON_CreateNumber((double)v->v.u);
    }
}

static void print_json(const tc_gguf *g, const char *sha, const tc_model *m, const tc_err *verr, FILE *out)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "file", g->path);
    cJSON_AddNumberToObject(root, "size", (double)g->size);
    cJSON_AddStringToObject(root, "sha256", sha);
    cJSON_AddNumberToObject(root, "gguf_version", g->version);
    cJSON_AddNumberToObject(root, "alignment", (double)g->alignment);
    cJSON *md = cJSON_AddObjectToObject(root, "metadata");
    for (size_t i = 0; i < g->n_kv; i++) {
        cJSON *e = cJSON_AddObjectToObject(md, g->kv[i].key);
        cJSON_AddStringToObject(e, "type", tc_gguf_vtype_name(g->kv[i].value.type));
        cJSON_AddItemToObject(e, "value", value_json(&g->kv[i].value));
    }
    cJSON *ts = cJSON_AddArrayToObject(root, "tensors");
    cJSON *types = cJSON_AddObjectToObject(root, "tensor_types");
    for (size_t i = 0; i < g->n_tensors; i++) {
        const tc_gguf_tensor *t = &g->tensors[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", t->name);
        cJSON *shape = cJSON_AddArrayToObject(e, "shape");
        for (uint32_t d = 0; d < t->n_dims; d++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->ne[d]));
        cJSON_AddStringToObject(e, "type", tc_type_name(t->type));
        cJSON_AddNumberToObject(e, "bytes", (double)t->nbytes);
        cJSON_AddNumberToObject(e, "offset", (double)(g->data_offset + t->offset));
        if (t->type == TC_TYPE_I2_S) {
            uint64_t h[4];
            i2s_histogram(t, h);
            cJSON_AddNumberToObject(e, "scale", tc_i2s_scale(t->data, (size_t)t->n_elements));
            cJSON *hist = cJSON_AddObjectToObject(e, "codes");
            cJSON_AddNumberToObject(hist, "-1", (double)h[0]);
            cJSON_AddNumberToObject(hist, "0", (double)h[1]);
            cJSON_AddNumberToObject(hist, "+1", (double)h[2]);
            cJSON_AddNumberToObject(hist, "unused_code3", (double)h[3]);
        } else if (is_tq(t->type)) {
            tq_stats st;
            tq_histogram(t, &st);
            cJSON_AddNumberToObject(e, "blocks", (double)st.blocks);
            cJSON_AddNumberToObject(e, "scale_min", st.d_min);
            cJSON_AddNumberToObject(e, "scale_max", st.d_max);
            cJSON *hist = cJSON_AddObjectToObject(e, "codes");
            cJSON_AddNumberToObject(hist, "-1", (double)st.hist[0]);
            cJSON_AddNumberToObject(hist, "0", (double)st.hist[1]);
            cJSON_AddNumberToObject(hist, "+1", (double)st.hist[2]);
            if (t->type == TC_TYPE_TQ2_0) cJSON_AddNumberToObject(hist, "unused_code3", (double)st.hist[3]);
        }
        cJSON_AddItemToArray(ts, e);
    }
    tc_tensor_type_counts(types, g);
    if (m) {
        cJSON *h = tc_hparams_json(&m->hp, true);
        cJSON_AddBoolToObject(h, "tied_lm_head", m->output.t == NULL);
        cJSON_AddItemToObject(root, "model", h);
    }
    cJSON_AddBoolToObject(root, "valid", m != NULL);
    if (!m) cJSON_AddStringToObject(root, "error", verr->msg);
    char *txt = cJSON_Print(root);
    if (txt) fprintf(out, "%s\n", txt);
    free(txt);
    cJSON_Delete(root);
}

tc_status tc_inspect(const char *path, bool json, FILE *out, tc_err *err)
{
    tc_gguf *g;
    tc_status s = tc_gguf_open(path, &g, err);
    if (s) return s;
    char sha[TC_SHA256_HEX];
    if ((s = tc_sha256_file(path, sha, err))) {
        tc_gguf_close(g);
        return s;
    }
    tc_model *m = NULL;
    tc_err verr = { 0 };
    tc_status vs = tc_model_from_gguf(g, &m, &verr);
    if (json) print_json(g, sha, m, &verr, out);
    else print_text(g, sha, m, &verr, out);
    if (m) tc_model_free(m);   /* frees g too */
    else tc_gguf_close(g);
    if (vs && err) *err = verr;
    return vs;
}

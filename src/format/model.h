/* model.h -- BitNet b1.58 hyper-parameters and tensor binding (SPEC 1.3).
 *
 * Loading a model opens the GGUF file, reads the hyper-parameters of one of
 * the accepted architectures, and binds every tensor of SPEC 1.3 after
 * checking its presence, type and shape.  Weights stay borrowed pointers
 * into the mapped file: nothing is expanded or copied.
 */
#ifndef TC_MODEL_H
#define TC_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "format/gguf.h"
#include "format/types.h"

/* FFN activation. */
typedef enum tc_act {
    TC_ACT_RELU2,   /* relu(x)^2: bitnet-b1.58, bitnet-25, or hidden_activation relu2 */
    TC_ACT_SILU     /* x * sigmoid(x): llama.cpp's bitnet by default */
} tc_act;

typedef struct tc_hparams {
    char arch[32];        /* general.architecture, the key prefix */
    tc_act act;           /* FFN activation */
    uint32_t n_vocab;     /* rows of token_embd */
    uint32_t n_ctx;       /* trained context length */
    uint32_t n_embd;      /* d, the residual width */
    uint32_t n_layer;     /* transformer blocks */
    uint32_t n_ff;        /* FFN hidden width */
    uint32_t n_head;      /* query heads */
    uint32_t n_head_kv;   /* key/value heads (GQA groups) */
    uint32_t head_dim;    /* n_embd / n_head */
    double rope_base;     /* RoPE frequency base */
    float eps;            /* RMSNorm epsilon */
    uint32_t file_type;   /* general.file_type, or UINT32_MAX when absent */
} tc_hparams;

/* One bound weight.  `t` is NULL for an absent optional tensor. */
typedef struct tc_weight {
    const tc_gguf_tensor *t;
    tc_type type;
    const void *data;     /* borrowed from the mapping */
    uint64_t ne0, ne1;    /* ne0 = K (input width), ne1 = rows (output width) */
    float scale;          /* I2_S per-tensor scale m; 1.0 for other types (TQ1_0 and
                           * TQ2_0 carry one F16 scale per block of 256) */
} tc_weight;

typedef struct tc_layer {
    tc_weight attn_norm;      /* F32 {d} */
    tc_weight attn_q;         /* {d, d} */
    tc_weight attn_k;         /* {d, d_kv} */
    tc_weight attn_v;         /* {d, d_kv} */
    tc_weight attn_sub_norm;  /* F32 {d} */
    tc_weight attn_output;    /* {d, d} */
    tc_weight ffn_norm;       /* F32 {d} */
    tc_weight ffn_gate;       /* {d, ffn} */
    tc_weight ffn_up;         /* {d, ffn} */
    tc_weight ffn_sub_norm;   /* F32 {ffn} */
    tc_weight ffn_down;       /* {ffn, d} */
    /* optional F32 {1} output multipliers (llama.cpp's bitnet arch) */
    tc_weight attn_q_scale, attn_k_scale, attn_v_scale, attn_output_scale;
    tc_weight ffn_gate_scale, ffn_up_scale, ffn_down_scale;
} tc_layer;

typedef struct tc_model {
    tc_gguf *gguf;            /* owned */
    tc_hparams hp;
    tc_weight token_embd;     /* {d, vocab}: F32/F16/BF16 */
    tc_weight output;         /* {d, vocab}, or absent: tied to token_embd */
    tc_weight output_norm;    /* F32 {d} */
    tc_layer *layers;         /* hp.n_layer entries */
} tc_model;

/* Open `path` and bind the model.  Returns TC_OK, TC_E_IO, TC_E_FORMAT
 * (malformed GGUF), TC_E_MODEL (missing key or tensor, wrong type or
 * shape: the message names the file and tensor), or TC_E_NOMEM. */
tc_status tc_model_load(const char *path, tc_model **out, tc_err *err);

/* Bind a model on an open GGUF; on success the model owns g, on failure
 * the caller still does.  Same codes as tc_model_load. */
tc_status tc_model_from_gguf(tc_gguf *g, tc_model **out, tc_err *err);

/* Free the model and its GGUF; NULL is a no-op. */
void tc_model_free(tc_model *m);

/* The LM head: output.weight when present, else token_embd (tied). */
const tc_weight *tc_model_lm_head(const tc_model *m);

/* Decode row r of a {K, rows} weight into out[K] as floats (code * m for
 * I2_S).  Never expands more than one row. */
void tc_weight_row(const tc_weight *w, uint64_t r, float *out);

#endif

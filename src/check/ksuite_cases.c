/* ksuite_cases.c -- the kernel suite's case table: odd row counts, every
 * K the model family uses, the 2b4t shapes, and edge values (see
 * ksuite_impl.h). */
#include <stdio.h>

#include "check/ksuite_impl.h"

const char *const tc_ks_kernel_name[TC_KS_N_KERNELS] = {
    "i2s_gemv", "i2s_gemm", "rmsnorm_q8", "rmsnorm", "f16_gemv", "f16_gemm", "attention_head", "i2s_scale",
    "relu2_mul", "add",
};

const char *const tc_ks_input_name[TC_KS_N_INPUTS] = {
    "random", "q8=-128", "q8=127", "q8=alternating", "zero-rows", "sign-rows", "extreme-sums", "code3",
    "zeros", "denormal", "spike", "huge", "f16-subnormal", "f16-max", "neg-scores", "equal-scores",
    "specials", "ties",
};

/* Case n of the table, written only when v is not NULL (the first pass
 * counts, the second fills). */
#define C(...) (v ? (void)(v[n] = (tc_ks_case){ __VA_ARGS__ }) : (void)0, n++)

static const size_t odd[] = { 1, 3, 17 };
/* the 2b4t linears {rows x K} */
static const struct { size_t rows, K; const char *label; } m2b4t[] = {
    { 2560, 2560, "2b4t attn_q/attn_output" }, { 640, 2560, "2b4t attn_k/attn_v" },
    { 6912, 2560, "2b4t ffn_gate/ffn_up" }, { 2560, 6912, "2b4t ffn_down" },
};
static const tc_ks_input i2s_edges[] = { TC_KS_IN_Q8_MIN, TC_KS_IN_Q8_MAX, TC_KS_IN_Q8_ALT, TC_KS_IN_ZERO_ROWS,
                                         TC_KS_IN_SIGN_ROWS, TC_KS_IN_EXTREME_SUMS, TC_KS_IN_CODE3 };

/* I2_S GEMV: every K of the family at odd row counts, the 2b4t shapes,
 * edges; GEMM: odd rows, a few K, 2, 5 and 45 tokens (5 and 45 with a gap
 * up to ld; 45 = a 32-token AMX tile, 8 and 5 more for the VNNI
 * micro-kernels), the 2b4t shapes at 32 tokens, edges at 5 and 37 */
static size_t i2s_cases(tc_ks_case *v, size_t n)
{
    for (size_t K = 128; K <= 6912; K += 128)
        for (size_t r = 0; r < 3; r++) C(.kernel = TC_KS_I2S_GEMV, .rows = odd[r], .K = K, .n = 1, .ld = odd[r]);
    for (size_t i = 0; i < 4; i++)
        C(.kernel = TC_KS_I2S_GEMV, .rows = m2b4t[i].rows, .K = m2b4t[i].K, .n = 1, .ld = m2b4t[i].rows,
          .timed = true, .label = m2b4t[i].label);
    for (size_t e = 0; e < 7; e++) {
        C(.kernel = TC_KS_I2S_GEMV, .rows = 17, .K = 2560, .n = 1, .ld = 17, .input = i2s_edges[e]);
        C(.kernel = TC_KS_I2S_GEMV, .rows = 3, .K = 6912, .n = 1, .ld = 3, .input = i2s_edges[e]);
    }
    static const size_t gk[] = { 128, 1152, 2560, 6912 };
    for (size_t k = 0; k < 4; k++)
        for (size_t r = 0; r < 3; r++) {
            C(.kernel = TC_KS_I2S_GEMM, .rows = odd[r], .K = gk[k], .n = 2, .ld = odd[r]);
            C(.kernel = TC_KS_I2S_GEMM, .rows = odd[r], .K = gk[k], .n = 5, .ld = odd[r] + 3);
            C(.kernel = TC_KS_I2S_GEMM, .rows = odd[r], .K = gk[k], .n = 45, .ld = odd[r] + 5);
        }
    C(.kernel = TC_KS_I2S_GEMM, .rows = 50, .K = 1152, .n = 45, .ld = 53);   /* two group pairs, the last partial */
    for (size_t i = 0; i < 4; i++)
        C(.kernel = TC_KS_I2S_GEMM, .rows = m2b4t[i].rows, .K = m2b4t[i].K, .n = 32, .ld = m2b4t[i].rows,
          .timed = true, .label = m2b4t[i].label);
    for (size_t e = 0; e < 7; e++) {
        C(.kernel = TC_KS_I2S_GEMM, .rows = 17, .K = 2560, .n = 5, .ld = 20, .input = i2s_edges[e]);
        C(.kernel = TC_KS_I2S_GEMM, .rows = 35, .K = 6912, .n = 37, .ld = 35, .input = i2s_edges[e]);
    }
    return n;
}

/* norms (one row each): odd and model widths, edges */
static size_t norm_cases(tc_ks_case *v, size_t n)
{
    static const size_t nn[] = { 1, 3, 17, 128, 136, 1000, 2560, 6912 };
    static const tc_ks_input norm_edges[] = { TC_KS_IN_ZEROS, TC_KS_IN_DENORMAL, TC_KS_IN_SPIKE, TC_KS_IN_HUGE,
                                              TC_KS_IN_TIES };
    for (int kn = TC_KS_RMSNORM_Q8; kn <= TC_KS_RMSNORM; kn++) {
        for (size_t i = 0; i < 8; i++)
            C(.kernel = (tc_ks_kernel)kn, .K = nn[i], .n = 1, .timed = nn[i] >= 2560,
              .label = nn[i] == 2560 ? "2b4t d" : nn[i] == 6912 ? "2b4t ffn" : NULL);
        for (size_t e = 0; e < 5; e++) {
            C(.kernel = (tc_ks_kernel)kn, .K = 2560, .n = 1, .input = norm_edges[e]);
            C(.kernel = (tc_ks_kernel)kn, .K = 17, .n = 1, .input = norm_edges[e]);
        }
    }
    return n;
}

/* F16 GEMV / GEMM (the tied LM head), odd K included; attention: 1 to
 * 4096 keys, head dims 128, 64 and 40 */
static size_t f16_attention_cases(tc_ks_case *v, size_t n)
{
    static const size_t fk[] = { 7, 100, 128, 2560 };
    for (size_t k = 0; k < 4; k++)
        for (size_t r = 0; r < 3; r++) {
            C(.kernel = TC_KS_F16_GEMV, .rows = odd[r], .K = fk[k], .n = 1, .ld = odd[r]);
            if (fk[k] == 7) continue;
            C(.kernel = TC_KS_F16_GEMM, .rows = odd[r], .K = fk[k], .n = 2, .ld = odd[r]);
            C(.kernel = TC_KS_F16_GEMM, .rows = odd[r], .K = fk[k], .n = 5, .ld = odd[r] + 3);
        }
    C(.kernel = TC_KS_F16_GEMV, .rows = 17, .K = 2560, .n = 1, .ld = 17, .input = TC_KS_IN_F16_SUBNORMAL);
    C(.kernel = TC_KS_F16_GEMV, .rows = 17, .K = 2560, .n = 1, .ld = 17, .input = TC_KS_IN_F16_MAX);
    C(.kernel = TC_KS_F16_GEMM, .rows = 17, .K = 2560, .n = 5, .ld = 17, .input = TC_KS_IN_F16_SUBNORMAL);
    C(.kernel = TC_KS_F16_GEMV, .rows = 128256, .K = 2560, .n = 1, .ld = 128256, .large = true, .timed = true,
      .label = "2b4t lm_head");
    static const size_t nk[] = { 1, 7, 100, 1000, 4096 }, hd[] = { 128, 64, 40 };
    for (size_t j = 0; j < 5; j++)
        for (size_t h = 0; h < 3; h++)
            C(.kernel = TC_KS_ATTENTION, .rows = nk[j], .K = hd[h], .n = 1, .timed = hd[h] == 128 && nk[j] >= 1000,
              .label = hd[h] == 128 && nk[j] == 4096 ? "2b4t decode at 4096" : NULL);
    C(.kernel = TC_KS_ATTENTION, .rows = 4, .K = 128, .n = 1, .input = TC_KS_IN_NEG_SCORES);
    C(.kernel = TC_KS_ATTENTION, .rows = 4096, .K = 128, .n = 1, .input = TC_KS_IN_NEG_SCORES);
    C(.kernel = TC_KS_ATTENTION, .rows = 100, .K = 128, .n = 1, .input = TC_KS_IN_EQUAL_SCORES);
    return n;
}

/* element-wise steps: lengths around the 8-lane width, the 2b4t rows,
 * special values; i2s_scale with (n = 2) and without (n = 1) the extra
 * multiplier */
static size_t elementwise_cases(tc_ks_case *v, size_t n)
{
    static const size_t en[] = { 1, 7, 8, 17, 2560, 6912 };
    for (int kn = TC_KS_I2S_SCALE; kn <= TC_KS_ADD; kn++) {
        for (size_t i = 0; i < 6; i++)
            for (size_t t = 1; t <= (kn == TC_KS_I2S_SCALE ? 2u : 1u); t++)
                C(.kernel = (tc_ks_kernel)kn, .K = en[i], .n = t);
        C(.kernel = (tc_ks_kernel)kn, .K = 1000, .n = 2, .input = TC_KS_IN_SPECIALS);
    }
    return n;
}

#undef C

size_t tc_ks_cases(tc_ks_case *v)
{
    return elementwise_cases(v, f16_attention_cases(v, norm_cases(v, i2s_cases(v, 0))));
}

void tc_ks_shape_text(const tc_ks_case *c, char *buf, size_t size)
{
    switch (c->kernel) {
    case TC_KS_RMSNORM_Q8:
    case TC_KS_RMSNORM:
    case TC_KS_RELU2_MUL:
    case TC_KS_ADD: snprintf(buf, size, "n=%zu", c->K); break;
    case TC_KS_I2S_SCALE: snprintf(buf, size, "n=%zu%s", c->K, c->n == 2 ? " mul" : ""); break;
    case TC_KS_ATTENTION: snprintf(buf, size, "keys=%zu hd=%zu", c->rows, c->K); break;
    default:
        if (c->n == 1) snprintf(buf, size, "%zux%zu", c->rows, c->K);
        else if (c->ld == c->rows) snprintf(buf, size, "%zux%zu n=%zu", c->rows, c->K, c->n);
        else snprintf(buf, size, "%zux%zu n=%zu ld=%zu", c->rows, c->K, c->n, c->ld);
    }
}

const char *tc_ks_variant(const tc_fast_kernels *kt, tc_ks_kernel k)
{
    switch (k) {
    case TC_KS_I2S_GEMV: return kt->i2s_gemv_name;
    case TC_KS_I2S_GEMM: return kt->i2s_gemm_name;
    case TC_KS_RMSNORM_Q8: return kt->rmsnorm_q8_name;
    case TC_KS_RMSNORM: return kt->rmsnorm_name;
    case TC_KS_F16_GEMV: return kt->f16_gemv_name;
    case TC_KS_F16_GEMM: return kt->f16_gemm_name;
    case TC_KS_I2S_SCALE: return kt->i2s_gemv_name;   /* the epilogue of the I2_S linears */
    case TC_KS_RELU2_MUL: return kt->relu2_mul_name;
    case TC_KS_ADD: return kt->add_name;
    default: return kt->attention_name;
    }
}

/* check_cuda_engine.c -- the CUDA engine (src/fast/cuda/engine.c) end to
 * end: against the reference engine through the comparator (isolated mode,
 * every tap within 1e-5 scaled, q8 codes equal up to boundary flips) on the
 * generated tiny and small models and on bitnet.cpp's tiny I2_S model; run
 * twice with bit-identical taps; its decode graph against its eager path
 * bit for bit; prefill against decode; its errors.
 *
 * Exits 77 (skip) when CUDA is not built, when there is no GPU, or when the
 * GPU is older than the sm_90 code this build carries -- after checking
 * that opening the engine then fails cleanly (TC_E_UNSUPPORTED, one clear
 * line).  Runs without fork (CK_NOFORK): a CUDA context does not survive
 * fork(). */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/compare.h"
#include "engine/registry.h"
#include "base/gpu.h"
#include "engine/engine.h"
#include "tools/gen.h"
#include "format/model.h"
#include "testutil.h"

/* ---- helpers ---- */

/* a generated model in a temporary file (path returned for unlinking) */
static tc_model *gen_model(const char *preset, tc_type wt, char **path)
{
    tc_gen_opts o;
    tc_err err;
    ck_assert_int_eq(tc_gen_preset(preset, &o, &err), TC_OK);
    o.weight_type = wt;
    *path = tu_temp_path(".gguf");
    ck_assert_msg(tc_gen_write(&o, *path, &err) == TC_OK, "%s", err.msg);
    tc_model *m;
    ck_assert_msg(tc_model_load(*path, &m, &err) == TC_OK, "%s", err.msg);
    return m;
}

static tc_model *vector_model(char **path)
{
    *path = tu_gunzip_temp(tu_vector_path("external/bitnet-cpp/tiny-bitnet-b158-i2_s.gguf.gz"));
    ck_assert_ptr_nonnull(*path);
    tc_model *m;
    tc_err err;
    ck_assert_msg(tc_model_load(*path, &m, &err) == TC_OK, "%s", err.msg);
    return m;
}

static void drop_model(tc_model *m, char *path)
{
    tc_model_free(m);
    unlink(path);
    free(path);
}

static tc_engine *open_engine(const char *name, const tc_model *m, uint32_t n_ctx)
{
    tc_engine_opts o = { .precision = TC_PRECISION_I2S, .n_threads = 2, .n_ctx = n_ctx };
    tc_engine *e;
    tc_err err;
    ck_assert_msg(tc_engine_open(name, m, &o, &e, &err) == TC_OK, "open %s: %s", name, err.msg);
    return e;
}

/* ---- core: against the reference, isolated, twice ---- */

/* Record the ref engine over tokens (n_prompt as one batch, then one by
 * one), compare the cuda engine with it tap by tap, run it twice. */
static void cuda_vs_ref(tc_model *m, const int32_t *tokens_in, uint32_t n_prompt, uint32_t n)
{
    tc_err err;
    int32_t *tokens = malloc(n * sizeof *tokens);
    memcpy(tokens, tokens_in, n * sizeof *tokens);
    tc_engine *ref = open_engine("ref", m, 64), *cuda = open_engine("cuda", m, 64);
    tc_dump *rec;
    uint32_t n_tok = n;
    ck_assert_msg(tc_compare_record(ref, &tokens, &n_tok, n_prompt, 0, &rec, &err) == TC_OK, "%s", err.msg);

    tc_compare_opts o;
    tc_compare_opts_default(&o);   /* isolated, 1e-5, determinism on */
    o.n_prompt = n_prompt;
    tc_compare_result res;
    ck_assert_msg(tc_compare(cuda, rec, tokens, n_tok, &o, &res, &err) == TC_OK, "%s", err.msg);
    tc_compare_print(&res, &o, stderr);
    ck_assert_msg(res.n_taps > 0, "no tap compared");
    /* full coverage: the fused CUDA engine shows every canonical tap */
    ck_assert_msg(res.n_not_compared == 0, "%zu taps not compared (first %s: %s)", res.n_not_compared,
                  res.n_not_compared ? res.not_compared[0].name : "", res.n_not_compared ? res.not_compared[0].reason : "");
    ck_assert_msg(res.n_cand_only == 0, "%zu cuda taps the reference lacks (first %s)", res.n_cand_only,
                  res.n_cand_only ? res.cand_only[0] : "");
    if (!res.pass) {
        const tc_tap_result *f = &res.taps[res.first_fail];
        ck_abort_msg("first failure %s: scaled %g at position %u element %u, %" PRIu64 " q8 mismatches", f->name,
                     f->scaled, f->fail_pos, f->fail_elem, f->q8_mismatches);
    }
    ck_assert_msg(res.deterministic == 1, "two runs differ, first at %s", res.first_nondeterministic);
    /* every kernel it ran has a tap: the logits' and the q8 inputs' among them */
    bool saw_logits = false, saw_q8 = false;
    for (size_t i = 0; i < res.n_taps; i++) {
        saw_logits |= !strcmp(res.taps[i].name, "logits");
        saw_q8 |= res.taps[i].kind == TC_TAP_Q8;
        if (!strcmp(res.taps[i].name, "logits"))
            ck_assert_uint_eq(res.taps[i].top1_agree, res.taps[i].n_pos);
    }
    ck_assert(saw_logits && saw_q8);
    tc_compare_result_free(&res);
    tc_dump_free(rec);
    tc_engine_free(ref);
    tc_engine_free(cuda);
    free(tokens);
}

START_TEST(matches_ref_tiny)
{
    char *p;
    tc_model *m = gen_model("tiny", TC_TYPE_I2_S, &p);
    const int32_t tokens[13] = { 5, 300, 17, 511, 3, 99, 256, 7, 150, 42, 1, 480, 64 };
    cuda_vs_ref(m, tokens, 9, 13);
    drop_model(m, p);
}
END_TEST

START_TEST(matches_ref_small)
{
    char *p;
    tc_model *m = gen_model("small", TC_TYPE_I2_S, &p);
    const int32_t tokens[9] = { 5, 1000, 17, 2047, 3, 99, 512, 7, 1500 };
    cuda_vs_ref(m, tokens, 6, 9);
    drop_model(m, p);
}
END_TEST

START_TEST(matches_ref_bitnet_cpp_vector)
{
    char *p;
    tc_model *m = vector_model(&p);
    /* the vectors' own prompt (README), then four decoded */
    const int32_t tokens[18] = { 1, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100, 33, 10, 72, 105, 33 };
    cuda_vs_ref(m, tokens, 14, 18);
    drop_model(m, p);
}
END_TEST

/* ---- core: the decode graph, prefill and decode ---- */

static tc_status no_op_tap(void *user, const tc_tap *tap, tc_err *err)
{
    (void)tap, (void)err;
    ++*(int *)user;
    return TC_OK;
}

/* logits after the prefill and after each decode: [1 + n - n_pre][n_vocab] */
static float *run_logits(tc_engine *e, const int32_t *tokens, uint32_t n_pre, uint32_t n)
{
    const uint32_t V = tc_engine_model(e)->hp.n_vocab;
    float *out = malloc((size_t)(1 + n - n_pre) * V * sizeof(float));
    tc_err err;
    tc_engine_reset(e);
    ck_assert_msg(tc_engine_prefill(e, tokens, n_pre, 0, &err) == TC_OK, "%s", err.msg);
    memcpy(out, tc_engine_logits(e), V * sizeof(float));
    for (uint32_t i = n_pre; i < n; i++) {
        ck_assert_msg(tc_engine_decode(e, tokens[i], &err) == TC_OK, "%s", err.msg);
        memcpy(out + (size_t)(1 + i - n_pre) * V, tc_engine_logits(e), V * sizeof(float));
    }
    return out;
}

static uint64_t kernel_calls(const tc_engine *e, const char *name)
{
    size_t n;
    const tc_kernel_count *k = tc_engine_kernels(e, &n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(k[i].name, name)) return k[i].calls;
    return 0;
}

START_TEST(graph_decode_equals_eager)
{
    char *p;
    tc_model *m = gen_model("small", TC_TYPE_I2_S, &p);
    const uint32_t V = m->hp.n_vocab, n_pre = 5, n = 14;
    const int32_t tokens[14] = { 5, 1000, 17, 2047, 3, 99, 512, 7, 1500, 42, 8, 1999, 0, 77 };
    tc_engine *e = open_engine("cuda", m, 64);

    /* no callback: prefill eager, every decode a graph replay */
    float *graph = run_logits(e, tokens, n_pre, n);
    ck_assert_uint_eq(kernel_calls(e, "cuda.decode_graph"), n - n_pre);
    /* a second pass replays the same graph at the same positions */
    float *again = run_logits(e, tokens, n_pre, n);
    ck_assert_uint_eq(kernel_calls(e, "cuda.decode_graph"), 2 * (n - n_pre));
    ck_assert_uint_eq(kernel_calls(e, "cuda.attention"),
                      2 * (size_t)m->hp.n_layer * (1 + n - n_pre));   /* replays count their kernels */
    ck_assert_uint_gt(kernel_calls(e, "cuda.i2s_gemv"), 0);
    ck_assert_uint_gt(kernel_calls(e, "cuda.i2s_gemm"), 0);
    ck_assert_uint_gt(kernel_calls(e, "cuda.rmsnorm_q8"), 0);

    /* a callback that changes nothing: every batch eager, taps downloaded */
    int taps = 0;
    tc_engine_set_tap(e, no_op_tap, &taps);
    float *eager = run_logits(e, tokens, n_pre, n);
    ck_assert_int_gt(taps, 0);
    ck_assert_uint_eq(kernel_calls(e, "cuda.decode_graph"), 2 * (n - n_pre));
    const size_t bytes = (size_t)(1 + n - n_pre) * V * sizeof(float);
    ck_assert_msg(!memcmp(graph, again, bytes), "two graph runs differ");
    ck_assert_msg(!memcmp(graph, eager, bytes), "graph decode differs from eager decode");
    tc_engine_free(e);

    /* prefill of all n equals prefill + decodes at the last position */
    e = open_engine("cuda", m, 64);
    tc_err err;
    ck_assert_msg(tc_engine_prefill(e, tokens, n, 0, &err) == TC_OK, "%s", err.msg);
    ck_assert_msg(!memcmp(tc_engine_logits(e), graph + (size_t)(n - n_pre) * V, V * sizeof(float)),
                  "prefill logits differ from decode logits");
    tc_engine_free(e);
    free(graph), free(again), free(eager);
    drop_model(m, p);
}
END_TEST

/* A replaced tap is copied back: scaling blk.0.out by 2 changes the
 * logits, and the engine continues from it (the ref does the same). */
static tc_status double_out0(void *user, const tc_tap *tap, tc_err *err)
{
    (void)user, (void)err;
    if (strcmp(tap->name, "blk.0.out")) return TC_OK;
    for (size_t i = 0; i < (size_t)tap->n_pos * tap->width; i++) tap->f[i] *= 2.0f;
    return TC_OK;
}

START_TEST(replaced_taps_are_used)
{
    char *p;
    tc_model *m = gen_model("tiny", TC_TYPE_I2_S, &p);
    const int32_t tokens[6] = { 5, 300, 17, 511, 3, 99 };
    tc_engine *ref = open_engine("ref", m, 16), *cuda = open_engine("cuda", m, 16);
    tc_engine_set_tap(ref, double_out0, NULL);
    tc_engine_set_tap(cuda, double_out0, NULL);
    float *r = run_logits(ref, tokens, 4, 6), *c = run_logits(cuda, tokens, 4, 6);
    const size_t n = 3 * (size_t)m->hp.n_vocab;
    double md = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = (double)c[i] - r[i];
        md = d * d > md ? d * d : md;
        mr = (double)r[i] * r[i] > mr ? (double)r[i] * r[i] : mr;
    }
    /* chained after the perturbation: close, not within the isolated 1e-5 */
    ck_assert_msg(md <= 1e-4 * mr, "cuda and ref differ after the same replacement (%g vs %g)", md, mr);
    tc_engine_set_tap(cuda, NULL, NULL);
    float *free_run = run_logits(cuda, tokens, 4, 6);
    ck_assert_msg(memcmp(free_run, c, n * sizeof(float)), "the replaced tap was ignored");
    free(r), free(c), free(free_run);
    tc_engine_free(ref);
    tc_engine_free(cuda);
    drop_model(m, p);
}
END_TEST

/* ---- errors ---- */

static tc_status stop_at_attn(void *user, const tc_tap *tap, tc_err *err)
{
    (void)user;
    if (strcmp(tap->name, "blk.0.attn")) return TC_OK;
    return tc_fail(err, TC_E_RANGE, "stopped at %s", tap->name);
}

START_TEST(unsupported_models_and_options)
{
    char *p;
    tc_err err;
    tc_engine *e;
    tc_model *m = gen_model("tiny", TC_TYPE_F32, &p);
    ck_assert_int_eq(tc_engine_open("cuda", m, NULL, &e, &err), TC_E_UNSUPPORTED);
    ck_assert_ptr_null(e);
    ck_assert_msg(strstr(err.msg, "I2_S"), "%s", err.msg);
    drop_model(m, p);

    m = gen_model("tiny", TC_TYPE_I2_S, &p);
    tc_engine_opts o = { .precision = TC_PRECISION_FP32, .n_threads = 1 };
    ck_assert_int_eq(tc_engine_open("cuda", m, &o, &e, &err), TC_E_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "fp32"), "%s", err.msg);

    /* a callback's error stops the batch and comes back */
    e = open_engine("cuda", m, 16);
    tc_engine_set_tap(e, stop_at_attn, NULL);
    const int32_t tokens[3] = { 1, 2, 3 };
    ck_assert_int_eq(tc_engine_prefill(e, tokens, 3, 0, &err), TC_E_RANGE);
    ck_assert_str_eq(err.msg, "stopped at blk.0.attn");
    ck_assert_uint_eq(tc_engine_n_past(e), 0);
    /* and the engine runs on afterwards, up to its context */
    tc_engine_set_tap(e, NULL, NULL);
    ck_assert_int_eq(tc_engine_prefill(e, tokens, 3, 0, &err), TC_OK);
    for (uint32_t i = 3; i < 16; i++) ck_assert_msg(tc_engine_decode(e, 7, &err) == TC_OK, "%s", err.msg);
    ck_assert_int_eq(tc_engine_decode(e, 7, &err), TC_E_RANGE);
    tc_engine_free(e);
    drop_model(m, p);
}
END_TEST

/* ---- without a GPU: opening fails cleanly, then skip ---- */

static int no_gpu(const char *why)
{
    char *p = tu_temp_path(".gguf");
    tc_gen_opts g;
    tc_err err;
    tc_model *m = NULL;
    tc_engine *e = NULL;
    if (tc_gen_preset("tiny", &g, &err) || tc_gen_write(&g, p, &err) || tc_model_load(p, &m, &err)) {
        fprintf(stderr, "check_cuda_engine: cannot generate a model: %s\n", err.msg);
        unlink(p), free(p);
        return 1;
    }
    tc_status st = tc_engine_open("cuda", m, NULL, &e, &err);
    int rc = 77;
    if (st != TC_E_UNSUPPORTED && st != TC_E_DEVICE) {
        fprintf(stderr, "check_cuda_engine: opening cuda without a GPU gave %s\n", tc_strerror(st));
        rc = 1;
    } else if (e || !err.msg[0] || strchr(err.msg, '\n')) {
        fprintf(stderr, "check_cuda_engine: the error is not one clean line: '%s'\n", err.msg);
        rc = 1;
    } else {
        fprintf(stderr, "check_cuda_engine: %s: skipped (opening cuda says: %s)\n", why, err.msg);
    }
    if (st == TC_OK) tc_engine_free(e);
    tc_model_free(m);
    unlink(p), free(p);
    return rc;
}

int main(void)
{
    tc_gpu_info info[8];
    int count = 0;
    tc_err e;
    tc_status st = tc_cuda_devices(info, 8, &count, &e);
    if (st != TC_OK) return no_gpu(e.msg);
    if (count == 0) return no_gpu("no CUDA GPU on this machine");
    if (info[0].cc_major < 9) return no_gpu("the GPU is older than compute capability 9.0");
    fprintf(stderr, "check_cuda_engine: %s (cc %d.%d, driver %d, runtime %d)\n", info[0].name, info[0].cc_major,
            info[0].cc_minor, info[0].driver_version, info[0].runtime_version);

    Suite *s = suite_create("cuda_engine");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors");
    tcase_set_timeout(core, 600);
    tcase_set_timeout(errors, 600);
    tcase_add_test(core, matches_ref_tiny);
    tcase_add_test(core, matches_ref_small);
    tcase_add_test(core, matches_ref_bitnet_cpp_vector);
    tcase_add_test(core, graph_decode_equals_eager);
    tcase_add_test(core, replaced_taps_are_used);
    tcase_add_test(errors, unsupported_models_and_options);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);   /* a CUDA context does not survive fork() */
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

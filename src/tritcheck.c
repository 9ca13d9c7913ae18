/* tritcheck.c -- the command line: one small function per command, parsing
 * options and calling the library.  Only this file exits. */
#include "config.h"
#include "tc_commit.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/accuracy.h"
#include "check/compare.h"
#include "check/conform.h"
#include "base/gpu.h"
#include "tools/gen.h"
#include "tools/inspect.h"
#include "tools/quantize.h"
#include "receipt/receipt.h"
#include "audit/report.h"
#include "tools/run.h"
#include "check/vectors.h"
#include "audit/verify.h"
#include "audit/diff.h"
#include "audit/merge.h"
#include "check/against.h"
#include "check/bench.h"
#include "format/tokenizer.h"
#include "check/ksuite.h"
#include "base/fileio.h"
#include "tritcheck_usage.h"

/* ---- helpers ---- */

/* Print "tritcheck: MSG" and return the exit code for s. */
static int report(tc_status s, const tc_err *err)
{
    if (s != TC_OK) fprintf(stderr, "tritcheck: %s\n", err->msg[0] ? err->msg : tc_strerror(s));
    return tc_exit_code(s);
}

static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "tritcheck %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see 'tritcheck help %s')\n", cmd);
    return 2;
}

/* Print cmd's usage text; exit status 0. */
static int show_usage(const char *cmd)
{
    for (size_t i = 0; i < sizeof usages / sizeof usages[0]; i++)
        if (!strcmp(usages[i].name, cmd)) fputs(usages[i].text, stdout);
    return 0;
}

/* getopt_long found an unknown option or one without its value: name it. */
static int option_error(const char *cmd, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (optopt && optopt != '?' && strncmp(arg, "--", 2) != 0)
        fprintf(stderr, "tritcheck %s: option '-%c' is unknown or needs a value (see 'tritcheck help %s')\n", cmd,
                optopt, cmd);
    else
        fprintf(stderr, "tritcheck %s: option '%s' is unknown or needs a value (see 'tritcheck help %s')\n", cmd, arg,
                cmd);
    return 2;
}

/* The next option of cmd's command line (getopt_long), -1 after the last.
 * Every command answers -h/--help with its usage and names a bad option
 * the same way: both end the command, so next_opt returns 0 with the exit
 * status in *rc and the caller returns it.  (No option value is 0.) */
static int next_opt(const char *cmd, int argc, char **argv, const char *shorts, const struct option *longs, int *rc)
{
    int c = getopt_long(argc, argv, shorts, longs, NULL);
    if (c == 'h') {
        *rc = show_usage(cmd);
        return 0;
    }
    if (c == '?' || c == ':') {
        *rc = option_error(cmd, argv);
        return 0;
    }
    return c;
}

/* A command without options: `CMD --help` or `CMD -h` alone asks for help. */
static bool asks_help(int argc, char **argv)
{
    return argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
}

/* Parse an unsigned decimal in [lo, hi]; false on junk or range. */
static bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-') return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    uint64_t v;
    if (!parse_u64(s, lo, hi, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

/* --threads N: 1..1024. */
static bool parse_threads(const char *s, int *out)
{
    uint32_t v;
    if (!parse_u32(s, 1, 1024, &v)) return false;
    *out = (int)v;
    return true;
}

static bool parse_double(const char *s, double *out)
{
    char *end;
    if (!s || !*s) return false;
    errno = 0;
    *out = strtod(s, &end);
    return !errno && !*end;
}

/* --shard I/N: 0 <= I < N. */
static bool parse_shard(const char *s, tc_shard *out)
{
    return tc_shard_parse(s, out, NULL) == TC_OK;
}

/* Seal (signed with key, if any) and write a receipt to path; with say,
 * print where it went. */
static tc_status write_receipt(cJSON *receipt, const char *path, const char *key, bool say, tc_err *err)
{
    tc_status s = tc_receipt_seal(receipt, key, err);
    if (!s) s = tc_receipt_write(receipt, path, err);
    if (!s && say) printf("receipt: %s%s\n", path, key ? " (signed)" : "");
    return s;
}

/* The file a plug-in engine name ("plugin:PATH") loads, or NULL. */
static const char *plugin_file(const char *engine)
{
    return engine && !strncmp(engine, "plugin:", 7) ? engine + 7 : NULL;
}

/* TC_OK unless out (may be NULL) is one of the inputs: every command that
 * writes refuses to overwrite what it reads (base/fileio.h). */
static tc_status check_output(const char *out, const char *in0, const char *in1, const char *in2, const char *in3,
                              tc_err *err)
{
    const char *inputs[] = { in0, in1, in2, in3 };
    return tc_check_output(out, inputs, 4, err);
}

/* Progress on stderr, only when it is a terminal. */
static void progress_bar(void *user, uint32_t done, uint32_t total)
{
    fprintf(stderr, "\r%s: position %u/%u", (const char *)user, done, total);
    if (done == total) fputc('\n', stderr);
    fflush(stderr);
}

/* ---- commands ---- */

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
} command;

static int cmd_gen(int argc, char **argv)
{
    tc_err err = { 0 };
    tc_gen_opts o;
    const char *preset = "tiny", *out = NULL;
    /* the preset comes first, so that dimension options override it */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--preset") && i + 1 < argc) preset = argv[i + 1];
        else if (!strncmp(argv[i], "--preset=", 9)) preset = argv[i] + 9;
    }
    tc_status s = tc_gen_preset(preset, &o, &err);
    if (s) return report(s, &err);
    int c, rc;
    optind = 1;
    while ((c = next_opt("gen", argc, argv, "o:s:h", gen_options, &rc)) != -1) {
        bool ok = true;
        double dv;
        switch (c) {
        case 0: return rc;
        case 'p': break;   /* the preset, read above */
        case 'o': out = optarg; break;
        case 's': ok = parse_u64(optarg, 0, UINT64_MAX, &o.seed); break;
        case 'w':
            ok = tc_type_from_name(optarg, &o.weight_type) == TC_OK &&
                 (o.weight_type == TC_TYPE_I2_S || o.weight_type == TC_TYPE_F32 || o.weight_type == TC_TYPE_F16);
            break;
        case 'L': o.latent = true; break;
        case 'a': o.arch = optarg; break;
        case 'A': ok = !strcmp(optarg, "silu") || !strcmp(optarg, "relu2"); o.silu = !strcmp(optarg, "silu"); break;
        case 'V': ok = parse_u32(optarg, 1, 1u << 24, &o.n_vocab); break;
        case 'C': ok = parse_u32(optarg, 1, 1u << 24, &o.n_ctx); break;
        case 'd': ok = parse_u32(optarg, 1, 1u << 20, &o.n_embd); break;
        case 'l': ok = parse_u32(optarg, 1, 4096, &o.n_layer); break;
        case 'f': ok = parse_u32(optarg, 1, 1u << 20, &o.n_ff); break;
        case 'H': ok = parse_u32(optarg, 1, 65536, &o.n_head); break;
        case 'K': ok = parse_u32(optarg, 1, 65536, &o.n_head_kv); break;
        case 'R': ok = parse_double(optarg, &dv) && dv > 1; o.rope_base = dv; break;
        case 'E': ok = parse_double(optarg, &dv) && dv > 0 && dv < 1; o.eps = (float)dv; break;
        }
        if (!ok) return usage_error("gen", "invalid value '%s'", optarg);
    }
    if (optind != argc) return usage_error("gen", "unexpected argument '%s'", argv[optind]);
    if (!out) return usage_error("gen", "%s", "missing -o FILE");
    if (o.latent && o.weight_type != TC_TYPE_I2_S && o.weight_type != TC_TYPE_F32)
        return usage_error("gen", "%s", "--latent writes F32 weights: it takes no --weights other than f32");
    if (o.latent) o.weight_type = TC_TYPE_F32;
    s = tc_gen_write(&o, out, &err);
    return report(s, &err);
}

static int cmd_quantize(int argc, char **argv)
{
    bool quiet = false;
    tc_type type = TC_TYPE_I2_S;
    int c, rc;
    while ((c = next_opt("quantize", argc, argv, "qt:h", quantize_options, &rc)) != -1) {
        if (!c) return rc;
        if (c == 'q') {
            quiet = true;
        } else if (tc_type_from_name(optarg, &type) != TC_OK ||
                   (type != TC_TYPE_I2_S && type != TC_TYPE_TQ1_0 && type != TC_TYPE_TQ2_0)) {
            return usage_error("quantize", "--type %s: expected i2_s, tq1_0 or tq2_0", optarg);
        }
    }
    if (argc - optind != 2) return usage_error("quantize", "%s", "expected IN and OUT");
    tc_err err = { 0 };
    tc_status s = check_output(argv[optind + 1], argv[optind], NULL, NULL, NULL, &err);
    if (s) return report(s, &err);
    return report(tc_quantize_file_to(argv[optind], argv[optind + 1], type, quiet ? NULL : stdout, &err), &err);
}

static int cmd_inspect(int argc, char **argv)
{
    bool json = false;
    int c, rc;
    while ((c = next_opt("inspect", argc, argv, "jh", inspect_options, &rc)) != -1) {
        if (!c) return rc;
        json = true;   /* 'j' */
    }
    if (argc - optind != 1) return usage_error("inspect", "%s", "expected one FILE");
    tc_err err = { 0 };
    return report(tc_inspect(argv[optind], json, stdout, &err), &err);
}

static int cmd_devices(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) return usage_error("devices", "%s", "takes no arguments");
    tc_gpu_info info[16];
    int n = 0;
    tc_err err = { 0 };
    if (!tc_cuda_built()) {
        printf("CUDA: not built (configure --enable-cuda)\nGPUs: 0\n");
        return 0;
    }
    tc_status s = tc_cuda_devices(info, 16, &n, &err);
    if (s) return report(s, &err);
    printf("CUDA: built\nGPUs: %d\n", n);
    for (int i = 0; i < n && i < 16; i++)
        printf("  %d: %s, sm_%d%d, %.1f GiB, driver %d, runtime %d\n", i, info[i].name, info[i].cc_major,
               info[i].cc_minor, (double)info[i].mem_bytes / (1u << 30), info[i].driver_version,
               info[i].runtime_version);
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    tc_run_opts o = { .engine = "ref", .n_predict = 16 };
    tc_engine_opts_default(&o.eng);
    const char *token_list = NULL;
    int c, rc;
    while ((c = next_opt("run", argc, argv, "n:h", run_options, &rc)) != -1) {
        bool ok = true;
        switch (c) {
        case 0: return rc;
        case 'e': o.engine = optarg; break;
        case 'p': ok = tc_precision_from_name(optarg, &o.eng.precision) == TC_OK; break;
        case 't': token_list = optarg; break;
        case 'P': o.prompt = optarg; break;
        case 'n': ok = parse_u32(optarg, 0, 1u << 24, &o.n_predict); break;
        case 'j': ok = parse_threads(optarg, &o.eng.n_threads); break;
        case 'c': ok = parse_u32(optarg, 1, 1u << 24, &o.eng.n_ctx); break;
        case 'd': o.dump_dir = optarg; break;
        }
        if (!ok) return usage_error("run", "invalid value '%s'", optarg);
    }
    if (argc - optind != 1) return usage_error("run", "%s", "expected one MODEL");
    if (!token_list == !o.prompt) return usage_error("run", "%s", "give exactly one of --tokens and --prompt");
    int32_t *tokens = NULL;
    tc_err err = { 0 };
    if (token_list) {
        tc_status s = tc_parse_token_list(token_list, &tokens, &o.n_tokens, &err);
        if (s) return usage_error("run", "%s", err.msg);
        o.tokens = tokens;
    }
    tc_status s = tc_run(argv[optind], &o, stdout, stderr, &err);
    free(tokens);
    return report(s, &err);
}

/* bench's results (with a peer's when ar is not NULL): a sealed receipt
 * on stdout (--json), or the tables. */
static tc_status print_bench(const tc_model *m, const char *path, const tc_bench_result *r,
                             const tc_against_result *ar, bool json, tc_err *err)
{
    if (!json) {
        tc_bench_print(r, stdout);
        if (ar) tc_against_print(ar, stdout);
        return TC_OK;
    }
    cJSON *receipt = NULL, *against = ar ? tc_against_json(ar) : NULL;
    if (ar && !against) return tc_fail(err, TC_E_NOMEM, "out of memory");
    tc_status s = tc_bench_receipt(m, path, r, against, &receipt, err);
    char *txt = receipt ? tc_receipt_text(receipt) : NULL;
    if (txt) fputs(txt, stdout);
    else if (s == TC_OK) s = tc_fail(err, TC_E_NOMEM, "out of memory");
    free(txt);
    cJSON_Delete(receipt);
    return s;
}

static int cmd_bench(int argc, char **argv)
{
    tc_bench_opts o;
    tc_bench_opts_default(&o);
    const char *isa = NULL, *against = NULL;
    uint32_t rounds = 3;
    bool json = false;
    int c, rc;
    while ((c = next_opt("bench", argc, argv, "h", bench_options, &rc)) != -1) {
        bool ok = true;
        switch (c) {
        case 0: return rc;
        case 'e': o.engine = optarg; break;
        case 'i': isa = optarg; break;
        case 'j': ok = parse_threads(optarg, &o.n_threads); break;
        case 'p': ok = parse_u32(optarg, 1, 1u << 20, &o.prompt_len); break;
        case 'g': ok = parse_u32(optarg, 1, 1u << 20, &o.n_gen); break;
        case 'r': ok = parse_u32(optarg, 1, 1000, &o.repeat); break;
        case 'A': against = optarg; break;
        case 'R': ok = parse_u32(optarg, 1, TC_AGAINST_MAX_ROUNDS, &rounds); break;
        case 'J': json = true; break;
        }
        if (!ok) return usage_error("bench", "invalid value '%s'", optarg);
    }
    if (argc - optind != 1) return usage_error("bench", "%s", "expected one MODEL");
    char engine[64];
    if (isa) {   /* --isa X selects the fast engine's kernels: fast:X */
        if (strcmp(o.engine, "fast")) return usage_error("bench", "--isa needs --engine fast, not '%s'", o.engine);
        snprintf(engine, sizeof engine, "fast:%s", isa);
        o.engine = engine;
    }
    tc_err err = { 0 };
    tc_model *m = NULL;
    tc_status s = tc_model_load(argv[optind], &m, &err);
    if (against) {   /* rounds against a peer's llama-bench */
        tc_against_result *ar = malloc(sizeof *ar);
        if (!ar && s == TC_OK) s = tc_fail(&err, TC_E_NOMEM, "out of memory");
        if (s == TC_OK) s = tc_bench_against(m, argv[optind], &o, against, rounds, ar, &err);
        if (s == TC_OK) s = print_bench(m, argv[optind], &ar->last, ar, json, &err);
        free(ar);
    } else {
        tc_bench_result r;
        if (s == TC_OK) s = tc_bench_run(m, &o, &r, &err);
        if (s == TC_OK) s = print_bench(m, argv[optind], &r, NULL, json, &err);
    }
    tc_model_free(m);
    return report(s, &err);
}

static int cmd_compare(int argc, char **argv)
{
    tc_compare_job job = { .ref = "ref", .cand = "fast", .in.seed = 1, .n_gen = 16 };
    tc_compare_set set = { 0 };
    tc_engine_opts_default(&job.eng);
    tc_compare_opts_default(&job.opts);
    const char *out = NULL, *key = NULL;
    int c, rc;
    while ((c = next_opt("compare", argc, argv, "o:h", compare_options, &rc)) != -1) {
        bool ok = true;
        switch (c) {
        case 0: return rc;
        case 'r': job.ref = optarg; break;
        case 'c': job.cand = optarg; break;
        case 'm':
            ok = !strcmp(optarg, "isolated") || !strcmp(optarg, "chained");
            job.opts.mode = !strcmp(optarg, "chained") ? TC_COMPARE_CHAINED : TC_COMPARE_ISOLATED;
            break;
        case 't': job.in.token_list = optarg; break;
        case 'P': job.in.prompt = optarg; break;
        case 'R': ok = parse_u32(optarg, 1, 1u << 20, &job.in.n_random); break;
        case 'S': ok = parse_u64(optarg, 0, UINT64_MAX, &job.in.seed); break;
        case 'g': ok = parse_u32(optarg, 0, 1u << 20, &job.n_gen); break;
        case 'p': ok = tc_precision_from_name(optarg, &job.eng.precision) == TC_OK; break;
        case 'T': ok = parse_double(optarg, &job.opts.tol) && job.opts.tol >= 0; break;
        case 'M': ok = parse_double(optarg, &job.opts.q8_margin) && job.opts.q8_margin >= 0 && job.opts.q8_margin < 0.5; break;
        case 'j': ok = parse_threads(optarg, &job.eng.n_threads); break;
        case 'C': ok = parse_u32(optarg, 1, 1u << 24, &job.eng.n_ctx); break;
        case 'o': out = optarg; break;
        case 'k': key = optarg; break;
        case 'D': job.opts.determinism = false; break;
        case 'I': ok = strchr(optarg, ':') != NULL; job.inject = optarg; break;
        case 'X': ok = *optarg != '\0'; job.opts.select = optarg; break;
        case 'Q': set.prompts_path = optarg; break;
        case 'x': ok = parse_shard(optarg, &set.shard); break;
        }
        if (!ok) return usage_error("compare", "invalid value '%s'", optarg);
    }
    if (argc - optind != 1) return usage_error("compare", "%s", "expected one MODEL");
    if (tc_input_count(&job.in) + (set.prompts_path != NULL) > 1)
        return usage_error("compare", "%s", "give one of --tokens, --prompt, --prompts and --random");
    if (key && !out) return usage_error("compare", "%s", "--sign needs -o RECEIPT");
    if (tc_shard_on(&set.shard) && (!set.prompts_path || !out))
        return usage_error("compare", "%s", "--shard needs --prompts FILE and -o RECEIPT (merge reads it)");
    job.model_path = argv[optind];
    if (isatty(2)) {
        job.opts.progress = progress_bar;
        job.opts.progress_user = (void *)(set.prompts_path ? "prompts" : "compare");
    }
    tc_err err = { 0 };
    cJSON *receipt = NULL;
    bool pass;
    tc_status s = check_output(out, job.model_path, key, plugin_file(job.ref), plugin_file(job.cand), &err);
    if (s) return report(s, &err);
    set.job = job;
    s = set.prompts_path ? tc_compare_set_run(&set, stdout, out ? &receipt : NULL, &pass, &err)
                         : tc_compare_job_run(&job, stdout, out ? &receipt : NULL, &pass, &err);
    if (!s && out) s = write_receipt(receipt, out, key, true, &err);
    cJSON_Delete(receipt);
    if (s) return report(s, &err);
    return pass ? 0 : 1;
}

static int cmd_kernels(int argc, char **argv)
{
    tc_kernels_opts o;
    tc_kernels_opts_default(&o);
    const char *receipt_path = NULL, *key = NULL;
    uint64_t seed;
    int c, rc;
    while ((c = next_opt("kernels", argc, argv, "o:vh", kernels_options, &rc)) != -1) {
        bool ok = true;
        switch (c) {
        case 0: return rc;
        case 'e': o.engine = optarg; break;
        case 'i': o.isa = optarg; break;
        case 'f': o.filter = optarg; break;
        case 'p': o.perf = true; break;
        case 'r': ok = parse_u32(optarg, 1, 64, &o.repeat); break;
        case 's': ok = parse_u64(optarg, 0, UINT32_MAX, &seed); o.seed = (unsigned long)seed; break;
        case 'o': receipt_path = optarg; break;
        case 'k': key = optarg; break;
        case 'v': o.verbose = true; break;
        case 'x': ok = parse_shard(optarg, &o.shard); break;
        }
        if (!ok) return usage_error("kernels", "invalid value '%s'", optarg);
    }
    if (argc != optind) return usage_error("kernels", "unexpected argument '%s'", argv[optind]);
    if (key && !receipt_path) return usage_error("kernels", "%s", "--sign needs -o RECEIPT");
    if (tc_shard_on(&o.shard) && !receipt_path) return usage_error("kernels", "%s", "--shard needs -o RECEIPT (merge reads it)");
    tc_err err = { 0 };
    cJSON *receipt = NULL;
    bool all;
    tc_status s = check_output(receipt_path, key, plugin_file(o.engine), o.engine, NULL, &err);
    if (s) return report(s, &err);
    s = tc_kernels_run(&o, stdout, receipt_path ? &receipt : NULL, &all, &err);
    if (s == TC_OK && receipt_path) s = write_receipt(receipt, receipt_path, key, false, &err);
    cJSON_Delete(receipt);
    if (s) return report(s, &err);
    return all ? 0 : 1;
}

static int cmd_keygen(int argc, char **argv)
{
    if (asks_help(argc, argv)) return show_usage("keygen");
    if (argc != 2 || argv[1][0] == '-') return usage_error("keygen", "%s", "expected one KEY path");
    tc_err err = { 0 };
    tc_status s = tc_keygen(argv[1], &err);
    if (!s) printf("private key: %s\npublic key:  %s.pub\n", argv[1], argv[1]);
    return report(s, &err);
}

static int cmd_accuracy(int argc, char **argv)
{
    tc_accuracy_opts o;
    tc_accuracy_opts_default(&o);
    o.n_random = 0;
    const char *out = NULL, *key = NULL;
    int c, rc;
    while ((c = next_opt("accuracy", argc, argv, "o:h", accuracy_options, &rc)) != -1) {
        bool ok = true;
        switch (c) {
        case 0: return rc;
        case 'b': o.baseline_path = optarg; break;
        case 't': o.token_list = optarg; break;
        case 'P': o.prompt = optarg; break;
        case 'F': o.corpus = optarg; break;
        case 'R': ok = parse_u32(optarg, 1, 1u << 24, &o.n_random); break;
        case 'S': ok = parse_u64(optarg, 0, UINT64_MAX, &o.seed); break;
        case 'C': ok = parse_u32(optarg, 2, 1u << 24, &o.ctx); break;
        case 'e': o.engine = optarg; break;
        case 'p': ok = tc_precision_from_name(optarg, &o.precision) == TC_OK; break;
        case 'B': ok = tc_precision_from_name(optarg, &o.baseline_precision) == TC_OK; break;
        case 'j': ok = parse_threads(optarg, &o.n_threads); break;
        case 'o': out = optarg; break;
        case 'k': key = optarg; break;
        case 'x': ok = parse_shard(optarg, &o.shard); break;
        }
        if (!ok) return usage_error("accuracy", "invalid value '%s'", optarg);
    }
    if (argc - optind != 1) return usage_error("accuracy", "%s", "expected one MODEL");
    int n_inputs = (o.token_list != NULL) + (o.prompt != NULL) + (o.corpus != NULL) + (o.n_random > 0);
    if (n_inputs > 1) return usage_error("accuracy", "%s", "give one of --tokens, --prompt, --corpus and --random");
    if (n_inputs == 0) o.n_random = 256;
    if (key && !out) return usage_error("accuracy", "%s", "--sign needs -o RECEIPT");
    if (tc_shard_on(&o.shard) && !out) return usage_error("accuracy", "%s", "--shard needs -o RECEIPT (merge reads it)");
    o.model_path = argv[optind];
    if (isatty(2)) {
        o.progress = progress_bar;
        o.progress_user = (void *)"accuracy";
    }
    tc_err err = { 0 };
    cJSON *receipt = NULL;
    tc_status s = check_output(out, o.model_path, o.baseline_path, o.corpus, key, &err);
    if (!s) s = check_output(out, plugin_file(o.engine), NULL, NULL, NULL, &err);
    if (s) return report(s, &err);
    s = tc_accuracy_run(&o, stdout, &receipt, &err);
    if (!s && out) s = write_receipt(receipt, out, key, true, &err);
    cJSON_Delete(receipt);
    return report(s, &err);
}

static int cmd_conform(int argc, char **argv)
{
    const char *env = getenv("TC_VECTORS");
    tc_conform_opts o = { .cand = "fast", .suite_dir = TC_SRCDIR "/conformance",
                          .vectors = env && *env ? env : TC_SRCDIR "/vectors", .n_threads = 1 };
    int c, rc;
    while ((c = next_opt("conform", argc, argv, "o:h", conform_options, &rc)) != -1) {
        bool ok = true;
        switch (c) {
        case 0: return rc;
        case 'c': o.cand = optarg; break;
        case 'o': o.out_dir = optarg; break;
        case 'k': o.sign_key = optarg; break;
        case 'j': ok = parse_threads(optarg, &o.n_threads); break;
        case 'S': o.suite_dir = optarg; break;
        case 'V': o.vectors = optarg; break;
        case 'M': o.model_dir = optarg; break;
        case 'x': ok = parse_shard(optarg, &o.shard); break;
        }
        if (!ok) return usage_error("conform", "invalid value '%s'", optarg);
    }
    if (argc - optind != 1 || !o.out_dir) return usage_error("conform", "%s", "expected SUITE -o DIR");
    o.suite = argv[optind];
    tc_err err = { 0 };
    bool all;
    tc_status s = tc_conform_run(&o, stdout, &all, &err);
    if (s) return report(s, &err);
    return all ? 0 : 1;
}

static int cmd_vectors(int argc, char **argv)
{
    tc_vectors_job job = { .cand = "ref", .tol = 1e-5 };
    const char *out = NULL, *key = NULL;
    int c, rc;
    while ((c = next_opt("vectors", argc, argv, "o:h", vectors_options, &rc)) != -1) {
        bool ok = true;
        switch (c) {
        case 0: return rc;
        case 'c': job.cand = optarg; break;
        case 'T': ok = parse_double(optarg, &job.tol) && job.tol >= 0; break;
        case 'o': out = optarg; break;
        case 'k': key = optarg; break;
        case 'x': ok = parse_shard(optarg, &job.shard); break;
        }
        if (!ok) return usage_error("vectors", "invalid value '%s'", optarg);
    }
    if (argc - optind != 2 || (strcmp(argv[optind], "generate") && strcmp(argv[optind], "check")))
        return usage_error("vectors", "%s", "expected generate DIR or check DIR");
    tc_err err = { 0 };
    if (!strcmp(argv[optind], "generate")) {
        if (out || tc_shard_on(&job.shard)) return usage_error("vectors", "%s", "-o and --shard go with check");
        return report(tc_vectors_generate(argv[optind + 1], stdout, &err), &err);
    }
    if (key && !out) return usage_error("vectors", "%s", "--sign needs -o RECEIPT");
    if (tc_shard_on(&job.shard) && !out) return usage_error("vectors", "%s", "--shard needs -o RECEIPT (merge reads it)");
    job.dir = argv[optind + 1];
    bool all;
    cJSON *receipt = NULL;
    tc_status s = tc_vectors_job_run(&job, stdout, out ? &receipt : NULL, &all, &err);
    if (!s && out) s = write_receipt(receipt, out, key, false, &err);
    cJSON_Delete(receipt);
    if (s) return report(s, &err);
    return all ? 0 : 1;
}

/* verify's verdict lines: what was checked, and what was not. */
static int print_verdict(const tc_verify_opts *o, const tc_verify_result *r)
{
    if (!r->valid) {
        printf("INVALID\n");
        return 1;
    }
    const tc_seal_info *si = &r->seal;
    if (si->authenticated)
        printf("VALID: schema, digest, signature (Ed25519 by the --pubkey key, sha256:%s), consistency\n", si->signer);
    else
        printf("VALID: schema, digest, consistency%s\n", si->has_signature ? "" : " (unsigned)");
    if (si->has_signature && !si->authenticated)
        printf("NOT AUTHENTICATED: signed by the key with fingerprint sha256:%s, which no --pubkey vouches for "
               "(anyone can make a key and sign)\n", si->signer);
    if (r->model_checked) printf("VALID: model file %s (size, SHA-256, architecture, hyper-parameters, tensor types)\n", o->model);
    if (r->rerun)
        printf("VALID: every figure reproduced%s\n", r->n_unchecked ? " (the fields listed as unchecked are not)" : "");
    if (!r->complete) {
        printf("INCOMPLETE: not rerun (see above)\n");
        return 1;
    }
    return 0;
}

static int cmd_verify(int argc, char **argv)
{
    tc_verify_opts o = { 0 };
    int c, rc;
    while ((c = next_opt("verify", argc, argv, "h", verify_options, &rc)) != -1) {
        uint32_t v;
        switch (c) {
        case 0: return rc;
        case 'm': o.model = optarg; break;
        case 'k': o.pubkey = optarg; break;
        case 'b': o.baseline = optarg; break;
        case 'r': o.rerun = true; break;
        case 'R': o.ref = optarg; break;
        case 'C': o.cand = optarg; break;
        case 'e': o.engine = optarg; break;
        case 's':
            if (!parse_u32(optarg, 0, TC_SHARD_MAX - 1, &v)) return usage_error("verify", "invalid value '%s'", optarg);
            o.one_shard = true;
            o.shard = (int)v;
            break;
        }
    }
    if (o.one_shard && !o.rerun) return usage_error("verify", "%s", "--shard I goes with --rerun");
    if (argc - optind != 1) return usage_error("verify", "%s", "expected one RECEIPT");
    tc_err err = { 0 };
    tc_verify_result res;
    tc_status s = tc_verify_receipt(argv[optind], &o, stdout, &res, &err);
    if (s) return report(s, &err);
    return print_verdict(&o, &res);
}

static int cmd_merge(int argc, char **argv)
{
    const char *out = NULL, *key = NULL, *pubkey = NULL;
    int c, rc;
    while ((c = next_opt("merge", argc, argv, "o:h", merge_options, &rc)) != -1) {
        switch (c) {
        case 0: return rc;
        case 'o': out = optarg; break;
        case 'k': key = optarg; break;
        case 'p': pubkey = optarg; break;
        }
    }
    if (argc - optind < 1 || !out) return usage_error("merge", "%s", "expected SHARD.json... -o RECEIPT");
    tc_err err = { 0 };
    cJSON *merged = NULL;
    tc_status s = tc_merge((const char *const *)argv + optind, (size_t)(argc - optind), pubkey, stdout, &merged, &err);
    if (!s) s = write_receipt(merged, out, key, true, &err);
    cJSON_Delete(merged);
    return report(s, &err);
}

static int cmd_diff(int argc, char **argv)
{
    if (asks_help(argc, argv)) return show_usage("diff");
    const char *path[2];
    int n = 0;
    bool force = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) force = true;
        else if (argv[i][0] == '-' && argv[i][1]) return usage_error("diff", "unknown option '%s'", argv[i]);
        else if (n < 2) path[n++] = argv[i];
        else return usage_error("diff", "%s", "expected OLD and NEW receipts");
    }
    if (n != 2) return usage_error("diff", "%s", "expected OLD and NEW receipts");
    tc_err err = { 0 };
    bool worse;
    tc_status s = tc_diff_receipts(path[0], path[1], force, stdout, &worse, &err);
    if (s) return report(s, &err);
    return worse ? 1 : 0;
}

static int cmd_report(int argc, char **argv)
{
    const char *out = NULL, *pubkey = NULL;
    int c, rc;
    while ((c = next_opt("report", argc, argv, "o:h", report_options, &rc)) != -1) {
        if (!c) return rc;
        if (c == 'o') out = optarg;
        else pubkey = optarg;   /* 'k' */
    }
    if (argc - optind != 1 || !out) return usage_error("report", "%s", "expected RECEIPT -o FILE.html");
    tc_err err = { 0 };
    return report(tc_report_html(argv[optind], out, pubkey, &err), &err);
}

/* Open a model or vocabulary-only GGUF and build its tokenizer. */
static tc_status open_tokenizer(const char *path, tc_gguf **g, tc_tokenizer **tok, tc_err *err)
{
    *tok = NULL;
    tc_status s = tc_gguf_open(path, g, err);
    return s ? s : tc_tokenizer_load(*g, tok, err);
}

/* Bytes as a C-like quoted string: printable UTF-8 as is, the rest \xNN. */
static void print_quoted(const char *s, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
    putchar('"');
}

/* Each id as "ID<TAB>"piece"" on its own line, or (ids_only) the ids on one line. */
static tc_status print_tokens(const tc_tokenizer *tok, const int32_t *ids, size_t n, bool ids_only, tc_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (ids_only) {
            printf("%s%" PRId32, i ? " " : "", ids[i]);
            continue;
        }
        char *piece;
        size_t plen;
        tc_status s = tc_tokenizer_decode(tok, &ids[i], 1, 0, &piece, &plen, err);
        if (s) return s;
        printf("%" PRId32 "\t", ids[i]);
        print_quoted(piece, plen);
        putchar('\n');
        free(piece);
    }
    if (ids_only) putchar('\n');
    return TC_OK;
}

static int cmd_tokenize(int argc, char **argv)
{
    const char *text = NULL, *file = NULL;
    bool ids_only = false;
    unsigned flags = TC_TOK_ADD_BOS;
    int c, rc;
    while ((c = next_opt("tokenize", argc, argv, "h", tokenize_options, &rc)) != -1) {
        switch (c) {
        case 0: return rc;
        case 't': text = optarg; break;
        case 'f': file = optarg; break;
        case 'i': ids_only = true; break;
        case 's': flags |= TC_TOK_PARSE_SPECIAL; break;
        case 'B': flags &= ~TC_TOK_ADD_BOS; break;
        }
    }
    if (argc - optind != 1) return usage_error("tokenize", "%s", "expected one MODEL");
    if (text && file) return usage_error("tokenize", "%s", "give at most one of --text and --file");
    tc_err err = { 0 };
    tc_gguf *g = NULL;
    tc_tokenizer *tok = NULL;
    char *buf = NULL;
    int32_t *ids = NULL;
    size_t len = text ? strlen(text) : 0, n = 0;
    tc_status s = open_tokenizer(argv[optind], &g, &tok, &err);
    /* the text to tokenize: at most 1 GiB, as accuracy's --corpus */
    if (!s && !text) s = tc_read_file(file ? file : "-", (size_t)1 << 30, "a text file", &buf, &len, &err);
    if (!s) s = tc_tokenizer_encode(tok, text ? text : buf, len, flags, &ids, &n, &err);
    if (!s) s = print_tokens(tok, ids, n, ids_only, &err);
    free(ids);
    free(buf);
    tc_tokenizer_free(tok);
    tc_gguf_close(g);
    return report(s, &err);
}

/* The ids of detokenize: --ids 1,2,3, or each argument argv[from..argc) one id. */
static tc_status detokenize_ids(const char *list, int from, int argc, char **argv, int32_t **out, size_t *n,
                                tc_err *err)
{
    if (list) return tc_parse_token_list(list, out, n, err);
    int32_t *ids = malloc((size_t)(argc - from) * sizeof *ids);
    if (!ids) return tc_fail(err, TC_E_NOMEM, "out of memory");
    tc_status s = TC_OK;
    *n = 0;
    for (int i = from; !s && i < argc; i++) {
        int32_t *one;
        size_t k;
        if ((s = tc_parse_token_list(argv[i], &one, &k, err))) break;
        if (k != 1) s = tc_fail(err, TC_E_USAGE, "invalid token id '%s'", argv[i]);
        else ids[(*n)++] = one[0];
        free(one);
    }
    if (s) {
        free(ids);
        return s;
    }
    *out = ids;
    return TC_OK;
}

static int cmd_detokenize(int argc, char **argv)
{
    const char *list = NULL;
    unsigned flags = TC_DETOK_VALID_UTF8;
    bool raw = false;
    int c, rc;
    while ((c = next_opt("detokenize", argc, argv, "h", detokenize_options, &rc)) != -1) {
        switch (c) {
        case 0: return rc;
        case 'i': list = optarg; break;
        case 's': flags |= TC_DETOK_SKIP_SPECIAL; break;
        case 'r': raw = true; flags &= ~TC_DETOK_VALID_UTF8; break;
        }
    }
    if (argc - optind < 1) return usage_error("detokenize", "%s", "expected MODEL");
    if (!list == (argc - optind == 1)) return usage_error("detokenize", "%s", "give ids as arguments or --ids 1,2,3");
    tc_err err = { 0 };
    int32_t *ids = NULL;
    size_t n = 0;
    tc_status s = detokenize_ids(list, optind + 1, argc, argv, &ids, &n, &err);
    if (s) return usage_error("detokenize", "%s", err.msg);
    tc_gguf *g = NULL;
    tc_tokenizer *tok = NULL;
    char *text = NULL;
    size_t len = 0;
    s = open_tokenizer(argv[optind], &g, &tok, &err);
    if (!s) s = tc_tokenizer_decode(tok, ids, n, flags, &text, &len, &err);
    if (!s) {
        fwrite(text, 1, len, stdout);
        if (!raw) putchar('\n');
    }
    free(text);
    free(ids);
    tc_tokenizer_free(tok);
    tc_gguf_close(g);
    return report(s, &err);
}

static int cmd_help(int argc, char **argv);

/* The commands, in the order of the usage table. */
static const command commands[] = {
    { "gen", cmd_gen }, { "quantize", cmd_quantize }, { "inspect", cmd_inspect }, { "run", cmd_run },
    { "bench", cmd_bench }, { "compare", cmd_compare }, { "accuracy", cmd_accuracy }, { "kernels", cmd_kernels },
    { "conform", cmd_conform }, { "vectors", cmd_vectors }, { "merge", cmd_merge }, { "verify", cmd_verify }, { "diff", cmd_diff },
    { "report", cmd_report }, { "keygen", cmd_keygen }, { "devices", cmd_devices }, { "tokenize", cmd_tokenize },
    { "detokenize", cmd_detokenize }, { "help", cmd_help },
};
_Static_assert(sizeof commands / sizeof commands[0] == sizeof usages / sizeof usages[0],
               "every command has its usage in tritcheck_usage.h");

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(commands[i].name, name)) return &commands[i];
    return NULL;
}

static void print_overview(FILE *fp)
{
    fprintf(fp, "usage: tritcheck COMMAND [options]   (tritcheck help COMMAND)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof usages / sizeof usages[0]; i++)
        fprintf(fp, "  %-10s %s\n", usages[i].name, usages[i].summary);
    fprintf(fp, "\n  --help, --version\n");
}

static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stdout);
        return 0;
    }
    if (!find_command(argv[1])) return usage_error("help", "unknown command '%s'", argv[1]);
    return show_usage(argv[1]);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        print_overview(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("tritcheck %s (commit %s, CUDA %s)\n", PACKAGE_VERSION, TC_GIT_COMMIT,
               tc_cuda_built() ? "built" : "not built");
        return 0;
    }
    const command *c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "tritcheck: unknown command '%s' (see 'tritcheck --help')\n", argv[1]);
        return 2;
    }
    opterr = 0;
    return c->run(argc - 1, argv + 1);
}

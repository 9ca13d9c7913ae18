/* tritcheck.c -- the command line: one small function per command, parsing
 * options and calling the library.  Only this file exits. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
#include "check/bench.h"
#include "format/tokenizer.h"
#include "check/ksuite.h"

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

static bool parse_double(const char *s, double *out)
{
    char *end;
    if (!s || !*s) return false;
    errno = 0;
    *out = strtod(s, &end);
    return !errno && !*end;
}

/* ---- commands ---- */

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    const char *usage;   /* full help text */
} command;

static const command *find_command(const char *name);

static int cmd_gen(int argc, char **argv)
{
    static const struct option opts[] = {
        { "preset", required_argument, 0, 'p' }, { "output", required_argument, 0, 'o' },
        { "seed", required_argument, 0, 's' }, { "weights", required_argument, 0, 'w' },
        { "latent", no_argument, 0, 'L' }, { "arch", required_argument, 0, 'a' },
        { "vocab", required_argument, 0, 'V' }, { "ctx", required_argument, 0, 'C' },
        { "embd", required_argument, 0, 'd' }, { "layers", required_argument, 0, 'l' },
        { "ffn", required_argument, 0, 'f' }, { "heads", required_argument, 0, 'H' },
        { "kv-heads", required_argument, 0, 'K' }, { "rope-base", required_argument, 0, 'R' },
        { "eps", required_argument, 0, 'E' }, { "act", required_argument, 0, 'A' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
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
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:s:h", opts, NULL)) != -1) {
        bool ok = true;
        double dv;
        switch (c) {
        case 'p': break;
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
        case 'h': fputs(find_command("gen")->usage, stdout); return 0;
        default: return option_error("gen", argv);
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
    static const struct option opts[] = {
        { "quiet", no_argument, 0, 'q' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    bool quiet = false;
    int c;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        if (c == 'q') quiet = true;
        else if (c == 'h') { fputs(find_command("quantize")->usage, stdout); return 0; }
        else return option_error("quantize", argv);
    }
    if (argc - optind != 2) return usage_error("quantize", "%s", "expected IN and OUT");
    tc_err err = { 0 };
    return report(tc_quantize_file(argv[optind], argv[optind + 1], quiet ? NULL : stdout, &err), &err);
}

static int cmd_inspect(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, 0, 'j' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        if (c == 'j') json = true;
        else if (c == 'h') { fputs(find_command("inspect")->usage, stdout); return 0; }
        else return option_error("inspect", argv);
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
    static const struct option opts[] = {
        { "engine", required_argument, 0, 'e' }, { "precision", required_argument, 0, 'p' },
        { "tokens", required_argument, 0, 't' }, { "prompt", required_argument, 0, 'P' },
        { "threads", required_argument, 0, 'j' }, { "ctx", required_argument, 0, 'c' },
        { "dump", required_argument, 0, 'd' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    tc_run_opts o = { .engine = "ref", .n_predict = 16 };
    tc_engine_opts_default(&o.eng);
    const char *token_list = NULL;
    uint32_t threads = 1;
    int c;
    while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'e': o.engine = optarg; break;
        case 'p': ok = tc_precision_from_name(optarg, &o.eng.precision) == TC_OK; break;
        case 't': token_list = optarg; break;
        case 'P': o.prompt = optarg; break;
        case 'n': ok = parse_u32(optarg, 0, 1u << 24, &o.n_predict); break;
        case 'j': ok = parse_u32(optarg, 1, 1024, &threads); o.eng.n_threads = (int)threads; break;
        case 'c': ok = parse_u32(optarg, 1, 1u << 24, &o.eng.n_ctx); break;
        case 'd': o.dump_dir = optarg; break;
        case 'h': fputs(find_command("run")->usage, stdout); return 0;
        default: return option_error("run", argv);
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

static int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        { "engine", required_argument, 0, 'e' }, { "isa", required_argument, 0, 'i' },
        { "threads", required_argument, 0, 'j' }, { "prompt-len", required_argument, 0, 'p' },
        { "gen", required_argument, 0, 'g' }, { "repeat", required_argument, 0, 'r' },
        { "json", no_argument, 0, 'J' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    tc_bench_opts o;
    tc_bench_opts_default(&o);
    const char *isa = NULL;
    bool json = false;
    uint32_t threads = (uint32_t)o.n_threads;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'e': o.engine = optarg; break;
        case 'i': isa = optarg; break;
        case 'j': ok = parse_u32(optarg, 1, 1024, &threads); o.n_threads = (int)threads; break;
        case 'p': ok = parse_u32(optarg, 1, 1u << 20, &o.prompt_len); break;
        case 'g': ok = parse_u32(optarg, 1, 1u << 20, &o.n_gen); break;
        case 'r': ok = parse_u32(optarg, 1, 1000, &o.repeat); break;
        case 'J': json = true; break;
        case 'h': fputs(find_command("bench")->usage, stdout); return 0;
        default: return option_error("bench", argv);
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
    tc_bench_result r;
    tc_status s = tc_model_load(argv[optind], &m, &err);
    if (s == TC_OK) s = tc_bench_run(m, &o, &r, &err);
    if (s == TC_OK && json) {
        cJSON *receipt = NULL;
        s = tc_bench_receipt(m, argv[optind], &r, &receipt, &err);
        char *txt = receipt ? cJSON_Print(receipt) : NULL;
        if (txt) printf("%s\n", txt);
        else if (s == TC_OK) s = tc_fail(&err, TC_E_NOMEM, "out of memory");
        free(txt);
        cJSON_Delete(receipt);
    } else if (s == TC_OK) {
        tc_bench_print(&r, stdout);
    }
    tc_model_free(m);
    return report(s, &err);
}

/* Progress on stderr, only when it is a terminal. */
static void progress_bar(void *user, uint32_t done, uint32_t total)
{
    fprintf(stderr, "\r%s: position %u/%u", (const char *)user, done, total);
    if (done == total) fputc('\n', stderr);
    fflush(stderr);
}

static int cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ref", required_argument, 0, 'r' }, { "cand", required_argument, 0, 'c' },
        { "mode", required_argument, 0, 'm' }, { "tokens", required_argument, 0, 't' },
        { "prompt", required_argument, 0, 'P' }, { "random", required_argument, 0, 'R' },
        { "seed", required_argument, 0, 'S' }, { "gen", required_argument, 0, 'g' },
        { "precision", required_argument, 0, 'p' }, { "tol", required_argument, 0, 'T' },
        { "q8-margin", required_argument, 0, 'M' }, { "threads", required_argument, 0, 'j' },
        { "ctx", required_argument, 0, 'C' }, { "output", required_argument, 0, 'o' },
        { "sign", required_argument, 0, 'k' }, { "no-determinism", no_argument, 0, 'D' },
        { "inject", required_argument, 0, 'I' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    tc_compare_job job = { .ref = "ref", .cand = "fast", .in.seed = 1, .n_gen = 16 };
    tc_engine_opts_default(&job.eng);
    tc_compare_opts_default(&job.opts);
    const char *out = NULL, *key = NULL;
    uint32_t threads = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
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
        case 'j': ok = parse_u32(optarg, 1, 1024, &threads); job.eng.n_threads = (int)threads; break;
        case 'C': ok = parse_u32(optarg, 1, 1u << 24, &job.eng.n_ctx); break;
        case 'o': out = optarg; break;
        case 'k': key = optarg; break;
        case 'D': job.opts.determinism = false; break;
        case 'I': ok = strchr(optarg, ':') != NULL; job.inject = optarg; break;
        case 'h': fputs(find_command("compare")->usage, stdout); return 0;
        default: return option_error("compare", argv);
        }
        if (!ok) return usage_error("compare", "invalid value '%s'", optarg);
    }
    if (argc - optind != 1) return usage_error("compare", "%s", "expected one MODEL");
    int n_inputs = tc_input_count(&job.in);
    bool recording = !strncmp(job.ref, "dump:", 5) || !strncmp(job.cand, "dump:", 5);
    if (recording && n_inputs)
        return usage_error("compare", "%s", "a recording brings its own tokens: no --tokens, --prompt or --random");
    if (n_inputs > 1) return usage_error("compare", "%s", "give one of --tokens, --prompt and --random");
    if (key && !out) return usage_error("compare", "%s", "--sign needs -o RECEIPT");
    job.model_path = argv[optind];
    if (isatty(2)) {
        job.opts.progress = progress_bar;
        job.opts.progress_user = (void *)"compare";
    }
    tc_err err = { 0 };
    cJSON *receipt = NULL;
    bool pass;
    tc_status s = tc_compare_job_run(&job, stdout, out ? &receipt : NULL, &pass, &err);
    if (!s && out) s = tc_receipt_seal(receipt, key, &err);
    if (!s && out) s = tc_receipt_write(receipt, out, &err);
    if (!s && out) printf("receipt: %s%s\n", out, key ? " (signed)" : "");
    cJSON_Delete(receipt);
    if (s) return report(s, &err);
    return pass ? 0 : 1;
}

static int cmd_kernels(int argc, char **argv)
{
    static const struct option opts[] = {
        { "engine", required_argument, 0, 'e' }, { "isa", required_argument, 0, 'i' },
        { "filter", required_argument, 0, 'f' }, { "perf", no_argument, 0, 'p' },
        { "repeat", required_argument, 0, 'r' }, { "seed", required_argument, 0, 's' },
        { "output", required_argument, 0, 'o' }, { "sign", required_argument, 0, 'k' },
        { "verbose", no_argument, 0, 'v' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    tc_kernels_opts o;
    tc_kernels_opts_default(&o);
    const char *receipt_path = NULL, *key = NULL;
    uint64_t seed;
    int c;
    while ((c = getopt_long(argc, argv, "o:vh", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'e': o.engine = optarg; break;
        case 'i': o.isa = optarg; break;
        case 'f': o.filter = optarg; break;
        case 'p': o.perf = true; break;
        case 'r': ok = parse_u32(optarg, 1, 64, &o.repeat); break;
        case 's': ok = parse_u64(optarg, 0, UINT32_MAX, &seed); o.seed = (unsigned long)seed; break;
        case 'o': receipt_path = optarg; break;
        case 'k': key = optarg; break;
        case 'v': o.verbose = true; break;
        case 'h': fputs(find_command("kernels")->usage, stdout); return 0;
        default: return option_error("kernels", argv);
        }
        if (!ok) return usage_error("kernels", "invalid value '%s'", optarg);
    }
    if (argc != optind) return usage_error("kernels", "unexpected argument '%s'", argv[optind]);
    if (key && !receipt_path) return usage_error("kernels", "%s", "--sign needs -o RECEIPT");
    tc_err err = { 0 };
    cJSON *receipt = NULL;
    bool all;
    tc_status s = tc_kernels_run(&o, stdout, receipt_path ? &receipt : NULL, &all, &err);
    if (s == TC_OK && receipt_path && (s = tc_receipt_seal(receipt, key, &err)) == TC_OK)
        s = tc_receipt_write(receipt, receipt_path, &err);
    cJSON_Delete(receipt);
    if (s) return report(s, &err);
    return all ? 0 : 1;
}

static int cmd_keygen(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(find_command("keygen")->usage, stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') return usage_error("keygen", "%s", "expected one KEY path");
    tc_err err = { 0 };
    tc_status s = tc_keygen(argv[1], &err);
    if (!s) printf("private key: %s\npublic key:  %s.pub\n", argv[1], argv[1]);
    return report(s, &err);
}

static int cmd_accuracy(int argc, char **argv)
{
    static const struct option opts[] = {
        { "baseline", required_argument, 0, 'b' }, { "tokens", required_argument, 0, 't' },
        { "prompt", required_argument, 0, 'P' }, { "corpus", required_argument, 0, 'F' },
        { "random", required_argument, 0, 'R' }, { "seed", required_argument, 0, 'S' },
        { "ctx", required_argument, 0, 'C' }, { "engine", required_argument, 0, 'e' },
        { "precision", required_argument, 0, 'p' }, { "baseline-precision", required_argument, 0, 'B' },
        { "threads", required_argument, 0, 'j' }, { "output", required_argument, 0, 'o' },
        { "sign", required_argument, 0, 'k' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    tc_accuracy_opts o;
    tc_accuracy_opts_default(&o);
    o.n_random = 0;
    const char *out = NULL, *key = NULL;
    uint32_t threads = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
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
        case 'j': ok = parse_u32(optarg, 1, 1024, &threads); o.n_threads = (int)threads; break;
        case 'o': out = optarg; break;
        case 'k': key = optarg; break;
        case 'h': fputs(find_command("accuracy")->usage, stdout); return 0;
        default: return option_error("accuracy", argv);
        }
        if (!ok) return usage_error("accuracy", "invalid value '%s'", optarg);
    }
    if (argc - optind != 1) return usage_error("accuracy", "%s", "expected one MODEL");
    int n_inputs = (o.token_list != NULL) + (o.prompt != NULL) + (o.corpus != NULL) + (o.n_random > 0);
    if (n_inputs > 1) return usage_error("accuracy", "%s", "give one of --tokens, --prompt, --corpus and --random");
    if (n_inputs == 0) o.n_random = 256;
    if (key && !out) return usage_error("accuracy", "%s", "--sign needs -o RECEIPT");
    o.model_path = argv[optind];
    if (isatty(2)) {
        o.progress = progress_bar;
        o.progress_user = (void *)"accuracy";
    }
    tc_err err = { 0 };
    cJSON *receipt = NULL;
    tc_status s = tc_accuracy_run(&o, stdout, &receipt, &err);
    if (!s && out) s = tc_receipt_seal(receipt, key, &err);
    if (!s && out) s = tc_receipt_write(receipt, out, &err);
    if (!s && out) printf("receipt: %s%s\n", out, key ? " (signed)" : "");
    cJSON_Delete(receipt);
    return report(s, &err);
}

static int cmd_conform(int argc, char **argv)
{
    static const struct option opts[] = {
        { "cand", required_argument, 0, 'c' }, { "output", required_argument, 0, 'o' },
        { "sign", required_argument, 0, 'k' }, { "threads", required_argument, 0, 'j' },
        { "suite-dir", required_argument, 0, 'S' }, { "vectors", required_argument, 0, 'V' },
        { "model-dir", required_argument, 0, 'M' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    const char *env = getenv("TC_VECTORS");
    tc_conform_opts o = { .cand = "fast", .suite_dir = TC_SRCDIR "/conformance",
                          .vectors = env && *env ? env : TC_SRCDIR "/vectors", .n_threads = 1 };
    uint32_t threads;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'c': o.cand = optarg; break;
        case 'o': o.out_dir = optarg; break;
        case 'k': o.sign_key = optarg; break;
        case 'j': ok = parse_u32(optarg, 1, 1024, &threads); o.n_threads = (int)threads; break;
        case 'S': o.suite_dir = optarg; break;
        case 'V': o.vectors = optarg; break;
        case 'M': o.model_dir = optarg; break;
        case 'h': fputs(find_command("conform")->usage, stdout); return 0;
        default: return option_error("conform", argv);
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
    static const struct option opts[] = {
        { "cand", required_argument, 0, 'c' }, { "tol", required_argument, 0, 'T' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    const char *cand = "ref";
    double tol = 1e-5;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'c') cand = optarg;
        else if (c == 'T') { if (!parse_double(optarg, &tol) || tol < 0) return usage_error("vectors", "invalid value '%s'", optarg); }
        else if (c == 'h') { fputs(find_command("vectors")->usage, stdout); return 0; }
        else return option_error("vectors", argv);
    }
    if (argc - optind != 2 || (strcmp(argv[optind], "generate") && strcmp(argv[optind], "check")))
        return usage_error("vectors", "%s", "expected generate DIR or check DIR");
    tc_err err = { 0 };
    if (!strcmp(argv[optind], "generate")) return report(tc_vectors_generate(argv[optind + 1], stdout, &err), &err);
    bool all;
    tc_status s = tc_vectors_check(argv[optind + 1], cand, tol, stdout, &all, &err);
    if (s) return report(s, &err);
    return all ? 0 : 1;
}

static int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        { "model", required_argument, 0, 'm' }, { "pubkey", required_argument, 0, 'k' },
        { "baseline", required_argument, 0, 'b' }, { "rerun", no_argument, 0, 'r' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    tc_verify_opts o = { 0 };
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'm') o.model = optarg;
        else if (c == 'k') o.pubkey = optarg;
        else if (c == 'b') o.baseline = optarg;
        else if (c == 'r') o.rerun = true;
        else if (c == 'h') { fputs(find_command("verify")->usage, stdout); return 0; }
        else return option_error("verify", argv);
    }
    if (argc - optind != 1) return usage_error("verify", "%s", "expected one RECEIPT");
    tc_err err = { 0 };
    bool valid;
    tc_status s = tc_verify(argv[optind], &o, stdout, &valid, &err);
    if (s) return report(s, &err);
    printf("%s\n", valid ? "VALID: schema, digest, signature, consistency"
                           : "INVALID");
    if (valid && o.model) printf("VALID: model hash\n");
    if (valid && o.rerun) printf("VALID: every figure reproduced\n");
    return valid ? 0 : 1;
}

static int cmd_diff(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(find_command("diff")->usage, stdout);
        return 0;
    }
    if (argc != 3) return usage_error("diff", "%s", "expected OLD and NEW receipts");
    tc_err err = { 0 };
    bool worse;
    tc_status s = tc_diff_receipts(argv[1], argv[2], stdout, &worse, &err);
    if (s) return report(s, &err);
    return worse ? 1 : 0;
}

static int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, 0, 'o' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    const char *out = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        if (c == 'o') out = optarg;
        else if (c == 'h') { fputs(find_command("report")->usage, stdout); return 0; }
        else return option_error("report", argv);
    }
    if (argc - optind != 1 || !out) return usage_error("report", "%s", "expected RECEIPT -o FILE.html");
    tc_err err = { 0 };
    return report(tc_report_html(argv[optind], out, &err), &err);
}

/* Open a model or vocabulary-only GGUF and build its tokenizer. */
static tc_status open_tokenizer(const char *path, tc_gguf **g, tc_tokenizer **tok, tc_err *err)
{
    *tok = NULL;
    tc_status s = tc_gguf_open(path, g, err);
    return s ? s : tc_tokenizer_load(*g, tok, err);
}

/* Read a whole file (or stdin for "-") into memory. */
static tc_status read_all(const char *path, char **out, size_t *n, tc_err *err)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return tc_fail(err, TC_E_IO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        char *p = len == cap ? realloc(buf, cap *= 2) : buf;
        if (!p) free(buf);
        buf = p;
    }
    bool bad = buf && ferror(f);
    if (f != stdin) fclose(f);
    if (!buf) return tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    if (bad) {
        free(buf);
        return tc_fail(err, TC_E_IO, "%s: read error", path);
    }
    *out = buf;
    *n = len;
    return TC_OK;
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

static int cmd_tokenize(int argc, char **argv)
{
    static const struct option opts[] = {
        { "text", required_argument, 0, 't' }, { "file", required_argument, 0, 'f' },
        { "ids", no_argument, 0, 'i' }, { "special", no_argument, 0, 's' },
        { "no-bos", no_argument, 0, 'B' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    const char *text = NULL, *file = NULL;
    bool ids_only = false;
    unsigned flags = TC_TOK_ADD_BOS;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 't': text = optarg; break;
        case 'f': file = optarg; break;
        case 'i': ids_only = true; break;
        case 's': flags |= TC_TOK_PARSE_SPECIAL; break;
        case 'B': flags &= ~TC_TOK_ADD_BOS; break;
        case 'h': fputs(find_command("tokenize")->usage, stdout); return 0;
        default: return option_error("tokenize", argv);
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
    if (!s && !text) s = read_all(file ? file : "-", &buf, &len, &err);
    if (!s) s = tc_tokenizer_encode(tok, text ? text : buf, len, flags, &ids, &n, &err);
    for (size_t i = 0; !s && i < n; i++) {
        if (ids_only) {
            printf("%s%" PRId32, i ? " " : "", ids[i]);
            continue;
        }
        char *piece;
        size_t plen;
        if ((s = tc_tokenizer_decode(tok, &ids[i], 1, 0, &piece, &plen, &err))) break;
        printf("%" PRId32 "\t", ids[i]);
        print_quoted(piece, plen);
        putchar('\n');
        free(piece);
    }
    if (!s && ids_only) putchar('\n');
    free(ids);
    free(buf);
    tc_tokenizer_free(tok);
    tc_gguf_close(g);
    return report(s, &err);
}

static int cmd_detokenize(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ids", required_argument, 0, 'i' }, { "skip-special", no_argument, 0, 's' },
        { "raw", no_argument, 0, 'r' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    const char *list = NULL;
    unsigned flags = TC_DETOK_VALID_UTF8;
    bool raw = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': list = optarg; break;
        case 's': flags |= TC_DETOK_SKIP_SPECIAL; break;
        case 'r': raw = true; flags &= ~TC_DETOK_VALID_UTF8; break;
        case 'h': fputs(find_command("detokenize")->usage, stdout); return 0;
        default: return option_error("detokenize", argv);
        }
    }
    if (argc - optind < 1) return usage_error("detokenize", "%s", "expected MODEL");
    if (!list == (argc - optind == 1)) return usage_error("detokenize", "%s", "give ids as arguments or --ids 1,2,3");
    tc_err err = { 0 };
    int32_t *ids = NULL;
    size_t n = 0;
    tc_status s = TC_OK;
    if (list) {
        s = tc_parse_token_list(list, &ids, &n, &err);
    } else if (!(ids = malloc((size_t)(argc - optind - 1) * sizeof *ids))) {
        s = tc_fail(&err, TC_E_NOMEM, "out of memory");
    }
    for (int i = optind + 1; !s && !list && i < argc; i++) {
        int32_t *one;
        size_t k;
        if ((s = tc_parse_token_list(argv[i], &one, &k, &err))) break;
        if (k != 1) s = tc_fail(&err, TC_E_USAGE, "invalid token id '%s'", argv[i]);
        else ids[n++] = one[0];
        free(one);
    }
    if (s) {
        free(ids);
        return usage_error("detokenize", "%s", err.msg);
    }
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

static const command commands[] = {
    { "gen", cmd_gen, "write a deterministic synthetic BitNet b1.58 model",
      "usage: tritcheck gen [--preset tiny|small|medium|2b4t] -o FILE [options]\n"
      "  --seed N            RNG seed (default 1); same seed, same bytes\n"
      "  --weights i2_s|f32|f16  type of the linear weights (default i2_s)\n"
      "  --latent            Gaussian non-ternary F32 linear weights\n"
      "  --arch NAME         bitnet-b1.58 (default), bitnet-25 or bitnet\n"
      "  --act relu2|silu    the FFN activation of --arch bitnet (default relu2)\n"
      "  --vocab N --ctx N --embd N --layers N --ffn N --heads N --kv-heads N\n"
      "  --rope-base X --eps X   override the preset's hyper-parameters\n" },
    { "quantize", cmd_quantize, "convert an F32/F16/BF16 model to I2_S",
      "usage: tritcheck quantize [--quiet] IN OUT\n"
      "  Linear weights become I2_S: an already-ternary tensor keeps m = max|W|\n"
      "  (lossless); a latent one gets m = mean|W|, code = clamp(round(W/m), -1, 1).\n"
      "  token_embd becomes F16; norms stay F32.  One line per tensor says which\n"
      "  rule applied.\n" },
    { "inspect", cmd_inspect, "show and validate a GGUF file",
      "usage: tritcheck inspect [--json] FILE\n"
      "  Metadata, tensor table, SHA-256, I2_S code statistics and a verdict.\n"
      "  Exit status 0 valid, 2 invalid.\n" },
    { "run", cmd_run, "generate greedily with an engine, optionally dumping every tap",
      "usage: tritcheck run MODEL (--tokens 1,2,3 | --prompt TEXT) [options]\n"
      "  --engine ref          the engine (default ref)\n"
      "  --precision i2s|fp32  W1.58xA8 with int8 activations (default), or W_f32.x\n"
      "  -n N                  tokens to generate (default 16); stops at EOS or a full context\n"
      "  --threads N           threads for the matrix-vector products (default 1)\n"
      "  --ctx N               KV cache positions (default: the model's context length)\n"
      "  --dump DIR            write every tap of every position to DIR (index.json,\n"
      "                        <tap>.f32; q8 taps as <tap>.i8 and <tap>.scale.f32)\n"
      "  --prompt goes through the model's tokenizer (see 'tritcheck help tokenize'),\n"
      "  BOS first, special tokens recognised.  Exit status 0, or 2\n"
      "  for a usage or input error (nothing is dumped then).\n" },
    { "bench", cmd_bench, "measure prefill and decode speed against the machine's bandwidth",
      "usage: tritcheck bench MODEL [options]\n"
      "  --engine ref|fast     the engine (default fast)\n"
      "  --isa scalar|avx2|avx512  the fast engine's kernels (default: the best here)\n"
      "  --threads N           engine and bandwidth threads (default: online cores)\n"
      "  --prompt-len N        prefill tokens (default 128)\n"
      "  --gen N               decoded tokens (default 128)\n"
      "  --repeat N            timed repeats after one warm-up (default 5)\n"
      "  --json                a sealed receipt of kind bench instead of the table\n"
      "  Reports median (min, max) tokens/s, measured read bandwidth, bytes per\n"
      "  decoded token, the ratio to the bandwidth floor, and prefill int8 MAC/s\n"
      "  against the cores' peak.  Exit status 0, or 2 for a usage or input error.\n" },
    { "compare", cmd_compare, "compare two engines (or an engine and a recording) tap by tap",
      "usage: tritcheck compare MODEL [options]\n"
      "  --ref ENGINE|dump:DIR   the reference (default ref)\n"
      "  --cand ENGINE|dump:DIR  the candidate (default fast)\n"
      "  --mode isolated|chained isolated (default): each candidate tap is compared, then\n"
      "                          replaced by the reference's; chained: both run free\n"
      "  --tokens 1,2,3 | --prompt TEXT | --random N [--seed S]   the prompt (default --random 16)\n"
      "  --gen N                 tokens generated after the prompt, one at a time (default 16)\n"
      "  --precision i2s|fp32    --threads N   --ctx N\n"
      "  --tol X                 pass when every tap's scaled error <= X (default 1e-5)\n"
      "  --q8-margin X           accept an off-by-one int8 code within X of a rounding\n"
      "                          boundary (default 1e-3)\n"
      "  --no-determinism        skip the second run of the live engine\n"
      "  --inject TAP:EPS        testing aid: the candidate multiplies tap TAP by (1+EPS)\n"
      "                          (a .q8 tap: moves one code per row), to prove a failure shows\n"
      "  -o RECEIPT [--sign KEY] write a receipt (tritcheck.receipt/1), signed with Ed25519\n"
      "  Exit status 0 all taps pass, 1 some tap failed, 2 usage or input error.\n" },
    { "accuracy", cmd_accuracy, "measure I2_S against an FP32 baseline, every metric named",
      "usage: tritcheck accuracy MODEL [options]\n"
      "  --baseline LATENT     a latent F32/F16 model against MODEL, its I2_S quantization\n"
      "                        (default: MODEL itself in fp32 precision)\n"
      "  --tokens 1,2,3 | --prompt TEXT | --corpus FILE | --random N [--seed S]\n"
      "                        the input (default --random 256)\n"
      "  --ctx N               tokens per chunk (default: the model's context)\n"
      "  --engine ref|fast     the subject's engine (the baseline runs on ref)\n"
      "  --precision P         the subject's precision (default i2s)\n"
      "  --baseline-precision P  the baseline's (default fp32)\n"
      "  --threads N   -o RECEIPT [--sign KEY]\n"
      "  Reports weight-level error (with --baseline), per-layer cosine and NMSE of\n"
      "  blk.N.out, per-position KL, top-1 agreement, top-5 overlap and perplexity,\n"
      "  each with its definition.\n" },
    { "kernels", cmd_kernels, "check every kernel against the reference kernels, and time them",
      "usage: tritcheck kernels [--engine fast|PLUGIN.so] [--isa scalar|avx2|avx512] [options]\n"
      "  --engine fast|PLUGIN.so  the fast engine's kernels (default), or a kernel plug-in\n"
      "                        (see tritcheck-kernels(3)); a path without '/' is in .\n"
      "  --isa scalar|avx2|avx512  which of the fast engine's tables (default: the best here)\n"
      "  --filter NAME         only kernels whose name contains NAME (i2s_gemv, i2s_gemm,\n"
      "                        rmsnorm_q8, rmsnorm, f16_gemv, f16_gemm, attention_head);\n"
      "                        'large' runs the large cases (the 2b4t LM head)\n"
      "  --perf                time the model-shaped cases (median of repeats, one thread)\n"
      "                        against the measured read bandwidth and MAC peaks;\n"
      "                        includes the large cases\n"
      "  --repeat N            timed repeats per case (default 7)\n"
      "  --seed N              base seed of the random inputs (default 2385)\n"
      "  -v, --verbose         a line for every case, not only failures\n"
      "  -o RECEIPT [--sign KEY]  a receipt of kind kernels listing every case\n"
      "  Checks: integer sums and int8 codes exact, float results within a scaled\n"
      "  error of 1e-6, no NaN/Inf the reference lacks, 64 guard bytes around every\n"
      "  output intact, no write outside the row range, inputs unchanged.\n"
      "  Exit status 0 all cases pass, 1 some fail, 2 usage or load error.\n" },
    { "conform", cmd_conform, "run a conformance suite: one receipt per case and a summary",
      "usage: tritcheck conform SUITE -o DIR [--cand ENGINE] [--sign KEY] [--threads N]\n"
      "         [--suite-dir DIR] [--vectors DIR] [--model-dir DIR]\n"
      "  SUITE is smoke, standard, 2b4t-official (manifests in the conformance/\n"
      "  directory) or a manifest path.  Each case runs a comparison against the\n"
      "  candidate (default fast) and must give its expected verdict; negative\n"
      "  controls must fail where the manifest says.  --model-dir holds your own\n"
      "  model files (2b4t-official: ggml-model-i2_s.gguf).\n"
      "  Exit status 0 every case conforms, 1 some does not, 2 error.\n" },
    { "vectors", cmd_vectors, "generate or check the golden model vectors",
      "usage: tritcheck vectors generate DIR\n"
      "       tritcheck vectors check DIR [--cand ENGINE] [--tol X]\n"
      "  generate: for each built-in recipe, gen's model (deterministic) run by the\n"
      "  reference engine; every tap recorded in DIR/NAME.tcv.gz (a small binary\n"
      "  format with a CRC-32, see tritcheck-vectors(1)).\n"
      "  check: regenerate each model, check its SHA-256, and compare ENGINE\n"
      "  (default ref) with the recording, isolated, within X (default 1e-5).\n"
      "  Exit status 0 all pass, 1 some fail, 2 a damaged vector or other error.\n" },
    { "verify", cmd_verify, "check a receipt: schema, digest, signature, consistency, rerun",
      "usage: tritcheck verify RECEIPT [--model FILE] [--baseline FILE] [--pubkey KEY.pub] [--rerun]\n"
      "  Checks the schema, the digest and signature, that every verdict follows from\n"
      "  the figures and criteria, and with --model the model's SHA-256.  --rerun (with\n"
      "  --model) runs the comparison again and lists every figure that differs.\n"
      "  Exit status 0 valid, 1 invalid, 2 cannot check.\n" },
    { "diff", cmd_diff, "what changed between two receipts",
      "usage: tritcheck diff OLD NEW\n"
      "  Per tap: scaled error before and after, verdict flips; kernel variants that\n"
      "  started or stopped running; verdict, determinism and timing changes.\n"
      "  Exit status 1 when a verdict got worse, else 0; 2 on bad input.\n" },
    { "report", cmd_report, "a receipt as one self-contained HTML page",
      "usage: tritcheck report RECEIPT -o FILE.html\n"
      "  Summary, an SVG chart of each tap's scaled error (log scale) against the\n"
      "  tolerance, the tap table, the kernels that ran and the provenance.\n" },
    { "keygen", cmd_keygen, "make an Ed25519 key pair for signing receipts",
      "usage: tritcheck keygen KEY\n"
      "  Writes KEY (private, PEM, mode 0600) and KEY.pub (public, PEM).\n" },
    { "devices", cmd_devices, "list the GPUs the CUDA engine can use",
      "usage: tritcheck devices\n" },
    { "tokenize", cmd_tokenize, "text to token ids with a model's tokenizer",
      "usage: tritcheck tokenize MODEL [--text TEXT | --file FILE] [--ids] [--special] [--no-bos]\n"
      "  MODEL may be a vocabulary-only GGUF.  Reads standard input without --text/--file.\n"
      "  Prints one line per token: the id, a tab and the token's bytes quoted.\n"
      "  --ids         only the ids, on one line separated by spaces\n"
      "  --special     recognise special tokens written in the text (<|eot_id|>)\n"
      "  --no-bos      no BOS even when the model's add_bos_token says so\n"
      "  Exit status 0, or 2 for a usage or input error.\n" },
    { "detokenize", cmd_detokenize, "token ids back to text",
      "usage: tritcheck detokenize MODEL (ID... | --ids 1,2,3) [--skip-special] [--raw]\n"
      "  Prints the text and a newline; invalid UTF-8 (a character cut between\n"
      "  tokens) is shown as U+FFFD.\n"
      "  --skip-special  leave out BOS, EOS and other control tokens\n"
      "  --raw           the exact bytes, no replacement, no newline\n"
      "  Exit status 0, or 2 for a usage or input error (an id outside the vocabulary).\n" },
    { "help", cmd_help, "show help for a command", "usage: tritcheck help [COMMAND]\n" },
};

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(commands[i].name, name)) return &commands[i];
    return NULL;
}

static void print_overview(FILE *fp)
{
    fprintf(fp, "usage: tritcheck COMMAND [options]   (tritcheck help COMMAND)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(fp, "\n  --help, --version\n");
}

static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stdout);
        return 0;
    }
    const command *c = find_command(argv[1]);
    if (!c) return usage_error("help", "unknown command '%s'", argv[1]);
    fputs(c->usage, stdout);
    return 0;
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

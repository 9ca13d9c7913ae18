/* tritcheck.c -- the command line: one small function per command, parsing
 * options and calling the library.  Only this file exits. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "gen.h"
#include "inspect.h"
#include "quantize.h"
#include "run.h"

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
        { "eps", required_argument, 0, 'E' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
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
        default: return usage_error("gen", "%s", "invalid option");
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
        else return usage_error("quantize", "%s", "invalid option");
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
        else return usage_error("inspect", "%s", "invalid option");
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
        default: return usage_error("run", "%s", "invalid option");
        }
        if (!ok) return usage_error("run", "invalid value '%s'", optarg);
    }
    if (argc - optind != 1) return usage_error("run", "%s", "expected one MODEL");
    if (!token_list == !o.prompt) return usage_error("run", "%s", "give exactly one of --tokens and --prompt");
    int32_t *tokens = NULL;
    if (token_list) {
        /* "1,2,3": decimal ids; range is checked against the model later */
        size_t n = 1;
        for (const char *p = token_list; *p; p++) n += *p == ',';
        tokens = malloc(n * sizeof *tokens);
        if (!tokens) return report(TC_E_NOMEM, &(tc_err){ .msg = "out of memory" });
        const char *p = token_list;
        for (size_t i = 0; i < n; i++) {
            char *end;
            errno = 0;
            long v = strtol(p, &end, 10);
            if (errno || end == p || (*end && *end != ',') || v < INT32_MIN || v > INT32_MAX) {
                free(tokens);
                return usage_error("run", "invalid token list '%s'", token_list);
            }
            tokens[i] = (int32_t)v;
            p = end + (*end == ',');
        }
        o.tokens = tokens;
        o.n_tokens = n;
    }
    tc_err err = { 0 };
    tc_status s = tc_run(argv[optind], &o, stdout, stderr, &err);
    free(tokens);
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
      "  --prompt maps each byte to the vocabulary's byte token (<0xNN> or GPT-2\n"
      "  byte-level), after BOS; a BPE tokenizer comes later.  Exit status 0, or 2\n"
      "  for a usage or input error (nothing is dumped then).\n" },
    { "devices", cmd_devices, "list the GPUs the CUDA engine can use",
      "usage: tritcheck devices\n" },
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

/* record.c -- tritcheck-record: run a model on the user's own build of
 * llama.cpp or bitnet.cpp, through its public C API, and write every
 * tensor of its graph that is a canonical tap (SPEC 3.1) as a recording in
 * the vectors layout (engine/dump.h), for `tritcheck compare --ref
 * dump:DIR`.  See doc/recording.md and tritcheck-record(1).
 *
 * The eval callback (cb_eval in the context parameters) is asked about
 * every graph node before it is computed: a node the architecture's table
 * (graph_taps.h) maps to a tap is requested and copied once computed;
 * every other node is listed as unmapped.  The prompt runs as one batch,
 * then each generated token alone, as `compare` drives an engine; every
 * position asks for its logits, so that the last layer keeps all rows.
 *
 * Built only with ./configure --with-llama=DIR (or `make record-with
 * LLAMA_DIR=DIR`); not linked into tritcheck.  It uses tritcheck's format,
 * engine and base libraries to read the model, name taps and write.
 */
#define _GNU_SOURCE   /* dladdr: which shared library a symbol came from */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ggml.h"
#include "ggml-backend.h"
#include "llama.h"

#include "config.h"
#include "tc_commit.h"
#include "base/clock.h"
#include "base/host.h"
#include "base/sha256.h"
#include "engine/dump.h"
#include "engine/engine.h"
#include "format/input.h"
#include "format/model.h"
#include "record/graph_taps.h"

#ifndef TC_LLAMA_FLAVOR
#define TC_LLAMA_FLAVOR "llama.cpp"
#endif
#ifndef TC_LLAMA_TREE
#define TC_LLAMA_TREE ""
#endif
#ifndef TC_LLAMA_BUILD
#define TC_LLAMA_BUILD ""
#endif

/* ---- the recording in memory ---- */

/* One tap of one layer: rows [n_total][width], and which positions came. */
typedef struct slot {
    float *rows;
    uint8_t *have;        /* [n_total] */
    uint32_t n_have;
    bool broken;          /* shown, but not as rows of floats we can take */
    char why[160];        /* when broken */
} slot;

typedef struct recorder {
    const tc_model *m;
    const tc_graph_table *table;
    uint32_t n_total;     /* positions of the whole run */
    slot *slots;          /* [(n_layer + 1) * TC_TAP_COUNT]: model-wide taps first */
    uint32_t pos0, n;     /* the batch running now */
    tc_dump *dump;        /* unmapped tensors go straight in */
    tc_status err;        /* the first failure inside the callback */
    tc_err msg;
    bool saw_silu;        /* the graph has an "ffn_silu" node */
    bool verbose;
    bool quiet;           /* errors of a context we try and expect may fail */
    char kv[32];          /* the KV cache the context got: "f32", "K f32, V f16" */
} recorder;

static slot *slot_of(recorder *r, tc_tap_id id, int layer)
{
    return &r->slots[(size_t)(layer + 1) * TC_TAP_COUNT + id];
}

/* Copy the rows of a computed tensor into its slot: float32, contiguous,
 * one row of the tap's width per position of the batch. */
static void take_rows(recorder *r, struct ggml_tensor *t, tc_tap_id id, int layer)
{
    slot *s = slot_of(r, id, layer);
    const uint32_t width = tc_tap_width_of(id, &r->m->hp);
    const int64_t nel = ggml_nelements(t);
    if (t->type != GGML_TYPE_F32 || !ggml_is_contiguous(t) || nel != (int64_t)width * r->n) {
        s->broken = true;
        snprintf(s->why, sizeof s->why, "graph tensor %s is %s%s with %" PRId64 " elements, not %" PRIu32
                 " rows of %" PRIu32 " float32", ggml_get_name(t), ggml_type_name(t->type),
                 ggml_is_contiguous(t) ? "" : " (not contiguous)", nel, r->n, width);
        return;
    }
    if (!s->rows) {
        s->rows = malloc((size_t)r->n_total * width * sizeof(float));
        s->have = calloc(r->n_total, 1);
        if (!s->rows || !s->have) {
            r->err = tc_fail(&r->msg, TC_E_NOMEM, "tritcheck-record: out of memory");
            return;
        }
    }
    ggml_backend_tensor_get(t, s->rows + (size_t)r->pos0 * width, 0, (size_t)nel * sizeof(float));
    for (uint32_t p = r->pos0; p < r->pos0 + r->n; p++) {
        s->n_have += !s->have[p];
        s->have[p] = 1;
    }
}

/* The eval callback.  ask: whether we want t once computed (mapped
 * tensors only; the rest are listed).  Otherwise t is computed: copy it.
 * It always returns true when not asking: false would stop the graph. */
static bool on_tensor(struct ggml_tensor *t, bool ask, void *user)
{
    recorder *r = user;
    tc_tap_id id;
    int layer;
    const char *name = ggml_get_name(t), *op = ggml_op_name(t->op);
    bool mapped = tc_graph_tap(r->table, name, op, &id, &layer) && layer < (int)r->m->hp.n_layer;
    if (!ask) {
        if (mapped && r->err == TC_OK) take_rows(r, t, id, layer);
        return true;
    }
    if (!strncmp(name, "ffn_silu", 8)) r->saw_silu = true;
    if (!mapped && r->err == TC_OK) {
        int64_t ne[GGML_MAX_DIMS];
        for (int i = 0; i < GGML_MAX_DIMS; i++) ne[i] = t->ne[i];
        tc_status s = tc_dump_add_unmapped(r->dump, name[0] ? name : "(unnamed)", op, ne, ggml_n_dims(t), &r->msg);
        if (s) r->err = s;
    }
    return mapped;
}

/* llama.cpp's log: errors always, the rest with -v */
static void on_log(enum ggml_log_level level, const char *text, void *user)
{
    const recorder *r = user;
    if (r->verbose || (level == GGML_LOG_LEVEL_ERROR && !r->quiet)) fputs(text, stderr);
}

/* ---- the engine's identity ---- */

/* The first line `cmd` prints, into buf ("" when it fails). */
static void command_line(const char *cmd, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p) return;
    if (!fgets(buf, (int)n, p)) buf[0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    pclose(p);
}

/* git commit and whether tracked files changed, of the tree at dir */
static cJSON *git_json(const char *dir)
{
    char cmd[4400], commit[128], dirty[32];
    snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse HEAD 2>/dev/null", dir);
    command_line(cmd, commit, sizeof commit);
    if (!commit[0]) return NULL;
    snprintf(cmd, sizeof cmd, "git -C '%s' status --porcelain --untracked-files=no 2>/dev/null | wc -l", dir);
    command_line(cmd, dirty, sizeof dirty);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "commit", commit);
    cJSON_AddBoolToObject(o, "modified_files", atoi(dirty) > 0);
    return o;
}

/* The build options that decide the arithmetic, from the tree's
 * CMakeCache.txt: build type, compilers, every BITNET_ option, and every
 * GGML_ / LLAMA_ option that is not OFF. */
static cJSON *cmake_json(const char *build)
{
    char path[4200], line[1024];
    snprintf(path, sizeof path, "%s/CMakeCache.txt", build);
    FILE *fp = fopen(path, "r");
    if (!fp) return NULL;
    cJSON *o = cJSON_CreateObject();
    static const char *const prefixes[] = { "CMAKE_BUILD_TYPE:", "CMAKE_C_COMPILER:", "CMAKE_CXX_COMPILER:",
                                            "CMAKE_C_FLAGS:", "GGML_", "BITNET_", "LLAMA_" };
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *eq = strchr(line, '=');
        if (!eq || line[0] == '/' || line[0] == '#' || !eq[1]) continue;
        bool want = false;
        for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0] && !want; i++)
            want = !strncmp(line, prefixes[i], strlen(prefixes[i]));
        char *colon = strchr(line, ':');
        if (!want || !colon || colon > eq || strstr(line, "_DIR:") || strstr(line, "-ADVANCED")) continue;
        /* GGML_ options left OFF and tools not found say nothing about the
         * arithmetic; bitnet.cpp's few switches (BITNET_X86_TL2) always do */
        if ((!strcmp(eq + 1, "OFF") && strncmp(line, "BITNET_", 7)) || strstr(eq + 1, "NOTFOUND")) continue;
        *colon = '\0';
        cJSON_AddStringToObject(o, line, eq + 1);
    }
    fclose(fp);
    return o;
}

/* The shared library that defines `sym`, with its SHA-256: what ran. */
static void add_library(cJSON *libs, void *sym)
{
    Dl_info info;
    if (!dladdr(sym, &info) || !info.dli_fname) return;
    char hex[TC_SHA256_HEX];
    tc_err err;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", info.dli_fname);
    if (tc_sha256_file(info.dli_fname, hex, &err) == TC_OK) cJSON_AddStringToObject(o, "sha256", hex);
    cJSON_AddItemToArray(libs, o);
}

static cJSON *identity_json(int threads, const char *kv_type, const char *precision)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "program", "tritcheck-record " PACKAGE_VERSION " (tritcheck " TC_GIT_COMMIT ")");
    cJSON_AddStringToObject(o, "engine", TC_LLAMA_FLAVOR);
    cJSON_AddStringToObject(o, "api", TC_LLAMA_NEW_API ? "llama_model_load_from_file + llama_init_from_model"
                                                       : "llama_load_model_from_file + llama_new_context_with_model");
    cJSON_AddStringToObject(o, "tree", TC_LLAMA_TREE);
    cJSON *g = git_json(TC_LLAMA_TREE);
    if (g) cJSON_AddItemToObject(o, "git", g);
    if (!strcmp(TC_LLAMA_FLAVOR, "bitnet.cpp")) {
        /* the fork of llama.cpp bitnet.cpp builds, a git tree of its own */
        g = git_json(TC_LLAMA_TREE "/3rdparty/llama.cpp");
        if (g) cJSON_AddItemToObject(o, "llama_cpp_git", g);
    }
    cJSON *c = cmake_json(TC_LLAMA_BUILD);
    if (c) cJSON_AddItemToObject(o, "cmake", c);
    cJSON *libs = cJSON_AddArrayToObject(o, "libraries");
    add_library(libs, (void *)llama_decode);
    add_library(libs, (void *)ggml_backend_tensor_get);
    cJSON_AddStringToObject(o, "system_info", llama_print_system_info());
    char cpu[256];
    tc_cpu_model(cpu, sizeof cpu);
    cJSON_AddStringToObject(o, "cpu", cpu);
    cJSON *feat = cJSON_AddArrayToObject(o, "cpu_features");
    for (int f = 0; f < TC_CPU_N_FEATURES; f++)
        if (tc_cpu_has((tc_cpu_feature)f)) cJSON_AddItemToArray(feat, cJSON_CreateString(tc_cpu_feature_name((tc_cpu_feature)f)));
    cJSON_AddNumberToObject(o, "threads", threads);
    cJSON_AddStringToObject(o, "kv_cache", kv_type);
    cJSON_AddBoolToObject(o, "flash_attn", false);
    cJSON_AddStringToObject(o, "precision", precision);
    return o;
}

/* ---- running the engine ---- */

typedef struct options {
    const char *model, *out;
    tc_input in;
    uint32_t n_gen;
    int threads;
    const char *precision;    /* NULL: from the weight types */
    bool kv_f16;
    bool verbose;
} options;

static struct llama_model *load_model(const char *path, struct llama_model_params mp)
{
#if TC_LLAMA_NEW_API
    return llama_model_load_from_file(path, mp);
#else
    return llama_load_model_from_file(path, mp);
#endif
}

static struct llama_context *new_context(struct llama_model *model, struct llama_context_params cp)
{
#if TC_LLAMA_NEW_API
    return llama_init_from_model(model, cp);
#else
    return llama_new_context_with_model(model, cp);
#endif
}

static void free_model(struct llama_model *model)
{
#if TC_LLAMA_NEW_API
    llama_model_free(model);
#else
    llama_free_model(model);
#endif
}

/* Decode tokens[pos0 .. pos0+n) as one batch, every position asking for
 * its logits.  TC_OK, TC_E_IO (the engine failed) or the callback's error. */
static tc_status decode(recorder *r, struct llama_context *ctx, const int32_t *tokens, uint32_t pos0, uint32_t n,
                        tc_err *err)
{
    struct llama_batch b = llama_batch_init((int32_t)n, 0, 1);
    for (uint32_t i = 0; i < n; i++) {
        b.token[i] = tokens[pos0 + i];
        b.pos[i] = (llama_pos)(pos0 + i);
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = 0;
        b.logits[i] = 1;
    }
    b.n_tokens = (int32_t)n;
    r->pos0 = pos0;
    r->n = n;
    int32_t rc = llama_decode(ctx, b);
    llama_batch_free(b);
    if (r->err) return tc_fail(err, r->err, "%s", r->msg.msg);
    if (rc != 0)
        return tc_fail(err, TC_E_IO, "%s: llama_decode returned %" PRId32 " at positions %" PRIu32 "..%" PRIu32,
                       TC_LLAMA_FLAVOR, rc, pos0, pos0 + n - 1);
    return TC_OK;
}

/* The precision the engine computed in: what every linear weight is. */
static const char *precision_of(const tc_model *m)
{
    const tc_type t = m->layers[0].attn_q.type;
    if (t == TC_TYPE_I2_S) return "i2s";
    if (t == TC_TYPE_TQ1_0 || t == TC_TYPE_TQ2_0) return "q8k";
    return "fp32";
}

/* Run the prompt, then n_gen greedy tokens one at a time (appended). */
static tc_status run_engine(recorder *r, const options *o, int32_t *tokens, uint32_t n_prompt, double *seconds,
                            tc_err *err)
{
    llama_log_set(on_log, r);
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    struct llama_model *model = load_model(o->model, mp);
    if (!model) {
        llama_backend_free();
        return tc_fail(err, TC_E_IO, "%s: %s could not load the model (run with -v for its log)", o->model,
                       TC_LLAMA_FLAVOR);
    }
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = r->n_total;
    cp.n_batch = cp.n_ubatch = n_prompt > 1 ? n_prompt : 1;   /* the prompt is one batch */
    cp.n_threads = cp.n_threads_batch = o->threads;
    cp.cb_eval = on_tensor;
    cp.cb_eval_user_data = r;
    cp.type_k = cp.type_v = o->kv_f16 ? GGML_TYPE_F16 : GGML_TYPE_F32;
    cp.flash_attn = false;
    snprintf(r->kv, sizeof r->kv, "%s", o->kv_f16 ? "f16" : "f32");
    r->quiet = !o->kv_f16;
    struct llama_context *ctx = new_context(model, cp);
    r->quiet = false;
    if (!ctx && !o->kv_f16) {
        /* bitnet.cpp's fork takes an F32 V cache only with flash attention,
         * whose CPU kernel cannot take an F32 K cache: K F32, V F16 */
        cp.type_v = GGML_TYPE_F16;
        ctx = new_context(model, cp);
        snprintf(r->kv, sizeof r->kv, "K f32, V f16");
    }
    tc_status s = ctx ? TC_OK : tc_fail(err, TC_E_IO, "%s: %s could not create a context", o->model, TC_LLAMA_FLAVOR);
    const double t0 = tc_now_s();
    if (!s) s = decode(r, ctx, tokens, 0, n_prompt, err);
    for (uint32_t g = 0; g < o->n_gen && !s; g++) {
        const uint32_t last = n_prompt + g;   /* positions so far */
        const float *logits = llama_get_logits_ith(ctx, -1);
        tokens[last] = (int32_t)tc_argmax(logits, r->m->hp.n_vocab);
        s = decode(r, ctx, tokens, last, 1, err);
    }
    *seconds = tc_now_s() - t0;
    if (ctx) llama_free(ctx);
    free_model(model);
    llama_backend_free();
    return s;
}

/* ---- writing ---- */

/* Every tap of the run's precision into the dump in canonical order, or
 * into its missing list with the reason.  *n_recorded, *n_expected. */
static tc_status collect(recorder *r, bool with_q8, size_t *n_recorded, size_t *n_expected, tc_err *err)
{
    const int n_layer = (int)r->m->hp.n_layer;
    *n_recorded = *n_expected = 0;
    for (int pass = 0; pass < 3; pass++) {   /* inp_embd; the blocks; output_norm, logits */
        const int l0 = pass == 1 ? 0 : -1, l1 = pass == 1 ? n_layer : 0;
        for (int l = l0; l < l1; l++) {
            for (int i = 0; i < TC_TAP_COUNT; i++) {
                const tc_tap_id id = (tc_tap_id)i;
                const tc_tap_def *def = tc_tap_def_of(id);
                if (def->per_layer != (pass == 1) || !tc_tap_shown(id, with_q8)) continue;
                if (pass == 0 && id != TC_TAP_INP_EMBD) continue;
                if (pass == 2 && id == TC_TAP_INP_EMBD) continue;
                char name[64], why[256], names[160];
                tc_tap_format(id, l, name, sizeof name);
                (*n_expected)++;
                const slot *s = slot_of(r, id, l);
                tc_status st;
                if (s->n_have == r->n_total && !s->broken) {
                    tc_tap tap = { .id = id, .name = name, .layer = l, .pos0 = 0, .n_pos = r->n_total,
                                   .width = tc_tap_width_of(id, &r->m->hp), .kind = TC_TAP_F32, .f = s->rows };
                    st = tc_dump_tap_fn(r->dump, &tap, err);
                    (*n_recorded)++;
                } else {
                    tc_graph_names_of(r->table, id, names, sizeof names);
                    if (def->kind == TC_TAP_Q8) {
                        char src[64];
                        tc_tap_q8_source(name, src, sizeof src);
                        snprintf(why, sizeof why, "the int8 codes are made inside the engine's matmul kernel, not "
                                 "as a graph tensor (compare can derive them from %s)", src);
                    } else if (s->broken)
                        snprintf(why, sizeof why, "%s", s->why);
                    else if (s->n_have == 0)
                        snprintf(why, sizeof why, "the graph has no tensor named %s", names[0] ? names : "for it");
                    else
                        snprintf(why, sizeof why, "shown for %" PRIu32 " of %" PRIu32 " positions", s->n_have,
                                 r->n_total);
                    st = tc_dump_add_missing(r->dump, name, why, err);
                }
                if (st) return st;
            }
        }
    }
    return TC_OK;
}

/* ---- main ---- */

static int usage(FILE *f)
{
    fprintf(f,
            "usage: tritcheck-record MODEL -o DIR [--tokens 1,2,3 | --prompt TEXT | --random N [--seed S]] [options]\n"
            "  The prompt: ids, text through the model's tokenizer, or N ids from GSL's\n"
            "  mt19937 with seed S (default 1); default --random 16.\n"
            "  Runs MODEL on %s (%s) through its C API and writes every graph tensor\n"
            "  that is a canonical tap to DIR in the vectors layout, for\n"
            "  'tritcheck compare MODEL --ref dump:DIR --cand ref'.\n"
            "  -n, --gen N          greedy tokens after the prompt, one at a time (default 8)\n"
            "  -t, --threads N      the engine's threads (default 1)\n"
            "  --precision P        the arithmetic the engine used, for the index: i2s, q8k or fp32\n"
            "                       (default: from the linear weights' type)\n"
            "  --kv-type f32|f16    the KV cache (default f32: F16 rounds K and V before attention)\n"
            "  -v, --verbose        the engine's own log on standard error\n"
            "  --version            what this recorder was built against\n"
            "  Exit status 0 written (the coverage line says what is missing), 2 usage\n"
            "  or input error, 1 the engine failed.\n",
            TC_LLAMA_FLAVOR, TC_LLAMA_TREE);
    return f == stdout ? 0 : 2;
}

static int fail(const tc_err *err, tc_status s)
{
    fprintf(stderr, "tritcheck-record: %s\n", err->msg);
    return s == TC_E_IO && strstr(err->msg, "llama_decode") ? 1 : 2;
}

static int parse(int argc, char **argv, options *o)
{
    static const struct option longs[] = {
        { "output", required_argument, 0, 'o' }, { "tokens", required_argument, 0, 'T' },
        { "prompt", required_argument, 0, 'P' }, { "random", required_argument, 0, 'R' },
        { "seed", required_argument, 0, 'S' }, { "gen", required_argument, 0, 'n' },
        { "threads", required_argument, 0, 't' }, { "precision", required_argument, 0, 'p' },
        { "kv-type", required_argument, 0, 'k' }, { "verbose", no_argument, 0, 'v' },
        { "version", no_argument, 0, 'V' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
    *o = (options){ .n_gen = 8, .threads = 1, .in.seed = 1 };   /* seed 1, as compare's --random */
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "o:n:t:vh", longs, NULL)) != -1) {
        switch (c) {
        case 'o': o->out = optarg; break;
        case 'T': o->in.token_list = optarg; break;
        case 'P': o->in.prompt = optarg; break;
        case 'R': o->in.n_random = (uint32_t)strtoul(optarg, &end, 10); if (*end || !o->in.n_random) return -1; break;
        case 'S': o->in.seed = strtoull(optarg, &end, 10); if (*end) return -1; break;
        case 'n': o->n_gen = (uint32_t)strtoul(optarg, &end, 10); if (*end || o->n_gen > 100000) return -1; break;
        case 't': o->threads = atoi(optarg); if (o->threads < 1 || o->threads > 1024) return -1; break;
        case 'p':
            if (strcmp(optarg, "i2s") && strcmp(optarg, "q8k") && strcmp(optarg, "fp32")) return -1;
            o->precision = optarg;
            break;
        case 'k':
            if (strcmp(optarg, "f32") && strcmp(optarg, "f16")) return -1;
            o->kv_f16 = !strcmp(optarg, "f16");
            break;
        case 'v': o->verbose = true; break;
        case 'V':
            printf("tritcheck-record %s (tritcheck %s), built against %s at %s (%s API)\n", PACKAGE_VERSION,
                   TC_GIT_COMMIT, TC_LLAMA_FLAVOR, TC_LLAMA_TREE, TC_LLAMA_NEW_API ? "new" : "old");
            return 1;
        case 'h': usage(stdout); return 1;
        default: return -1;
        }
    }
    if (argc - optind != 1 || !o->out || tc_input_count(&o->in) > 1) return -1;
    o->model = argv[optind];
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    int pr = parse(argc, argv, &o);
    if (pr > 0) return 0;
    if (pr < 0) return usage(stderr);
    tc_err err = { 0 };
    tc_model *m = NULL;
    int32_t *tokens = NULL;
    size_t n_prompt = 0;
    recorder r = { .verbose = o.verbose };
    tc_status s = tc_model_load(o.model, &m, &err);
    if (!s && !(r.table = tc_graph_table_for(m->hp.arch)))
        s = tc_fail(&err, TC_E_UNSUPPORTED, "%s: architecture %s: the recorder knows bitnet-b1.58, bitnet-25 and bitnet",
                    o.model, m->hp.arch);
    if (!s) s = tc_input_tokens(&o.in, m, &tokens, &n_prompt, NULL, &err);
    if (!s && (uint64_t)n_prompt + o.n_gen > m->hp.n_ctx)
        s = tc_fail(&err, TC_E_RANGE, "%s: %zu prompt and %" PRIu32 " generated tokens exceed the context (%" PRIu32 ")",
                    o.model, n_prompt, o.n_gen, m->hp.n_ctx);
    for (size_t i = 0; i < n_prompt && !s; i++)
        if (tokens[i] < 0 || (uint32_t)tokens[i] >= m->hp.n_vocab)
            s = tc_fail(&err, TC_E_RANGE, "token %" PRId32 " at index %zu is outside the vocabulary (0..%" PRIu32 ")",
                        tokens[i], i, m->hp.n_vocab - 1);
    int32_t *all = NULL;
    if (!s) {
        r.m = m;
        r.n_total = (uint32_t)n_prompt + o.n_gen;
        r.dump = tc_dump_new();
        r.slots = calloc((size_t)(m->hp.n_layer + 1) * TC_TAP_COUNT, sizeof *r.slots);
        all = malloc(r.n_total * sizeof *all);
        if (!r.dump || !r.slots || !all) s = tc_fail(&err, TC_E_NOMEM, "tritcheck-record: out of memory");
        else memcpy(all, tokens, n_prompt * sizeof *all);
    }
    const char *precision = o.precision ? o.precision : m ? precision_of(m) : "";
    double seconds = 0, t0 = tc_now_s();
    if (!s) s = run_engine(&r, &o, all, (uint32_t)n_prompt, &seconds, &err);
    size_t n_rec = 0, n_exp = 0;
    char sha[TC_SHA256_HEX];
    if (!s) s = collect(&r, !strcmp(precision, "i2s"), &n_rec, &n_exp, &err);
    if (!s) s = tc_dump_add_tokens(r.dump, all, r.n_total, &err);
    if (!s) s = tc_dump_set_engine(r.dump, TC_LLAMA_FLAVOR, precision, &err);
    if (!s) s = tc_sha256_file(o.model, sha, &err);
    if (!s) s = tc_dump_set_model(r.dump, o.model, sha, &err);
    if (!s) {
        tc_dump_set_prompt_tokens(r.dump, (uint32_t)n_prompt);
        tc_dump_set_identity(r.dump, identity_json(o.threads, r.kv, precision));
        if (o.kv_f16)
            s = tc_dump_add_note(r.dump, "KV cache F16: K and V were rounded to half precision before attention; "
                                         "tritcheck's engines keep them in float: blk.N.attn differs", &err);
        else if (strcmp(r.kv, "f32"))
            s = tc_dump_add_note(r.dump, "V cache F16: this engine takes an F32 V cache only with flash attention, "
                                         "which cannot take an F32 K cache; V was rounded to half precision before "
                                         "attention, so blk.N.attn differs from tritcheck's by that rounding", &err);
        if (!s && m->hp.act == TC_ACT_RELU2 && r.saw_silu)
            s = tc_dump_add_note(r.dump, "the graph computes a SiLU FFN, the model's metadata says relu2 "
                                         "(llama.cpp's bitnet architecture ignores hidden_activation): "
                                         "ffn_act will not match", &err);
    }
    if (!s) s = tc_dump_write(r.dump, o.out, &err);
    if (!s) {
        printf("recorded %" PRIu32 " positions (%zu prompt, %" PRIu32 " generated) of %s on %s %s, %d thread%s, "
               "in %.2f s (engine %.2f s)\n", r.n_total, n_prompt, o.n_gen, o.model, TC_LLAMA_FLAVOR, precision,
               o.threads, o.threads == 1 ? "" : "s", tc_now_s() - t0, seconds);
        printf("coverage: %zu of %zu canonical taps recorded, %zu missing", n_rec, n_exp, tc_dump_n_missing(r.dump));
        if (tc_dump_n_missing(r.dump)) {
            const char *why;
            printf(" (first: %s: ", tc_dump_missing(r.dump, 0, &why));
            printf("%s)", why);
        }
        printf("; %zu graph tensors not mapped to a tap (listed in %s/index.json)\n", tc_dump_n_unmapped(r.dump), o.out);
        for (size_t i = 0; i < tc_dump_n_notes(r.dump); i++) printf("note: %s\n", tc_dump_note(r.dump, i));
        printf("generated:");
        for (uint32_t i = (uint32_t)n_prompt; i < r.n_total; i++) printf(" %" PRId32, all[i]);
        printf("\n");
    }
    if (r.slots)
        for (size_t i = 0; i < (size_t)(m->hp.n_layer + 1) * TC_TAP_COUNT; i++) {
            free(r.slots[i].rows);
            free(r.slots[i].have);
        }
    free(r.slots);
    tc_dump_free(r.dump);
    free(all);
    free(tokens);
    tc_model_free(m);
    return s ? fail(&err, s) : 0;
}

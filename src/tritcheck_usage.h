/* tritcheck_usage.h -- the command line's interface: each command's long
 * options, and its one-line summary and full usage text in the order
 * `tritcheck --help` lists them.  An option is added in both places here,
 * then parsed in its command's function.  Data for tritcheck.c, its only
 * includer; the man pages (man/tritcheck-*.1) say the same at length. */
#ifndef TC_TRITCHECK_USAGE_H
#define TC_TRITCHECK_USAGE_H

#include <getopt.h>

/* ---- each command's long options (getopt_long), as its usage text lists them ---- */

static const struct option gen_options[] = {
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

static const struct option quantize_options[] = {
    { "quiet", no_argument, 0, 'q' }, { "type", required_argument, 0, 't' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
};

static const struct option inspect_options[] = {
    { "json", no_argument, 0, 'j' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
};

static const struct option run_options[] = {
    { "engine", required_argument, 0, 'e' }, { "precision", required_argument, 0, 'p' },
    { "tokens", required_argument, 0, 't' }, { "prompt", required_argument, 0, 'P' },
    { "threads", required_argument, 0, 'j' }, { "ctx", required_argument, 0, 'c' },
    { "dump", required_argument, 0, 'd' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
};

static const struct option bench_options[] = {
    { "engine", required_argument, 0, 'e' }, { "isa", required_argument, 0, 'i' },
    { "threads", required_argument, 0, 'j' }, { "prompt-len", required_argument, 0, 'p' },
    { "gen", required_argument, 0, 'g' }, { "repeat", required_argument, 0, 'r' },
    { "against", required_argument, 0, 'A' }, { "rounds", required_argument, 0, 'R' },
    { "json", no_argument, 0, 'J' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
};

static const struct option compare_options[] = {
    { "ref", required_argument, 0, 'r' }, { "cand", required_argument, 0, 'c' },
    { "mode", required_argument, 0, 'm' }, { "tokens", required_argument, 0, 't' },
    { "prompt", required_argument, 0, 'P' }, { "random", required_argument, 0, 'R' },
    { "seed", required_argument, 0, 'S' }, { "gen", required_argument, 0, 'g' },
    { "precision", required_argument, 0, 'p' }, { "tol", required_argument, 0, 'T' },
    { "q8-margin", required_argument, 0, 'M' }, { "threads", required_argument, 0, 'j' },
    { "ctx", required_argument, 0, 'C' }, { "output", required_argument, 0, 'o' },
    { "sign", required_argument, 0, 'k' }, { "no-determinism", no_argument, 0, 'D' },
    { "inject", required_argument, 0, 'I' }, { "taps", required_argument, 0, 'X' },
    { "prompts", required_argument, 0, 'Q' }, { "shard", required_argument, 0, 'x' },
    { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
};

static const struct option kernels_options[] = {
    { "engine", required_argument, 0, 'e' }, { "isa", required_argument, 0, 'i' },
    { "filter", required_argument, 0, 'f' }, { "perf", no_argument, 0, 'p' },
    { "repeat", required_argument, 0, 'r' }, { "seed", required_argument, 0, 's' },
    { "output", required_argument, 0, 'o' }, { "sign", required_argument, 0, 'k' },
    { "verbose", no_argument, 0, 'v' }, { "shard", required_argument, 0, 'x' },
    { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
};

static const struct option accuracy_options[] = {
    { "baseline", required_argument, 0, 'b' }, { "tokens", required_argument, 0, 't' },
    { "prompt", required_argument, 0, 'P' }, { "corpus", required_argument, 0, 'F' },
    { "random", required_argument, 0, 'R' }, { "seed", required_argument, 0, 'S' },
    { "ctx", required_argument, 0, 'C' }, { "engine", required_argument, 0, 'e' },
    { "precision", required_argument, 0, 'p' }, { "baseline-precision", required_argument, 0, 'B' },
    { "threads", required_argument, 0, 'j' }, { "output", required_argument, 0, 'o' },
    { "sign", required_argument, 0, 'k' }, { "shard", required_argument, 0, 'x' },
    { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
};

static const struct option conform_options[] = {
    { "cand", required_argument, 0, 'c' }, { "output", required_argument, 0, 'o' },
    { "sign", required_argument, 0, 'k' }, { "threads", required_argument, 0, 'j' },
    { "suite-dir", required_argument, 0, 'S' }, { "vectors", required_argument, 0, 'V' },
    { "model-dir", required_argument, 0, 'M' }, { "shard", required_argument, 0, 'x' },
    { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
};

static const struct option vectors_options[] = {
    { "cand", required_argument, 0, 'c' }, { "tol", required_argument, 0, 'T' },
    { "output", required_argument, 0, 'o' }, { "sign", required_argument, 0, 'k' },
    { "shard", required_argument, 0, 'x' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
};

static const struct option verify_options[] = {
    { "model", required_argument, 0, 'm' }, { "pubkey", required_argument, 0, 'k' },
    { "baseline", required_argument, 0, 'b' }, { "rerun", no_argument, 0, 'r' },
    { "shard", required_argument, 0, 's' }, { "ref", required_argument, 0, 'R' },
    { "cand", required_argument, 0, 'C' }, { "engine", required_argument, 0, 'e' },
    { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
};

static const struct option merge_options[] = {
    { "output", required_argument, 0, 'o' }, { "sign", required_argument, 0, 'k' },
    { "pubkey", required_argument, 0, 'p' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
};

static const struct option report_options[] = {
    { "output", required_argument, 0, 'o' }, { "pubkey", required_argument, 0, 'k' },
    { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
};

static const struct option tokenize_options[] = {
    { "text", required_argument, 0, 't' }, { "file", required_argument, 0, 'f' },
    { "ids", no_argument, 0, 'i' }, { "special", no_argument, 0, 's' },
    { "no-bos", no_argument, 0, 'B' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
};

static const struct option detokenize_options[] = {
    { "ids", required_argument, 0, 'i' }, { "skip-special", no_argument, 0, 's' },
    { "raw", no_argument, 0, 'r' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
};

/* ---- help ---- */

typedef struct usage {
    const char *name;
    const char *summary;  /* one line, for the overview */
    const char *text;     /* the whole help: usage line, options, exit status */
} usage;

static const usage usages[] = {
    { "gen", "write a deterministic synthetic BitNet b1.58 model",
      "usage: tritcheck gen [--preset tiny|small|medium|2b4t] -o FILE [options]\n"
      "  --seed N            RNG seed (default 1); same seed, same bytes\n"
      "  --weights i2_s|f32|f16  type of the linear weights (default i2_s)\n"
      "  --latent            Gaussian non-ternary F32 linear weights\n"
      "  --arch NAME         bitnet-b1.58 (default), bitnet-25 or bitnet\n"
      "  --act relu2|silu    the FFN activation of --arch bitnet (default relu2)\n"
      "  --vocab N --ctx N --embd N --layers N --ffn N --heads N --kv-heads N\n"
      "  --rope-base X --eps X   override the preset's hyper-parameters\n" },
    { "quantize", "convert an F32/F16/BF16 model to I2_S, TQ1_0 or TQ2_0",
      "usage: tritcheck quantize [--quiet] [--type i2_s|tq1_0|tq2_0] IN OUT\n"
      "  Linear weights become I2_S (default), or llama.cpp's TQ1_0/TQ2_0: an\n"
      "  already-ternary tensor keeps m = max|W| (lossless; TQ blocks store m as\n"
      "  F16); a latent one gets m = mean|W|, code = clamp(round(W/m), -1, 1).\n"
      "  token_embd becomes F16; norms stay F32.  One line per tensor says which\n"
      "  rule applied.\n" },
    { "inspect", "show and validate a GGUF file",
      "usage: tritcheck inspect [--json] FILE\n"
      "  Metadata, tensor table, SHA-256, I2_S code statistics and a verdict.\n"
      "  Exit status 0 valid, 2 invalid.\n" },
    { "run", "generate greedily with an engine, optionally dumping every tap",
      "usage: tritcheck run MODEL (--tokens 1,2,3 | --prompt TEXT) [options]\n"
      "  --engine ref          the engine (default ref)\n"
      "  --precision i2s|fp32|q8k  W1.58xA8 with per-token int8 activations (default),\n"
      "                        W_f32.x, or llama.cpp's TQ1_0/TQ2_0 x Q8_K (doc/q8k.md)\n"
      "  -n N                  tokens to generate (default 16); stops at EOS or a full context\n"
      "  --threads N           threads for the matrix-vector products (default 1)\n"
      "  --ctx N               KV cache positions (default: the model's context length)\n"
      "  --dump DIR            write every tap of every position to DIR (index.json,\n"
      "                        <tap>.f32; q8 taps as <tap>.i8 and <tap>.scale.f32)\n"
      "  --prompt goes through the model's tokenizer (see 'tritcheck help tokenize'),\n"
      "  BOS first, special tokens recognised.  Exit status 0, or 2\n"
      "  for a usage or input error (nothing is dumped then).\n" },
    { "bench", "measure prefill and decode speed against the machine's bandwidth",
      "usage: tritcheck bench MODEL [options]\n"
      "  --engine ref|fast     the engine (default fast)\n"
      "  --isa ISA             the fast engine's kernels: scalar, avx2, avx512, amx,\n"
      "                        neon, neon_dotprod or neon_i8mm (default: the best here)\n"
      "  --threads N           engine and bandwidth threads (default: online cores)\n"
      "  --prompt-len N        prefill tokens (default 128)\n"
      "  --gen N               decoded tokens (default 128)\n"
      "  --repeat N            timed repeats after one warm-up (default 5)\n"
      "  --against PATH        also run a peer's llama-bench (bitnet.cpp, llama.cpp) on the\n"
      "                        same file, threads, prompt length, tokens and repeats, in\n"
      "                        rounds alternating with tritcheck's; report both and the ratios\n"
      "  --rounds N            rounds with --against (default 3, at most 20)\n"
      "  --json                a sealed receipt of kind bench instead of the table\n"
      "  Reports median (min, max) tokens/s, measured read bandwidth, bytes per\n"
      "  decoded token, the ratio to the bandwidth floor, and prefill int8 MAC/s\n"
      "  against the peak of the kernels' unit.  Exit status 0, or 2 for a usage\n"
      "  or input error, or a peer that fails or prints no figures.\n" },
    { "compare", "compare two engines (or an engine and a recording) tap by tap",
      "usage: tritcheck compare MODEL [options]\n"
      "  --ref ENGINE|dump:DIR   the reference (default ref)\n"
      "  --cand ENGINE|dump:DIR  the candidate (default fast)\n"
      "  --mode isolated|chained isolated (default): each candidate tap is compared, then\n"
      "                          replaced by the reference's; chained: both run free\n"
      "  --tokens 1,2,3 | --prompt TEXT | --random N [--seed S]   the prompt (default --random 16)\n"
      "  --prompts FILE          a prompt set: each line of FILE (blank lines skipped) compared\n"
      "                          as one --prompt, one receipt with an entry per prompt\n"
      "  --shard I/N             with --prompts: only shard I (from 0) of N of the prompts;\n"
      "                          merge the receipts with 'tritcheck merge'\n"
      "  --gen N                 tokens generated after the prompt, one at a time (default 16)\n"
      "  --precision i2s|fp32|q8k  --threads N   --ctx N\n"
      "  --tol X                 pass when every tap's scaled error <= X (default 1e-5)\n"
      "  --q8-margin X           accept an off-by-one int8 code as a boundary flip when the two\n"
      "                          sides' unrounded x*s differ and lie within X of the same\n"
      "                          rounding boundary (default 1e-3)\n"
      "  --taps PATTERN[,...]    judge only the taps matching a pattern (shell glob, e.g.\n"
      "                          'blk.0.*'); recorded in the receipt\n"
      "  --no-determinism        skip the second run of the live engine\n"
      "  --inject TAP:EPS        testing aid: the candidate multiplies tap TAP by (1+EPS)\n"
      "                          (a .q8 tap: moves one code per row), to prove a failure shows\n"
      "  -o RECEIPT [--sign KEY] write a receipt (tritcheck.receipt/1), signed with Ed25519\n"
      "  Every tap of the reference and every canonical tap of the model is compared\n"
      "  (a recording's missing .q8 codes are derived from its float norm taps) or\n"
      "  listed with the reason.  Exit status 0 PASS (all compared, all within), 1 FAIL\n"
      "  or INCOMPLETE (some tap not compared), 2 usage or input error.\n" },
    { "accuracy", "measure I2_S against an FP32 baseline, every metric named",
      "usage: tritcheck accuracy MODEL [options]\n"
      "  --baseline LATENT     a latent F32/F16 model against MODEL, its I2_S quantization\n"
      "                        (default: MODEL itself in fp32 precision)\n"
      "  --tokens 1,2,3 | --prompt TEXT | --corpus FILE | --random N [--seed S]\n"
      "                        the input (default --random 256)\n"
      "  --ctx N               tokens per chunk (default: the model's context)\n"
      "  --engine ref|fast     the subject's engine (the baseline runs on ref)\n"
      "  --precision P         the subject's precision: i2s (default), fp32 or q8k\n"
      "  --baseline-precision P  the baseline's (default fp32)\n"
      "  --threads N   -o RECEIPT [--sign KEY]\n"
      "  --shard I/N           run only shard I (from 0) of N: a contiguous run of whole\n"
      "                        chunks; its receipt is merged with 'tritcheck merge'\n"
      "  Reports weight-level error (with --baseline), per-layer cosine and NMSE of\n"
      "  blk.N.out, per-position KL, top-1 agreement, top-5 overlap and perplexity,\n"
      "  each with its definition.\n" },
    { "kernels", "check every kernel against the reference kernels, and time them",
      "usage: tritcheck kernels [--engine fast|PLUGIN.so] [--isa ISA] [options]\n"
      "  --engine fast|PLUGIN.so  the fast engine's kernels (default), or a kernel plug-in\n"
      "                        (see tritcheck-kernels(3)); a path without '/' is in .\n"
      "  --isa ISA             which of the fast engine's tables: scalar, avx2, avx512,\n"
      "                        amx, neon, neon_dotprod or neon_i8mm (default: the best here)\n"
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
      "  --shard I/N           run only shard I (from 0) of N of the selected cases (not\n"
      "                        with --perf); merge the receipts with 'tritcheck merge'\n"
      "  Checks: integer sums and int8 codes exact, float results within a scaled\n"
      "  error of 1e-6, no NaN/Inf the reference lacks, 64 guard bytes around every\n"
      "  output intact, no write outside the row range, inputs unchanged.\n"
      "  Exit status 0 all cases pass, 1 some fail, 2 usage or load error.\n" },
    { "conform", "run a conformance suite: one receipt per case and a summary",
      "usage: tritcheck conform SUITE -o DIR [--cand ENGINE] [--sign KEY] [--threads N]\n"
      "         [--suite-dir DIR] [--vectors DIR] [--model-dir DIR] [--shard I/N]\n"
      "  SUITE is smoke, standard, 2b4t-official (manifests in the conformance/\n"
      "  directory) or a manifest path.  Each case runs a comparison against the\n"
      "  candidate (default fast) and must give its expected verdict; negative\n"
      "  controls must fail where the manifest says.  --model-dir holds your own\n"
      "  model files (2b4t-official: ggml-model-i2_s.gguf).  --shard I/N runs only\n"
      "  shard I (from 0) of N of the cases; its summary is DIR/summary.shard-I-of-N.json\n"
      "  (tritcheck merge joins the summaries).\n"
      "  Exit status 0 every case conforms, 1 some does not, 2 error.\n" },
    { "vectors", "generate or check the golden model vectors",
      "usage: tritcheck vectors generate DIR\n"
      "       tritcheck vectors check DIR [--cand ENGINE] [--tol X] [-o RECEIPT [--sign KEY]] [--shard I/N]\n"
      "  generate: for each built-in recipe, gen's model (deterministic) run by the\n"
      "  reference engine; every tap recorded in DIR/NAME.tcv.gz (a small binary\n"
      "  format with a CRC-32, see tritcheck-vectors(1)).\n"
      "  check: regenerate each model, check its SHA-256, and compare ENGINE\n"
      "  (default ref) with the recording, isolated, within X (default 1e-5).\n"
      "  -o writes a receipt of kind vectors (every entry, its SHA-256 and report);\n"
      "  --shard I/N checks only shard I (from 0) of N of the entries, in name order\n"
      "  (tritcheck merge joins the receipts).\n"
      "  Exit status 0 all pass, 1 some fail, 2 a damaged vector or other error.\n" },
    { "merge", "join the receipts of a job's shards into the receipt of the whole job",
      "usage: tritcheck merge SHARD.json... -o RECEIPT [--sign KEY] [--pubkey KEY.pub]\n"
      "  SHARD.json are the receipts of one job run with --shard I/N (accuracy,\n"
      "  compare --prompts, kernels, conform, vectors check), in any order.  They must\n"
      "  be intact (digest; a signature by KEY.pub with --pubkey), of one job (the same\n"
      "  model, binary, options and input) and hold each shard 0..N-1 exactly once.\n"
      "  The merged receipt's figures are those of the unsharded run, bit for bit:\n"
      "  the per-unit parts are joined in order, counts added, and every summary\n"
      "  figure derived again from the joined parts; it lists the shards.\n"
      "  Exit status 0, or 2 when the receipts are not the shards of one job (one line\n"
      "  says why) or one is damaged.\n" },
    { "verify", "check a receipt: schema, digest, signature, consistency, rerun",
      "usage: tritcheck verify RECEIPT [--model FILE] [--baseline FILE] [--pubkey KEY.pub]\n"
      "                        [--rerun [--shard I] [--ref ENGINE] [--cand ENGINE] [--engine ENGINE]]\n"
      "  Checks the schema, the digest and signature, that every verdict follows from\n"
      "  the figures and criteria, and with --model the model section against the file.\n"
      "  Without --pubkey a signature is reported with its key's fingerprint as not\n"
      "  authenticated.  --rerun (with --model) runs the receipt again and lists every\n"
      "  field that differs, and those no rerun can reproduce.  It runs only the engines\n"
      "  named here (--ref/--cand for compare, --engine for accuracy) or built-in ones\n"
      "  (ref, fast, fast:ISA, cuda) the receipt names: never a plug-in or recording\n"
      "  taken from the receipt.\n"
      "  A shard's receipt: its range and job; a merged one (tritcheck merge): its\n"
      "  shard list, ranges and counts, and the digest of each shard receipt beside\n"
      "  it; --rerun --shard I runs only shard I again against its part.\n"
      "  Exit status 0 valid, 1 invalid or not all checked, 2 cannot check.\n" },
    { "diff", "what changed between two receipts",
      "usage: tritcheck diff OLD NEW [--force]\n"
      "  compare receipts: per tap, scaled error before and after, verdict flips;\n"
      "  kernel variants that started or stopped running; verdict, determinism and\n"
      "  timing changes.  Exit status 1 when a verdict got worse.\n"
      "  bench and accuracy receipts (the benchmark gate): first every difference in\n"
      "  the setting (model, threads, prompt length, CPU, engine, layout, kernel\n"
      "  counters, tool version, input); then each figure old -> new, judged:\n"
      "  bench: regression when the new range (min-max over repeats or rounds)\n"
      "  lies wholly below the old, improvement when wholly above, else noise;\n"
      "  accuracy: regression when a mean over positions got worse by more than\n"
      "  twice the old standard error.  Exit status 1 on a regression.  Receipts\n"
      "  of different models or thread counts (bench), or models, baselines or\n"
      "  inputs (accuracy), are refused (exit 2) unless --force.\n"
      "  Exit status 0 otherwise; 2 on bad input.\n" },
    { "report", "a receipt as one self-contained HTML page",
      "usage: tritcheck report RECEIPT -o FILE.html [--pubkey KEY.pub]\n"
      "  Whether the receipt verified (its signature authenticated only by --pubkey),\n"
      "  summary, an SVG chart of each tap's scaled error (log scale) against the\n"
      "  tolerance, the tap table, the kernels that ran and the provenance.  Every\n"
      "  string from the receipt is escaped; the page runs no script.\n" },
    { "keygen", "make an Ed25519 key pair for signing receipts",
      "usage: tritcheck keygen KEY\n"
      "  Writes KEY (private, PEM, mode 0600) and KEY.pub (public, PEM).\n" },
    { "devices", "list the GPUs the CUDA engine can use",
      "usage: tritcheck devices\n" },
    { "tokenize", "text to token ids with a model's tokenizer",
      "usage: tritcheck tokenize MODEL [--text TEXT | --file FILE] [--ids] [--special] [--no-bos]\n"
      "  MODEL may be a vocabulary-only GGUF.  Reads standard input without --text/--file.\n"
      "  Prints one line per token: the id, a tab and the token's bytes quoted.\n"
      "  --ids         only the ids, on one line separated by spaces\n"
      "  --special     recognise special tokens written in the text (<|eot_id|>)\n"
      "  --no-bos      no BOS even when the model's add_bos_token says so\n"
      "  Exit status 0, or 2 for a usage or input error.\n" },
    { "detokenize", "token ids back to text",
      "usage: tritcheck detokenize MODEL (ID... | --ids 1,2,3) [--skip-special] [--raw]\n"
      "  Prints the text and a newline; invalid UTF-8 (a character cut between\n"
      "  tokens) is shown as U+FFFD.\n"
      "  --skip-special  leave out BOS, EOS and other control tokens\n"
      "  --raw           the exact bytes, no replacement, no newline\n"
      "  Exit status 0, or 2 for a usage or input error (an id outside the vocabulary).\n" },
    { "help", "show help for a command", "usage: tritcheck help [COMMAND]\n" },
};

#endif

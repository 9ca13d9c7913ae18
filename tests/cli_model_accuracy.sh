#!/bin/sh
# I2_S accuracy of the trained model (vectors/models) on its held-out text,
# against thresholds a little below the figures measured when it was made,
# so that a break in I2_S inference, in the tokenizer or in the metrics
# fails here.  The first quarter of the text (--shard 0/4: chunks 0..23 of
# 97, 6144 tokens) keeps the test short; measured on it:
#
#   against FP32 (same ternary weights, float activations):
#     top-1 0.9888, top-5 0.9890, KL mean 0.00022, KL p99 0.00092,
#     min blk.N.out cosine 0.99994, perplexity 44.71 / 44.72
#   against the latent F32 model:
#     top-1 0.4507, KL mean 0.889, weight error 0.555,
#     perplexity 90.36 / 44.72
#
# (vectors/models/README.md has the figures of the whole text.)  The
# perplexity of the I2_S model must be below 50: a random model of this
# vocabulary is in the thousands (uniform is 4096), and an I2_S engine that
# is slightly wrong loses several points.  It must also be above 38, which
# the model cannot reach on text it never saw (a metric that scores the
# token it was given goes far below).
#
# The subject runs on the fast engine (the baseline always on the
# reference), so that this also covers the fast engine's I2_S on a trained
# network; the receipt must verify.
set -u
T=${TRITCHECK:-./tritcheck}
V=${TC_VECTORS:-$(dirname "$0")/../vectors}
M="$V/models"
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

gzip -dc "$M/pydoc-bitnet-i2s.gguf.gz" > "$d/i2s.gguf" || exit 99
gzip -dc "$M/pydoc-bitnet-latent-f32.gguf.gz" > "$d/latent.gguf" || exit 99

# NAME OP BOUND: the figure NAME of the report in $d/out satisfies OP BOUND
need() {
    v=$(awk -v n="$1" '$1 == n { print $2 }' "$d/out")
    [ -n "$v" ] || fail "$what: no $1 in the report: $(cat "$d/out")"
    awk -v v="$v" -v op="$2" -v b="$3" 'BEGIN {
        ok = (op == ">=") ? v >= b : (op == "<=") ? v <= b : (op == ">") ? v > b : v < b
        exit !ok }' || fail "$what: $1 = $v, expected $2 $3"
}

what="I2_S against FP32"
$T accuracy "$d/i2s.gguf" --corpus "$M/heldout.txt" --ctx 256 --shard 0/4 --engine fast \
    --threads 2 -o "$d/fp32.json" > "$d/out" 2> "$d/err" || fail "$what: $(cat "$d/err")"
grep -q '; 6144 tokens in chunks of 256 (shard 0/4: chunks 0..23 of 97)$' "$d/out" || fail "$what: input: $(head -n 1 "$d/out")"
need top1_agreement '>=' 0.98
need top5_overlap '>=' 0.98
need kl_mean_nats '<=' 0.0005
need kl_p99_nats '<=' 0.002
need blk_out_cosine_min '>=' 0.9995
need perplexity_subject '<' 50
need perplexity_subject '>' 38
need perplexity_baseline '<' 50
need perplexity_ratio '<=' 1.002
need perplexity_ratio '>=' 0.998
$T verify "$d/fp32.json" --model "$d/i2s.gguf" > "$d/v" 2>&1 || fail "$what: verify: $(cat "$d/v")"

what="I2_S against the latent model"
$T accuracy "$d/i2s.gguf" --baseline "$d/latent.gguf" --corpus "$M/heldout.txt" --ctx 256 --shard 0/4 \
    --engine fast --threads 2 -o "$d/latent.json" > "$d/out" 2> "$d/err" || fail "$what: $(cat "$d/err")"
need top1_agreement '>=' 0.42
need top1_agreement '<=' 0.48
need kl_mean_nats '<=' 1.0
need perplexity_baseline '>' 85
need perplexity_baseline '<' 96
need perplexity_subject '<' 50
need weight_rel_rms_error_mean '>=' 0.5
need weight_rel_rms_error_mean '<=' 0.6
echo "cli_model_accuracy: ok"

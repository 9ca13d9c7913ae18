#!/bin/sh
# accuracy end to end: a receipt that verifies and reruns exactly, with a
# latent baseline too; the report draws it; bad input is exit 2.
set -u
T=${TRITCHECK:-./tritcheck}
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

$T gen --preset tiny --seed 9 -o "$d/m.gguf" || fail gen
$T keygen "$d/k" > /dev/null || fail keygen
$T accuracy "$d/m.gguf" --random 48 --ctx 32 -o "$d/a.json" --sign "$d/k" > "$d/out" || fail "accuracy exit"
for m in blk_out_cosine_min kl_mean_nats kl_p99_nats top1_agreement top5_overlap perplexity_baseline \
         perplexity_subject perplexity_ratio; do
    grep -q "^$m " "$d/out" || fail "headline $m"
done
grep -qiw 'accuracy' "$d/out" && fail "the word accuracy stands alone in the summary"
$T verify "$d/a.json" --model "$d/m.gguf" --pubkey "$d/k.pub" --rerun > "$d/out" || fail "verify: $(cat "$d/out")"
grep -q 'every figure reproduced' "$d/out" || fail "rerun"
# a changed figure breaks the digest
sed '0,/"value":	\([0-9]\)/s//"value":	9\1/' "$d/a.json" > "$d/t.json"
$T verify "$d/t.json" > "$d/out"; [ $? -eq 1 ] || fail "tampered accuracy receipt accepted"

# a latent model against its quantization
$T gen --preset tiny --latent -o "$d/lat.gguf" || fail "gen latent"
$T quantize -q "$d/lat.gguf" "$d/q.gguf" || fail quantize
$T accuracy "$d/q.gguf" --baseline "$d/lat.gguf" --random 24 -o "$d/b.json" > "$d/out" || fail "latent accuracy"
grep -q '^weight_rel_rms_error_mean *0.51' "$d/out" || fail "weight error near the analytic 0.513: $(grep weight "$d/out")"
$T verify "$d/b.json" --model "$d/q.gguf" --rerun 2> "$d/err"; [ $? -eq 2 ] || fail "rerun without --baseline: exit 2"
grep -q -- '--baseline FILE' "$d/err" || fail "rerun asks for the baseline"
$T verify "$d/b.json" --model "$d/q.gguf" --baseline "$d/lat.gguf" --rerun > "$d/out" || fail "latent rerun: $(cat "$d/out")"

$T report "$d/a.json" -o "$d/a.html" || fail report
grep -q 'KL distribution' "$d/a.html" || fail "report draws the KL distribution"
grep -q 'cosine' "$d/a.html" || fail "report draws per-layer cosine"

$T accuracy "$d/m.gguf" --random 8 --baseline "$d/missing.gguf" 2> "$d/err"; [ $? -eq 2 ] || fail "missing baseline"
grep -q 'missing.gguf' "$d/err" || fail "missing baseline named"
$T accuracy "$d/m.gguf" --tokens 1,99999 2> "$d/err"; [ $? -eq 2 ] || fail "token out of range"
echo "cli_accuracy: ok"

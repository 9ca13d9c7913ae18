#!/bin/sh
# quantize end to end: bitnet.cpp's F32 file gives its I2_S tensors, every
# linear through the lossless ternary rule; latent models use the mean rule;
# bad input leaves no output.
set -u
T=${TRITCHECK:-./tritcheck}
V=${TC_VECTORS:-vectors}
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

gzip -dc "$V/external/bitnet-cpp/tiny-bitnet-b158-f32.gguf.gz" > "$d/f32.gguf" || fail "vector"
$T quantize "$d/f32.gguf" "$d/q.gguf" > "$d/log" || fail "quantize exit"
[ "$(grep -c 'ternary (lossless)' "$d/log")" -eq 14 ] || fail "14 ternary tensors"
grep -q '^token_embd.weight .*-> F16' "$d/log" || fail "embedding to F16"
$T inspect "$d/q.gguf" | grep -q '^tensor types: F32 9 F16 1 I2_S 14' || fail "quantized types"
$T inspect "$d/q.gguf" | grep -q 'general.file_type  *u32  *40' || fail "file_type 40"

$T gen --preset tiny --latent -o "$d/lat.gguf" || fail "gen latent"
$T quantize "$d/lat.gguf" "$d/latq.gguf" > "$d/log" || fail "quantize latent"
[ "$(grep -c 'latent: m = mean|W|' "$d/log")" -eq 14 ] || fail "14 latent tensors"

# llama.cpp's ternary types: the same lossless rule, F16 scales per block
$T quantize --type tq2_0 "$d/f32.gguf" "$d/tq2.gguf" > "$d/log" || fail "quantize tq2_0"
[ "$(grep -c -- '-> TQ2_0 ternary (lossless)' "$d/log")" -eq 14 ] || fail "14 TQ2_0 tensors"
$T inspect "$d/tq2.gguf" > "$d/ins" || fail "inspect tq2_0"
grep -q '^tensor types: F32 9 F16 1 TQ2_0 14' "$d/ins" || fail "TQ2_0 types"
grep -q 'general.file_type  *u32  *37' "$d/ins" || fail "file_type 37"
grep -q '^  blk.0.attn_q.weight  *TQ2_0  *256 ' "$d/ins" || fail "TQ2_0 block table"
$T quantize --type TQ1_0 "$d/tq2.gguf" "$d/tq1.gguf" > "$d/log" || fail "TQ2_0 to TQ1_0"
$T inspect --json "$d/tq1.gguf" | grep -q '"scale_min"' || fail "TQ1_0 JSON statistics"
$T quantize --type q4_0 "$d/f32.gguf" "$d/x.gguf" 2> "$d/err"; [ $? -eq 2 ] || fail "--type q4_0 exit"
grep -q 'expected i2_s, tq1_0 or tq2_0' "$d/err" || fail "--type q4_0 message"
# back to I2_S from TQ2_0: the same codes (the scale is now m rounded to F16)
$T quantize "$d/tq2.gguf" "$d/q2.gguf" > /dev/null || fail "TQ2_0 to I2_S"
codes() { $T inspect "$1" | sed -n '/^I2_S tensors:/,/^$/p' | awk 'NR > 2 && NF == 6 {print $1, $3, $4, $5, $6}'; }
codes "$d/q2.gguf" > "$d/a"; codes "$d/q.gguf" > "$d/b"
[ "$(wc -l < "$d/a")" -eq 14 ] || fail "TQ2_0 to I2_S tensors"
cmp -s "$d/a" "$d/b" || fail "TQ2_0 to I2_S changed the codes"

printf 'GGUF\003\000\000\000' > "$d/bad.gguf"
head -c 64 /dev/zero >> "$d/bad.gguf"
$T quantize "$d/bad.gguf" "$d/out.gguf" 2> "$d/err"; [ $? -eq 2 ] || fail "bad input exit"
[ "$(wc -l < "$d/err")" -eq 1 ] || fail "bad input: one line"
[ ! -e "$d/out.gguf" ] || fail "output left behind"
ls "$d" | grep -q tmp && fail "temporary left behind"
echo "cli_quantize: ok"

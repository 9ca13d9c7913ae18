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

printf 'GGUF\003\000\000\000' > "$d/bad.gguf"
head -c 64 /dev/zero >> "$d/bad.gguf"
$T quantize "$d/bad.gguf" "$d/out.gguf" 2> "$d/err"; [ $? -eq 2 ] || fail "bad input exit"
[ "$(wc -l < "$d/err")" -eq 1 ] || fail "bad input: one line"
[ ! -e "$d/out.gguf" ] || fail "output left behind"
ls "$d" | grep -q tmp && fail "temporary left behind"
echo "cli_quantize: ok"

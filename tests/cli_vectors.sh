#!/bin/sh
# Golden vectors: every engine against every vector (the kernel vectors
# through the kernel suite's checks); regeneration is byte-identical; a
# damaged vector fails its CRC with a clear message.
set -u
T=${TRITCHECK:-./tritcheck}
G=${TC_VECTORS:-vectors}/golden
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

$T vectors check "$G" --cand ref > "$d/ref" || fail "ref: $(cat "$d/ref")"
[ "$(grep -c ' PASS$' "$d/ref")" -eq 7 ] || fail "ref: seven vectors pass (3 model, 4 kernel)"
for e in fast:scalar fast:avx2 fast:avx512 fast:amx fast:neon fast:neon_dotprod fast:neon_i8mm; do
    $T vectors check "$G" --cand $e > "$d/out" 2>&1
    rc=$?
    if grep -q 'unknown engine\|cannot run the' "$d/out"; then continue; fi   # not built here, or an ISA this CPU lacks
    [ $rc -eq 0 ] || fail "$e: $(cat "$d/out")"
done

# kernel plug-ins against the kernel vectors: the example passes, the one
# whose GEMV writes one element past its output is caught
P=examples/plugin
$T vectors check "$G" --cand plugin:$P/libtc_example_plugin.so > "$d/out" || fail "example plug-in: $(cat "$d/out")"
$T vectors check "$G" --cand plugin:$P/libtc_example_plugin_bug.so > "$d/out"; [ $? -eq 1 ] || fail "buggy plug-in: exit 1"
grep -q 'kernel-i2s_gemm.tcv.gz .*FAIL' "$d/out" || fail "buggy plug-in: the GEMV vector fails"
# ... by the kernel suite's checks, each failing one named under its case
grep -q 'kernel-i2s_gemm.tcv.gz  *case 0 (17 x 256, n 1) FAILS' "$d/out" || fail "buggy plug-in: case 0 not named"
grep -q '^ *guards: out-of-bounds write: 4 bytes after out' "$d/out" || fail "buggy plug-in: guard not named"
grep -q '^ *rows_only: a call on rows' "$d/out" || fail "buggy plug-in: rows_only not named"
# quantizers that round ties away from zero, or truncate: the kernel
# vector of exact ties catches both
for v in away trunc; do
    $T vectors check "$G" --cand plugin:$P/libtc_example_plugin_$v.so > "$d/out"; [ $? -eq 1 ] || fail "$v quantizer: exit 1"
    grep -q 'kernel-rmsnorm_q8.tcv.gz  *case 3 (2 x 256, n 1) FAILS' "$d/out" || fail "$v quantizer: the ties case: $(cat "$d/out")"
done
# the reference kernels themselves against the recorded answers
grep -c 'kernel .* ref kernels, worst 0  PASS$' "$d/ref" | grep -qx 4 || fail "ref: the four kernel vectors"

# regenerating gives the same bytes
$T vectors generate "$d/gen" > /dev/null 2>&1 || { mkdir -p "$d/gen" && $T vectors generate "$d/gen" > /dev/null; } || fail generate
for f in "$G"/*.tcv.gz; do cmp -s "$f" "$d/gen/$(basename "$f")" || fail "regenerated $(basename "$f") differs"; done

# a flipped byte inside the data: the CRC names it
mkdir "$d/bad"
gzip -dc "$G/model-tiny-i2s.tcv.gz" > "$d/raw"
printf '\377' | dd of="$d/raw" bs=1 seek=5000 conv=notrunc 2> /dev/null
gzip -c "$d/raw" > "$d/bad/model-tiny-i2s.tcv.gz"
$T vectors check "$d/bad" 2> "$d/err"; [ $? -eq 2 ] || fail "damaged vector: exit 2"
grep -q 'CRC-32 at byte .*the vector is damaged' "$d/err" || fail "damaged vector: message $(cat "$d/err")"
# a truncated gzip stream
head -c 1000 "$G/model-tiny-fp32.tcv.gz" > "$d/bad/model-tiny-i2s.tcv.gz"
$T vectors check "$d/bad" 2> "$d/err"; [ $? -eq 2 ] || fail "truncated vector: exit 2"
$T vectors check "$d/nothing" 2> /dev/null; [ $? -eq 2 ] || fail "missing dir: exit 2"
echo "cli_vectors: ok"

#!/bin/sh
# tritcheck run end to end: generation from a generated model and from
# bitnet.cpp's tiny model, --prompt byte mapping, --dump layout and
# determinism, and one-line errors with exit 2 that leave no dump behind.
set -u
T=${TRITCHECK:-./tritcheck}
V=${TC_VECTORS:-$(dirname "$0")/../vectors}
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# expect_error NAME ARGS...: exit 2, one line "tritcheck: ...", no dump
expect_error() {
    name=$1; shift
    $T run "$@" --dump "$d/nodump" > /dev/null 2> "$d/err"; rc=$?
    [ $rc -eq 2 ] || fail "$name: exit $rc"
    [ "$(wc -l < "$d/err")" -eq 1 ] || fail "$name: one line: $(cat "$d/err")"
    grep -q '^tritcheck: ' "$d/err" || fail "$name: message $(cat "$d/err")"
    [ -e "$d/nodump" ] && fail "$name: dump left behind"
    return 0
}

# ---- a generated model ----
$T gen --preset tiny -o "$d/tiny.gguf" || fail "gen tiny"
$T run "$d/tiny.gguf" --tokens 256,72,101 -n 5 > "$d/out" 2> "$d/info" || fail "run tiny"
grep -q '^prompt: 256 72 101$' "$d/out" || fail "prompt ids: $(cat "$d/out")"
[ "$(grep '^generated:' "$d/out" | wc -w)" -le 6 ] || fail "at most 5 generated"
grep -q 's/token' "$d/info" || fail "timing line"
# the prompt maps bytes to GPT-2 byte-level tokens after BOS
$T run "$d/tiny.gguf" --prompt "Hi" -n 1 > "$d/out" 2>/dev/null || fail "run --prompt"
grep -q '^prompt: 256 72 105$' "$d/out" || fail "byte-level prompt: $(cat "$d/out")"
# threads split rows only: same tokens
$T run "$d/tiny.gguf" --tokens 256,72,101 -n 5 > "$d/a" 2>/dev/null || fail "run 1 thread"
$T run "$d/tiny.gguf" --tokens 256,72,101 -n 5 --threads 3 > "$d/b" 2>/dev/null || fail "run 3 threads"
cmp -s "$d/a" "$d/b" || fail "thread count changed the output"

# ---- bitnet.cpp's tiny model ----
gzip -dc "$V/external/bitnet-cpp/tiny-bitnet-b158-i2_s.gguf.gz" > "$d/bn.gguf" || exit 99
gzip -dc "$V/external/bitnet-cpp/tiny-bitnet-b158-f32.gguf.gz" > "$d/bnf.gguf" || exit 99
$T run "$d/bn.gguf" --prompt "Hello, world!" -n 2 > "$d/out" 2>/dev/null || fail "run bitnet i2_s"
grep -q '^prompt: 1 72 101 108 108 111 44 32 119 111 114 108 100 33$' "$d/out" || fail "<0xNN> prompt: $(cat "$d/out")"
grep -q '^prompt text: "<s>Hello, world!"$' "$d/out" || fail "prompt text: $(cat "$d/out")"

# --dump: the layout of vectors/external/bitnet-cpp, twice bit-identical
$T run "$d/bn.gguf" --tokens 1,72,101,108,108,111 -n 3 --dump "$d/d1" > /dev/null 2>&1 || fail "dump 1"
$T run "$d/bn.gguf" --tokens 1,72,101,108,108,111 -n 3 --dump "$d/d2" > /dev/null 2>&1 || fail "dump 2"
[ -f "$d/d1/index.json" ] || fail "index.json"
[ "$(ls "$d/d1" | grep -c '\.f32$')" -eq $((3 + 17 * 2 + 4 * 2)) ] || fail "float + scale files: $(ls "$d/d1" | wc -l)"
[ "$(ls "$d/d1" | grep -c '\.i8$')" -eq 8 ] || fail "q8 files"
ls -a "$d/d1" | grep -q tmp && fail "temporary left behind"
# 6 prompt + 2 decoded positions of 256 logits
[ "$(wc -c < "$d/d1/logits.f32")" -eq $((8 * 256 * 4)) ] || fail "logits rows"
sha=$(sha256sum "$d/d1/blk.1.ffn_down.f32" | cut -d' ' -f1)
grep -q "$sha" "$d/d1/index.json" || fail "index.json SHA-256"
for f in "$d/d1"/*; do cmp -s "$f" "$d/d2/$(basename "$f")" || fail "not deterministic: $(basename "$f")"; done
# the fast engine: weights copied into huge pages or read in the file
# mapping (TC_HUGE_PAGES=0), the same bits in every tap; and the logits
# it writes straight to the engine's own untapped, the same tokens
$T run "$d/bn.gguf" --engine fast --tokens 1,72,101,108,108,111 -n 3 --dump "$d/f1" > "$d/fo1" 2>/dev/null || fail "fast dump"
TC_HUGE_PAGES=0 $T run "$d/bn.gguf" --engine fast --tokens 1,72,101,108,108,111 -n 3 --dump "$d/f2" > /dev/null 2>&1 ||
    fail "fast dump, TC_HUGE_PAGES=0"
for f in "$d/f1"/*.f32 "$d/f1"/*.i8; do cmp -s "$f" "$d/f2/$(basename "$f")" || fail "huge pages changed $(basename "$f")"; done
$T run "$d/bn.gguf" --engine fast --tokens 1,72,101,108,108,111 -n 3 > "$d/fo2" 2>/dev/null || fail "fast untapped"
cmp -s "$d/fo1" "$d/fo2" || fail "untapped tokens differ from tapped: $(cat "$d/fo1" "$d/fo2")"
$T run "$d/bnf.gguf" --precision fp32 --tokens 1,72 -n 1 --dump "$d/d3" > /dev/null 2>&1 || fail "dump fp32"
ls "$d/d3" | grep -q '\.i8$' && fail "fp32 has no q8 taps"

# ---- llama.cpp's TQ2_0 file in precision q8k: no .q8 taps, the Q8_K kernels ----
gzip -dc "$V/external/llama-cpp/tq-1block-tq2_0.gguf.gz" > "$d/tq2.gguf" || exit 99
$T run "$d/tq2.gguf" --precision q8k --tokens 256,72,101 -n 3 --dump "$d/d4" > "$d/out" 2>/dev/null || fail "run q8k"
grep -q '^generated:' "$d/out" || fail "q8k generated"
[ "$(ls "$d/d4" | grep -c '\.f32$')" -eq $((3 + 17 * 1)) ] || fail "q8k float taps: $(ls "$d/d4" | wc -l)"
ls "$d/d4" | grep -q '\.i8$' && fail "q8k has no q8 taps"
grep -q '"precision":.*"q8k"' "$d/d4/index.json" || fail "q8k in index.json"
$T run "$d/tq2.gguf" --precision fp32 --tokens 256,72,101 -n 3 > "$d/out32" 2>/dev/null || fail "run fp32 on TQ2_0"
expect_error "q8k on I2_S weights" "$d/bn.gguf" --precision q8k --tokens 1,2
grep -q "precision q8k needs TQ1_0 or TQ2_0" "$d/err" || fail "q8k message: $(cat "$d/err")"
expect_error "i2s on TQ2_0 weights" "$d/tq2.gguf" --tokens 1,2
expect_error "fast engine has no q8k" "$d/tq2.gguf" --engine fast --precision q8k --tokens 1,2

# ---- errors: exit 2, one line, nothing dumped ----
expect_error "out of vocabulary" "$d/bn.gguf" --tokens 1,256,3
grep -q "bn.gguf: token 256 (index 1) is outside the vocabulary" "$d/err" || fail "oov message: $(cat "$d/err")"
expect_error "prompt longer than the context" "$d/bn.gguf" --tokens 1,2,3,4,5 --ctx 4
grep -q "bn.gguf: prompt of 5 tokens is longer than the context (4)" "$d/err" || fail "ctx message"
expect_error "i2s precision on F32 weights" "$d/bnf.gguf" --tokens 1,2
grep -q "bnf.gguf: tensor 'blk.0.attn_q.weight' is F32" "$d/err" || fail "precision message"
expect_error "not a model" "$V/../tests/fuzz/corpus/kinds-v3.gguf" --tokens 1
expect_error "missing file" "$d/nope.gguf" --tokens 1
# a mis-shaped tensor: blk.0.attn_norm.weight {256} patched to {128}
cp "$d/bn.gguf" "$d/bad.gguf"
off=$(grep -obUa 'blk.0.attn_norm.weight' "$d/bad.gguf" | head -n 1 | cut -d: -f1)
[ -n "$off" ] || exit 99
printf '\200\000' | dd of="$d/bad.gguf" bs=1 seek=$((off + 22 + 4)) conv=notrunc 2>/dev/null
expect_error "mis-shaped tensor" "$d/bad.gguf" --tokens 1
grep -q "bad.gguf: .*blk.0.attn_norm.weight" "$d/err" || fail "mis-shaped message: $(cat "$d/err")"
# a --dump target that is a file
: > "$d/file"
$T run "$d/bn.gguf" --tokens 1 -n 1 --dump "$d/file" > /dev/null 2> "$d/err"; [ $? -eq 2 ] || fail "dump onto a file"
# usage
$T run "$d/bn.gguf" -n 1 2> "$d/err"; [ $? -eq 2 ] || fail "no prompt"
$T run "$d/bn.gguf" --tokens 1,x 2> "$d/err"; [ $? -eq 2 ] || fail "bad token list"
$T run "$d/bn.gguf" --tokens 1 --precision fp16 2> "$d/err"; [ $? -eq 2 ] || fail "bad precision"
$T run "$d/bn.gguf" --tokens 1 --engine nonesuch 2> "$d/err"; [ $? -eq 2 ] || fail "bad engine"
$T run --help | grep -q 'usage: tritcheck run' || fail "run --help"
echo "cli_run: ok"

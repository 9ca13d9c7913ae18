#!/bin/sh
# tritcheck tokenize / detokenize end to end: the Llama 3 vocabulary-only
# fixture (vectors/tokenizer), gen's byte vocabulary, bitnet.cpp's <0xNN>
# vocabulary, exact round trips through files, and one-line errors.
set -u
T=${TRITCHECK:-./tritcheck}
V=${TC_VECTORS:-$(dirname "$0")/../vectors}
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# expect_error NAME CMD ARGS...: exit 2 and one line "tritcheck..."
expect_error() {
    name=$1; shift
    $T "$@" > /dev/null 2> "$d/err"; rc=$?
    [ $rc -eq 2 ] || fail "$name: exit $rc"
    [ "$(wc -l < "$d/err")" -eq 1 ] || fail "$name: one line: $(cat "$d/err")"
    grep -q '^tritcheck' "$d/err" || fail "$name: message $(cat "$d/err")"
    return 0
}

gzip -dc "$V/tokenizer/llama3-vocab.gguf.gz" > "$d/l3.gguf" || exit 99
L3="$d/l3.gguf"

# ---- Llama 3 (a vocabulary-only file: no tensors) ----
[ "$($T tokenize "$L3" --text 'Hello world!' --ids)" = "128000 9906 1917 0" ] || fail "ids with BOS"
[ "$($T tokenize "$L3" --text 'Hello world!' --ids --no-bos)" = "9906 1917 0" ] || fail "--no-bos"
$T tokenize "$L3" --text 'Hello world!' > "$d/out" || fail "pieces"
printf '128000\t"<|begin_of_text|>"\n9906\t"Hello"\n1917\t" world"\n0\t"!"\n' | cmp -s - "$d/out" || fail "pieces: $(cat "$d/out")"
[ "$($T tokenize "$L3" --text 'a<|eot_id|>' --ids --no-bos --special)" = "64 128009" ] || fail "--special"
[ "$($T tokenize "$L3" --text 'a<|eot_id|>' --ids --no-bos | wc -w)" -gt 2 ] || fail "specials are text without --special"
[ "$(printf 'Hello world!' | $T tokenize "$L3" --ids --no-bos)" = "9906 1917 0" ] || fail "stdin"
[ "$($T detokenize "$L3" 128000 9906 1917 0)" = "<|begin_of_text|>Hello world!" ] || fail "detokenize"
[ "$($T detokenize "$L3" --ids 128000,9906,1917,0 --skip-special)" = "Hello world!" ] || fail "--ids --skip-special"
# an exact round trip of awkward bytes (invalid UTF-8 too) through files
printf 'Tabs\tand  spaces \n\n CJK 中文 emoji 🦙 digits 1234567 it'"'"'s \377\376 end\n' > "$d/in.txt"
ids=$($T tokenize "$L3" --file "$d/in.txt" --ids --no-bos) || fail "tokenize --file"
$T detokenize "$L3" --raw $ids > "$d/back.txt" || fail "detokenize --raw"
cmp -s "$d/in.txt" "$d/back.txt" || fail "round trip through files"
$T detokenize "$L3" $ids > "$d/shown.txt" || fail "detokenize"
grep -q "$(printf '\357\277\275')" "$d/shown.txt" || fail "invalid UTF-8 shown as U+FFFD"

# ---- gen's vocabulary: byte-level bytes, no merges ----
$T gen --preset tiny -o "$d/tiny.gguf" || fail "gen tiny"
[ "$($T tokenize "$d/tiny.gguf" --text 'Hi' --ids)" = "256 72 105" ] || fail "gen vocabulary"
[ "$($T detokenize "$d/tiny.gguf" 72 105)" = "Hi" ] || fail "gen detokenize"

# ---- bitnet.cpp's vocabulary: <0xNN> byte fallback ----
gzip -dc "$V/external/bitnet-cpp/tiny-bitnet-b158-i2_s.gguf.gz" > "$d/bn.gguf" || exit 99
[ "$($T tokenize "$d/bn.gguf" --text 'Hello, world!' --ids)" = "1 72 101 108 108 111 44 32 119 111 114 108 100 33" ] ||
    fail "bitnet.cpp vocabulary"
[ "$($T detokenize "$d/bn.gguf" 1 72 105)" = "<s>Hi" ] || fail "bitnet.cpp detokenize"

# ---- errors: exit 2, one line ----
expect_error "missing file" tokenize "$d/nope.gguf" --text x
expect_error "id outside the vocabulary" detokenize "$L3" 9906 128256
grep -q "l3.gguf: token 128256 (index 1) is outside the vocabulary (0..128255)" "$d/err" || fail "range message: $(cat "$d/err")"
expect_error "bad id" detokenize "$L3" 12x
expect_error "no ids" detokenize "$L3"
expect_error "text and file" tokenize "$L3" --text a --file "$d/in.txt"
expect_error "missing text file" tokenize "$L3" --file "$d/nope.txt"
expect_error "no tokenizer" tokenize "$V/../tests/fuzz/corpus/kinds-v3.gguf" --text x
grep -q "kinds-v3.gguf: tokenizer.ggml.tokens: missing" "$d/err" || fail "no tokenizer message: $(cat "$d/err")"
$T tokenize --help | grep -q 'usage: tritcheck tokenize' || fail "tokenize --help"
$T help detokenize | grep -q 'usage: tritcheck detokenize' || fail "help detokenize"
echo "cli_tokenize: ok"

#!/bin/sh
# The trained model (vectors/models) continues a fixed prompt greedily with
# exactly these 16 tokens and this text, on the reference engine and on the
# fast engine, with 1 and 2 threads; and compare finds every tap of the two
# engines within 1e-5 over that continuation, every tap compared.
#
# The smallest margin between the best and the second-best logit over these
# 16 steps is 0.039 (step 15: "1" over "2"); the engines differ by ~2e-6 in
# the logits, so an ISA or thread count cannot flip a token.  bitnet.cpp's
# llama-cli, given the same file and prompt with --temp 0, prints the same
# 16 tokens (vectors/models/README.md).
set -u
T=${TRITCHECK:-./tritcheck}
V=${TC_VECTORS:-$(dirname "$0")/../vectors}
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

gzip -dc "$V/models/pydoc-bitnet-i2s.gguf.gz" > "$d/m.gguf" || exit 99

prompt='The json module'
ids='4094 415 1090 3204 458'
gen='578 848 3380 292 656 265 437 32 50 46 50 46 50 46 49 46'
text='" has been updated to support the Python 2.2.2.1."'
for e in "ref 1" "ref 2" "fast 1" "fast 2"; do
    set -- $e
    $T run "$d/m.gguf" --engine "$1" --threads "$2" --prompt "$prompt" -n 16 > "$d/out" 2> "$d/info" \
        || fail "run --engine $1 --threads $2: $(cat "$d/info")"
    [ "$(sed -n 's/^prompt: //p' "$d/out")" = "$ids" ] || fail "$1: prompt ids: $(cat "$d/out")"
    [ "$(sed -n 's/^prompt text: //p' "$d/out")" = '"<|begin_of_text|>The json module"' ] \
        || fail "$1: prompt text: $(cat "$d/out")"
    [ "$(sed -n 's/^generated: //p' "$d/out")" = "$gen" ] || fail "$1 $2 threads: generated ids: $(cat "$d/out")"
    [ "$(sed -n 's/^generated text: //p' "$d/out")" = "$text" ] || fail "$1 $2 threads: generated text: $(cat "$d/out")"
done

# the token ids and the text agree through the tokenizer both ways
[ "$($T tokenize "$d/m.gguf" --text "$prompt" --ids)" = "$ids" ] || fail "tokenize the prompt"
$T detokenize "$d/m.gguf" --raw $gen > "$d/detok" 2>&1 || fail "detokenize: $(cat "$d/detok")"
printf ' has been updated to support the Python 2.2.2.1.' | cmp -s - "$d/detok" || fail "detokenize: $(cat "$d/detok")"

# the reference and the fast engine tap by tap over the same continuation
# (5 prompt and 16 generated positions)
$T compare "$d/m.gguf" --ref ref --cand fast --prompt "$prompt" --gen 16 > "$d/cmp" 2>&1 \
    || fail "compare ref fast: $(tail -n 5 "$d/cmp")"
grep -q '^PASS: every tap within 1e-05; 87 of 87 reference taps compared' "$d/cmp" || fail "compare: $(tail -n 3 "$d/cmp")"
grep -q 'top-1 21/21' "$d/cmp" || fail "compare logits top-1: $(grep '^logits' "$d/cmp")"
echo "cli_model_greedy: ok"

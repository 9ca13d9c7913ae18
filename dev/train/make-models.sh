#!/bin/sh
# make-models.sh -- the whole pipeline behind vectors/models/, from a fresh
# Debian 12 machine (see README.md for the packages):
#
#   corpus -> tokenizer -> QAT training -> latent GGUF -> I2_S GGUF ->
#   tokenizer parity -> accuracy and greedy runs -> the shipped files.
#
# Usage: dev/train/make-models.sh WORK_DIR [SHIP_DIR]
#   WORK_DIR  scratch space (about 100 MB); a finished stage is not redone
#   SHIP_DIR  where the shipped files go (default: vectors/models beside dev/)
# Environment:
#   TRITCHECK  the tritcheck binary (default: tritcheck on PATH)
#   TRAIN_ARGS extra arguments for train.py (e.g. "--steps 40" for a smoke run)
#   PYTHON     default /usr/bin/python3 (Debian's, with python3-torch)
#   BLAS       directory of a fast libblas.so.3 for torch (default: Debian's
#              OpenBLAS, libopenblas0-openmp; the reference BLAS that
#              python3-torch otherwise uses is ~30x slower)
#   OMP_WAIT_POLICY  default PASSIVE: OpenMP threads that spin at barriers
#              made training ~15x slower on a machine shared with other
#              work (measured: 151 s against 10 s for the same 12 steps);
#              the results are bit for bit the same either way
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:?usage: make-models.sh WORK_DIR [SHIP_DIR]}
SHIP=${2:-$HERE/../../vectors/models}
TC=${TRITCHECK:-tritcheck}
PY=${PYTHON:-/usr/bin/python3}
BLAS=${BLAS:-/usr/lib/x86_64-linux-gnu/openblas-openmp}
export LD_LIBRARY_PATH="$BLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
CTX=256
PROMPT="The json module"
mkdir -p "$W" "$SHIP"
W=$(cd "$W" && pwd)

# 1. corpus: python3.11-doc's HTML as text, train / held-out split
[ -f "$W/corpus/corpus.json" ] || "$PY" "$HERE/extract.py" --out "$W/corpus"

# 2. tokenizer: byte-level BPE, 4096 tokens, merges learned on train.txt
[ -f "$W/corpus/tokenizer.json" ] || "$PY" "$HERE/bpe.py" train --text "$W/corpus/train.txt" --vocab 4096 \
    --out "$W/corpus/tokenizer.json"

# 3. training (about 40 min on two idle cores); writes run/latent.gguf.  An
#    interrupted run continues from its last checkpoint (every 250 steps)
#    with the same result: TRAIN_ARGS=--resume
[ -f "$W/run/latent.gguf" ] || "$PY" "$HERE/train.py" --data "$W/corpus" --out "$W/run" ${TRAIN_ARGS:-} \
    2>&1 | tee -a "$W/train.log"
[ -f "$W/run/latent.gguf" ] || { echo "make-models.sh: training failed (see $W/train.log)" >&2; exit 1; }

# 4. the I2_S model (latent rule m = mean|W|, as in training)
"$TC" quantize "$W/run/latent.gguf" "$W/run/i2s.gguf" > "$W/quantize.log"
"$TC" inspect "$W/run/latent.gguf" > "$W/inspect-latent.txt"
"$TC" inspect "$W/run/i2s.gguf" > "$W/inspect-i2s.txt"

# 5. the shipped held-out text, and tokenizer parity on all of the held-out text
"$PY" "$HERE/make_excerpt.py" "$W/corpus/heldout.txt" "$W/heldout.txt"
tr -d '\036' < "$W/corpus/heldout.txt" > "$W/heldout-all.txt"
for f in heldout.txt heldout-all.txt; do
    "$TC" tokenize "$W/run/i2s.gguf" --file "$W/$f" --ids > "$W/$f.tritcheck.ids"
    "$PY" "$HERE/bpe.py" encode --tokenizer "$W/corpus/tokenizer.json" --bos --file "$W/$f" > "$W/$f.python.ids"
    if cmp -s "$W/$f.tritcheck.ids" "$W/$f.python.ids"; then
        echo "tokenizer parity: $f: $(wc -w < "$W/$f.python.ids") ids, identical"
    else
        echo "tokenizer parity: $f: tritcheck and bpe.py DIFFER" >&2
        exit 1
    fi
done | tee "$W/parity.txt"

# 6. measurements: greedy runs, accuracy receipts, torch's own perplexities
"$TC" run "$W/run/i2s.gguf" --prompt "$PROMPT" -n 32 > "$W/run-i2s.txt"
"$TC" run "$W/run/latent.gguf" --precision fp32 --prompt "$PROMPT" -n 32 > "$W/run-latent-fp32.txt"
"$TC" accuracy "$W/run/i2s.gguf" --corpus "$W/heldout.txt" --ctx $CTX --threads 2 \
    -o "$W/accuracy-i2s-vs-ternary-fp32.json" > "$W/accuracy-i2s-vs-ternary-fp32.txt"
"$TC" accuracy "$W/run/i2s.gguf" --baseline "$W/run/latent.gguf" --corpus "$W/heldout.txt" --ctx $CTX --threads 2 \
    -o "$W/accuracy-i2s-vs-latent-fp32.json" > "$W/accuracy-i2s-vs-latent-fp32.txt"
"$PY" "$HERE/evaluate.py" --ckpt "$W/run/ckpt.pt" --tokenizer "$W/corpus/tokenizer.json" --text "$W/heldout.txt" \
    --ctx $CTX --json "$W/evaluate-torch.json" > "$W/evaluate-torch.txt"

# 7. ship: models gzip-compressed (-n: no name or time stamp, so the bytes repeat)
gzip -9 -n -c "$W/run/latent.gguf" > "$SHIP/pydoc-bitnet-latent-f32.gguf.gz"
gzip -9 -n -c "$W/run/i2s.gguf" > "$SHIP/pydoc-bitnet-i2s.gguf.gz"
cp "$W/heldout.txt" "$SHIP/heldout.txt"
cp "$W/run/loss.png" "$SHIP/loss.png"
cp "$W/run/log.jsonl" "$SHIP/train-log.jsonl"
cp "$HERE/CORPUS-LICENSE.txt" "$SHIP/CORPUS-LICENSE.txt"
"$HERE/manifest.sh" "$SHIP"
echo "shipped to $SHIP:"
ls -l "$SHIP"

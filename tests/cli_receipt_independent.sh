#!/bin/sh
# Receipts checked without tritcheck (tritcheck-receipt(5), VERIFYING
# WITHOUT TRITCHECK): tests/verify_receipt.py (Python's standard library
# and python3-cryptography) recomputes the RFC 8785 canonical form, the
# SHA-256 and the Ed25519 signature of receipts of every kind, and the
# openssl command line checks the signature and the digest again from
# the canonical bytes.  Negative controls: a changed figure, another key.
set -u
T=${TRITCHECK:-./tritcheck}
S=${TC_SRCDIR:-$(dirname "$0")/..}
PY="python3 $S/tests/verify_receipt.py"
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
python3 -c 'import cryptography' 2> /dev/null || { echo "SKIP: python3-cryptography (./quickstart installs it)"; exit 77; }

$T gen --preset tiny --seed 5 -o "$d/m.gguf" > /dev/null || fail gen
$T keygen "$d/k" > /dev/null || fail keygen
$T keygen "$d/other" > /dev/null || fail keygen

# receipts of every kind, signed; a prompt with text beyond ASCII
$T compare "$d/m.gguf" --prompt 'Grüße, 世界 😀 "quoted" \ tab	end' --gen 2 -o "$d/compare.json" --sign "$d/k" > /dev/null ||
    fail "compare"
$T accuracy "$d/m.gguf" --random 12 --ctx 6 -o "$d/accuracy.json" --sign "$d/k" > /dev/null || fail "accuracy"
$T kernels --filter rmsnorm_q8 -o "$d/kernels.json" --sign "$d/k" > /dev/null || fail "kernels"
for r in compare accuracy kernels; do
    $PY "$d/$r.json" --pubkey "$d/k.pub" > "$d/out" || fail "$r: the independent verifier refuses it: $(cat "$d/out")"
    grep -q '^digest: ok' "$d/out" && grep -q '^signature: ok' "$d/out" || fail "$r: $(cat "$d/out")"
    # tritcheck agrees
    $T verify "$d/$r.json" --pubkey "$d/k.pub" > "$d/v" || fail "$r: tritcheck verify: $(cat "$d/v")"
done
# an unsigned receipt (bench writes it on standard output)
$T bench "$d/m.gguf" --prompt-len 4 --gen 2 --repeat 1 --threads 1 --json > "$d/bench.json" 2> /dev/null || fail "bench"
$PY "$d/bench.json" > "$d/out" || fail "bench: $(cat "$d/out")"
grep -q '^signature: none' "$d/out" || fail "bench: $(cat "$d/out")"

# the same checks with the openssl command line, from the canonical bytes
$PY "$d/compare.json" --print-canonical | head -c -1 > "$d/canon" || fail "canonical form"
openssl dgst -sha256 -binary "$d/canon" > "$d/digest.bin" || fail "openssl dgst"
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"]["value"])' "$d/compare.json")
[ "$(od -An -tx1 -v "$d/digest.bin" | tr -d ' \n')" = "$want" ] || fail "openssl: the canonical bytes do not hash to digest.value"
python3 -c 'import json,sys; sys.stdout.buffer.write(bytes.fromhex(json.load(open(sys.argv[1]))["signature"]["value"]))' \
    "$d/compare.json" > "$d/sig.bin"
openssl pkeyutl -verify -pubin -inkey "$d/k.pub" -rawin -in "$d/digest.bin" -sigfile "$d/sig.bin" > "$d/out" 2>&1 ||
    fail "openssl: the signature does not verify: $(cat "$d/out")"
openssl pkeyutl -verify -pubin -inkey "$d/other.pub" -rawin -in "$d/digest.bin" -sigfile "$d/sig.bin" > /dev/null 2>&1 &&
    fail "openssl: verified with another key"

# negative controls: one figure changed, a key that did not sign
sed 's/"max_abs":	0,/"max_abs":	1e-9,/' "$d/compare.json" > "$d/t.json"
cmp -s "$d/t.json" "$d/compare.json" && fail "the negative control changed nothing"
$PY "$d/t.json" > "$d/out"; [ $? -eq 1 ] || fail "a changed figure passes the independent verifier"
grep -q '^digest: MISMATCH' "$d/out" || fail "changed figure: $(cat "$d/out")"
$PY "$d/compare.json" --pubkey "$d/other.pub" > "$d/out"; [ $? -eq 1 ] || fail "another key accepted"
$PY "$d/compare.json" > "$d/out" || fail "no --pubkey: $(cat "$d/out")"
grep -q 'NOT AUTHENTICATED' "$d/out" || fail "no --pubkey: $(cat "$d/out")"
# and a document two readers would read differently is no receipt to either
printf '%s' "$(cat "$d/compare.json")" | sed 's/^{/{"schema": "x",/' > "$d/dup.json"
$PY "$d/dup.json" > "$d/out"; [ $? -eq 2 ] || fail "duplicate key: $(cat "$d/out")"
$T verify "$d/dup.json" > /dev/null 2>&1; [ $? -eq 2 ] || fail "tritcheck: duplicate key accepted"
echo "cli_receipt_independent: ok"

#!/bin/sh
# tritcheck kernels end to end: the suite passes for every ISA this CPU runs
# (the others are skipped with a message); the example plug-in passes and
# its deliberately wrong build fails with the failing case named; a wrong
# ABI version, a missing symbol or a NULL function is refused with one line
# and exit 2; the receipt verifies and a tampered verdict does not;
# `compare --cand plugin:...` runs a generated model through the plug-in.
set -u
T=${TRITCHECK:-./tritcheck}
P=examples/plugin
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# ---- the fast engine, each ISA ----
for isa in scalar avx2 avx512 amx neon neon_dotprod neon_i8mm; do
    $T kernels --isa $isa -o "$d/$isa.json" > "$d/o.$isa" 2> "$d/e.$isa"
    rc=$?
    if [ $rc -eq 2 ] && grep -q "this CPU cannot run the $isa kernels" "$d/e.$isa"; then
        echo "cli_kernels: this CPU lacks $isa: skipped"
        continue
    fi
    [ $rc -eq 0 ] || fail "$isa: exit $rc: $(tail -3 "$d/o.$isa") $(cat "$d/e.$isa")"
    grep -q "^kernels $isa: [0-9]* cases, [0-9]* pass, 0 fail" "$d/o.$isa" || fail "$isa: summary $(tail -1 "$d/o.$isa")"
    $T verify "$d/$isa.json" > "$d/v" || fail "$isa: verify $(cat "$d/v")"
done

# ---- the example plug-in passes; the wrong one fails, named ----
$T kernels --engine $P/libtc_example_plugin.so > "$d/o" 2>&1 || fail "example plug-in: $(tail -5 "$d/o")"
$T kernels --engine $P/libtc_example_plugin_bug.so --filter i2s_gemv -o "$d/bug.json" > "$d/o" 2> "$d/e"
[ $? -eq 1 ] || fail "buggy plug-in: expected exit 1: $(tail -3 "$d/o")"
grep -q '^FAIL i2s_gemv 17x2560 random  *plugin.example-bug.i2s_gemv' "$d/o" || fail "buggy plug-in: case not named: $(head -5 "$d/o")"
grep -q 'guards: out-of-bounds write: 4 bytes after out' "$d/o" || fail "buggy plug-in: guard not named: $(head -5 "$d/o")"
grep -q 'first failure: i2s_gemv 1x128 random' "$d/o" || fail "buggy plug-in: summary $(tail -1 "$d/o")"
$T verify "$d/bug.json" > "$d/v" || fail "a failing kernels receipt is still valid: $(cat "$d/v")"
# int8 quantizers that round exact ties away from zero, or truncate, fail
# on the cases built of exact ties (SPEC 2.2: half to even)
for v in away trunc; do
    $T kernels --engine $P/libtc_example_plugin_$v.so --filter rmsnorm_q8 > "$d/o" 2>&1
    [ $? -eq 1 ] || fail "$v quantizer: expected exit 1: $(tail -3 "$d/o")"
    grep -q '^FAIL rmsnorm_q8 n=2560 ties' "$d/o" || fail "$v quantizer: the ties case: $(head -5 "$d/o")"
done
# random inputs alone would let the ties-away quantizer pass
$T kernels --engine $P/libtc_example_plugin_away.so --filter rmsnorm_q8 -v > "$d/o" 2>&1
grep -q '^ok   rmsnorm_q8 n=2560 random' "$d/o" || fail "away quantizer: random cases pass (no tie in them)"
# a tampered verdict is caught (the digest, and the consistency)
sed 's/"verdict":	"fail"/"verdict":	"pass"/' "$d/bug.json" > "$d/t.json"
$T verify "$d/t.json" > "$d/v"
[ $? -eq 1 ] || fail "verify accepted a tampered kernels receipt"
grep -q 'changed after sealing' "$d/v" || fail "verify: $(cat "$d/v")"

# ---- refused plug-ins: one line, exit 2 ----
refused() {   # FILE WORDS
    $T kernels --engine "$1" > "$d/o" 2> "$d/e"
    rc=$?
    [ $rc -eq 2 ] || fail "$1: exit $rc, expected 2"
    [ "$(wc -l < "$d/e")" -eq 1 ] || fail "$1: not one line: $(cat "$d/e")"
    grep -q "$2" "$d/e" || fail "$1: '$(cat "$d/e")' lacks '$2'"
}
refused $P/libtc_example_plugin_abi2.so "ABI version 2, this tritcheck speaks version 1"
refused $P/libtc_example_plugin_nosym.so "no symbol tritcheck_kernels()"
refused $P/libtc_example_plugin_nullfn.so "function attention_head is NULL"
refused $P/no-such.so "cannot load"
$T kernels --filter nothing-like-this > /dev/null 2>&1; [ $? -eq 2 ] || fail "--filter without a match: expected 2"
$T kernels --isa mmx > /dev/null 2>&1; [ $? -eq 2 ] || fail "--isa mmx: expected 2"

# ---- the whole model through the plug-in ----
$T gen --preset tiny -o "$d/m.gguf" > /dev/null || fail gen
$T compare "$d/m.gguf" --cand plugin:$P/libtc_example_plugin.so --random 6 --gen 3 -o "$d/c.json" > "$d/o" 2>&1 ||
    fail "compare --cand plugin: $(tail -5 "$d/o")"
grep -q '"plugin.example.i2s_gemv"' "$d/c.json" || fail "compare: plug-in kernels not counted"
# a plug-in is rerun only when the user names it; never on the receipt's word
$T verify "$d/c.json" --model "$d/m.gguf" --rerun > "$d/v"; [ $? -eq 1 ] || fail "verify --rerun loaded the receipt's plug-in"
grep -q '^  not rerun: engines.cand names the engine plugin:' "$d/v" || fail "verify --rerun: $(cat "$d/v")"
$T verify "$d/c.json" --model "$d/m.gguf" --rerun --cand plugin:$P/libtc_example_plugin.so > "$d/v" ||
    fail "verify --rerun --cand plugin: $(cat "$d/v")"
$T compare "$d/m.gguf" --cand plugin:$P/libtc_example_plugin_abi2.so --random 4 --gen 1 > "$d/o" 2> "$d/e"
[ $? -eq 2 ] || fail "compare with a refused plug-in: expected 2"
grep -q "ABI version 2" "$d/e" || fail "compare: $(cat "$d/e")"
echo "cli_kernels: ok"

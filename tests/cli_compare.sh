#!/bin/sh
# compare, verify, diff, report end to end, with negative controls that
# prove each check can fail.
set -u
T=${TRITCHECK:-./tritcheck}
V=${TC_VECTORS:-vectors}/external/bitnet-cpp
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
field() { grep -o "\"$1\":[^,}]*" "$2" | head -1; }

$T gen --preset tiny --seed 3 -o "$d/m.gguf" || fail "gen"

# ref against ref: every error exactly 0
$T compare "$d/m.gguf" --ref ref --cand ref --random 8 --gen 4 -o "$d/same.json" > "$d/out" || fail "ref vs ref"
grep -q '^PASS' "$d/out" || fail "ref vs ref verdict"
[ "$(grep -c '"scaled_err":	0,' "$d/same.json")" -eq "$(grep -c '"tap":' "$d/same.json")" ] || fail "ref vs ref: all errors 0"
grep -q '"bit_identical":	true' "$d/same.json" || fail "determinism measured"

# ref against the fast engine, every ISA this CPU runs
for e in fast fast:scalar fast:avx2 fast:avx512 fast:amx fast:neon fast:neon_dotprod fast:neon_i8mm; do
    $T compare "$d/m.gguf" --ref ref --cand $e --random 8 --gen 4 --threads 2 > "$d/out" 2>&1
    rc=$?
    grep -q 'cannot run the' "$d/out" && continue
    [ $rc -eq 0 ] || fail "ref vs $e: $(tail -2 "$d/out")"
    grep -q 'determinism: two runs bit-identical' "$d/out" || fail "$e determinism"
done

# bitnet.cpp's recordings against the reference engine
gzip -dc "$V/tiny-bitnet-b158-i2_s.gguf.gz" > "$d/b.gguf"
gzip -dc "$V/tiny-bitnet-b158-f32.gguf.gz" > "$d/bf.gguf"
$T compare "$d/b.gguf" --ref "dump:$V/i2_s" --cand ref > "$d/out" || fail "bitnet.cpp i2_s vs ref: $(tail -1 "$d/out")"
grep -q 'top-1 14/14' "$d/out" || fail "bitnet.cpp argmax on every row"
# the recording has float norm taps and no .q8 taps: the codes are derived
grep -q 'coverage: 45 of 45 reference taps compared (8 from derived .q8 codes)' "$d/out" || fail "derived .q8 taps: $(grep coverage "$d/out")"
grep -q 'blk.0 .*21 taps' "$d/out" || fail "every tap of a block compared"
$T compare "$d/bf.gguf" --ref "dump:$V/f32" --cand ref --precision fp32 > "$d/out" || fail "bitnet.cpp f32 vs ref"
$T compare "$d/b.gguf" --ref "dump:$V/i2_s" --cand fast > "$d/out" || fail "bitnet.cpp i2_s vs fast: $(tail -1 "$d/out")"
grep -q '^PASS: every tap within 1e-05; 45 of 45 reference taps compared' "$d/out" || fail "fast vs bitnet.cpp: full coverage"

# coverage is part of the verdict (SPEC 4): a candidate recording that
# holds only the logits, or lacks one tap, compared nothing / not all
$T run "$d/m.gguf" --tokens 5,6,7 -n 3 --dump "$d/full" > /dev/null 2>&1 || fail "run --dump"
keep() {   # $1 dir, $2 python expression over t (an index entry): the taps to keep
    rm -rf "$1"; cp -r "$d/full" "$1"
    python3 -c "import json,sys; p=sys.argv[1]+'/index.json'; d=json.load(open(p)); d['taps']=[t for t in d['taps'] if $2]; json.dump(d,open(p,'w'))" "$1"
}
keep "$d/logits" "t['tap'] == 'logits'"
$T compare "$d/m.gguf" --ref ref --cand "dump:$d/logits" -o "$d/inc.json" > "$d/out"; rc=$?
[ $rc -eq 1 ] || fail "a logits-only recording: exit $rc, expected 1"
grep -q '^INCOMPLETE: 1 of 45 reference taps compared, 44 not compared' "$d/out" || fail "logits only: $(tail -1 "$d/out")"
grep -q 'not compared: blk.0.attn_norm (the candidate does not show it)' "$d/out" || fail "the reason is named"
grep -q '"verdict":	"incomplete"' "$d/inc.json" || fail "receipt verdict incomplete"
$T verify "$d/inc.json" --model "$d/m.gguf" > "$d/vout" || fail "an honest incomplete receipt verifies: $(cat "$d/vout")"
keep "$d/hole" "t['tap'] != 'blk.1.ffn_up'"
$T compare "$d/m.gguf" --ref ref --cand "dump:$d/hole" > "$d/out"; rc=$?
[ $rc -eq 1 ] || fail "one middle tap missing: exit $rc, expected 1"
grep -q '^INCOMPLETE: 44 of 45' "$d/out" || fail "one tap missing: $(tail -1 "$d/out")"
grep -q 'not compared: blk.1.ffn_up ' "$d/out" || fail "the missing tap is named"
# ... unless the user narrowed the set, which the receipt records
$T compare "$d/m.gguf" --ref ref --cand "dump:$d/logits" --taps logits -o "$d/narrow.json" > "$d/out" || fail "--taps logits: $(tail -1 "$d/out")"
grep -q '44 left out by --taps logits' "$d/out" || fail "narrowing said"
grep -q '"selection":	"logits"' "$d/narrow.json" || fail "narrowing recorded"
# --ref fast --cand ref on a prompt long enough for boundary flips: isolated,
# the engines agree code for code (each is fed the other's float norm
# output); chained, each quantizes its own values, a flip is counted as a
# flip, and the failure downstream names it as where the runs diverged
$T gen --preset small -o "$d/s.gguf" > /dev/null || fail "gen small"
$T compare "$d/s.gguf" --ref fast --cand ref --random 48 --gen 16 --threads 2 -o "$d/fi.json" > "$d/out" || fail "fast vs ref isolated: $(tail -1 "$d/out")"
$T compare "$d/s.gguf" --ref fast --cand ref --random 48 --gen 16 --threads 2 --mode chained -o "$d/fc.json" > "$d/out"
# the NEON tables give the scalar table's bits, which stay so close to the
# reference here that no code flips: the flip checks need the x86 ones
if grep -q '"id":	"fast:\(scalar\|neon[a-z_0-9]*\)"' "$d/fc.json"; then
    echo "cli_compare: $(grep -o '"id":	"fast:[a-z_0-9]*"' "$d/fc.json" | head -1 | cut -f2) has the scalar bits: no flip to name, chained flip checks skipped"
else
grep -q '^divergence: the first code difference upstream of the failure is blk' "$d/out" || fail "chained: origin named"
python3 - "$d/fi.json" "$d/fc.json" <<'PYEOF' || fail "boundary flips counted"
import json, sys
iso, ch = (json.load(open(p)) for p in sys.argv[1:3])
q8 = [t for t in iso["results"] if t["kind"] == "q8"]
assert q8 and all(t["boundary_flips"] == 0 and t["code_mismatches"] == 0 for t in q8), "isolated: codes differ"
flips = sum(t["boundary_flips"] for t in ch["results"] if t["kind"] == "q8")
assert flips >= 1, "chained: no boundary flip counted"
c = ch["summary"]["divergence"]["first_code_difference"]
m = ch["criteria"]["q8_margin"]
assert abs(c["unrounded_ref"] - c["boundary"]) <= m and abs(c["unrounded_cand"] - c["boundary"]) <= m, c
assert c["unrounded_ref"] != c["unrounded_cand"], c
print("flips", flips, "origin", c["tap"], c["position"], c["element"])
PYEOF
fi
$T verify "$d/fc.json" --model "$d/s.gguf" > "$d/vout" || fail "chained receipt verifies: $(cat "$d/vout")"

# a reference recording that lacks a tap the model has: not compared either
$T compare "$d/m.gguf" --ref "dump:$d/hole" --cand ref > "$d/out"; rc=$?
[ $rc -eq 1 ] || fail "reference lacks a tap: exit $rc"
grep -q 'not compared: blk.1.ffn_up (the reference does not show it)' "$d/out" || fail "reference gap named"

# injected fault, isolated: fails at exactly that tap and no other
$T compare "$d/m.gguf" --cand ref --random 8 --gen 4 --inject blk.1.ffn_up:1e-4 -o "$d/inj.json" > "$d/out"
[ $? -eq 1 ] || fail "injected fault: exit 1"
grep -q '"taps_failed":	1,' "$d/inj.json" || fail "isolated: exactly one tap fails"
grep -q 'FAIL: first failing tap blk.1.ffn_up at position 0' "$d/out" || fail "isolated: names the tap"
# chained: the same tap is the first failure, and errors propagate
$T compare "$d/m.gguf" --cand ref --random 8 --gen 4 --mode chained --inject blk.1.ffn_up:1e-4 > "$d/out"
[ $? -eq 1 ] || fail "chained: exit 1"
grep -q 'FAIL: first failing tap blk.1.ffn_up at position 0' "$d/out" || fail "chained: first failure"
grep -q 'blk.1 .*worst blk.1.ffn_act .*FAIL' "$d/out" || fail "chained: later taps fail too"
# a code moved away from any boundary fails its .q8 tap
$T compare "$d/m.gguf" --cand ref --random 8 --gen 0 --inject blk.0.attn_sub_norm.q8:1 > "$d/out"
[ $? -eq 1 ] || fail "q8 flip: exit 1"
grep -q 'FAIL: first failing tap blk.0.attn_sub_norm.q8' "$d/out" || fail "q8 flip: names the tap"

# receipts: signed, verified, rerun; tampering caught
$T keygen "$d/key" > /dev/null || fail "keygen"
$T keygen "$d/other" > /dev/null || fail "keygen other"
$T compare "$d/m.gguf" --cand ref --random 6 --gen 3 -o "$d/r.json" --sign "$d/key" > /dev/null || fail "signed compare"
$T verify "$d/r.json" --model "$d/m.gguf" --pubkey "$d/key.pub" --rerun > "$d/out" || fail "verify honest: $(cat "$d/out")"
grep -q 'every figure reproduced' "$d/out" || fail "rerun reproduced"
$T verify "$d/r.json" --pubkey "$d/other.pub" > "$d/out"; [ $? -eq 1 ] || fail "wrong key accepted"
grep -q 'another key' "$d/out" || fail "wrong key named"
tamper() {   # $1 sed expression, $2 expected message
    sed "$1" "$d/r.json" > "$d/t.json"
    cmp -s "$d/r.json" "$d/t.json" && fail "tamper '$1' changed nothing"
    $T verify "$d/t.json" --model "$d/m.gguf" > "$d/out"; [ $? -eq 1 ] || fail "tamper '$1' accepted"
    grep -q "$2" "$d/out" || fail "tamper '$1': expected '$2' in $(cat "$d/out")"
}
tamper '0,/"scaled_err":	0,/s//"scaled_err":	1e-9,/' 'changed after sealing'
tamper 's/"verdict":	"pass"/"verdict":	"fail"/' 'changed after sealing'
tamper '0,/"tokens":	\[\([0-9]*\)/s//"tokens":	[1\1/' 'changed after sealing'
tamper 's/\("sha256":	"\)[0-9a-f]/\1x/' 'changed after sealing\|model:'
tamper 's/\("value":	"\)[0-9a-f]\([0-9a-f]\{127\}"\)/\1z\2/' 'signature\|digest'
$T verify "$d/missing.json" 2> /dev/null; [ $? -eq 2 ] || fail "verify missing file: exit 2"

# diff: a receipt against itself changes nothing; an injected fault is named
$T compare "$d/m.gguf" --cand ref --random 8 --gen 4 -o "$d/base.json" > /dev/null || fail "base"
$T diff "$d/base.json" "$d/base.json" > "$d/out" || fail "diff self exit"
grep -q 'no change' "$d/out" || fail "diff self"
$T diff "$d/base.json" "$d/inj.json" > "$d/out"; [ $? -eq 1 ] || fail "diff worse: exit 1"
grep -q 'blk.1.ffn_up .*PASS -> FAIL' "$d/out" || fail "diff names the tap"

# report: one self-contained page with the chart
$T report "$d/inj.json" -o "$d/r.html" || fail "report"
grep -q '<svg' "$d/r.html" || fail "report has a chart"
grep -q 'tolerance 1e-05' "$d/r.html" || fail "report has the tolerance line"
grep -q 'blk.1.ffn_up' "$d/r.html" || fail "report names the failing tap"

# usage errors
$T compare "$d/m.gguf" --ref dump:x --cand dump:y 2> /dev/null; [ $? -eq 2 ] || fail "two recordings"
$T compare "$d/m.gguf" --cand nosuch 2> "$d/err"; [ $? -eq 2 ] || fail "unknown engine"
grep -q "unknown engine 'nosuch'" "$d/err" || fail "unknown engine named"
$T compare "$d/m.gguf" --ref "dump:$d/none" --cand ref 2> "$d/err"; [ $? -eq 2 ] || fail "missing recording"
echo "cli_compare: ok"

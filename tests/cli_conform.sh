#!/bin/sh
# conform: the smoke suite conforms (its negative controls fail where the
# manifest says), the summary verifies, and a case that does not give its
# expected verdict is reported and exits 1.
set -u
T=${TRITCHECK:-./tritcheck}
V=${TC_VECTORS:-vectors}
C=$V/../conformance
CAND=${TC_CAND:-ref}
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

$T conform smoke --suite-dir "$C" --vectors "$V" --cand fast -o "$d/fast" > "$d/out" || fail "smoke, fast: $(cat "$d/out")"
$T conform smoke --suite-dir "$C" --vectors "$V" --cand "$CAND" -o "$d/smoke" > "$d/out" || fail "smoke: $(cat "$d/out")"
grep -q 'smoke: 7 of 7 cases conform' "$d/out" || fail "smoke count"
grep -q 'negative-perturbed-tap .*got fail at blk.1.ffn_down  CONFORMS' "$d/out" || fail "negative control"
[ -f "$d/smoke/summary.json" ] && [ -f "$d/smoke/tiny-i2s-isolated.json" ] || fail "receipts written"
$T verify "$d/smoke/summary.json" > "$d/out" || fail "verify summary: $(cat "$d/out")"
$T verify "$d/smoke/tiny-i2s-chained.json" > /dev/null || fail "verify a case"

# a case whose expectation is wrong does not conform
cat > "$d/wrong.json" <<'JSON'
{ "suite": "wrong", "cases": [
  { "name": "expects-failure", "model": { "preset": "tiny", "seed": 1 }, "random": 6, "seed": 1, "gen": 1,
    "precision": "i2s", "mode": "isolated", "expect": "fail" } ] }
JSON
$T conform "$d/wrong.json" --vectors "$V" --cand "$CAND" -o "$d/w" > "$d/out"; [ $? -eq 1 ] || fail "wrong expectation: exit 1"
grep -q 'DOES NOT CONFORM' "$d/out" || fail "wrong expectation reported"
# a receipt listed in the summary that was changed is caught
sed -i 's/"verdict":	"pass"/"verdict":	"fail"/' "$d/smoke/tiny-i2s-isolated.json"
$T verify "$d/smoke/summary.json" > "$d/out"; [ $? -eq 1 ] || fail "changed case receipt accepted"
# malformed manifests: exit 2 naming the field
echo '{ "cases": [ { "name": "x", "model": { "preset": "tiny" }, "expect": "maybe" } ] }' > "$d/bad.json"
$T conform "$d/bad.json" --vectors "$V" --cand "$CAND" -o "$d/b" 2> "$d/err"; [ $? -eq 2 ] || fail "bad expect: exit 2"
grep -q 'case x: expect: expected "pass", "fail" or "incomplete"' "$d/err" || fail "bad expect named"
echo '{ "nocases": 1 }' > "$d/bad2.json"
$T conform "$d/bad2.json" -o "$d/b2" 2> "$d/err"; [ $? -eq 2 ] || fail "no cases: exit 2"
$T conform 2b4t-official --suite-dir "$C" --cand "$CAND" -o "$d/o" 2> "$d/err"; [ $? -eq 2 ] || fail "official without --model-dir"
grep -q 'give --model-dir DIR' "$d/err" || fail "official asks for the model"
echo "cli_conform: ok"

#!/bin/sh
# Every kind of receipt the tests produce validates against the JSON Schema
# in conformance/receipt.schema.json (python3-jsonschema; skipped, 77,
# where it is not installed).
set -u
T=${TRITCHECK:-./tritcheck}
S=${TC_VECTORS:-vectors}/../conformance/receipt.schema.json
V=${TC_VECTORS:-vectors}/external/bitnet-cpp
PY=/usr/bin/python3
$PY -c 'import jsonschema' 2>/dev/null || { echo "python3-jsonschema not installed: skipped"; exit 77; }
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

$T gen --preset tiny -o "$d/m.gguf" || fail gen
$T keygen "$d/k" > /dev/null || fail keygen
$T compare "$d/m.gguf" --cand ref --random 5 --gen 2 -o "$d/pass.json" --sign "$d/k" > /dev/null || fail pass
$T compare "$d/m.gguf" --cand ref --random 5 --gen 2 --mode chained --inject blk.0.q:1e-3 -o "$d/fail.json" > /dev/null
[ $? -eq 1 ] || fail "injected"
gzip -dc "$V/tiny-bitnet-b158-i2_s.gguf.gz" > "$d/b.gguf"
$T compare "$d/b.gguf" --ref "dump:$V/i2_s" --cand ref -o "$d/rec.json" > /dev/null || fail recording
$T accuracy "$d/m.gguf" --random 20 --ctx 8 -o "$d/acc.json" > /dev/null || fail accuracy
$T gen --preset tiny --latent -o "$d/l.gguf" && $T quantize -q "$d/l.gguf" "$d/q.gguf" || fail latent
$T accuracy "$d/q.gguf" --baseline "$d/l.gguf" --random 10 -o "$d/acc2.json" > /dev/null || fail "latent accuracy"

for i in 0 1; do
    $T accuracy "$d/m.gguf" --random 20 --ctx 8 --shard $i/2 -o "$d/acc-s$i.json" > /dev/null || fail "accuracy shard $i"
done
$T merge "$d/acc-s0.json" "$d/acc-s1.json" -o "$d/acc-merged.json" > /dev/null || fail "merge accuracy"
$T vectors check "${TC_VECTORS:-vectors}/golden" -o "$d/vec.json" > /dev/null || fail "vectors check"
printf 'one prompt\nanother prompt\n' > "$d/prompts.txt"
$T compare "$d/m.gguf" --cand ref --prompts "$d/prompts.txt" --gen 1 --mode chained -o "$d/set.json" > /dev/null || fail "prompt set"

$T bench "$d/m.gguf" --threads 1 --prompt-len 4 --gen 2 --repeat 1 --json > "$d/bench.json" || fail bench
$T kernels --filter rmsnorm -o "$d/kern.json" > /dev/null || fail kernels
$T kernels --filter rmsnorm --perf --repeat 1 -o "$d/kperf.json" > /dev/null || fail "kernels --perf"
$T conform smoke --suite-dir "$(dirname "$S")" --vectors "${TC_VECTORS:-vectors}" --cand ref -o "$d/conf" > /dev/null || fail conform
$PY - "$S" "$d"/conf/summary.json "$d"/conf/negative-flipped-code.json "$d"/pass.json "$d"/fail.json "$d"/rec.json "$d"/acc.json "$d"/acc2.json "$d"/kern.json "$d"/kperf.json \
    "$d"/acc-s1.json "$d"/acc-merged.json "$d"/vec.json "$d"/set.json "$d"/bench.json <<'PYEOF' || fail "schema"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
bad = 0
for p in sys.argv[2:]:
    for e in v.iter_errors(json.load(open(p))):
        print(p, "/".join(map(str, e.path)), e.message); bad += 1
# the schema can fail: a receipt with a broken field must not validate
r = json.load(open(sys.argv[4])); r["summary"]["verdict"] = "maybe"
if v.is_valid(r): print("schema accepted verdict 'maybe'"); bad += 1
r = json.load(open(sys.argv[7])); r["headline"][0]["metric"] = "accuracy"
if v.is_valid(r): print("schema accepted a headline named 'accuracy'"); bad += 1
r = json.load(open(sys.argv[10])); r["cases"][0]["checks"][0]["check"] = "looks-fine"
if v.is_valid(r): print("schema accepted a kernels check named 'looks-fine'"); bad += 1
r = json.load(open(sys.argv[11])); r["merged"] = r["shard"]
if v.is_valid(r): print("schema accepted a receipt both shard and merged"); bad += 1
r = json.load(open(sys.argv[13])); r["entries"][0]["pass"] = "yes"
if v.is_valid(r): print("schema accepted a vectors entry passing 'yes'"); bad += 1
r = json.load(open(sys.argv[14])); r["prompts"][1]["summary"]["coverage"]["compared"] = -1
if v.is_valid(r): print("schema accepted a prompt's coverage of -1 taps"); bad += 1
r = json.load(open(sys.argv[14])); del r["summary"]["worst"]
if v.is_valid(r): print("schema accepted a prompt set without its per-tap maxima"); bad += 1
sys.exit(1 if bad else 0)
PYEOF
echo "cli_receipt_schema: ok"

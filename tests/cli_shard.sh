#!/bin/sh
# --shard I/N and merge: for each sharded command, N in {1, 3, 4} shards
# merged equal the unsharded run bit for bit (figures and verdicts; only
# timings and the shard lists differ); merge refuses a missing shard, a
# duplicate, shards of another model, binary or options, a tampered shard.
set -u
T=${TRITCHECK:-./tritcheck}
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 > /dev/null || { echo "python3 not installed: skipped"; exit 77; }

# same A B: the two receipts hold the same figures and verdicts, compared
# as parsed JSON (doubles bit for bit), without what may differ: when and
# how long (created, timings, seconds), the seal, the shard lists, and the
# digests of conform's case receipts (each has its own time stamp)
cat > "$d/same.py" <<'PYEOF'
import json, sys
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items()
                if k not in ("created", "digest", "signature", "timings", "seconds", "shard", "merged",
                             "receipt_digest")}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o
def first_difference(a, b, path="$"):
    if type(a) != type(b):
        return path
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return path + "." + k
            p = first_difference(a[k], b[k], path + "." + k)
            if p: return p
        return None
    if isinstance(a, list):
        if len(a) != len(b): return path + " (length)"
        for i, (x, y) in enumerate(zip(a, b)):
            p = first_difference(x, y, "%s[%d]" % (path, i))
            if p: return p
        return None
    return None if a == b else path
a, b = (strip(json.load(open(p))) for p in sys.argv[1:3])
p = first_difference(a, b)
if p:
    print("differ at", p)
    sys.exit(1)
PYEOF
same() { python3 "$d/same.py" "$1" "$2" || fail "$3: $1 and $2 differ"; }

# shards N: run "$@" --shard i/N -o $d/$tag-i.json for each i, merge them
# given in reverse order into $d/$tag-N.json
shards() {
    n=$1; tag=$2; shift 2
    i=0; list=""
    while [ $i -lt $n ]; do
        "$@" --shard $i/$n -o "$d/$tag-s$i-of-$n.json" > "$d/out" 2>&1 || fail "$tag shard $i/$n: $(cat "$d/out")"
        list="$d/$tag-s$i-of-$n.json $list"
        i=$((i + 1))
    done
    $T merge $list -o "$d/$tag-$n.json" > "$d/out" 2>&1 || fail "$tag: merge of $n: $(cat "$d/out")"
}

$T gen --preset tiny --seed 9 -o "$d/m.gguf" || fail gen

# ---- accuracy: 5 chunks of 8 tokens (the last of 4) ----
acc() { $T accuracy "$d/m.gguf" --random 36 --ctx 8 --seed 4 "$@"; }
acc -o "$d/acc.json" > /dev/null || fail "accuracy"
for n in 1 3 4; do
    shards $n acc acc
    same "$d/acc.json" "$d/acc-$n.json" "accuracy, $n shards"
    $T verify "$d/acc-$n.json" --model "$d/m.gguf" > "$d/out" || fail "verify merged accuracy: $(cat "$d/out")"
done
grep -q '"unit":	"chunk"' "$d/acc-s0-of-3.json" || fail "a shard says what it split"
$T verify "$d/acc-s1-of-3.json" --model "$d/m.gguf" --rerun > "$d/out" || fail "rerun a shard: $(cat "$d/out")"
$T verify "$d/acc-4.json" --model "$d/m.gguf" --rerun --shard 2 > "$d/out" || fail "rerun shard 2 of a merge: $(cat "$d/out")"
grep -q 'rerun: shard 2 only' "$d/out" || fail "rerun says which shard"
# a latent baseline: per-tensor figures in every shard, the weight headline once
$T gen --preset tiny --latent -o "$d/lat.gguf" && $T quantize -q "$d/lat.gguf" "$d/q.gguf" || fail latent
lat() { $T accuracy "$d/q.gguf" --baseline "$d/lat.gguf" --random 20 --ctx 8 "$@"; }
lat -o "$d/lat.json" > /dev/null || fail "latent accuracy"
shards 3 lat lat
same "$d/lat.json" "$d/lat-3.json" "latent accuracy, 3 shards"
acc --shard 5/6 -o "$d/x.json" 2> "$d/err"; [ $? -eq 2 ] || fail "more shards than chunks: exit 2"
grep -q 'the job has 5 chunks: use at most 5 shards' "$d/err" || fail "more shards than chunks: $(cat "$d/err")"
acc --shard 3/3 -o "$d/x.json" 2> /dev/null; [ $? -eq 2 ] || fail "--shard 3/3: exit 2"

# ---- compare: a prompt set of 5 prompts (a blank line, a CRLF line), each
# compared as one --prompt; isolated with a fault injected (so failures,
# first failures and per-tap maxima are merged too) and chained ----
printf 'hello world\nthe quick brown fox\n\nBitNet b1.58 is ternary\r\nfour score and seven years\n<|begin_of_text|>x\n' \
    > "$d/prompts.txt"
cmp_() { $T compare "$d/m.gguf" --ref ref --cand fast --prompts "$d/prompts.txt" --gen 3 "$@"; }
cmp_ -o "$d/cmp.json" > "$d/out" || fail "compare --prompts: $(cat "$d/out")"
[ "$(grep -c '^prompt [0-4] (.*PASS, 45 of 45' "$d/out")" -eq 5 ] || fail "a line per prompt: $(cat "$d/out")"
grep -q '^prompt set: 5 prompts, 5 pass' "$d/out" || fail "the set's verdict"
$T verify "$d/cmp.json" --model "$d/m.gguf" --rerun > "$d/out" || fail "verify a prompt set: $(cat "$d/out")"
for n in 1 3 4; do
    shards $n cmp cmp_
    same "$d/cmp.json" "$d/cmp-$n.json" "compare --prompts, $n shards"
    $T verify "$d/cmp-$n.json" --model "$d/m.gguf" > "$d/out" || fail "verify merged compare: $(cat "$d/out")"
done
$T verify "$d/cmp-4.json" --model "$d/m.gguf" --rerun --shard 3 > "$d/out" || fail "rerun shard 3: $(cat "$d/out")"
inj() { cmp_ --mode chained --inject blk.1.ffn_up:1e-4 "$@"; }
inj -o "$d/inj.json" > "$d/out"; [ $? -eq 1 ] || fail "an injected fault fails the set"
grep -q 'FAIL: first failure prompt 0, tap blk.1.ffn_up' "$d/out" || fail "the set names its first failure: $(tail -1 "$d/out")"
for n in 3 4; do
    i=0; list=""
    while [ $i -lt $n ]; do inj --shard $i/$n -o "$d/inj-s$i.json" > /dev/null; list="$list $d/inj-s$i.json"; i=$((i + 1)); done
    $T merge $list -o "$d/inj-$n.json" > /dev/null || fail "merge a failing prompt set"
    same "$d/inj.json" "$d/inj-$n.json" "failing chained compare --prompts, $n shards"
    $T verify "$d/inj-$n.json" > "$d/out" || fail "verify a failing merged prompt set: $(cat "$d/out")"
done
python3 - "$d/inj-3.json" <<'PYEOF' || fail "per-tap maxima and divergence in the merged set"
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
assert s["verdict"] == "fail" and s["failed"] == 5, s
w = {t["tap"]: t for t in s["worst"]}
assert not w["blk.1.ffn_up"]["pass"] and w["blk.0.attn_norm"]["pass"], w["blk.1.ffn_up"]
assert all(p["summary"]["divergence"]["first_difference"] for p in r["prompts"])
assert all(p["summary"]["coverage"]["compared"] == 45 for p in r["prompts"])
PYEOF
cmp_ --shard 0/2 2> /dev/null; [ $? -eq 2 ] || fail "--shard without -o: exit 2"
$T compare "$d/m.gguf" --random 4 --shard 0/2 -o "$d/x.json" 2> /dev/null; [ $? -eq 2 ] || fail "--shard without --prompts"
cmp_ --shard 0/6 -o "$d/x.json" 2> "$d/err"; [ $? -eq 2 ] || fail "6 shards of 5 prompts: exit 2"
grep -q 'the job has 5 prompts' "$d/err" || fail "6 shards of 5 prompts: $(cat "$d/err")"
cmp_ --cand ref --shard 1/3 -o "$d/other-cand.json" > /dev/null || fail "another candidate"

# ---- kernels: the selected cases; a plug-in whose GEMV fails, so that
# the merged first failure and counts are checked too ----
kern() { $T kernels --filter rmsnorm "$@"; }
kern -o "$d/kern.json" > /dev/null || fail "kernels"
for n in 1 3 4; do
    shards $n kern kern
    same "$d/kern.json" "$d/kern-$n.json" "kernels, $n shards"
    $T verify "$d/kern-$n.json" > "$d/out" || fail "verify merged kernels: $(cat "$d/out")"
done
P=examples/plugin/libtc_example_plugin_bug.so
if [ -f "$P" ]; then
    bug() { $T kernels --engine "$P" --filter i2s_gemv "$@"; }
    bug -o "$d/bug.json" > /dev/null; [ $? -eq 1 ] || fail "the buggy plug-in fails"
    for n in 3 4; do
        i=0; list=""
        while [ $i -lt $n ]; do bug --shard $i/$n -o "$d/bug-$i.json" > /dev/null; list="$list $d/bug-$i.json"; i=$((i + 1)); done
        $T merge $list -o "$d/bug-$n.json" > /dev/null || fail "merge the buggy plug-in's shards"
        same "$d/bug.json" "$d/bug-$n.json" "failing kernels, $n shards"
    done
    grep -q '"verdict":	"fail"' "$d/bug-3.json" || fail "the merged verdict fails"
fi
kern --perf --shard 0/2 -o "$d/x.json" 2> "$d/err"; [ $? -eq 2 ] || fail "kernels --perf --shard: exit 2"
kern --shard 1/2 2> /dev/null; [ $? -eq 2 ] || fail "kernels --shard without -o: exit 2"

# ---- conform: the smoke suite's 7 cases, negative controls among them;
# the shards write into one directory, each its own summary ----
V=${TC_VECTORS:-vectors}
conf() { $T conform smoke --suite-dir "$V/../conformance" --vectors "$V" --cand ref "$@"; }
conf -o "$d/conf" > /dev/null || fail "conform"
for n in 1 3 4; do
    i=0; list=""
    while [ $i -lt $n ]; do
        conf -o "$d/conf-$n" --shard $i/$n > "$d/out" || fail "conform shard $i/$n: $(cat "$d/out")"
        list="$list $d/conf-$n/summary.shard-$i-of-$n.json"
        i=$((i + 1))
    done
    [ -e "$d/conf-$n/summary.json" ] && fail "a shard wrote the whole suite's summary"
    $T merge $list -o "$d/conf-$n/summary.json" > "$d/out" || fail "merge conform: $(cat "$d/out")"
    grep -q 'conform: 7 of 7 cases conform' "$d/out" || fail "merge says the suite's verdict"
    same "$d/conf/summary.json" "$d/conf-$n/summary.json" "conform, $n shards"
    # the case receipts are beside the merged summary: verify checks their digests
    $T verify "$d/conf-$n/summary.json" > "$d/out" || fail "verify merged conform: $(cat "$d/out")"
    grep -q 'not found beside' "$d/out" && fail "shard summaries not found: $(cat "$d/out")"
done
sed -i 's/"verdict":	"pass"/"verdict":	"fail"/' "$d/conf-3/tiny-i2s-isolated.json"
$T verify "$d/conf-3/summary.json" > /dev/null; [ $? -eq 1 ] || fail "a changed case receipt beside a merged summary"
conf -o "$d/c9" --shard 0/8 2> /dev/null; [ $? -eq 2 ] || fail "8 shards of 7 cases: exit 2"

# ---- vectors check: 7 entries (3 model, 4 kernel vectors); the buggy
# plug-in fails some, so merged verdicts and first failures are checked ----
G=$V/golden
vec() { $T vectors check "$G" "$@"; }
vec -o "$d/vec.json" > /dev/null || fail "vectors check"
for n in 1 3 4; do
    shards $n vec vec
    same "$d/vec.json" "$d/vec-$n.json" "vectors, $n shards"
    $T verify "$d/vec-$n.json" > "$d/out" || fail "verify merged vectors: $(cat "$d/out")"
done
if [ -f "$P" ]; then
    vbug() { $T vectors check "$G" --cand "plugin:$P" "$@"; }
    vbug -o "$d/vbug.json" > /dev/null; [ $? -eq 1 ] || fail "vectors: the buggy plug-in fails"
    for i in 0 1 2; do vbug --shard $i/3 -o "$d/vbug-$i.json" > /dev/null; done
    $T merge "$d/vbug-0.json" "$d/vbug-1.json" "$d/vbug-2.json" -o "$d/vbug-3.json" > /dev/null || fail "merge vbug"
    same "$d/vbug.json" "$d/vbug-3.json" "failing vectors, 3 shards"
    grep -q '"first_failure":	"kernel-i2s_gemm.tcv.gz"' "$d/vbug-3.json" || fail "the merged first failure"
fi
vec --shard 0/8 -o "$d/x.json" 2> "$d/err"; [ $? -eq 2 ] || fail "8 shards of 7 entries: exit 2"
grep -q 'the job has 7 entries' "$d/err" || fail "8 shards of 7 entries: $(cat "$d/err")"

# ---- merge refuses ----
refuse() {   # $1 what, $2 expected message, the rest: merge's arguments
    what=$1; msg=$2; shift 2
    $T merge "$@" -o "$d/bad.json" > /dev/null 2> "$d/err"; rc=$?
    [ $rc -eq 2 ] || fail "merge of $what: exit $rc, expected 2"
    [ "$(wc -l < "$d/err")" -eq 1 ] || fail "merge of $what: not one line: $(cat "$d/err")"
    grep -q "$msg" "$d/err" || fail "merge of $what: expected '$msg' in $(cat "$d/err")"
    [ -e "$d/bad.json" ] && fail "merge of $what wrote a receipt"
    return 0
}
S="$d/acc-s0-of-3.json $d/acc-s1-of-3.json $d/acc-s2-of-3.json"
refuse "a missing shard" 'shard 1 of 3 is missing (given: 0, 2)' "$d/acc-s0-of-3.json" "$d/acc-s2-of-3.json"
refuse "a duplicate shard" 'shard 2 of 3 is given twice' $S "$d/acc-s2-of-3.json"
refuse "shards of different counts" 'is a shard of 4 over 5 units' $S "$d/acc-s3-of-4.json"
$T gen --preset tiny --seed 10 -o "$d/m2.gguf" || fail gen
$T accuracy "$d/m2.gguf" --random 36 --ctx 8 --seed 4 --shard 1/3 -o "$d/other-model.json" > /dev/null || fail "other model"
refuse "another model" 'not shards of one job: another model (job.model_sha256' \
    "$d/acc-s0-of-3.json" "$d/other-model.json" "$d/acc-s2-of-3.json"
acc --threads 2 --shard 1/3 -o "$d/other-opts.json" > /dev/null || fail "other options"
refuse "other options" 'other options (job.options.baseline.threads is 1 in' \
    "$d/acc-s0-of-3.json" "$d/other-opts.json" "$d/acc-s2-of-3.json"
acc --seed 5 --shard 1/3 -o "$d/other-input.json" > /dev/null || fail "other input"
refuse "another input" 'another input (job.input_sha256' "$d/acc-s0-of-3.json" "$d/other-input.json" "$d/acc-s2-of-3.json"
# another binary: the same program with one more byte (an ELF runs with
# trailing bytes); its executable's SHA-256 differs.  Where $TRITCHECK is
# a launcher (.ci/arm64 runs the aarch64 program under qemu), the program
# is $TC_PROGRAM and $TC_LAUNCHER runs the copy.
cat "${TC_PROGRAM:-$T}" > "$d/tritcheck2" && printf '\n' >> "$d/tritcheck2" && chmod +x "$d/tritcheck2" ||
    fail "copy the binary"
${TC_LAUNCHER:-} "$d/tritcheck2" accuracy "$d/m.gguf" --random 36 --ctx 8 --seed 4 --shard 1/3 -o "$d/other-bin.json" > /dev/null \
    || fail "the other binary runs"
refuse "another binary" 'another binary (job.binary.sha256' "$d/acc-s0-of-3.json" "$d/other-bin.json" "$d/acc-s2-of-3.json"
sed 's/"kl":	\[\([0-9]\)/"kl":	[9\1/' "$d/acc-s1-of-3.json" > "$d/tampered.json"
cmp -s "$d/tampered.json" "$d/acc-s1-of-3.json" && fail "the tampering changed nothing"
refuse "a tampered shard" 'tampered.json: digest: the receipt.s content does not match' \
    "$d/acc-s0-of-3.json" "$d/tampered.json" "$d/acc-s2-of-3.json"
refuse "an unsharded receipt" 'acc.json is not a shard receipt (no shard section)' "$d/acc.json"
refuse "a merged receipt" 'is not a shard receipt (it is a merged one)' "$d/acc-3.json"
refuse "shards of two kinds" 'another kind of receipt (job.kind' "$d/kern-s0-of-3.json" "$d/acc-s1-of-3.json"
refuse "compare shards of another candidate" 'other options (job.options.cand.id is "fast' \
    "$d/cmp-s0-of-3.json" "$d/other-cand.json" "$d/cmp-s2-of-3.json"
$T merge "$d/acc-s0-of-3.json" 2> /dev/null; [ $? -eq 2 ] || fail "merge without -o: exit 2"
# signed shards: --pubkey requires every shard signed by that key; the
# merged receipt is signed with --sign
$T keygen "$d/key" > /dev/null && $T keygen "$d/other" > /dev/null || fail keygen
for i in 0 1; do acc --shard $i/2 -o "$d/signed-$i.json" --sign "$d/key" > /dev/null || fail "signed shard $i"; done
$T merge "$d/signed-0.json" "$d/signed-1.json" --pubkey "$d/key.pub" --sign "$d/key" -o "$d/signed.json" > /dev/null \
    || fail "merge signed shards"
$T verify "$d/signed.json" --pubkey "$d/key.pub" > /dev/null || fail "the merged receipt is signed"
refuse "shards signed by another key" 'signature: made with another key' "$d/signed-0.json" "$d/signed-1.json" --pubkey "$d/other.pub"
refuse "an unsigned shard" 'signature: missing' "$d/signed-0.json" "$d/acc-s1-of-3.json" --pubkey "$d/key.pub"

# ---- verify catches a merged receipt whose shard list lies ----
python3 - "$d/acc-3.json" "$d/lie.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
r["merged"]["shards"][1]["end"] += 1
json.dump(r, open(sys.argv[2], "w"))
PYEOF
$T verify "$d/lie.json" > "$d/out"; [ $? -eq 1 ] || fail "a changed merged receipt: exit 1"
# every shard and merged receipt above validates against the JSON Schema
if python3 -c 'import jsonschema' 2> /dev/null; then
    python3 - "${TC_VECTORS:-vectors}/../conformance/receipt.schema.json" "$d"/*.json "$d"/conf-3/summary*.json <<'PYEOF' \
        || fail "schema"
import json, sys, jsonschema
v = jsonschema.Draft7Validator(json.load(open(sys.argv[1])))
bad = 0
for p in sys.argv[2:]:
    for e in v.iter_errors(json.load(open(p))):
        print(p, "/".join(map(str, e.path)), e.message); bad += 1
sys.exit(1 if bad else 0)
PYEOF
fi
echo "cli_shard: ok"

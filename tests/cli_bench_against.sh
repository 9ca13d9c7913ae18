#!/bin/sh
# bench --against: a stand-in llama-bench (a script printing llama-bench's
# JSON for the test shapes it is asked for) gives known figures, so the
# ratios, the rounds and the receipt can be checked; a peer that fails,
# prints nothing usable or runs other settings is a one-line error, exit 2.
set -u
T=${TRITCHECK:-./tritcheck}
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

$T gen --preset tiny -o "$d/m.gguf" || fail gen
cat > "$d/peer" <<'PEER'
#!/bin/sh
# run c (the c-th line of its log): prefill samples 10c, 20c, 30c tok/s
# (median 20c), decode 2c, 4c, 6c (median 4c)
mode=${FAKE_PEER_MODE:-ok}
while [ $# -gt 1 ]; do
    case $1 in -m) m=$2 ;; -t) t=$2 ;; -p) p=$2 ;; -n) n=$2 ;; -r) r=$2 ;; -o) o=$2 ;; esac
    shift 2
done
log=${FAKE_PEER_LOG:-/dev/null}
echo "$m $t $p $n $r $o" >> "$log"
c=$(cat "$log" | wc -l); [ $c -ge 1 ] || c=1
[ -f "$m" ] || { echo "llama_model_load: error loading model: failed to open $m" >&2; exit 1; }
[ $mode = garbage ] && { echo "this is not JSON"; exit 0; }
[ $mode = empty ] && { echo "[]"; exit 0; }
[ $mode = threads ] && t=$((t + 1))
s=$((10 * c)); [ $mode = negative ] && s=-10
id='"build_commit": "feedf00d", "build_number": 7, "cpu_info": "Fake <CPU>", "model_type": "bitnet 2 bpw",
    "type_k": "f16", "type_v": "f16", "n_batch": 2048, "n_ubatch": 512'
cat <<JSON
[ { $id, "n_threads": $t, "n_prompt": $p, "n_gen": 0, "samples_ts": [ $s, $((30 * c)), $((20 * c)) ] },
  { $id, "n_threads": $t, "n_prompt": 0, "n_gen": $n, "samples_ts": [ $((6 * c)), $((2 * c)), $((4 * c)) ] } ]
JSON
PEER
chmod +x "$d/peer"

# ---- the table and the receipt ----
FAKE_PEER_LOG=$d/log $T bench "$d/m.gguf" --against "$d/peer" --rounds 3 --threads 1 --prompt-len 8 --gen 4 --repeat 2 \
    > "$d/out" 2> "$d/err" || fail "table: $(cat "$d/err")"
grep -q "^against .*$d/peer (build feedf00d #7, Fake <CPU>; bitnet 2 bpw)" "$d/out" || fail "peer line: $(cat "$d/out")"
grep -q "^prefill tok/s .* 40.00 (20.00-60.00) *x" "$d/out" || fail "prefill row: $(cat "$d/out")"
grep -q "^decode tok/s .* 8.00 (4.00-12.00) *x" "$d/out" || fail "decode row: $(cat "$d/out")"
# the peer ran once a round, with our settings
[ "$(wc -l < "$d/log")" -eq 3 ] || fail "peer runs: $(cat "$d/log")"
[ "$(sort -u "$d/log")" = "$d/m.gguf 1 8 4 2 json" ] || fail "peer arguments: $(cat "$d/log")"

FAKE_PEER_LOG=$d/log2 $T bench "$d/m.gguf" --against "$d/peer" --rounds 2 --threads 1 --prompt-len 8 --gen 4 --repeat 1 --json \
    > "$d/r.json" 2> "$d/err" || fail "json: $(cat "$d/err")"
$T verify "$d/r.json" > "$d/v" || fail "verify: $(cat "$d/v")"
S=${TC_VECTORS:-vectors}/../conformance/receipt.schema.json
/usr/bin/python3 - "$d/r.json" "$d/peer" "$S" <<'PY' || fail "receipt figures"
import json, sys, hashlib, statistics
doc = json.load(open(sys.argv[1]))
try:   # the schema, where python3-jsonschema is installed
    import jsonschema
    jsonschema.validate(doc, json.load(open(sys.argv[3])))
except ImportError:
    pass
a = doc["bench"]["against"]
assert a["rounds"] == 2
assert a["peer"]["sha256"] == hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
assert a["peer"]["build_commit"] == "feedf00d" and a["peer"]["threads"] == 1
# round by round: the peer's second run is its first in round 1 (it goes first there)
assert a["peer_prefill_tok_s"]["rounds"] == [20, 40] and a["peer_decode_tok_s"]["rounds"] == [4, 8], a
for side in ("prefill", "decode"):
    ours, peer = a[side + "_tok_s"]["rounds"], a["peer_" + side + "_tok_s"]["rounds"]
    assert len(ours) == 2 and all(x > 0 for x in ours)
    q = [x / y for x, y in zip(ours, peer)]
    r = a[side + "_ratio"]
    assert abs(r["median"] - statistics.median(q)) < 1e-9 * r["median"], (side, r, q)
    assert abs(r["min"] - min(q)) < 1e-9 * r["min"] and abs(r["max"] - max(q)) < 1e-9 * r["max"], (side, r, q)
PY

# ---- a peer that fails or says nothing usable: one line, exit 2 ----
check_err() {   # $1 what, $2 expected text; the command's stderr in $d/err, status in $rc
    [ $rc -eq 2 ] || fail "$1: exit $rc, want 2"
    [ "$(wc -l < "$d/err")" -eq 1 ] || fail "$1: one line: $(cat "$d/err")"
    grep -q "$2" "$d/err" || fail "$1: message $(cat "$d/err")"
}
for mode in garbage empty threads negative; do
    FAKE_PEER_MODE=$mode $T bench "$d/m.gguf" --against "$d/peer" --rounds 1 --threads 1 --prompt-len 8 --gen 4 \
        --repeat 1 > "$d/out" 2> "$d/err"
    rc=$?
    case $mode in
        garbage) check_err $mode "printed no JSON array of figures" ;;
        empty|negative) check_err $mode "no positive samples_ts for the test with n_prompt 8 (prefill) and n_gen 4" ;;
        threads) check_err $mode "ran 2 threads, not the 1 asked for" ;;
    esac
    [ -s "$d/out" ] && fail "$mode: no table when the peer fails"
done
# the peer cannot load the file: its own last line says why
cp "$d/m.gguf" "$d/gone.gguf"
cat > "$d/peer2" <<'PEER'
#!/bin/sh
echo "llama_model_load: error loading model: unknown model architecture" >&2
exit 1
PEER
chmod +x "$d/peer2"
$T bench "$d/m.gguf" --against "$d/peer2" --rounds 1 --threads 1 --prompt-len 8 --gen 4 --repeat 1 > "$d/out" 2> "$d/err"
rc=$?; check_err "load failure" "exit status 1, no figures: llama_model_load: error loading model: unknown model architecture"
chmod -x "$d/peer2"
$T bench "$d/m.gguf" --against "$d/peer2" --rounds 1 > "$d/out" 2> "$d/err"
rc=$?; check_err "not executable" "expected an executable file"
$T bench "$d/m.gguf" --against "$d" --rounds 1 > "$d/out" 2> "$d/err"
rc=$?; check_err "a directory" "expected an executable file"
$T bench "$d/m.gguf" --against "$d/peer" --rounds 0 > "$d/out" 2> "$d/err"
rc=$?; check_err "rounds" "invalid value '0'"
echo "cli_bench_against: ok"

#!/bin/sh
# diff of bench and accuracy receipts, the benchmark gate: real receipts
# of a tiny model, their figures then edited (diff reads figures, it does
# not check digests) so that each rule meets a case it must judge: a range
# wholly below (regression, exit 1), overlapping (noise), wholly above
# (improvement); an accuracy mean worse by more than twice its standard
# error; the setting listed first; other models or thread counts refused
# (exit 2) unless --force.
set -u
T=${TRITCHECK:-./tritcheck}
PY=/usr/bin/python3
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# edit FILE OUT PYTHON: r is the receipt, as JSON
edit() { $PY - "$1" "$2" "$3" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(r, open(sys.argv[2], "w"), indent=1)
PY
}
gate() {   # OLD NEW [--force]: output in $d/out, status in $rc
    $T diff "$@" > "$d/out" 2> "$d/err"; rc=$?
}

$T gen --preset tiny -o "$d/m.gguf" || fail gen
$T bench "$d/m.gguf" --threads 1 --prompt-len 4 --gen 2 --repeat 3 --json > "$d/b.json" || fail bench

# ---- bench: the range rule ----
gate "$d/b.json" "$d/b.json"
[ $rc -eq 0 ] || fail "same receipt: exit $rc"
grep -q "^prefill tok/s .*within noise (unchanged)" "$d/out" || fail "unchanged: $(cat "$d/out")"
grep -q "^gate: no regression (0 improved, 2 within noise" "$d/out" || fail "verdict: $(cat "$d/out")"

edit "$d/b.json" "$d/slow.json" "
# the new range wholly below the old: max 0.99 x the old min
s = r['bench']['decode_tok_s']; lo = s['min']
s['median'], s['min'], s['max'] = 0.9 * lo, 0.8 * lo, 0.99 * lo"
gate "$d/b.json" "$d/slow.json"
[ $rc -eq 1 ] || fail "slower decode: exit $rc, want 1"
grep -q "^decode tok/s .*REGRESSION (the new range lies wholly below the old)" "$d/out" || fail "slow: $(cat "$d/out")"
grep -q "^prefill tok/s .*within noise" "$d/out" || fail "prefill unchanged: $(cat "$d/out")"
grep -q "^gate: REGRESSION: 1 figure regressed" "$d/out" || fail "slow verdict: $(cat "$d/out")"

edit "$d/b.json" "$d/overlap.json" "
# a lower median, but the ranges overlap: noise, not a regression
s = r['bench']['decode_tok_s']
s['median'], s['min'], s['max'] = s['min'], 0.5 * s['min'], s['min'] * 1.000001"
gate "$d/b.json" "$d/overlap.json"
[ $rc -eq 0 ] || fail "overlap: exit $rc"
grep -q "^decode tok/s .*within noise (the ranges overlap)" "$d/out" || fail "overlap: $(cat "$d/out")"

edit "$d/b.json" "$d/fast.json" "
# the new range wholly above the old: min 1.01 x the old max (set, not scaled:
# a busy or sanitized run's repeats may spread more than any factor)
s = r['bench']['prefill_tok_s']; hi = s['max']
s['median'], s['min'], s['max'] = 1.1 * hi, 1.01 * hi, 1.2 * hi"
gate "$d/b.json" "$d/fast.json"
[ $rc -eq 0 ] || fail "faster: exit $rc"
grep -q "^prefill tok/s .*improvement (the new range lies wholly above the old)" "$d/out" || fail "fast: $(cat "$d/out")"
# the other way round, the same two receipts are a regression
gate "$d/fast.json" "$d/b.json"
[ $rc -eq 1 ] || fail "reverse: exit $rc"

# ratios to a peer are judged the same way
edit "$d/b.json" "$d/p1.json" "r['bench']['against'] = {'prefill_ratio': {'median': 2.0, 'min': 1.9, 'max': 2.1},
                                'decode_ratio': {'median': 1.5, 'min': 1.4, 'max': 1.6}}"
edit "$d/p1.json" "$d/p2.json" "r['bench']['against']['prefill_ratio'] = {'median': 1.5, 'min': 1.45, 'max': 1.8}"
gate "$d/p1.json" "$d/p2.json"
[ $rc -eq 1 ] || fail "peer ratio: exit $rc"
grep -q "^prefill / peer .*REGRESSION" "$d/out" || fail "peer ratio: $(cat "$d/out")"
grep -q "^decode / peer .*within noise" "$d/out" || fail "peer ratio: $(cat "$d/out")"

# ---- the setting first; other threads or models refused unless forced ----
edit "$d/slow.json" "$d/moved.json" "r['host']['cpu_model'] = 'Other CPU'; r['bench']['engine'] = 'fast:scalar'
r['bench']['kernels']['fast.cpu.scalar.i2s_gemm'] = 7"
gate "$d/b.json" "$d/moved.json"
[ $rc -eq 1 ] || fail "moved: exit $rc"
sed -n 1p "$d/out" | grep -q "^setting: engine: fast:.* -> fast:scalar$" || fail "setting first: $(cat "$d/out")"
grep -q "^setting: CPU model: .* -> Other CPU$" "$d/out" || fail "cpu: $(cat "$d/out")"
grep -q "^setting: bench.kernels fast.cpu.scalar.i2s_gemm: 0 -> 7 calls$" "$d/out" || fail "kernels: $(cat "$d/out")"
[ "$(grep -n '^setting' "$d/out" | tail -1 | cut -d: -f1)" -lt "$(grep -n '^decode' "$d/out" | cut -d: -f1)" ] ||
    fail "settings before figures: $(cat "$d/out")"

edit "$d/slow.json" "$d/t2.json" "r['bench']['threads'] = 2"
gate "$d/b.json" "$d/t2.json"
[ $rc -eq 2 ] || fail "threads: exit $rc, want 2"
grep -q "^setting: threads: 1 -> 2  (not comparable)" "$d/out" || fail "threads line: $(cat "$d/out")"
grep -q "not comparable; --force compares them anyway" "$d/err" || fail "threads message: $(cat "$d/err")"
[ "$(wc -l < "$d/err")" -eq 1 ] || fail "one line: $(cat "$d/err")"
grep -q "^decode" "$d/out" && fail "refused, yet judged"
gate "$d/b.json" "$d/t2.json" --force
[ $rc -eq 1 ] || fail "forced: exit $rc, want 1"
grep -q "forced across a setting" "$d/out" || fail "forced verdict: $(cat "$d/out")"
edit "$d/b.json" "$d/m2.json" "r['model']['sha256'] = 'ab' * 32"
gate "$d/b.json" "$d/m2.json"
[ $rc -eq 2 ] || fail "other model: exit $rc"
gate --force "$d/b.json" "$d/m2.json"
[ $rc -eq 0 ] || fail "--force first: exit $rc"
gate "$d/b.json" "$d/m2.json" --bogus
[ $rc -eq 2 ] || fail "unknown option: exit $rc"

# ---- accuracy: a mean worse by more than twice the old standard error ----
$T accuracy "$d/m.gguf" --random 24 --ctx 8 -o "$d/a.json" > /dev/null || fail accuracy
gate "$d/a.json" "$d/a.json"
[ $rc -eq 0 ] || fail "same accuracy: exit $rc"
grep -q "^kl_mean_nats .*within noise (unchanged)" "$d/out" || fail "acc same: $(cat "$d/out")"
sd='
import statistics
def se(v): return statistics.stdev(v) / len(v) ** 0.5
'
edit "$d/a.json" "$d/a_kl.json" "$sd
kl = r['per_position']['kl']; k = 2.5 * se(kl)
r['per_position']['kl'] = [x + k for x in kl]"
gate "$d/a.json" "$d/a_kl.json"
[ $rc -eq 1 ] || fail "kl: exit $rc"
grep -q "^kl_mean_nats .*REGRESSION" "$d/out" || fail "kl: $(cat "$d/out")"
edit "$d/a.json" "$d/a_kl2.json" "$sd
kl = r['per_position']['kl']; k = 1.5 * se(kl)
r['per_position']['kl'] = [x + k for x in kl]"
gate "$d/a.json" "$d/a_kl2.json"
[ $rc -eq 0 ] || fail "kl within: exit $rc"
grep -q "^kl_mean_nats .*within noise" "$d/out" || fail "kl within: $(cat "$d/out")"
edit "$d/a.json" "$d/a_top1.json" "t = r['per_position']['top1_agree']; t[3] = 1 - t[3]
r['per_position']['top1_agree'] = [1] * len(t); r['per_position']['top1_agree'][3] = 0"
edit "$d/a.json" "$d/a_top1_all.json" "r['per_position']['top1_agree'] = [1] * len(r['per_position']['top1_agree'])"
gate "$d/a_top1_all.json" "$d/a_top1.json"
[ $rc -eq 1 ] || fail "top1: exit $rc"
grep -q "^top1_agreement .*REGRESSION" "$d/out" || fail "top1: $(cat "$d/out")"
edit "$d/a.json" "$d/a_nan.json" "r['per_position']['kl'][0] = 'nan'"
gate "$d/a.json" "$d/a_nan.json"
[ $rc -eq 1 ] || fail "nan: exit $rc"
grep -q "^kl_mean_nats .*not finite  REGRESSION" "$d/out" || fail "nan: $(cat "$d/out")"
edit "$d/a.json" "$d/a_in.json" "r['input']['tokens'][0] = (r['input']['tokens'][0] + 1) % 512"
gate "$d/a.json" "$d/a_in.json"
[ $rc -eq 2 ] || fail "other input: exit $rc"
grep -q "^setting: input tokens: (24 items) -> (24 items)  (not comparable)" "$d/out" || fail "input: $(cat "$d/out")"

# ---- kinds do not mix ----
gate "$d/a.json" "$d/b.json"
[ $rc -eq 2 ] || fail "two kinds: exit $rc"
echo "cli_diff_gate: ok"

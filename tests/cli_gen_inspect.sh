#!/bin/sh
# gen and inspect end to end: deterministic files, a valid verdict, and a
# clear one-line error with exit 2 for broken files.
set -u
T=${TRITCHECK:-./tritcheck}
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

$T gen --preset tiny --seed 42 -o "$d/a.gguf" || fail "gen a"
$T gen --preset tiny --seed 42 -o "$d/b.gguf" || fail "gen b"
cmp -s "$d/a.gguf" "$d/b.gguf" || fail "same seed, different bytes"
$T gen --preset tiny --seed 43 -o "$d/c.gguf" || fail "gen c"
cmp -s "$d/a.gguf" "$d/c.gguf" && fail "different seed, same bytes"
ls "$d" | grep -q tmp && fail "temporary left behind"

$T inspect "$d/a.gguf" > "$d/out" || fail "inspect exit"
grep -q '^verdict: valid' "$d/out" || fail "verdict"
grep -q '^tensor types: F32 9 F16 1 I2_S 14' "$d/out" || fail "type counts"
sha=$(sha256sum "$d/a.gguf" | cut -d' ' -f1)
grep -q "^sha256: $sha" "$d/out" || fail "sha256 matches sha256sum"
$T inspect --json "$d/a.gguf" > "$d/json" || fail "inspect --json"
grep -q '"valid":	true' "$d/json" || fail "json valid"
grep -q '"I2_S":	14' "$d/json" || fail "json type counts"

# a truncated file: one line naming the file, exit 2
head -c 20000 "$d/a.gguf" > "$d/trunc.gguf"
$T inspect "$d/trunc.gguf" > /dev/null 2> "$d/err"; rc=$?
[ $rc -eq 2 ] || fail "truncated: exit $rc"
[ "$(wc -l < "$d/err")" -eq 1 ] || fail "truncated: one line"
grep -q "trunc.gguf: tensor '.*' at byte .*runs past the end of the file" "$d/err" || fail "truncated: message $(cat "$d/err")"

# the other architecture names load too
$T gen --preset tiny --arch bitnet-25 -o "$d/e.gguf" || fail "gen bitnet-25"
$T inspect "$d/e.gguf" | grep -q 'bitnet-25' || fail "bitnet-25 model inspects"

# writing into a missing directory: exit 2, nothing created
$T gen --preset tiny -o "$d/missing/x.gguf" 2> "$d/err"; [ $? -eq 2 ] || fail "missing dir exit"
grep -q 'missing/x.gguf' "$d/err" || fail "missing dir named"
echo "cli_gen_inspect: ok"

#!/bin/sh
# CLI basics: help, version, usage errors exit 2 with one line.
set -u
T=${TRITCHECK:-./tritcheck}
fail() { echo "FAIL: $*"; exit 1; }

$T --help | grep -q '^  gen ' || fail "--help lists gen"
$T --version | grep -q '^tritcheck [0-9]' || fail "--version"
$T help inspect | grep -q 'usage: tritcheck inspect' || fail "help inspect"
$T gen --help | grep -q 'usage: tritcheck gen' || fail "gen --help"

$T frobnicate 2>err.$$; rc=$?
[ $rc -eq 2 ] || fail "unknown command exit $rc"
[ "$(wc -l < err.$$)" -eq 1 ] || fail "unknown command: one line"
grep -q "unknown command 'frobnicate'" err.$$ || fail "unknown command names it"

$T gen --preset tiny 2>err.$$; [ $? -eq 2 ] || fail "gen without -o"
grep -q 'missing -o FILE' err.$$ || fail "gen without -o says so"
$T gen --preset nope -o x.$$.gguf 2>err.$$; [ $? -eq 2 ] || fail "bad preset"
grep -q "unknown preset 'nope'" err.$$ || fail "bad preset named"
$T gen --layers abc -o x.$$.gguf 2>err.$$; [ $? -eq 2 ] || fail "bad number"
grep -q "invalid value 'abc'" err.$$ || fail "bad number named"
[ ! -e x.$$.gguf ] || fail "no output after usage errors"
$T inspect 2>/dev/null; [ $? -eq 2 ] || fail "inspect without FILE"
$T gen --bogus -o x.$$.gguf 2>err.$$; [ $? -eq 2 ] || fail "unknown option: exit 2"
grep -q "option '--bogus' is unknown" err.$$ || fail "unknown option named: $(cat err.$$)"
$T compare x.gguf --tol 2>err.$$; [ $? -eq 2 ] || fail "option without value: exit 2"
grep -q "option '--tol' is unknown or needs a value" err.$$ || fail "missing value named"
$T devices >/dev/null || fail "devices"
rm -f err.$$
echo "cli_basics: ok"

#!/bin/sh
# tritcheck bench end to end on a tiny generated model: the table and the
# JSON receipt have every figure, the figures are sane (positive, finite,
# ratios consistent), the kernels named match the ISA asked for, and bad
# options exit 2 with one line.  No time threshold is asserted anywhere.
set -u
T=${TRITCHECK:-./tritcheck}
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

$T gen --preset tiny -o "$d/tiny.gguf" || fail "gen tiny"

# ---- the table ----
$T bench "$d/tiny.gguf" --threads 2 --prompt-len 8 --gen 4 --repeat 2 > "$d/out" 2> "$d/err" || fail "bench: $(cat "$d/err")"
for k in '^engine  *fast:' '^prefill .* tok/s (min .*, max .*)' '^decode .* tok/s' '^bandwidth .* GB/s measured' \
         '^bytes/token ' '^decode floor ' '^paired .* median .* %' '^prefill int8 .* GMAC/s; peak ' \
         '^kernels:' 'i2s_gemv' 'i2s_gemm' 'measured (read of [0-9]* MiB, [0-9]* % in huge pages, 2 threads x [1248] stream'; do
    grep -q "$k" "$d/out" || fail "table lacks '$k': $(cat "$d/out")"
done
# the engine's peak RSS, wherever the kernel lets a process reset its peak
if [ -w /proc/self/clear_refs ]; then
    grep -q '^memory  *peak RSS [0-9]* MB running (model file ' "$d/out" || fail "no memory line: $(cat "$d/out")"
fi
# the bandwidth buffer: more than the caches hold, at least 256 MiB
awk '/^bandwidth/{ sub(/.*read of /, ""); if ($1 + 0 < 256) exit 1 }' "$d/out" || fail "bandwidth buffer: $(grep ^bandwidth "$d/out")"
# figures are positive numbers
awk '/^prefill  /{ if (!($2 > 0)) exit 1 } /^decode  /{ if (!($2 > 0)) exit 1 } /^bandwidth/{ if (!($2 > 0)) exit 1 }' \
    "$d/out" || fail "non-positive figure: $(cat "$d/out")"

# ---- each ISA this CPU runs names its kernels; one it lacks is a clear error ----
for isa in scalar avx2 avx512 amx neon neon_dotprod neon_i8mm; do
    if $T bench "$d/tiny.gguf" --isa $isa --threads 1 --prompt-len 4 --gen 2 --repeat 1 > "$d/o.$isa" 2> "$d/e.$isa"; then
        grep -q "^engine  *fast:$isa, 1 thread" "$d/o.$isa" || fail "$isa: engine line $(head -1 "$d/o.$isa")"
        # the GEMV that decodes: AMX's is AVX-512 VNNI's, I8MM's is DotProd's
        case $isa in avx512|amx) v=avx512vnni ;; neon_i8mm) v=neon_dotprod ;; *) v=$isa ;; esac
        grep -q "fast.cpu.$v.i2s_gemv" "$d/o.$isa" || fail "$isa: kernel names $(cat "$d/o.$isa")"
        case $isa in avx512|amx) grep -q "weight layout *i2s-x16" "$d/o.$isa" || fail "$isa: layout $(cat "$d/o.$isa")" ;; esac
    else
        [ $? -eq 2 ] || fail "$isa: exit status"
        grep -q "cannot run the $isa kernels" "$d/e.$isa" || fail "$isa: message $(cat "$d/e.$isa")"
        [ $isa = scalar ] && fail "scalar must always run"
    fi
done

# ---- JSON: a sealed receipt with the bench section ----
$T bench "$d/tiny.gguf" --engine ref --threads 1 --prompt-len 4 --gen 2 --repeat 3 --json > "$d/json" 2> "$d/err" || fail "json: $(cat "$d/err")"
for k in '"kind":[[:space:]]*"bench"' '"schema":[[:space:]]*"tritcheck.receipt/1"' '"digest"' '"engine":[[:space:]]*"ref"' '"prefill_tok_s"' \
         '"decode_tok_s"' '"median"' '"bandwidth_gb_s"' '"weight_bytes_per_token"' '"floor_tok_s"' \
         '"decode_floor_ratio"' '"prefill_gmac_s"' '"peak_gmac_s"' '"ref.i2s_gemv"' '"sha256"' \
         '"bandwidth_streams"' '"bandwidth_bytes"' '"bandwidth_huge_share"' '"paired"' '"ratio_median"' '"peak_rss_bytes"' '"model_bytes"'; do
    grep -q "$k" "$d/json" || fail "json lacks $k"
done
$T verify "$d/json" > "$d/out" || fail "bench receipt does not verify: $(cat "$d/out")"

# ---- errors: exit 2, one line ----
expect_error() {
    name=$1; shift
    $T bench "$@" > /dev/null 2> "$d/err"; rc=$?
    [ $rc -eq 2 ] || fail "$name: exit $rc"
    [ "$(wc -l < "$d/err")" -eq 1 ] || fail "$name: one line: $(cat "$d/err")"
}
expect_error "no model"
expect_error "missing file" "$d/none.gguf"
expect_error "zero repeats" "$d/tiny.gguf" --repeat 0
expect_error "bad isa" "$d/tiny.gguf" --isa sse9 --prompt-len 2 --gen 1 --repeat 1
expect_error "isa with ref" "$d/tiny.gguf" --engine ref --isa avx2
expect_error "unknown engine" "$d/tiny.gguf" --engine turbo --prompt-len 2 --gen 1 --repeat 1
expect_error "past the context" "$d/tiny.gguf" --prompt-len 500 --gen 100
exit 0

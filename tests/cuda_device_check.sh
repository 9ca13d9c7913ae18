#!/bin/sh
# cuda_device_check.sh -- every CUDA check, in one run on a GPU machine:
# configure --enable-cuda=yes, build, tests/check_cuda, the same under
# compute-sanitizer memcheck and racecheck (TC_CUDA_QUICK=1 shapes), the
# dev/cuda laboratory (validation + benchmarks), and a short table last.
#
# Usage, from the source root (not part of `make check`):
#   tests/cuda_device_check.sh [OUTDIR]        logs go to OUTDIR ($OUT, else /tmp/tc-cuda)
# From the device tool, in one call (configure & co are git-ignored, so
# carry them, or have autoreconf on the machine):
#   run(command="sh tests/cuda_device_check.sh", timeout_s=540,
#       carry=["configure","Makefile.in","aclocal.m4","config.h.in","build-aux"])
# Where configure fails (no GSL/Check/cJSON on the machine), it still builds
# the laboratory straight with nvcc, which validates every kernel against
# the reference kernels and times it.
set -u
OUTDIR=${1:-${OUT:-/tmp/tc-cuda}}
mkdir -p "$OUTDIR"
PATH=/usr/local/cuda/bin:$PATH; export PATH
JOBS=$(nproc 2>/dev/null || echo 4)
SUMMARY=$OUTDIR/summary.txt
: > "$SUMMARY"

# step NAME CMD...: run, log to OUTDIR/NAME.log, one summary line
step() {
    name=$1; shift
    t0=$(date +%s)
    "$@" > "$OUTDIR/$name.log" 2>&1
    rc=$?
    printf '%-22s rc=%-3s %4ss\n' "$name" "$rc" "$(( $(date +%s) - t0 ))" >> "$SUMMARY"
    return $rc
}

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,temperature.gpu,power.draw \
    --format=csv > "$OUTDIR/gpu.txt" 2>&1
nvcc --version | tail -2 >> "$OUTDIR/gpu.txt"

if [ ! -x configure ] && command -v autoreconf > /dev/null; then step autoreconf autoreconf -fi; fi
built=no
if [ -x configure ] && step configure ./configure --enable-cuda=yes && step make make -j"$JOBS" && \
   step build_check_cuda make -j"$JOBS" tests/check_cuda; then
    built=yes
    step check_cuda ./tests/check_cuda
    if command -v compute-sanitizer > /dev/null; then
        step memcheck env TC_CUDA_QUICK=1 compute-sanitizer --tool memcheck --leak-check full --error-exitcode 3 \
            ./tests/check_cuda
        step racecheck env TC_CUDA_QUICK=1 compute-sanitizer --tool racecheck --error-exitcode 3 ./tests/check_cuda
    else
        echo "compute-sanitizer          not found" >> "$SUMMARY"
    fi
    step bench_cuda make bench-cuda
    # the engine: its test (ref comparisons, determinism, graph == eager),
    # the CLI comparison, memcheck on a tiny comparison, and timings on the
    # 2b4t shape (generated here, not carried), graph on and off
    step build_check_cuda_engine make -j"$JOBS" tests/check_cuda_engine
    step check_cuda_engine ./tests/check_cuda_engine
    step gen_models sh -c './tritcheck gen --preset tiny -o /tmp/tc-tiny.gguf &&
        ./tritcheck gen --preset small -o /tmp/tc-small.gguf'
    step compare_cuda ./tritcheck compare /tmp/tc-small.gguf --cand cuda -o "$OUTDIR/compare-small.json"
    if command -v compute-sanitizer > /dev/null; then
        step memcheck_engine compute-sanitizer --tool memcheck --error-exitcode 3 \
            ./tritcheck compare /tmp/tc-tiny.gguf --cand cuda
    fi
    step gen_2b4t ./tritcheck gen --preset 2b4t -o /tmp/tc-2b4t.gguf
    step bench_engine ./tritcheck bench /tmp/tc-2b4t.gguf --engine cuda --prompt-len 512 --gen 128 --repeat 3
    step bench_engine_nograph env TC_CUDA_GRAPH=0 ./tritcheck bench /tmp/tc-2b4t.gguf --engine cuda \
        --prompt-len 16 --gen 128 --repeat 3
else
    # no autotools build: the laboratory alone, compiled straight with nvcc
    mkdir -p "$OUTDIR/obj"
    step lab_build sh -c "
        set -e
        for c in src/status.c src/types.c src/ref/kernels.c; do
            gcc -std=c11 -O2 -ffp-contract=off -Isrc -c \$c -o $OUTDIR/obj/\$(basename \$c .c).o
        done
        nvcc -O2 -gencode arch=compute_90,code=sm_90 -fmad=false -Isrc -c src/fast/cuda/kernels.cu -o $OUTDIR/obj/cuda_kernels.o
        for b in i2s_gemv rmsnorm_q8 f16_gemv attention; do
            nvcc -O2 -gencode arch=compute_90,code=sm_90 -fmad=false -std=c++17 -Isrc -o dev/cuda/\$b dev/cuda/\$b.cu \
                $OUTDIR/obj/*.o -lm
        done"
fi
for b in i2s_gemv rmsnorm_q8 f16_gemv attention; do
    [ -x dev/cuda/$b ] && step "lab_$b" dev/cuda/$b
done

echo "==== GPU";       cat "$OUTDIR/gpu.txt"
if [ $built = yes ]; then
    echo "==== check_cuda"; grep -E '^[0-9]+%|check_cuda:' "$OUTDIR/check_cuda.log" | tail -3
    echo "==== check_cuda_engine"; grep -E '^[0-9]+%|check_cuda_engine:|first failure' "$OUTDIR/check_cuda_engine.log" | tail -8
    for t in compare_cuda bench_engine bench_engine_nograph; do
        [ -f "$OUTDIR/$t.log" ] && { echo "==== $t"; tail -24 "$OUTDIR/$t.log"; }
    done
    for t in memcheck racecheck memcheck_engine; do
        [ -f "$OUTDIR/$t.log" ] && { echo "==== $t"; grep -E 'ERROR SUMMARY|^[0-9]+%' "$OUTDIR/$t.log" | tail -2; }
    done
fi
for b in i2s_gemv rmsnorm_q8 f16_gemv attention; do
    [ -f "$OUTDIR/lab_$b.log" ] && { echo "==== $b"; grep -vE '^\s*$' "$OUTDIR/lab_$b.log" | grep -vE 'ok \(0/' | tail -16; }
done
echo "==== steps (logs in $OUTDIR)"; cat "$SUMMARY"
! grep -qE 'rc=[1-9]' "$SUMMARY"

#!/bin/sh
# submit.sh -- run a tritcheck job as N shards on Slurm: a job array of N
# tasks (each --shard I/N) and a merge job that starts when every task
# succeeded (--dependency=afterok).  Prints the two job ids.
#
#   contrib/slurm/submit.sh -n N -o OUTDIR [-- SBATCH-OPTIONS --] tritcheck-args...
#
#   contrib/slurm/submit.sh -n 8 -o /shared/acc -- --cpus-per-task=4 -- \
#       accuracy /shared/2b4t.gguf --corpus /shared/wiki.txt --ctx 1024 --threads 4
#
# TRITCHECK (an absolute path) names the binary the tasks and the merge run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
n=""
out=""
while getopts n:o: opt; do
    case $opt in
    n) n=$OPTARG ;;
    o) out=$OPTARG ;;
    *) echo "usage: $0 -n N -o OUTDIR [-- SBATCH-OPTIONS --] tritcheck-args..." >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ -n "$n" ] && [ -n "$out" ] && [ $# -ge 1 ] || { echo "usage: $0 -n N -o OUTDIR [-- SBATCH-OPTIONS --] tritcheck-args..." >&2; exit 2; }
case $n in ''|*[!0-9]*|0) echo "$0: -n N: expected a count of shards >= 1" >&2; exit 2 ;; esac
# sbatch options for the array's tasks, between a pair of --
sbopts=""
if [ "$1" = "--" ]; then
    shift
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do sbopts="$sbopts $1"; shift; done
    [ $# -gt 0 ] || { echo "$0: the sbatch options need a closing --" >&2; exit 2; }
    shift
fi
mkdir -p "$out"
# shellcheck disable=SC2086
array=$(sbatch --parsable $sbopts --array=0-$((n - 1)) --output="$out/shard-%a.log" \
    "$here/tritcheck-shard.sbatch" "$out" "$@")
array=${array%%;*}
merge=$(sbatch --parsable --dependency=afterok:"$array" --kill-on-invalid-dep=yes --output="$out/merge.log" \
    "$here/tritcheck-merge.sbatch" "$out")
merge=${merge%%;*}
echo "array $array ($n shards), merge $merge: $out"

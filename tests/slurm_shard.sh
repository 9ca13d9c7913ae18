#!/bin/sh
# A real Slurm: a single-node cluster on localhost (Debian's slurm-wlm and
# munge), configured in a temporary directory and started by this test,
# stopped afterwards whatever happens.  contrib/slurm/submit.sh runs a
# 4-task accuracy array and the merge job that depends on it; the merged
# receipt must equal the unsharded run's.  Skips (77) where Slurm or munge
# is not installed, or the daemons cannot start as this user.
set -u
T=${TRITCHECK:-./tritcheck}
S=${TC_SRCDIR:-.}
case $T in /*) ;; *) T=$(pwd)/$T ;; esac
skip() { echo "slurm_shard: skipped: $*"; exit 77; }
for p in munged mungekey slurmctld slurmd sbatch squeue scontrol sinfo python3; do
    command -v $p > /dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v $p > /dev/null 2>&1 ||
        skip "$p not installed (apt-get install slurm-wlm munge)"
done
PATH=$PATH:/usr/sbin:/sbin
d=$(mktemp -d "${TMPDIR:-/tmp}/tc-slurm.XXXXXX") || exit 99
chmod 755 "$d"

# ---- stop what this test started, whatever happens ----
stop() {
    # the jobs first (ours is the only user of this private cluster), so that
    # no task outlives its slurmd
    if [ -s "$d/slurmctld.pid" ] && kill -0 "$(cat "$d/slurmctld.pid")" 2> /dev/null; then
        scancel --user="$(id -un)" 2> /dev/null
        i=0
        while [ -n "$(squeue -h 2> /dev/null)" ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
    fi
    for f in slurmd.pid slurmctld.pid munge/munged.pid; do
        [ -s "$d/$f" ] || continue
        pid=$(cat "$d/$f")
        kill "$pid" 2> /dev/null
        # wait up to 10 s for it to go, then insist
        i=0
        while kill -0 "$pid" 2> /dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$pid" 2> /dev/null
    done
}
cleanup() { stop; rm -rf "$d"; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() {
    echo "FAIL: $*"
    for f in "$d"/log/*.log "$d"/run/shards/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -5 "$f"; }; done
    exit 1
}

# ---- munge: a key and a daemon of our own, on our own socket ----
mkdir -p "$d/munge" "$d/state" "$d/spool" "$d/log" "$d/run" || exit 99
chmod 700 "$d/munge"
mungekey -c -k "$d/munge/munge.key" > /dev/null 2>&1 || skip "mungekey cannot make a key"
munged --force --key-file="$d/munge/munge.key" --socket="$d/munge/sock" --pid-file="$d/munge/munged.pid" \
    --seed-file="$d/munge/seed" --log-file="$d/log/munged.log" > /dev/null 2>&1 || skip "munged cannot start as $(id -un)"
i=0
until munge -S "$d/munge/sock" -n 2> /dev/null | unmunge -S "$d/munge/sock" > /dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 50 ] || skip "munged does not answer"; sleep 0.1
done

# ---- slurm.conf: this host as controller and its only node, free ports ----
ports=$(python3 -c 'import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))') || exit 99
set -- $ports
host=$(hostname -s 2> /dev/null || hostname)
user=$(id -un)
cat > "$d/slurm.conf" <<EOF
ClusterName=tctest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$1
SlurmdPort=$2
AuthType=auth/munge
AuthInfo=socket=$d/munge/sock
CredType=cred/munge
SlurmUser=$user
SlurmdUser=$user
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=600
InactiveLimit=0
KillWait=5
NodeName=tcnode NodeHostname=$host NodeAddr=127.0.0.1 CPUs=4 RealMemory=2000 State=UNKNOWN
PartitionName=tc Nodes=tcnode Default=YES MaxTime=30 State=UP
EOF
SLURM_CONF=$d/slurm.conf
export SLURM_CONF
slurmctld -f "$d/slurm.conf" > "$d/log/slurmctld.out" 2>&1 || skip "slurmctld cannot start as $user"
slurmd -f "$d/slurm.conf" -N tcnode > "$d/log/slurmd.out" 2>&1 || skip "slurmd cannot start as $user"
i=0
until [ "$(sinfo -h -o %t -n tcnode 2> /dev/null)" = idle ]; do
    i=$((i + 1))
    [ $i -lt 150 ] || { tail -5 "$d/log/slurmctld.log" "$d/log/slurmd.log" 2> /dev/null; skip "the node does not come up as $user"; }
    sleep 0.2
done

# ---- the job: accuracy over 6 chunks, as 4 shards and whole ----
"$T" gen --preset tiny --seed 9 -o "$d/run/m.gguf" > /dev/null || fail gen
set -- accuracy "$d/run/m.gguf" --random 44 --ctx 8 --seed 7
"$T" "$@" -o "$d/run/whole.json" > /dev/null || fail "the unsharded run"
jobs=$(TRITCHECK=$T sh "$S/contrib/slurm/submit.sh" -n 4 -o "$d/run/shards" "$@") || fail "submit: $jobs"
echo "$jobs"
array=$(echo "$jobs" | sed -n 's/^array \([0-9]*\) .*/\1/p')
merge=$(echo "$jobs" | sed -n 's/.* merge \([0-9]*\):.*/\1/p')
[ -n "$array" ] && [ -n "$merge" ] || fail "job ids in '$jobs'"
scontrol show job "$merge" | grep -q "Dependency=afterok:${array}_\*" || fail "the merge does not depend on the array"
# wait, at most 180 s, for the merge job to end
state=""
i=0
while [ $i -lt 900 ]; do
    state=$(scontrol show job "$merge" 2> /dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
    case $state in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) break ;; esac
    sleep 0.2
    i=$((i + 1))
done
[ "$state" = COMPLETED ] || fail "merge job $merge: ${state:-gone} ($(cat "$d/run/shards/merge.log" 2> /dev/null))"
n=$(scontrol show job "$array" 2> /dev/null | grep -c 'JobState=COMPLETED')
[ "$n" -eq 4 ] || fail "$n of 4 array tasks completed"
for k in 0 1 2 3; do
    grep -q "^shard $k/4: exit 0" "$d/run/shards/shard-$k.log" || fail "task $k: $(cat "$d/run/shards/shard-$k.log")"
done
grep -q '^VALID: schema, digest, .*consistency' "$d/run/shards/merge.log" || fail "the merged receipt verifies"

# ---- the merged receipt equals the unsharded one: every figure, bit for
# bit; only the time stamps, timings and the shard list differ ----
python3 - "$d/run/whole.json" "$d/run/shards/merged.json" <<'PYEOF' || fail "merged and unsharded receipts differ"
import json, sys
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items()
                if k not in ("created", "digest", "signature", "timings", "seconds", "shard", "merged")}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert [s["index"] for s in b["merged"]["shards"]] == [0, 1, 2, 3], b["merged"]["shards"]
assert b["merged"]["units"] == 6 and b["merged"]["unit"] == "chunk"
if strip(a) != strip(b):
    for k in sorted(set(a) | set(b)):
        if strip(a.get(k)) != strip(b.get(k)): print("differ:", k)
    sys.exit(1)
h = {x["metric"]: x["value"] for x in b["headline"]}
print("merged = unsharded: %d positions, kl_mean_nats %r, perplexity_ratio %r" %
      (len(b["per_position"]["kl"]), h["kl_mean_nats"], h["perplexity_ratio"]))
PYEOF
"$T" verify "$d/run/shards/merged.json" --model "$d/run/m.gguf" --rerun --shard 2 > "$d/out" || fail "rerun shard 2: $(cat "$d/out")"
echo "slurm_shard: ok"

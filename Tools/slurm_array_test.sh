#!/usr/bin/env bash
# Proves `vidclass label --shard` on a real scheduler: brings up a single-node Slurm from Debian's
# packages (slurm-wlm, munge) on localhost, submits `vidclass label --shard $SLURM_ARRAY_TASK_ID/N`
# as a job array over a generated directory, waits, merges, and checks that every file was
# labelled exactly once. Needs root (it installs packages and starts munged, slurmctld, slurmd).
#   bash Tools/slurm_array_test.sh [N_SHARDS] [COPIES]
# Exit status: 0 pass, 1 a file was lost or labelled twice, 3 Slurm could not be started here.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARDS="${1:-3}"
COPIES="${2:-10}"
WORK="$(mktemp -d /tmp/vidclass-slurm.XXXXXX)"
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq slurm-wlm munge >/dev/null
fi

# munge: a key and the daemon.
mkdir -p /etc/munge /var/run/munge /var/lib/munge /var/log/munge
[ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
chown -R munge:munge /etc/munge /var/run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
chmod 400 /etc/munge/munge.key
pgrep -x munged >/dev/null || sudo -u munge munged 2>/dev/null || munged --force

# Slurm: one node (this machine), one partition.
HOST="$(hostname -s)"
CPUS="$(nproc)"
MEM="$(awk '/MemTotal/ {print int($2/1024) - 512}' /proc/meminfo)"
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=vidclass
SlurmctldHost=$HOST
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmctldPidFile=/var/run/slurmctld.pid
SlurmdPidFile=/var/run/slurmd.pid
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=/var/spool/slurmctld
SlurmUser=root
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=local Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
pkill -x slurmctld 2>/dev/null || true
pkill -x slurmd 2>/dev/null || true
sleep 1
slurmctld -c
slurmd -c
up=""
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -qE "idle|mix" && { up=1; break; }; sleep 1; done
sinfo || true
if [ -z "$up" ]; then
  echo "slurm array test: Slurm did not come up on this machine (see /var/log/slurm); not run" >&2
  exit 3
fi

# The job: a generated directory, an array of label shards, then a merge.
swift build -c release --static-swift-stdlib --product vidclass --package-path "$ROOT" >&2
BIN="$(swift build -c release --static-swift-stdlib --show-bin-path --package-path "$ROOT")/vidclass"
MODEL="$ROOT/Fixtures/pytorch/tiny_lstm_rgb.safetensors"
mkdir -p "$WORK/videos"
for i in $(seq -w 1 "$COPIES"); do
  for f in "$ROOT"/Fixtures/videos/*; do cp "$f" "$WORK/videos/${i}_$(basename "$f")"; done
done
printf 'not a video' > "$WORK/videos/broken.mp4"
TOTAL=$(find "$WORK/videos" -type f | wc -l)
JOB=$(sbatch --parsable --array=0-$((SHARDS - 1)) --cpus-per-task=1 --output="$WORK/slurm-%A_%a.log" \
  --wrap "$BIN label $WORK/videos --model $MODEL --jobs 1 --shard \$SLURM_ARRAY_TASK_ID/$SHARDS -o $WORK/labels-\$SLURM_ARRAY_TASK_ID.jsonl; true")
echo "submitted array job $JOB ($SHARDS tasks over $TOTAL files)"
for _ in $(seq 300); do [ -z "$(squeue -h -j "$JOB" 2>/dev/null)" ] && break; sleep 1; done
"$BIN" merge -o "$WORK/labels.jsonl" "$WORK"/labels-*.jsonl
MERGED=$(wc -l < "$WORK/labels.jsonl")
UNIQUE=$(python3 -c "import json,sys; print(len({json.loads(l)['path'] for l in open(sys.argv[1])}))" "$WORK/labels.jsonl")
echo "files: $TOTAL, records: $MERGED, distinct paths: $UNIQUE"
if [ "$MERGED" -eq "$TOTAL" ] && [ "$UNIQUE" -eq "$TOTAL" ]; then
  echo "slurm array test: PASS (every file labelled exactly once across $SHARDS array tasks)"
else
  for log in "$WORK"/slurm-*.log; do echo "== $log"; cat "$log"; done
  echo "slurm array test: FAIL"; exit 1
fi

#!/usr/bin/env bash
# Kills `vidclass label --resume` at random moments (SIGKILL or SIGTERM, alternating at random)
# KILLS times over one directory, lets a last run finish, and checks that every file was recorded
# exactly once and that every line of the output parses.
#   bash Tools/kill_test.sh [KILLS=100] [COPIES=40] [SEED=1]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
KILLS="${1:-100}"
COPIES="${2:-40}"
SEED="${3:-1}"
WORK="$(mktemp -d /tmp/vidclass-kills.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"
swift build -c release --static-swift-stdlib --product vidclass >&2
BIN="$(swift build -c release --static-swift-stdlib --show-bin-path)/vidclass"
MODEL="$ROOT/Fixtures/pytorch/tiny_lstm_rgb.safetensors"
mkdir -p "$WORK/in"
n=0
for i in $(seq 1 "$COPIES"); do
  for f in Fixtures/videos/* Fixtures/synthetic/*/*.mp4 Fixtures/synthetic/*/*.webm Fixtures/synthetic/*/*.avi; do
    [ -f "$f" ] || continue
    cp "$f" "$WORK/in/$i-$(basename "$f")"; n=$((n + 1))
  done
done
echo "kill test: $n files, $KILLS kills"
RANDOM="$SEED"
completed=0
for k in $(seq 1 "$KILLS"); do
  "$BIN" label "$WORK/in" -o "$WORK/out.jsonl" --model "$MODEL" --resume --jobs 2 >/dev/null 2>&1 &
  pid=$!
  # 20 to 1500 ms: start-up, model loading, mid-batch, mid-write.
  sleep "$(printf '0.%03d' $((RANDOM % 980 + 20)))"
  if [ $((RANDOM % 2)) -eq 0 ]; then kill -KILL "$pid" 2>/dev/null || true; else kill -TERM "$pid" 2>/dev/null || true; fi
  status=0; wait "$pid" || status=$?
  [ "$status" -le 1 ] && completed=$((completed + 1))  # it had already finished
  # Every line parses after every kill (no torn or garbled records survive a kill).
  python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]" "$WORK/out.jsonl" 2>/dev/null || [ ! -s "$WORK/out.jsonl" ] || { echo "FAIL: unparseable output after kill $k"; exit 1; }
  # Once everything is recorded, start over so that kills keep landing mid-run.
  if [ "$(wc -l < "$WORK/out.jsonl" 2>/dev/null || echo 0)" -ge "$n" ]; then mv "$WORK/out.jsonl" "$WORK/done-$k.jsonl"; fi
done
"$BIN" label "$WORK/in" -o "$WORK/out.jsonl" --model "$MODEL" --resume --jobs 2 >/dev/null 2>&1 || true
python3 - "$WORK" "$n" <<'PY'
import json, sys, glob, collections
work, n = sys.argv[1], int(sys.argv[2])
outputs = sorted(glob.glob(work + "/done-*.jsonl")) + [work + "/out.jsonl"]
bad = 0
for out in outputs:
    paths = collections.Counter(json.loads(l)["path"] for l in open(out))
    if len(paths) != n or any(c != 1 for c in paths.values()):
        bad += 1
        print(f"FAIL: {out}: {len(paths)} of {n} files, {sum(c > 1 for c in paths.values())} recorded more than once")
print(f"{len(outputs)} complete outputs checked")
sys.exit(1 if bad else 0)
PY
echo "PASS: $KILLS kills (SIGKILL/SIGTERM at random moments), every file recorded exactly once, every line parses"

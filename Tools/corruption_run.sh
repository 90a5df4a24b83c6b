#!/usr/bin/env bash
# Hardening run: writes N damaged inputs (seeded; see Sources/VidclassTestSupport/CorruptionCorpus.swift)
# and puts every one through `vidclass probe`, `vidclass classify` and `vidclass label`, then checks:
# no crash (no process killed by a signal), no hang (every command finishes within its watchdog),
# every input recorded exactly once by `label` with status ok/error/timeout, every error line
# naming its file, and peak memory (RSS) of each command below a bound.
#   bash Tools/corruption_run.sh [N=10000] [SEED=1] [RSS_LIMIT_MB=600]
# Exit status 0 when everything holds; 1 otherwise (the failing inputs are listed).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
N="${1:-10000}"
SEED="${2:-1}"
RSS_LIMIT_MB="${3:-600}"
WORK="$(mktemp -d /tmp/vidclass-corruption.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"
swift build -c release --static-swift-stdlib --product vidclass >&2
swift build -c release --static-swift-stdlib --product vidclass-corpus >&2
BIN="$(swift build -c release --static-swift-stdlib --show-bin-path)"
"$BIN/vidclass-corpus" "$WORK/inputs" --count "$N" --seed "$SEED"
failed=0
fail() { echo "FAIL: $*"; failed=1; }

# Runs a command under a watchdog and /usr/bin/time; checks the exit status is 0 or 1 (not a
# signal, not a hang) and the peak RSS.
checked() {
  local name="$1"; shift
  local status=0
  /usr/bin/time -f "%M" -o "$WORK/rss" timeout --signal=KILL 1800 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || status=$?
  local rss_kb; rss_kb="$(tail -1 "$WORK/rss" | tr -dc 0-9)"
  if [ "$status" -gt 1 ]; then fail "$name exited with status $status (128+n is signal n; 137 is the watchdog)"; tail -5 "$WORK/$name.err"; fi
  if [ -n "$rss_kb" ] && [ "$rss_kb" -gt $((RSS_LIMIT_MB * 1024)) ]; then fail "$name peak RSS $((rss_kb / 1024)) MB > $RSS_LIMIT_MB MB"; fi
  echo "$name: exit $status, peak RSS $(( ${rss_kb:-0} / 1024 )) MB"
}

ls "$WORK/inputs" | sed "s|^|$WORK/inputs/|" > "$WORK/all.txt"
# label: all inputs in one process (listed, so that wrong extensions are not skipped), each with a 20 s timeout.
checked label "$BIN/vidclass" label --files-from "$WORK/all.txt" -o "$WORK/labels.jsonl" --timeout 20 --jobs 2
python3 - "$WORK/inputs" "$WORK/labels.jsonl" <<'PY' || failed=1
import json, os, sys, collections
inputs, out = sys.argv[1], sys.argv[2]
files = {os.path.join(inputs, f) for f in os.listdir(inputs) if not f.startswith('.')}
records = [json.loads(l) for l in open(out)]
paths = collections.Counter(os.path.abspath(r["path"]) for r in records)
missing = [f for f in files if paths[os.path.abspath(f)] == 0]
twice = [p for p, c in paths.items() if c > 1]
statuses = collections.Counter(r["status"] for r in records)
print(f"label: {len(files)} inputs, {len(records)} records, statuses {dict(statuses)}")
bad = [r for r in records if r["status"] != "ok" and not r.get("error")]
if missing or twice or bad:
    print(f"FAIL: {len(missing)} missing, {len(twice)} recorded twice, {len(bad)} errors without a message", missing[:5], twice[:5])
    sys.exit(1)
PY
split -l 500 "$WORK/all.txt" "$WORK/batch."
for batch in "$WORK"/batch.*; do
  mapfile -t files < "$batch"
  checked "probe-$(basename "$batch")" "$BIN/vidclass" probe --format json "${files[@]}"
  checked "classify-$(basename "$batch")" "$BIN/vidclass" classify --format json --top 1 "${files[@]}"
done
# Every classify error line names its file.
cat "$WORK"/classify-batch.*.err | grep -v "^vidclass: /" | grep -q . && { fail "classify error lines without a file name:"; cat "$WORK"/classify-batch.*.err | grep -v "^vidclass: /" | head -5; } || true
[ "$failed" = 0 ] && echo "PASS: $N damaged inputs (seed $SEED): no crash, no hang, every input recorded once, RSS within $RSS_LIMIT_MB MB"
exit "$failed"

#!/usr/bin/env bash
# Time `vidclass report` on 1,000 labelled files (the bar: under a minute on the 2-core machine).
# The 300 surveillance-fight clips are copied four times under other names (1,200 files, the first
# 1,000 kept), labelled with the embedded model, and the report of the label output is timed
# with thumbnails (16 frames per file decoded, nothing else).
#   bash Tools/bench_report.sh [path/to/vidclass] [N]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${1:-}"
N="${2:-1000}"
if [ -z "$BIN" ]; then
  (cd "$ROOT" && swift build -c release --product vidclass >&2)
  BIN="$(cd "$ROOT" && swift build -c release --show-bin-path)/vidclass"
fi
FIGHT="$ROOT/../shared/data/surveillance-fight"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/clips"
n=0
for copy in 1 2 3 4; do
  for f in "$FIGHT"/fight/*.mp4 "$FIGHT"/noFight/*.mp4; do
    [ "$n" -ge "$N" ] && break 2
    cp "$f" "$WORK/clips/${copy}_$(basename "$f")"; n=$((n + 1))
  done
done
"$BIN" label "$WORK/clips" -o "$WORK/labels.jsonl" 2>/dev/null
echo "files: $(grep -c . "$WORK/labels.jsonl"); cores: $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for run in 1 2 3; do
  rm -rf "$WORK/report"
  /usr/bin/time -f "report run $run: %e s wall, %M KB peak" "$BIN" report "$WORK/labels.jsonl" -o "$WORK/report" >/dev/null
done
echo "report size: $(du -sh "$WORK/report" | cut -f1) ($(ls "$WORK/report/t" | wc -l) strips)"

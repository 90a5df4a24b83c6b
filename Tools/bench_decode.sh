#!/usr/bin/env bash
# The decoding benchmark, ours and the peers' in one run, same videos, same protocol (2 threads,
# 1 warm-up + 5 timed runs, median and range, file open included), then the ratio table:
#   bash ../shared/bench/setup.sh          # once: peers' venv and the test videos
#   bash Tools/make_long_video.sh          # once: the one-hour 1080p file for the memory row
#   bash Tools/bench_decode.sh             # prints the markdown table for BENCHMARKS.md
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="${BENCH_DIR:-$ROOT/../shared/bench}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/vidclass-bench"
export BENCH_VIDEOS="${BENCH_VIDEOS:-$CACHE/videos}"
export BENCH_RESULTS="${BENCH_RESULTS:-$CACHE/results-vidclass}"
export BENCH_THREADS=2 OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
PY="${BENCH_VENV:-$CACHE/venv}/bin/python"
mkdir -p "$BENCH_RESULTS"
cd "$ROOT"
swift build -c release --static-swift-stdlib --product vidclass >&2
BIN="$(swift build -c release --static-swift-stdlib --show-bin-path)/vidclass"
LONG="$BENCH_VIDEOS/long_1080p_360x10s.mp4"
MEM=(); [ -f "$LONG" ] && MEM=(--memory-file "$LONG")
"$BIN" bench decode --threads 2 --repetitions 5 --json "$BENCH_RESULTS/vidclass_decode.json" "${MEM[@]}"
LONG10="$BENCH_VIDEOS/long_1080p_60x10s.mp4"
[ -f "$LONG10" ] && "$BIN" bench decode --videos a --tasks s16 --repetitions 1 --memory-file "$LONG10" \
  --json "$BENCH_RESULTS/vidclass_decode_10min.json"
(cd "$BENCH" && "$PY" bench_decode.py)
"$PY" "$ROOT/Tools/bench_report.py" decode "$BENCH_RESULTS"

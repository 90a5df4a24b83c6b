#!/usr/bin/env bash
# Peak memory of a long timeline: a 3-minute and a 30-minute 320x240 video (made with the ffmpeg
# CLI, outside the repository), `classify --timeline --window 2s --stride 0.1s`, release build,
# peak RSS from /usr/bin/time. The bar: the 30-minute peak within 20 % of the 3-minute one.
#   bash Tools/bench_timeline_memory.sh [BINARY]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${1:-}"
if [ -z "$BIN" ]; then
  (cd "$ROOT" && swift build -c release --static-swift-stdlib --product vidclass >&2)
  BIN="$(cd "$ROOT" && swift build -c release --static-swift-stdlib --show-bin-path)/vidclass"
fi
DIR="${XDG_CACHE_HOME:-$HOME/.cache}/vidclass-bench/long"
mkdir -p "$DIR"
for minutes in 3 30; do
  [ -f "$DIR/v$minutes.mp4" ] || ffmpeg -loglevel error -f lavfi -i "testsrc2=size=320x240:rate=30,format=yuv420p" \
    -t $((minutes * 60)) -c:v libx264 -preset ultrafast -g 60 "$DIR/v$minutes.mp4"
  /usr/bin/time -f "$minutes minutes: %e s, peak RSS %M KB" "$BIN" classify "$DIR/v$minutes.mp4" --timeline \
    --window 2s --stride 0.1s --format csv 2>&1 >/dev/null | grep minutes
done

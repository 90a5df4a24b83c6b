#!/usr/bin/env bash
# Long files for the memory benchmarks: a peer harness clip stream-copied end to end N times, no
# re-encoding. Default: the 10-second 1080p clip (video b) 360 times = one hour, about 3.9 GB.
#   bash Tools/make_long_video.sh [N] [OUT] [SOURCE]     (SOURCE: b_1920x1080_h264.mp4, a_640x360_h264.mp4, ...)
set -euo pipefail
N="${1:-360}"
VIDEOS="${BENCH_VIDEOS:-${XDG_CACHE_HOME:-$HOME/.cache}/vidclass-bench/videos}"
SOURCE="${3:-b_1920x1080_h264.mp4}"
case "$SOURCE" in a_*) TAG=360p ;; *) TAG=1080p ;; esac
OUT="${2:-$VIDEOS/long_${TAG}_${N}x10s.mp4}"
LIST="$(mktemp)"
for _ in $(seq "$N"); do echo "file '$VIDEOS/$SOURCE'" >> "$LIST"; done
ffmpeg -nostdin -hide_banner -loglevel error -y -f concat -safe 0 -i "$LIST" -c copy "$OUT"
rm -f "$LIST"
ls -la "$OUT"

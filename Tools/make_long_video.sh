#!/usr/bin/env bash
# A long 1080p H.264 file for the memory benchmark: the peer harness's 10-second 1080p clip
# (video b) stream-copied end to end N times (default 360 = one hour, about 3.9 GB), no re-encoding.
#   bash Tools/make_long_video.sh [N] [OUT]
set -euo pipefail
N="${1:-360}"
VIDEOS="${BENCH_VIDEOS:-${XDG_CACHE_HOME:-$HOME/.cache}/vidclass-bench/videos}"
OUT="${2:-$VIDEOS/long_1080p_${N}x10s.mp4}"
LIST="$(mktemp)"
for _ in $(seq "$N"); do echo "file '$VIDEOS/b_1920x1080_h264.mp4'" >> "$LIST"; done
ffmpeg -nostdin -hide_banner -loglevel error -y -f concat -safe 0 -i "$LIST" -c copy "$OUT"
rm -f "$LIST"
ls -la "$OUT"

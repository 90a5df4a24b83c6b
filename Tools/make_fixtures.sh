#!/usr/bin/env bash
# Makes the small video fixtures in Fixtures/videos/ with the ffmpeg CLI (Debian 12's 5.1) and
# records what ffmpeg outputs for each in Fixtures/videos.framemd5.tsv (the frame-exactness
# test compares our decoder with it). Run by hand; CI uses the committed files:
#   bash Tools/make_fixtures.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/Fixtures/videos"
mkdir -p "$OUT"
src() { echo "testsrc2=size=$1:rate=$2,noise=alls=8:allf=t+u"; }
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

# H.264 High, B-frames (3, pyramid), long GOP: keyframes every 30 frames, no scenecut. 90 frames.
ff -f lavfi -i "$(src 160x120 30)" -t 3 -c:v libx264 -preset medium -bf 3 -g 30 -x264-params scenecut=0 -pix_fmt yuv420p "$OUT/h264_bframes_gop30.mp4"
# The same picture with AAC audio.
ff -f lavfi -i "$(src 160x120 25)" -f lavfi -i "sine=frequency=440:sample_rate=22050" -t 1 -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 32k -shortest "$OUT/h264_with_audio.mp4"
# VP9 in WebM, odd size 161x121.
ff -f lavfi -i "$(src 160x120 24),scale=161:121" -t 1 -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 200k -pix_fmt yuv420p "$OUT/vp9_odd_161x121.webm"
# MPEG-4 Part 2 with B-frames in AVI.
ff -f lavfi -i "$(src 128x96 25)" -t 1 -c:v mpeg4 -bf 2 -q:v 5 "$OUT/mpeg4_bframes.avi"
# MJPEG in AVI.
ff -f lavfi -i "$(src 128x96 15)" -t 1 -c:v mjpeg -q:v 5 -pix_fmt yuvj420p "$OUT/mjpeg.avi"
# Rotation: a display matrix (phone portrait video), coded 160x96; the tag is set on a remux.
ff -f lavfi -i "$(src 160x96 15)" -t 1 -c:v libx264 -preset veryfast -pix_fmt yuv420p "$OUT/rotate_tmp.mp4"
ff -i "$OUT/rotate_tmp.mp4" -c copy -metadata:s:v:0 rotate=90 "$OUT/h264_rotate90.mp4"
rm "$OUT/rotate_tmp.mp4"
# Variable frame rate: 20 frames, timestamps 0,2,4,...,18 then 19..28 (ticks of 1/30 s), in MKV.
ff -f lavfi -i "$(src 128x96 30)" -frames:v 20 -vf "setpts='if(lt(N,10),2*N,N+9)/(30*TB)'" -fps_mode passthrough -c:v libx264 -preset veryfast -bf 0 -pix_fmt yuv420p "$OUT/h264_vfr.mkv"
# 10-bit H.264 (High 10).
ff -f lavfi -i "$(src 128x96 25)" -t 1 -c:v libx264 -preset veryfast -pix_fmt yuv420p10le "$OUT/h264_10bit.mp4"

printf '# file\tframes\tmd5 of each frame (RGB24, native size, ffmpeg 5.1 %s)\n' "$(ffmpeg -version | head -1 | cut -d' ' -f3)" > "$ROOT/Fixtures/videos.framemd5.tsv"
for f in "$OUT"/*; do
  name=$(basename "$f")
  out=$(ffmpeg -nostdin -v error -i "$f" -an -vsync passthrough -f framemd5 -pix_fmt rgb24 -)
  hashes=$(printf '%s\n' "$out" | grep -v '^#' | awk -F', *' 'NF>=6 {print $6}' | paste -sd, -)
  n=$(printf '%s\n' "$out" | grep -v '^#' | awk -F', *' 'NF>=6' | wc -l)
  printf 'videos/%s\t%s\t%s\n' "$name" "$n" "$hashes" >> "$ROOT/Fixtures/videos.framemd5.tsv"
done
ls -la "$OUT"

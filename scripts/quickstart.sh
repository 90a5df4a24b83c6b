#!/usr/bin/env bash
# The main job on a bundled sample: installs what is missing, builds vidclass (release), shows
# the sample's metadata and writes the contact sheet of the 16 frames a classifier would see.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product vidclass >&2
BIN="$(swift build -c release --show-bin-path)/vidclass"
SAMPLE="Fixtures/videos/h264_bframes_gop30.mp4"
"$BIN" probe "$SAMPLE"
echo
"$BIN" frames "$SAMPLE" --sample uniform:16 --size 112 --output sheet.png

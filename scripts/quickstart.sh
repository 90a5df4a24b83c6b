#!/usr/bin/env bash
# The main job on a bundled sample: installs what is missing, builds vidclass (release), and
# classifies a bundled clip with the default model embedded in the binary; then shows the clip's
# metadata and writes the contact sheet of the frames the model saw (seen.png).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --static-swift-stdlib --product vidclass >&2
BIN="$(swift build -c release --static-swift-stdlib --show-bin-path)/vidclass"
SAMPLE="$(ls Fixtures/synthetic/move_right/* | head -1)"
"$BIN" classify "$SAMPLE" --top 3 --explain --explain-sheet seen.png
echo
"$BIN" probe "$SAMPLE"

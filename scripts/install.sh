#!/usr/bin/env bash
# Builds vidclass (release, static Swift runtime) and installs the one executable into PREFIX/bin
# (default /usr/local). The default model is linked into the binary: nothing else is installed,
# and the copy runs from anywhere. Needs FFmpeg's shared libraries at run time (libavformat59 etc.,
# installed with the -dev packages by scripts/install-deps.sh).
#   bash scripts/install.sh            # /usr/local/bin/vidclass
#   bash scripts/install.sh ~/.local   # ~/.local/bin/vidclass
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX="${1:-/usr/local}"
bash scripts/install-deps.sh
swift build -c release --static-swift-stdlib --product vidclass >&2
BIN="$(swift build -c release --static-swift-stdlib --show-bin-path)/vidclass"
mkdir -p "$PREFIX/bin"
install -m 0755 "$BIN" "$PREFIX/bin/vidclass.tmp.$$"
mv -f "$PREFIX/bin/vidclass.tmp.$$" "$PREFIX/bin/vidclass"
echo "installed $PREFIX/bin/vidclass" >&2

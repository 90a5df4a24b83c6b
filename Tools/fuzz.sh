#!/usr/bin/env bash
# libFuzzer runs of vidclass's input parsers (Tools/Fuzz/FuzzTargets):
#   safetensors  the safetensors reader (header, JSON, offsets, dtypes, conversion)
#   modelcard    model files and their card JSON (validation bounds the network it builds)
#   decode       bytes -> custom AVIO reader -> demux, decode, scale (FFmpeg through VideoIO)
# Usage: bash Tools/fuzz.sh TARGET [SECONDS=600] [JOBS=1]
# Seeds: Fuzz/seeds/TARGET plus the repository's fixtures; the corpus grows in .build/fuzz-corpus/TARGET.
# A crash is written to Fuzz/regressions/TARGET/ (commit it: FuzzRegressionTests replays it) and
# the script exits non-zero.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${1:?usage: fuzz.sh safetensors|modelcard|decode [SECONDS] [JOBS]}"
SECONDS_TOTAL="${2:-600}"
JOBS="${3:-1}"
cd "$ROOT"
# libFuzzer's -jobs mode writes fuzz-N.log into the working directory: keep those in .build.
mkdir -p .build/fuzz-logs
swift build --build-path .build/fuzz --product vidclass-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -parse-as-library >&2
BIN="$(swift build --build-path .build/fuzz --show-bin-path)/vidclass-fuzz"
CORPUS=".build/fuzz-corpus/$TARGET"
mkdir -p "$CORPUS" "Fuzz/regressions/$TARGET"
cp -n Fuzz/seeds/"$TARGET"/* "$CORPUS"/ 2>/dev/null || true
case "$TARGET" in
  safetensors|modelcard) cp -n Fixtures/pytorch/tiny_gru_rgbdiff_bidir.safetensors Fixtures/pytorch/tiny_lstm_rgb.safetensors "$CORPUS"/ ;;
  decode) cp -n Fixtures/videos/* Fixtures/synthetic/*/*.{mp4,webm,avi} "$CORPUS"/ 2>/dev/null || true ;;
esac
rm -f "$CORPUS/.keep"
export VIDCLASS_FUZZ_TARGET="$TARGET"
# detect_leaks=0: Swift's runtime keeps metadata caches alive on purpose.
cd .build/fuzz-logs
ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1" "$BIN" "$ROOT/$CORPUS" \
  -max_total_time="$SECONDS_TOTAL" -max_len=65536 -rss_limit_mb=2048 -timeout=30 \
  $( [ "$JOBS" -gt 1 ] && echo "-jobs=$JOBS -workers=$JOBS" ) -artifact_prefix="$ROOT/Fuzz/regressions/$TARGET/" -print_final_stats=1

#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine with Swift 6: installs what is
# missing, builds, runs every test. The real-world corpus tests use ../shared/data when present.
#   ./scripts/test.sh                  # everything below
#   ./scripts/test.sh --filter Corpus  # only matching tests (unit and integration tests only)
set -euo pipefail
cd "$(dirname "$0")/.."
# Each step says when it starts (minutes into the run), so a slow step shows in the log.
step() { printf '== test.sh %dm%02ds: %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
step "installing what is missing"
bash scripts/install-deps.sh
step "debug build with the tests"
# The C kernels are built at -O2 in debug builds too (`-Xcc -O2`): SwiftPM's debug default, -O0,
# makes the GEMM ~10x slower, and Package.swift carries no unsafe flags to do it there.
swift build --build-tests -Xcc -O2
if [ $# -gt 0 ]; then
  swift test --skip-build -Xcc -O2 "$@"
  exit 0
fi
# The release binary, the one that gets installed: the suites' command-line tests run it (they
# run the debug one with --filter above), and so do the scripts below.
step "release build"
swift build -c release --static-swift-stdlib --product vidclass
RELEASE_BINARY="$(swift build -c release --static-swift-stdlib --show-bin-path)/vidclass"
# 1. Every suite; the concurrency suite then runs on its own (it watches two threads stay free,
#    which other suites running beside it would blur), and again under ThreadSanitizer.
step "every suite"
VIDCLASS_TEST_BINARY="$RELEASE_BINARY" swift test --skip-build -Xcc -O2 --skip ConcurrencyTests
swift test --skip-build -Xcc -O2 --filter ConcurrencyTests
step "ThreadSanitizer build and suites"
swift build --build-tests --sanitize=thread --scratch-path .build-tsan -Xcc -O2
swift test --skip-build --sanitize=thread --scratch-path .build-tsan -Xcc -O2 --filter "ConcurrencyTests|StreamBatchingTests|BatchingChannelTests"
# 2. The release binary in a hostile environment (special files, loops, two writers, ...).
step "release binary in a hostile environment"
bash scripts/test-hostile.sh "$RELEASE_BINARY"
# 2b. Every torchvision encoder end to end on surveillance-fight through the installed release
#     binary (built before the suites): from scratch, frozen-encoder training, info, classify.
step "every torchvision encoder"
bash scripts/test-encoders.sh "$RELEASE_BINARY"
# 3. As users get it: installed alone, and as a versioned dependency of Examples/FolderWatcher.
step "installed, and as a versioned dependency"
bash scripts/test-examples.sh
# 4. The report's page in headless Chromium: built from real label output by the installed
#    binary, used as a person would, its corrections trained on.
step "the report page in Chromium"
bash scripts/test-report.sh "$RELEASE_BINARY"
# 5. `vidclass watch` on live sources over loopback: latency, reconnection, drops, memory, signals.
step "vidclass watch"
bash scripts/test-watch.sh "$RELEASE_BINARY"
# 6. The documentation of every library, warnings as errors.
step "documentation"
bash scripts/build-docs.sh
step "all passed"

#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine with Swift 6: installs what is
# missing, builds, runs every test. The real-world corpus tests use ../shared/data when present.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# The C kernels are built at -O2 in debug builds too (`-Xcc -O2`): SwiftPM's debug default, -O0,
# makes the GEMM ~10x slower, and Package.swift carries no unsafe flags to do it there.
swift build --build-tests -Xcc -O2
swift test --skip-build -Xcc -O2 "$@"

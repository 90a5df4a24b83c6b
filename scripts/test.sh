#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine with Swift 6: installs what is
# missing, builds, runs every test. The real-world corpus tests use ../shared/data when present.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --build-tests
swift test --skip-build "$@"

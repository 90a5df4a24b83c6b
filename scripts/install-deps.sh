#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages vidclass builds against, when any is missing:
# FFmpeg's libraries (decoding, scaling, encoding) and OpenBLAS (matrix products); with
# --tests also what the test suites drive: headless Chromium, its driver and Selenium (the
# report's page), and the ffmpeg command line (a live publisher for `vidclass watch`).
# Uses apt-get directly as root, sudo otherwise. Safe to run again: it installs nothing twice.
set -euo pipefail
PACKAGES=(pkg-config libavformat-dev libavdevice-dev libavcodec-dev libavutil-dev libswscale-dev libopenblas-dev python3)
if [ "${1:-}" = "--tests" ]; then PACKAGES+=(chromium chromium-driver python3-selenium ffmpeg); fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# The model, end-to-end and streaming benchmarks, ours and the peers' in one run (2 threads,
# the peer harness's protocol), then the ratio tables for BENCHMARKS.md:
#   bash ../shared/bench/setup.sh      # once: the peers' venv (PyTorch, ONNX Runtime, OpenVINO) and videos
#   bash Tools/bench_model.sh          # about 15 minutes
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="${BENCH_DIR:-$ROOT/../shared/bench}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/vidclass-bench"
export BENCH_VIDEOS="${BENCH_VIDEOS:-$CACHE/videos}"
export BENCH_RESULTS="${BENCH_RESULTS:-$CACHE/results-vidclass}"
export BENCH_THREADS=2 OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
export BENCH_TRAIN_STEPS="${BENCH_TRAIN_STEPS:-5}" BENCH_REPS="${BENCH_REPS:-7}"
PY="${BENCH_VENV:-$CACHE/venv}/bin/python"
mkdir -p "$BENCH_RESULTS"
cd "$ROOT"
swift build -c release --static-swift-stdlib --product vidclass >&2
BIN="$(swift build -c release --static-swift-stdlib --show-bin-path)/vidclass"
"$BIN" bench model --threads 2 --json "$BENCH_RESULTS/vidclass_model.json"
(cd "$BENCH" && "$PY" bench_gemm.py && "$PY" bench_infer.py && BENCH_REPS=3 "$PY" bench_train.py)
"$BIN" bench e2e --json "$BENCH_RESULTS/vidclass_e2e.json"
(cd "$BENCH" && "$PY" bench_e2e.py)
"$BIN" bench stream "$BENCH_VIDEOS/a_640x360_h264.mp4" | tee "$BENCH_RESULTS/vidclass_stream.txt"
"$PY" "$ROOT/Tools/bench_report.py" model "$BENCH_RESULTS"

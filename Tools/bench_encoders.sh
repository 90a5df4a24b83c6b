#!/usr/bin/env bash
# The encoders of issue 17 side by side in one run: `vidclass bench model` and the peer harness's
# protocol (Tools/bench_encoders.py: ONNX Runtime and OpenVINO on the same torchvision-built
# LRCNs), 1x16 and 8x16 frames of 112² and 224², 2 threads; then the ratio table for BENCHMARKS.md.
#   bash ../shared/bench/setup.sh        # once: the peers' venv
#   bash Tools/bench_encoders.sh         # about 25 minutes (ResNet-18 through EfficientNet-B0)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/vidclass-bench"
export BENCH_RESULTS="${BENCH_RESULTS:-$CACHE/results-vidclass}"
export BENCH_THREADS=2 OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
export BENCH_REPS="${BENCH_REPS:-5}"
PY="${BENCH_VENV:-$CACHE/venv}/bin/python"
MODELS="${MODELS:-resnet18,resnet34,resnet50,mobilenet_v2,mobilenet_v3_small,mobilenet_v3_large,efficientnet_b0}"
mkdir -p "$BENCH_RESULTS"
cd "$ROOT"
swift build -c release --static-swift-stdlib --product vidclass >&2
BIN="$(swift build -c release --static-swift-stdlib --show-bin-path)/vidclass"
# One model at a time, vidclass and the peers back to back (which goes first alternates), so that
# each model's rows are measured minutes apart, not a quarter of an hour: this shared machine's
# speed drifts by ±20 % over that long.
rm -f "$BENCH_RESULTS"/vidclass_encoders_*.json "$BENCH_RESULTS"/b1_infer_encoders_*.json
ours() {
    "$BIN" bench model --tasks infer --threads 2 --models "$1" --batches 1x16,8x16 --sizes 112,224 \
        --repetitions "$BENCH_REPS" --json "$BENCH_RESULTS/vidclass_encoders_$1.json"
}
peers() {
    "$PY" Tools/bench_encoders.py --models "lrcn-$(echo "$1" | tr _ -)" --batches 1,8 --sizes 112,224 --backends ort,openvino
    mv "$BENCH_RESULTS/b1_infer_encoders.json" "$BENCH_RESULTS/b1_infer_encoders_$1.json"
}
i=0
for model in ${MODELS//,/ }; do
    if [ $((i % 2)) -eq 0 ]; then ours "$model"; peers "$model"; else peers "$model"; ours "$model"; fi
    i=$((i + 1))
done
"$PY" - "$BENCH_RESULTS" "$MODELS" <<'PY'
import json, sys
from pathlib import Path
results = Path(sys.argv[1])
models = sys.argv[2].split(",")
ours = [row for m in models for row in json.loads((results / f"vidclass_encoders_{m}.json").read_text())["results"]]
peerFiles = [json.loads((results / f"b1_infer_encoders_{m}.json").read_text()) for m in models]
peers = {"versions": peerFiles[0]["versions"], "results": [row for p in peerFiles for row in p["results"]]}
print(f"\nCPU: {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}; peers: "
      + ", ".join(f"{k} {v}" for k, v in peers["versions"].items() if k in ("onnxruntime", "openvino", "torch")))
print("| encoder | frames | size | vidclass frames/s | ONNX Runtime | OpenVINO | vs best |")
print("|---|---|---|---|---|---|---|")
for row in ours:
    if row["task"] != "infer":
        continue
    model, b, size = row["model"], row["clips"], row["size"]
    def rate(backend):
        for p in peers["results"]:
            if p["model"] == model and p["batch_clips"] == b and p["size"] == size and p["backend"] == backend:
                return p["frames_per_s"]
        return None
    ort, ov = rate("ort"), rate("openvino")
    best = max(r for r in (ort, ov) if r) if (ort or ov) else None
    fmt = lambda r: f"{r:.1f}" if r else "—"
    print(f"| {model[5:]} | {b}×16 | {size}² | {row['framesPerSecond']:.1f} | {fmt(ort)} | {fmt(ov)} | "
          + (f"{row['framesPerSecond'] / best:.2f}×" if best else "—") + " |")
PY

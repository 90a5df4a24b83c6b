#!/usr/bin/env bash
# The encoders of issue 17 side by side in one run: `vidclass bench model` and the peer harness's
# protocol (Tools/bench_encoders.py: ONNX Runtime and OpenVINO on the same torchvision-built
# LRCNs), 1x16 and 8x16 frames of 112² and 224², 2 threads; then the ratio table for BENCHMARKS.md.
#   bash ../shared/bench/setup.sh        # once: the peers' venv
#   bash Tools/bench_encoders.sh         # about 35 minutes (ResNet-18 through EfficientNet-B0, 3 rounds)
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
# speed drifts by ±20 % over that long. ROUNDS rounds of that per model (default 3): each side's
# rate in a row is the median of its rounds, so a slow spell that falls on one side's turn in one
# round does not decide the row; the table also gives the range of the rounds' ratios.
ROUNDS="${ROUNDS:-3}"
rm -f "$BENCH_RESULTS"/vidclass_encoders_*.json "$BENCH_RESULTS"/b1_infer_encoders_*.json
ours() {
    "$BIN" bench model --tasks infer --threads 2 --models "$1" --batches 1x16,8x16 --sizes 112,224 \
        --repetitions "$BENCH_REPS" --json "$BENCH_RESULTS/vidclass_encoders_$1_$2.json"
}
peers() {
    "$PY" Tools/bench_encoders.py --models "lrcn-$(echo "$1" | tr _ -)" --batches 1,8 --sizes 112,224 --backends ort,openvino
    mv "$BENCH_RESULTS/b1_infer_encoders.json" "$BENCH_RESULTS/b1_infer_encoders_$1_$2.json"
}
i=0
for model in ${MODELS//,/ }; do
    for round in $(seq 1 "$ROUNDS"); do
        if [ $((i % 2)) -eq 0 ]; then ours "$model" "$round"; peers "$model" "$round"; else peers "$model" "$round"; ours "$model" "$round"; fi
        i=$((i + 1))
    done
done
"$PY" - "$BENCH_RESULTS" "$MODELS" "$ROUNDS" <<'PY'
import json, statistics, sys
from pathlib import Path
results = Path(sys.argv[1])
models = sys.argv[2].split(",")
rounds = range(1, int(sys.argv[3]) + 1)
load = lambda name: json.loads((results / name).read_text())
ours = {m: [load(f"vidclass_encoders_{m}_{r}.json")["results"] for r in rounds] for m in models}
peers = {m: [load(f"b1_infer_encoders_{m}_{r}.json") for r in rounds] for m in models}
versions = peers[models[0]][0]["versions"]
print(f"\nCPU: {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}; peers: "
      + ", ".join(f"{k} {v}" for k, v in versions.items() if k in ("onnxruntime", "openvino", "torch"))
      + f"; each rate the median of {len(rounds)} rounds")
print("| encoder | frames | size | vidclass frames/s | ONNX Runtime | OpenVINO | vs best | rounds' ratios |")
print("|---|---|---|---|---|---|---|---|")
def rate(rows, key, **match):
    """The `key` of the row whose fields equal `match`, or None."""
    return next((r[key] for r in rows if all(r.get(f) == v for f, v in match.items())), None)
for m in models:
    for row in ours[m][0]:
        if row["task"] != "infer":
            continue
        model, b, size = row["model"], row["clips"], row["size"]
        mine = [rate(run, "framesPerSecond", task="infer", model=model, clips=b, size=size) for run in ours[m]]
        per_backend = {k: [rate(run["results"], "frames_per_s", model=model, batch_clips=b, size=size, backend=k)
                           for run in peers[m]] for k in ("ort", "openvino")}
        medians = {k: statistics.median(v) if all(v) else None for k, v in per_backend.items()}
        best = max((r for r in medians.values() if r), default=None)
        round_best = [max((per_backend[k][i] for k in per_backend if per_backend[k][i]), default=None)
                      for i in range(len(mine))]
        ratios = [f / p for f, p in zip(mine, round_best) if p]
        fmt = lambda r: f"{r:.1f}" if r else "—"
        print(f"| {model[5:]} | {b}×16 | {size}² | {statistics.median(mine):.1f} | {fmt(medians['ort'])} | {fmt(medians['openvino'])} | "
              + (f"{statistics.median(mine) / best:.2f}×" if best else "—") + " | "
              + (f"{min(ratios):.2f}–{max(ratios):.2f}×" if ratios else "—") + " |")
PY

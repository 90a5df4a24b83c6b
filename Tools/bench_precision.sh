#!/usr/bin/env bash
# Reduced precision side by side (issue 19): `vidclass bench model --precisions fp32,bf16` and the
# peers in theirs (Tools/bench_precision.py: OpenVINO fp32 and bf16, ONNX Runtime fp32 and int8),
# lrcn-small and lrcn-resnet18 at 1x16 and 8x16 frames of 112², 2 threads; two rounds, which side
# goes first alternating; then the ratio table for BENCHMARKS.md (medians of each round's medians).
#   bash ../shared/bench/setup.sh        # once: the peers' venv
#   bash Tools/bench_precision.sh        # about 12 minutes
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/vidclass-bench"
export BENCH_RESULTS="${BENCH_RESULTS:-$CACHE/results-vidclass}"
export BENCH_THREADS=2 OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
export BENCH_REPS="${BENCH_REPS:-7}"
PY="${BENCH_VENV:-$CACHE/venv}/bin/python"
mkdir -p "$BENCH_RESULTS"
cd "$ROOT"
swift build -c release --static-swift-stdlib --product vidclass >&2
BIN="$(swift build -c release --static-swift-stdlib --show-bin-path)/vidclass"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); AVX-512 BF16: $(grep -qw avx512_bf16 /proc/cpuinfo && echo yes || echo no); load $(cut -d' ' -f1-3 /proc/loadavg)"
ours() {
    "$BIN" bench model --tasks infer --threads 2 --models lrcn-small,lrcn-resnet18 --batches 1x16,8x16 \
        --precisions fp32,bf16 --repetitions "$BENCH_REPS" --json "$BENCH_RESULTS/vidclass_precision_$1.json"
}
peers() {
    "$PY" Tools/bench_precision.py
    mv "$BENCH_RESULTS/b1_infer_precision.json" "$BENCH_RESULTS/b1_infer_precision_$1.json"
}
ours 1; peers 1; peers 2; ours 2
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" - "$BENCH_RESULTS" <<'PY'
import json, statistics, sys
from pathlib import Path
results = Path(sys.argv[1])
ours, peers = {}, {}
for round_ in (1, 2):
    for r in json.loads((results / f"vidclass_precision_{round_}.json").read_text())["results"]:
        ours.setdefault((r["model"], r["clips"], r.get("precision", "fp32")), []).append(r["framesPerSecond"])
    for r in json.loads((results / f"b1_infer_precision_{round_}.json").read_text())["results"]:
        peers.setdefault((r["model"], r["batch_clips"], r["backend"], r["precision"]), []).append(r)
med = statistics.median
print("| model | clips×frames | vidclass fp32 | vidclass bf16 | OpenVINO fp32 | OpenVINO bf16 | ONNX Runtime fp32 | ONNX Runtime int8 | bf16 vs OpenVINO bf16 | bf16 vs best peer fp32/bf16 |")
print("|---|---|---|---|---|---|---|---|---|---|")
for model in ("lrcn-small", "lrcn-resnet18"):
    for clips in (1, 8):
        ours32, ours16 = med(ours[(model, clips, "fp32")]), med(ours[(model, clips, "bf16")])
        def peer(backend, precision):
            rows = peers.get((model, clips, backend, precision), [])
            return med([r["frames_per_s"] for r in rows]) if rows else float("nan")
        ov32, ov16, ort32, ort8 = peer("openvino", "fp32"), peer("openvino", "bf16"), peer("ort", "fp32"), peer("ort", "int8")
        best = max(ov32, ov16, ort32)
        print(f"| {model} | {clips}×16 | {ours32:.0f} | {ours16:.0f} | {ov32:.0f} | {ov16:.0f} | {ort32:.0f} | {ort8:.0f} | "
              f"**{ours16 / ov16:.2f}×** | {ours16 / best:.2f}× |")
print("\nPeers' logits against PyTorch fp32 (largest difference; top-1 agreement over the batch):")
for (model, clips, backend, precision), rows in sorted(peers.items()):
    if precision != "fp32":
        r = rows[-1]
        print(f"- {model} {clips}×16 {backend} {precision}: {r['max_abs_diff_vs_torch']:.1e}; {r['top1_agreement_vs_torch']:.2f}")
PY

#!/usr/bin/env python3
"""The peer harness's B1 inference protocol (../shared/bench/bench_infer.py: ONNX export, 2 threads,
median of BENCH_REPS calls after warm-up) for the encoders it does not cover: LRCNs whose encoder
is a torchvision ResNet-34/50, MobileNetV2, MobileNetV3-Small/Large or EfficientNet-B0 (random
weights, classifier replaced by Identity), LSTM(F, 256), Linear(256, 10), as `vidclass bench model`
builds them. Frames of --sizes pixels, --batches clips of 16 frames.

    ~/.cache/vidclass-bench/venv/bin/python Tools/bench_encoders.py --backends ort,openvino
Writes $BENCH_RESULTS/b1_infer_encoders.json (Tools/bench_encoders.sh runs it beside vidclass).
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, os.environ.get("BENCH_DIR", str(HERE.parent.parent / "shared" / "bench")))
sys.path.insert(0, str(HERE))
import common  # noqa: E402  (sets the thread variables first)
import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench_infer import ONNX_DIR, export_onnx  # noqa: E402
from import_pytorch import ENCODERS, BackboneLRCN, torchvision_backbone  # noqa: E402

T = 16


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=",".join(ENCODERS[2:]))
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--sizes", default="112,224")
    ap.add_argument("--backends", default="ort,openvino")
    args = ap.parse_args()
    torch.set_num_threads(common.THREADS)
    warnings.filterwarnings("ignore")
    backends = args.backends.split(",")
    results, notes = [], {}
    for name in args.models.split(","):
        torch.manual_seed(0)
        backbone = torchvision_backbone(name).eval()
        with torch.no_grad():
            features = backbone(torch.zeros(1, 3, 64, 64)).shape[1]
        model = BackboneLRCN.build(backbone, features, hidden=256, classes=10).eval()
        for size in [int(s) for s in args.sizes.split(",")]:
            for b in [int(s) for s in args.batches.split(",")]:
                x = torch.randn(b, T, 3, size, size)
                with torch.inference_mode():
                    ref = model(x).numpy()
                frames = b * T

                def record(backend, s, extra=None):
                    results.append({"model": name, "size": size, "batch_clips": b, "frames": frames, "backend": backend,
                                    "sec_per_call": s, "frames_per_s": frames / s["median"],
                                    "frames_per_s_min": frames / s["max"], "frames_per_s_max": frames / s["min"],
                                    **(extra or {})})
                    print(f"{name:26s} {size}px B={b} {backend:9s} {common.fmt_rate(frames, s)} frames/s "
                          f"[{s['median'] * 1e3:.1f} ms/call, load {s['loadavg_after']:.2f}]", flush=True)

                if "torch" in backends:
                    def run_torch():
                        with torch.inference_mode():
                            model(x)
                    record("torch", common.time_it(run_torch))
                onnx_path = ONNX_DIR / f"{name}_{size}_b{b}.onnx"
                if "ort" in backends or "openvino" in backends:
                    notes[f"export_{name}_{size}_b{b}"] = export_onnx(model, x, onnx_path)
                xn = x.numpy()
                if "ort" in backends:
                    import onnxruntime as ort
                    so = ort.SessionOptions()
                    so.intra_op_num_threads = common.THREADS
                    so.inter_op_num_threads = 1
                    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                    sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
                    iname = sess.get_inputs()[0].name
                    diff = float(np.abs(sess.run(None, {iname: xn})[0] - ref).max())
                    record("ort", common.time_it(lambda: sess.run(None, {iname: xn})), {"max_abs_diff_vs_torch": diff})
                if "openvino" in backends:
                    import openvino as ov
                    cm = ov.Core().compile_model(str(onnx_path), "CPU", {
                        "INFERENCE_NUM_THREADS": common.THREADS, "PERFORMANCE_HINT": "LATENCY",
                        "INFERENCE_PRECISION_HINT": "f32"})
                    req = cm.create_infer_request()
                    diff = float(np.abs(req.infer({0: xn})[cm.output(0)] - ref).max())
                    record("openvino", common.time_it(lambda: req.infer({0: xn})), {"max_abs_diff_vs_torch": diff})
    common.save("b1_infer_encoders", {"versions": common.versions(), "results": results, "notes": notes})


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The peers in reduced precision, by the peer harness's B1 protocol (../shared/bench/bench_infer.py:
the same LRCNs exported to ONNX, 2 threads, median of BENCH_REPS calls after warm-up):

- OpenVINO in fp32 and in bf16 (INFERENCE_PRECISION_HINT; on a CPU with AVX-512 BF16 it runs its
  convolutions with those instructions, as vidclass's --precision bf16 does);
- ONNX Runtime in fp32 and in int8 (it has no bf16 convolution on CPU: its reduced precision is
  static int8 quantization, QDQ, per-channel weights, calibrated on 8 random clips; VNNI kernels
  on CPUs that have them).

Each reduced-precision row records how far its logits are from PyTorch's fp32 (largest difference,
and the share of clips whose top class is unchanged).

    ~/.cache/vidclass-bench/venv/bin/python Tools/bench_precision.py [--models lrcn-small,lrcn-resnet18]
Writes $BENCH_RESULTS/b1_infer_precision.json (Tools/bench_precision.sh runs it beside vidclass).
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, os.environ.get("BENCH_DIR", str(HERE.parent.parent / "shared" / "bench")))
import common  # noqa: E402  (sets the thread variables first)
import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench_infer import ONNX_DIR, export_onnx  # noqa: E402
from models import build_model  # noqa: E402

T = 16


def agreement(out: np.ndarray, ref: np.ndarray) -> dict:
    return {"max_abs_diff_vs_torch": float(np.abs(out - ref).max()),
            "top1_agreement_vs_torch": float((out.argmax(1) == ref.argmax(1)).mean())}


def quantized(onnx_path: Path, batch: int, size: int) -> Path:
    """A static int8 (QDQ) copy of the model, calibrated on random clips of this shape."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    target = onnx_path.with_name(onnx_path.stem + "_int8.onnx")
    if target.exists():
        return target

    class Clips(CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(1)
            self.batches = iter([{"clips": rng.standard_normal((batch, T, 3, size, size), dtype=np.float32)}
                                 for _ in range(max(1, 8 // batch))])

        def get_next(self):
            return next(self.batches, None)

    quantize_static(str(onnx_path), str(target), Clips(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    return target


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="lrcn-small,lrcn-resnet18")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--backends", default="ort,ort-int8,openvino,openvino-bf16")
    args = ap.parse_args()
    torch.set_num_threads(common.THREADS)
    warnings.filterwarnings("ignore")
    backends = args.backends.split(",")
    results, notes = [], {}
    for name in args.models.split(","):
        torch.manual_seed(0)
        model = build_model(name).eval()
        for b in [int(s) for s in args.batches.split(",")]:
            x = torch.randn(b, T, 3, 112, 112)
            with torch.inference_mode():
                ref = model(x).numpy()
            frames, xn = b * T, x.numpy()
            # Its own export (this script seeds each model alike; the harness's files may hold others).
            onnx_path = ONNX_DIR / "precision" / f"{name}_b{b}.onnx"
            if not onnx_path.exists():
                notes[f"export_{name}_b{b}"] = export_onnx(model, x, onnx_path)

            def record(backend, precision, s, out):
                row = {"model": name, "batch_clips": b, "frames": frames, "backend": backend, "precision": precision,
                       "sec_per_call": s, "frames_per_s": frames / s["median"],
                       "frames_per_s_min": frames / s["max"], "frames_per_s_max": frames / s["min"], **agreement(out, ref)}
                results.append(row)
                print(f"{name:14s} B={b} {backend:9s} {precision:5s} {common.fmt_rate(frames, s)} frames/s  "
                      f"[max |Δlogit| {row['max_abs_diff_vs_torch']:.2e}, top-1 agreement "
                      f"{row['top1_agreement_vs_torch']:.2f}, load {s['loadavg_after']:.2f}]", flush=True)

            import onnxruntime as ort
            for backend, path, precision in [("ort", onnx_path, "fp32"), ("ort-int8", None, "int8")]:
                if backend not in backends:
                    continue
                so = ort.SessionOptions()
                so.intra_op_num_threads = common.THREADS
                so.inter_op_num_threads = 1
                so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                sess = ort.InferenceSession(str(path or quantized(onnx_path, b, 112)), so,
                                            providers=["CPUExecutionProvider"])
                iname = sess.get_inputs()[0].name
                out = sess.run(None, {iname: xn})[0]
                record("ort", precision, common.time_it(lambda: sess.run(None, {iname: xn})), out)

            import openvino as ov
            core = ov.Core()
            notes["openvino_capabilities"] = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
            for backend, precision in [("openvino", "f32"), ("openvino-bf16", "bf16")]:
                if backend not in backends:
                    continue
                cm = core.compile_model(str(onnx_path), "CPU", {
                    "INFERENCE_NUM_THREADS": common.THREADS,
                    "PERFORMANCE_HINT": "LATENCY",
                    "INFERENCE_PRECISION_HINT": precision,
                })
                notes[f"openvino_{precision}_{name}_b{b}_runs_in"] = str(cm.get_property("INFERENCE_PRECISION_HINT"))
                req = cm.create_infer_request()
                out = req.infer({0: xn})[cm.output(0)]
                record("openvino", "fp32" if precision == "f32" else precision,
                       common.time_it(lambda: req.infer({0: xn})), out)
    common.save("b1_infer_precision", {"versions": common.versions(), "results": results, "notes": notes})


if __name__ == "__main__":
    main()

"""Turns a side-by-side benchmark run into the markdown tables of BENCHMARKS.md.

    python Tools/bench_report.py decode|model RESULTS_DIR

For decode
reads RESULTS_DIR/vidclass_decode.json (vidclass bench decode --json) and RESULTS_DIR/b3_decode.json
(../shared/bench/bench_decode.py) from the same run and prints, per video and task, our time,
the fastest peer's, and the ratio (peer time / our time: above 1 means vidclass is faster).
"""
import json
import sys
from pathlib import Path

PEERS = ["pyav", "pyav_auto", "pyav_auto_cv2", "decord", "opencv", "torchcodec", "torchcodec_resize"]


def fmt(s):
    return f"{s['median'] * 1e3:.0f} ({s['min'] * 1e3:.0f}–{s['max'] * 1e3:.0f})"


def decode(results: Path):
    ours = json.loads((results / "vidclass_decode.json").read_text())
    peers = json.loads((results / "b3_decode.json").read_text())
    rows = {(r["video"], r["task"]): r for r in ours["results"]}
    print("| video | task | vidclass ms | fastest peer | peer ms | ratio (peer / vidclass) | all peers (ms, median) |")
    print("|---|---|---|---|---|---|---|")
    for (video, task), r in sorted(rows.items()):
        candidates = [p for p in peers["results"] if p["video"] == video and p["task"] == task and p["method"] in PEERS]
        if not candidates:
            continue
        best = min(candidates, key=lambda p: p["sec"]["median"])
        ratio = best["sec"]["median"] / r["sec"]["median"]
        others = ", ".join(f"{p['method']} {p['sec']['median'] * 1e3:.0f}" for p in sorted(candidates, key=lambda p: p["sec"]["median"]))
        print(f"| {video} | {task} | {fmt(r['sec'])} | {best['method']} | {fmt(best['sec'])} | **{ratio:.2f}×** | {others} |")
    memory = ours.get("memory")
    if memory:
        print(f"\nPeak RSS sampling 16 frames (112×112) from a {memory['durationSeconds']} s 1080p file: "
              f"{memory['uniform16PeakBytes'] / 1e6:.1f} MB")
    ten = results / "vidclass_decode_10min.json"
    if ten.exists():
        m = json.loads(ten.read_text()).get("memory")
        if m:
            print(f"Peak RSS for the same on a {m['durationSeconds']} s file: {m['uniform16PeakBytes'] / 1e6:.1f} MB")




def model(results: Path):
    """python Tools/bench_report.py model RESULTS_DIR: inference, training, GEMM, end to end."""
    ours = json.loads((results / "vidclass_model.json").read_text())["results"]
    gemm_rate = next((r["gflopsPerSecond"] for r in ours if r["task"] == "gemm" and r["model"] == "sgemm-2048"), None)
    peer_gemm = json.loads((results / "b4_gemm.json").read_text())["results"] if (results / "b4_gemm.json").exists() else []
    numpy2048 = next((r["gflops"] for r in peer_gemm if r["lib"] == "numpy-openblas" and r["n"] == 2048 and r["threads"] == 2), None)
    packed = next((r["gflopsPerSecond"] for r in ours if r["task"] == "gemm" and r["model"] == "packed-2048"), None)
    print("GEMM (2 threads, N = 2048): vidclass's entry point "
          f"{gemm_rate:.1f} GFLOP/s" + (f", with the left matrix packed beforehand {packed:.1f}" if packed else "")
          + (f"; numpy's OpenBLAS {numpy2048:.1f} GFLOP/s (the sgemm rate in the table)" if numpy2048 else ""))
    gemm_rate = numpy2048 or gemm_rate
    infer = json.loads((results / "b1_infer.json").read_text())["results"]
    print("\n| model | clips×frames | vidclass frames/s | ONNX Runtime | OpenVINO | PyTorch (tuned) | vs ONNX Runtime | vs best peer | vidclass GFLOP/s (% of sgemm) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in ours:
        if r["task"] != "infer":
            continue
        peers = {p["backend"]: p for p in infer if p["model"] == r["model"] and p["batch_clips"] == r["clips"]}
        def fps(name):
            return peers[name]["frames_per_s"] if name in peers else None
        best = max((p["frames_per_s"] for p in peers.values()), default=None)
        ort = fps("ort")
        cell = lambda v: f"{v:.0f}" if v else "–"
        pct = f" ({100 * r['gflopsPerSecond'] / gemm_rate:.0f} %)" if gemm_rate else ""
        print(f"| {r['model']} | {r['clips']}×{r['frames']} | **{r['framesPerSecond']:.0f}** | {cell(ort)} | {cell(fps('openvino'))} | "
              f"{cell(fps('torch-tuned'))} | {r['framesPerSecond'] / ort:.2f}× | {r['framesPerSecond'] / best:.2f}× | "
              f"{r['gflopsPerSecond']:.0f}{pct} |" if ort and best else f"| {r['model']} | {r['clips']}×{r['frames']} | {r['framesPerSecond']:.0f} | – | – | – | – | – | – |")
    train = next((r for r in ours if r["task"] == "train"), None)
    peer_train = json.loads((results / "b2_train.json").read_text()) if (results / "b2_train.json").exists() else None
    if train and peer_train:
        print(f"\nTraining lrcn-small, 8 clips × 16 frames, Adam: vidclass **{train['itemsPerSecond']:.2f} clips/s** "
              f"({train['gflopsPerSecond']:.0f} GFLOP/s), PyTorch {peer_train['clips_per_s']:.2f} clips/s "
              f"({peer_train['clips_per_s_min']:.2f}–{peer_train['clips_per_s_max']:.2f}): "
              f"**{train['itemsPerSecond'] / peer_train['clips_per_s']:.2f}×**")
    e2e = results / "vidclass_e2e.json"
    peer_e2e = results / "b5_e2e.json"
    if e2e.exists() and peer_e2e.exists():
        o = json.loads(e2e.read_text())
        p = json.loads(peer_e2e.read_text())["results"]
        tuned = p.get("tuned", {})
        per_clip = tuned["sec_per_dir"]["median"] / tuned["clips"] if tuned else None
        print(f"\n| end to end (lrcn-small, 16 frames of 112×112) | vidclass | PyAV + PyTorch tuned (in-process) | PyAV + PyTorch simple | ratio vs tuned |")
        print("|---|---|---|---|---|")
        print(f"| classify one 10 s 360p clip, whole process with start-up (ms) | {o['classifyOneClip']['median'] * 1e3:.0f} | "
              f"{per_clip * 1e3:.0f} per clip | {p['simple']['sec_per_dir']['median'] / p['simple']['clips'] * 1e3:.0f} per clip | "
              f"**{per_clip / o['classifyOneClip']['median']:.2f}×** |")
        print(f"| label 20 clips, whole process (clips/s) | {o['clipsPerSecond']:.2f} | {tuned['clips_per_s']:.2f} | "
              f"{p['simple']['clips_per_s']:.2f} | **{o['clipsPerSecond'] / tuned['clips_per_s']:.2f}×** |")
    stream = results / "vidclass_stream.txt"
    if stream.exists():
        print("\nStreaming: " + stream.read_text().strip())


if __name__ == "__main__":
    {"decode": decode, "model": model}[sys.argv[1]](Path(sys.argv[2]))

"""Turns a side-by-side benchmark run into the markdown tables of BENCHMARKS.md.

    python Tools/bench_report.py decode RESULTS_DIR
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


if __name__ == "__main__":
    {"decode": decode}[sys.argv[1]](Path(sys.argv[2]))

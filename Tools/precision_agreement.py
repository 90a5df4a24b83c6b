#!/usr/bin/env python3
"""What bf16 changes on real clips: two `vidclass evaluate --format json` reports of the same
model and dataset, one with `--precision fp32` and one with `--precision bf16`, compared clip by
clip: each one's top-1 accuracy, the share of clips whose predicted class is the same, and the
largest change in the top probability.

    vidclass evaluate DATASET --model M --format json > fp32.json
    vidclass evaluate DATASET --model M --format json --precision bf16 > bf16.json
    python3 Tools/precision_agreement.py fp32.json bf16.json
"""
import json
import sys

single, rounded = (json.load(open(path)) for path in sys.argv[1:3])
def key(c):  # a stretch of a long video is its path and start
    return (c["path"], c.get("start"))


a = {key(c): c for c in single["clips"]}
b = {key(c): c for c in rounded["clips"]}
assert a.keys() == b.keys(), "the two reports score different clips"
same = sum(a[p]["predicted"] == b[p]["predicted"] for p in a)
changed = [p for p in a if a[p]["predicted"] != b[p]["predicted"]]
largest = max((abs(a[p]["confidence"] - b[p]["confidence"]) for p in a if a[p]["predicted"] == b[p]["predicted"]), default=0)
print(f"{len(a)} clips: top-1 fp32 {single['top1'] * 100:.2f}%, bf16 {rounded['top1'] * 100:.2f}% "
      f"({rounded.get('inferencePrecision', 'fp32')}); same class for {same}/{len(a)} = {same / len(a) * 100:.2f}%; "
      f"largest change of the top probability where the class is the same {largest:.4f}")
for p in changed:
    print(f"  changed: {p[0]}{'' if p[1] is None else f' from {p[1]} s'}: {a[p]['predicted']} ({a[p]['confidence']:.3f}) -> {b[p]['predicted']} ({b[p]['confidence']:.3f})")

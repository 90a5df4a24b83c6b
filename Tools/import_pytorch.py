#!/usr/bin/env python3
"""Turn a CNN+RNN clip classifier trained in PyTorch into a vidclass model file.

The network must have the layout of ../shared/bench/models.py (DESIGN.md, "reference models"):
`encoder` (lrcn-small: Conv3x3(no bias)->BN->ReLU->MaxPool2 blocks then global average pooling;
or torchvision's ResNet-18 without its fc), `lstm` (nn.LSTM / nn.GRU / nn.RNN, batch_first; the
attribute is called `lstm` whatever its kind) and `fc` (nn.Linear) on the last time step.
Its state_dict keys are used unchanged: Conv2d [out,in,kh,kw], BatchNorm weight/bias/running_*,
LSTM weight_ih_l0 [4H,I] gate order i,f,g,o, Linear [out,in].

    python Tools/import_pytorch.py WEIGHTS --encoder lrcn-small --labels fight,noFight \\
        --input diff --frames 16 --size 112 --short-side 128 --output model.safetensors

WEIGHTS: a state_dict saved with torch.save (.pt/.pth; a whole saved nn.Module works too) or a
.safetensors file. Needs torch (and safetensors is not required: the file is written here).
The result is one .safetensors file whose metadata carries the whole model description as JSON
(key "vidclass"): `vidclass classify clip.mp4 --model model.safetensors`.

`--make-parity-fixtures DIR` builds two tiny seeded PyTorch models, imports them through the same
code, and writes PyTorch's probabilities for random clips next to them (the Swift parity test,
PyTorchParityTests, checks vidclass gives the same top-k and probabilities within 1e-4).
Run by hand, not by CI.
"""
from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path


def load_state_dict(path: str) -> dict:
    import torch
    if path.endswith(".safetensors"):
        return read_safetensors(path)
    obj = torch.load(path, map_location="cpu", weights_only=False)
    if hasattr(obj, "state_dict"):
        obj = obj.state_dict()
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    return {k: v.detach().float().cpu() for k, v in obj.items()}


def read_safetensors(path: str) -> dict:
    import numpy as np
    import torch
    data = Path(path).read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    dtypes = {"F32": np.float32, "F16": np.float16, "F64": np.float64}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        array = np.frombuffer(data[8 + n + a:8 + n + b], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(array.astype(np.float32))
    return out


def write_safetensors(path: str, tensors: dict, metadata: dict) -> None:
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().float().contiguous().cpu().numpy().astype("<f4")
        raw = t.tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = metadata
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for raw in blobs:
            f.write(raw)


def describe(state: dict, args) -> dict:
    """The vidclass model card for a state_dict, with shape checks."""
    keys = set(state)
    if not any(k.startswith("encoder.") for k in keys) or "fc.weight" not in keys:
        sys.exit("error: expected encoder.*, lstm.* and fc.* parameters (the layout of bench/models.py)")
    labels = args.labels
    classes = state["fc.weight"].shape[0]
    if len(labels) != classes:
        sys.exit(f"error: {len(labels)} labels for a head with {classes} outputs")
    sequence = {"lstm": "lstm", "gru": "gru", "rnn": "rnn_tanh", "rnn_relu": "rnn_relu"}[args.sequence]
    gates = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}[sequence]
    hidden = state["lstm.weight_hh_l0"].shape[1]
    if state["lstm.weight_ih_l0"].shape[0] != gates * hidden:
        sys.exit(f"error: lstm.weight_ih_l0 has {state['lstm.weight_ih_l0'].shape[0]} rows, a {args.sequence} of hidden size {hidden} has {gates * hidden}")
    layers = 1 + max(int(k.split("_l")[1].split("_")[0]) for k in keys if k.startswith("lstm.weight_ih_l"))
    bidirectional = any(k.endswith("_reverse") for k in keys if k.startswith("lstm."))
    first_conv = "encoder.conv1.weight" if args.encoder == "lrcn-resnet18" else "encoder.0.weight"
    in_channels = state[first_conv].shape[1]
    channels = {"rgb": 3, "diff": 3, "rgb+diff": 6}[args.input]
    if in_channels != channels:
        sys.exit(f"error: the first convolution takes {in_channels} channels, input '{args.input}' gives {channels}")
    small_channels = [state[k].shape[0] for k in sorted(
        (k for k in keys if k.startswith("encoder.") and k.endswith(".weight") and state[k].dim() == 4),
        key=lambda k: int(k.split(".")[1]))] if args.encoder == "lrcn-small" else [32, 64, 128, 256]
    resnet_width = state["encoder.conv1.weight"].shape[0] if args.encoder == "lrcn-resnet18" else 64
    return {
        "format": "vidclass-model", "formatVersion": 1,
        "name": args.name or Path(args.output).stem,
        "architecture": {
            "backbone": args.encoder, "numClasses": classes, "smallChannels": small_channels,
            "resnetWidth": resnet_width, "sequenceKind": sequence, "hiddenSize": hidden,
            "sequenceLayers": layers, "bidirectional": bidirectional, "head": "last",
            "inputChannels": in_channels, "headDropout": 0,
        },
        "labels": labels,
        "input": {
            "representation": args.input, "framesPerClip": args.frames, "size": args.size,
            "shortSide": args.short_side or args.size * 8 // 7, "mean": args.mean, "std": args.std,
        },
        "provenance": {"dataset": args.dataset, "metrics": {}, "recipe": {"imported_from": Path(args.weights).name},
                       "vidclassVersion": "import_pytorch.py"},
    }


def convert(args) -> None:
    state = load_state_dict(args.weights)
    state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    card = describe(state, args)
    write_safetensors(args.output, state, {"vidclass": json.dumps(card, sort_keys=True)})
    print(f"wrote {args.output}: {card['architecture']['backbone']} + {card['architecture']['sequenceKind']}, "
          f"{len(card['labels'])} labels, input {card['input']['representation']} "
          f"{card['input']['framesPerClip']}x{card['input']['size']}px")


def tiny_model(channels, in_channels, sequence, hidden, layers, bidirectional, classes):
    import torch.nn as nn

    class LRCN(nn.Module):
        def __init__(self):
            super().__init__()
            blocks, cin = [], in_channels
            for cout in channels:
                blocks += [nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
                cin = cout
            blocks += [nn.AdaptiveAvgPool2d(1), nn.Flatten(1)]
            self.encoder = nn.Sequential(*blocks)
            rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[sequence]
            self.lstm = rnn(cin, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional)
            self.fc = nn.Linear(hidden * (2 if bidirectional else 1), classes)

        def forward(self, x):
            b, t = x.shape[:2]
            f = self.encoder(x.flatten(0, 1)).view(b, t, -1)
            out, _ = self.lstm(f)
            return self.fc(out[:, -1, :])

    return LRCN()


def make_parity_fixtures(directory: str) -> None:
    import torch
    torch.manual_seed(0)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    cases = [
        ("tiny_lstm_rgb", dict(channels=[8, 16, 32], in_channels=3, sequence="lstm", hidden=24, layers=1, bidirectional=False, classes=4), "rgb"),
        ("tiny_gru_rgbdiff_bidir", dict(channels=[8, 16], in_channels=6, sequence="gru", hidden=12, layers=2, bidirectional=True, classes=3), "rgb+diff"),
    ]
    for name, spec, representation in cases:
        model = tiny_model(**spec)
        with torch.no_grad():  # non-trivial BatchNorm statistics
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.5, 0.5)
                    m.running_var.uniform_(0.5, 2.0)
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)
            model.fc.weight.mul_(8)  # sharper, clip-dependent probabilities
        model.eval()
        weights = out / f"{name}.pt"
        torch.save(model.state_dict(), weights)
        labels = [f"class{i}" for i in range(spec["classes"])]
        args = argparse.Namespace(weights=str(weights), encoder="lrcn-small", labels=labels, input=representation,
                                  frames=5, size=32, short_side=36, mean=[0.45, 0.45, 0.45], std=[0.225, 0.225, 0.225],
                                  sequence=spec["sequence"], output=str(out / f"{name}.safetensors"), name=name, dataset=None)
        convert(args)
        weights.unlink()
        clips = torch.randn(2, 5, spec["in_channels"], 32, 32)
        clips[0] += torch.linspace(-1, 1, 5).view(5, 1, 1, 1)  # distinct clips: a ramp over time ...
        clips[1] = clips[1] * 2 - 0.5                             # ... and a brighter, noisier one
        with torch.no_grad():
            probabilities = torch.softmax(model(clips), dim=1)
        write_safetensors(str(out / f"{name}_io.safetensors"), {"input": clips, "probabilities": probabilities},
                          {"torch": torch.__version__})
        print(f"{name}: probabilities {probabilities.numpy().round(4).tolist()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("weights", nargs="?")
    ap.add_argument("--encoder", choices=["lrcn-small", "lrcn-resnet18"], default="lrcn-small")
    ap.add_argument("--sequence", choices=["lstm", "gru", "rnn", "rnn_relu"], default="lstm")
    ap.add_argument("--labels", type=lambda s: s.split(","), help="comma-separated, in the head's output order")
    ap.add_argument("--labels-file", help="one label per line, in the head's output order")
    ap.add_argument("--input", choices=["rgb", "diff", "rgb+diff"], default="rgb")
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--size", type=int, default=112)
    ap.add_argument("--short-side", type=int)
    ap.add_argument("--mean", type=float, nargs=3, default=[0.45, 0.45, 0.45])
    ap.add_argument("--std", type=float, nargs=3, default=[0.225, 0.225, 0.225])
    ap.add_argument("--name")
    ap.add_argument("--dataset", help="what it was trained on (provenance)")
    ap.add_argument("--output", "-o")
    ap.add_argument("--make-parity-fixtures", metavar="DIR")
    args = ap.parse_args()
    if args.make_parity_fixtures:
        return make_parity_fixtures(args.make_parity_fixtures)
    if not args.weights or not args.output:
        ap.error("WEIGHTS and --output are required")
    if args.labels_file:
        args.labels = [l.strip() for l in Path(args.labels_file).read_text().splitlines() if l.strip()]
    if not args.labels:
        ap.error("--labels or --labels-file is required")
    convert(args)


if __name__ == "__main__":
    main()

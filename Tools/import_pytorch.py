#!/usr/bin/env python3
"""Turn a CNN+RNN clip classifier trained in PyTorch into a vidclass model file.

The network must have the layout of ../shared/bench/models.py (DESIGN.md, "reference models"):
`encoder` (lrcn-small: Conv3x3(no bias)->BN->ReLU->MaxPool2 blocks then global average pooling;
or a torchvision ResNet-18/34/50, MobileNetV2, MobileNetV3-Small/Large or EfficientNet-B0 with
its fc/classifier replaced by nn.Identity), `lstm` (nn.LSTM / nn.GRU / nn.RNN, batch_first; the
attribute is called `lstm` whatever its kind) and `fc` (nn.Linear) on the last time step.
Its state_dict keys are used unchanged: Conv2d [out,in,kh,kw], BatchNorm weight/bias/running_*,
LSTM weight_ih_l0 [4H,I] gate order i,f,g,o, Linear [out,in].

WEIGHTS may also be a bare torchvision backbone (e.g. ImageNet weights: `resnet50(weights=...)
.state_dict()`): its fc/classifier is dropped, and a new recurrent layer (`--sequence`,
`--hidden`) and head for `--labels` are added with PyTorch's default initialisation (`--seed`),
ready for `vidclass train --init-from OUT --freeze-encoder`. Backbones default to ImageNet's
normalisation (mean 0.485,0.456,0.406, std 0.229,0.224,0.225).

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


ENCODERS = ["lrcn-small", "lrcn-resnet18", "lrcn-resnet34", "lrcn-resnet50", "lrcn-mobilenet-v2",
            "lrcn-mobilenet-v3-small", "lrcn-mobilenet-v3-large", "lrcn-efficientnet-b0"]


def encoder_name(name: str) -> str:
    """`mobilenet_v3_small`, `mobilenet-v3-small` or `lrcn-mobilenet-v3-small` -> the vidclass name."""
    key = name.lower().replace("_", "-")
    key = key if key.startswith("lrcn-") else "lrcn-" + key
    if key not in ENCODERS:
        raise argparse.ArgumentTypeError(f"unknown encoder {name!r} (one of {', '.join(ENCODERS)})")
    return key


def torchvision_backbone(encoder: str, width_mult: float = 1.0):
    """The torchvision network of `encoder` (random weights, nothing downloaded) with its
    classifier replaced by nn.Identity: frames [N,3,H,W] -> features [N,F]."""
    import torch.nn as nn
    import torchvision.models as tvm
    name = encoder[len("lrcn-"):].replace("-", "_")
    if name.startswith("resnet"):
        net = getattr(tvm, name)(weights=None)
        net.fc = nn.Identity()
    elif name == "efficientnet_b0":
        from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf
        setting, last = _efficientnet_conf("efficientnet_b0", width_mult=width_mult, depth_mult=1.0)
        net = EfficientNet(setting, 0.2, last_channel=last)
        net.classifier = nn.Identity()
    else:
        net = getattr(tvm, name)(weights=None, width_mult=width_mult)
        net.classifier = nn.Identity()
    return net


def first_conv_key(encoder: str) -> str:
    if encoder == "lrcn-small":
        return "encoder.0.weight"
    return "encoder.conv1.weight" if "resnet" in encoder else "encoder.features.0.0.weight"


def check_encoder_keys(state: dict, encoder: str, width_mult: float) -> None:
    """The encoder's keys must be torchvision's for this network (shapes too at the standard widths)."""
    if encoder == "lrcn-small":
        return
    reference = {f"encoder.{k}": tuple(v.shape) for k, v in torchvision_backbone(encoder, width_mult).state_dict().items()
                 if not k.endswith("num_batches_tracked")}
    got = {k: tuple(v.shape) for k, v in state.items() if k.startswith("encoder.")}
    missing, extra = sorted(set(reference) - set(got)), sorted(set(got) - set(reference))
    if missing or extra:
        sys.exit(f"error: the encoder's keys are not torchvision's {encoder[5:]}: missing {missing[:3]}, unexpected {extra[:3]}")
    standard = "resnet" not in encoder or state["encoder.conv1.weight"].shape[0] == 64
    wrong = [k for k in reference if standard and reference[k][1:] != got[k][1:] and k != first_conv_key(encoder)]
    if wrong:
        sys.exit(f"error: {wrong[0]} has shape {list(got[wrong[0]])}, torchvision's {encoder[5:]} at width "
                 f"{width_mult} has {list(reference[wrong[0]])} (is --width-multiplier right?)")


def bare_backbone(state: dict, args) -> dict:
    """A torchvision backbone's state_dict -> an LRCN state_dict with a new recurrent layer and head."""
    import torch
    import torch.nn as nn
    if args.encoder == "lrcn-small":
        sys.exit("error: a bare backbone needs --encoder (resnet18, mobilenet_v3_small, ...)")
    encoder = {f"encoder.{k}": v for k, v in state.items() if not k.startswith(("fc.", "classifier."))}
    features = torchvision_backbone(args.encoder, args.width_multiplier)
    check_encoder_keys(encoder, args.encoder, args.width_multiplier)
    features.load_state_dict({k[len("encoder."):]: v for k, v in encoder.items()}, strict=False)
    channels = encoder[first_conv_key(args.encoder)].shape[1]
    with torch.no_grad():
        feature_size = features.eval()(torch.zeros(1, channels, 64, 64)).shape[1]
    torch.manual_seed(args.seed)
    rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN, "rnn_relu": nn.RNN}[args.sequence]
    extra = {"nonlinearity": "relu"} if args.sequence == "rnn_relu" else {}
    lstm = rnn(feature_size, args.hidden, batch_first=True, **extra)
    fc = nn.Linear(args.hidden, len(args.labels))
    encoder.update({f"lstm.{k}": v for k, v in lstm.state_dict().items()})
    encoder.update({f"fc.{k}": v for k, v in fc.state_dict().items()})
    return encoder


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
    first_conv = first_conv_key(args.encoder)
    if first_conv not in state:
        sys.exit(f"error: no {first_conv}: the encoder is not a {args.encoder} (see --encoder)")
    check_encoder_keys(state, args.encoder, args.width_multiplier)
    in_channels = state[first_conv].shape[1]
    channels = {"rgb": 3, "diff": 3, "rgb+diff": 6}[args.input]
    if in_channels != channels:
        sys.exit(f"error: the first convolution takes {in_channels} channels, input '{args.input}' gives {channels}")
    small_channels = [state[k].shape[0] for k in sorted(
        (k for k in keys if k.startswith("encoder.") and k.endswith(".weight") and state[k].dim() == 4),
        key=lambda k: int(k.split(".")[1]))] if args.encoder == "lrcn-small" else [32, 64, 128, 256]
    resnet_width = state["encoder.conv1.weight"].shape[0] if "resnet" in args.encoder else 64
    return {
        "format": "vidclass-model", "formatVersion": 1,
        "name": args.name or Path(args.output).stem,
        "architecture": {
            "backbone": args.encoder, "numClasses": classes, "smallChannels": small_channels,
            "resnetWidth": resnet_width, "sequenceKind": sequence, "hiddenSize": hidden,
            "sequenceLayers": layers, "bidirectional": bidirectional, "head": "last",
            "inputChannels": in_channels, "headDropout": 0, "widthMultiplier": args.width_multiplier,
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
    bare = not any(k.startswith("encoder.") for k in state) and "lstm.weight_ih_l0" not in state
    if getattr(args, "mean", None) is None or getattr(args, "std", None) is None:
        # A bare torchvision backbone was trained on ImageNet's normalisation; a whole model on Kinetics'.
        args.mean = getattr(args, "mean", None) or ([0.485, 0.456, 0.406] if bare else [0.45, 0.45, 0.45])
        args.std = getattr(args, "std", None) or ([0.229, 0.224, 0.225] if bare else [0.225, 0.225, 0.225])
    if bare:
        state = bare_backbone(state, args)
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


class NarrowResNet:
    """torchvision's ResNet-18/34/50 structure (same state_dict keys) with layer widths w…8w."""

    @staticmethod
    def build(depth: int, w: int):
        import torch.nn as nn
        from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet
        block, layers = {18: (BasicBlock, [2, 2, 2, 2]), 34: (BasicBlock, [3, 4, 6, 3]), 50: (Bottleneck, [3, 4, 6, 3])}[depth]
        net = ResNet.__new__(ResNet)
        nn.Module.__init__(net)
        net._norm_layer, net.dilation, net.groups, net.base_width, net.inplanes = nn.BatchNorm2d, 1, 1, 64, w
        net.conv1 = nn.Conv2d(3, w, 7, 2, 3, bias=False)
        net.bn1, net.relu, net.maxpool = nn.BatchNorm2d(w), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)
        net.layer1 = net._make_layer(block, w, layers[0])
        net.layer2 = net._make_layer(block, 2 * w, layers[1], stride=2)
        net.layer3 = net._make_layer(block, 4 * w, layers[2], stride=2)
        net.layer4 = net._make_layer(block, 8 * w, layers[3], stride=2)
        net.avgpool, net.fc = nn.AdaptiveAvgPool2d(1), nn.Identity()
        return net


class BackboneLRCN:
    @staticmethod
    def build(encoder, feature_size: int, hidden: int, classes: int, sequence: str = "lstm"):
        import torch.nn as nn

        class LRCN(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = encoder
                self.lstm = {"lstm": nn.LSTM, "gru": nn.GRU}[sequence](feature_size, hidden, batch_first=True)
                self.fc = nn.Linear(hidden, classes)

            def forward(self, x):
                b, t = x.shape[:2]
                out, _ = self.lstm(self.encoder(x.flatten(0, 1)).view(b, t, -1))
                return self.fc(out[:, -1, :])

        return LRCN()


def fnv1a64(text: str) -> int:
    h = 0xCBF29CE484222325
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def hashed_tensor(name: str, shape, gamma=(0.5, 1.0), head_scale: float = 1.0) -> "torch.Tensor":
    """Weights drawn from a hash of the key and the index, which the Swift parity test draws the
    same way (EncoderParityTests.hashedTensor): full-size networks checked without committing weights.
    BatchNorm weights are uniform in `gamma` (ResNets need < 1 against the residual sums' growth,
    MobileNets > 1 against their linear bottlenecks' shrinking), `fc.weight`'s bound is scaled by `head_scale`."""
    import math
    import numpy as np
    import torch
    count = int(np.prod(shape)) if len(shape) else 1
    with np.errstate(over="ignore"):
        x = (np.arange(count, dtype=np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15) ^ np.uint64(fnv1a64(name))
        x ^= x >> np.uint64(31)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
    u = (x >> np.uint64(40)).astype(np.float64) / float(1 << 24)
    if name.endswith("running_var"):
        lo, hi = 0.8, 1.2
    elif name.endswith("running_mean"):
        lo, hi = -0.1, 0.1
    elif len(shape) == 1:
        lo, hi = gamma if name.endswith(".weight") else (-0.1, 0.1)
    elif len(shape) == 4:
        bound = math.sqrt(6 / (shape[1] * shape[2] * shape[3]))
        lo, hi = -bound, bound
    else:
        bound = (head_scale if name == "fc.weight" else 1) / math.sqrt(shape[1])
        lo, hi = -bound, bound
    return torch.from_numpy((lo + (hi - lo) * u).astype(np.float32)).reshape(tuple(shape))


def make_encoder_parity_fixtures(directory: str) -> None:
    """Tiny versions of every torchvision encoder, converted by `convert` as a user's model is, and
    the full-size networks with hashed weights (only the card, inputs and probabilities stored)."""
    import torch
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    tiny = [("lrcn-resnet34", {"resnet_width": 4}), ("lrcn-resnet50", {"resnet_width": 2}),
            ("lrcn-mobilenet-v2", {"width": 0.1}), ("lrcn-mobilenet-v3-small", {"width": 0.25}),
            ("lrcn-mobilenet-v3-large", {"width": 0.1}), ("lrcn-efficientnet-b0", {"width": 0.1})]
    for i, (encoder, size) in enumerate(tiny):
        torch.manual_seed(100 + i)
        name = "tiny_" + encoder[5:].replace("-", "_")
        width = size.get("width", 1.0)
        if "resnet" in encoder:
            backbone = NarrowResNet.build(int(encoder[-2:]), size["resnet_width"])
        else:
            backbone = torchvision_backbone(encoder, width)
        with torch.no_grad():
            features = backbone.eval()(torch.zeros(1, 3, 64, 64)).shape[1]
        model = BackboneLRCN.build(backbone, features, hidden=8, classes=3, sequence="gru" if i % 2 else "lstm").eval()
        gamma = (0.5, 1.0) if "resnet" in encoder else (0.9, 1.3)
        model.load_state_dict({k: hashed_tensor(f"{name}.{k}", list(v.shape), gamma, head_scale=8)
                               for k, v in model.state_dict().items() if v.is_floating_point()}, strict=False)
        weights = out / f"{name}.pt"
        torch.save(model.state_dict(), weights)
        args = argparse.Namespace(weights=str(weights), encoder=encoder, labels=["a", "b", "c"], input="rgb", frames=2,
                                  size=48, short_side=54, mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225],
                                  sequence="gru" if i % 2 else "lstm", output=str(out / f"{name}.safetensors"), name=name,
                                  dataset=None, width_multiplier=width, hidden=8, seed=0)
        convert(args)
        weights.unlink()
        clips = torch.randn(2, 2, 3, 48, 48)
        clips[0] += torch.linspace(-1, 1, 2).view(2, 1, 1, 1)
        with torch.no_grad():
            probabilities = torch.softmax(model(clips), dim=1)
        write_safetensors(str(out / f"{name}_io.safetensors"), {"input": clips, "probabilities": probabilities},
                          {"torch": torch.__version__})
        print(f"{name}: probabilities {probabilities.numpy().round(4).tolist()}")
    for encoder in ENCODERS[2:]:
        torch.manual_seed(7)
        backbone = torchvision_backbone(encoder)
        with torch.no_grad():
            features = backbone.eval()(torch.zeros(1, 3, 64, 64)).shape[1]
        model = BackboneLRCN.build(backbone, features, hidden=16, classes=4).eval()
        gamma = (0.5, 1.0) if "resnet" in encoder else (0.9, 1.3)
        state = {k: hashed_tensor(k, list(v.shape), gamma, head_scale=8)
                 for k, v in model.state_dict().items() if v.is_floating_point()}
        model.load_state_dict(state, strict=False)
        args = argparse.Namespace(weights="hashed", encoder=encoder, labels=["a", "b", "c", "d"], input="rgb", frames=2,
                                  size=48, short_side=54, mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225],
                                  sequence="lstm", output="hashed", name=encoder, dataset=None, width_multiplier=1.0)
        card = describe(state, args)
        clips = torch.randn(2, 2, 3, 48, 48)
        clips[1] = clips[1] * 0.5 + 0.5
        with torch.no_grad():
            probabilities = torch.softmax(model(clips), dim=1)
        name = "full_" + encoder[5:].replace("-", "_")
        write_safetensors(str(out / f"{name}_io.safetensors"), {"input": clips, "probabilities": probabilities},
                          {"torch": torch.__version__, "vidclass": json.dumps(card, sort_keys=True),
                           "gamma": json.dumps(list(gamma)), "headScale": "8"})
        print(f"{name}: probabilities {probabilities.numpy().round(4).tolist()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("weights", nargs="?")
    ap.add_argument("--encoder", type=encoder_name, default="lrcn-small",
                    help="lrcn-small, or a torchvision backbone: resnet18, resnet34, resnet50, mobilenet_v2, "
                         "mobilenet_v3_small, mobilenet_v3_large, efficientnet_b0")
    ap.add_argument("--width-multiplier", type=float, default=1.0, help="the MobileNet's/EfficientNet's width_mult")
    ap.add_argument("--hidden", type=int, default=256, help="a bare backbone's new recurrent layer's hidden size")
    ap.add_argument("--seed", type=int, default=0, help="a bare backbone's new layers' initialisation")
    ap.add_argument("--sequence", choices=["lstm", "gru", "rnn", "rnn_relu"], default="lstm")
    ap.add_argument("--labels", type=lambda s: s.split(","), help="comma-separated, in the head's output order")
    ap.add_argument("--labels-file", help="one label per line, in the head's output order")
    ap.add_argument("--input", choices=["rgb", "diff", "rgb+diff"], default="rgb")
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--size", type=int, default=112)
    ap.add_argument("--short-side", type=int)
    ap.add_argument("--mean", type=float, nargs=3, help="default 0.45 (Kinetics); 0.485 0.456 0.406 (ImageNet) for a bare backbone")
    ap.add_argument("--std", type=float, nargs=3, help="default 0.225; 0.229 0.224 0.225 for a bare backbone")
    ap.add_argument("--name")
    ap.add_argument("--dataset", help="what it was trained on (provenance)")
    ap.add_argument("--output", "-o")
    ap.add_argument("--make-parity-fixtures", metavar="DIR")
    ap.add_argument("--make-encoder-parity-fixtures", metavar="DIR")
    args = ap.parse_args()
    if args.make_parity_fixtures:
        return make_parity_fixtures(args.make_parity_fixtures)
    if args.make_encoder_parity_fixtures:
        return make_encoder_parity_fixtures(args.make_encoder_parity_fixtures)
    if not args.weights or not args.output:
        ap.error("WEIGHTS and --output are required")
    if args.labels_file:
        args.labels = [l.strip() for l in Path(args.labels_file).read_text().splitlines() if l.strip()]
    if not args.labels:
        ap.error("--labels or --labels-file is required")
    convert(args)


if __name__ == "__main__":
    main()

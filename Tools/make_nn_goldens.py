#!/usr/bin/env python3
"""Writes PyTorch parity goldens for the NeuralNetwork tests (run by hand, not in CI).

    ~/.cache/vidclass-bench/venv/bin/python Tools/make_nn_goldens.py

Needs torch, torchvision and safetensors. Writes small safetensors files to Fixtures/Golden/
(committed; tiny shapes, a few hundred KB in total) and, for the full-size reference models,
~/.cache/vidclass-bench/goldens/ (not committed: ResNet-18's weights alone are ~47 MB).

Each golden file holds `in.*` (inputs), `param.*` (weights, PyTorch state_dict names), `out.*`
(outputs) and `grad.*` (autograd gradients). Layer gradients are taken for the scalar
loss sum(output * probe), with `in.probe` stored, so the Swift side calls backward(probe).

Why the model goldens look the way they do: lrcn-small at full width is 3.7 MB and
lrcn-resnet18 47 MB, far too much to commit. So the committed model goldens use the *same module
structure and state_dict names* at a tiny width (lrcn-small with channels 4-8-8-16, ResNet-18
built from torchvision's BasicBlock with width 4, weights stored as F16 and used in F16-rounded
form by PyTorch too, so the F16 reader is exercised as well). That the tiny variants have exactly
the reference models' key structure is asserted here, and the full-size key/shape lists are
committed (state_dict_keys.json) so the Swift test checks the full-size architectures' names and
shapes. Full-size numerical parity runs when the uncommitted files in ~/.cache exist.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torchvision
from safetensors.torch import save_file
from torchvision.models.resnet import BasicBlock

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Fixtures" / "Golden"
CACHE = Path.home() / ".cache" / "vidclass-bench" / "goldens"
sys.path.insert(0, "/work/shared/bench")
import models as bench_models  # noqa: E402  (the reference definitions)

torch.set_num_threads(1)


def save(name: str, tensors: dict[str, torch.Tensor], meta: dict | None = None, directory: Path = OUT) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    clean = {k: v.detach().contiguous() for k, v in tensors.items()}
    save_file(clean, str(directory / f"{name}.safetensors"), metadata={"config": json.dumps(meta or {})})


def layer_golden(name: str, module: nn.Module, x: torch.Tensor, meta: dict, train: bool = True) -> None:
    module.train(train)
    params = {f"param.{k}": v.detach().clone() for k, v in module.state_dict().items()}
    x = x.clone().requires_grad_(True)
    y = module(x)
    probe = torch.randn_like(y)
    (y * probe).sum().backward()
    t = {"in.x": x.detach(), "in.probe": probe, "out.y": y.detach(), "grad.x": x.grad}
    t.update(params)
    for k, p in module.named_parameters():
        t[f"grad.{k}"] = p.grad
    for k, v in module.state_dict().items():
        if k.startswith("running"):
            t[f"after.{k}"] = v.detach().clone()
    save(name, t, meta)


def layers() -> None:
    torch.manual_seed(1)
    convs = {
        "conv_basic": (dict(in_channels=3, out_channels=4, kernel_size=3, stride=1, padding=1), [2, 3, 5, 6]),
        "conv_groups_dilation": (dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=(2, 1),
                                      padding=(1, 0), dilation=(1, 2), groups=2, bias=False), [3, 4, 7, 5]),
        "conv_depthwise": (dict(in_channels=3, out_channels=3, kernel_size=3, padding=2, dilation=2, groups=3),
                           [2, 3, 4, 5]),
        "conv_pointwise_strided": (dict(in_channels=2, out_channels=5, kernel_size=1, stride=2), [2, 2, 5, 5]),
    }
    for name, (cfg, shape) in convs.items():
        layer_golden(name, nn.Conv2d(**cfg), torch.randn(shape), cfg)

    bn = nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.weight.normal_()
        bn.bias.normal_()
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2)
    layer_golden("bn_train", bn, torch.randn(2, 3, 3, 5) * 2 + 1, {}, train=True)
    bn2 = nn.BatchNorm2d(3)
    with torch.no_grad():
        bn2.weight.normal_()
        bn2.bias.normal_()
        bn2.running_mean.normal_()
        bn2.running_var.uniform_(0.5, 2)
    layer_golden("bn_eval", bn2, torch.randn(2, 3, 3, 5), {}, train=False)

    layer_golden("maxpool_3_2_1", nn.MaxPool2d(3, 2, 1), torch.randn(2, 2, 7, 6), {})
    layer_golden("maxpool_2", nn.MaxPool2d(2), torch.randn(1, 2, 5, 5), {})
    layer_golden("avgpool_3_2_1", nn.AvgPool2d(3, 2, 1), torch.randn(2, 2, 7, 6), {})
    layer_golden("linear", nn.Linear(5, 3), torch.randn(4, 5), {})


def recurrent() -> None:
    torch.manual_seed(2)
    cases = {
        "lstm_2layer_bidir": (nn.LSTM, dict(num_layers=2, bidirectional=True)),
        "gru_2layer_bidir": (nn.GRU, dict(num_layers=2, bidirectional=True)),
        "rnn_tanh_2layer_bidir": (nn.RNN, dict(num_layers=2, bidirectional=True, nonlinearity="tanh")),
        "rnn_relu_2layer": (nn.RNN, dict(num_layers=2, bidirectional=False, nonlinearity="relu")),
        "lstm_1layer": (nn.LSTM, dict(num_layers=1, bidirectional=False)),
    }
    for name, (cls, cfg) in cases.items():
        m = cls(3, 4, batch_first=True, **cfg)
        d = 2 if cfg["bidirectional"] else 1
        x = torch.randn(2, 5, 3, requires_grad=True)
        h0 = torch.randn(cfg["num_layers"] * d, 2, 4, requires_grad=True)
        c0 = torch.randn(cfg["num_layers"] * d, 2, 4, requires_grad=True)
        if cls is nn.LSTM:
            y, (hn, cn) = m(x, (h0, c0))
        else:
            y, hn = m(x, h0)
            cn = None
        py, ph = torch.randn_like(y), torch.randn_like(hn)
        loss = (y * py).sum() + (hn * ph).sum()
        t = {"in.x": x.detach(), "in.h0": h0.detach(), "in.probe": py, "in.probe_hn": ph,
             "out.y": y.detach(), "out.hn": hn.detach()}
        if cn is not None:
            pc = torch.randn_like(cn)
            loss = loss + (cn * pc).sum()
            t.update({"in.c0": c0.detach(), "in.probe_cn": pc, "out.cn": cn.detach()})
        loss.backward()
        t.update({"grad.x": x.grad, "grad.h0": h0.grad})
        if cn is not None:
            t["grad.c0"] = c0.grad
        for k, v in m.state_dict().items():
            t[f"param.{k}"] = v.detach().clone()
        for k, p in m.named_parameters():
            t[f"grad.{k}"] = p.grad
        save(name, t, cfg)


def losses() -> None:
    torch.manual_seed(3)
    logits = torch.randn(5, 4) * 2
    target = torch.tensor([0, 3, 1, 3, 2])
    weight = torch.tensor([0.5, 2.0, 1.0, 1.5])
    t = {"in.logits": logits, "in.target": target.float(), "in.weight": weight}
    for name, kw in {"plain": {}, "weighted": {"weight": weight}, "smoothed": {"label_smoothing": 0.1},
                     "weighted_smoothed": {"weight": weight, "label_smoothing": 0.2}}.items():
        z = logits.clone().requires_grad_(True)
        loss = nn.functional.cross_entropy(z, target, **kw)
        loss.backward()
        t[f"out.{name}"] = loss.detach().reshape(1)
        t[f"grad.{name}"] = z.grad
    save("cross_entropy", t)


def optimizers() -> None:
    torch.manual_seed(4)
    p0 = torch.randn(6)
    grads = [torch.randn(6) for _ in range(3)]
    t = {"in.p0": p0}
    for i, g in enumerate(grads):
        t[f"in.g{i}"] = g
    configs = {
        "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
        "sgd_nesterov": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        "adam": lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1),
        "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
    }
    for name, make in configs.items():
        p = nn.Parameter(p0.clone())
        opt = make([p])
        for i, g in enumerate(grads):
            p.grad = g.clone()
            opt.step()
            t[f"out.{name}.{i}"] = p.detach().clone()
    # Gradient clipping by global norm.
    a, b = nn.Parameter(torch.zeros(3)), nn.Parameter(torch.zeros(2))
    a.grad, b.grad = torch.tensor([3.0, 0.0, 4.0]), torch.tensor([12.0, 0.0])
    norm = torch.nn.utils.clip_grad_norm_([a, b], max_norm=6.5)
    t["out.clip_norm"] = norm.reshape(1)
    t["out.clip_a"], t["out.clip_b"] = a.grad.clone(), b.grad.clone()
    # Learning-rate schedules: lr used at steps 0..n-1.
    def lrs(make_sched, n, lr=0.1):
        p = nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=lr)
        s = make_sched(opt)
        out = []
        for _ in range(n):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            s.step()
        return torch.tensor(out)
    t["out.lr_step"] = lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 10)
    t["out.lr_cosine"] = lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 12)
    t["out.lr_warmup"] = lrs(lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=4), 8)
    t["out.lr_onecycle"] = lrs(lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=20), 20)
    save("optimizers", t)


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------
def small_encoder(chans: list[int]) -> nn.Sequential:
    """bench/models.py's _small_encoder with configurable widths (same structure and names)."""
    layers: list[nn.Module] = []
    for cin, cout in zip(chans[:-1], chans[1:]):
        layers += [nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                   nn.MaxPool2d(2)]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(1)]
    return nn.Sequential(*layers)


class NarrowResNet18(nn.Module):
    """torchvision's ResNet-18 (fc = Identity) with layer widths w, 2w, 4w, 8w instead of 64…512."""

    def __init__(self, w: int):
        super().__init__()
        self.inplanes = w
        self.conv1 = nn.Conv2d(3, w, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(w, 1)
        self.layer2 = self._make_layer(2 * w, 2)
        self.layer3 = self._make_layer(4 * w, 2)
        self.layer4 = self._make_layer(8 * w, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Identity()

    def _make_layer(self, planes: int, stride: int) -> nn.Sequential:
        down = None
        if stride != 1 or self.inplanes != planes:
            down = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        blocks = [BasicBlock(self.inplanes, planes, stride, down), BasicBlock(planes, planes)]
        self.inplanes = planes
        return nn.Sequential(*blocks)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def randomize_bn(model: nn.Module) -> None:
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 2)


def model_golden(name: str, model: bench_models.LRCN, x: torch.Tensor, labels: torch.Tensor,
                 half_weights: bool, grad_keys: list[str] | None) -> None:
    randomize_bn(model)
    if half_weights:
        with torch.no_grad():
            for v in model.state_dict().values():
                if v.is_floating_point():
                    v.copy_(v.half().float())
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model.eval()
    with torch.no_grad():
        eval_logits = model(x)
    model.train()
    logits = model(x)
    loss = nn.functional.cross_entropy(logits, labels)
    loss.backward()
    t = {"in.x": x.half() if half_weights else x, "in.labels": labels.float(), "out.eval_logits": eval_logits, "out.train_logits": logits.detach(),
         "out.train_loss": loss.detach().reshape(1)}
    for k, p in model.named_parameters():
        if grad_keys is None or k in grad_keys:
            t[f"grad.{k}"] = p.grad
    save(f"{name}_io", t, {"half_weights": half_weights})
    weights = {k: (v.half() if half_weights and v.is_floating_point() else v) for k, v in state.items()}
    save_file(weights, str(OUT / f"{name}_weights.safetensors"))  # includes I64 num_batches_tracked


def models() -> None:
    # Key structure of the tiny variants equals the reference models'.
    ref_small = bench_models.build_model("lrcn-small")
    ref_resnet = bench_models.build_model("lrcn-resnet18")
    tiny_small = bench_models.LRCN(small_encoder([3, 4, 8, 8, 16]), 16, hidden=8, num_classes=3)
    tiny_resnet = bench_models.LRCN(NarrowResNet18(4), 32, hidden=8, num_classes=3)
    assert list(tiny_small.state_dict()) == list(ref_small.state_dict()), "lrcn-small keys differ"
    assert list(tiny_resnet.state_dict()) == list(ref_resnet.state_dict()), "resnet18 keys differ"
    keys = {name: [[k, list(v.shape)] for k, v in m.state_dict().items()]
            for name, m in (("lrcn-small", ref_small), ("lrcn-resnet18", ref_resnet))}
    (OUT / "state_dict_keys.json").write_text(json.dumps(keys, indent=0) + "\n")

    torch.manual_seed(5)
    tiny_small = bench_models.LRCN(small_encoder([3, 4, 8, 8, 16]), 16, hidden=8, num_classes=3)
    model_golden("lrcn_small_tiny", tiny_small, torch.randn(2, 3, 3, 16, 16), torch.tensor([2, 0]),
                 half_weights=False, grad_keys=None)
    torch.manual_seed(6)
    tiny_resnet = bench_models.LRCN(NarrowResNet18(4), 32, hidden=8, num_classes=3)
    # 3 frames of 48×48, not 2 of 32×32: at 32×32, layer4 runs at 1×1 and its training-mode BatchNorm
    # sees 2 values per channel, whose normalised output is ±1 whatever the input, so every gradient
    # below it is rounding noise in both frameworks. At 48×48 layer4 is 2×2 (12 values per channel).
    model_golden("lrcn_resnet_tiny", tiny_resnet, torch.randn(1, 3, 3, 48, 48).half().float(), torch.tensor([1]),
                 half_weights=True,
                 grad_keys=["encoder.conv1.weight", "encoder.bn1.weight", "encoder.layer2.0.downsample.0.weight",
                            "encoder.layer4.1.conv2.weight", "encoder.layer4.1.bn2.bias", "lstm.weight_ih_l0",
                            "lstm.weight_hh_l0", "lstm.bias_hh_l0", "fc.weight", "fc.bias"])


def blocks() -> None:
    """Activations, depthwise convolutions, squeeze-and-excitation and the residual blocks of the
    ResNet-34/50, MobileNetV2/V3 and EfficientNet encoders (`python Tools/make_nn_goldens.py blocks`)."""
    from functools import partial

    from torchvision.models.efficientnet import MBConv, MBConvConfig
    from torchvision.models.mobilenetv2 import InvertedResidual as V2Block
    from torchvision.models.mobilenetv3 import InvertedResidual as V3Block, InvertedResidualConfig
    from torchvision.models.resnet import Bottleneck
    from torchvision.ops.misc import SqueezeExcitation

    torch.manual_seed(17)
    for name, module in [("act_relu6", nn.ReLU6()), ("act_hardswish", nn.Hardswish()),
                         ("act_hardsigmoid", nn.Hardsigmoid()), ("act_silu", nn.SiLU()), ("act_sigmoid", nn.Sigmoid())]:
        layer_golden(name, module, torch.randn(3, 4, 5, 6) * 4, {})  # ×4: past the kinks at ±3 and 6
    depthwise = {
        "conv_depthwise_3s1": (dict(in_channels=6, out_channels=6, kernel_size=3, stride=1, padding=1, groups=6), [2, 6, 7, 9]),
        "conv_depthwise_3s2": (dict(in_channels=4, out_channels=4, kernel_size=3, stride=2, padding=1, groups=4,
                                    bias=False), [2, 4, 9, 8]),
        "conv_depthwise_5s2": (dict(in_channels=5, out_channels=5, kernel_size=5, stride=2, padding=2, groups=5), [1, 5, 11, 10]),
    }
    for name, (cfg, shape) in depthwise.items():
        layer_golden(name, nn.Conv2d(**cfg), torch.randn(shape), cfg)
    layer_golden("se_relu_sigmoid", SqueezeExcitation(8, 4), torch.randn(2, 8, 5, 6), {})
    layer_golden("se_silu_hardsigmoid", SqueezeExcitation(8, 8, activation=nn.SiLU, scale_activation=nn.Hardsigmoid),
                 torch.randn(2, 8, 5, 6), {})
    blocks = {
        "block_bottleneck": Bottleneck(8, 4, stride=2, downsample=nn.Sequential(nn.Conv2d(8, 16, 1, 2, bias=False),
                                                                             nn.BatchNorm2d(16))),
        "block_mobilenet_v2": V2Block(8, 8, 1, expand_ratio=6),
        "block_mobilenet_v2_noexpand": V2Block(8, 16, 2, expand_ratio=1),
        "block_mobilenet_v3": V3Block(InvertedResidualConfig(8, 5, 24, 8, True, "HS", 1, 1, 1.0),
                                      norm_layer=partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)),
        "block_efficientnet": MBConv(MBConvConfig(6, 3, 1, 8, 8, 1), stochastic_depth_prob=0.0, norm_layer=nn.BatchNorm2d),
    }
    for name, block in blocks.items():
        randomize_bn(block)
        layer_golden(name, block, torch.randn(3, 8, 9, 10), {}, train=True)
        layer_golden(name + "_eval", block, torch.randn(2, 8, 9, 10), {}, train=False)


def full_size() -> None:
    """Full-size reference models saved exactly as a PyTorch user would (not committed)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(bench_models.MODEL_NAMES):
        torch.manual_seed(10 + i)
        m = bench_models.build_model(name)
        randomize_bn(m)
        m.eval()
        x = torch.randn(1, 2, 3, 112, 112)
        with torch.no_grad():
            y = m(x)
        save_file({k: v.contiguous() for k, v in m.state_dict().items()}, str(CACHE / f"{name}.safetensors"))
        save_file({"in.x": x, "out.logits": y}, str(CACHE / f"{name}_io.safetensors"))


if __name__ == "__main__":
    if sys.argv[1:] == ["blocks"]:
        blocks()
        sys.exit(0)
    layers()
    recurrent()
    losses()
    optimizers()
    models()
    blocks()
    if os.environ.get("SKIP_FULL") != "1":
        full_size()
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files, {total / 1024:.0f} KiB, to {OUT}")

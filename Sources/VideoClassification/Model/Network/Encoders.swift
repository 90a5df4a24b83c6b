import NeuralNetwork
import Tensors

/// The `lrcn-small` frame encoder as `nn.Sequential`: for each width, Conv3×3(pad 1, no bias) →
/// BatchNorm2d → ReLU → MaxPool2d(2); then AdaptiveAvgPool2d(1) → Flatten. Input `[N, 3, H, W]`,
/// output `[N, channels.last]`. Keys `0.weight`, `1.weight`, `1.running_mean`, … as PyTorch.
public func makeSmallEncoder(channels: [Int], inputChannels: Int = 3, rng: inout SplitMix64) -> Sequential {
    var layers: [any Layer] = []
    var cin = inputChannels
    for cout in channels {
        layers += [Conv2d(cin, cout, kernelSize: 3, stride: 1, padding: 1, bias: false, rng: &rng),
                   BatchNorm2d(cout), ReLU(), MaxPool2d(kernelSize: 2)]
        cin = cout
    }
    layers += [GlobalAveragePool(keepSpatial: true), Flatten()]
    return Sequential(layers)
}

/// torchvision's ResNet-18 without `fc` (He et al., 2016): conv1 7×7/2 → bn1 → relu → maxpool 3/2 →
/// layer1…layer4 (two `BasicBlock`s each, widths w, 2w, 4w, 8w) → avgpool → flatten.
/// Input `[N, 3, H, W]`, output `[N, 8w]`. Keys as torchvision (`conv1.weight`, `layer2.0.downsample.0.weight`, …).
public func makeResNet18Encoder(width: Int = 64, inputChannels: Int = 3, rng: inout SplitMix64) -> Sequential {
    var children: [(String, any Layer)] = [
        ("conv1", Conv2d(inputChannels, width, kernelSize: 7, stride: 2, padding: 3, bias: false, rng: &rng)),
        ("bn1", BatchNorm2d(width)), ("relu", ReLU()), ("maxpool", MaxPool2d(kernelSize: 3, stride: 2, padding: 1)),
    ]
    var inPlanes = width
    for (i, planes) in [width, width * 2, width * 4, width * 8].enumerated() {
        let stride = i == 0 ? 1 : 2
        let first = BasicBlock(inPlanes, planes, stride: stride, rng: &rng)
        let second = BasicBlock(planes, planes, stride: 1, rng: &rng)
        children.append(("layer\(i + 1)", Sequential([first, second])))
        inPlanes = planes
    }
    children.append(("avgpool", GlobalAveragePool()))
    return Sequential(named: children)
}

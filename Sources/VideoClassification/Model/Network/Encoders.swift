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
    makeResNetEncoder(depth: 18, width: width, inputChannels: inputChannels, rng: &rng)
}

/// torchvision's ResNet-18, -34 or -50 without `fc`: the stem, `layer1`…`layer4` of `BasicBlock`s
/// (18: 2-2-2-2, 34: 3-4-6-3) or of `Bottleneck`s (50: 3-4-6-3, four times wider outputs), and
/// average pooling. Output `[N, 8w]` (`[N, 32w]` for ResNet-50). Keys as torchvision.
public func makeResNetEncoder(depth: Int, width: Int = 64, inputChannels: Int = 3, rng: inout SplitMix64) -> Sequential {
    let blocks: [Int]
    switch depth {
    case 18: blocks = [2, 2, 2, 2]
    case 34, 50: blocks = [3, 4, 6, 3]
    default: preconditionFailure("ResNet depth \(depth) is not 18, 34 or 50")
    }
    var children: [(String, any Layer)] = [
        ("conv1", Conv2d(inputChannels, width, kernelSize: 7, stride: 2, padding: 3, bias: false, rng: &rng)),
        ("bn1", BatchNorm2d(width)), ("relu", ReLU()), ("maxpool", MaxPool2d(kernelSize: 3, stride: 2, padding: 1)),
    ]
    var inPlanes = width
    for (i, planes) in [width, width * 2, width * 4, width * 8].enumerated() {
        var layer: [any Layer] = []
        for b in 0..<blocks[i] {
            let stride = i > 0 && b == 0 ? 2 : 1
            if depth == 50 {
                layer.append(ResidualBlock.bottleneck(inPlanes, planes, stride: stride, rng: &rng))
                inPlanes = planes * 4
            } else {
                layer.append(BasicBlock(inPlanes, planes, stride: stride, rng: &rng))
                inPlanes = planes
            }
        }
        children.append(("layer\(i + 1)", Sequential(layer)))
    }
    children.append(("avgpool", GlobalAveragePool()))
    return Sequential(named: children)
}

/// torchvision's `_make_divisible`: `value` rounded to a multiple of `divisor` (at least
/// `minimum`, default `divisor`), never more than 10 % below `value`.
public func makeDivisible(_ value: Double, _ divisor: Int = 8, minimum: Int? = nil) -> Int {
    var rounded = max(minimum ?? divisor, Int(value + Double(divisor) / 2) / divisor * divisor)
    if Double(rounded) < 0.9 * value { rounded += divisor }
    return rounded
}

/// One inverted-residual block of MobileNetV2, MobileNetV3 or EfficientNet, as its torchvision
/// configuration resolves it for a width multiplier.
public struct InvertedResidualSpecification: Sendable, Equatable {
    /// Input, expanded (depthwise) and output channels.
    public var input: Int, expanded: Int, output: Int
    /// The depthwise convolution's kernel size and stride.
    public var kernel: Int, stride: Int
    /// Squeeze-and-excitation's squeezed channels; 0 for none.
    public var squeeze: Int
    /// The expansion's and the depthwise convolution's activation.
    public var activation: ActivationFunction
}

/// The layout of a torchvision MobileNet or EfficientNet `features` stack.
public struct MobileEncoderSpecification: Sendable, Equatable {
    /// The stem's output channels (a 3×3 stride-2 convolution).
    public var stem: Int
    /// The blocks, grouped as torchvision nests them: one group per `features` entry (MobileNet:
    /// one block per group; EfficientNet: one stage per group).
    public var stages: [[InvertedResidualSpecification]]
    /// The last 1×1 convolution's output channels: the feature size.
    public var last: Int
    /// The stem's and the last convolution's activation.
    public var activation: ActivationFunction
    /// Squeeze-and-excitation's inner activation and gate.
    public var squeezeActivation: ActivationFunction, squeezeGate: ActivationFunction
    /// BatchNorm's epsilon and momentum.
    public var batchNormEpsilon: Float, batchNormMomentum: Float
    /// Whether blocks name their body `conv` (MobileNetV2) or `block` (MobileNetV3, EfficientNet).
    public var bodyName: String
    /// Whether a block without expansion projects with a bare Conv2d + BatchNorm (MobileNetV2) or
    /// with a Conv2dNormActivation (MobileNetV3, EfficientNet): it changes the parameter names.
    public var bareProjection: Bool
    /// EfficientNet's stochastic depth: the last block's drop probability (0.2), linear in the block's index.
    public var stochasticDepth: Float
    /// Whether each stage's blocks are nested in one `features` entry (EfficientNet) rather than
    /// listed one entry each (MobileNet).
    public var nestsStages: Bool

    /// The specification of `backbone` at `widthMultiplier` (nil for the ResNets and lrcn-small).
    public init?(_ backbone: ModelDescription.Backbone, widthMultiplier w: Double = 1) {
        func adjust(_ c: Int) -> Int { makeDivisible(Double(c) * w) }
        switch backbone {
        case .mobilenetV2:
            var stages: [[InvertedResidualSpecification]] = []
            var input = adjust(32)
            stem = input
            for (t, c, n, s) in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)] {
                let output = adjust(c)
                for i in 0..<n {
                    stages.append([InvertedResidualSpecification(input: input, expanded: input * t, output: output, kernel: 3,
                                                                 stride: i == 0 ? s : 1, squeeze: 0, activation: .relu6)])
                    input = output
                }
            }
            self.stages = stages
            last = makeDivisible(1280 * max(1, w))
            activation = .relu6
            (squeezeActivation, squeezeGate) = (.relu, .hardsigmoid)
            (batchNormEpsilon, batchNormMomentum) = (1e-5, 0.1)
            bodyName = "conv"
            bareProjection = true
            stochasticDepth = 0
            nestsStages = false
        case .mobilenetV3Small, .mobilenetV3Large:
            // (input, kernel, expanded, output, SE, hard-swish, stride), torchvision's `_mobilenet_v3_conf`.
            let table: [(Int, Int, Int, Int, Bool, Bool, Int)] = backbone == .mobilenetV3Small ? [
                (16, 3, 16, 16, true, false, 2), (16, 3, 72, 24, false, false, 2), (24, 3, 88, 24, false, false, 1),
                (24, 5, 96, 40, true, true, 2), (40, 5, 240, 40, true, true, 1), (40, 5, 240, 40, true, true, 1),
                (40, 5, 120, 48, true, true, 1), (48, 5, 144, 48, true, true, 1), (48, 5, 288, 96, true, true, 2),
                (96, 5, 576, 96, true, true, 1), (96, 5, 576, 96, true, true, 1),
            ] : [
                (16, 3, 16, 16, false, false, 1), (16, 3, 64, 24, false, false, 2), (24, 3, 72, 24, false, false, 1),
                (24, 5, 72, 40, true, false, 2), (40, 5, 120, 40, true, false, 1), (40, 5, 120, 40, true, false, 1),
                (40, 3, 240, 80, false, true, 2), (80, 3, 200, 80, false, true, 1), (80, 3, 184, 80, false, true, 1),
                (80, 3, 184, 80, false, true, 1), (80, 3, 480, 112, true, true, 1), (112, 3, 672, 112, true, true, 1),
                (112, 5, 672, 160, true, true, 2), (160, 5, 960, 160, true, true, 1), (160, 5, 960, 160, true, true, 1),
            ]
            stages = table.map { row in
                let expanded = adjust(row.2)
                return [InvertedResidualSpecification(input: adjust(row.0), expanded: expanded, output: adjust(row.3), kernel: row.1,
                                                      stride: row.6, squeeze: row.4 ? makeDivisible(Double(expanded / 4)) : 0,
                                                      activation: row.5 ? .hardswish : .relu)]
            }
            stem = adjust(16)
            last = 6 * stages.last![0].output
            activation = .hardswish
            (squeezeActivation, squeezeGate) = (.relu, .hardsigmoid)
            (batchNormEpsilon, batchNormMomentum) = (1e-3, 0.01)
            bodyName = "block"
            bareProjection = false
            stochasticDepth = 0
            nestsStages = false
        case .efficientnetB0:
            // (expand ratio, kernel, stride, input, output, layers), torchvision's `_efficientnet_conf`.
            let table = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
                         (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]
            stages = table.map { row in
                (0..<row.5).map { i in
                    let input = i == 0 ? adjust(row.3) : adjust(row.4)
                    return InvertedResidualSpecification(input: input, expanded: makeDivisible(Double(input * row.0)),
                                                         output: adjust(row.4), kernel: row.1, stride: i == 0 ? row.2 : 1,
                                                         squeeze: max(1, input / 4), activation: .silu)
                }
            }
            stem = adjust(32)
            last = 4 * stages.last!.last!.output
            activation = .silu
            (squeezeActivation, squeezeGate) = (.silu, .sigmoid)
            (batchNormEpsilon, batchNormMomentum) = (1e-5, 0.1)
            bodyName = "block"
            bareProjection = false
            stochasticDepth = 0.2
            nestsStages = true
        case .small, .resnet18, .resnet34, .resnet50:
            return nil
        }
    }

    /// Weights of the convolutions (a lower bound on the parameter count of a file holding them).
    public var convolutionWeightCount: Int {
        var count = 27 * stem + stages.last!.last!.output * last
        for block in stages.joined() {
            if block.expanded != block.input { count += block.input * block.expanded }
            count += block.kernel * block.kernel * block.expanded + block.expanded * block.output
            count += 2 * block.squeeze * block.expanded
        }
        return count
    }
}

/// torchvision's MobileNetV2, MobileNetV3 (small or large) or EfficientNet-B0 without the
/// classifier: `features` (the stem, the inverted-residual blocks, the last 1×1 convolution) and
/// average pooling. Input `[N, C, H, W]`, output `[N, spec.last]`. Keys as torchvision
/// (`features.0.0.weight`, `features.2.block.1.0.weight`, `features.3.0.block.2.fc1.bias`, …).
public func makeMobileEncoder(_ spec: MobileEncoderSpecification, inputChannels: Int = 3, seed: UInt64 = 0,
                              rng: inout SplitMix64) -> Sequential {
    let norm = (spec.batchNormEpsilon, spec.batchNormMomentum)
    var features: [any Layer] = [Sequential.convNormActivation(inputChannels, spec.stem, kernel: 3, stride: 2,
                                                               activation: spec.activation, batchNorm: norm, rng: &rng)]
    let total = spec.stages.reduce(0) { $0 + $1.count }
    var index = 0
    for stage in spec.stages {
        var blocks: [any Layer] = []
        for b in stage {
            let drop = spec.stochasticDepth * Float(index) / Float(max(total, 1))
            blocks.append(ResidualBlock.invertedResidual(
                input: b.input, expanded: b.expanded, output: b.output, kernel: b.kernel, stride: b.stride,
                activation: b.activation, squeeze: b.squeeze, squeezeActivation: spec.squeezeActivation,
                squeezeGate: spec.squeezeGate, batchNorm: (spec.batchNormEpsilon, spec.batchNormMomentum),
                bodyName: spec.bodyName, bareProjection: spec.bareProjection, stochasticDepth: drop,
                seed: seed &+ UInt64(index), rng: &rng))
            index += 1
        }
        // MobileNets list their blocks in `features` directly; EfficientNet nests a stage's blocks.
        features.append(spec.nestsStages ? Sequential(blocks) : blocks[0])
    }
    features.append(Sequential.convNormActivation(spec.stages.last!.last!.output, spec.last, kernel: 1,
                                                  activation: spec.activation, batchNorm: norm, rng: &rng))
    return Sequential(named: [("features", Sequential(features)), ("avgpool", GlobalAveragePool())])
}

/// The frame encoder of `description`, with PyTorch's default initialisation drawn from `rng`.
public func makeEncoder(_ description: ModelDescription, seed: UInt64 = 0, rng: inout SplitMix64) -> Sequential {
    switch description.backbone {
    case .small:
        return makeSmallEncoder(channels: description.smallChannels, inputChannels: description.inputChannels, rng: &rng)
    case .resnet18, .resnet34, .resnet50:
        let depth = description.backbone == .resnet18 ? 18 : description.backbone == .resnet34 ? 34 : 50
        return makeResNetEncoder(depth: depth, width: description.resnetWidth, inputChannels: description.inputChannels, rng: &rng)
    case .mobilenetV2, .mobilenetV3Small, .mobilenetV3Large, .efficientnetB0:
        let spec = MobileEncoderSpecification(description.backbone, widthMultiplier: description.widthMultiplier)!
        return makeMobileEncoder(spec, inputChannels: description.inputChannels, seed: seed, rng: &rng)
    }
}

import Tensors

/// A residual block: `post(body(x) + shortcut(x))`, or `body(x)` alone when it has no residual
/// connection. One type for torchvision's ResNet `Bottleneck`, MobileNetV2's and MobileNetV3's
/// `InvertedResidual` and EfficientNet's `MBConv`, which differ only in their bodies, in whether the
/// shortcut is a projection (`downsample`) or the identity, in the activation after the sum, and in
/// stochastic depth.
///
/// Parameter names are the body's, under `bodyName` (`conv.0.0.weight` for MobileNetV2's `conv`,
/// `block.1.0.weight` for MobileNetV3's `block`; with an empty `bodyName` the body's children are the
/// block's own, `conv1.weight` for ResNet), then the shortcut's under `downsample`.
public final class ResidualBlock: Layer {
    /// The residual branch.
    public let body: Sequential
    /// Name of the body in the `state_dict` (`""`: its children are named directly).
    public let bodyName: String
    /// Whether the input is added to the body's output (torchvision's `use_res_connect`).
    public let hasResidual: Bool
    /// The projection of the input when the shape changes (ResNet's `downsample`); nil: the identity.
    public let shortcut: Sequential?
    /// Applied after the sum (ReLU in ResNet); nil: none.
    public let postActivation: ActivationFunction?
    /// Probability of dropping the body for a whole image in training (torchvision's
    /// `StochasticDepth(p, "row")`; EfficientNet); 0: never.
    public let stochasticDepth: Float
    private var rng: SplitMix64
    private var rowScale: [Float]?
    private let post: Activation?

    /// A block; `hasResidual` requires the body (or `shortcut`) to keep the input's shape.
    public init(body: Sequential, bodyName: String, hasResidual: Bool, shortcut: Sequential? = nil,
                postActivation: ActivationFunction? = nil, stochasticDepth: Float = 0, seed: UInt64 = 0) {
        precondition(stochasticDepth >= 0 && stochasticDepth < 1, "stochastic depth must be in [0, 1)")
        precondition(hasResidual || shortcut == nil, "a shortcut needs the residual connection")
        self.body = body
        self.bodyName = bodyName
        self.hasResidual = hasResidual
        self.shortcut = shortcut
        self.postActivation = postActivation
        self.stochasticDepth = stochasticDepth
        rng = SplitMix64(seed: seed)
        post = postActivation.map { Activation($0) }
    }

    /// torchvision's ResNet `Bottleneck` (expansion 4): 1×1 → 3×3 (strided) → 1×1 convolutions with
    /// BatchNorm, ReLU after the sum, and a 1×1 strided projection when the shape changes.
    public static func bottleneck(_ inPlanes: Int, _ planes: Int, stride: Int, rng: inout SplitMix64) -> ResidualBlock {
        let out = planes * 4
        let body = Sequential(named: [
            ("conv1", Conv2d(inPlanes, planes, kernelSize: 1, bias: false, rng: &rng)), ("bn1", BatchNorm2d(planes)),
            ("relu1", ReLU()),
            ("conv2", Conv2d(planes, planes, kernelSize: 3, stride: stride, padding: 1, bias: false, rng: &rng)),
            ("bn2", BatchNorm2d(planes)), ("relu2", ReLU()),
            ("conv3", Conv2d(planes, out, kernelSize: 1, bias: false, rng: &rng)), ("bn3", BatchNorm2d(out)),
        ])
        let shortcut = stride != 1 || inPlanes != out
            ? Sequential([Conv2d(inPlanes, out, kernelSize: 1, stride: stride, bias: false, rng: &rng), BatchNorm2d(out)])
            : nil
        return ResidualBlock(body: body, bodyName: "", hasResidual: true, shortcut: shortcut, postActivation: .relu)
    }

    /// An inverted-residual block as torchvision builds them: MobileNetV2's and MobileNetV3's
    /// `InvertedResidual`, EfficientNet's `MBConv`. The body: a 1×1 expansion (when `expanded` ≠
    /// `input`), a depthwise `kernel`×`kernel` convolution (strided), squeeze-and-excitation (when
    /// `squeeze` > 0), and a linear 1×1 projection; the input is added when the stride is 1 and the
    /// channels do not change.
    ///
    /// - Parameters:
    ///   - input: the block's input channels.
    ///   - expanded: the channels of the expansion and of the depthwise convolution.
    ///   - output: the block's output channels.
    ///   - kernel: the depthwise convolution's kernel size (padding `(kernel − 1) / 2`).
    ///   - stride: the depthwise convolution's stride (1 or 2).
    ///   - activation: the expansion's and the depthwise convolution's activation.
    ///   - squeeze: squeeze-and-excitation's squeezed channels; 0 for none.
    ///   - squeezeActivation: squeeze-and-excitation's inner activation.
    ///   - squeezeGate: squeeze-and-excitation's gate.
    ///   - batchNorm: BatchNorm's epsilon and momentum (MobileNetV3: 1e-3 and 0.01).
    ///   - bodyName: `conv` (MobileNetV2) or `block` (MobileNetV3, EfficientNet).
    ///   - bareProjection: the projection is a bare Conv2d and BatchNorm (MobileNetV2: `conv.2`,
    ///     `conv.3`) rather than a Conv2dNormActivation (`block.3.0`, `block.3.1`).
    ///   - stochasticDepth: the probability of dropping the body for an image in training (only
    ///     with the residual connection).
    ///   - seed: the stochastic-depth generator's seed.
    ///   - rng: the generator of the convolutions' initial weights.
    public static func invertedResidual(
        input: Int, expanded: Int, output: Int, kernel: Int, stride: Int, activation: ActivationFunction,
        squeeze: Int = 0, squeezeActivation: ActivationFunction = .relu, squeezeGate: ActivationFunction = .hardsigmoid,
        batchNorm: (epsilon: Float, momentum: Float) = (1e-5, 0.1), bodyName: String = "block",
        bareProjection: Bool = false, stochasticDepth: Float = 0, seed: UInt64 = 0, rng: inout SplitMix64
    ) -> ResidualBlock {
        var body: [any Layer] = []
        if expanded != input {
            body.append(Sequential.convNormActivation(input, expanded, kernel: 1, activation: activation, batchNorm: batchNorm, rng: &rng))
        }
        body.append(Sequential.convNormActivation(expanded, expanded, kernel: kernel, stride: stride, groups: expanded,
                                                  activation: activation, batchNorm: batchNorm, rng: &rng))
        if squeeze > 0 {
            body.append(SqueezeExcitation(expanded, squeezeChannels: squeeze, activation: squeezeActivation,
                                          gate: squeezeGate, rng: &rng))
        }
        if bareProjection {
            body.append(Conv2d(expanded, output, kernelSize: 1, bias: false, rng: &rng))
            body.append(BatchNorm2d(output, eps: batchNorm.epsilon, momentum: batchNorm.momentum))
        } else {
            body.append(Sequential.convNormActivation(expanded, output, kernel: 1, activation: nil, batchNorm: batchNorm, rng: &rng))
        }
        let residual = stride == 1 && input == output
        return ResidualBlock(body: Sequential(body), bodyName: bodyName, hasResidual: residual,
                             stochasticDepth: residual ? stochasticDepth : 0, seed: seed)
    }

    /// Restarts the stochastic-depth generator.
    public func reseed(_ seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// `body(x)` (+ `shortcut(x)`), then the activation.
    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        var out = body.forward(input, mode: mode)
        guard hasResidual else {
            rowScale = nil
            return out
        }
        if mode == .training && stochasticDepth > 0 {
            let survival = 1 - stochasticDepth, n = out.shape[0], per = out.count / max(n, 1)
            let scales = (0..<n).map { _ in rng.nextUnitFloat() < survival ? 1 / survival : 0 }
            out.withUnsafeMutableBufferPointer { p in
                for i in 0..<n where scales[i] != 1 {
                    for j in 0..<per { p[i * per + j] *= scales[i] }
                }
            }
            rowScale = scales
        } else {
            rowScale = nil
        }
        out.addScaled(shortcut?.forward(input, mode: mode) ?? input)
        return post?.forward(out, mode: mode) ?? out
    }

    /// Back-propagates through the body (scaled as in the forward pass) and the shortcut.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard hasResidual else { return body.backward(outputGradient) }
        let g = post?.backward(outputGradient) ?? outputGradient
        var bodyGradient = g
        if let rowScale {
            let n = g.shape[0], per = g.count / max(n, 1)
            bodyGradient.withUnsafeMutableBufferPointer { p in
                for i in 0..<n where rowScale[i] != 1 {
                    for j in 0..<per { p[i * per + j] *= rowScale[i] }
                }
            }
        }
        var dx = body.backward(bodyGradient)
        dx.addScaled(shortcut?.backward(g) ?? g)
        return dx
    }

    /// The body's parameters (under ``bodyName``), then the shortcut's (`downsample.*`).
    public func namedParameters() -> [(String, Parameter)] {
        prefixed(bodyName, body.namedParameters()) + prefixed("downsample", shortcut?.namedParameters() ?? [])
    }

    /// The BatchNorms' running statistics, named as the parameters.
    public func namedBuffers() -> [(String, Parameter)] {
        prefixed(bodyName, body.namedBuffers()) + prefixed("downsample", shortcut?.namedBuffers() ?? [])
    }
}

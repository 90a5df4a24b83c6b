import Tensors

/// ResNet's basic residual block (He et al., "Deep Residual Learning for Image Recognition", 2016),
/// as torchvision's `BasicBlock`: `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`, where the
/// shortcut is the identity or `downsample` = 1×1 strided conv (no bias) + BatchNorm.
public final class BasicBlock: Layer {
    /// The two 3×3 convolutions (the first one strided) and their BatchNorms, named as torchvision's.
    public let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
    /// The shortcut's 1×1 convolution and BatchNorm when the stride or the width changes; nil for the identity.
    public let downsample: Sequential?
    private let relu1 = ReLU(), relu2 = ReLU()
    private var fused = false

    /// A block from `inPlanes` to `planes` channels that divides height and width by `stride`, with
    /// PyTorch's default initialisation drawn from `rng`.
    public init(_ inPlanes: Int, _ planes: Int, stride: Int = 1, rng: inout SplitMix64) {
        conv1 = Conv2d(inPlanes, planes, kernelSize: 3, stride: stride, padding: 1, bias: false, rng: &rng)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernelSize: 3, stride: 1, padding: 1, bias: false, rng: &rng)
        bn2 = BatchNorm2d(planes)
        if stride != 1 || inPlanes != planes {
            downsample = Sequential([
                Conv2d(inPlanes, planes, kernelSize: 1, stride: stride, bias: false, rng: &rng),
                BatchNorm2d(planes),
            ])
        } else {
            downsample = nil
        }
    }

    /// `[N, inPlanes, H, W]` → `[N, planes, H/stride, W/stride]` (rounded up).
    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        var out = relu1.forward(bn1.forward(conv1.forward(input, mode: mode), mode: mode), mode: mode)
        out = bn2.forward(conv2.forward(out, mode: mode), mode: mode)
        let shortcut = downsample?.forward(input, mode: mode) ?? input
        out.addScaled(shortcut)
        return relu2.forward(out, mode: mode)
    }

    /// Back-propagates through both branches and adds their input gradients.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        let g = relu2.backward(outputGradient)
        var dx = conv1.backward(bn1.backward(relu1.backward(conv2.backward(bn2.backward(g)))))
        dx.addScaled(downsample?.backward(g) ?? g)
        return dx
    }

    /// `conv1.weight`, `bn1.weight`, …, `downsample.0.weight`, `downsample.1.bias`, as torchvision.
    public func namedParameters() -> [(String, Parameter)] {
        prefixed("conv1", conv1.namedParameters()) + prefixed("bn1", bn1.namedParameters())
            + prefixed("conv2", conv2.namedParameters()) + prefixed("bn2", bn2.namedParameters())
            + prefixed("downsample", downsample?.namedParameters() ?? [])
    }

    /// The BatchNorms' running statistics (`bn1.running_mean`, …).
    public func namedBuffers() -> [(String, Parameter)] {
        prefixed("bn1", bn1.namedBuffers()) + prefixed("bn2", bn2.namedBuffers())
            + prefixed("downsample", downsample?.namedBuffers() ?? [])
    }
}

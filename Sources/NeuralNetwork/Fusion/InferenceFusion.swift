import Tensors

/// Folds a BatchNorm (inference statistics) into the preceding convolution: `W' = W·s`, `b' = b·s + t`
/// with `s = γ/√(var+ε)`, `t = β − mean·s`. The result optionally applies ReLU itself.
public func foldBatchNorm(_ conv: Conv2d, _ bn: BatchNorm2d, fuseReLU: Bool, winograd: Bool = false) -> Conv2d {
    foldBatchNorm(conv, bn, activation: fuseReLU ? .relu : nil, winograd: winograd)
}

/// Folds a BatchNorm into the preceding convolution, as ``foldBatchNorm(_:_:fuseReLU:winograd:)``,
/// with any activation applied by the result (ReLU in the convolution's epilogue, others after it).
public func foldBatchNorm(_ conv: Conv2d, _ bn: BatchNorm2d, activation: ActivationFunction?, winograd: Bool = false) -> Conv2d {
    precondition(conv.outChannels == bn.channels, "BatchNorm channels do not match the convolution")
    let (scale, shift) = bn.inferenceAffine()
    var w = conv.weight.value
    let per = w.count / conv.outChannels
    w.withUnsafeMutableBufferPointer { p in
        for co in 0..<conv.outChannels { for j in 0..<per { p[co * per + j] *= scale[co] } }
    }
    let oldBias = conv.bias?.value.scalars ?? [Float](repeating: 0, count: conv.outChannels)
    let b = Tensor(shape: [conv.outChannels], scalars: (0..<conv.outChannels).map { oldBias[$0] * scale[$0] + shift[$0] })
    let fused = Conv2d(weight: w, bias: b, stride: conv.stride, padding: conv.padding, dilation: conv.dilation,
                       groups: conv.groups)
    fused.fusedReLU = activation == .relu
    fused.fusedActivation = activation == .relu ? nil : activation
    fused.weightsFrozen = true
    fused.useWinograd = winograd && fused.supportsWinograd && fused.inChannels >= 16
    return fused
}

/// An inference-only residual block with BatchNorm folded into its convolutions.
package final class FusedBasicBlock: Layer {
    package let conv1: Conv2d, conv2: Conv2d, downsample: Conv2d?

    init(_ block: BasicBlock, winograd: Bool) {
        conv1 = foldBatchNorm(block.conv1, block.bn1, fuseReLU: true, winograd: winograd)
        conv2 = foldBatchNorm(block.conv2, block.bn2, fuseReLU: true, winograd: winograd)  // ReLU after the residual add
        if let ds = block.downsample, let c = ds.layers[0].layer as? Conv2d, let bn = ds.layers[1].layer as? BatchNorm2d {
            downsample = foldBatchNorm(c, bn, fuseReLU: false)
        } else {
            downsample = nil
        }
    }

    package func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        let shortcut = downsample?.forward(input, mode: .inference) ?? input
        return conv2.convolve(conv1.forward(input, mode: .inference), residual: shortcut)
    }

    package func backward(_ outputGradient: Tensor) -> Tensor {
        preconditionFailure("FusedBasicBlock is inference-only")
    }
}

/// A copy of `layer` for inference: Conv→BN(→ReLU)(→MaxPool 2×2) runs become one convolution with
/// bias and fused ReLU and pooling, residual blocks are fused likewise. Layers without BatchNorm are shared, not copied.
/// The result is a snapshot: later training of `layer` does not change it.
///
/// - Parameters:
///   - layer: the trained layer, usually a ``Sequential`` or a ``BasicBlock``; it is not modified.
///   - winograd: run 3×3 stride-1 convolutions with ≥ 16 input channels as Winograd F(2×2, 3×3).
public func fusedForInference(_ layer: any Layer, winograd: Bool = true) -> any Layer {
    if let block = layer as? BasicBlock { return FusedBasicBlock(block, winograd: winograd) }
    if let block = layer as? ResidualBlock { return FusedResidualBlock(block, winograd: winograd) }
    guard let seq = layer as? Sequential else { return layer }
    var out: [(name: String, layer: any Layer)] = []
    let children = seq.layers
    var i = 0
    while i < children.count {
        let (name, child) = children[i]
        if let conv = child as? Conv2d, i + 1 < children.count, let bn = children[i + 1].layer as? BatchNorm2d {
            let activation = i + 2 < children.count ? activationFunction(of: children[i + 2].layer) : nil
            let fused = foldBatchNorm(conv, bn, activation: activation, winograd: winograd)
            i += activation == nil ? 2 : 3
            if activation == nil || activation == .relu, i < children.count, let pool = children[i].layer as? MaxPool2d,
               pool.kernelSize == 2, pool.stride == 2, pool.padding == 0 {
                fused.fusedMaxPool = true
                i += 1
            }
            out.append((name, fused))
        } else {
            out.append((name, fusedForInference(child, winograd: winograd)))
            i += 1
        }
    }
    return Sequential(named: out.map { ($0.name, $0.layer) })
}

/// The function of an activation layer (``ReLU`` or ``Activation``), or nil for any other layer.
func activationFunction(of layer: any Layer) -> ActivationFunction? {
    if layer is ReLU { return .relu }
    return (layer as? Activation)?.function
}

/// An inference-only ``ResidualBlock``: BatchNorm folded into the body's and the shortcut's
/// convolutions, and the sum (and ReLU) done in the last convolution's epilogue.
package final class FusedResidualBlock: Layer {
    /// The body's layers in order, nested sequences flattened; the last one, when it is a
    /// convolution, is ``last`` instead.
    package let leading: [any Layer]
    package let last: Conv2d?
    package let shortcut: (any Layer)?
    package let hasResidual: Bool
    let post: ActivationFunction?

    init(_ block: ResidualBlock, winograd: Bool) {
        var layers = FusedResidualBlock.flattened(fusedForInference(block.body, winograd: winograd))
        hasResidual = block.hasResidual
        shortcut = block.shortcut.map { fusedForInference($0, winograd: winograd) }
        post = block.postActivation
        if let conv = layers.last as? Conv2d, !conv.fusedMaxPool, !conv.fusedReLU, conv.fusedActivation == nil,
           block.postActivation == nil || block.postActivation == .relu {
            layers.removeLast()
            conv.fusedReLU = block.postActivation == .relu && block.hasResidual
            if !block.hasResidual, let post = block.postActivation { conv.fusedActivation = post }
            last = conv
        } else {
            last = nil
        }
        leading = layers
    }

    static func flattened(_ layer: any Layer) -> [any Layer] {
        guard let seq = layer as? Sequential else { return [layer] }
        return seq.layers.flatMap { flattened($0.layer) }
    }

    package func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        var x = input
        for layer in leading { x = layer.forward(x, mode: .inference) }
        let residual = hasResidual ? (shortcut?.forward(input, mode: .inference) ?? input) : nil
        if let last { return last.convolve(x, residual: residual) }
        if let residual { x.addScaled(residual) }
        if let post {
            x.makeUnique()
            post.apply(x.storage.pointer, count: x.count)
        }
        return x
    }

    package func backward(_ outputGradient: Tensor) -> Tensor {
        preconditionFailure("FusedResidualBlock is inference-only")
    }
}

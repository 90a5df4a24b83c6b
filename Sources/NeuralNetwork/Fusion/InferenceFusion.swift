import Tensors

/// Folds a BatchNorm (inference statistics) into the preceding convolution: `W' = W·s`, `b' = b·s + t`
/// with `s = γ/√(var+ε)`, `t = β − mean·s`. The result optionally applies ReLU itself.
public func foldBatchNorm(_ conv: Conv2d, _ bn: BatchNorm2d, fuseReLU: Bool, winograd: Bool = false) -> Conv2d {
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
    fused.fusedReLU = fuseReLU
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
    guard let seq = layer as? Sequential else { return layer }
    var out: [(name: String, layer: any Layer)] = []
    let children = seq.layers
    var i = 0
    while i < children.count {
        let (name, child) = children[i]
        if let conv = child as? Conv2d, i + 1 < children.count, let bn = children[i + 1].layer as? BatchNorm2d {
            let relu = i + 2 < children.count && children[i + 2].layer is ReLU
            let fused = foldBatchNorm(conv, bn, fuseReLU: relu, winograd: winograd)
            i += relu ? 3 : 2
            if i < children.count, let pool = children[i].layer as? MaxPool2d, pool.kernelSize == 2, pool.stride == 2,
               pool.padding == 0 {
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

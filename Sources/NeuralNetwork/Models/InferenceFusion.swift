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
final class FusedBasicBlock: Layer {
    let conv1: Conv2d, conv2: Conv2d, downsample: Conv2d?

    init(_ block: BasicBlock, winograd: Bool) {
        conv1 = foldBatchNorm(block.conv1, block.bn1, fuseReLU: true, winograd: winograd)
        conv2 = foldBatchNorm(block.conv2, block.bn2, fuseReLU: true, winograd: winograd)  // ReLU after the residual add
        if let ds = block.downsample, let c = ds.layers[0].layer as? Conv2d, let bn = ds.layers[1].layer as? BatchNorm2d {
            downsample = foldBatchNorm(c, bn, fuseReLU: false)
        } else {
            downsample = nil
        }
    }

    func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        let shortcut = downsample?.forward(input, mode: .inference) ?? input
        return conv2.convolve(conv1.forward(input, mode: .inference), residual: shortcut)
    }

    func backward(_ outputGradient: Tensor) -> Tensor {
        preconditionFailure("FusedBasicBlock is inference-only")
    }
}

/// A copy of `layer` for inference: Conv→BN(→ReLU)(→MaxPool 2×2) runs become one convolution with
/// bias and fused ReLU and pooling, residual blocks are fused likewise. Layers without BatchNorm are shared, not copied.
/// The result is a snapshot: later training of `layer` does not change it.
///
/// - Parameter winograd: run 3×3 stride-1 convolutions with ≥ 16 input channels as Winograd F(2×2, 3×3).
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

/// Running state of a streaming classifier: the recurrent state plus, for the mean-over-time head,
/// the running sum of outputs.
public struct StreamingState: Sendable {
    public var recurrent: RecurrentState?
    public var outputSum: Tensor?
    public var steps: Int = 0
    public init() {}
}

/// An inference-only snapshot of an ``LRCN`` with BatchNorm folded and ReLU fused, for fast batch
/// inference (``logits(_:)``) and frame-by-frame streaming (``step(frames:state:)``).
public final class LRCNInference {
    public let configuration: ModelDescription
    let encoder: any Layer
    let lstm: Recurrent
    let fc: Linear

    /// Snapshots `model` for inference.
    /// - Parameter winograd: use Winograd F(2×2, 3×3) for eligible convolutions (default `true`).
    public init(_ model: LRCN, winograd: Bool = true) {
        configuration = model.configuration
        encoder = fusedForInference(model.encoder, winograd: winograd)
        lstm = model.lstm
        fc = model.fc
    }

    /// Logits `[B, classes]` for clips `[B, T, C, H, W]`.
    public func logits(_ clips: Tensor) -> Tensor {
        precondition(clips.rank == 5, "expects clips [B, T, C, H, W], got \(clips.shape)")
        let b = clips.shape[0], t = clips.shape[1]
        let frames = clips.reshaped([b * t, clips.shape[2], clips.shape[3], clips.shape[4]])
        return logits(features: frameFeatures(frames).reshaped([b, t, configuration.featureSize]))
    }

    /// Per-frame features `[N, F]` of frames `[N, C, H, W]` (the encoder alone).
    public func frameFeatures(_ frames: Tensor) -> Tensor {
        precondition(frames.rank == 4, "expects frames [N, C, H, W], got \(frames.shape)")
        return encoder.forward(frames, mode: .inference).reshaped([frames.shape[0], configuration.featureSize])
    }

    /// Logits `[B, classes]` from per-frame features `[B, T, F]` (the sequence model and head alone):
    /// `logits(clips)` equals `logits(features: frameFeatures(frames of clips))`.
    public func logits(features feats: Tensor) -> Tensor {
        precondition(feats.rank == 3 && feats.shape[2] == configuration.featureSize, "expects features [B, T, F], got \(feats.shape)")
        let b = feats.shape[0], t = feats.shape[1]
        if configuration.head == .featureMean {
            return fc.forward(feats.sum(alongAxis: 1) * (1 / Float(t)), mode: .inference)
        }
        let out = lstm.forward(feats, initialState: nil, mode: .inference).output
        let d = out.shape[2]
        let pooled: Tensor
        switch configuration.head {
        case .lastStep: pooled = out.swappingFirstAxes().slice(t - 1).reshaped([b, d])
        case .meanOverTime, .featureMean: pooled = out.sum(alongAxis: 1) * (1 / Float(t))
        }
        return fc.forward(pooled, mode: .inference)
    }

    /// Consumes one frame per stream (`[B, 3, H, W]`) and returns the logits after it, carrying the
    /// recurrent state: the logits after frame t equal ``logits(_:)`` of the clip of frames 0…t.
    public func step(frames: Tensor, state: StreamingState) -> (logits: Tensor, state: StreamingState) {
        precondition(!configuration.bidirectional, "a bidirectional model cannot stream")
        precondition(frames.rank == 4, "expects frames [B, C, H, W], got \(frames.shape)")
        let feats = encoder.forward(frames, mode: .inference).reshaped([frames.shape[0], configuration.featureSize])
        if configuration.head == .featureMean {
            var next = state
            var sum = state.outputSum ?? Tensor(shape: feats.shape)
            sum += feats
            next.outputSum = sum
            next.steps += 1
            return (fc.forward(sum * (1 / Float(next.steps)), mode: .inference), next)
        }
        let (h, recurrent) = lstm.step(feats, state: state.recurrent)
        var next = state
        next.recurrent = recurrent
        next.steps += 1
        switch configuration.head {
        case .lastStep:
            return (fc.forward(h, mode: .inference), next)
        case .meanOverTime, .featureMean:
            var sum = state.outputSum ?? Tensor(shape: h.shape)
            sum += h
            next.outputSum = sum
            return (fc.forward(sum * (1 / Float(next.steps)), mode: .inference), next)
        }
    }
}

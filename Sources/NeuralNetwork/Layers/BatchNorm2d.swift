import Tensors

/// Batch normalisation over the channels of NCHW input, as PyTorch's `nn.BatchNorm2d`.
///
/// `y = (x - mean) / √(var + eps) · weight + bias`. Training mode uses the batch's statistics (biased
/// variance) and updates `running_mean`/`running_var` with `momentum` (the running variance uses the
/// unbiased estimate, as PyTorch). Inference mode uses the running statistics.
public final class BatchNorm2d: Layer {
    public let channels: Int
    public let eps: Float
    public let momentum: Float
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Parameter
    public let runningVar: Parameter
    /// Number of training batches seen (PyTorch's `num_batches_tracked`; not saved, tolerated on load).
    public private(set) var batchesTracked = 0

    private var cachedNormalized: Tensor?
    private var cachedInvStd: [Float] = []

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels
        self.eps = eps
        self.momentum = momentum
        weight = Parameter(Tensor(shape: [channels], repeating: 1))
        bias = Parameter(Tensor(shape: [channels]))
        runningMean = Parameter(Tensor(shape: [channels]))
        runningVar = Parameter(Tensor(shape: [channels], repeating: 1))
    }

    public func namedParameters() -> [(String, Parameter)] { [("weight", weight), ("bias", bias)] }
    public func namedBuffers() -> [(String, Parameter)] {
        [("running_mean", runningMean), ("running_var", runningVar)]
    }

    /// Per-channel `scale` and `shift` such that inference output is `x·scale + shift`.
    public func inferenceAffine() -> (scale: [Float], shift: [Float]) {
        let w = weight.value.scalars, b = bias.value.scalars
        let m = runningMean.value.scalars, v = runningVar.value.scalars
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            scale[c] = w[c] / (v[c] + eps).squareRoot()
            shift[c] = b[c] - m[c] * scale[c]
        }
        return (scale, shift)
    }

    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        precondition(input.rank >= 2 && input.shape[1] == channels,
                     "BatchNorm2d expects [N, \(channels), …], got \(input.shape)")
        let n = input.shape[0], hw = input.count / max(n * channels, 1)
        var output = Tensor(uninitializedShape: input.shape)
        if mode == .inference {
            cachedNormalized = nil
            let (scale, shift) = inferenceAffine()
            input.withUnsafeBufferPointer { x in
                output.withUnsafeMutableBufferPointer { y in
                    for i in 0..<n {
                        for c in 0..<channels {
                            let base = (i * channels + c) * hw
                            let s = scale[c], t = shift[c]
                            for j in 0..<hw { y[base + j] = x[base + j] * s + t }
                        }
                    }
                }
            }
            return output
        }
        let m = n * hw
        precondition(m > 1, "BatchNorm2d training needs more than one value per channel")
        var mean = [Double](repeating: 0, count: channels), variance = mean
        input.withUnsafeBufferPointer { x in
            for i in 0..<n {
                for c in 0..<channels {
                    let base = (i * channels + c) * hw
                    var s = 0.0
                    for j in 0..<hw { s += Double(x[base + j]) }
                    mean[c] += s
                }
            }
            for c in 0..<channels { mean[c] /= Double(m) }
            for i in 0..<n {
                for c in 0..<channels {
                    let base = (i * channels + c) * hw
                    let mu = mean[c]
                    var s = 0.0
                    for j in 0..<hw { let d = Double(x[base + j]) - mu; s += d * d }
                    variance[c] += s
                }
            }
        }
        for c in 0..<channels { variance[c] /= Double(m) }
        cachedInvStd = (0..<channels).map { Float(1 / (variance[$0] + Double(eps)).squareRoot()) }
        var normalized = Tensor(uninitializedShape: input.shape)
        let w = weight.value.scalars, b = bias.value.scalars
        input.withUnsafeBufferPointer { x in
            normalized.withUnsafeMutableBufferPointer { xh in
                output.withUnsafeMutableBufferPointer { y in
                    for i in 0..<n {
                        for c in 0..<channels {
                            let base = (i * channels + c) * hw
                            let mu = Float(mean[c]), inv = cachedInvStd[c], gw = w[c], gb = b[c]
                            for j in 0..<hw {
                                let v = (x[base + j] - mu) * inv
                                xh[base + j] = v
                                y[base + j] = v * gw + gb
                            }
                        }
                    }
                }
            }
        }
        cachedNormalized = normalized
        let mom = momentum
        runningMean.value.withUnsafeMutableBufferPointer { rm in
            for c in 0..<channels { rm[c] = (1 - mom) * rm[c] + mom * Float(mean[c]) }
        }
        runningVar.value.withUnsafeMutableBufferPointer { rv in
            for c in 0..<channels {
                rv[c] = (1 - mom) * rv[c] + mom * Float(variance[c] * Double(m) / Double(m - 1))
            }
        }
        batchesTracked += 1
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let xhat = cachedNormalized else { preconditionFailure("BatchNorm2d.backward without a training forward") }
        precondition(outputGradient.shape == xhat.shape, "BatchNorm2d gradient shape mismatch")
        let n = xhat.shape[0], hw = xhat.count / (n * channels), m = Float(n * hw)
        var sumDy = [Double](repeating: 0, count: channels), sumDyXhat = sumDy
        outputGradient.withUnsafeBufferPointer { dy in
            xhat.withUnsafeBufferPointer { xh in
                for i in 0..<n {
                    for c in 0..<channels {
                        let base = (i * channels + c) * hw
                        var s1 = 0.0, s2 = 0.0
                        for j in 0..<hw {
                            s1 += Double(dy[base + j])
                            s2 += Double(dy[base + j] * xh[base + j])
                        }
                        sumDy[c] += s1
                        sumDyXhat[c] += s2
                    }
                }
            }
        }
        weight.gradient.withUnsafeMutableBufferPointer { g in for c in 0..<channels { g[c] += Float(sumDyXhat[c]) } }
        bias.gradient.withUnsafeMutableBufferPointer { g in for c in 0..<channels { g[c] += Float(sumDy[c]) } }
        let w = weight.value.scalars
        var inputGradient = Tensor(uninitializedShape: xhat.shape)
        outputGradient.withUnsafeBufferPointer { dy in
            xhat.withUnsafeBufferPointer { xh in
                inputGradient.withUnsafeMutableBufferPointer { dx in
                    for i in 0..<n {
                        for c in 0..<channels {
                            let base = (i * channels + c) * hw
                            let k = w[c] * cachedInvStd[c] / m
                            let a = Float(sumDy[c]), b = Float(sumDyXhat[c])
                            for j in 0..<hw { dx[base + j] = k * (m * dy[base + j] - a - xh[base + j] * b) }
                        }
                    }
                }
            }
        }
        return inputGradient
    }
}

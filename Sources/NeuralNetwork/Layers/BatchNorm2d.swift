import Tensors

/// Batch normalisation over the channels of NCHW input, as PyTorch's `nn.BatchNorm2d`.
///
/// `y = (x - mean) / √(var + eps) · weight + bias`. Training mode uses the batch's statistics (biased
/// variance) and updates `running_mean`/`running_var` with `momentum` (the running variance uses the
/// unbiased estimate, as PyTorch). Inference mode uses the running statistics.
public final class BatchNorm2d: Layer {
    /// Channels `C` normalised (the input's axis 1).
    public let channels: Int
    /// Added to the variance before the square root (default 1e-5).
    public let eps: Float
    /// Weight of the batch statistics in the running averages' update (default 0.1, as PyTorch).
    public let momentum: Float
    /// Per-channel scale `γ`, `[C]`, initially 1 (`weight`).
    public let weight: Parameter
    /// Per-channel shift `β`, `[C]`, initially 0 (`bias`).
    public let bias: Parameter
    /// Running mean per channel, `[C]`, initially 0 (buffer `running_mean`).
    public let runningMean: Parameter
    /// Running variance per channel, `[C]`, initially 1 (buffer `running_var`).
    public let runningVar: Parameter
    /// Number of training batches seen (PyTorch's `num_batches_tracked`; not saved, tolerated on load).
    public private(set) var batchesTracked = 0

    private var cachedNormalized: Tensor?
    private var cachedInvStd: [Float] = []

    /// A BatchNorm over `channels` channels with PyTorch's initial values.
    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels
        self.eps = eps
        self.momentum = momentum
        weight = Parameter(Tensor(shape: [channels], repeating: 1))
        bias = Parameter(Tensor(shape: [channels]))
        runningMean = Parameter(Tensor(shape: [channels]))
        runningVar = Parameter(Tensor(shape: [channels], repeating: 1))
    }

    /// `weight` and `bias`.
    public func namedParameters() -> [(String, Parameter)] { [("weight", weight), ("bias", bias)] }
    /// `running_mean` and `running_var`.
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

    /// `[N, C, …]` → same shape, normalised per channel (batch statistics in training, running ones at inference).
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
                            let xr = x.baseAddress! + base, yr = y.baseAddress! + base
                            for j in 0..<hw { yr[j] = xr[j] * s + t }
                        }
                    }
                }
            }
            return output
        }
        let m = n * hw
        precondition(m > 1, "BatchNorm2d training needs more than one value per channel")
        var mean = [Double](repeating: 0, count: channels), variance = mean
        var invStd = [Float](repeating: 0, count: channels)
        var normalized = Tensor(uninitializedShape: input.shape)
        let w = weight.value.scalars, b = bias.value.scalars, eps = Double(self.eps), c = channels
        let x = UncheckedSendable(input.storage.pointer), xh = UncheckedSendable(normalized.storage.pointer)
        let y = UncheckedSendable(output.storage.pointer)
        mean.withUnsafeMutableBufferPointer { meanP in
            variance.withUnsafeMutableBufferPointer { varP in
                invStd.withUnsafeMutableBufferPointer { invP in
                    let mb = UncheckedSendable(meanP), vb = UncheckedSendable(varP), ib = UncheckedSendable(invP)
                    let workers = min(ComputeThreads.count, c, max(1, n * c * hw / 32768))
                    parallelFor(workers) { worker in
                        let x = x.value, xh = xh.value, y = y.value
                        for ch in partition(c, worker: worker, of: workers) {
                            var s = 0.0
                            for i in 0..<n {
                                let row = x + (i * c + ch) * hw
                                s += Double(vectorSum(row, hw))
                            }
                            let mu = s / Double(m)
                            var ss = 0.0
                            let muF = Float(mu)
                            for i in 0..<n {
                                let row = x + (i * c + ch) * hw
                                ss += Double(vectorSquaredDeviation(row, hw, shift: muF))
                            }
                            let v = ss / Double(m)
                            let inv = Float(1 / (v + eps).squareRoot())
                            mb.value[ch] = mu
                            vb.value[ch] = v
                            ib.value[ch] = inv
                            let gw = w[ch], gb = b[ch]
                            for i in 0..<n {
                                let off = (i * c + ch) * hw
                                let xr = x + off, xhr = xh + off, yr = y + off
                                for j in 0..<hw {
                                    let t = (xr[j] - muF) * inv
                                    xhr[j] = t
                                    yr[j] = t * gw + gb
                                }
                            }
                        }
                    }
                }
            }
        }
        normalized.makeUnique()
        output.makeUnique()
        cachedInvStd = invStd
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

    /// Gradients of `weight` and `bias`, and of the input through the batch statistics.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let xhat = cachedNormalized else { preconditionFailure("BatchNorm2d.backward without a training forward") }
        precondition(outputGradient.shape == xhat.shape, "BatchNorm2d gradient shape mismatch")
        let n = xhat.shape[0], c = channels, hw = xhat.count / (n * channels), m = Float(n * hw)
        var sumDy = [Float](repeating: 0, count: c), sumDyXhat = sumDy
        var inputGradient = Tensor(uninitializedShape: xhat.shape)
        let w = weight.value.scalars, invStd = cachedInvStd
        let dy = UncheckedSendable(outputGradient.storage.pointer), xh = UncheckedSendable(xhat.storage.pointer)
        let dx = UncheckedSendable(inputGradient.storage.pointer)
        sumDy.withUnsafeMutableBufferPointer { s1p in
            sumDyXhat.withUnsafeMutableBufferPointer { s2p in
                let s1b = UncheckedSendable(s1p), s2b = UncheckedSendable(s2p)
                let workers = min(ComputeThreads.count, c, max(1, n * c * hw / 32768))
                parallelFor(workers) { worker in
                    let dy = dy.value, xh = xh.value, dx = dx.value
                    for ch in partition(c, worker: worker, of: workers) {
                        var s1 = 0.0, s2 = 0.0
                        for i in 0..<n {
                            let off = (i * c + ch) * hw
                            let (p1, p2) = vectorSumAndDot(dy + off, xh + off, hw)
                            s1 += Double(p1)
                            s2 += Double(p2)
                        }
                        let a = Float(s1), b = Float(s2)
                        s1b.value[ch] = a
                        s2b.value[ch] = b
                        let k = w[ch] * invStd[ch] / m
                        for i in 0..<n {
                            let off = (i * c + ch) * hw
                            let dxr = dx + off, dyr = dy + off, xhr = xh + off
                            for j in 0..<hw { dxr[j] = k * (m * dyr[j] - a - xhr[j] * b) }
                        }
                    }
                }
            }
        }
        inputGradient.makeUnique()
        cachedNormalized = nil
        weight.gradient.withUnsafeMutableBufferPointer { g in for ch in 0..<c { g[ch] += sumDyXhat[ch] } }
        bias.gradient.withUnsafeMutableBufferPointer { g in for ch in 0..<c { g[ch] += sumDy[ch] } }
        return inputGradient
    }
}

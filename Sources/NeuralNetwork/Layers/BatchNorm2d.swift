import CKernels
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

    /// What the last training forward pass left for ``backward(_:)``: its input (x̂ is recomputed
    /// from it rather than stored), the batch mean and `1/√(var + eps)` per channel, and when the
    /// pass also max-pooled (``forwardMaxPooled(_:relu:)``), where each maximum was and its `x − mean`.
    private var saved: (input: Tensor, mean: [Float], invStd: [Float], pooling: (codes: [UInt8], centered: Tensor)?)?

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
            saved = nil
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
        let x = UncheckedSendable(input.storage.pointer), y = UncheckedSendable(output.storage.pointer)
        let w = weight.value.scalars, b = bias.value.scalars
        let (mean, invStd) = trainingStatistics(input) { ch, mu, inv in
            let gw = w[ch], gb = b[ch]
            for i in 0..<n {
                let off = (i &* channels &+ ch) &* hw
                let xr = x.value + off, yr = y.value + off
                for j in 0..<hw { yr[j] = (xr[j] - mu) * inv * gw + gb }
            }
        }
        output.makeUnique()
        saved = (input, mean, invStd, nil)
        return output
    }

    /// The training forward pass of this layer followed by `MaxPool2d(kernelSize: 2)` (stride 2, no
    /// padding) and, with `relu`, a ``ReLU``, in one pass over the values: `[N, C, H, W]` →
    /// `[N, C, H/2, W/2]`, the same values as the layers one after the other.
    /// ``backwardMaxPooled(_:)`` is its backward pass. The normalized values are never stored: the
    /// pooling keeps where each maximum was (and whether the ReLU let it through).
    package func forwardMaxPooled(_ input: Tensor, relu: Bool) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == channels && input.shape[2] >= 2 && input.shape[3] >= 2,
                     "BatchNorm2d + MaxPool2d(2) expects [N, \(channels), H ≥ 2, W ≥ 2], got \(input.shape)")
        let n = input.shape[0], h = input.shape[2], wd = input.shape[3], oh = h / 2, ow = wd / 2
        let output = Tensor(uninitializedShape: [n, channels, oh, ow])
        let centered = Tensor(uninitializedShape: output.shape)
        var codes = [UInt8](repeating: 0, count: output.count)
        let x = UncheckedSendable(input.storage.pointer), y = UncheckedSendable(output.storage.pointer)
        let e = UncheckedSendable(centered.storage.pointer)
        let w = weight.value.scalars, b = bias.value.scalars, c = channels
        let (mean, invStd) = codes.withUnsafeMutableBufferPointer { codesBuffer in
            let k = UncheckedSendable(codesBuffer.baseAddress!)
            return trainingStatistics(input) { ch, mu, inv in
                for i in 0..<n {
                    let plane = i &* c &+ ch
                    let at = plane &* oh &* ow
                    vc_batch_norm_max_pool2(x.value + plane &* h &* wd, Int32(h), Int32(wd), mu, inv, w[ch], b[ch],
                                            y.value + at, relu ? 1 : 0, k.value + at, e.value + at)
                }
            }
        }
        saved = (input, mean, invStd, (codes, centered))
        return output
    }

    /// The batch statistics of each channel (mean, and `1/√(var + eps)` from the biased variance),
    /// with `apply(channel, mean, invStd)` run on each channel as soon as its statistics are known
    /// (its values are then still in cache); channels are split among the compute threads. Updates
    /// the running statistics and the batch count.
    private func trainingStatistics(_ input: Tensor,
                                    _ apply: (_ channel: Int, _ mean: Float, _ invStd: Float) -> Void)
        -> (mean: [Float], invStd: [Float]) {
        let n = input.shape[0], c = channels, hw = input.count / max(n * c, 1), m = n * hw
        precondition(m > 1, "BatchNorm2d training needs more than one value per channel")
        var mean = [Double](repeating: 0, count: c), variance = mean
        var invStd = [Float](repeating: 0, count: c)
        let eps = Double(self.eps), x = UncheckedSendable(input.storage.pointer)
        mean.withUnsafeMutableBufferPointer { meanP in
            variance.withUnsafeMutableBufferPointer { varP in
                invStd.withUnsafeMutableBufferPointer { invP in
                    let mb = UncheckedSendable(meanP), vb = UncheckedSendable(varP), ib = UncheckedSendable(invP)
                    let workers = min(ComputeThreads.count, c, max(1, n * c * hw / 32768))
                    parallelFor(workers) { worker in
                        let x = x.value
                        for ch in partition(c, worker: worker, of: workers) {
                            var s = 0.0
                            for i in 0..<n { s += Double(vectorSum(x + (i &* c &+ ch) &* hw, hw)) }
                            let mu = s / Double(m), muF = Float(mu)
                            var ss = 0.0
                            for i in 0..<n {
                                ss += Double(vectorSquaredDeviation(x + (i &* c &+ ch) &* hw, hw, shift: muF))
                            }
                            let v = ss / Double(m), inv = Float(1 / (v + eps).squareRoot())
                            mb.value[ch] = mu
                            vb.value[ch] = v
                            ib.value[ch] = inv
                            apply(ch, muF, inv)
                        }
                    }
                }
            }
        }
        let mom = momentum
        runningMean.value.withUnsafeMutableBufferPointer { rm in
            for ch in 0..<c { rm[ch] = (1 - mom) * rm[ch] + mom * Float(mean[ch]) }
        }
        runningVar.value.withUnsafeMutableBufferPointer { rv in
            for ch in 0..<c { rv[ch] = (1 - mom) * rv[ch] + mom * Float(variance[ch] * Double(m) / Double(m - 1)) }
        }
        batchesTracked += 1
        return (mean.map { Float($0) }, invStd)
    }

    /// Gradients of `weight` and `bias`, and of the input through the batch statistics.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let saved, saved.pooling == nil else {
            preconditionFailure("BatchNorm2d.backward without a training forward")
        }
        precondition(outputGradient.shape == saved.input.shape, "BatchNorm2d gradient shape mismatch")
        let n = saved.input.shape[0], hw = saved.input.count / (n * channels)
        let dy = UncheckedSendable(outputGradient.storage.pointer)
        return inputGradient(sums: { x, ch, mu in
            Self.sumOverImages(n) { i, sums in
                let off = (i &* self.channels &+ ch) &* hw
                vc_batch_norm_sums(dy.value + off, x + off, nil, hw, mu, sums)
            }
        }, write: { x, dx, ch, mu, a, b, c in
            for i in 0..<n {
                let off = (i &* self.channels &+ ch) &* hw
                vc_batch_norm_backward(dy.value + off, x + off, hw, mu, a, b, c, dx + off)
            }
        })
    }

    /// The backward pass of ``forwardMaxPooled(_:relu:)``: `outputGradient` is the pooled output's,
    /// `[N, C, H/2, W/2]`; returns the input's, `[N, C, H, W]`.
    package func backwardMaxPooled(_ outputGradient: Tensor) -> Tensor {
        guard let saved, let pooling = saved.pooling else {
            preconditionFailure("BatchNorm2d.backwardMaxPooled without forwardMaxPooled")
        }
        let n = saved.input.shape[0], h = saved.input.shape[2], w = saved.input.shape[3], ohw = (h / 2) * (w / 2)
        precondition(outputGradient.shape == [n, channels, h / 2, w / 2], "BatchNorm2d + MaxPool2d gradient shape mismatch")
        let g = UncheckedSendable(outputGradient.storage.pointer), e = UncheckedSendable(pooling.centered.storage.pointer)
        return pooling.codes.withUnsafeBufferPointer { codesBuffer in
            let k = UncheckedSendable(codesBuffer.baseAddress!)
            return inputGradient(sums: { _, ch, _ in
                // Only each window's maximum has a gradient: the sums run over the pooled values.
                Self.sumOverImages(n) { i, sums in
                    let at = (i &* self.channels &+ ch) &* ohw
                    vc_batch_norm_sums(g.value + at, e.value + at, k.value + at, ohw, 0, sums)
                }
            }, write: { x, dx, ch, mu, a, b, c in
                for i in 0..<n {
                    let plane = i &* self.channels &+ ch
                    vc_batch_norm_max_pool2_backward(x + plane &* h &* w, Int32(h), Int32(w), mu, a, b, c,
                                                     g.value + plane &* ohw, k.value + plane &* ohw,
                                                     dx + plane &* h &* w)
                }
            })
        }
    }

    /// Σ over `images` of the two float sums `plane(image, sums)` writes for one image's plane
    /// (vectorized within the plane), accumulated in double.
    private static func sumOverImages(_ images: Int,
                                      _ plane: (_ image: Int, _ sums: UnsafeMutablePointer<Float>) -> Void)
        -> (Double, Double) {
        var total: (Double, Double) = (0, 0)
        var sums: (Float, Float) = (0, 0)
        for i in 0..<images {
            withUnsafeMutableBytes(of: &sums) { plane(i, $0.baseAddress!.assumingMemoryBound(to: Float.self)) }
            total.0 += Double(sums.0)
            total.1 += Double(sums.1)
        }
        return total
    }

    /// The input gradient of a training pass, channel by channel: `sums(x, channel, mean)` gives
    /// (Σ dy, Σ dy · (x − mean)) over the channel, then `write(x, dx, channel, mean, a, b, c)` writes
    /// `dx = a · dy + b + c · (x − mean)`, which is `γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂))`.
    /// Adds the weight's and bias's gradients (Σ dy · x̂ and Σ dy), and forgets the saved pass.
    private func inputGradient(
        sums: (_ x: UnsafeMutablePointer<Float>, _ channel: Int, _ mean: Float) -> (Double, Double),
        write: (_ x: UnsafeMutablePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ channel: Int, _ mean: Float,
                _ a: Float, _ b: Float, _ c: Float) -> Void
    ) -> Tensor {
        guard let saved else { preconditionFailure("BatchNorm2d backward without a training forward") }
        let c = channels, m = Float(saved.input.count / c)
        var sumDy = [Float](repeating: 0, count: c), sumDyXhat = sumDy
        var inputGradient = Tensor(uninitializedShape: saved.input.shape)
        let w = weight.value.scalars, mean = saved.mean, invStd = saved.invStd
        let x = UncheckedSendable(saved.input.storage.pointer), dx = UncheckedSendable(inputGradient.storage.pointer)
        let workers = min(ComputeThreads.count, c, max(1, saved.input.count / 32768))
        sumDy.withUnsafeMutableBufferPointer { s1p in
            sumDyXhat.withUnsafeMutableBufferPointer { s2p in
                let s1b = UncheckedSendable(s1p), s2b = UncheckedSendable(s2p)
                parallelFor(workers) { worker in
                    for ch in partition(c, worker: worker, of: workers) {
                        let (s1, s2) = sums(x.value, ch, mean[ch])
                        // Σ dy · x̂ = Σ dy · (x − mean) / σ.
                        let a = Float(s1), b = Float(s2 * Double(invStd[ch]))
                        s1b.value[ch] = a
                        s2b.value[ch] = b
                        let k = w[ch] * invStd[ch] / m
                        write(x.value, dx.value, ch, mean[ch], k * m, -k * a, -k * b * invStd[ch])
                    }
                }
            }
        }
        inputGradient.makeUnique()
        self.saved = nil
        weight.gradient.withUnsafeMutableBufferPointer { g in for ch in 0..<c { g[ch] += sumDyXhat[ch] } }
        bias.gradient.withUnsafeMutableBufferPointer { g in for ch in 0..<c { g[ch] += sumDy[ch] } }
        return inputGradient
    }
}

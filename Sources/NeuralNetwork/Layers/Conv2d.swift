import Tensors

/// 2-D convolution over NCHW input, as PyTorch's `nn.Conv2d` (cross-correlation).
///
/// Input `[N, Cin, H, W]`, weight `[Cout, Cin/groups, kh, kw]`, optional bias `[Cout]`, output
/// `[N, Cout, Ho, Wo]` with `Ho = (H + 2p - d(kh-1) - 1)/s + 1`. Implemented as im2col + one GEMM per
/// group over a chunk of images at once (all frames of all clips when they fit the column buffer).
/// Backward: two GEMMs and col2im.
public final class Conv2d: Layer {
    public let inChannels: Int, outChannels: Int
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)
    public let groups: Int
    public let weight: Parameter
    public let bias: Parameter?
    /// Optional activation applied after the convolution (used by BatchNorm folding at inference).
    public var fusedReLU = false

    private var cachedInput: Tensor?

    /// Largest column buffer (in floats) built at once; larger batches are processed in chunks.
    static let columnBudget = 1 << 23

    /// Creates a convolution with PyTorch's default initialisation from `rng`.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true,
                rng: inout SplitMix64) {
        precondition(inChannels % groups == 0 && outChannels % groups == 0, "channels not divisible by groups")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        let fanIn = inChannels / groups * kernelSize.0 * kernelSize.1
        let bound = pytorchDefaultBound(fanIn: fanIn)
        weight = Parameter(.uniform(shape: [outChannels, inChannels / groups, kernelSize.0, kernelSize.1],
                                    bound: bound, using: &rng))
        self.bias = bias ? Parameter(.uniform(shape: [outChannels], bound: bound, using: &rng)) : nil
    }

    /// Creates a convolution with given weights `[Cout, Cin/groups, kh, kw]` and optional bias `[Cout]`.
    public init(weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                dilation: (Int, Int) = (1, 1), groups: Int = 1) {
        precondition(weight.rank == 4 && weight.shape[0] % groups == 0, "invalid convolution weight \(weight.shape)")
        inChannels = weight.shape[1] * groups
        outChannels = weight.shape[0]
        kernelSize = (weight.shape[2], weight.shape[3])
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.weight = Parameter(weight)
        if let bias { precondition(bias.shape == [outChannels], "bias shape \(bias.shape)") }
        self.bias = bias.map { Parameter($0) }
    }

    /// Square-kernel convenience initialiser.
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1,
                            padding: Int = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true,
                            rng: inout SplitMix64) {
        self.init(inChannels, outChannels, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
                  padding: (padding, padding), dilation: (dilation, dilation), groups: groups, bias: bias, rng: &rng)
    }

    public func namedParameters() -> [(String, Parameter)] {
        var p = [("weight", weight)]
        if let bias { p.append(("bias", bias)) }
        return p
    }

    func geometry(_ input: Tensor) -> WindowGeometry {
        precondition(input.rank == 4 && input.shape[1] == inChannels,
                     "Conv2d expects [N, \(inChannels), H, W], got \(input.shape)")
        return WindowGeometry(channels: inChannels, height: input.shape[2], width: input.shape[3],
                              kernel: kernelSize, stride: stride, padding: padding, dilation: dilation)
    }

    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        let g = geometry(input)
        let n = input.shape[0], hw = g.outputHeight * g.outputWidth
        precondition(g.outputHeight > 0 && g.outputWidth > 0, "Conv2d output would be empty for \(input.shape)")
        cachedInput = mode == .training ? input : nil
        var output = Tensor(uninitializedShape: [n, outChannels, g.outputHeight, g.outputWidth])
        let k = g.columnRows / groups, coutG = outChannels / groups
        let perImage = g.columnRows * hw
        let chunk = max(1, min(n, Conv2d.columnBudget / max(perImage, 1)))
        let inPlane = inChannels * g.height * g.width
        var columns = [Float](repeating: 0, count: perImage * chunk)
        var staging = [Float](repeating: 0, count: chunk > 1 ? outChannels * hw * chunk : 0)
        input.withUnsafeBufferPointer { x in
            weight.value.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { y in
                    columns.withUnsafeMutableBufferPointer { colBuf in
                        staging.withUnsafeMutableBufferPointer { stage in
                            var start = 0
                            while start < n {
                                let nb = min(chunk, n - start)
                                let width = nb * hw
                                for i in 0..<nb {
                                    im2col(x.baseAddress! + (start + i) * inPlane, g,
                                           columns: colBuf.baseAddress! + i * hw, rowStride: width)
                                }
                                let cols = UnsafePointer(colBuf.baseAddress!)
                                let direct = nb == 1
                                let dst = direct ? y.baseAddress! + start * outChannels * hw : stage.baseAddress!
                                for gi in 0..<groups {
                                    GEMM.multiply(transposeA: false, transposeB: false, m: coutG, n: width, k: k,
                                                  a: w.baseAddress! + gi * coutG * k, lda: k,
                                                  b: cols + gi * k * width, ldb: width,
                                                  c: dst + gi * coutG * width, ldc: width)
                                }
                                if !direct {
                                    // [Cout, nb, HW] -> [nb, Cout, HW]
                                    for i in 0..<nb {
                                        for co in 0..<outChannels {
                                            (y.baseAddress! + ((start + i) * outChannels + co) * hw)
                                                .update(from: stage.baseAddress! + co * width + i * hw, count: hw)
                                        }
                                    }
                                }
                                start += nb
                            }
                        }
                    }
                }
            }
        }
        applyBiasAndActivation(&output, hw: hw)
        return output
    }

    private func applyBiasAndActivation(_ output: inout Tensor, hw: Int) {
        guard bias != nil || fusedReLU else { return }
        let n = output.shape[0], cout = outChannels, relu = fusedReLU
        let b = bias?.value ?? Tensor(shape: [cout])
        b.withUnsafeBufferPointer { bp in
            output.withUnsafeMutableBufferPointer { y in
                for i in 0..<n {
                    for c in 0..<cout {
                        let row = y.baseAddress! + (i * cout + c) * hw
                        let bv = bp[c]
                        if relu {
                            for j in 0..<hw { let v = row[j] + bv; row[j] = v > 0 ? v : 0 }
                        } else {
                            for j in 0..<hw { row[j] += bv }
                        }
                    }
                }
            }
        }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input = cachedInput else { preconditionFailure("Conv2d.backward without a training forward") }
        precondition(!fusedReLU, "backward through a fused (inference-only) convolution")
        let g = geometry(input)
        let n = input.shape[0], hw = g.outputHeight * g.outputWidth
        precondition(outputGradient.shape == [n, outChannels, g.outputHeight, g.outputWidth],
                     "Conv2d gradient shape \(outputGradient.shape) does not match output")
        let k = g.columnRows / groups, coutG = outChannels / groups
        let perImage = g.columnRows * hw
        let chunk = max(1, min(n, Conv2d.columnBudget / max(perImage, 1)))
        let inPlane = inChannels * g.height * g.width
        var inputGradient = Tensor(shape: input.shape)
        var columns = [Float](repeating: 0, count: perImage * chunk)
        var columnGrads = [Float](repeating: 0, count: perImage * chunk)
        var dyStage = [Float](repeating: 0, count: outChannels * hw * chunk)
        if let bias {
            let db = outputGradient.reshaped([n, outChannels, hw]).sum(alongAxis: 2).sum(alongAxis: 0)
            bias.gradient += db
        }
        input.withUnsafeBufferPointer { x in
            outputGradient.withUnsafeBufferPointer { dy in
                weight.value.withUnsafeBufferPointer { w in
                    weight.gradient.withUnsafeMutableBufferPointer { dw in
                        inputGradient.withUnsafeMutableBufferPointer { dx in
                            columns.withUnsafeMutableBufferPointer { col in
                                columnGrads.withUnsafeMutableBufferPointer { dcol in
                                    dyStage.withUnsafeMutableBufferPointer { stage in
                                        var start = 0
                                        while start < n {
                                            let nb = min(chunk, n - start)
                                            let width = nb * hw
                                            for i in 0..<nb {
                                                im2col(x.baseAddress! + (start + i) * inPlane, g,
                                                       columns: col.baseAddress! + i * hw, rowStride: width)
                                                for co in 0..<outChannels {
                                                    (stage.baseAddress! + co * width + i * hw).update(
                                                        from: dy.baseAddress! + ((start + i) * outChannels + co) * hw,
                                                        count: hw)
                                                }
                                            }
                                            for gi in 0..<groups {
                                                // dW_g += dY_g · col_gᵀ
                                                GEMM.multiply(transposeA: false, transposeB: true, m: coutG, n: k, k: width,
                                                              a: stage.baseAddress! + gi * coutG * width, lda: width,
                                                              b: col.baseAddress! + gi * k * width, ldb: width,
                                                              beta: 1, c: dw.baseAddress! + gi * coutG * k, ldc: k)
                                                // dcol_g = W_gᵀ · dY_g
                                                GEMM.multiply(transposeA: true, transposeB: false, m: k, n: width, k: coutG,
                                                              a: w.baseAddress! + gi * coutG * k, lda: k,
                                                              b: stage.baseAddress! + gi * coutG * width, ldb: width,
                                                              c: dcol.baseAddress! + gi * k * width, ldc: width)
                                            }
                                            for i in 0..<nb {
                                                col2im(dcol.baseAddress! + i * hw, rowStride: width, g,
                                                       image: dx.baseAddress! + (start + i) * inPlane)
                                            }
                                            start += nb
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return inputGradient
    }
}

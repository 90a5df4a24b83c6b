import Tensors

/// 2-D convolution over NCHW input, as PyTorch's `nn.Conv2d` (cross-correlation).
///
/// Input `[N, Cin, H, W]`, weight `[Cout, Cin/groups, kh, kw]`, optional bias `[Cout]`, output
/// `[N, Cout, Ho, Wo]` with `Ho = (H + 2p - d(kh-1) - 1)/s + 1`. Implemented as im2col + one GEMM per
/// group over a chunk of images at once (all frames of all clips when they fit the column buffer).
/// Backward: two GEMMs and col2im.
public final class Conv2d: Layer {
    /// Input channels `Cin` and output channels `Cout`.
    public let inChannels: Int, outChannels: Int
    /// Window size, step, zero padding per side and tap spacing, each `(vertical, horizontal)` in pixels.
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)
    /// Channel groups: each output channel sees `Cin/groups` input channels (1: a full convolution).
    public let groups: Int
    /// The filters, `[Cout, Cin/groups, kh, kw]` (`weight`).
    public let weight: Parameter
    /// The per-output-channel bias, `[Cout]` (`bias`); nil for a convolution without bias.
    public let bias: Parameter?
    /// Optional activation applied after the convolution (used by BatchNorm folding at inference).
    public var fusedReLU = false
    /// Another activation applied after the convolution (and after ``fusedReLU``'s place in the
    /// epilogue), for inference snapshots of blocks with ReLU6, hard-swish or SiLU.
    public var fusedActivation: ActivationFunction?

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
        useWinograd = supportsWinograd && inChannels >= 16
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

    /// `weight`, and `bias` when there is one.
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

    /// `[N, Cin, H, W]` → `[N, Cout, Ho, Wo]`.
    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        precondition(mode == .inference || (!fusedReLU && !fusedMaxPool && fusedActivation == nil),
                     "a fused convolution is inference-only")
        cachedInput = mode == .training ? input : nil
        return convolve(input, residual: nil)
    }

    // MARK: - Forward

    /// Fuses a following `MaxPool2d(2)` into the output stage (inference only).
    public var fusedMaxPool = false

    /// Reused output storage (taken again when the caller no longer holds the previous output).
    private var outputCache: Tensor?
    /// Per-worker scratch memory, grown on demand and reused across calls.
    private var workspaces: [ScratchBuffer] = []
    /// Scratch of the direct convolution (``usesDirectConvolution(_:)``), one per thread.
    private var directWorkspaces: [ScratchBuffer] = []

    /// Output extent after the optional fused pooling.
    private func outputShape(_ n: Int, _ g: WindowGeometry) -> [Int] {
        fusedMaxPool ? [n, outChannels, g.outputHeight / 2, g.outputWidth / 2]
            : [n, outChannels, g.outputHeight, g.outputWidth]
    }

    /// Images per GEMM so that its column count is at least ~512, within the column budget.
    /// Chosen so that the number of GEMM units is a multiple of the thread count when possible (balance).
    private func imagesPerGEMM(_ n: Int, _ g: WindowGeometry) -> Int {
        let hw = g.outputHeight * g.outputWidth
        let wanted = max(1, (512 + hw - 1) / hw)
        let budget = max(1, Conv2d.columnBudget / max(g.columnRows * hw, 1))
        let nb = max(1, min(n, wanted, budget))
        let threads = ComputeThreads.count
        var units = (n + nb - 1) / nb
        if n >= threads { units = (units + threads - 1) / threads * threads }
        return max(1, (n + units - 1) / units)
    }

    /// Whether the forward pass convolves directly (`vc_conv_direct`) rather than through im2col:
    /// vidclass's own GEMM kernel (whose packed weights it reads: packed once when frozen, on each
    /// call in training, a few hundred floats), few input channels, so that im2col's columns would
    /// be many times the input (ResNet's 7×7 stem: 49×; lrcn-small's first layer: 9×), images of at
    /// least 512 outputs, no groups or dilation, the same stride (1 or 2) and padding both ways.
    package func usesDirectConvolution(_ g: WindowGeometry) -> Bool {
        WeightMatrices.packingAvailable && groups == 1 && inChannels <= 4
            && g.strideH == g.strideW && (g.strideH == 1 || g.strideH == 2) && g.padH == g.padW
            && g.dilationH == 1 && g.dilationW == 1 && g.kernelHeight * g.kernelWidth > 1
            && g.outputHeight * g.outputWidth >= 512
    }

    /// Compute the forward pass with Winograd F(2×2, 3×3) when the geometry allows (3×3, stride 1,
    /// padding 1, no groups). On by default for such layers with at least 16 input channels. The
    /// backward pass then makes both gradients by F(4×4, 3×3) (on images of at least 4×4);
    /// elsewhere by im2col and GEMM.
    public var useWinograd = false
    /// Largest Winograd output tile: 4 uses F(4×4, 3×3) where its tiles fit the image with little
    /// waste (else F(2×2, 3×3)); 2 always uses F(2×2, 3×3).
    public var winogradTile = 4
    private var winograd4Filters: WeightMatrices?
    /// Whether ``backward(_:)`` makes the input's gradient. A caller that discards it (a network's
    /// first layer in a training step: ``LRCN/backwardParameters(_:)``) turns this off, and
    /// ``backward(_:)`` then returns zeros for it and makes only the parameters' gradients.
    package var computesInputGradient = true
    /// Set for inference snapshots (BatchNorm folded): weights are treated as constant.
    package var weightsFrozen = false
    private var winogradFilters: WeightMatrices?
    /// The weights as the im2col GEMMs read them, packed once when ``weightsFrozen``.
    private var gemmWeights: WeightMatrices?

    func workspaceBuffers(_ count: Int) -> [ScratchBuffer] { scratch(count) }

    private func scratch(_ count: Int) -> [ScratchBuffer] {
        while workspaces.count < count { workspaces.append(ScratchBuffer()) }
        return workspaces
    }

    /// Whether each channel is convolved on its own (`groups == Cin == Cout`, as MobileNet's and
    /// EfficientNet's depthwise layers): such layers run direct loops (`vc_depthwise_plane`), not GEMM.
    public var isDepthwise: Bool {
        groups > 1 && groups == inChannels && groups == outChannels && dilation == (1, 1) && !fusedMaxPool
    }

    /// Convolution + bias (+ residual) (+ ReLU or ``fusedActivation``) (+ 2×2 max-pool), all frames split across threads.
    package func convolve(_ input: Tensor, residual: Tensor?) -> Tensor {
        if isDepthwise {
            var output = reusableOutput(outputShape(input.shape[0], geometry(input)))
            DepthwiseConvolution.forward(input: input, weight: weight.value, bias: bias?.value, residual: residual,
                                         stride: stride, padding: padding,
                                         activation: fusedReLU ? .relu : fusedActivation, output: &output)
            outputCache = output
            return output
        }
        let output = convolveWithGEMM(input, residual: residual)
        if let activation = fusedActivation {
            let y = UncheckedSendable(output.storage.pointer)
            parallelChunks(output.count) { r in activation.apply(y.value + r.lowerBound, count: r.count) }
        }
        return output
    }

    /// The cached output tensor when nobody else holds it, else new storage.
    private func reusableOutput(_ shape: [Int]) -> Tensor {
        if var cached = outputCache, cached.shape == shape {
            outputCache = nil
            if cached.isUniquelyReferenced() { return cached }
        }
        return Tensor(uninitializedShape: shape)
    }

    private func convolveWithGEMM(_ input: Tensor, residual: Tensor?) -> Tensor {
        let g = geometry(input)
        let n = input.shape[0], oh = g.outputHeight, ow = g.outputWidth, hw = oh * ow
        precondition(oh > 0 && ow > 0, "Conv2d output would be empty for \(input.shape)")
        let shape = outputShape(n, g)
        if let residual { precondition(residual.shape == [n, outChannels, oh, ow] && !fusedMaxPool, "residual shape") }
        var output: Tensor
        if var cached = outputCache, cached.shape == shape {
            outputCache = nil
            output = cached.isUniquelyReferenced() ? cached : Tensor(uninitializedShape: shape)
        } else {
            output = Tensor(uninitializedShape: shape)
        }
        if let tile = winogradTile(for: input) {
            // Fused (inference) layers never change their weights: transform and pack the filters
            // once. Trainable layers transform and pack them on every call (once, not for each block
            // of tiles the products take), so updates are always seen.
            if tile == 4 {
                let filters = (weightsFrozen ? winograd4Filters : nil)
                    ?? WeightMatrices(makeWinograd4Filters(), count: 36, rows: outChannels, columns: inChannels, pack: true)
                if weightsFrozen { winograd4Filters = filters }
                winograd4Convolve(input, residual: residual, filters: filters, output: &output)
                outputCache = output
                return output
            }
            let filters = (weightsFrozen ? winogradFilters : nil)
                ?? WeightMatrices(makeWinogradFilters(), count: 16, rows: outChannels, columns: inChannels, pack: true)
            if weightsFrozen { winogradFilters = filters }
            winogradConvolve(input, residual: residual, filters: filters, output: &output)
            outputCache = output
            return output
        }
        let nb = imagesPerGEMM(n, g)
        let units = (n + nb - 1) / nb
        let threads = ComputeThreads.count
        let workers = min(threads, units)
        let innerParallel = workers < threads
        let k = g.columnRows / groups, coutG = outChannels / groups
        let inPlane = inChannels * g.height * g.width
        let outPlane = shape[1] * shape[2] * shape[3]
        let pointwise = kernelSize == (1, 1) && stride == (1, 1) && padding == (0, 0)
        let bandRows = Conv2d.columnBandRows(g)
        let spaces = scratch(workers)
        let biasValues = bias?.value
        let relu = fusedReLU, pool = fusedMaxPool, cout = outChannels
        let weights = (weightsFrozen ? gemmWeights : nil)
            ?? WeightMatrices(weight.value.scalars, count: groups, rows: coutG, columns: k, pack: true)
        if weightsFrozen { gemmWeights = weights }
        let direct = usesDirectConvolution(g) ? weights.packedPointer(0).map(UncheckedSendable.init) : nil
        while direct != nil && directWorkspaces.count < max(workers, threads) { directWorkspaces.append(ScratchBuffer()) }
        let directSpaces = directWorkspaces
        let x = UncheckedSendable(input)
        let res = UncheckedSendable(residual)
        let y = UncheckedSendable(output.storage.pointer)
        let biasPtr = UncheckedSendable(biasValues)
        parallelFor(workers) { worker in
            let space = spaces[worker]
            let needsColumns = !(pointwise && nb == 1) && direct == nil
            let staged = nb > 1 || pool
            let colCount = needsColumns ? g.columnRows * nb * hw : 0
            let stageCount = staged ? cout * nb * hw : 0
            let base = space.reserve(colCount + stageCount)
            let cols = base, stage = base + colCount
            x.value.withUnsafeBufferPointer { xp in
                for unit in partition(units, worker: worker, of: workers) {
                    let first = unit * nb, count = min(nb, n - first), width = count * hw
                    if let direct {
                        // Few input channels (a network's first layer): read the input directly.
                        for image in first..<(first + count) {
                            let dst = staged ? stage : y.value + image * outPlane
                            let inner = innerParallel ? threads : 1
                            let source = UncheckedSendable(xp.baseAddress! + image * inPlane), target = UncheckedSendable(dst)
                            parallelFor(inner) { t in
                                let rows = partition(oh, worker: t, of: inner)
                                guard !rows.isEmpty else { return }
                                let scratch = directSpaces[inner > 1 ? t : worker].reserve(DirectConvolution.scratchCount(g))
                                DirectConvolution.run(weights: direct.value, outChannels: cout, geometry: g, input: source.value,
                                                      output: target.value, rows: rows, scratch: scratch)
                            }
                            Conv2d.epilogue(src: dst, rowStride: hw, dst: y.value + image * outPlane, channels: cout, oh: oh,
                                            ow: ow, bias: biasPtr.value, residual: res.value.map { UncheckedSendable($0) },
                                            residualOffset: image * cout * hw, relu: relu, pool: pool)
                        }
                        continue
                    }
                    if needsColumns && count == 1 && !staged && bandRows < oh {
                        // A large image (ResNet's 7×7 stem): columns for a band of output rows at a
                        // time, so they stay in cache between im2col and the GEMM.
                        let dst = y.value + first * outPlane
                        for y0 in Swift.stride(from: 0, to: oh, by: bandRows) {
                            let rows = y0..<min(oh, y0 + bandRows), bandWidth = rows.count * ow
                            im2col(xp.baseAddress! + first * inPlane, g, columns: cols, rowStride: bandWidth,
                                   outputRows: rows)
                            for gi in 0..<groups {
                                weights.multiply(gi, n: bandWidth, b: cols + gi * k * bandWidth, ldb: bandWidth,
                                                 c: dst + gi * coutG * hw + y0 * ow, ldc: hw, parallel: innerParallel)
                            }
                        }
                        Conv2d.epilogue(src: dst, rowStride: hw, dst: dst, channels: cout, oh: oh, ow: ow,
                                        bias: biasPtr.value, residual: res.value.map { UncheckedSendable($0) },
                                        residualOffset: first * cout * hw, relu: relu, pool: false)
                        continue
                    }
                    let b: UnsafePointer<Float>
                    if needsColumns {
                        for i in 0..<count {
                            im2col(xp.baseAddress! + (first + i) * inPlane, g, columns: cols + i * hw,
                                   rowStride: width)
                        }
                        b = UnsafePointer(cols)
                    } else {
                        b = xp.baseAddress! + first * inPlane
                    }
                    let dst = staged ? stage : y.value + first * outPlane
                    for gi in 0..<groups {
                        weights.multiply(gi, n: width, b: b + gi * k * width, ldb: width,
                                         c: dst + gi * coutG * width, ldc: width, parallel: innerParallel)
                    }
                    for i in 0..<count {
                        let image = first + i
                        let src: UnsafeMutablePointer<Float> = staged ? stage + i * hw : y.value + image * outPlane
                        let r = res.value.map { UncheckedSendable($0) }
                        Conv2d.epilogue(src: src, rowStride: staged ? width : hw, dst: y.value + image * outPlane,
                                        channels: cout, oh: oh, ow: ow, bias: biasPtr.value, residual: r,
                                        residualOffset: image * cout * hw, relu: relu, pool: pool)
                    }
                }
            }
        }
        outputCache = output
        return output
    }

    /// Whether the backward pass makes both gradients by F(4×4, 3×3): wherever the forward pass takes
    /// Winograd, on images of at least 4×4. Also where the forward pass prefers F(2×2, 3×3) (the
    /// tiles overhang): F(4×4)'s 36 products per 4 × 4 tile still beat F(2×2)'s 64 on a 14×14
    /// image (16 tiles against 49), and im2col's 144.
    package func backwardUsesWinograd(_ input: Tensor) -> Bool {
        useWinograd && supportsWinograd && input.shape[2] >= 4 && input.shape[3] >= 4
    }

    /// The Winograd output tile (2 or 4) the forward pass uses on `input`, or nil for im2col + GEMM.
    package func winogradTile(for input: Tensor) -> Int? {
        guard useWinograd && supportsWinograd else { return nil }
        return winogradTile >= 4 && Conv2d.prefersWinograd4(h: input.shape[2], w: input.shape[3], images: input.shape[0]) ? 4 : 2
    }

    /// Output rows whose columns fill about 256 KB (a core's share of L2) while keeping the GEMM at
    /// least ~256 columns wide; the output height when the whole image's columns are that small.
    package static func columnBandRows(_ g: WindowGeometry) -> Int {
        let ow = g.outputWidth
        let rows = max(1, (1 << 16) / max(1, g.columnRows * ow), (256 + ow - 1) / ow)
        return min(rows, g.outputHeight)
    }

    /// Bias, residual, ReLU and optional 2×2 max-pool from GEMM output rows (`rowStride` apart) into
    /// one image's output `[C, H', W']`.
    private static func epilogue(src: UnsafeMutablePointer<Float>, rowStride: Int, dst: UnsafeMutablePointer<Float>,
                                 channels: Int, oh: Int, ow: Int, bias: Tensor?,
                                 residual: UncheckedSendable<Tensor>?, residualOffset: Int, relu: Bool, pool: Bool) {
        let hw = oh * ow
        let inPlace = src == dst && rowStride == hw
        if bias == nil && residual == nil && !relu && !pool && inPlace { return }
        let bp: UnsafePointer<Float>? = bias.map { $0.storage.pointer }.map { UnsafePointer($0) }
        let rp: UnsafePointer<Float>? = residual.map { UnsafePointer($0.value.storage.pointer + residualOffset) }
        if pool {
            let ph = oh / 2, pw = ow / 2
            for c in 0..<channels {
                let row = src + c * rowStride, out = dst + c * ph * pw
                let bv = bp?[c] ?? 0
                for py in 0..<ph {
                    let r0 = row + 2 * py * ow, r1 = r0 + ow
                    let o = out + py * pw
                    for px in 0..<pw {
                        let m = max(max(r0[2 * px], r0[2 * px + 1]), max(r1[2 * px], r1[2 * px + 1])) + bv
                        o[px] = relu ? max(m, 0) : m
                    }
                }
            }
            return
        }
        for c in 0..<channels {
            let row = src + c * rowStride, out = dst + c * hw
            let bv = bp?[c] ?? 0
            if let rp {
                let rr = rp + c * hw
                if relu {
                    for j in 0..<hw { out[j] = max(row[j] + bv + rr[j], 0) }
                } else {
                    for j in 0..<hw { out[j] = row[j] + bv + rr[j] }
                }
            } else if relu {
                for j in 0..<hw { out[j] = max(row[j] + bv, 0) }
            } else {
                for j in 0..<hw { out[j] = row[j] + bv }
            }
        }
    }

    // MARK: - Backward

    /// Gradients of the weight and bias from `[N, Cout, Ho, Wo]`; returns the input's, `[N, Cin, H, W]`.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input = cachedInput else { preconditionFailure("Conv2d.backward without a training forward") }
        let g = geometry(input)
        if isDepthwise {
            precondition(outputGradient.shape == [input.shape[0], outChannels, g.outputHeight, g.outputWidth],
                         "Conv2d gradient shape \(outputGradient.shape) does not match output")
            let dx: Tensor
            if let bias {
                dx = bias.gradient.withUnsafeMutableBufferPointer { db in
                    DepthwiseConvolution.backward(input: input, weight: weight.value, outputGradient: outputGradient,
                                                  stride: stride, padding: padding, weightGradient: &weight.gradient,
                                                  biasGradient: db.baseAddress!)
                }
            } else {
                dx = DepthwiseConvolution.backward(input: input, weight: weight.value, outputGradient: outputGradient,
                                                   stride: stride, padding: padding, weightGradient: &weight.gradient,
                                                   biasGradient: nil)
            }
            cachedInput = nil
            return dx
        }
        let n = input.shape[0], hw = g.outputHeight * g.outputWidth
        precondition(outputGradient.shape == [n, outChannels, g.outputHeight, g.outputWidth],
                     "Conv2d gradient shape \(outputGradient.shape) does not match output")
        let k = g.columnRows / groups, coutG = outChannels / groups, cout = outChannels
        let nb = imagesPerGEMM(n, g)
        let units = (n + nb - 1) / nb
        let threads = ComputeThreads.count
        let workers = min(threads, units)
        let innerParallel = workers < threads
        let inPlane = inChannels * g.height * g.width
        let weightCount = weight.value.count
        if let bias {
            bias.gradient += outputGradient.reshaped([n, outChannels, hw]).sum(alongAxis: 2).sum(alongAxis: 0)
        }
        // Both gradients by F(4×4, 3×3) where the layer takes Winograd: the input's is a convolution
        // of the output gradient (``winograd4InputGradient(_:)``), the weights' the same algorithm
        // run backwards (``winograd4AccumulateWeightGradient(input:outputGradient:)``).
        if backwardUsesWinograd(input) {
            winograd4AccumulateWeightGradient(input: input, outputGradient: outputGradient)
            cachedInput = nil
            return computesInputGradient ? winograd4InputGradient(outputGradient) : Tensor(shape: input.shape)
        }
        let gemmInput = computesInputGradient
        var inputGradient = Tensor(shape: input.shape)
        let spaces = scratch(workers)
        let x = UncheckedSendable(input), w = UncheckedSendable(weight.value), dyT = UncheckedSendable(outputGradient)
        inputGradient.makeUnique()
        let dx = UncheckedSendable(inputGradient.storage.pointer)
        parallelFor(workers) { worker in
            let space = spaces[worker]
            let colCount = g.columnRows * nb * hw
            let stageCount = nb > 1 ? cout * nb * hw : 0
            let base = space.reserve(2 * colCount + stageCount + weightCount)
            let col = base, dcol = base + colCount, stage = dcol + colCount, dw = stage + stageCount
            dw.update(repeating: 0, count: weightCount)
            x.value.withUnsafeBufferPointer { xp in
                w.value.withUnsafeBufferPointer { wp in
                    dyT.value.withUnsafeBufferPointer { dyp in
                        for unit in partition(units, worker: worker, of: workers) {
                            let first = unit * nb, count = min(nb, n - first), width = count * hw
                            for i in 0..<count {
                                im2col(xp.baseAddress! + (first + i) * inPlane, g, columns: col + i * hw,
                                       rowStride: width)
                            }
                            let dY: UnsafePointer<Float>
                            if count == 1 {
                                dY = dyp.baseAddress! + first * cout * hw
                            } else {
                                for i in 0..<count {
                                    for co in 0..<cout {
                                        (stage + co * width + i * hw).update(
                                            from: dyp.baseAddress! + ((first + i) * cout + co) * hw, count: hw)
                                    }
                                }
                                dY = UnsafePointer(stage)
                            }
                            for gi in 0..<groups {
                                // dW_g += dY_g · col_gᵀ
                                GEMM.multiply(transposeA: false, transposeB: true, m: coutG, n: k, k: width,
                                              a: dY + gi * coutG * width, lda: width,
                                              b: col + gi * k * width, ldb: width,
                                              beta: 1, c: dw + gi * coutG * k, ldc: k, parallel: innerParallel)
                                if !gemmInput { continue }
                                // dcol_g = W_gᵀ · dY_g
                                GEMM.multiply(transposeA: true, transposeB: false, m: k, n: width, k: coutG,
                                              a: wp.baseAddress! + gi * coutG * k, lda: k,
                                              b: dY + gi * coutG * width, ldb: width,
                                              c: dcol + gi * k * width, ldc: width, parallel: innerParallel)
                            }
                            for i in 0..<count where gemmInput {
                                col2im(dcol + i * hw, rowStride: width, g, image: dx.value + (first + i) * inPlane)
                            }
                        }
                    }
                }
            }
        }
        weight.gradient.withUnsafeMutableBufferPointer { total in
            for worker in 0..<workers {
                let dw = spaces[worker].pointer + (2 * g.columnRows * nb * hw + (nb > 1 ? cout * nb * hw : 0))
                for i in 0..<weightCount { total[i] += dw[i] }
            }
        }
        cachedInput = nil
        return inputGradient
    }
}

/// Growable scratch memory owned by one worker of a layer (uninitialised, reused across calls).
final class ScratchBuffer: @unchecked Sendable {
    private(set) var pointer = ScratchBuffer.allocate(1)
    private var capacity = 1

    /// At least `count` floats of scratch; contents are undefined. The memory starts on a cache line
    /// (64 bytes): the kernels' 16-float vectors then never straddle two lines.
    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            capacity = count
            pointer = Self.allocate(count)
        }
        return pointer
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
    }

    deinit { pointer.deallocate() }
}

import NeuralNetwork
import Tensors
import Testing
import VideoClassification

@Suite struct InferenceFusionTests {
    /// Winograd F(2×2, 3×3) with fused bias/ReLU/2×2 pooling equals im2col + separate layers.
    @Test(arguments: [(16, 8, 7, 9, false, false), (16, 8, 8, 6, true, true), (20, 5, 5, 5, true, false),
                      (16, 4, 2, 3, false, true), (16, 8, 6, 37, true, true), (16, 8, 5, 40, false, false),
                      (16, 8, 16, 36, false, false), (16, 8, 8, 68, true, true), (24, 8, 12, 20, true, false),
                      (16, 4, 8, 8, false, false), (16, 4, 4, 4, false, false)])
    func winogradMatchesIm2col(cin: Int, cout: Int, h: Int, w: Int, relu: Bool, pool: Bool) {
        for tile in [2, 4] { winogradCase(cin: cin, cout: cout, h: h, w: w, relu: relu, pool: pool, tile: tile) }
    }

    /// F(4×4, 3×3) with a residual and ReLU on rows of 11 tiles: a block of 8 tiles gathered and
    /// scattered in registers, then the rest one output at a time.
    @Test func winograd4ResidualAndReLUOnWideRows() {
        var rng = SplitMix64(seed: 44)
        let columns = Conv2d(16, 8, kernelSize: 3, stride: 1, padding: 1, bias: true, rng: &rng)
        columns.useWinograd = false
        let winograd = Conv2d(weight: columns.weight.value, bias: columns.bias!.value, stride: (1, 1), padding: (1, 1))
        winograd.useWinograd = true
        winograd.fusedReLU = true
        let x = Tensor.normal(shape: [2, 16, 12, 44], using: &rng)
        let residual = Tensor.normal(shape: [2, 8, 12, 44], using: &rng)
        #expect(winograd.winogradTile(for: x) == 4)
        let expected = (columns.forward(x, mode: .inference) + residual).relu()
        expectClose(winograd.convolve(x, residual: residual), expected, 1e-5, "F(4×4) with residual and ReLU")
        #expect(expected.scalars.contains { $0 == 0 } && expected.scalars.contains { $0 > 0 })
    }

    /// The shapes where F(4×4, 3×3) takes over from F(2×2, 3×3) by size: ResNet's 7×7 layer3, and
    /// its 4×4 layer4 once a batch has 64 images.
    @Test func winograd4OnSmallImages() {
        #expect(Conv2d.prefersWinograd4(h: 7, w: 7, images: 1))
        #expect(!Conv2d.prefersWinograd4(h: 4, w: 4, images: 16))
        #expect(Conv2d.prefersWinograd4(h: 4, w: 4, images: 64))
        #expect(!Conv2d.prefersWinograd4(h: 14, w: 14, images: 64))
        winogradCase(cin: 16, cout: 8, h: 7, w: 7, relu: true, pool: false, tile: 4)
        winogradCase(cin: 16, cout: 8, h: 4, w: 4, relu: false, pool: false, tile: 4, images: 64)
    }

    /// F(2×2, 3×3) on a batch with few tiles and many output channels splits the work by channel
    /// across threads (when there are several) instead of by image.
    @Test(arguments: [(4, 4, false), (6, 6, true), (5, 7, false)])
    func winogradSplittingChannels(h: Int, w: Int, pool: Bool) {
        winogradCase(cin: 16, cout: 64, h: h, w: w, relu: true, pool: pool, tile: 2)
        winogradCase(cin: 20, cout: 72, h: h, w: w, relu: false, pool: pool, tile: 2, images: 5)
    }

    /// Layers with few input channels convolve their input directly through the packed-weights
    /// kernel (no im2col): equal to a naive convolution for stride 1 and 2, widths that leave a
    /// partial 16-column tile, output channels that leave a partial 6-row panel, one image (its
    /// rows split across threads) and several.
    @Test(arguments: [(112, 112, 3, 32, 3, 1, 1, 1), (57, 61, 3, 13, 7, 2, 3, 3), (40, 37, 2, 5, 5, 1, 2, 2),
                      (33, 70, 4, 7, 3, 2, 1, 1)])
    func directConvolutionMatchesNaiveConvolution(h: Int, w: Int, cin: Int, cout: Int, k: Int, stride: Int, pad: Int,
                                                  images: Int) {
        guard WeightMatrices.packingAvailable else { return }
        var rng = SplitMix64(seed: UInt64(h * 100 + w + cout))
        let conv = Conv2d(cin, cout, kernelSize: k, stride: stride, padding: pad, bias: true, rng: &rng)
        conv.weightsFrozen = true
        let g = WindowGeometry(channels: cin, height: h, width: w, kernel: (k, k), stride: (stride, stride), padding: (pad, pad))
        #expect(conv.usesDirectConvolution(g), "the case must take the direct path")
        let x = Tensor.normal(shape: [images, cin, h, w], using: &rng)
        let oh = g.outputHeight, ow = g.outputWidth
        let naive = naiveConvolution(x, conv, kernel: k, stride: stride, pad: pad)
        expectClose(conv.forward(x, mode: .inference), Tensor(shape: [images, cout, oh, ow], scalars: naive), 1e-4,
                    "direct \(h)x\(w) stride \(stride)")
    }

    /// A large image's columns are built a band of output rows at a time (ResNet's 7×7 stride-2
    /// stem), and stride-2 rows are gathered 8 at a time: both equal a direct convolution, with and
    /// without a residual and ReLU, for widths that leave a scalar tail.
    @Test(arguments: [(64, 64, 2, 3), (66, 61, 2, 3), (40, 300, 1, 1)])
    func bandedColumnsMatchDirectConvolution(h: Int, w: Int, stride: Int, pad: Int) {
        var rng = SplitMix64(seed: UInt64(h * 1000 + w))
        let k = stride == 2 ? 7 : 3
        // Five input channels: with at most four, the direct convolution takes the layer instead.
        let conv = Conv2d(5, 4, kernelSize: k, stride: stride, padding: pad, bias: true, rng: &rng)
        let x = Tensor.normal(shape: [1, 5, h, w], using: &rng)
        let g = WindowGeometry(channels: 5, height: h, width: w, kernel: (k, k), stride: (stride, stride), padding: (pad, pad))
        #expect(Conv2d.columnBandRows(g) < g.outputHeight, "the case must take the banded path")
        #expect(!conv.usesDirectConvolution(g))
        let oh = g.outputHeight, ow = g.outputWidth
        let direct = naiveConvolution(x, conv, kernel: k, stride: stride, pad: pad)
        let expected = Tensor(shape: [1, 4, oh, ow], scalars: direct)
        expectClose(conv.forward(x, mode: .inference), expected, 1e-4, "banded \(h)x\(w)")
        let residual = Tensor.normal(shape: [1, 4, oh, ow], using: &rng)
        conv.fusedReLU = true
        expectClose(conv.convolve(x, residual: residual), (expected + residual).relu(), 1e-4, "banded with residual")
    }

    /// Where the layer takes Winograd, the input gradient (the output gradient convolved with the
    /// flipped filters) and the weights' (F(4×4, 3×3) run backwards) equal im2col's: on images whose
    /// tiles fit, whose last tiles overhang, whose forward pass takes F(2×2) (14×14, 5×7) or whose
    /// rows have more than 8 tiles; the bias gradient is the same bits.
    @Test(arguments: [(16, 24, 12, 12), (24, 16, 11, 11), (16, 40, 12, 20), (32, 16, 14, 14), (16, 16, 5, 7),
                      (16, 8, 9, 45)])
    func winogradInputGradientMatchesColumns(cin: Int, cout: Int, h: Int, w: Int) {
        var rng = SplitMix64(seed: UInt64(cin * 31 + h * 7 + w))
        let columns = Conv2d(cin, cout, kernelSize: 3, stride: 1, padding: 1, bias: true, rng: &rng)
        let winograd = Conv2d(weight: columns.weight.value, bias: columns.bias!.value, stride: (1, 1), padding: (1, 1))
        columns.useWinograd = false
        winograd.useWinograd = true
        let x = Tensor.normal(shape: [3, cin, h, w], using: &rng)
        let dy = Tensor.normal(shape: [3, cout, h, w], using: &rng)
        #expect(winograd.backwardUsesWinograd(x), "the case must take F(4×4, 3×3)")
        #expect(!columns.backwardUsesWinograd(x))
        _ = columns.forward(x, mode: .training)
        _ = winograd.forward(x, mode: .training)
        let expected = columns.backward(dy), got = winograd.backward(dy)
        expectClose(got, expected, 2e-5, "input gradient \(cin)->\(cout) \(h)x\(w)")
        expectClose(winograd.weight.gradient, columns.weight.gradient, 2e-5, "weight gradient \(cin)->\(cout) \(h)x\(w)")
        #expect(winograd.bias!.gradient.scalars == columns.bias!.gradient.scalars)
        #expect(expected.scalars.contains { $0 != 0 })
    }

    func winogradCase(cin: Int, cout: Int, h: Int, w: Int, relu: Bool, pool: Bool, tile: Int, images: Int = 3) {
        var rng = SplitMix64(seed: UInt64(cin * 100 + h))
        let conv = Conv2d(cin, cout, kernelSize: 3, stride: 1, padding: 1, bias: true, rng: &rng)
        conv.useWinograd = false  // the reference: im2col and GEMM
        let x = Tensor.normal(shape: [images, cin, h, w], using: &rng)
        var expected = conv.forward(x, mode: .inference)
        if relu { expected = expected.relu() }
        if pool && h >= 2 && w >= 2 { expected = MaxPool2d(kernelSize: 2).forward(expected, mode: .inference) }
        let fast = Conv2d(weight: conv.weight.value, bias: conv.bias!.value, stride: (1, 1), padding: (1, 1))
        fast.useWinograd = true
        fast.winogradTile = tile
        fast.fusedReLU = relu
        fast.fusedMaxPool = pool
        let got = fast.forward(x, mode: .inference)
        expectClose(got, expected, 1e-5, "winograd F(\(tile)) \(cin)->\(cout) \(h)x\(w)")
        // The reused output buffer must not alias a result the caller still holds.
        let again = fast.forward(x * 2, mode: .inference)
        expectClose(got, expected, 1e-5, "first result after a second call")
        #expect(again.shape == got.shape)
    }

    /// BatchNorm folding, fused ReLU/pooling and Winograd give the unfused model's logits.
    @Test(arguments: [ModelDescription.Backbone.small, .resnet18])
    func fusedModelMatchesUnfused(backbone: ModelDescription.Backbone) {
        let d = ModelDescription(backbone: backbone, numClasses: 3, smallChannels: [8, 16, 16], resnetWidth: 4,
                                 hiddenSize: 8)
        let model = LRCN(d, seed: 5)
        var rng = SplitMix64(seed: 6)
        // Give BatchNorm non-trivial statistics.
        for (name, p) in model.namedBuffers() {
            p.value = name.hasSuffix("running_var") ? Tensor.uniform(shape: p.value.shape, bound: 0.5, using: &rng) + 1
                : Tensor.normal(shape: p.value.shape, std: 0.3, using: &rng)
        }
        let x = Tensor.normal(shape: [2, 3, 3, 68, 68], using: &rng)
        let reference = model.forward(x, mode: .inference)
        expectClose(LRCNInference(model, winograd: false).logits(x), reference, 1e-4, "fused, im2col")
        expectClose(LRCNInference(model, winograd: true).logits(x), reference, 1e-4, "fused, winograd")
    }
}

@Suite struct PoolingModeTests {
    /// The inference fast paths of max-pooling equal the training path (which records indices).
    @Test(arguments: [(3, 2, 1), (2, 2, 0), (3, 1, 1), (2, 1, 0), (3, 3, 0)])
    func inferenceEqualsTraining(k: Int, s: Int, p: Int) {
        var rng = SplitMix64(seed: UInt64(k * 10 + s))
        let x = Tensor.normal(shape: [2, 3, 7, 9], using: &rng)
        let pool = MaxPool2d(kernelSize: k, stride: s, padding: p)
        #expect(pool.forward(x, mode: .inference).scalars == pool.forward(x, mode: .training).scalars)
    }
}

/// The convolution (with bias) of `x` `[N, Cin, H, W]` by `conv`'s square kernel, loop by loop.
func naiveConvolution(_ x: Tensor, _ conv: Conv2d, kernel k: Int, stride: Int, pad: Int) -> [Float] {
    let images = x.shape[0], cin = x.shape[1], h = x.shape[2], w = x.shape[3], cout = conv.outChannels
    let oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1
    let wt = conv.weight.value.scalars, bias = conv.bias!.value.scalars, xs = x.scalars
    var out = [Float](repeating: 0, count: images * cout * oh * ow)
    for n in 0..<images {
        for co in 0..<cout {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var acc = bias[co]
                    for ci in 0..<cin {
                        for ky in 0..<k {
                            let iy = oy * stride - pad + ky
                            guard iy >= 0 && iy < h else { continue }
                            for kx in 0..<k {
                                let ix = ox * stride - pad + kx
                                guard ix >= 0 && ix < w else { continue }
                                acc += wt[((co * cin + ci) * k + ky) * k + kx] * xs[((n * cin + ci) * h + iy) * w + ix]
                            }
                        }
                    }
                    out[((n * cout + co) * oh + oy) * ow + ox] = acc
                }
            }
        }
    }
    return out
}

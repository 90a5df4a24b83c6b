import NeuralNetwork
import Tensors
import Testing
import VideoClassification

@Suite struct LayerGradientTests {
    static func input(_ shape: [Int], seed: UInt64 = 5) -> Tensor {
        var rng = SplitMix64(seed: seed)
        return Tensor.normal(shape: shape, using: &rng)
    }

    struct ConvCase: Sendable, CustomStringConvertible {
        var cin: Int, cout: Int, k: (Int, Int), s: (Int, Int), p: (Int, Int), d: (Int, Int), g: Int, bias: Bool
        var h: Int, w: Int, n: Int
        var description: String { "cin\(cin) cout\(cout) k\(k) s\(s) p\(p) d\(d) g\(g) bias\(bias) \(n)x\(h)x\(w)" }
    }

    @Test(arguments: [
        ConvCase(cin: 3, cout: 4, k: (3, 3), s: (1, 1), p: (1, 1), d: (1, 1), g: 1, bias: true, h: 5, w: 6, n: 2),
        ConvCase(cin: 4, cout: 6, k: (3, 2), s: (2, 1), p: (1, 0), d: (1, 2), g: 2, bias: false, h: 7, w: 5, n: 3),
        ConvCase(cin: 2, cout: 3, k: (1, 1), s: (2, 2), p: (0, 0), d: (1, 1), g: 1, bias: true, h: 5, w: 5, n: 1),
        ConvCase(cin: 3, cout: 3, k: (3, 3), s: (1, 1), p: (2, 2), d: (2, 2), g: 3, bias: true, h: 4, w: 5, n: 2),
    ])
    func conv2d(_ c: ConvCase) {
        var rng = SplitMix64(seed: 3)
        let conv = Conv2d(c.cin, c.cout, kernelSize: c.k, stride: c.s, padding: c.p, dilation: c.d, groups: c.g,
                          bias: c.bias, rng: &rng)
        #expect(gradientCheck(conv, input: Self.input([c.n, c.cin, c.h, c.w])) < 2e-2)
    }

    @Test func batchNormTraining() {
        let bn = BatchNorm2d(3)
        var rng = SplitMix64(seed: 4)
        bn.weight.value = Tensor.normal(shape: [3], using: &rng)
        bn.bias.value = Tensor.normal(shape: [3], using: &rng)
        #expect(gradientCheck(bn, input: Self.input([2, 3, 3, 2]), eps: 1e-2) < 2e-2)
    }

    @Test func linearOnSequence() {
        var rng = SplitMix64(seed: 4)
        #expect(gradientCheck(Linear(5, 3, rng: &rng), input: Self.input([2, 3, 5])) < 1e-2)
    }

    @Test func poolsAndActivations() {
        #expect(gradientCheck(MaxPool2d(kernelSize: 2), input: Self.input([2, 2, 5, 5])) < 1e-2)
        #expect(gradientCheck(MaxPool2d(kernelSize: 3, stride: 2, padding: 1), input: Self.input([1, 2, 5, 6])) < 1e-2)
        #expect(gradientCheck(AvgPool2d(kernelSize: 3, stride: 2, padding: 1), input: Self.input([1, 2, 5, 6])) < 1e-2)
        #expect(gradientCheck(GlobalAveragePool(), input: Self.input([2, 3, 3, 3])) < 1e-2)
        #expect(gradientCheck(ReLU(), input: Self.input([2, 7]), eps: 1e-3) < 1e-2)
        #expect(gradientCheck(Flatten(), input: Self.input([2, 3, 2, 2])) < 1e-2)
    }

    @Test(arguments: [1, 2])
    func basicBlock(stride: Int) {
        var rng = SplitMix64(seed: 8)
        let block = BasicBlock(2, stride == 1 ? 2 : 3, stride: stride, rng: &rng)
        #expect(gradientCheck(block, input: Self.input([2, 2, 5, 5]), eps: 1e-3) < 3e-2)
    }

    @Test func sequentialSmallEncoder() {
        var rng = SplitMix64(seed: 9)
        let net = Sequential([
            Conv2d(2, 3, kernelSize: 3, padding: 1, bias: false, rng: &rng), BatchNorm2d(3), ReLU(),
            MaxPool2d(kernelSize: 2), GlobalAveragePool(), Linear(3, 2, rng: &rng),
        ])
        #expect(net.namedParameters().map(\.0) == ["0.weight", "1.weight", "1.bias", "5.weight", "5.bias"])
        #expect(gradientCheck(net, input: Self.input([3, 2, 5, 4])) < 3e-2)
    }

    /// Inside a Sequential a ReLU before a max pooling runs after it: the same outputs and input
    /// gradients as the two layers one by one in their order, for 2×2 pooling and ResNet's padded
    /// 3×3 pooling at stride 2 (overlapping windows), with tied maxima and windows of negatives.
    @Test(arguments: [(2, 2, 0), (3, 2, 1)])
    func reluBeforeMaxPoolingRunsAfterIt(kernel: Int, stride: Int, padding: Int) {
        var rng = SplitMix64(seed: UInt64(12 + kernel))
        let raw = Tensor.normal(shape: [2, 3, 8, 9], using: &rng).scalars
        let x = Tensor(shape: [2, 3, 8, 9], scalars: raw.enumerated().map { i, v in
            (i / 9) % 4 == 1 ? -abs(v) - 0.5 : (v * 2).rounded() / 2  // rows of negatives; ties on a coarse grid
        })
        let sequence = Sequential([ReLU(), MaxPool2d(kernelSize: kernel, stride: stride, padding: padding)])
        let relu = ReLU(), pool = MaxPool2d(kernelSize: kernel, stride: stride, padding: padding)
        let expected = pool.forward(relu.forward(x, mode: .training), mode: .training)
        let got = sequence.forward(x, mode: .training)
        #expect(got.shape == expected.shape && got.scalars == expected.scalars)
        let g = Tensor.normal(shape: got.shape, using: &rng)
        let dExpected = relu.backward(pool.backward(g))
        let dGot = sequence.backward(g)
        #expect(dGot.scalars == dExpected.scalars)
        #expect(dExpected.scalars.contains { $0 != 0 } && dExpected.scalars.contains { $0 == 0 })
    }

    /// In training, a Sequential runs a BatchNorm2d and the 2×2 max pooling after it (and a ReLU,
    /// here before the pooling as lrcn-small has it) in one pass: the same output bits, running
    /// statistics and tied-maximum choices as the layers one by one, and the same gradients (input,
    /// weight, bias) up to the order of the sums. Shapes with odd heights and widths (a row or
    /// column no window covers), rows of more than 8 windows (the vector path and its tail), and a
    /// negative scale (the maximum comes from the smallest input); with and without the ReLU.
    @Test(arguments: [[2, 3, 8, 9], [2, 5, 7, 36], [3, 2, 2, 2], [1, 4, 33, 17]], [true, false])
    func batchNormBeforeMaxPoolingRunsWithIt(shape: [Int], relu withReLU: Bool) {
        var rng = SplitMix64(seed: UInt64(shape.reduce(0, +)))
        let raw = Tensor.normal(shape: shape, using: &rng).scalars
        let x = Tensor(shape: shape, scalars: raw.map { ($0 * 4).rounded() / 4 })  // ties on a coarse grid
        let c = shape[1]
        func layers() -> (BatchNorm2d, ReLU, MaxPool2d) {
            let norm = BatchNorm2d(c)
            norm.weight.value = Tensor(shape: [c], scalars: (0..<c).map { $0 % 2 == 0 ? 1.5 - Float($0) * 0.1 : -0.75 })
            norm.bias.value = Tensor(shape: [c], scalars: (0..<c).map { Float($0) * 0.25 - 0.3 })
            return (norm, ReLU(), MaxPool2d(kernelSize: 2))
        }
        let (norm, relu, pool) = layers()
        func separately(_ x: Tensor, _ mode: ExecutionMode) -> Tensor {
            let normalized = norm.forward(x, mode: mode)
            return pool.forward(withReLU ? relu.forward(normalized, mode: mode) : normalized, mode: mode)
        }
        let expected = separately(x, .training)
        let (fusedNorm, fusedReLU, fusedPool) = layers()
        let sequence = Sequential(withReLU ? [fusedNorm, fusedReLU, fusedPool] : [fusedNorm, fusedPool])
        let got = sequence.forward(x, mode: .training)
        #expect(got.shape == expected.shape && got.scalars == expected.scalars)
        #expect(fusedNorm.runningMean.value.scalars == norm.runningMean.value.scalars)
        #expect(fusedNorm.runningVar.value.scalars == norm.runningVar.value.scalars)

        let g = Tensor.normal(shape: got.shape, using: &rng)
        let pooledGradient = pool.backward(g)
        let dExpected = norm.backward(withReLU ? relu.backward(pooledGradient) : pooledGradient)
        let dGot = sequence.backward(g)
        func close(_ a: [Float], _ b: [Float]) -> Bool {
            let scale = max(b.map(abs).max() ?? 0, 1e-3)
            return a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 2e-5 * scale }
        }
        #expect(close(dGot.scalars, dExpected.scalars))
        #expect(close(fusedNorm.weight.gradient.scalars, norm.weight.gradient.scalars))
        #expect(close(fusedNorm.bias.gradient.scalars, norm.bias.gradient.scalars))
        #expect(dExpected.scalars.contains { $0 != 0 } && norm.weight.gradient.scalars.contains { $0 != 0 })
        // Inference is unchanged: the separate layers with the running statistics.
        #expect(sequence.forward(x, mode: .inference).scalars == separately(x, .inference).scalars)
    }

    @Test func dropoutMasksAndScales() {
        let drop = Dropout(probability: 0.5, seed: 1)
        let x = Tensor(shape: [1000], repeating: 1)
        let y = drop.forward(x, mode: .training)
        #expect(y.scalars.allSatisfy { $0 == 0 || $0 == 2 })
        let kept = y.scalars.filter { $0 != 0 }.count
        #expect(kept > 400 && kept < 600)
        let g = drop.backward(Tensor(shape: [1000], repeating: 3))
        #expect(zip(g.scalars, y.scalars).allSatisfy { $0 == 3 * $1 })
        #expect(drop.forward(x, mode: .inference).scalars == x.scalars)
    }

    @Test func batchNormRunningStatistics() {
        let bn = BatchNorm2d(1, momentum: 0.1)
        let x = Tensor(shape: [2, 1, 1, 2], scalars: [1, 2, 3, 4])
        _ = bn.forward(x, mode: .training)
        // mean 2.5, unbiased var 5/3
        #expect(abs(bn.runningMean.value[0] - 0.25) < 1e-6)
        #expect(abs(bn.runningVar.value[0] - (0.9 + 0.1 * 5 / 3)) < 1e-6)
        let y = bn.forward(x, mode: .inference)
        #expect(abs(y[0, 0, 0, 0] - (1 - 0.25) / (bn.runningVar.value[0] + 1e-5).squareRoot()) < 1e-5)
    }
}

extension LayerGradientTests {
    /// The whole LRCN (encoder, recurrent layer, head) against central differences.
    @Test(arguments: [(RecurrentKind.lstm, ModelDescription.Head.lastStep), (.gru, .meanOverTime),
                      (.rnnTanh, .lastStep)])
    func wholeModel(kind: RecurrentKind, head: ModelDescription.Head) {
        let d = ModelDescription(backbone: .small, numClasses: 3, smallChannels: [3, 4], sequenceKind: kind,
                                 hiddenSize: 3, head: head)
        let model = LRCN(d, seed: 13)
        #expect(gradientCheck(model, input: Self.input([2, 2, 3, 8, 8], seed: 14), eps: 1e-3,
                              maxChecksPerTensor: 10) < 3e-2)
    }
}

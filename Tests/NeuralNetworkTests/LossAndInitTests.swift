import NeuralNetwork
import Tensors
import Testing
import VideoClassification

@Suite struct LossAndInitTests {
    /// Central differences (in Double) of the loss value against the analytic logit gradient.
    @Test(arguments: [(nil, Float(0)), ([0.5, 2, 1] as [Float]?, Float(0.3))])
    func crossEntropyGradientMatchesFiniteDifferences(weights: [Float]?, smoothing: Float) {
        var rng = SplitMix64(seed: 21)
        let logits = Tensor.normal(shape: [4, 3], std: 2, using: &rng)
        let targets = [0, 2, 1, 2]
        let loss = CrossEntropyLoss(classWeights: weights, labelSmoothing: smoothing)
        let (_, grad) = loss(logits, targets)
        for i in 0..<logits.count {
            var plus = logits, minus = logits
            plus[flat: i] += 1e-2
            minus[flat: i] -= 1e-2
            let numeric = (Double(loss(plus, targets).loss) - Double(loss(minus, targets).loss)) / 2e-2
            #expect(abs(numeric - Double(grad[flat: i])) < 2e-3)
        }
    }

    @Test func meanSquaredErrorValueAndGradient() {
        let x = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), y = Tensor(shape: [2, 2], scalars: [1, 0, 3, 5])
        let (value, grad) = meanSquaredError(x, y)
        #expect(value == 5.0 / 4)
        #expect(grad.scalars == [0, 1, 0, -0.5])
    }

    @Test func softmaxRowsSumToOneAndAreStable() {
        let logits = Tensor(shape: [2, 3], scalars: [1000, 1001, 1002, -5, 0, 5])
        let p = softmax(logits)
        #expect(abs(p.sum(alongAxis: 1).scalars[0] - 1) < 1e-6 && abs(p.sum(alongAxis: 1).scalars[1] - 1) < 1e-6)
        #expect(abs(p[0, 2] - 0.66524096) < 1e-6)
        #expect(logSoftmax(logits).scalars.allSatisfy { $0.isFinite && $0 <= 0 })
    }

    /// PyTorch's defaults: conv/linear weights and biases uniform in ±1/√fan_in, recurrent ±1/√H,
    /// BatchNorm weight 1 and bias 0.
    @Test func defaultInitialisationBounds() {
        var rng = SplitMix64(seed: 1)
        let conv = Conv2d(8, 16, kernelSize: 3, rng: &rng)
        let bound: Float = 1 / (8 * 9 as Float).squareRoot()
        let w = conv.weight.value.scalars
        #expect(w.allSatisfy { abs($0) <= bound })
        #expect(w.max()! > 0.9 * bound && w.min()! < -0.9 * bound)
        // Uniform(±b) has standard deviation b/√3.
        let std = (w.map { $0 * $0 }.reduce(0, +) / Float(w.count)).squareRoot()
        #expect(abs(std - bound / Float(3).squareRoot()) < 0.05 * bound)
        #expect(conv.bias!.value.scalars.allSatisfy { abs($0) <= bound })
        let linear = Linear(50, 4, rng: &rng)
        #expect(linear.weight.value.scalars.allSatisfy { abs($0) <= 1 / Float(50).squareRoot() })
        let lstm = Recurrent(.lstm, inputSize: 7, hiddenSize: 25, rng: &rng)
        for (_, p) in lstm.namedParameters() { #expect(p.value.scalars.allSatisfy { abs($0) <= 0.2 }) }
        let bn = BatchNorm2d(4)
        #expect(bn.weight.value.scalars == [1, 1, 1, 1] && bn.bias.value.scalars == [0, 0, 0, 0])
        #expect(bn.runningVar.value.scalars == [1, 1, 1, 1])
        // Same seed, same model.
        #expect(LRCN(.lrcnSmall(numClasses: 3), seed: 4).fc.weight.value.scalars
                == LRCN(.lrcnSmall(numClasses: 3), seed: 4).fc.weight.value.scalars)
    }
}

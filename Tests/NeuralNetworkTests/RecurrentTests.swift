import NeuralNetwork
import Tensors
import Testing

/// Wraps a recurrent layer so that its final state also feeds the loss (checks BPTT through h_n, c_n).
final class RecurrentWithState: Layer {
    let rnn: Recurrent
    var stateShape: [Int] = []
    init(_ rnn: Recurrent) { self.rnn = rnn }
    func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        let (out, state) = rnn.forward(input, initialState: nil, mode: mode)
        stateShape = state.hidden.shape
        var parts = [out.reshaped([-1]), state.hidden.reshaped([-1])]
        if let c = state.cell { parts.append(c.reshaped([-1])) }
        return Tensor.concatenateLastAxis(parts)
    }
    func backward(_ outputGradient: Tensor) -> Tensor {
        let stateCount = Tensor.elementCount(stateShape)
        let outCount = outputGradient.count - stateCount * (rnn.kind == .lstm ? 2 : 1)
        let gOut = outputGradient.sliceLastAxis(0, width: outCount)
        let gh = outputGradient.sliceLastAxis(outCount, width: stateCount).reshaped(stateShape)
        let gc = rnn.kind == .lstm
            ? outputGradient.sliceLastAxis(outCount + stateCount, width: stateCount).reshaped(stateShape) : nil
        let outShape = [2, 3, rnn.hiddenSize * rnn.directions]
        return rnn.backward(gOut.reshaped(outShape), finalStateGradient: RecurrentState(hidden: gh, cell: gc))
    }
    func namedParameters() -> [(String, Parameter)] { rnn.namedParameters() }
}

@Suite struct RecurrentTests {
    @Test(arguments: RecurrentKind.allCases, [false, true])
    func gradientsMatchFiniteDifferences(kind: RecurrentKind, bidirectional: Bool) {
        var rng = SplitMix64(seed: 11)
        let rnn = Recurrent(kind, inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: bidirectional, rng: &rng)
        let x = Tensor.normal(shape: [2, 3, 3], using: &rng)
        let eps: Float = kind == .rnnReLU ? 1e-3 : 1e-2
        #expect(gradientCheck(RecurrentWithState(rnn), input: x, eps: eps, maxChecksPerTensor: 12) < 2e-2)
    }

    @Test func parameterNamesFollowPyTorch() {
        var rng = SplitMix64(seed: 1)
        let lstm = Recurrent(.lstm, inputSize: 5, hiddenSize: 4, numLayers: 2, bidirectional: true, rng: &rng)
        let names = lstm.namedParameters().map(\.0)
        #expect(names.prefix(8) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                    "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse",
                                    "bias_hh_l0_reverse"])
        #expect(lstm.namedParameters()[0].1.value.shape == [16, 5])
        #expect(lstm.namedParameters()[8].1.value.shape == [16, 8])
        let gru = Recurrent(.gru, inputSize: 5, hiddenSize: 4, rng: &rng)
        #expect(gru.weightHH[0].value.shape == [12, 4])
    }

    @Test(arguments: RecurrentKind.allCases)
    func steppingEqualsSequence(kind: RecurrentKind) {
        var rng = SplitMix64(seed: 12)
        let rnn = Recurrent(kind, inputSize: 3, hiddenSize: 5, numLayers: 2, rng: &rng)
        let x = Tensor.normal(shape: [2, 4, 3], using: &rng)
        let initial = RecurrentState(hidden: Tensor.normal(shape: [2, 2, 5], using: &rng),
                                     cell: kind == .lstm ? Tensor.normal(shape: [2, 2, 5], using: &rng) : nil)
        let (whole, finalState) = rnn.forward(x, initialState: initial, mode: .inference)
        var state = initial
        for t in 0..<4 {
            let xt = x.swappingFirstAxes().slice(t)
            let (out, next) = rnn.step(xt, state: state)
            state = next
            let expected = whole.swappingFirstAxes().slice(t)
            #expect(out.maxAbsDifference(expected) < 1e-6)
        }
        #expect(state.hidden.maxAbsDifference(finalState.hidden) < 1e-6)
        if kind == .lstm { #expect(state.cell!.maxAbsDifference(finalState.cell!) < 1e-6) }
    }
}

extension RecurrentTests {
    @Test func timeMajorEqualsBatchFirst() {
        var r1 = SplitMix64(seed: 30), r2 = SplitMix64(seed: 30)
        let a = Recurrent(.gru, inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, batchFirst: true, rng: &r1)
        let b = Recurrent(.gru, inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, batchFirst: false, rng: &r2)
        var rng = SplitMix64(seed: 31)
        let x = Tensor.normal(shape: [2, 5, 3], using: &rng)
        let ya = a.forward(x, mode: .inference)
        let yb = b.forward(x.swappingFirstAxes(), mode: .inference)
        #expect(ya.shape == [2, 5, 8] && yb.shape == [5, 2, 8])
        #expect(ya.maxAbsDifference(yb.swappingFirstAxes()) < 1e-6)
    }

    /// An LSTM's inference forward (its step's gates in the vectorized `vc_lstm_cell`) equals its
    /// training forward (the gates one unit at a time with `expf` and `tanhf`, kept for the
    /// backward pass) within the kernel's rounding: hidden sizes with and without a last partial
    /// vector, two layers, both directions, and an initial state.
    @Test(arguments: [5, 16, 37])
    func lstmInferenceEqualsTrainingForward(hidden: Int) {
        var rng = SplitMix64(seed: UInt64(hidden))
        let lstm = Recurrent(.lstm, inputSize: 6, hiddenSize: hidden, numLayers: 2, bidirectional: true, rng: &rng)
        let x = Tensor.normal(shape: [3, 7, 6], std: 2, using: &rng)  // 3 sequences of 7 steps
        let initial = RecurrentState(hidden: Tensor.normal(shape: [4, 3, hidden], using: &rng),
                                     cell: Tensor.normal(shape: [4, 3, hidden], using: &rng))
        let inference = lstm.forward(x, initialState: initial, mode: .inference)
        let training = lstm.forward(x, initialState: initial, mode: .training)
        #expect(inference.output.maxAbsDifference(training.output) < 1e-5)
        #expect(inference.state.hidden.maxAbsDifference(training.state.hidden) < 1e-5)
        #expect(inference.state.cell!.maxAbsDifference(training.state.cell!) < 1e-5)
    }
}

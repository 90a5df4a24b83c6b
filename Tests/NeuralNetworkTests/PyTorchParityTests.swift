import Foundation
import NeuralNetwork
import Tensors
import Testing

/// Forward outputs (1e-4 relative) and gradients (1e-3 relative) against PyTorch autograd.
@Suite struct PyTorchParityTests {
    /// Loads `param.*`, runs forward on `in.x`, backward on `in.probe`, compares everything.
    func checkLayer(_ layer: any Layer, golden name: String, mode: ExecutionMode = .training) throws {
        let g = try Golden.file(name)
        try layer.load(from: g, prefix: "param", strict: false)
        layer.zeroGradients()
        let y = layer.forward(try g.tensor(named: "in.x"), mode: mode)
        expectClose(y, try g.tensor(named: "out.y"), forwardTolerance, "\(name) output")
        if mode == .training {
            let dx = layer.backward(try g.tensor(named: "in.probe"))
            expectClose(dx, try g.tensor(named: "grad.x"), gradientTolerance, "\(name) input gradient")
            for (key, p) in layer.namedParameters() {
                expectClose(p.gradient, try g.tensor(named: "grad.\(key)"), gradientTolerance, "\(name) grad \(key)")
            }
            for (key, b) in layer.namedBuffers() {
                expectClose(b.value, try g.tensor(named: "after.\(key)"), forwardTolerance, "\(name) \(key) after")
            }
        }
    }

    @Test func convolutions() throws {
        var rng = SplitMix64(seed: 0)
        try checkLayer(Conv2d(3, 4, kernelSize: 3, stride: 1, padding: 1, rng: &rng), golden: "conv_basic")
        try checkLayer(Conv2d(4, 6, kernelSize: (3, 2), stride: (2, 1), padding: (1, 0), dilation: (1, 2), groups: 2,
                              bias: false, rng: &rng), golden: "conv_groups_dilation")
        try checkLayer(Conv2d(3, 3, kernelSize: 3, padding: 2, dilation: 2, groups: 3, rng: &rng),
                       golden: "conv_depthwise")
        try checkLayer(Conv2d(2, 5, kernelSize: 1, stride: 2, rng: &rng), golden: "conv_pointwise_strided")
    }

    @Test func batchNormTrainAndEval() throws {
        try checkLayer(BatchNorm2d(3), golden: "bn_train", mode: .training)
        try checkLayer(BatchNorm2d(3), golden: "bn_eval", mode: .inference)
    }

    @Test func poolsAndLinear() throws {
        try checkLayer(MaxPool2d(kernelSize: 3, stride: 2, padding: 1), golden: "maxpool_3_2_1")
        try checkLayer(MaxPool2d(kernelSize: 2), golden: "maxpool_2")
        try checkLayer(AvgPool2d(kernelSize: 3, stride: 2, padding: 1), golden: "avgpool_3_2_1")
        var rng = SplitMix64(seed: 0)
        try checkLayer(Linear(5, 3, rng: &rng), golden: "linear")
    }

    @Test(arguments: [
        ("lstm_2layer_bidir", RecurrentKind.lstm, 2, true), ("gru_2layer_bidir", .gru, 2, true),
        ("rnn_tanh_2layer_bidir", .rnnTanh, 2, true), ("rnn_relu_2layer", .rnnReLU, 2, false),
        ("lstm_1layer", .lstm, 1, false),
    ])
    func recurrent(name: String, kind: RecurrentKind, layers: Int, bidirectional: Bool) throws {
        let g = try Golden.file(name)
        var rng = SplitMix64(seed: 0)
        let rnn = Recurrent(kind, inputSize: 3, hiddenSize: 4, numLayers: layers, bidirectional: bidirectional,
                            batchFirst: true, rng: &rng)
        try rnn.load(from: g, prefix: "param", strict: false)
        let isLSTM = kind == .lstm
        let h0 = RecurrentState(hidden: try g.tensor(named: "in.h0"), cell: isLSTM ? try g.tensor(named: "in.c0") : nil)
        let (y, state) = rnn.forward(try g.tensor(named: "in.x"), initialState: h0, mode: .training)
        expectClose(y, try g.tensor(named: "out.y"), forwardTolerance, "\(name) output")
        expectClose(state.hidden, try g.tensor(named: "out.hn"), forwardTolerance, "\(name) h_n")
        if isLSTM { expectClose(state.cell!, try g.tensor(named: "out.cn"), forwardTolerance, "\(name) c_n") }
        let dState = RecurrentState(hidden: try g.tensor(named: "in.probe_hn"),
                                    cell: isLSTM ? try g.tensor(named: "in.probe_cn") : nil)
        let dx = rnn.backward(try g.tensor(named: "in.probe"), finalStateGradient: dState)
        expectClose(dx, try g.tensor(named: "grad.x"), gradientTolerance, "\(name) grad x")
        expectClose(rnn.initialStateGradient!.hidden, try g.tensor(named: "grad.h0"), gradientTolerance, "\(name) grad h0")
        if isLSTM {
            expectClose(rnn.initialStateGradient!.cell!, try g.tensor(named: "grad.c0"), gradientTolerance, "\(name) grad c0")
        }
        for (key, p) in rnn.namedParameters() {
            expectClose(p.gradient, try g.tensor(named: "grad.\(key)"), gradientTolerance, "\(name) grad \(key)")
        }
    }

    @Test func crossEntropyWithWeightsAndSmoothing() throws {
        let g = try Golden.file("cross_entropy")
        let logits = try g.tensor(named: "in.logits")
        let targets = try g.tensor(named: "in.target").scalars.map { Int($0) }
        let w = try g.tensor(named: "in.weight").scalars
        let cases: [(String, CrossEntropyLoss)] = [
            ("plain", CrossEntropyLoss()), ("weighted", CrossEntropyLoss(classWeights: w)),
            ("smoothed", CrossEntropyLoss(labelSmoothing: 0.1)),
            ("weighted_smoothed", CrossEntropyLoss(classWeights: w, labelSmoothing: 0.2)),
        ]
        for (name, loss) in cases {
            let (value, grad) = loss(logits, targets)
            expectClose(Tensor(shape: [1], scalars: [value]), try g.tensor(named: "out.\(name)"), forwardTolerance, name)
            expectClose(grad, try g.tensor(named: "grad.\(name)"), gradientTolerance, "\(name) gradient")
        }
    }

    /// An optimizer's state saved after one step and loaded into a fresh optimizer continues the
    /// PyTorch trajectory exactly (what a resumed training run relies on); state that does not fit
    /// the parameters is refused.
    @Test func optimizerStateCarriesOverToAFreshOptimizer() throws {
        let g = try Golden.file("optimizers")
        let p0 = try g.tensor(named: "in.p0")
        let grads = try (0..<3).map { try g.tensor(named: "in.g\($0)") }
        let makers: [(String, () -> any Optimizer)] = [
            ("sgd", { SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01) }),
            ("adam", { Adam(learningRate: 0.01, weightDecay: 0.1) }),
            ("adamw", { Adam.adamW(learningRate: 0.01, weightDecay: 0.1) }),
        ]
        for (name, make) in makers {
            let p = Parameter(p0)
            let first = make()
            p.gradient = grads[0]
            first.step([("p", p)])
            let state = Dictionary(uniqueKeysWithValues: first.stateTensors())
            #expect(!state.isEmpty && state.keys.allSatisfy { $0.hasPrefix("p.") }, "\(name): \(state.keys.sorted())")
            let second = make()
            try second.loadState(state, for: [("p", p)])
            for i in 1..<3 {
                p.gradient = grads[i]
                second.step([("p", p)])
                expectClose(p.value, try g.tensor(named: "out.\(name).\(i)"), forwardTolerance, "\(name) step \(i) after loading")
            }
            let wrong = Parameter(Tensor(shape: [p0.count + 1]))
            #expect(throws: SafeTensorsError.self, "\(name): state of another shape") { try make().loadState(state, for: [("p", wrong)]) }
            var incomplete = state
            incomplete.removeValue(forKey: "p.exp_avg")
            if name != "sgd" {
                #expect(throws: SafeTensorsError.self, "\(name): incomplete state") { try make().loadState(incomplete, for: [("p", p)]) }
            }
        }
    }

    @Test func optimizersClippingAndSchedules() throws {
        let g = try Golden.file("optimizers")
        let p0 = try g.tensor(named: "in.p0")
        let grads = try (0..<3).map { try g.tensor(named: "in.g\($0)") }
        let optimizers: [(String, any Optimizer)] = [
            ("sgd", SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)),
            ("sgd_nesterov", SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)),
            ("adam", Adam(learningRate: 0.01, weightDecay: 0.1)),
            ("adamw", Adam.adamW(learningRate: 0.01, weightDecay: 0.1)),
        ]
        for (name, opt) in optimizers {
            let p = Parameter(p0)
            for i in 0..<3 {
                p.gradient = grads[i]
                opt.step([("p", p)])
                expectClose(p.value, try g.tensor(named: "out.\(name).\(i)"), forwardTolerance, "\(name) step \(i)")
            }
        }
        let a = Parameter(Tensor(shape: [3])), b = Parameter(Tensor(shape: [2]))
        a.gradient = Tensor(shape: [3], scalars: [3, 0, 4])
        b.gradient = Tensor(shape: [2], scalars: [12, 0])
        let norm = clipGradientNorm([("a", a), ("b", b)], maxNorm: 6.5)
        #expect(abs(norm - (try g.tensor(named: "out.clip_norm")).scalar) < 1e-5)
        expectClose(a.gradient, try g.tensor(named: "out.clip_a"), forwardTolerance, "clip a")
        expectClose(b.gradient, try g.tensor(named: "out.clip_b"), forwardTolerance, "clip b")

        let schedules: [(String, LearningRateSchedule)] = [
            ("lr_step", .step(base: 0.1, stepSize: 3, gamma: 0.5)),
            ("lr_cosine", .cosine(base: 0.1, totalSteps: 10, minimum: 0.001)),
            ("lr_warmup", .warmup(steps: 4, startFactor: 0.1, then: .constant(0.1))),
            ("lr_onecycle", .oneCycle(maxRate: 0.1, totalSteps: 20)),
        ]
        for (name, schedule) in schedules {
            let expected = try g.tensor(named: "out.\(name)")
            let got = Tensor(shape: expected.shape, scalars: (0..<expected.count).map { schedule.rate(at: $0) })
            expectClose(got, expected, 1e-4, name)
        }
    }
}

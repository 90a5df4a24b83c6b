import Foundation
import NeuralNetwork
import Tensors
import Testing

/// The layers and blocks of the ResNet-34/50, MobileNetV2/V3 and EfficientNet encoders against
/// PyTorch (goldens from `Tools/make_nn_goldens.py blocks`) and finite differences.
@Suite struct EncoderBlockTests {
    /// Loads `param.*`, compares the forward pass on `in.x` and, in training mode, every gradient of
    /// `backward(in.probe)`; an `_eval` golden is also run through the inference snapshot.
    func check(_ layer: any Layer, golden name: String, mode: ExecutionMode = .training) throws {
        let g = try Golden.file(name)
        try layer.load(from: g, prefix: "param", strict: false)
        layer.zeroGradients()
        let x = try g.tensor(named: "in.x"), expected = try g.tensor(named: "out.y")
        let y = layer.forward(x, mode: mode)
        expectClose(y, expected, forwardTolerance, "\(name) output")
        if mode == .training {
            let dx = layer.backward(try g.tensor(named: "in.probe"))
            expectClose(dx, try g.tensor(named: "grad.x"), gradientTolerance, "\(name) input gradient")
            for (key, p) in layer.namedParameters() {
                expectClose(p.gradient, try g.tensor(named: "grad.\(key)"), gradientTolerance, "\(name) grad \(key)")
            }
        } else {
            expectClose(fusedForInference(layer).forward(x, mode: .inference), expected, forwardTolerance, "\(name) fused output")
        }
    }

    @Test(arguments: [("act_relu6", ActivationFunction.relu6), ("act_hardswish", .hardswish),
                      ("act_hardsigmoid", .hardsigmoid), ("act_silu", .silu), ("act_sigmoid", .sigmoid)])
    func activations(name: String, function: ActivationFunction) throws {
        try check(Activation(function), golden: name)
    }

    @Test func depthwiseConvolutions() throws {
        var rng = SplitMix64(seed: 0)
        let cases = [
            ("conv_depthwise_3s1", Conv2d(6, 6, kernelSize: 3, stride: 1, padding: 1, groups: 6, rng: &rng)),
            ("conv_depthwise_3s2", Conv2d(4, 4, kernelSize: 3, stride: 2, padding: 1, groups: 4, bias: false, rng: &rng)),
            ("conv_depthwise_5s2", Conv2d(5, 5, kernelSize: 5, stride: 2, padding: 2, groups: 5, rng: &rng)),
        ]
        for (name, conv) in cases {
            #expect(conv.isDepthwise)
            try check(conv, golden: name)
            // The fused snapshot (bias, ReLU6 in the kernel) equals the layer then the activation.
            let x = try Golden.file(name).tensor(named: "in.x")
            let fused = Conv2d(weight: conv.weight.value, bias: conv.bias?.value, stride: conv.stride, padding: conv.padding,
                               groups: conv.groups)
            fused.fusedActivation = .relu6
            expectClose(fused.forward(x, mode: .inference), conv.forward(x, mode: .inference).map(ActivationFunction.relu6.callAsFunction),
                        1e-6, "\(name) fused ReLU6")
        }
    }

    @Test func squeezeExcitation() throws {
        var rng = SplitMix64(seed: 0)
        try check(SqueezeExcitation(8, squeezeChannels: 4, activation: .relu, gate: .sigmoid, rng: &rng), golden: "se_relu_sigmoid")
        try check(SqueezeExcitation(8, squeezeChannels: 8, activation: .silu, gate: .hardsigmoid, rng: &rng),
                  golden: "se_silu_hardsigmoid")
    }

    /// Each block as its encoder builds it, in training mode (batch statistics, all gradients) and
    /// at inference (running statistics, and BatchNorm folded into the convolutions).
    @Test(arguments: ["block_bottleneck", "block_mobilenet_v2", "block_mobilenet_v2_noexpand", "block_mobilenet_v3",
                      "block_efficientnet"])
    func residualBlocks(name: String) throws {
        func make() -> ResidualBlock {
            var rng = SplitMix64(seed: 0)
            switch name {
            case "block_bottleneck": return .bottleneck(8, 4, stride: 2, rng: &rng)
            case "block_mobilenet_v2":
                return .invertedResidual(input: 8, expanded: 48, output: 8, kernel: 3, stride: 1, activation: .relu6,
                                         bodyName: "conv", bareProjection: true, rng: &rng)
            case "block_mobilenet_v2_noexpand":
                return .invertedResidual(input: 8, expanded: 8, output: 16, kernel: 3, stride: 2, activation: .relu6,
                                         bodyName: "conv", bareProjection: true, rng: &rng)
            case "block_mobilenet_v3":
                return .invertedResidual(input: 8, expanded: 24, output: 8, kernel: 5, stride: 1, activation: .hardswish,
                                         squeeze: 8, squeezeActivation: .relu, squeezeGate: .hardsigmoid,
                                         batchNorm: (1e-3, 0.01), rng: &rng)
            default:
                return .invertedResidual(input: 8, expanded: 48, output: 8, kernel: 3, stride: 1, activation: .silu,
                                         squeeze: 2, squeezeActivation: .silu, squeezeGate: .sigmoid, rng: &rng)
            }
        }
        try check(make(), golden: name)
        try check(make(), golden: name + "_eval", mode: .inference)
    }

    @Test func finiteDifferences() {
        var rng = SplitMix64(seed: 3)
        for function in ActivationFunction.allCases {
            // Away from the kinks, where the derivative is defined.
            let x = Tensor.normal(shape: [2, 3, 4, 4], using: &rng).map { $0 + ($0 > 0 ? 0.3 : -0.3) }
            #expect(gradientCheck(Activation(function), input: x, eps: 1e-3) < 2e-2, "\(function)")
        }
        let depthwise = Conv2d(4, 4, kernelSize: 3, stride: 2, padding: 1, groups: 4, rng: &rng)
        #expect(gradientCheck(depthwise, input: .normal(shape: [2, 4, 7, 6], using: &rng)) < 1e-2)
        let se = SqueezeExcitation(6, squeezeChannels: 3, activation: .silu, gate: .sigmoid, rng: &rng)
        #expect(gradientCheck(se, input: .normal(shape: [2, 6, 5, 5], using: &rng)) < 1e-2)
        let block = ResidualBlock.invertedResidual(input: 4, expanded: 8, output: 4, kernel: 3, stride: 1, activation: .silu,
                                                   squeeze: 2, squeezeActivation: .silu, squeezeGate: .sigmoid, rng: &rng)
        #expect(gradientCheck(block, input: .normal(shape: [4, 4, 5, 5], using: &rng)) < 2e-2)
    }

    /// Stochastic depth drops the body for whole images in training (the output is then the input),
    /// scales the kept ones by 1/(1−p), and is the identity at inference.
    @Test func stochasticDepth() {
        var rng = SplitMix64(seed: 4)
        let body = Sequential([Conv2d(3, 3, kernelSize: 1, bias: false, rng: &rng)])
        let block = ResidualBlock(body: body, bodyName: "block", hasResidual: true, stochasticDepth: 0.5, seed: 9)
        let x = Tensor.normal(shape: [64, 3, 2, 2], using: &rng)
        let plain = body.forward(x, mode: .inference)
        let y = block.forward(x, mode: .training)
        var dropped = 0, kept = 0
        for image in 0..<64 {
            let range = (image * 12)..<(image * 12 + 12)
            let isInput = range.allSatisfy { abs(y[flat: $0] - x[flat: $0]) < 1e-6 }
            let isScaled = range.allSatisfy { abs(y[flat: $0] - (x[flat: $0] + 2 * plain[flat: $0])) < 1e-5 }
            #expect(isInput || isScaled)
            if isInput { dropped += 1 } else { kept += 1 }
        }
        #expect(dropped > 16 && kept > 16, "dropped \(dropped), kept \(kept) of 64 at p = 0.5")
        let inference = block.forward(x, mode: .inference)
        #expect(inference.maxAbsDifference(x + plain) < 1e-6)
    }
}

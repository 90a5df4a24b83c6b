import Tensors

/// Squeeze-and-excitation (Hu et al., 2018), as torchvision's `ops.SqueezeExcitation`: each channel
/// of the input is scaled by a gate computed from all channels' means,
/// `x · gate(fc2(act(fc1(mean over H×W of x))))`, where `fc1` and `fc2` are 1×1 convolutions with
/// bias (`fc1.weight` `[S, C, 1, 1]`, `fc2.weight` `[C, S, 1, 1]`).
///
/// MobileNetV3 uses ReLU and a hard-sigmoid gate; EfficientNet SiLU and a sigmoid gate.
public final class SqueezeExcitation: Layer {
    /// The squeezing and the expanding 1×1 convolution.
    public let fc1: Conv2d, fc2: Conv2d
    /// The activation between the two convolutions and the gate's.
    public let activation: ActivationFunction, gate: ActivationFunction
    private let pool = GlobalAveragePool(keepSpatial: true)
    private let innerActivation: Activation, gateActivation: Activation
    private var cachedInput: Tensor?, cachedScale: Tensor?

    /// A block over `channels` channels squeezed to `squeezeChannels`.
    public init(_ channels: Int, squeezeChannels: Int, activation: ActivationFunction = .relu,
                gate: ActivationFunction = .sigmoid, rng: inout SplitMix64) {
        fc1 = Conv2d(channels, squeezeChannels, kernelSize: 1, rng: &rng)
        fc2 = Conv2d(squeezeChannels, channels, kernelSize: 1, rng: &rng)
        self.activation = activation
        self.gate = gate
        innerActivation = Activation(activation)
        gateActivation = Activation(gate)
    }

    /// The per-channel gates `[N, C, 1, 1]` of `input`.
    func scale(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        let squeezed = innerActivation.forward(fc1.forward(pool.forward(input, mode: mode), mode: mode), mode: mode)
        return gateActivation.forward(fc2.forward(squeezed, mode: mode), mode: mode)
    }

    /// `[N, C, H, W]` → the same shape, each channel scaled by its gate.
    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == fc1.inChannels,
                     "SqueezeExcitation expects [N, \(fc1.inChannels), H, W], got \(input.shape)")
        let s = scale(input, mode: mode)
        let n = input.shape[0], c = input.shape[1], hw = input.shape[2] * input.shape[3]
        var output = Tensor(uninitializedShape: input.shape)
        let x = UncheckedSendable(input.storage.pointer), y = UncheckedSendable(output.storage.pointer)
        let sp = UncheckedSendable(s.storage.pointer)
        parallelChunks(n * c, minimumChunk: max(1, (1 << 15) / max(hw, 1))) { planes in
            for plane in planes {
                let g = sp.value[plane], src = x.value + plane * hw, dst = y.value + plane * hw
                for j in 0..<hw { dst[j] = src[j] * g }
            }
        }
        output.makeUnique()
        if mode == .training {
            cachedInput = input
            cachedScale = s
        } else {
            cachedInput = nil
            cachedScale = nil
        }
        return output
    }

    /// Gradients of both convolutions and of the input (through the scaling and through the gate).
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let x = cachedInput, let s = cachedScale else {
            preconditionFailure("SqueezeExcitation.backward without a training forward")
        }
        let n = x.shape[0], c = x.shape[1], hw = x.shape[2] * x.shape[3]
        var dx = Tensor(uninitializedShape: x.shape)
        var dScale = Tensor(uninitializedShape: s.shape)
        x.withUnsafeBufferPointer { xp in
            outputGradient.withUnsafeBufferPointer { gp in
                s.withUnsafeBufferPointer { sp in
                    dx.withUnsafeMutableBufferPointer { dp in
                        dScale.withUnsafeMutableBufferPointer { dsp in
                            for plane in 0..<(n * c) {
                                let base = plane * hw, gate = sp[plane]
                                var acc: Float = 0
                                for j in 0..<hw {
                                    acc += gp[base + j] * xp[base + j]
                                    dp[base + j] = gp[base + j] * gate
                                }
                                dsp[plane] = acc
                            }
                        }
                    }
                }
            }
        }
        let dPooled = fc1.backward(innerActivation.backward(fc2.backward(gateActivation.backward(dScale))))
        dx.addScaled(pool.backward(dPooled))
        cachedInput = nil
        cachedScale = nil
        return dx
    }

    /// `fc1.weight`, `fc1.bias`, `fc2.weight`, `fc2.bias`, as torchvision.
    public func namedParameters() -> [(String, Parameter)] {
        prefixed("fc1", fc1.namedParameters()) + prefixed("fc2", fc2.namedParameters())
    }
}

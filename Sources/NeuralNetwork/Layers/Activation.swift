import CKernels
import Foundation
import Tensors

/// An elementwise activation function, as PyTorch's modules of the same names.
public enum ActivationFunction: String, Sendable, Equatable, CaseIterable {
    /// `max(x, 0)` (`nn.ReLU`).
    case relu
    /// `min(max(x, 0), 6)` (`nn.ReLU6`, MobileNetV2).
    case relu6
    /// `x · relu6(x + 3) / 6` (`nn.Hardswish`, MobileNetV3).
    case hardswish
    /// `relu6(x + 3) / 6` (`nn.Hardsigmoid`, MobileNetV3's squeeze-and-excitation gate).
    case hardsigmoid
    /// `x · σ(x)`, also called swish (`nn.SiLU`, EfficientNet).
    case silu
    /// `σ(x) = 1 / (1 + e⁻ˣ)` (`nn.Sigmoid`, EfficientNet's squeeze-and-excitation gate).
    case sigmoid

    /// The function's value at `x`.
    @inlinable
    public func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .relu: return max(x, 0)
        case .relu6: return min(max(x, 0), 6)
        case .hardswish: return x * min(max(x + 3, 0), 6) * (1 / 6)
        case .hardsigmoid: return min(max(x + 3, 0), 6) * (1 / 6)
        case .silu: return x / (1 + expf(-x))
        case .sigmoid: return 1 / (1 + expf(-x))
        }
    }

    /// The derivative at input `x`, with PyTorch's choice at the kinks (0 at `x = 0` for ReLU, the
    /// inner value at ±3 for the hard functions).
    @inlinable
    public func derivative(_ x: Float) -> Float {
        switch self {
        case .relu: return x > 0 ? 1 : 0
        case .relu6: return x > 0 && x < 6 ? 1 : 0
        case .hardswish: return x < -3 ? 0 : (x > 3 ? 1 : (2 * x + 3) / 6)
        case .hardsigmoid: return x > -3 && x < 3 ? 1 / 6 : 0
        case .silu:
            let s = 1 / (1 + expf(-x))
            return s * (1 + x * (1 - s))
        case .sigmoid:
            let s = 1 / (1 + expf(-x))
            return s * (1 - s)
        }
    }

    /// The function's code in the C kernels (`vc_activate`, `vc_depthwise_plane`).
    package var kernelCode: Int32 { Int32(Self.allCases.firstIndex(of: self)! + 1) }

    /// Applies the function in place to `count` values (`vc_activate`: vectorized for the CPU it
    /// runs on; SiLU's and the sigmoid's exponential within 2 ulp of `expf`).
    package func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        vc_activate(values, count, kernelCode)
    }
}

/// An activation layer (`nn.ReLU6`, `nn.Hardswish`, `nn.Hardsigmoid`, `nn.SiLU`, `nn.Sigmoid`, or
/// ReLU): the function elementwise, any shape, no parameters.
public final class Activation: Layer {
    /// The function applied.
    public let function: ActivationFunction
    private var cachedInput: Tensor?

    /// A layer applying `function`.
    public init(_ function: ActivationFunction) { self.function = function }

    /// `function(x)` elementwise; same shape as the input.
    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        var y = Tensor(uninitializedShape: input.shape)
        let src = UncheckedSendable(input.storage.pointer), dst = UncheckedSendable(y.storage.pointer)
        let f = function
        parallelChunks(input.count) { r in
            let d = dst.value + r.lowerBound
            d.update(from: src.value + r.lowerBound, count: r.count)
            f.apply(d, count: r.count)
        }
        y.makeUnique()
        cachedInput = mode == .training ? input : nil
        return y
    }

    /// The output gradient times the function's derivative at the last training input.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let x = cachedInput else { preconditionFailure("Activation.backward without a training forward") }
        precondition(outputGradient.shape == x.shape, "Activation gradient shape mismatch")
        var dx = Tensor(uninitializedShape: x.shape)
        let g = UncheckedSendable(outputGradient.storage.pointer), v = UncheckedSendable(x.storage.pointer)
        let d = UncheckedSendable(dx.storage.pointer)
        let f = function
        parallelChunks(x.count) { r in
            for i in r { d.value[i] = g.value[i] * f.derivative(v.value[i]) }
        }
        dx.makeUnique()
        cachedInput = nil
        return dx
    }
}

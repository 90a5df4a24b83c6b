import Tensors

/// `max(x, 0)` elementwise, any shape.
public final class ReLU: Layer {
    private var cachedOutput: Tensor?
    /// A ReLU layer (no parameters).
    public init() {}

    /// `max(x, 0)` elementwise; same shape as the input.
    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        var y = Tensor(uninitializedShape: input.shape)
        let src = UncheckedSendable(input.storage.pointer), dst = UncheckedSendable(y.storage.pointer)
        parallelChunks(input.count) { r in
            let sp = src.value, dp = dst.value
            for i in r { dp[i] = max(sp[i], 0) }
        }
        y.makeUnique()
        cachedOutput = mode == .training ? y : nil
        return y
    }

    /// The gradient where the last training output was positive, 0 elsewhere.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let y = cachedOutput else { preconditionFailure("ReLU.backward without a training forward") }
        precondition(outputGradient.shape == y.shape, "ReLU gradient shape mismatch")
        var dx = Tensor(uninitializedShape: y.shape)
        let g = UncheckedSendable(outputGradient.storage.pointer), v = UncheckedSendable(y.storage.pointer)
        let d = UncheckedSendable(dx.storage.pointer)
        parallelChunks(y.count) { r in
            let gp = UnsafeRawPointer(g.value), vp = UnsafeRawPointer(v.value), dp = UnsafeMutableRawPointer(d.value)
            var i = r.lowerBound
            // Branch-free, 8 lanes at a time (random signs defeat a branch predictor).
            while i + 8 <= r.upperBound {
                let gv = gp.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                let vv = vp.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                dp.storeBytes(of: gv.replacing(with: 0, where: vv .<= 0), toByteOffset: 4 * i, as: SIMD8<Float>.self)
                i += 8
            }
            while i < r.upperBound {
                let vv = vp.load(fromByteOffset: 4 * i, as: Float.self)
                dp.storeBytes(of: vv > 0 ? gp.load(fromByteOffset: 4 * i, as: Float.self) : 0, toByteOffset: 4 * i, as: Float.self)
                i += 1
            }
        }
        dx.makeUnique()
        cachedOutput = nil
        return dx
    }
}

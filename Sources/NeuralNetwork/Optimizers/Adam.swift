#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Tensors

/// Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019) with `torch.optim` formulas.
///
/// Adam adds `λ·p` to the gradient; AdamW (`decoupledWeightDecay`) first scales `p` by `1 − lr·λ`.
/// Then `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)`.
public final class Adam: Optimizer {
    /// The step size `lr` of the next ``step(_:)``; a schedule sets it before each step.
    public var learningRate: Float
    /// `β₁` and `β₂` in [0, 1), the moments' decay rates; `ε`, added to the denominator; the weight
    /// decay `λ` ≥ 0; and whether the decay is decoupled (AdamW) rather than added to the gradient.
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, decoupledWeightDecay: Bool
    private var moments: [String: (m: Tensor, v: Tensor, t: Int)] = [:]

    /// Adam with `torch.optim.Adam`'s defaults (`lr` 1e-3, betas 0.9 and 0.999, `ε` 1e-8, no weight decay).
    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        precondition(learningRate >= 0 && epsilon >= 0 && weightDecay >= 0, "Adam hyperparameters must be ≥ 0")
        precondition(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam betas must be in [0, 1)")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW with PyTorch's default weight decay 0.01.
    public static func adamW(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                             epsilon: Float = 1e-8, weightDecay: Float = 0.01) -> Adam {
        Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
             decoupledWeightDecay: true)
    }

    /// Updates each parameter from its gradient and its moments, kept by name.
    public func step(_ parameters: [(String, Parameter)]) {
        for (name, p) in parameters {
            var state = moments.removeValue(forKey: name)
                ?? (m: Tensor(shape: p.value.shape), v: Tensor(shape: p.value.shape), t: 0)
            state.t += 1
            let lr = learningRate, b1 = beta1, b2 = beta2, eps = epsilon, wd = weightDecay
            let bc1 = 1 - powf(b1, Float(state.t))
            let bc2Sqrt = (1 - powf(b2, Float(state.t))).squareRoot()
            let stepSize = lr / bc1
            let decoupled = decoupledWeightDecay
            p.gradient.withUnsafeBufferPointer { g in
                state.m.withUnsafeMutableBufferPointer { m in
                    state.v.withUnsafeMutableBufferPointer { v in
                        p.value.withUnsafeMutableBufferPointer { w in
                            for i in 0..<w.count {
                                var gi = g[i]
                                if decoupled { w[i] *= 1 - lr * wd } else if wd != 0 { gi += wd * w[i] }
                                m[i] = b1 * m[i] + (1 - b1) * gi
                                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                                w[i] -= stepSize * m[i] / (v[i].squareRoot() / bc2Sqrt + eps)
                            }
                        }
                    }
                }
            }
            moments[name] = state
        }
    }

    /// `<name>.exp_avg`, `<name>.exp_avg_sq` and `<name>.step` for every parameter stepped so far.
    public func stateTensors() -> [(String, Tensor)] {
        moments.keys.sorted().flatMap { name -> [(String, Tensor)] in
            let state = moments[name]!
            return [("\(name).exp_avg", state.m), ("\(name).exp_avg_sq", state.v),
                    ("\(name).step", Tensor(shape: [1], scalars: [Float(state.t)]))]
        }
    }

    /// Restores the moments and step counts written by ``stateTensors()``.
    public func loadState(_ tensors: [String: Tensor], for parameters: [(String, Parameter)]) throws(SafeTensorsError) {
        var restored: [String: (m: Tensor, v: Tensor, t: Int)] = [:]
        for (name, p) in parameters where tensors["\(name).step"] != nil {
            let step = try Self.stateTensor(tensors, name, "step", shape: [1]).scalars[0]
            guard step >= 1, step < 1e9, step == step.rounded() else {
                throw .invalidTensorEntry(name: "\(name).step", reason: "step count \(step) is not a positive integer")
            }
            restored[name] = (try Self.stateTensor(tensors, name, "exp_avg", shape: p.value.shape),
                              try Self.stateTensor(tensors, name, "exp_avg_sq", shape: p.value.shape), Int(step))
        }
        moments = restored
    }
}

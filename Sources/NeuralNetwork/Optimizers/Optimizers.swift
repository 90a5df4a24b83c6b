#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Tensors

/// Updates parameters from their accumulated gradients. State is kept per parameter name.
public protocol Optimizer: AnyObject {
    /// The learning rate used by the next ``step(_:)``.
    var learningRate: Float { get set }
    /// Applies one update to every parameter (gradients are read, not cleared).
    func step(_ parameters: [(String, Parameter)])
}

/// Stochastic gradient descent with momentum and L2 weight decay, as `torch.optim.SGD`:
/// `g ← g + λ·p; b ← μ·b + (1−dampening)·g` (first step `b = g`); `p ← p − lr·(nesterov ? g + μ·b : b)`.
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float, weightDecay: Float, dampening: Float, nesterov: Bool
    private var buffers: [String: Tensor] = [:]

    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, dampening: Float = 0,
                nesterov: Bool = false) {
        precondition(learningRate >= 0 && momentum >= 0 && weightDecay >= 0, "SGD hyperparameters must be ≥ 0")
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.dampening = dampening
        self.nesterov = nesterov
    }

    public func step(_ parameters: [(String, Parameter)]) {
        for (name, p) in parameters {
            var g = p.gradient
            if weightDecay != 0 { g.addScaled(p.value, alpha: weightDecay) }
            if momentum != 0 {
                var buf: Tensor
                if var b = buffers[name] {
                    buffers[name] = nil
                    b.scale(by: momentum)
                    b.addScaled(g, alpha: 1 - dampening)
                    buf = b
                } else {
                    buf = g
                }
                buffers[name] = buf
                if nesterov { g.addScaled(buf, alpha: momentum) } else { g = buf }
            }
            p.value.addScaled(g, alpha: -learningRate)
        }
    }
}

/// Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019) with `torch.optim` formulas.
///
/// Adam adds `λ·p` to the gradient; AdamW (`decoupledWeightDecay`) first scales `p` by `1 − lr·λ`.
/// Then `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)`.
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, decoupledWeightDecay: Bool
    private var moments: [String: (m: Tensor, v: Tensor, t: Int)] = [:]

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
}

/// Scales all gradients so that their global L2 norm is at most `maxNorm`, as
/// `torch.nn.utils.clip_grad_norm_`. Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [(String, Parameter)], maxNorm: Float) -> Float {
    var total = 0.0
    for (_, p) in parameters { total += p.gradient.squaredNorm() }
    let norm = Float(total.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        for (_, p) in parameters { p.gradient.scale(by: coefficient) }
    }
    return norm
}

/// A learning rate as a function of the optimizer step (0-based), with PyTorch's scheduler formulas.
public indirect enum LearningRateSchedule: Sendable {
    /// A fixed rate.
    case constant(Float)
    /// `base · γ^⌊t / stepSize⌋` (`StepLR`).
    case step(base: Float, stepSize: Int, gamma: Float)
    /// `min + (base − min)·(1 + cos(π·t/T))/2` (`CosineAnnealingLR`'s closed form; rises again after `T`).
    case cosine(base: Float, totalSteps: Int, minimum: Float)
    /// Linear warm-up from `startFactor·lr(0)` to `lr(0)` over `steps`, then `schedule` (shifted by `steps`).
    case warmup(steps: Int, startFactor: Float, then: LearningRateSchedule)
    /// `OneCycleLR` (two phases, cosine annealing): from `max/div` up to `max` over `pctStart·T` steps,
    /// then down to `max/(div·finalDiv)`.
    case oneCycle(maxRate: Float, totalSteps: Int, pctStart: Float, divFactor: Float, finalDivFactor: Float)

    /// PyTorch's default one-cycle (`pct_start=0.3`, `div_factor=25`, `final_div_factor=1e4`).
    public static func oneCycle(maxRate: Float, totalSteps: Int) -> LearningRateSchedule {
        .oneCycle(maxRate: maxRate, totalSteps: totalSteps, pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4)
    }

    /// The learning rate at step `t`.
    public func rate(at t: Int) -> Float {
        switch self {
        case .constant(let lr):
            return lr
        case .step(let base, let stepSize, let gamma):
            return base * powf(gamma, Float(t / max(stepSize, 1)))
        case .cosine(let base, let total, let minimum):
            let tt = Float(t)
            return minimum + (base - minimum) * (1 + cosf(Float.pi * tt / Float(max(total, 1)))) / 2
        case .warmup(let steps, let startFactor, let inner):
            if t < steps {
                return inner.rate(at: 0) * (startFactor + (1 - startFactor) * Float(t) / Float(steps))
            }
            return inner.rate(at: t - steps)
        case .oneCycle(let maxRate, let total, let pctStart, let div, let finalDiv):
            let initial = maxRate / div, final = initial / finalDiv
            let peak = Float(pctStart * Float(total)) - 1
            let end = Float(total - 1)
            func anneal(_ start: Float, _ stop: Float, _ pct: Float) -> Float {
                stop + (start - stop) / 2 * (1 + cosf(Float.pi * pct))
            }
            let tt = Float(t)
            if tt <= peak { return anneal(initial, maxRate, peak > 0 ? tt / peak : 1) }
            return anneal(maxRate, final, min(1, (tt - peak) / max(end - peak, 1)))
        }
    }
}

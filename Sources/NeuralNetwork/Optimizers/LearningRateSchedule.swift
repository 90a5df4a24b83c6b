#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Tensors

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

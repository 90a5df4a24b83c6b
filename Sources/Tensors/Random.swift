#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A small, fast, seedable generator (SplitMix64, Steele et al. 2014) for reproducible initialisation.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator; equal seeds give equal sequences.
    public init(seed: UInt64) { state = seed }

    /// Set for building a network whose weights are all loaded right after: ``Tensor/uniform(shape:bound:using:)``
    /// and ``Tensor/normal(shape:std:using:)`` then give zeros instead of spending time on draws.
    package var skipsTensorDraws = false

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform `Float` in `[0, 1)` (24 random bits).
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A uniform `Float` in `[low, high)`.
    public mutating func nextFloat(in low: Float, _ high: Float) -> Float {
        low + (high - low) * nextUnitFloat()
    }

    /// A standard normal sample (Box–Muller).
    public mutating func nextNormal() -> Float {
        let u1 = max(Double(next() >> 11) * 0x1p-53, 1e-300)
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// A sample of the gamma distribution with shape `shape` (> 0) and scale 1 (Marsaglia and
    /// Tsang 2000; for a shape below 1, a sample of shape + 1 times `U^(1/shape)`).
    public mutating func nextGamma(shape: Double) -> Double { exp(nextLogGamma(shape: shape)) }

    /// A sample of the beta distribution with parameters `a` and `b` (both > 0), in [0, 1]. The
    /// two gamma samples it divides are taken as logarithms, so that very small parameters (whose
    /// samples underflow to 0) still give values near 0 and 1, not 0/0.
    public mutating func nextBeta(_ a: Double, _ b: Double) -> Double {
        let x = nextLogGamma(shape: a), y = nextLogGamma(shape: b)
        return 1 / (1 + exp(y - x))
    }

    /// The logarithm of a gamma sample (see ``nextGamma(shape:)``).
    private mutating func nextLogGamma(shape: Double) -> Double {
        precondition(shape > 0 && shape.isFinite, "gamma shape must be positive and finite")
        if shape < 1 {
            let u = max(Double(next() >> 11) * 0x1p-53, 1e-300)
            return nextLogGamma(shape: shape + 1) + log(u) / shape
        }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat {
                x = Double(nextNormal())
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = Double(next() >> 11) * 0x1p-53
            if u < 1 - 0.0331 * x * x * x * x || log(max(u, 1e-300)) < 0.5 * x * x + d * (1 - v + log(v)) {
                return log(d * v)
            }
        }
    }
}


extension Tensor {
    /// A tensor of independent uniform samples in `[-bound, bound)`.
    public static func uniform(shape: [Int], bound: Float, using rng: inout SplitMix64) -> Tensor {
        if rng.skipsTensorDraws { return Tensor(shape: shape) }
        var t = Tensor(uninitializedShape: shape)
        t.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = rng.nextFloat(in: -bound, bound) }
        }
        return t
    }

    /// A tensor of independent standard-normal samples times `std`.
    public static func normal(shape: [Int], std: Float = 1, using rng: inout SplitMix64) -> Tensor {
        if rng.skipsTensorDraws { return Tensor(shape: shape) }
        var t = Tensor(uninitializedShape: shape)
        t.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = std * rng.nextNormal() }
        }
        return t
    }
}

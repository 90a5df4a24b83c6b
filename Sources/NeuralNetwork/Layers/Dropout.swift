import Tensors

/// Inverted dropout: in training, zeroes each element with probability `p` and scales the rest by
/// `1/(1-p)`; identity at inference. The mask comes from the layer's own seeded generator.
public final class Dropout: Layer {
    /// The probability that an element is zeroed in training, in [0, 1).
    public let probability: Float
    private var rng: SplitMix64
    private var mask: Tensor?

    /// A dropout layer whose masks are drawn from a generator seeded with `seed`.
    public init(probability: Float = 0.5, seed: UInt64 = 0) {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
        self.probability = probability
        rng = SplitMix64(seed: seed)
    }

    /// Restarts the mask generator (a trainer reseeds it every epoch, so a resumed run draws the
    /// masks an uninterrupted one would).
    public func reseed(_ seed: UInt64) {
        rng = SplitMix64(seed: seed)
    }

    /// Any shape; in training, a new random mask per call; at inference, the input unchanged.
    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        guard mode == .training, probability > 0 else {
            mask = nil
            return input
        }
        let keep = 1 - probability, scale = 1 / keep
        var m = Tensor(uninitializedShape: input.shape)
        m.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = rng.nextUnitFloat() < keep ? scale : 0 }
        }
        mask = m
        return input * m
    }

    /// The gradient through the last training mask (zeroed where dropped, scaled by `1/(1-p)` elsewhere).
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let mask else { return outputGradient }
        return outputGradient * mask
    }
}

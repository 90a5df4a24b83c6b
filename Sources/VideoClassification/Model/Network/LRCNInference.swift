import NeuralNetwork
import Tensors

/// Running state of a streaming classifier: the recurrent state plus, for the mean-over-time head,
/// the running sum of outputs.
public struct StreamingState: Sendable {
    /// The recurrent layer's hidden (and, for LSTM, cell) state after the last step; nil before the first.
    public var recurrent: RecurrentState?
    /// Running sum of the outputs (or, for the feature-mean head, the features) `[B, D]`, for the mean heads.
    public var outputSum: Tensor?
    /// Frames consumed so far.
    public var steps: Int = 0
    /// The state before the first frame.
    public init() {}
}

/// An inference-only snapshot of an ``LRCN`` with BatchNorm folded and ReLU fused, for fast batch
/// inference (``logits(_:)``) and frame-by-frame streaming (``step(frames:state:)``).
public final class LRCNInference {
    /// The architecture of the snapshotted model.
    public let configuration: ModelDescription
    /// The arithmetic the encoder's convolutions run in.
    public let precision: InferencePrecision
    let encoder: any Layer
    let lstm: Recurrent
    let fc: Linear

    /// Snapshots `model` for inference.
    /// - Parameters:
    ///   - model: the trained network; its encoder is copied with BatchNorm folded (later training
    ///     does not change it), while the recurrent layer and the head are shared.
    ///   - winograd: use Winograd (F(4×4, 3×3) channels-last) for 3×3 convolutions of stride 1 (default `true`).
    ///   - precision: the arithmetic of the encoder's convolutions (default single precision). In
    ///     `InferencePrecision.bfloat16` the weights of those that gain from it are rounded once,
    ///     here; an encoder that does not run channels-last (none of the built-in ones), or none
    ///     of whose convolutions gains (a very narrow one), stays in single precision, and
    ///     ``precision`` says so.
    public init(_ model: LRCN, winograd: Bool = true, precision: InferencePrecision = .float32) {
        configuration = model.configuration
        // lrcn-small and torchvision's encoders (ResNets, MobileNets, EfficientNet) run channels-last.
        if let channelsLast = ChannelsLastEncoder(model.encoder, winograd: winograd, precision: precision) {
            encoder = channelsLast
            self.precision = channelsLast.precision
        } else {
            encoder = fusedForInference(model.encoder, winograd: winograd)
            self.precision = .float32
        }
        lstm = model.lstm
        fc = model.fc
    }

    /// Logits `[B, classes]` for clips `[B, T, C, H, W]`.
    public func logits(_ clips: Tensor) -> Tensor {
        logits(features: clipFeatures(clips))
    }

    /// Per-frame features `[B, T, F]` of clips `[B, T, C, H, W]` (the encoder alone).
    public func clipFeatures(_ clips: Tensor) -> Tensor {
        precondition(clips.rank == 5, "expects clips [B, T, C, H, W], got \(clips.shape)")
        let b = clips.shape[0], t = clips.shape[1]
        let frames = clips.reshaped([b * t, clips.shape[2], clips.shape[3], clips.shape[4]])
        return frameFeatures(frames).reshaped([b, t, configuration.featureSize])
    }

    /// Per-frame features `[N, F]` of frames `[N, C, H, W]` (the encoder alone).
    public func frameFeatures(_ frames: Tensor) -> Tensor {
        precondition(frames.rank == 4, "expects frames [N, C, H, W], got \(frames.shape)")
        return encoder.forward(frames, mode: .inference).reshaped([frames.shape[0], configuration.featureSize])
    }

    /// Logits `[B, classes]` from per-frame features `[B, T, F]` (the sequence model and head alone):
    /// `logits(clips)` equals `logits(features: frameFeatures(frames of clips))`.
    public func logits(features feats: Tensor) -> Tensor {
        precondition(feats.rank == 3 && feats.shape[2] == configuration.featureSize, "expects features [B, T, F], got \(feats.shape)")
        let b = feats.shape[0], t = feats.shape[1]
        if configuration.head == .featureMean {
            return fc.forward(feats.sum(alongAxis: 1) * (1 / Float(t)), mode: .inference)
        }
        let out = lstm.forward(feats, initialState: nil, mode: .inference).output
        let d = out.shape[2]
        let pooled: Tensor
        switch configuration.head {
        case .lastStep: pooled = out.swappingFirstAxes().slice(t - 1).reshaped([b, d])
        case .meanOverTime, .featureMean: pooled = out.sum(alongAxis: 1) * (1 / Float(t))
        }
        return fc.forward(pooled, mode: .inference)
    }

    /// Consumes one frame per stream (`[B, 3, H, W]`) and returns the logits after it, carrying the
    /// recurrent state: the logits after frame t equal ``logits(_:)`` of the clip of frames 0…t.
    public func step(frames: Tensor, state: StreamingState) -> (logits: Tensor, state: StreamingState) {
        precondition(frames.rank == 4, "expects frames [B, C, H, W], got \(frames.shape)")
        return step(features: frameFeatures(frames), state: state)
    }

    /// Consumes one time step's features per stream (`[B, F]`, from ``frameFeatures(_:)``) and
    /// returns the logits after it: the recurrent half of ``step(frames:state:)``, so the encoder
    /// can run on several frames at once and the recurrent layer step through them in order.
    public func step(features feats: Tensor, state: StreamingState) -> (logits: Tensor, state: StreamingState) {
        precondition(!configuration.bidirectional, "a bidirectional model cannot stream")
        precondition(feats.rank == 2 && feats.shape[1] == configuration.featureSize, "expects features [B, F], got \(feats.shape)")
        if configuration.head == .featureMean {
            var next = state
            var sum = state.outputSum ?? Tensor(shape: feats.shape)
            sum += feats
            next.outputSum = sum
            next.steps += 1
            return (fc.forward(sum * (1 / Float(next.steps)), mode: .inference), next)
        }
        let (h, recurrent) = lstm.step(feats, state: state.recurrent)
        var next = state
        next.recurrent = recurrent
        next.steps += 1
        switch configuration.head {
        case .lastStep:
            return (fc.forward(h, mode: .inference), next)
        case .meanOverTime, .featureMean:
            var sum = state.outputSum ?? Tensor(shape: h.shape)
            sum += h
            next.outputSum = sum
            return (fc.forward(sum * (1 / Float(next.steps)), mode: .inference), next)
        }
    }
}

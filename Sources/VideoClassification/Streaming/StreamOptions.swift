import Foundation

/// Options for ``VideoClassifier/predictions(for:options:)``.
public struct StreamOptions: Sendable {
    /// When a prediction is emitted.
    public enum Emission: Sendable, Equatable {
        /// After every N processed frames.
        case everyFrames(Int)
        /// Every T seconds of stream time.
        case everySeconds(Double)
    }

    /// How the recurrent layer sees the stream.
    public enum Memory: Sendable, Equatable {
        /// The recurrent state is carried from frame to frame for the whole stream: one CNN pass
        /// and one recurrent step per frame.
        case carried
        /// Predictions look at the last N processed frames (default: the model's frames per clip),
        /// like the clips the model was trained on: one CNN pass per frame, features kept in a ring.
        case window(Int?)
    }

    /// When a ``StreamEvent/prediction(frameIndex:time:scores:)`` is emitted; default every 8 processed frames.
    public var emit: Emission = .everyFrames(8)
    /// What the recurrent layer sees; default a window of the model's frames per clip.
    public var memory: Memory = .window(nil)
    /// Process at most this many frames per second of stream time (by timestamps); nil: every frame.
    public var frameRate: Double?
    /// Average the last N emitted probability vectors (default 1: no smoothing).
    public var smoothing = 1
    /// A label "starts" when its smoothed probability (0–1) reaches this and "ends" when it drops
    /// below; default 0.6.
    public var threshold = 0.6
    /// With ``Memory/window(_:)``: predict before the window has filled (from the first frames of
    /// the stream), default true; false waits for a full window, as the model was trained.
    public var emitsPartialWindows = true
    /// With ``VideoClassifier/predictions(for:options:)``: the most frames the encoder takes in one
    /// pass, default 16. While the network works, the stream reads the source into a queue of this
    /// many frames (holding one more while the queue is full); when the network falls behind (a
    /// file decodes faster than real time, a camera outpaces a slow machine), the frames that have
    /// piled up go through the encoder together, which costs less per frame than one at a time. A
    /// source that is slower than the network gets one frame per pass, each frame's events as soon
    /// as it is processed. The events are the same either way, up to rounding. Frames read ahead
    /// are never dropped: a smaller limit bounds how far events can lag a live source; 1 turns
    /// batching off.
    public var batchLimit = 16

    /// Stream options; every parameter sets the property of the same name.
    public init(emit: Emission = .everyFrames(8), memory: Memory = .window(nil), frameRate: Double? = nil,
                smoothing: Int = 1, threshold: Double = 0.6, emitsPartialWindows: Bool = true, batchLimit: Int = 16) {
        self.emit = emit
        self.memory = memory
        self.frameRate = frameRate
        self.smoothing = smoothing
        self.threshold = threshold
        self.emitsPartialWindows = emitsPartialWindows
        self.batchLimit = batchLimit
    }

    /// Checks the options against a model: counts, durations and the batch limit positive and finite, the
    /// threshold within 0–1, and `.carried` memory only for a model that reads in one direction (a
    /// bidirectional recurrent layer needs whole windows: use `.window`).
    /// - Throws: ``VideoClassificationError`` (`invalidArgument`) naming the problem.
    public func validate(for card: ModelCard) throws {
        func fail(_ message: String) -> VideoClassificationError {
            VideoClassificationError(.invalidArgument, path: card.name, message: message)
        }
        switch emit {
        case .everyFrames(let n) where n < 1: throw fail("emit every \(n) frames: the count must be at least 1")
        case .everySeconds(let t) where !(t.isFinite && t > 0): throw fail("emit every \(t) seconds: must be a finite number above 0")
        default: break
        }
        if case .window(let n?) = memory, n < 1 { throw fail("a window of \(n) steps: must be at least 1") }
        if case .carried = memory, card.architecture.bidirectional {
            throw fail("a bidirectional model reads each window both ways and cannot carry its state frame to frame; stream it with memory .window")
        }
        if let rate = frameRate, !(rate.isFinite && rate > 0) { throw fail("frame rate \(rate): must be a finite number above 0") }
        if batchLimit < 1 { throw fail("a batch limit of \(batchLimit) frames: must be at least 1") }
        if smoothing < 1 { throw fail("smoothing over \(smoothing) predictions: must be at least 1") }
        if !(0...1).contains(threshold) { throw fail("threshold \(threshold): must be within 0 and 1") }
    }
}

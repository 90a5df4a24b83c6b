import Foundation
import NeuralNetwork
import Tensors
import VideoIO

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

    public var emit: Emission = .everyFrames(8)
    public var memory: Memory = .window(nil)
    /// Process at most this many frames per second of stream time (by timestamps); nil: every frame.
    public var frameRate: Double?
    /// Average the last N emitted probability vectors.
    public var smoothing = 1
    /// A label "starts" when its smoothed probability reaches this and "ends" when it drops below.
    public var threshold = 0.6

    public init(emit: Emission = .everyFrames(8), memory: Memory = .window(nil), frameRate: Double? = nil,
                smoothing: Int = 1, threshold: Double = 0.6) {
        self.emit = emit
        self.memory = memory
        self.frameRate = frameRate
        self.smoothing = smoothing
        self.threshold = threshold
    }
}

/// What a stream of frames yields.
public enum StreamEvent: Sendable {
    /// Scores after the frame with this index and time.
    case prediction(frameIndex: Int, time: Double, scores: [LabelScore])
    /// A label's smoothed probability reached the threshold.
    case started(label: String, time: Double, score: Double)
    /// The label that had started fell below the threshold.
    case ended(label: String, time: Double)

    /// The scores, for `.prediction`.
    public var scores: [LabelScore]? {
        if case .prediction(_, _, let s) = self { return s }
        return nil
    }
}

/// The frame-by-frame state of one stream: previous frame (for difference input), recurrent
/// state or feature ring, emission and smoothing bookkeeping. Memory stays constant.
final class StreamState {
    let classifier: VideoClassifier
    let options: StreamOptions
    private var previous: VideoFrame?
    private var carried = StreamingState()
    private var ring: [[Float]] = []
    private var processed = 0
    private var lastProcessedTime: Double?
    private var lastEmitTime: Double?
    private var recent: [[Double]] = []
    private var active: String?

    init(classifier: VideoClassifier, options: StreamOptions) {
        self.classifier = classifier
        self.options = options
    }

    var window: Int? {
        if case .window(let n) = options.memory { return max(1, n ?? classifier.model.card.input.framesPerClip) }
        return nil
    }

    /// Time steps held for the window (constant: at most the window's length).
    var retainedSteps: Int { ring.count }

    /// Consumes one frame; returns the events it causes.
    func consume(_ frame: VideoFrame) -> [StreamEvent] {
        if let rate = options.frameRate, let last = lastProcessedTime, frame.time - last < 1 / rate - 1e-6 { return [] }
        lastProcessedTime = frame.time
        let input = classifier.model.card.input
        let prepared = classifier.preprocessor.resampled(frame)
        defer { previous = prepared }
        if input.representation.usesDifferences && previous == nil { return [] }
        // One time step: [1, C, S, S] from this frame (and the previous one for differences).
        var step = Tensor(shape: [1, input.representation.channels, input.size, input.size])
        step.withUnsafeMutableBufferPointer { buffer in
            classifier.preprocessor.writeStep(current: prepared, previous: previous ?? prepared, into: buffer)
        }
        processed += 1
        var row: [Double]
        if let window {
            ring.append(classifier.features(step).withUnsafeBufferPointer { Array($0) })
            if ring.count > window { ring.removeFirst(ring.count - window) }
            guard shouldEmit(frame) else { return [] }
            let features = Tensor(shape: [ring.count, ring[0].count], scalars: ring.flatMap { $0 })
            row = classifier.probabilities(features: features, steps: ring.count)
        } else {
            let (logits, next) = classifier.step(step, state: carried)
            carried = next
            guard shouldEmit(frame) else { return [] }
            row = softmaxRow(logits)
        }
        recent.append(row)
        if recent.count > max(1, options.smoothing) { recent.removeFirst() }
        let smoothed = (0..<row.count).map { i in recent.map { $0[i] }.reduce(0, +) / Double(recent.count) }
        var events: [StreamEvent] = [.prediction(frameIndex: frame.index, time: frame.time, scores: classifier.ranked(smoothed))]
        let best = smoothed.indices.max { smoothed[$0] < smoothed[$1] }!
        let label = classifier.model.card.labels[best]
        if let current = active, let i = classifier.model.card.labels.firstIndex(of: current), smoothed[i] < options.threshold {
            events.append(.ended(label: current, time: frame.time))
            active = nil
        }
        if active == nil && smoothed[best] >= options.threshold {
            events.append(.started(label: label, time: frame.time, score: smoothed[best]))
            active = label
        }
        return events
    }

    private func shouldEmit(_ frame: VideoFrame) -> Bool {
        switch options.emit {
        case .everyFrames(let n):
            return processed % max(1, n) == 0
        case .everySeconds(let t):
            if let last = lastEmitTime, frame.time - last < t - 1e-9 { return false }
            lastEmitTime = frame.time
            return true
        }
    }

    private func softmaxRow(_ logits: Tensor) -> [Double] {
        softmax(logits).withUnsafeBufferPointer { $0.map(Double.init) }
    }
}

extension VideoClassifier {
    /// Classifies a live stream of frames (from VideoIO, a camera, a network source, your own
    /// decoder), yielding a prediction every N frames or T seconds, and `started`/`ended` events
    /// when a label crosses the threshold.
    ///
    /// ```swift
    /// for try await event in classifier.predictions(for: VideoFrames(path: "stream.mp4")) {
    ///     if case .prediction(_, let time, let scores) = event { print(time, scores[0].label) }
    /// }
    /// ```
    /// Frames of any size are center-cropped and scaled to the model's input. Each frame costs one
    /// CNN pass; memory stays constant however long the stream runs. The network runs on a thread
    /// of the stream's own, never on a Swift concurrency thread, and frames are pulled one at a time
    /// (back-pressure: a source is never read ahead of the network by more than its own buffer).
    /// Cancelling the iterating task stops the stream.
    public func predictions<Frames: AsyncSequence & Sendable>(for frames: Frames, options: StreamOptions = StreamOptions())
        -> StreamPredictions<Frames> where Frames.Element == VideoFrame {
        StreamPredictions(classifier: self, frames: frames, options: options)
    }

    /// Synchronous streaming: feed frames one at a time.
    public func makeStream(options: StreamOptions = StreamOptions()) -> FrameStream {
        FrameStream(state: StreamState(classifier: self, options: options))
    }

    /// Encoder features `[N, F]` of time steps `[N, C, S, S]`.
    func features(_ steps: Tensor) -> Tensor {
        withInference { $0.frameFeatures(steps) }
    }

    /// Probabilities from the features of `steps` consecutive time steps (`[steps, F]`).
    func probabilities(features: Tensor, steps: Int) -> [Double] {
        let logits = withInference { $0.logits(features: features.reshaped([1, steps, features.shape[1]])) }
        return softmax(logits).withUnsafeBufferPointer { $0.map(Double.init) }
    }

    func step(_ frames: Tensor, state: StreamingState) -> (Tensor, StreamingState) {
        withInference { $0.step(frames: frames, state: state) }
    }
}

/// A stream fed synchronously: `let events = stream.push(frame)`.
public final class FrameStream {
    let state: StreamState
    init(state: StreamState) { self.state = state }

    /// Consumes one frame and returns the events it causes.
    public func push(_ frame: VideoFrame) -> [StreamEvent] { state.consume(frame) }

    /// Time steps the stream holds (bounded by the window; memory does not grow with the stream).
    public var retainedSteps: Int { state.retainedSteps }
}

/// The events of a stream of frames, from ``VideoClassifier/predictions(for:options:)``.
public struct StreamPredictions<Frames: AsyncSequence & Sendable>: AsyncSequence, Sendable where Frames.Element == VideoFrame {
    public typealias Element = StreamEvent

    let classifier: VideoClassifier
    let frames: Frames
    let options: StreamOptions

    public struct AsyncIterator: AsyncIteratorProtocol {
        var frames: Frames.AsyncIterator
        let worker: StreamWorker
        var pending: [StreamEvent] = []

        /// The next event; nil when the frames end.
        /// - Throws: the frame source's error, or `CancellationError`.
        public mutating func next() async throws -> StreamEvent? {
            while pending.isEmpty {
                try Task.checkCancellation()
                guard let frame = try await frames.next() else { return nil }
                pending = await worker.consume(frame)
            }
            return pending.removeFirst()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(frames: frames.makeAsyncIterator(), worker: StreamWorker(StreamState(classifier: classifier, options: options)))
    }
}

/// One stream's state and the serial queue its network work runs on (off the Swift concurrency
/// pool; the state is only touched there).
final class StreamWorker: @unchecked Sendable {
    private let state: StreamState
    private let queue = DispatchQueue(label: "vidclass.stream")

    init(_ state: StreamState) { self.state = state }

    func consume(_ frame: VideoFrame) async -> [StreamEvent] {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: self.state.consume(frame)) }
        }
    }
}

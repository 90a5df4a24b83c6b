import Foundation
import NeuralNetwork
import Tensors
import VideoIO

/// The frame-by-frame state of one stream: previous frame (for difference input), recurrent
/// state or feature ring, emission and smoothing bookkeeping. Memory stays constant.
final class StreamState {
    let classifier: VideoClassifier
    let options: StreamOptions
    private var previous: VideoFrame?
    private var carried = StreamingState()
    private var ring: [[Float]] = []
    private var processed = 0
    /// Encoder passes so far (each over one or more frames).
    private(set) var encoderPasses = 0
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
    func consume(_ frame: VideoFrame) -> [StreamEvent] { consume([frame]) }

    /// Consumes frames in order and returns the events they cause, the same as consuming them one
    /// at a time; the encoder runs once over all of them (a batch is faster per frame than one
    /// frame alone), then the recurrent layer steps through them.
    func consume(_ frames: [VideoFrame]) -> [StreamEvent] {
        let input = classifier.model.card.input
        // The frames that make a time step, with the frames their steps are made of.
        var stepping: [(frame: VideoFrame, current: VideoFrame, previous: VideoFrame)] = []
        for frame in frames {
            if let rate = options.frameRate, let last = lastProcessedTime, frame.time - last < 1 / rate - 1e-6 { continue }
            lastProcessedTime = frame.time
            let prepared = classifier.preprocessor.resampled(frame)
            defer { previous = prepared }
            if input.representation.usesDifferences && previous == nil { continue }
            stepping.append((frame, prepared, previous ?? prepared))
        }
        guard !stepping.isEmpty else { return [] }
        var steps = Tensor(shape: [stepping.count, input.representation.channels, input.size, input.size])
        let stepCount = steps.count / stepping.count
        steps.withUnsafeMutableBufferPointer { buffer in
            for (i, step) in stepping.enumerated() {
                classifier.preprocessor.writeStep(current: step.current, previous: step.previous,
                                                  into: UnsafeMutableBufferPointer(rebasing: buffer[(i * stepCount)..<((i + 1) * stepCount)]))
            }
        }
        let features = classifier.features(steps)
        encoderPasses += 1
        var events: [StreamEvent] = []
        for (i, step) in stepping.enumerated() {
            events += advance(step.frame, features: features.slice(i).reshaped([1, features.shape[1]]))
        }
        return events
    }

    /// One time step of `frame`, whose encoder features (`[1, F]`) are computed: the recurrent
    /// layer or the window, then emission and label events.
    private func advance(_ frame: VideoFrame, features: Tensor) -> [StreamEvent] {
        processed += 1
        var row: [Double]
        if let window {
            ring.append(features.withUnsafeBufferPointer { Array($0) })
            if ring.count > window { ring.removeFirst(ring.count - window) }
            guard ring.count == window || options.emitsPartialWindows, shouldEmit(frame) else { return [] }
            let features = Tensor(shape: [ring.count, ring[0].count], scalars: ring.flatMap { $0 })
            row = classifier.probabilities(features: features, steps: ring.count)
        } else {
            let (logits, next) = classifier.step(features: features, state: carried)
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
            // On a grid of t from the first emission, so predictions come every t on average
            // even when processed frames do not fall on it; after a gap, the grid restarts.
            if let last = lastEmitTime, frame.time - last < 2 * t { lastEmitTime = last + t } else { lastEmitTime = frame.time }
            return true
        }
    }

    private func softmaxRow(_ logits: Tensor) -> [Double] {
        softmax(logits).withUnsafeBufferPointer { $0.map(Double.init) }
    }
}

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
            guard ring.count == window || options.emitsPartialWindows, shouldEmit(frame) else { return [] }
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

import Foundation
import VideoIO

/// The events of a stream of frames, from ``VideoClassifier/predictions(for:options:)``.
public struct StreamPredictions<Frames: AsyncSequence & Sendable>: AsyncSequence, Sendable where Frames.Element == VideoFrame {
    /// Each element is one event: a prediction, or a label starting or ending.
    public typealias Element = StreamEvent

    let classifier: VideoClassifier
    let frames: Frames
    let options: StreamOptions

    /// Pulls one frame at a time from the source and runs the network on the stream's own serial queue.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var frames: Frames.AsyncIterator
        let worker: StreamWorker
        var pending: [StreamEvent] = []
        /// Options this model cannot stream with: thrown by the first `next()`.
        var problem: VideoClassificationError?

        /// The next event; nil when the frames end.
        /// - Throws: the frame source's error, or `CancellationError`.
        public mutating func next() async throws -> StreamEvent? {
            if let problem {
                self.problem = nil
                throw problem
            }
            while pending.isEmpty {
                try Task.checkCancellation()
                guard let frame = try await frames.next() else { return nil }
                pending = await worker.consume(frame)
            }
            return pending.removeFirst()
        }
    }

    /// Starts a new stream over the frames, with fresh state (no recurrent state, no window).
    public func makeAsyncIterator() -> AsyncIterator {
        var iterator = AsyncIterator(frames: frames.makeAsyncIterator(),
                                     worker: StreamWorker(StreamState(classifier: classifier, options: options)))
        do {
            try options.validate(for: classifier.model.card)
        } catch {
            iterator.problem = error as? VideoClassificationError
        }
        return iterator
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

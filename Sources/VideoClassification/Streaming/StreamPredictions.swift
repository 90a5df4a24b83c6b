import Foundation
import VidclassConcurrency
import VideoIO

/// The events of a stream of frames, from ``VideoClassifier/predictions(for:options:)``.
public struct StreamPredictions<Frames: AsyncSequence & Sendable>: AsyncSequence, Sendable where Frames.Element == VideoFrame {
    /// Each element is one event: a prediction, or a label starting or ending.
    public typealias Element = StreamEvent

    let classifier: VideoClassifier
    let frames: Frames
    let options: StreamOptions

    /// Reads the source ahead on a task of its own and runs the network on the stream's own serial
    /// queue, over the frames that have arrived since its last pass.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let pipeline: StreamPipeline<Frames>
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
                if Task.isCancelled {
                    pipeline.cancel()
                    throw CancellationError()
                }
                guard let events = try await pipeline.nextEvents() else { return nil }
                pending = events
            }
            return pending.removeFirst()
        }
    }

    /// Starts a new stream over the frames, with fresh state (no recurrent state, no window).
    public func makeAsyncIterator() -> AsyncIterator {
        var iterator = AsyncIterator(pipeline: StreamPipeline(frames: frames, options: options,
                                                              worker: StreamWorker(StreamState(classifier: classifier, options: options))))
        do {
            try options.validate(for: classifier.model.card)
        } catch {
            iterator.problem = error as? VideoClassificationError
        }
        return iterator
    }
}

/// One stream's moving parts: a reader task that pulls the source into a channel of
/// ``StreamOptions/batchLimit`` frames (and holds one more while the channel is full), and the
/// worker that takes whatever has arrived as one batch. The reader starts with the first
/// `nextEvents()` and stops when the source ends, the consumer's task is cancelled, or the
/// pipeline is dropped.
final class StreamPipeline<Frames: AsyncSequence & Sendable>: @unchecked Sendable where Frames.Element == VideoFrame {
    private let frames: Frames
    let worker: StreamWorker
    /// Holds at most `batchLimit` frames, the most a batch takes.
    private let channel: BatchingChannel<VideoFrame>
    /// Set once, by the consumer's first `nextEvents()` (an iterator is used by one task at a time).
    private var reader: Task<Void, Never>?

    init(frames: Frames, options: StreamOptions, worker: StreamWorker) {
        self.frames = frames
        self.worker = worker
        channel = BatchingChannel(capacity: options.batchLimit)
    }

    deinit { cancel() }

    /// Stops reading the source and drops the frames read ahead.
    func cancel() {
        reader?.cancel()
        channel.cancel()
    }

    /// The events of the next batch of frames (possibly none); nil when the source has ended.
    func nextEvents() async throws -> [StreamEvent]? {
        if reader == nil {
            let (frames, channel) = (self.frames, self.channel)
            reader = Task {
                do {
                    for try await frame in frames {
                        guard await channel.send(frame) else { return }
                    }
                    channel.finish()
                } catch {
                    channel.finish(throwing: error)
                }
            }
        }
        let batch: [VideoFrame]?
        do {
            batch = try await channel.nextBatch(limit: channel.capacity)
        } catch {
            cancel()
            throw error
        }
        guard let batch else { return nil }
        return await worker.consume(batch)
    }
}

/// One stream's state and the serial queue its network work runs on (off the Swift concurrency
/// pool; the state is only touched there).
final class StreamWorker: @unchecked Sendable {
    let state: StreamState
    private let queue = DispatchQueue(label: "vidclass.stream")

    init(_ state: StreamState) { self.state = state }

    func consume(_ frames: [VideoFrame]) async -> [StreamEvent] {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: self.state.consume(frames)) }
        }
    }
}

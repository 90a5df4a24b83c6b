import Foundation

/// A synchronous frame reader over one video file.
///
/// ```swift
/// let reader = try VideoReader(path: "clip.mp4",
///                              options: DecodeOptions(sampling: .uniform(16), format: FrameFormat(size: FrameSize(112))))
/// while let frame = try reader.next() { ... }
/// ```
/// Opening the file happens in `init` (errors name the file and the cause). Not `Sendable`:
/// use one reader per task; several readers may decode different files at once.
public final class VideoReader {
    private let engine: FrameReader

    /// Opens `path` and prepares to return the frames `options` select.
    /// - Throws: ``VideoIOError`` when the file cannot be opened or has no decodable video.
    public init(path: String, options: DecodeOptions = DecodeOptions()) throws {
        engine = try FrameReader(path: path, options: options)
    }

    /// Reads a video held in memory (through a custom FFmpeg I/O context, no file); `name` names it
    /// in errors.
    public init(bytes: [UInt8], name: String = "<memory>", options: DecodeOptions = DecodeOptions()) throws {
        engine = try FrameReader(path: name, options: options, bytes: bytes)
    }

    /// The next selected frame in presentation order, or nil at the end.
    /// - Throws: ``VideoIOError`` for damaged data when the policy says so, or I/O failures.
    public func next() throws -> VideoFrame? { try engine.next() }

    /// Reads all remaining selected frames.
    public func readAll() throws -> [VideoFrame] {
        var frames: [VideoFrame] = []
        while let frame = try next() { frames.append(frame) }
        return frames
    }

    /// How many frames the decoder flagged as damaged so far.
    public var corruptFrameCount: Int { engine.corruptFrameCount }
    /// The container's duration in seconds, when it declares one.
    public var duration: Double? { engine.duration }

    /// What the reader has done so far.
    public var statistics: DecodeStatistics { engine.statistics }
    /// Whether sparse sampling uses the frame table (seeks and skips) rather than reading on.
    public var usesFrameTable: Bool { engine.isPlanned }
    /// How many packets the decoder rejected so far.
    public var rejectedPacketCount: Int { engine.rejectedPacketCount }
}

/// The frames of a video file as an `AsyncSequence`.
///
/// ```swift
/// for try await frame in VideoFrames(path: "clip.mp4", options: DecodeOptions(sampling: .framesPerSecond(2))) {
///     print(frame.index, frame.time)
/// }
/// ```
/// Each iteration opens the file anew, so the value can be iterated more than once and passed
/// between tasks.
public struct VideoFrames: AsyncSequence, Sendable {
    public typealias Element = VideoFrame

    public let path: String
    public let options: DecodeOptions

    public init(path: String, options: DecodeOptions = DecodeOptions()) {
        self.path = path
        self.options = options
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let path: String
        let options: DecodeOptions
        var reader: VideoReader?
        var done = false

        public mutating func next() async throws -> VideoFrame? {
            if done { return nil }
            try Task.checkCancellation()
            if reader == nil { reader = try VideoReader(path: path, options: options) }
            guard let frame = try reader?.next() else {
                done = true
                reader = nil
                return nil
            }
            return frame
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(path: path, options: options)
    }

    /// Reads every selected frame synchronously.
    public func collect() throws -> [VideoFrame] {
        try VideoReader(path: path, options: options).readAll()
    }
}

extension VideoFrames {
    /// The same frames, decoded ahead on a thread of their own into a buffer of `count` frames, so
    /// decoding overlaps whatever the consumer does with each frame (run a network, for example).
    public func prefetching(_ count: Int = 8) -> PrefetchingVideoFrames {
        PrefetchingVideoFrames(frames: self, capacity: Swift.max(1, count))
    }
}

/// ``VideoFrames`` decoded ahead on a dedicated thread (see ``VideoFrames/prefetching(_:)``).
public struct PrefetchingVideoFrames: AsyncSequence, Sendable {
    public typealias Element = VideoFrame
    let frames: VideoFrames
    let capacity: Int

    public final class AsyncIterator: AsyncIteratorProtocol {
        private let queue: BlockingQueue<Result<VideoFrame, any Error>>
        private let cancelled = CancelFlag()

        init(frames: VideoFrames, capacity: Int) {
            let queue = BlockingQueue<Result<VideoFrame, any Error>>(capacity: capacity)
            self.queue = queue
            let cancelled = self.cancelled
            Thread.detachNewThread {
                do {
                    let reader = try VideoReader(path: frames.path, options: frames.options)
                    while !cancelled.isSet, let frame = try reader.next() { queue.push(.success(frame)) }
                } catch {
                    queue.push(.failure(error))
                }
                queue.close()
            }
        }

        deinit {
            cancelled.set()
            while queue.tryPop() != nil {}  // unblock the decoder so it sees the flag
            queue.close()
        }

        public func next() async throws -> VideoFrame? {
            try Task.checkCancellation()
            return try queue.pop()?.get()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(frames: frames, capacity: capacity) }
}

/// A flag set once, read from another thread.
final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

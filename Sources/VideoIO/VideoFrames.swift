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
/// Decoding runs on a thread of its own, ``bufferSize`` frames ahead of the consumer, and never
/// blocks a Swift concurrency thread: `next()` suspends until a frame is ready. The decoder waits
/// while the buffer is full (back-pressure), and stops when the iterating task is cancelled or the
/// iterator is dropped. Each iteration opens the file anew, so the value can be iterated more than
/// once and passed between tasks.
public struct VideoFrames: AsyncSequence, Sendable {
    public typealias Element = VideoFrame

    public let path: String
    public let options: DecodeOptions
    /// Frames decoded ahead of the consumer (at least 1).
    public let bufferSize: Int

    public init(path: String, options: DecodeOptions = DecodeOptions(), bufferSize: Int = 2) {
        self.path = path
        self.options = options
        self.bufferSize = Swift.max(1, bufferSize)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let frames: VideoFrames
        var decoding: FrameDecodingThread?
        var done = false

        /// The next frame, or nil at the end.
        /// - Throws: ``VideoIOError`` when the file cannot be read, `CancellationError` when the
        ///   task is cancelled.
        public mutating func next() async throws -> VideoFrame? {
            if done { return nil }
            try Task.checkCancellation()
            if decoding == nil { decoding = FrameDecodingThread(frames) }
            do {
                guard let frame = try await decoding!.channel.next() else {
                    done = true
                    decoding = nil
                    return nil
                }
                return frame
            } catch {
                done = true
                decoding = nil
                throw error
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(frames: self)
    }

    /// Reads every selected frame synchronously.
    public func collect() throws -> [VideoFrame] {
        try VideoReader(path: path, options: options).readAll()
    }

    /// The same frames, decoded up to `count` frames ahead, so decoding overlaps whatever the
    /// consumer does with each frame (run a network, for example).
    public func prefetching(_ count: Int = 8) -> VideoFrames {
        VideoFrames(path: path, options: options, bufferSize: count)
    }
}

/// ``VideoFrames`` with a deeper buffer; kept for source compatibility.
@available(*, deprecated, renamed: "VideoFrames")
public typealias PrefetchingVideoFrames = VideoFrames

/// One iteration of ``VideoFrames``: a thread that opens the file and decodes into a bounded
/// channel; dropping it (the iterator went away) stops the thread.
final class FrameDecodingThread: Sendable {
    let channel: BoundedChannel<VideoFrame>

    init(_ frames: VideoFrames) {
        let channel = BoundedChannel<VideoFrame>(capacity: frames.bufferSize)
        self.channel = channel
        let thread = Thread {
            do {
                let reader = try VideoReader(path: frames.path, options: frames.options)
                while !channel.isCancelled, let frame = try reader.next() {
                    guard channel.send(frame) else { break }
                }
                channel.finish()
            } catch {
                channel.finish(throwing: error)
            }
        }
        thread.name = "vidclass.decode"
        thread.start()
    }

    deinit { channel.cancel() }
}

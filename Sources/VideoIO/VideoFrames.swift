import Foundation

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
    /// Each element is one decoded RGB frame.
    public typealias Element = VideoFrame

    /// The video file.
    public let path: String
    /// Which frames, at what size, and how damaged frames and timeouts are handled.
    public let options: DecodeOptions
    /// Frames decoded ahead of the consumer (at least 1).
    public let bufferSize: Int

    /// The frames of `path`; nothing is opened until the first frame is asked for. `bufferSize` is
    /// raised to at least 1.
    public init(path: String, options: DecodeOptions = DecodeOptions(), bufferSize: Int = 2) {
        self.path = path
        self.options = options
        self.bufferSize = Swift.max(1, bufferSize)
    }

    /// One pass over the file: it opens the file and starts its decoding thread at the first `next()`.
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

    /// A new pass over the file, which opens it anew.
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

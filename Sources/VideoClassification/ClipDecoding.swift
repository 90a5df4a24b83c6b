import VidclassConcurrency
import Foundation
import VideoIO

/// One video being opened and decoded, on its own thread, into the frames a model samples.
///
/// ``VideoClassifier/classify(path:threads:timeout:)-5nh4x`` uses one; start one yourself (with the input
/// specification from ``VideoModel/card(atPath:)``) to open and decode a video while the model's
/// weights are still loading, then pass it to ``VideoClassifier/classify(_:)``, which must consume it.
public final class ClipDecoding: @unchecked Sendable {
    /// The video being decoded.
    public let path: String
    /// The input the frames are prepared for.
    public let input: InputSpecification
    /// The clips decoded for test-time averaging (``VideoClassifier/clips``); 1: the model's sampling.
    public let clips: Int
    let started: ContinuousClock.Instant
    let queue = BlockingQueue<Result<VideoFrame, any Error>>(capacity: 64)

    /// Opens `path` (throwing `VideoIOError` if it cannot be opened) and starts decoding the
    /// frames of `clips` clips of it (the classifier's ``VideoClassifier/clips``; default: the
    /// input's ``InputSpecification/clips``, what a classifier of that model uses by default).
    public convenience init(path: String, input: InputSpecification, threads: Int = 0, timeout: Double? = nil, clips: Int? = nil) throws {
        let clips = clips ?? input.clips
        let options = Self.options(input: input, threads: threads, timeout: timeout, clips: clips)
        try self.init(reader: VideoReader(path: path, options: options), path: path, input: input, clips: clips)
    }

    /// Starts decoding a video held in memory (standard input read to its end, say), through
    /// FFmpeg's custom I/O: no file is written. `name` names it in errors.
    public convenience init(bytes: [UInt8], name: String, input: InputSpecification, threads: Int = 0, timeout: Double? = nil,
                            clips: Int? = nil) throws {
        let clips = clips ?? input.clips
        let options = Self.options(input: input, threads: threads, timeout: timeout, clips: clips)
        try self.init(reader: VideoReader(bytes: bytes, name: name, options: options), path: name, input: input, clips: clips)
    }

    private static func options(input: InputSpecification, threads: Int, timeout: Double?, clips: Int) -> DecodeOptions {
        var options = Preprocessor(input).decodeOptions(threads: threads, clips: clips)
        options.timeout = timeout
        return options
    }

    /// Takes over a reader opened by the caller (so open errors reached the caller) and decodes it
    /// on a thread of its own, which alone uses the reader from then on.
    private init(reader: VideoReader, path: String, input: InputSpecification, clips: Int) {
        self.path = path
        self.input = input
        self.clips = clips
        started = ContinuousClock().now
        nonisolated(unsafe) let reader = reader
        let queue = self.queue
        Thread.detachNewThread {
            do {
                while let frame = try reader.next() { queue.push(.success(frame)) }
            } catch {
                queue.push(.failure(error))
            }
            queue.close()
        }
    }
}

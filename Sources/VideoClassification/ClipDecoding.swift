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
    let started: ContinuousClock.Instant
    let queue = BlockingQueue<Result<VideoFrame, any Error>>(capacity: 64)

    /// Opens `path` (throwing `VideoIOError` if it cannot be opened) and starts decoding it.
    public init(path: String, input: InputSpecification, threads: Int = 0, timeout: Double? = nil) throws {
        self.path = path
        self.input = input
        started = ContinuousClock().now
        var options = Preprocessor(input).decodeOptions(threads: threads)
        options.timeout = timeout
        // Opened here, so that open errors are thrown to the caller; then handed to the decoding
        // thread, which alone uses it from then on.
        nonisolated(unsafe) let reader = try VideoReader(path: path, options: options)
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

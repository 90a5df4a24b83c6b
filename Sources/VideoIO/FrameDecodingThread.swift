import VidclassConcurrency
import Foundation

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

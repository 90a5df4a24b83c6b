import Foundation
import VideoIO

/// A stream fed synchronously: `let events = stream.push(frame)`.
public final class FrameStream {
    let state: StreamState
    init(state: StreamState) { self.state = state }

    /// Consumes one frame and returns the events it causes.
    public func push(_ frame: VideoFrame) -> [StreamEvent] { state.consume(frame) }

    /// Time steps the stream holds (bounded by the window; memory does not grow with the stream).
    public var retainedSteps: Int { state.retainedSteps }
}

import Foundation
import VideoIO

/// A stream fed synchronously: `let events = stream.push(frame)`.
public final class FrameStream {
    let state: StreamState
    init(state: StreamState) { self.state = state }

    /// Consumes one frame and returns the events it causes.
    public func push(_ frame: VideoFrame) -> [StreamEvent] { state.consume(frame) }

    /// Consumes frames in order and returns the events they cause: the same events as pushing
    /// them one at a time (up to rounding), with the encoder run once over all of them (less work
    /// per frame when frames arrive faster than they are processed).
    public func push(contentsOf frames: some Sequence<VideoFrame>) -> [StreamEvent] { state.consume(Array(frames)) }

    /// Time steps the stream holds (bounded by the window; memory does not grow with the stream).
    public var retainedSteps: Int { state.retainedSteps }
}

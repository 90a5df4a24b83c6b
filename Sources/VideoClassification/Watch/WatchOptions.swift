import Foundation

/// How a ``Watcher`` reads its source and when it speaks.
public struct WatchOptions: Sendable {
    /// Predictions, smoothing and the `started`/`ended` threshold (``StreamOptions``). The default
    /// emits every 0.5 s of source time once the window is full, averages the last 3 predictions,
    /// and starts a label at 0.6.
    /// Its ``StreamOptions/frameRate`` is set from ``window`` unless given.
    public var stream = StreamOptions(emit: .everySeconds(0.5), memory: .window(nil), smoothing: 3, threshold: 0.6,
                                      emitsPartialWindows: false)
    /// Seconds of source time the model looks at: the model's time steps are spread over it
    /// (frames are taken at `steps / window` per second), as in the timeline of a long video.
    public var window = 2.0
    /// Read a file at its own frame rate (as if it were live) instead of as fast as possible.
    public var realtime = false
    /// Open the source again when it ends or fails (live sources other than standard input), with
    /// a delay that doubles from ``reconnectDelay`` up to ``maximumReconnectDelay`` seconds.
    /// Failures retrying cannot fix (a refused special file, an unknown input format, no decoder
    /// or no video stream) end the watch.
    public var reconnect = false
    /// The first wait before reopening, in seconds.
    public var reconnectDelay = 0.5
    /// The longest wait before reopening, in seconds.
    public var maximumReconnectDelay = 30.0
    /// A live source that sends nothing for this many seconds has gone away (default 5).
    public var stallTimeout = 5.0
    /// Frames waiting for the network at most; when a live source outpaces it, the oldest waiting
    /// frame is dropped (and counted) so the results stay current. Files read as fast as possible
    /// never drop: the reader waits instead.
    public var queueLength = 4
    /// Decoder threads (0: one per core).
    public var threads = 0
    /// The FFmpeg input format (`DecodeOptions.inputFormat`); nil picks it: `v4l2` for
    /// `/dev/video*`, FFmpeg's guess otherwise.
    public var inputFormat: String?

    /// The defaults.
    public init() {}
}

/// What a reader does with a frame the decoder flags as damaged.
public enum CorruptFramePolicy: String, Sendable, CaseIterable, Codable {
    /// Return it, marked ``VideoFrame/isCorrupt`` (what `ffmpeg` does: it outputs concealed frames).
    case deliver
    /// Leave it out; its index is skipped, never reused, so no frame is ever duplicated.
    case skip
    /// Throw a ``VideoIOError`` with code ``VideoIOError/Code/corruptData``.
    case fail
}

/// How to read frames from a video.
public struct DecodeOptions: Sendable, Hashable {
    /// Which frames.
    public var sampling: FrameSampling
    /// Their size and fitting.
    public var format: FrameFormat
    /// Decoder threads; 0 means one per core.
    public var threads: Int
    /// What to do with frames the decoder flags as damaged.
    public var corruptFrames: CorruptFramePolicy
    /// Whether sparse sampling may seek and skip frames nothing depends on (always exact; off
    /// only to compare against plain sequential decoding).
    public var allowSeeking: Bool
    /// Give up (``VideoIOError/Code/timedOut``) when reading takes longer than this many seconds,
    /// whether FFmpeg is blocked on I/O or the file is just very long to decode.
    public var timeout: Double?

    /// Options; the defaults read every frame at its display size, with one decoder thread per core,
    /// delivering damaged frames, seeking allowed and no timeout.
    public init(sampling: FrameSampling = .all, format: FrameFormat = .native, threads: Int = 0,
                corruptFrames: CorruptFramePolicy = .deliver, allowSeeking: Bool = true, timeout: Double? = nil) {
        self.sampling = sampling
        self.format = format
        self.threads = threads
        self.corruptFrames = corruptFrames
        self.allowSeeking = allowSeeking
        self.timeout = timeout
    }
}

/// What a reader did: how much it decoded, skipped and converted. For tests and benchmarks.
public struct DecodeStatistics: Sendable, Hashable {
    /// Packets sent to the decoder.
    public var packetsDecoded = 0
    /// Disposable packets nobody wanted, never decoded.
    public var packetsSkipped = 0
    /// Seeks to a keyframe.
    public var seeks = 0
    /// Times the reader found the frame table unreliable and restarted sequentially.
    public var fallbacks = 0
    /// Frames the decoder produced.
    public var framesDecoded = 0
    /// Frames converted to RGB (returned).
    public var framesConverted = 0

    /// All counts at zero.
    public init() {}
}

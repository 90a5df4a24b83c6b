import Synchronization

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
    /// Decoder threads; 0 means one per core. With two or more, a seekable file may also be
    /// decoded in parts at once, each from its own keyframe (``VideoReader``).
    public var threads: Int
    /// What to do with frames the decoder flags as damaged.
    public var corruptFrames: CorruptFramePolicy
    /// Whether sparse sampling may seek and skip frames nothing depends on (always exact; off
    /// only to compare against plain sequential decoding).
    public var allowSeeking: Bool
    /// Give up (``VideoIOError/Code/timedOut``) when reading takes longer than this many seconds,
    /// whether FFmpeg is blocked on I/O or the file is just very long to decode.
    public var timeout: Double?
    /// For live sources: give up (``VideoIOError/Code/timedOut``) when opening, or any one read,
    /// gets no data for this many seconds (a camera or a stream that went away). The clock
    /// restarts with every packet, so a stream may run for ever.
    public var stallTimeout: Double?
    /// The input format to open with, instead of FFmpeg's guess: `v4l2` for a capture device such
    /// as `/dev/video0` (devices are only opened when it is named), `mpegts`, ...
    public var inputFormat: String?
    /// A switch another thread flips to abort a read blocked in I/O (``VideoIOError/Code/interrupted``).
    public var interrupt: DecodeInterrupt?

    /// Options; the defaults read every frame at its display size, with one decoder thread per core,
    /// delivering damaged frames, seeking allowed and no timeout.
    public init(sampling: FrameSampling = .all, format: FrameFormat = .native, threads: Int = 0,
                corruptFrames: CorruptFramePolicy = .deliver, allowSeeking: Bool = true, timeout: Double? = nil,
                stallTimeout: Double? = nil, inputFormat: String? = nil, interrupt: DecodeInterrupt? = nil) {
        self.sampling = sampling
        self.format = format
        self.threads = threads
        self.corruptFrames = corruptFrames
        self.allowSeeking = allowSeeking
        self.timeout = timeout
        self.stallTimeout = stallTimeout
        self.inputFormat = inputFormat
        self.interrupt = interrupt
    }
}

/// Stops a reader that is blocked opening or reading a source (a network stream that sends
/// nothing, a pipe with no writer behind it): ``interrupt()`` from any thread makes the blocked
/// call fail with ``VideoIOError/Code/interrupted``, now and for every later read.
public final class DecodeInterrupt: Sendable, Hashable {
    private let flag = Atomic(false)

    /// A switch, not yet flipped.
    public init() {}

    /// Aborts the reads of every reader whose ``DecodeOptions/interrupt`` is this switch.
    public func interrupt() { flag.store(true, ordering: .releasing) }

    /// Whether ``interrupt()`` was called.
    public var isInterrupted: Bool { flag.load(ordering: .acquiring) }

    public static func == (a: DecodeInterrupt, b: DecodeInterrupt) -> Bool { a === b }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
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

    /// The counts of two readers' work together (a file decoded in parts).
    static func + (a: DecodeStatistics, b: DecodeStatistics) -> DecodeStatistics {
        var sum = a
        sum.packetsDecoded += b.packetsDecoded
        sum.packetsSkipped += b.packetsSkipped
        sum.seeks += b.seeks
        sum.fallbacks += b.fallbacks
        sum.framesDecoded += b.framesDecoded
        sum.framesConverted += b.framesConverted
        return sum
    }
}

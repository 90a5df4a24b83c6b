/// A failure to read, decode or write a video, naming the file, the operation and the cause.
///
/// The FFmpeg error space is open-ended, so ``Code`` is an extensible struct rather than an
/// enum: new codes are not source-breaking. `description` is one line meant for people:
/// `clip.mp4: cannot open: Invalid data found when processing input (not a video)`.
public struct VideoIOError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String, Hashable, Sendable {
            case notFound = "file not found"
            case permissionDenied = "permission denied"
            case notAVideo = "not a video"
            case noVideoStream = "no video stream"
            case unsupportedCodec = "unsupported codec"
            case corruptData = "corrupt data"
            case truncated = "truncated file"
            case noFrames = "no decodable frames"
            case invalidArgument = "invalid argument"
            case unsupportedOutput = "unsupported output"
            case ioError = "I/O error"
            case tooLarge = "frame too large"
            case timedOut = "timed out"
            case interrupted = "interrupted"
            case other = "error"
        }

        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The file does not exist.
        public static let notFound = Code(.notFound)
        /// The file exists but cannot be read (or written).
        public static let permissionDenied = Code(.permissionDenied)
        /// FFmpeg recognizes no container format in the file.
        public static let notAVideo = Code(.notAVideo)
        /// The container has no video stream (for example, audio only).
        public static let noVideoStream = Code(.noVideoStream)
        /// The video stream's codec has no decoder (or encoder) in this FFmpeg build.
        public static let unsupportedCodec = Code(.unsupportedCodec)
        /// The stream contains data the decoder rejects.
        public static let corruptData = Code(.corruptData)
        /// The file ends before the data it announces.
        public static let truncated = Code(.truncated)
        /// The stream decodes to zero frames.
        public static let noFrames = Code(.noFrames)
        /// The caller asked for something impossible (a bad size, an index out of range, ...).
        public static let invalidArgument = Code(.invalidArgument)
        /// The output format or codec cannot be written.
        public static let unsupportedOutput = Code(.unsupportedOutput)
        /// Reading or writing failed below FFmpeg (disk full, I/O error, ...).
        public static let ioError = Code(.ioError)
        /// The declared frame size is beyond what vidclass accepts.
        public static let tooLarge = Code(.tooLarge)
        /// Reading took longer than the caller's timeout, or a live source sent nothing for
        /// ``DecodeOptions/stallTimeout`` seconds.
        public static let timedOut = Code(.timedOut)
        /// Another thread stopped the read (``DecodeInterrupt/interrupt()``).
        public static let interrupted = Code(.interrupted)
        /// Any other FFmpeg failure; the message says which.
        public static let other = Code(.other)

        /// The code in words, e.g. `file not found`, `timed out`.
        public var description: String { wrapped.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// The file (or URL) the failure concerns.
    public var path: String
    /// What vidclass was doing: `open`, `decode`, `seek`, `encode`, ...
    public var operation: String
    /// The cause in words, usually FFmpeg's own message.
    public var message: String
    /// The FFmpeg error code, when there is one (a negative `AVERROR` value).
    public var ffmpegCode: Int32?

    /// An error; every parameter sets the property of the same name.
    public init(_ code: Code, path: String, operation: String, message: String, ffmpegCode: Int32? = nil) {
        self.code = code
        self.path = path
        self.operation = operation
        self.message = message
        self.ffmpegCode = ffmpegCode
    }

    /// `PATH: cannot OPERATION: CAUSE`, in one line; the cause is the message followed by the
    /// code in parentheses, or the code alone.
    public var description: String {
        let cause = message.isEmpty || message == code.description ? code.description : "\(message) (\(code))"
        return "\(path): cannot \(operation): \(cause)"
    }
}

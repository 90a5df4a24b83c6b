/// A failure of the classification layer: a bad model file, a bad dataset, or a video that
/// cannot be classified. `description` is one line naming the file and the cause.
public struct VideoClassificationError: Error, Sendable, CustomStringConvertible {
    /// What failed; the raw value reads in ``description``.
    public enum Code: String, Sendable {
        /// The model file is missing, not safetensors, or its description is invalid.
        case invalidModel = "invalid model file"
        /// The dataset is unusable (no classes, one class, missing files, ...).
        case invalidDataset = "invalid dataset"
        /// The video yields no frames to classify.
        case noFrames = "no frames"
        /// An argument is out of range (a non-positive window, say).
        case invalidArgument = "invalid argument"
        /// Writing an output failed.
        case ioError = "I/O error"
    }

    /// What failed.
    public var code: Code
    /// The file (or `<default model>`, `-` for standard input) the failure concerns.
    public var path: String
    /// The cause, in one line.
    public var message: String
    /// The error this one wraps (a `VideoIOError`, a `SafeTensorsError`, a POSIX error, ...),
    /// kept as a value so a caller can inspect it; `message` already says what it says.
    public var underlying: (any Error)?

    /// An error about `path`; `message` is the cause in one line.
    public init(_ code: Code, path: String, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.path = path
        self.message = message
        self.underlying = underlying
    }

    /// `path: code: message`, in one line.
    public var description: String { "\(path): \(code.rawValue): \(message)" }
}

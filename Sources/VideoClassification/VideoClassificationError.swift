/// A failure of the classification layer: a bad model file, a bad dataset, or a video that
/// cannot be classified. `description` is one line naming the file and the cause.
public struct VideoClassificationError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The model file is missing, not safetensors, or its description is invalid.
        case invalidModel = "invalid model file"
        /// The dataset is unusable (no classes, one class, missing files, ...).
        case invalidDataset = "invalid dataset"
        /// The video yields no frames to classify.
        case noFrames = "no frames"
        /// Writing an output failed.
        case ioError = "I/O error"
    }

    public var code: Code
    public var path: String
    public var message: String

    public init(_ code: Code, path: String, message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(code.rawValue): \(message)" }
}

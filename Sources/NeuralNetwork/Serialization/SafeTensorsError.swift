/// Why a safetensors file (or a model's tensors in it) could not be read or written.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened, mapped or written (`errno` text).
    case io(path: String, reason: String)
    /// Fewer than the 8 bytes of the header length.
    case fileTooSmall(size: Int)
    /// The declared header length does not fit in the file (or is absurdly large).
    case headerLengthOutOfRange(headerLength: UInt64, fileSize: Int)
    /// The header is not UTF-8 JSON holding an object.
    case invalidHeader(reason: String)
    /// A tensor entry lacks or mistypes `dtype`, `shape` or `data_offsets`.
    case invalidTensorEntry(name: String, reason: String)
    /// A dtype string that safetensors does not define.
    case unknownDType(name: String, dtype: String)
    /// A known dtype that cannot be converted to Float32 (e.g. `I64`).
    case unsupportedDType(name: String, dtype: String)
    /// `__metadata__` is not a string-to-string map.
    case invalidMetadata(reason: String)
    /// The byte range lies outside the data section (or ends before it begins): a truncated file.
    case offsetsOutOfRange(name: String, begin: Int, end: Int, dataSize: Int)
    /// Two tensors share bytes.
    case overlappingTensors(first: String, second: String)
    /// The byte range does not hold `shape` elements of `dtype`.
    case byteCountMismatch(name: String, shape: [Int], dtype: String, byteCount: Int)
    /// A tensor the model needs is absent.
    case missingTensor(name: String)
    /// A tensor has a different shape than the model's parameter.
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    /// The file holds tensors the model does not have (strict loading).
    case unexpectedTensors(names: [String])

    /// The problem in one line, starting with `safetensors:`.
    public var description: String {
        switch self {
        case .io(let path, let reason): "safetensors: cannot access \(path): \(reason)"
        case .fileTooSmall(let size): "safetensors: file of \(size) bytes is too small for the 8-byte header length"
        case .headerLengthOutOfRange(let n, let size):
            "safetensors: header length \(n) does not fit in a file of \(size) bytes"
        case .invalidHeader(let reason): "safetensors: invalid JSON header: \(reason)"
        case .invalidTensorEntry(let name, let reason): "safetensors: tensor '\(name)': \(reason)"
        case .unknownDType(let name, let dtype): "safetensors: tensor '\(name)' has unknown dtype '\(dtype)'"
        case .unsupportedDType(let name, let dtype):
            "safetensors: tensor '\(name)' has dtype \(dtype), which cannot be read as Float32"
        case .invalidMetadata(let reason): "safetensors: invalid __metadata__: \(reason)"
        case .offsetsOutOfRange(let name, let b, let e, let size):
            "safetensors: tensor '\(name)' byte range \(b)..<\(e) is outside the \(size)-byte data section (truncated file?)"
        case .overlappingTensors(let a, let b): "safetensors: tensors '\(a)' and '\(b)' overlap"
        case .byteCountMismatch(let name, let shape, let dtype, let n):
            "safetensors: tensor '\(name)' of shape \(shape) and dtype \(dtype) cannot occupy \(n) bytes"
        case .missingTensor(let name): "safetensors: no tensor named '\(name)'"
        case .shapeMismatch(let name, let expected, let found):
            "safetensors: tensor '\(name)' has shape \(found), expected \(expected)"
        case .unexpectedTensors(let names): "safetensors: unexpected tensors \(names.prefix(5).joined(separator: ", "))"
        }
    }
}

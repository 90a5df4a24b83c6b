import Foundation

/// Where one tensor lives in a safetensors file.
public struct SafeTensorInfo: Sendable, Equatable {
    /// The element type stored in the file; F32, F16, BF16 and F64 can be read as Float32.
    public var dtype: SafeTensorsDType
    /// The tensor's shape; `[]` for a scalar.
    public var shape: [Int]
    /// Byte range relative to the start of the data section.
    public var dataOffsets: Range<Int>
}

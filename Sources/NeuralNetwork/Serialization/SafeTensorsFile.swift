#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Foundation
import Tensors

/// A read-only safetensors file (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length, a JSON header (`name → {dtype, shape, data_offsets}` plus an optional
/// `__metadata__` string map), then the raw little-endian tensor bytes.
///
/// Files are memory-mapped; every structural problem is reported as a ``SafeTensorsError`` before
/// any tensor is read. F32, F16 and BF16 tensors convert to Float32 `Tensor`s.
public final class SafeTensorsFile: @unchecked Sendable {
    /// Tensor descriptions by name.
    public let tensors: [String: SafeTensorInfo]
    /// The `__metadata__` map (empty when absent).
    public let metadata: [String: String]
    private let bytes: UnsafeRawBufferPointer
    private let dataStart: Int
    private let release: () -> Void

    /// Memory-maps and validates the file at `path`.
    public convenience init(path: String) throws(SafeTensorsError) {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw .io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw .io(path: path, reason: String(cString: strerror(errno))) }
        let size = Int(st.st_size)
        if size == 0 { throw .fileTooSmall(size: 0) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw .io(path: path, reason: String(cString: strerror(errno)))
        }
        let buffer = UnsafeRawBufferPointer(start: base, count: size)
        try self.init(buffer: buffer) { munmap(base, size) }
    }

    /// Parses an in-memory file (copied).
    public convenience init(bytes: [UInt8]) throws(SafeTensorsError) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        copy.copyBytes(from: bytes)
        try self.init(buffer: UnsafeRawBufferPointer(start: copy.baseAddress, count: bytes.count)) { copy.deallocate() }
    }

    /// Parses a file whose bytes live in memory for as long as the program runs (a file linked into
    /// the binary, say): nothing is copied.
    public convenience init(staticBytes: UnsafeRawBufferPointer) throws(SafeTensorsError) {
        try self.init(buffer: staticBytes) {}
    }

    /// Reads a file of any kind (a pipe, a FIFO, a regular file) through one descriptor, never more
    /// than its header declares and never more than `limit` bytes: an endless input such as
    /// `/dev/zero` ends with an error at once.
    public convenience init(readingFrom path: String, limit: Int) throws(SafeTensorsError) {
        let bytes = try SafeTensorsInput(path: path).readFile(limit: limit)
        try self.init(bytes: bytes)
    }

    private init(buffer: UnsafeRawBufferPointer, release: @escaping () -> Void) throws(SafeTensorsError) {
        do {
            (tensors, metadata, dataStart) = try SafeTensorsFile.parseHeader(buffer)
        } catch {
            release()
            throw error
        }
        bytes = buffer
        self.release = release
    }

    deinit { release() }

    /// Names of all tensors, sorted.
    public var names: [String] { tensors.keys.sorted() }

    /// Runs `body` with the whole file's bytes (header included), valid only during the call.
    public func withUnsafeFileBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(bytes)
    }

    private static func parseHeader(_ buffer: UnsafeRawBufferPointer)
        throws(SafeTensorsError) -> ([String: SafeTensorInfo], [String: String], Int)
    {
        let headerLength = try headerLength(buffer, fileSize: buffer.count)
        let header = try SafeTensorsHeader(json: Data(buffer[8..<(8 + headerLength)]), dataSize: buffer.count - 8 - headerLength)
        return (header.tensors, header.metadata, 8 + headerLength)
    }

    /// The header's length from a file's first eight bytes (little-endian), checked against the
    /// file's size when known and against a 100 MB limit.
    static func headerLength(_ prefix: some Collection<UInt8>, fileSize: Int?) throws(SafeTensorsError) -> Int {
        guard prefix.count >= 8 else { throw .fileTooSmall(size: prefix.count) }
        var n: UInt64 = 0
        for (i, byte) in prefix.prefix(8).enumerated() { n |= UInt64(byte) << (8 * UInt64(i)) }
        guard n <= UInt64(max(0, (fileSize ?? Int.max) - 8)), n <= 100_000_000 else {
            throw .headerLengthOutOfRange(headerLength: n, fileSize: fileSize ?? -1)
        }
        return Int(n)
    }

    /// Reads a tensor as Float32 (F32 directly; F16, BF16 and F64 converted).
    public func tensor(named name: String) throws(SafeTensorsError) -> Tensor {
        guard let info = tensors[name] else { throw .missingTensor(name: name) }
        let count = Tensor.elementCount(info.shape)
        let src = bytes.baseAddress! + dataStart + info.dataOffsets.lowerBound
        var out = Tensor(shape: info.shape)
        switch info.dtype {
        case .f32:
            out.withUnsafeMutableBufferPointer { dst in
                // Bytes may be unaligned in the file: copy, then fix endianness (little-endian host assumed).
                UnsafeMutableRawPointer(dst.baseAddress!).copyMemory(from: src, byteCount: count * 4)
            }
        case .f16:
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<count {
                    let bits = src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                    dst[i] = Float(Float16(bitPattern: UInt16(littleEndian: bits)))
                }
            }
        case .bf16:
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<count {
                    let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    dst[i] = Float(bitPattern: UInt32(bits) << 16)
                }
            }
        case .f64:
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<count {
                    let bits = UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                    dst[i] = Float(Double(bitPattern: bits))
                }
            }
        default:
            throw .unsupportedDType(name: name, dtype: info.dtype.rawValue)
        }
        return out
    }
}

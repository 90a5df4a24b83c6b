#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Foundation
import Tensors

/// Element types defined by the safetensors format.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8"
    case bool = "BOOL", f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64, .u64: 8
        case .f32, .i32, .u32: 4
        case .f16, .bf16, .i16, .u16: 2
        case .i8, .u8, .bool, .f8e4m3, .f8e5m2: 1
        }
    }
}

/// Where one tensor lives in a safetensors file.
public struct SafeTensorInfo: Sendable, Equatable {
    public var dtype: SafeTensorsDType
    public var shape: [Int]
    /// Byte range relative to the start of the data section.
    public var dataOffsets: Range<Int>
}

/// A read-only safetensors file (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length, a JSON header (`name → {dtype, shape, data_offsets}` plus an optional
/// `__metadata__` string map), then the raw little-endian tensor bytes.
///
/// Files are memory-mapped; every structural problem is reported as a ``SafeTensorsError`` before
/// any tensor is read. F32, F16 and BF16 tensors convert to Float32 ``Tensor``s.
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

/// Writing safetensors files (F32 only).
/// A safetensors file's header: the tensor table and the metadata, parsed and validated by the one
/// parser every reader here uses (``SafeTensorsFile``, ``SafeTensorsHeader/read(path:maximumFileSize:)``).
public struct SafeTensorsHeader: Sendable {
    /// Tensor descriptions by name.
    public var tensors: [String: SafeTensorInfo]
    /// The `__metadata__` map (empty when absent).
    public var metadata: [String: String]
    /// Bytes of tensor data the header declares (the largest end offset): the file is the 8-byte
    /// length, the header and this many bytes.
    public var declaredDataSize: Int

    /// Parses the JSON header; offsets must fall within `dataSize` bytes of tensor data.
    init(json headerData: Data, dataSize: Int) throws(SafeTensorsError) {
        guard String(data: headerData, encoding: .utf8) != nil else { throw .invalidHeader(reason: "not UTF-8") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: headerData, options: [])
        } catch {
            throw .invalidHeader(reason: "\(error.localizedDescription)")
        }
        guard let object = object as? [String: Any] else { throw .invalidHeader(reason: "top level is not an object") }
        var tensors: [String: SafeTensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else { throw .invalidMetadata(reason: "not an object") }
                for (k, v) in map {
                    guard let s = v as? String else { throw .invalidMetadata(reason: "value of '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any] else { throw .invalidTensorEntry(name: name, reason: "not an object") }
            guard let dtypeString = entry["dtype"] as? String else {
                throw .invalidTensorEntry(name: name, reason: "missing or non-string 'dtype'")
            }
            guard let dtype = SafeTensorsDType(rawValue: dtypeString) else {
                throw .unknownDType(name: name, dtype: dtypeString)
            }
            guard let shapeArray = entry["shape"] as? [Any], let shape = Self.integers(shapeArray) else {
                throw .invalidTensorEntry(name: name, reason: "missing or invalid 'shape'")
            }
            guard let offsetArray = entry["data_offsets"] as? [Any], let offsets = Self.integers(offsetArray),
                  offsets.count == 2
            else {
                throw .invalidTensorEntry(name: name, reason: "missing or invalid 'data_offsets'")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end, end <= dataSize else {
                throw .offsetsOutOfRange(name: name, begin: begin, end: end, dataSize: dataSize)
            }
            var elements = 1
            for d in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw .byteCountMismatch(name: name, shape: shape, dtype: dtypeString, byteCount: end - begin) }
                elements = product
            }
            let (bytesNeeded, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, bytesNeeded == end - begin else {
                throw .byteCountMismatch(name: name, shape: shape, dtype: dtypeString, byteCount: end - begin)
            }
            tensors[name] = SafeTensorInfo(dtype: dtype, shape: shape, dataOffsets: begin..<end)
        }
        let sorted = tensors.sorted { ($0.value.dataOffsets.lowerBound, $0.key) < ($1.value.dataOffsets.lowerBound, $1.key) }
        for (a, b) in zip(sorted, sorted.dropFirst())
        where b.value.dataOffsets.lowerBound < a.value.dataOffsets.upperBound && !b.value.dataOffsets.isEmpty {
            throw .overlappingTensors(first: a.key, second: b.key)
        }
        self.tensors = tensors
        self.metadata = metadata
        self.declaredDataSize = tensors.values.map(\.dataOffsets.upperBound).max() ?? 0
    }

    private static func integers(_ values: [Any]) -> [Int]? {
        var out: [Int] = []
        for v in values {
            guard let number = v as? NSNumber, let i = Int(exactly: number.doubleValue), i >= 0
            else { return nil }
            out.append(i)
        }
        return out
    }

    /// Reads the header alone from the start of the file at `path` (a few kilobytes, whatever the
    /// file's size; any kind of file, pipes included, though a pipe's bytes are then consumed).
    /// - Throws: ``SafeTensorsError`` when it cannot be read or is not a valid header.
    public static func read(path: String) throws(SafeTensorsError) -> SafeTensorsHeader {
        let stream = try SafeTensorsInput(path: path)
        return try stream.readHeader().header
    }
}

/// Reads a safetensors file through one descriptor, never more than its header declares: the file
/// is the 8-byte length, the header, and the tensor data up to the largest end offset. An endless
/// or oversized input (`/dev/zero`, a runaway pipe) ends with an error, not a growing buffer.
struct SafeTensorsInput {
    let path: String
    let fd: Int32

    init(path: String) throws(SafeTensorsError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .io(path: path, reason: String(cString: strerror(errno))) }
        self.path = path
        self.fd = fd
    }

    /// The header and the bytes read so far (the whole prefix of the file through the header).
    func readHeader() throws(SafeTensorsError) -> (header: SafeTensorsHeader, prefix: [UInt8]) {
        defer { close(fd) }
        return try readHeaderKeepingOpen()
    }

    func readHeaderKeepingOpen() throws(SafeTensorsError) -> (header: SafeTensorsHeader, prefix: [UInt8]) {
        let lengthBytes = try read(exactly: 8)
        let length = try SafeTensorsFile.headerLength(lengthBytes, fileSize: nil)
        let json = try read(exactly: length)
        let header = try SafeTensorsHeader(json: Data(json), dataSize: Int.max)
        return (header, lengthBytes + json)
    }

    /// Reads the whole file, at most `limit` bytes, stopping at what the header declares.
    func readFile(limit: Int) throws(SafeTensorsError) -> [UInt8] {
        defer { close(fd) }
        let (header, prefix) = try readHeaderKeepingOpen()
        guard prefix.count + header.declaredDataSize <= limit else {
            throw .io(path: path, reason: "the header declares \(prefix.count + header.declaredDataSize) bytes, more than the \(limit)-byte limit")
        }
        return prefix + (try read(exactly: header.declaredDataSize))
    }

    private func read(exactly count: Int) throws(SafeTensorsError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress! + done, count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { throw .fileTooSmall(size: done) }
            done += n
        }
        return out
    }
}

public enum SafeTensors {
    /// Encodes named tensors (F32, in the given order) and a metadata map into safetensors bytes.
    public static func encode(_ tensors: [(String, Tensor)], metadata: [String: String] = [:]) -> [UInt8] {
        var header = "{"
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for (name, t) in tensors {
            precondition(name != "__metadata__", "a tensor cannot be named __metadata__")
            let size = t.count * 4
            entries.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        header += entries.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + headerBytes.count + offset)
        let n = UInt64(headerBytes.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        out += headerBytes
        for (_, t) in tensors {
            t.withUnsafeBufferPointer { p in
                out.append(contentsOf: UnsafeRawBufferPointer(p))
            }
        }
        return out
    }

    /// Writes named tensors and metadata to `path` (atomically, via a temporary file).
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:], to path: String)
        throws(SafeTensorsError)
    {
        let bytes = encode(tensors, metadata: metadata)
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .io(path: path, reason: error.localizedDescription)
        }
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension Layer {
    /// Loads parameters and buffers by `state_dict` name (with optional `prefix.`) from a safetensors file.
    ///
    /// BatchNorm's `num_batches_tracked` is ignored. With `strict`, tensors in the file that the layer
    /// does not have are an error, except those under `ignoring` (a name prefix, e.g. a checkpoint's
    /// `training.` state).
    /// - Throws: ``SafeTensorsError/missingTensor(name:)``, ``SafeTensorsError/shapeMismatch(name:expected:found:)``,
    ///   ``SafeTensorsError/unexpectedTensors(names:)`` or a conversion error. Nothing is modified on error.
    public func load(from file: SafeTensorsFile, prefix: String = "", strict: Bool = true,
                     ignoring ignoredPrefix: String? = nil) throws(SafeTensorsError) {
        let state = stateDictionary()
        var loaded: [(Parameter, Tensor)] = []
        for (name, p) in state {
            let key = prefix.isEmpty ? name : "\(prefix).\(name)"
            guard let info = file.tensors[key] else { throw .missingTensor(name: key) }
            guard info.shape == p.value.shape else {
                throw .shapeMismatch(name: key, expected: p.value.shape, found: info.shape)
            }
            loaded.append((p, try file.tensor(named: key)))
        }
        if strict {
            let known = Set(state.map { prefix.isEmpty ? $0.0 : "\(prefix).\($0.0)" })
            let extra = file.names.filter {
                !known.contains($0) && !$0.hasSuffix("num_batches_tracked") && (prefix.isEmpty || $0.hasPrefix(prefix + "."))
                    && !(ignoredPrefix.map($0.hasPrefix) ?? false)
            }
            if !extra.isEmpty { throw .unexpectedTensors(names: extra) }
        }
        for (p, t) in loaded { p.value = t }
    }

    /// Parameters and buffers as `(name, tensor)` pairs ready for ``SafeTensors/write(_:metadata:to:)``.
    public func stateTensors(prefix: String = "") -> [(String, Tensor)] {
        stateDictionary().map { (prefix.isEmpty ? $0.0 : "\(prefix).\($0.0)", $0.1.value) }
    }
}

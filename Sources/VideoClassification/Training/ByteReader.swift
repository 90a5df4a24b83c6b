import Foundation

/// Reads little-endian integers and byte runs from a buffer, nil past the end.
struct ByteReader {
    let raw: UnsafeRawBufferPointer
    var offset = 0
    init(_ raw: UnsafeRawBufferPointer) { self.raw = raw }
    var atEnd: Bool { offset == raw.count }
    mutating func bytes(_ n: Int) -> UnsafeRawBufferPointer? {
        guard n >= 0, n <= raw.count - offset else { return nil }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + n)])
    }
    mutating func integer() -> Int? {
        guard let b = bytes(8) else { return nil }
        return Int(Int64(littleEndian: b.loadUnaligned(as: Int64.self)))
    }
}

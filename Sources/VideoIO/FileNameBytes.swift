/// File names as the filesystem has them: bytes, not always UTF-8.
///
/// vidclass keeps paths as `String`s. A byte that is not part of valid UTF-8 (a name written in
/// Latin-1 by an old camera, say) is carried as the private-use character U+F700 + byte
/// (U+F780–U+F7FF), so it survives into JSON and CSV outputs and back: `--resume`, `merge` and
/// any program can recover the exact bytes. Every system call on an input path converts back
/// through ``withFileSystemPath(_:_:)``. (A name that really contains U+F780–U+F7FF is read as
/// those bytes; no such name has been seen.)
public enum FileNameBytes {
    /// The first of the 128 characters that stand for the bytes 0x80–0xFF.
    static let base: UInt32 = 0xF700

    /// A path's bytes as a `String`: valid UTF-8 decoded, any other byte as U+F700 + byte.
    public static func string<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let b = Array(bytes)
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < b.count {
            let lead = b[i]
            if lead < 0x80 {
                scalars.append(Unicode.Scalar(lead))
                i += 1
                continue
            }
            if let (scalar, length) = decode(b, at: i) {
                scalars.append(scalar)
                i += length
            } else {
                scalars.append(Unicode.Scalar(base + UInt32(lead))!)
                i += 1
            }
        }
        return String(scalars)
    }

    /// The bytes of `path` for the filesystem: UTF-8, with U+F780–U+F7FF turned back into the
    /// single bytes they stand for.
    public static func bytes(_ path: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(path.utf8.count)
        for scalar in path.unicodeScalars {
            if scalar.value >= base + 0x80 && scalar.value <= base + 0xFF {
                out.append(UInt8(scalar.value - base))
            } else {
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        return out
    }

    /// Calls `body` with `path` as the NUL-terminated bytes system calls and FFmpeg take.
    public static func withFileSystemPath<R>(_ path: String, _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        var raw = bytes(path).map { CChar(bitPattern: $0) }
        raw.append(0)
        return try raw.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// Whether `path` carries bytes that are not UTF-8.
    public static func hasRawBytes(_ path: String) -> Bool {
        path.unicodeScalars.contains { $0.value >= base + 0x80 && $0.value <= base + 0xFF }
    }

    /// One well-formed UTF-8 sequence starting at `i` (no overlong forms, no surrogates, at most
    /// U+10FFFF), or nil.
    private static func decode(_ b: [UInt8], at i: Int) -> (Unicode.Scalar, Int)? {
        let lead = b[i]
        let length: Int, minimum: UInt32
        var value: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; minimum = 0x80; value = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; minimum = 0x800; value = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; minimum = 0x10000; value = UInt32(lead & 0x07)
        default: return nil
        }
        guard i + length <= b.count else { return nil }
        for k in 1..<length {
            let c = b[i + k]
            guard c & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(c & 0x3F)
        }
        guard value >= minimum, value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value),
              let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }
}

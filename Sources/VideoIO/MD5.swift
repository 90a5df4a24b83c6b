import CFFmpeg

/// MD5 through libavutil (`av_md5_sum`), the digest `ffmpeg -f framemd5` uses.
public enum MD5 {
    /// The lowercase hex MD5 of `bytes`.
    public static func hex(of bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { hex(of: $0) }
    }

    /// The lowercase hex MD5 of the bytes in `buffer`.
    public static func hex(of buffer: UnsafeRawBufferPointer) -> String {
        var digest = [UInt8](repeating: 0, count: 16)
        av_md5_sum(&digest, buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), buffer.count)
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(32)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

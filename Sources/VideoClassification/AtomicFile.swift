import Foundation

/// Whole-file writes that readers never see half done: the bytes go to a temporary file beside
/// the target (named per process, so writers of the same path do not collide), optionally flushed
/// to disk, then renamed over it with `rename(2)`.
package enum AtomicFile {
    /// Writes `bytes` to `path`; with `durable`, the data reaches the disk before the rename, so a
    /// crash leaves either the old file or the whole new one.
    /// - Throws: the failing call's `errno` description; the temporary file is removed then.
    package static func write<Bytes: ContiguousBytes>(_ bytes: Bytes, to path: String, durable: Bool) throws(AtomicFileError) {
        let temporary = path + ".\(getpid()).\(UInt64.random(in: 0...UInt64.max)).partial"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AtomicFileError(errno) }
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                offset += n
            }
        }
        if failure == 0 && durable && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == 0 && rename(temporary, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw AtomicFileError(failure)
        }
    }
}

/// Why ``AtomicFile/write(_:to:durable:)`` failed.
package struct AtomicFileError: Error, CustomStringConvertible {
    let code: Int32
    init(_ code: Int32) { self.code = code }
    package var description: String { String(cString: strerror(code)) }
}

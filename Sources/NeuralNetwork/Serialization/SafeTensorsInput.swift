#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Foundation

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

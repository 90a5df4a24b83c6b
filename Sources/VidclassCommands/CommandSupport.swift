import ArgumentParser
import Dispatch
import Foundation
import VidclassConcurrency
import VideoClassification

/// Writes one line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// JSON with sorted keys, pretty-printed, for `--format json` outputs.
func jsonString<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Checks a count option: at least 1, the message naming the option alone.
func requirePositive(_ value: Int, _ option: String) throws {
    guard value >= 1 else { throw ValidationError("\(option) must be at least 1, got \(value)") }
}

/// Checks a `--clips` value against ``InputSpecification/usableClips``.
func requireUsableClips(_ clips: Int) throws {
    let range = InputSpecification.usableClips
    guard range.contains(clips) else { throw ValidationError("--clips must be from \(range.lowerBound) to \(range.upperBound), got \(clips)") }
}

/// Checks a duration or size option: a finite number above zero, the message naming the option.
func requirePositive(_ value: Double, _ option: String) throws {
    guard value.isFinite, value > 0 else { throw ValidationError("\(option) must be a finite number above 0, got \(value)") }
}

/// Exit statuses shared by the commands.
enum ExitStatus {
    /// Some inputs failed (each one was reported); the others were processed.
    static let someFailed = ExitCode(1)
}

/// An input path as the commands read it. `-` (standard input) up to ``memoryLimit`` bytes is
/// kept in memory and decoded through FFmpeg's custom I/O, with no file at all; a larger input
/// (or one a command needs as a file) is spooled to a temporary file, because sampling needs a
/// seekable input. Anything else is used as it is.
///
/// The spool is bounded (``maximumBytes``, `VIDCLASS_MAX_STDIN_BYTES` overrides it) and removed on
/// every way out: ``remove()``, an error while copying, and SIGINT, SIGTERM or SIGHUP (the file is
/// removed, then the signal takes its default course). Errors name the input `-`.
struct InputSpool {
    /// The file to read: the argument itself, or the spool; `-` when the input is in ``bytes``.
    let path: String
    /// Standard input, when it was small enough to keep in memory.
    let bytes: [UInt8]?
    private let temporary: Bool

    /// The largest standard input spooled: 4 GiB unless `VIDCLASS_MAX_STDIN_BYTES` says otherwise.
    static var maximumBytes: Int {
        ProcessInfo.processInfo.environment["VIDCLASS_MAX_STDIN_BYTES"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? (4 << 30)
    }

    /// The largest standard input kept in memory instead of spooled (256 MiB).
    static let memoryLimit = 256 << 20

    /// - Parameter inMemoryUpTo: keep standard input in memory when it is at most this many bytes
    ///   (0: always spool, for commands that need a file).
    init(_ argument: String, inMemoryUpTo memoryLimit: Int = 0) throws {
        guard argument == "-" else {
            path = argument
            bytes = nil
            temporary = false
            return
        }
        let limit = Self.maximumBytes
        var buffered = try Self.read(upTo: min(memoryLimit, limit) + 1, limit: limit)
        if buffered.count <= memoryLimit {
            path = "-"
            bytes = buffered
            temporary = false
            return
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vidclass-stdin-\(UUID().uuidString)")
        path = url.path
        bytes = nil
        temporary = true
        TemporaryFiles.shared.add(path)
        do {
            try copyStandardInput(after: &buffered, limit: limit)
        } catch {
            remove()
            throw error
        }
    }

    /// Reads standard input until `count` bytes or its end.
    private static func read(upTo count: Int, limit: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while out.count < count {
            let chunk = try nextChunk(&buffer, maximum: count - out.count, total: out.count, limit: limit)
            if chunk.isEmpty { break }
            out.append(contentsOf: chunk)
        }
        return out
    }

    private func copyStandardInput(after buffered: inout [UInt8], limit: Int) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ValidationError("-: cannot create a temporary file for standard input in \(FileManager.default.temporaryDirectory.path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var total = buffered.count
        try writeAll(buffered[...], to: fd)
        buffered = []
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let chunk = try Self.nextChunk(&buffer, maximum: buffer.count, total: total, limit: limit)
            if chunk.isEmpty { break }
            total += chunk.count
            try writeAll(chunk, to: fd)
        }
    }

    /// The next chunk of standard input (at most `maximum` bytes, read into `buffer`); empty at its
    /// end. Fails when it would take the input past `limit` bytes, `total` having been read.
    private static func nextChunk(_ buffer: inout [UInt8], maximum: Int, total: Int, limit: Int) throws -> ArraySlice<UInt8> {
        while true {
            let n = buffer.withUnsafeMutableBytes { Foundation.read(STDIN_FILENO, $0.baseAddress, min($0.count, maximum)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ValidationError("-: cannot read standard input: \(String(cString: strerror(errno)))")
            }
            guard total + n <= limit else {
                throw ValidationError("-: standard input is larger than \(limit) bytes (VIDCLASS_MAX_STDIN_BYTES); save it to a file and classify that")
            }
            return buffer[0..<n]
        }
    }

    private func writeAll(_ bytes: ArraySlice<UInt8>, to fd: Int32) throws {
        var written = 0
        while written < bytes.count {
            let w = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if w < 0 {
                if errno == EINTR { continue }
                throw ValidationError("-: cannot spool standard input to \(path): \(String(cString: strerror(errno)))")
            }
            written += w
        }
    }

    func remove() {
        guard temporary else { return }
        unlink(path)
        TemporaryFiles.shared.remove(path)
    }
}

/// Temporary files to remove if a signal ends the process: SIGINT, SIGTERM and SIGHUP remove
/// them, then take their default course (the exit status says which signal it was).
final class TemporaryFiles: Sendable {
    static let shared = TemporaryFiles()
    private let paths = Locked<Set<String>>([])
    private let sources = Locked<[DispatchSourceSignal]>([])

    func add(_ path: String) {
        paths.withLock { _ = $0.insert(path) }
        sources.withLock { sources in
            guard sources.isEmpty else { return }
            for number in [SIGINT, SIGTERM, SIGHUP] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { [self] in
                    for path in paths.withLock({ $0 }) { unlink(path) }
                    signal(number, SIG_DFL)
                    raise(number)
                }
                source.resume()
                sources.append(source)
            }
        }
    }

    func remove(_ path: String) {
        paths.withLock { _ = $0.remove(path) }
    }
}

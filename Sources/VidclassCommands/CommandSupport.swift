import ArgumentParser
import Dispatch
import Foundation
import VidclassConcurrency

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

/// Checks a duration or size option: a finite number above zero, the message naming the option.
func requirePositive(_ value: Double, _ option: String) throws {
    guard value.isFinite, value > 0 else { throw ValidationError("\(option) must be a finite number above 0, got \(value)") }
}

/// Exit statuses shared by the commands.
enum ExitStatus {
    /// Some inputs failed (each one was reported); the others were processed.
    static let someFailed = ExitCode(1)
}

/// An input path as the commands read it: `-` (standard input) is first copied to a temporary
/// file, because sampling needs a seekable input; anything else is used as it is.
///
/// The copy is bounded (``maximumBytes``, `VIDCLASS_MAX_STDIN_BYTES` overrides it) and removed on
/// every way out: ``remove()``, an error while copying, and SIGINT, SIGTERM or SIGHUP (the file is
/// removed, then the signal takes its default course). Errors name the input `-`.
struct InputSpool {
    let path: String
    private let temporary: Bool

    /// The largest standard input spooled: 4 GiB unless `VIDCLASS_MAX_STDIN_BYTES` says otherwise.
    static var maximumBytes: Int {
        ProcessInfo.processInfo.environment["VIDCLASS_MAX_STDIN_BYTES"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? (4 << 30)
    }

    init(_ argument: String) throws {
        guard argument == "-" else {
            path = argument
            temporary = false
            return
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vidclass-stdin-\(UUID().uuidString)")
        path = url.path
        temporary = true
        TemporaryFiles.shared.add(path)
        do {
            try copyStandardInput(limit: Self.maximumBytes)
        } catch {
            remove()
            throw error
        }
    }

    private func copyStandardInput(limit: Int) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ValidationError("-: cannot create a temporary file for standard input in \(FileManager.default.temporaryDirectory.path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ValidationError("-: cannot read standard input: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            total += n
            guard total <= limit else {
                throw ValidationError("-: standard input is larger than \(limit) bytes (VIDCLASS_MAX_STDIN_BYTES); save it to a file and classify that")
            }
            var written = 0
            while written < n {
                let w = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + written, n - written) }
                if w < 0 {
                    if errno == EINTR { continue }
                    throw ValidationError("-: cannot spool standard input to \(path): \(String(cString: strerror(errno)))")
                }
                written += w
            }
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

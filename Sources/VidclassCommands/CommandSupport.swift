import ArgumentParser
import Foundation

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

/// Exit statuses shared by the commands.
enum ExitStatus {
    /// Some inputs failed (each one was reported); the others were processed.
    static let someFailed = ExitCode(1)
}

/// An input path as the commands read it: `-` (standard input) is first copied to a temporary
/// file, because sampling needs a seekable input; anything else is used as it is.
struct InputSpool {
    let path: String
    private let temporary: Bool

    init(_ argument: String) throws {
        guard argument == "-" else {
            path = argument
            temporary = false
            return
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vidclass-stdin-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: url.path, contents: nil), let handle = FileHandle(forWritingAtPath: url.path) else {
            throw ValidationError("cannot create a temporary file for standard input")
        }
        defer { try? handle.close() }
        while let chunk = try FileHandle.standardInput.read(upToCount: 1 << 20), !chunk.isEmpty {
            try handle.write(contentsOf: chunk)
        }
        path = url.path
        temporary = true
    }

    func remove() {
        if temporary { try? FileManager.default.removeItem(atPath: path) }
    }
}

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

import Foundation

/// The output file of a batch: JSON Lines or CSV, appended one whole line per file with a single
/// `write`, so a crash or `kill -9` loses at most the files in flight and leaves no torn line that
/// later runs would trip on (a torn tail from an earlier crash is cut off before appending).
public final class LabelOutput {
    public enum Format: String, Sendable, CaseIterable { case jsonl, csv }

    public let path: String
    public let format: Format
    /// Keys already recorded (with `resume`).
    public private(set) var recorded: Set<FileKey> = []
    private let descriptor: Int32
    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// Opens (creates) the output. With `resume`, reads what is recorded and refuses an output
    /// written with another model; without it, an existing file is replaced.
    /// - Throws: ``VideoClassificationError`` (`ioError`) for an unwritable path or a model mismatch.
    public init(path: String, format: Format, resume: Bool, modelHash: String) throws {
        self.path = path
        self.format = format
        if resume, let data = FileManager.default.contents(atPath: path), !data.isEmpty {
            var bytes = [UInt8](data)
            if bytes.last != UInt8(ascii: "\n") {
                // A torn last line from an interrupted run: drop it (that file is labelled again).
                let cut = (bytes.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
                bytes.removeSubrange(cut...)
                guard truncate(path, off_t(cut)) == 0 else {
                    throw VideoClassificationError(.ioError, path: path, message: "cannot repair the torn last line: \(String(cString: strerror(errno)))")
                }
            }
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                let record: LabelRecord?
                switch format {
                case .jsonl: record = try? JSONDecoder().decode(LabelRecord.self, from: Data(line.utf8))
                case .csv: record = line.hasPrefix("path,") ? nil : LabelRecord.parseCSV(String(line))
                }
                guard let record else { continue }
                if record.modelHash != modelHash {
                    throw VideoClassificationError(.ioError, path: path,
                                                   message: "was written with model \(record.modelHash), this run uses \(modelHash): refusing to mix models in one output (use another --output)")
                }
                recorded.insert(record.key)
            }
        } else {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw VideoClassificationError(.ioError, path: path, message: "cannot open for writing: \(String(cString: strerror(errno)))")
        }
        if format == .csv && lseek(descriptor, 0, SEEK_END) == 0 {
            try writeLine(LabelRecord.csvHeader)
        }
    }

    deinit { close(descriptor) }

    /// Appends one record as one line.
    public func append(_ record: LabelRecord) throws {
        switch format {
        case .jsonl: try writeLine(String(decoding: try encoder.encode(record), as: UTF8.self))
        case .csv: try writeLine(record.csvLine)
        }
        recorded.insert(record.key)
    }

    private func writeLine(_ line: String) throws {
        let bytes = Array((line + "\n").utf8)
        let end = lseek(descriptor, 0, SEEK_END)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                // A full disk can take part of a line: cut it off, so the file ends with a whole record.
                if written > 0 && end >= 0 { _ = ftruncate(descriptor, end) }
                throw VideoClassificationError(.ioError, path: path, message: "write failed: \(reason)")
            }
            written += n
        }
    }
}

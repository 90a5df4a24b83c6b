import Foundation
import NeuralNetwork

/// The output file of a batch: JSON Lines or CSV, appended one whole line per file with a single
/// `write`, so a crash or `kill -9` loses at most the files in flight and leaves no torn line that
/// later runs would trip on (a torn tail from an earlier crash is cut off before appending).
public final class LabelOutput {
    /// The file format: JSON Lines (one ``LabelRecord`` object per line) or CSV with a header.
    public enum Format: String, Sendable, CaseIterable { case jsonl, csv }

    /// The output file.
    public let path: String
    /// JSON Lines or CSV.
    public let format: Format
    /// Keys already recorded (with `resume`).
    public private(set) var recorded: Set<FileKey> = []
    private let descriptor: Int32
    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// Opens (creates) the output and takes an exclusive lock on it for as long as this value
    /// lives: a second writer gets an error naming the process that holds it, never lost or
    /// duplicated records.
    ///
    /// - With `resume`, reads what is recorded (repairing a torn last line) and refuses an output
    ///   written with another model; with `retryFailed` too, `error` and `timeout` records do not
    ///   count as done, so those files are labelled again (the new record follows the old one;
    ///   the last record of a file is the one that holds).
    /// - Without `resume`, an existing output that holds anything is refused unless `overwrite`,
    ///   which empties it first: nothing is replaced silently.
    /// - Throws: ``VideoClassificationError`` (`ioError`) for an unwritable path, a locked output,
    ///   an existing output without `resume` or `overwrite`, or a model mismatch.
    /// - Parameters:
    ///   - path: the output file (created when missing; must be a regular file).
    ///   - format: JSON Lines or CSV.
    ///   - resume: keep what is recorded and skip those files.
    ///   - overwrite: empty an existing output that holds results (without `resume`).
    ///   - retryFailed: with `resume`, label the `error` and `timeout` files again.
    ///   - waitForLock: wait while another process holds the output instead of failing.
    ///   - modelHash: the hash of the model this run labels with (a resumed output must match it).
    ///   - clips: the clips this run averages per file (``VideoClassifier/clips``); a resumed JSON
    ///     Lines output must have been labelled with as many (CSV does not record them).
    ///   - precision: the arithmetic this run's network uses (``VideoClassifier/precision``); a
    ///     resumed JSON Lines output must have been labelled in the same.
    public init(path: String, format: Format, resume: Bool, overwrite: Bool = false, retryFailed: Bool = false,
                waitForLock: Bool = false, modelHash: String, clips: Int = 1, precision: InferencePrecision = .float32) throws {
        self.path = path
        self.format = format
        var status = stat()
        if stat(path, &status) == 0, (status.st_mode & S_IFMT) != S_IFREG {
            throw VideoClassificationError(.ioError, path: path, message: "is not a regular file: the output must be one")
        }
        descriptor = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw VideoClassificationError(.ioError, path: path, message: "cannot open for writing: \(String(cString: strerror(errno)))")
        }
        do {
            try lock(wait: waitForLock)
            let size = lseek(descriptor, 0, SEEK_END)
            if !resume && size > 0 {
                guard overwrite else {
                    throw VideoClassificationError(.ioError, path: path,
                                                   message: "already holds results: continue it with --resume, or replace it with --overwrite")
                }
                guard ftruncate(descriptor, 0) == 0 else {
                    throw VideoClassificationError(.ioError, path: path, message: "cannot empty it: \(String(cString: strerror(errno)))")
                }
            }
            if resume && size > 0 { try readRecorded(modelHash: modelHash, clips: clips, precision: precision, retryFailed: retryFailed) }
            if format == .csv && lseek(descriptor, 0, SEEK_END) == 0 {
                try writeLine(LabelRecord.csvHeader)
            }
        } catch {
            close(descriptor)
            throw error
        }
    }

    /// An exclusive POSIX record lock on the whole file (released when the process ends, however
    /// it ends).
    private func lock(wait: Bool) throws {
        var request = flock()
        request.l_type = Int16(F_WRLCK)
        request.l_whence = Int16(SEEK_SET)
        request.l_start = 0
        request.l_len = 0
        if wait {
            while fcntl(descriptor, F_SETLKW, &request) != 0 {
                guard errno == EINTR else {
                    throw VideoClassificationError(.ioError, path: path, message: "cannot lock it: \(String(cString: strerror(errno)))")
                }
            }
            return
        }
        if fcntl(descriptor, F_SETLK, &request) == 0 { return }
        let reason = errno
        guard reason == EAGAIN || reason == EACCES else {
            throw VideoClassificationError(.ioError, path: path, message: "cannot lock it: \(String(cString: strerror(reason)))")
        }
        var holder = flock()
        holder.l_type = Int16(F_WRLCK)
        holder.l_whence = Int16(SEEK_SET)
        let pid = fcntl(descriptor, F_GETLK, &holder) == 0 && holder.l_type != Int16(F_UNLCK) ? " (process \(holder.l_pid))" : ""
        throw VideoClassificationError(.ioError, path: path,
                                       message: "is being written by another vidclass run\(pid): one writer per output; wait for it, or choose another --output")
    }

    private func readRecorded(modelHash: String, clips: Int, precision: InferencePrecision, retryFailed: Bool) throws {
        // Read through the locked descriptor: opening and closing the file again in this process
        // would release the POSIX lock.
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(bytes.count)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw VideoClassificationError(.ioError, path: path, message: "cannot read it: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        guard !bytes.isEmpty else { return }
        if bytes.last != UInt8(ascii: "\n") {
            // A torn last line from an interrupted run: drop it (that file is labelled again).
            let cut = (bytes.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
            bytes.removeSubrange(cut...)
            guard ftruncate(descriptor, off_t(cut)) == 0 else {
                throw VideoClassificationError(.ioError, path: path, message: "cannot repair the torn last line: \(String(cString: strerror(errno)))")
            }
        }
        var latest: [String: LabelRecord] = [:]
        let text = String(decoding: bytes, as: UTF8.self)
        let parsed: [LabelRecord?]
        switch format {
        case .jsonl: parsed = text.split(separator: "\n").map { try? JSONDecoder().decode(LabelRecord.self, from: Data($0.utf8)) }
        case .csv: parsed = CSV.records(text).map { $0.first == "path" ? nil : LabelRecord(csvFields: $0) }
        }
        for record in parsed {
            guard let record else { continue }
            if record.modelHash != modelHash {
                throw VideoClassificationError(.ioError, path: path,
                                               message: "was written with model \(record.modelHash), this run uses \(modelHash): refusing to mix models in one output (use another --output)")
            }
            if format == .jsonl, record.status == .ok, (record.clips?.count ?? 1) != clips {
                throw VideoClassificationError(.ioError, path: path,
                                               message: "was labelled with \(record.clips?.count ?? 1) clip(s) a file, this run averages \(clips): refusing to mix them in one output (use the same --clips, or another --output)")
            }
            let recordedPrecision = record.inferencePrecision ?? InferencePrecision.float32.rawValue
            if format == .jsonl, record.status == .ok, recordedPrecision != precision.rawValue {
                throw VideoClassificationError(.ioError, path: path,
                                               message: "was labelled in \(recordedPrecision), this run computes in \(precision.rawValue): refusing to mix them in one output (use the same --precision, or another --output)")
            }
            latest[record.path] = record
        }
        for record in latest.values where !(retryFailed && record.status != .ok) {
            recorded.insert(record.key)
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

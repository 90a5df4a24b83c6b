import Foundation
import VideoIO

/// The records of one `vidclass label` output, JSON Lines or CSV, read back: what `vidclass
/// report` shows and what `vidclass train` and `evaluate` accept as a dataset (the model's labels,
/// with a person's ``LabelCorrections`` on top).
public struct LabelResults: Sendable {
    /// The output file.
    public var path: String
    /// One record per labelled file, in the order of the file; a later record of the same file
    /// replaces an earlier one (a retried error), but an `ok` record is never replaced by a failure
    /// (the rule of ``LabelMerge``).
    public var records: [LabelRecord]
    /// Lines that are not label records (1-based line numbers), reported, never dropped silently.
    public var unusableLines: [Int]

    /// Whether `path` looks like a label output: a `.jsonl` name, or a CSV whose header is the one
    /// `vidclass label --format csv` writes.
    public static func isLabelOutput(_ path: String) -> Bool {
        if path.lowercased().hasSuffix(".jsonl") { return true }
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = String(decoding: handle.readData(ofLength: LabelRecord.csvHeader.utf8.count), as: UTF8.self)
        return head == LabelRecord.csvHeader
    }

    /// Reads a label output.
    /// - Throws: ``VideoClassificationError`` (`ioError`) when the file cannot be read,
    ///   (`invalidDataset`) when no line of it is a label record.
    public init(contentsOf path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw VideoClassificationError(.ioError, path: path, message: "cannot read it", underlying: error)
        }
        try self.init(text: text, path: path)
    }

    /// Records read elsewhere (for example from `classify --format json`), kept as they are.
    public init(path: String, records: [LabelRecord]) {
        self.path = path
        self.records = records
        self.unusableLines = []
    }

    /// Parses the text of a label output (`path` names it in errors).
    public init(text: String, path: String) throws {
        self.path = path
        var order: [String] = [], chosen: [String: LabelRecord] = [:], unusable: [Int] = []
        func add(_ record: LabelRecord) {
            if let previous = chosen[record.path] {
                if previous.status == .ok && record.status != .ok { return }
            } else {
                order.append(record.path)
            }
            chosen[record.path] = record
        }
        if text.hasPrefix(LabelRecord.csvHeader) {
            for (number, fields) in CSV.records(text).enumerated().dropFirst() {
                if fields.count == 1 && fields[0].isEmpty { continue }
                guard let record = LabelRecord(csvFields: fields) else { unusable.append(number + 1); continue }
                add(record)
            }
        } else {
            let decoder = JSONDecoder()
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where !line.allSatisfy(\.isWhitespace) {
                guard let record = try? decoder.decode(LabelRecord.self, from: Data(line.utf8)) else {
                    unusable.append(number + 1)
                    continue
                }
                add(record)
            }
        }
        if order.isEmpty {
            throw VideoClassificationError(.invalidDataset, path: path,
                                           message: "no label records in it (expected the JSON Lines or CSV that `vidclass label` writes)")
        }
        records = order.map { chosen[$0]! }
        unusableLines = unusable
    }

    /// Where a record's file is (``resolve(_:recordedIn:)``).
    public func resolvedPath(_ record: LabelRecord) -> String {
        Self.resolve(record.path, recordedIn: path)
    }

    /// Where a file named in a results file is: the name as written when that exists (relative to
    /// the current directory, where the command most likely ran), else relative to the results
    /// file's folder; the name as written when neither exists.
    public static func resolve(_ name: String, recordedIn results: String) -> String {
        func exists(_ path: String) -> Bool { FileNameBytes.withFileSystemPath(path, { access($0, F_OK) }) == 0 }
        if name.hasPrefix("/") || exists(name) { return name }
        let base = (results as NSString).deletingLastPathComponent
        let beside = base.isEmpty ? name : base + "/" + name
        return exists(beside) ? beside : name
    }
}

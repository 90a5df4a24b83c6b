import Foundation

/// Joins outputs of `vidclass label` (for example one per shard) into one: `vidclass merge` as a
/// library call.
///
/// One record per file: a later record of a file supersedes an earlier one (a retried error), but
/// an `ok` record is never replaced by a failure. Lines that are not label records are reported,
/// never dropped silently.
public enum LabelMerge {
    /// A line of an input that is not a label record.
    public struct UnusableLine: Sendable, Equatable, CustomStringConvertible {
        public var file: String
        /// 1-based.
        public var line: Int
        /// The line's first characters.
        public var excerpt: String

        public var description: String { "\(file):\(line): not a label record (JSON Lines from `vidclass label`): \(excerpt)" }
    }

    /// What merging found.
    public struct Result: Sendable {
        /// The chosen line of each file, in the order the files first appear.
        public var lines: [String]
        /// Records dropped because another record of the same file was kept.
        public var superseded: Int
        public var unusable: [UnusableLine]
        /// The model hashes the records were written with (more than one: the inputs do not belong together).
        public var modelHashes: Set<String>
    }

    /// Reads and merges the JSON Lines outputs at `inputs`.
    /// - Throws: ``VideoClassificationError`` (`ioError`) when an input cannot be read.
    public static func merge(_ inputs: [String]) throws -> Result {
        var order: [String] = [], chosen: [String: (record: LabelRecord, line: String)] = [:]
        var result = Result(lines: [], superseded: 0, unusable: [], modelHashes: [])
        for input in inputs {
            let text: String
            do {
                text = try String(contentsOfFile: input, encoding: .utf8)
            } catch {
                throw VideoClassificationError(.ioError, path: input, message: "cannot read it", underlying: error)
            }
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
                guard let record = try? JSONDecoder().decode(LabelRecord.self, from: Data(line.utf8)) else {
                    result.unusable.append(UnusableLine(file: input, line: number + 1, excerpt: String(line.prefix(60))))
                    continue
                }
                result.modelHashes.insert(record.modelHash)
                if let previous = chosen[record.path] {
                    result.superseded += 1
                    if previous.record.status == .ok && record.status != .ok { continue }
                } else {
                    order.append(record.path)
                }
                chosen[record.path] = (record, String(line))
            }
        }
        result.lines = order.map { chosen[$0]!.line }
        return result
    }
}

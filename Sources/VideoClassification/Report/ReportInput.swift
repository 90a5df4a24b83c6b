import Foundation
import VideoIO

/// One results file `vidclass report` reads, recognized by its content.
public enum ReportInput: Sendable {
    /// A `vidclass label` output (JSON Lines or CSV).
    case labels(LabelResults)
    /// A `vidclass evaluate --format json` result.
    case evaluation(path: String, report: ClassificationReport)
    /// A `vidclass classify --timeline --format json` result.
    case timelines(path: String, timelines: [TimelineResult])

    /// The file it was read from.
    public var path: String {
        switch self {
        case .labels(let results): return results.path
        case .evaluation(let path, _), .timelines(let path, _): return path
        }
    }

    /// The output of `vidclass classify --format json` (without `--timeline`): read as labels.
    private struct ClassifyOutput: Decodable {
        var path: String
        var labels: [LabelScore]
        var frames: [UsedFrame]
        var model: String
        var modelHash: String
    }

    /// Reads a results file and tells what it is.
    /// - Throws: ``VideoClassificationError`` (`ioError`) when it cannot be read, (`invalidDataset`)
    ///   when it is none of the outputs above.
    public static func load(_ path: String) throws -> ReportInput {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw VideoClassificationError(.ioError, path: path, message: "cannot read it", underlying: error)
        }
        let text = String(decoding: data, as: UTF8.self)
        let start = text.first { !$0.isWhitespace }
        let decoder = JSONDecoder()
        if start == "[" {
            if let timelines = try? decoder.decode([TimelineResult].self, from: data) {
                return .timelines(path: path, timelines: timelines)
            }
            if let outputs = try? decoder.decode([ClassifyOutput].self, from: data) {
                return .labels(LabelResults(path: path, records: outputs.compactMap { output in
                    guard let first = output.labels.first else { return nil }
                    let key = FileKey.of(output.path)
                    return LabelRecord(path: output.path, status: .ok, label: first.label, score: first.score, top: output.labels,
                                       frames: output.frames, model: output.model, modelHash: output.modelHash,
                                       size: key.size, mtime: key.mtime)
                }))
            }
            throw VideoClassificationError(.invalidDataset, path: path,
                                           message: "a JSON array that is neither `classify --format json` nor `classify --timeline --format json` output")
        }
        if start == "{", let report = try? decoder.decode(ClassificationReport.self, from: data) {
            return .evaluation(path: path, report: report)
        }
        if start == "{", (try? decoder.decode(TimelineScore.self, from: data)) != nil {
            throw VideoClassificationError(
                .invalidDataset, path: path,
                message: "is `evaluate --timeline` output (scores, not timelines): report the `classify --timeline --format json` output of the videos instead")
        }
        do {
            return .labels(try LabelResults(text: text, path: path))
        } catch {
            throw VideoClassificationError(
                .invalidDataset, path: path,
                message: "not a vidclass result: expected `label` output (JSONL or CSV), `evaluate --format json` or `classify [--timeline] --format json`")
        }
    }
}

import Foundation
import VideoIO

/// Everything the report page shows, as it is written to `data.js` (JSON).
struct PageData: Encodable {
    struct Source: Encodable {
        var path: String
        var kind: String
        var count: Int
    }

    /// A row of `label` results.
    struct Item: Encodable {
        var path: String
        /// Canonical absolute path: the key corrections use, and the link to the video.
        var abs: String
        var status: String
        var label: String?
        var score: Double?
        var top: [LabelScore]?
        var frames: [UsedFrame]?
        var duration: Double?
        var error: String?
        var thumb: String?
        var thumbError: String?
        var source: Int
        /// The size and modification time the record was made with (not written).
        var recorded: (size: Int, mtime: Double)?

        private enum CodingKeys: String, CodingKey {
            case path, abs, status, label, score, top, frames, duration, error, thumb, thumbError, source
        }
    }

    struct EvaluationClip: Encodable {
        var path: String
        var abs: String
        /// For a stretch of a long video: where it starts and ends (seconds).
        var start: Double?
        var end: Double?
        var truth: String
        var predicted: String
        var confidence: Double
        var frames: [UsedFrame]?
        var thumb: String?
        var thumbError: String?
    }

    struct Evaluation: Encodable {
        var source: Int
        var labels: [String]
        var count: Int
        var top1: Double
        var top5: Double
        var meanClassAccuracy: Double
        var perClass: [ClassificationReport.ClassMetrics]
        var confusion: [[Int]]
        var clips: [EvaluationClip]
        var picture: String?
    }

    struct Timeline: Encodable {
        var source: Int
        var path: String
        var abs: String
        var window: Double?
        var stride: Double?
        /// `[start, end, label, score]` of each window's top label, compact for long videos.
        var windows: [[Value]]
    }

    /// A number or a string in a compact row.
    enum Value: Encodable {
        case number(Double), text(String)
        func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .number(let n): try container.encode((n * 1000).rounded() / 1000)
            case .text(let t): try container.encode(t)
            }
        }
    }

    var title: String
    var version = vidclassVersion
    var generated: String
    /// Identity of the report's inputs (the corrections a page keeps are kept per report).
    var id: String
    var sources: [Source] = []
    /// Every class name seen, sorted: what a correction can choose.
    var classes: [String] = []
    var items: [Item] = []
    var evaluations: [Evaluation] = []
    var timelines: [Timeline] = []
    var warnings: [String] = []
    /// The inputs, kept for the pictures; not written.
    var inputs: [ReportInput] = []

    private enum CodingKeys: String, CodingKey {
        case title, version, generated, id, sources, classes, items, evaluations, timelines, warnings
    }

    init(inputs: [ReportInput], title: String) throws {
        self.title = title
        self.inputs = inputs
        let formatter = ISO8601DateFormatter()
        generated = formatter.string(from: Date())
        var classes = Set<String>()
        var itemIndex: [String: Int] = [:]
        for (n, input) in inputs.enumerated() {
            switch input {
            case .labels(let results):
                sources.append(Source(path: results.path, kind: "labels", count: results.records.count))
                if !results.unusableLines.isEmpty {
                    warnings.append("\(results.path): \(results.unusableLines.count) line(s) are not label records (first: line \(results.unusableLines[0]))")
                }
                for record in results.records {
                    let abs = FileKey.canonicalPath(results.resolvedPath(record))
                    let item = Item(path: record.path, abs: abs, status: record.status.rawValue, label: record.label, score: record.score,
                                    top: record.top, frames: record.frames, duration: record.duration, error: record.error, source: n,
                                    recorded: record.size >= 0 && record.mtime > 0 ? (record.size, record.mtime) : nil)
                    if let label = record.label { classes.insert(label) }
                    for score in record.top ?? [] { classes.insert(score.label) }
                    // Several outputs of one run (shards) join; the rule of `vidclass merge`.
                    if let existing = itemIndex[abs] {
                        if items[existing].status == "ok" && item.status != "ok" { continue }
                        items[existing] = item
                    } else {
                        itemIndex[abs] = items.count
                        items.append(item)
                    }
                    if let windows = record.timeline, !windows.isEmpty {
                        timelines.append(Timeline(source: n, path: record.path, abs: abs, window: nil, stride: nil,
                                                  windows: Self.rows(windows)))
                    }
                }
            case .evaluation(let path, let report):
                sources.append(Source(path: path, kind: "evaluation", count: report.count))
                classes.formUnion(report.labels)
                let clips = (report.clips ?? report.misclassified.map {
                    ClassificationReport.Clip(path: $0.path, truth: $0.truth, predicted: $0.predicted, confidence: $0.confidence)
                }).map { clip in
                    EvaluationClip(path: clip.path, abs: FileKey.canonicalPath(LabelResults.resolve(clip.path, recordedIn: path)),
                                   start: clip.start, end: clip.end, truth: clip.truth, predicted: clip.predicted, confidence: clip.confidence, frames: clip.frames)
                }
                if report.clips == nil {
                    warnings.append("\(path): written by an older vidclass; only the misclassified clips are listed")
                }
                evaluations.append(Evaluation(source: n, labels: report.labels, count: report.count, top1: report.top1, top5: report.top5,
                                              meanClassAccuracy: report.meanClassAccuracy, perClass: report.perClass,
                                              confusion: report.confusion, clips: clips))
            case .timelines(let path, let list):
                sources.append(Source(path: path, kind: "timelines", count: list.count))
                for t in list {
                    for w in t.windows { classes.formUnion(w.scores.map(\.label)) }
                    timelines.append(Timeline(source: n, path: t.path,
                                              abs: FileKey.canonicalPath(LabelResults.resolve(t.path, recordedIn: path)),
                                              window: t.window, stride: t.stride, windows: Self.rows(t.windows)))
                }
            }
        }
        self.classes = classes.sorted()
        // The page keeps corrections per report under this id: the same inputs rebuilt (with
        // --overwrite, or another shard added to a file) keep what a person corrected.
        id = MD5.hex(of: Array(sources.map { FileKey.canonicalPath($0.path) }.sorted().joined(separator: "\n").utf8))
    }

    static func rows(_ windows: [TimelineWindow]) -> [[Value]] {
        windows.map { [.number($0.start), .number($0.end), .text($0.top.label), .number($0.top.score)] }
    }
}

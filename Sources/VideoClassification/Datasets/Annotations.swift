import Foundation
import VideoIO

/// A labelled stretch of a long video: one row of an annotation CSV
/// (`path,start,end,label[,split][,group]`).
public struct AnnotatedInterval: Sendable, Codable, Hashable {
    /// The video (resolved: absolute, or relative to the working directory).
    public var path: String
    /// Start, in seconds from the start of the video.
    public var start: Double
    /// End, in seconds (after `start`).
    public var end: Double
    /// The class.
    public var label: String
    /// `train`, `validation` or `test`, when the row says.
    public var split: String?
    /// The group the row names (default: the video, so clips of one recording never straddle a split).
    public var group: String?

    /// An interval; every parameter sets the property of the same name.
    public init(path: String, start: Double, end: Double, label: String, split: String? = nil, group: String? = nil) {
        self.path = path
        self.start = start
        self.end = end
        self.label = label
        self.split = split
        self.group = group
    }
}

/// How an annotation CSV becomes training clips.
public struct AnnotationOptions: Sendable, Hashable {
    /// Seconds of video per training clip (default 2, the timeline's default window): each
    /// interval is covered by clips of this length (an interval shorter than it is one clip), and
    /// each epoch samples their frames afresh (temporal jitter).
    public var clipLength = 2.0
    /// A class for the time no interval covers (nil: unannotated time is not used).
    public var background: String?

    /// Options; every parameter sets the property of the same name.
    public init(clipLength: Double = 2.0, background: String? = nil) {
        self.clipLength = clipLength
        self.background = background
    }
}

/// Annotation CSVs: reading them, and cutting their intervals into clips.
public enum Annotations {
    /// Seconds from `12.5`, `75`, `00:01:15.250`, `1:15` or `1:02:03.5`; nil when malformed or negative.
    public static func seconds(_ text: String) -> Double? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count) else { return nil }
        var total = 0.0
        for (i, part) in parts.enumerated() {
            guard let value = Double(part), value >= 0, value.isFinite else { return nil }
            if i < parts.count - 1 && (value != value.rounded() || (i > 0 && value >= 60)) { return nil }
            if i == parts.count - 1 && parts.count > 1 && value >= 60 { return nil }
            total = total * 60 + value
        }
        return total
    }

    /// Whether a CSV header names the columns of an annotation file (`start` and `end`).
    static func isHeader(_ fields: [String]) -> Bool {
        let names = Set(fields.map { $0.lowercased() })
        return names.contains("path") && names.contains("start") && names.contains("end") && names.contains("label")
    }

    /// Reads an annotation CSV: a header naming `path`, `start`, `end`, `label` (and optionally
    /// `split`, `group`), then one row per interval; several rows per video. Paths are relative
    /// to the CSV's folder.
    /// - Throws: ``VideoClassificationError`` (`invalidDataset`) naming the row: a time that is not
    ///   seconds or `HH:MM:SS.mmm`, an end not after its start, a missing video.
    public static func read(_ path: String) throws -> [AnnotatedInterval] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw VideoClassificationError(.invalidDataset, path: path, message: "cannot read the annotation file")
        }
        let table = CSVTable(text)
        guard let header = table.header, isHeader(header) else {
            throw VideoClassificationError(.invalidDataset, path: path, message: "the first line must name the columns path,start,end,label[,split][,group]")
        }
        var intervals: [AnnotatedInterval] = [], missing = Set<String>()
        for row in table.rows where !row.isBlank {
            func field(_ name: String) -> String? { row.field(name) }
            func fail(_ message: String) -> VideoClassificationError {
                VideoClassificationError(.invalidDataset, path: path, message: "record \(row.number): \(message)")
            }
            guard let name = field("path"), let label = field("label") else { throw fail("needs a path and a label") }
            guard let startText = field("start"), let start = seconds(startText) else {
                throw fail("start '\(field("start") ?? "")' is not seconds or HH:MM:SS.mmm")
            }
            guard let endText = field("end"), let end = seconds(endText) else {
                throw fail("end '\(field("end") ?? "")' is not seconds or HH:MM:SS.mmm")
            }
            guard end > start else { throw fail("must end after it starts (start \(startText), end \(endText))") }
            let file = CSVTable.path(name, inFileAt: path)
            if !FileManager.default.fileExists(atPath: file) { missing.insert(name) }
            intervals.append(AnnotatedInterval(path: file, start: start, end: end, label: label, split: field("split"), group: field("group")))
        }
        if !missing.isEmpty {
            throw VideoClassificationError(.invalidDataset, path: path,
                                           message: "\(missing.count) annotated video(s) do not exist: \(missing.sorted().prefix(5).joined(separator: ", "))")
        }
        if intervals.isEmpty { throw VideoClassificationError(.invalidDataset, path: path, message: "no intervals in it") }
        // Against each video's length: a row that starts after the end is an error, one that ends
        // after it is cut at the end.
        var durations: [String: Double?] = [:]
        for (n, interval) in intervals.enumerated() {
            if durations[interval.path] == nil { durations[interval.path] = .some((try? VideoFile.probe(path: interval.path))?.duration) }
            guard let duration = durations[interval.path]!, duration > 0 else { continue }
            if interval.start >= duration {
                throw VideoClassificationError(.invalidDataset, path: path,
                                               message: "interval \(n + 1) (\(interval.label)) starts at \(interval.start) s, after the end of \(interval.path) (\(String(format: "%.3f", duration)) s)")
            }
            intervals[n].end = min(interval.end, duration)
        }
        return intervals
    }

    /// The stretches of `0..<duration` no interval covers, at least `minimum` seconds long.
    public static func gaps(in intervals: [AnnotatedInterval], duration: Double, minimum: Double) -> [ClosedRange<Double>] {
        var gaps: [ClosedRange<Double>] = [], cursor = 0.0
        for interval in intervals.sorted(by: { $0.start < $1.start }) {
            if interval.start - cursor >= minimum - 1e-6 { gaps.append(cursor...interval.start) }
            cursor = max(cursor, interval.end)
        }
        if duration - cursor >= minimum - 1e-6 { gaps.append(cursor...duration) }
        return gaps
    }

    /// Clips of `length` seconds covering all of `range`, evenly spread from its start to its end
    /// (overlapping when the length does not divide it; one clip when the range is shorter).
    static func tiles(_ range: ClosedRange<Double>, length: Double) -> [ClosedRange<Double>] {
        let span = range.upperBound - range.lowerBound
        guard span > length + 1e-6 else { return [range] }
        let count = Int((span / length - 1e-6).rounded(.up))
        let step = (span - length) / Double(count - 1)
        return (0..<count).map { k in
            let start = range.lowerBound + Double(k) * step
            return start...(start + length)
        }
    }

    /// The training clips of `intervals`: each covered by clips of ``AnnotationOptions/clipLength``;
    /// with a background label, the unannotated time of each video too (its duration from
    /// `VideoFile.probe`). Clips keep the interval's split; their group is the interval's, or the
    /// video.
    public static func clips(_ intervals: [AnnotatedInterval], options: AnnotationOptions) throws -> [LabeledClip] {
        var clips: [LabeledClip] = []
        func add(_ range: ClosedRange<Double>, path: String, label: String, split: String?, group: String?) {
            var columns = ["group": group ?? path]
            columns["video"] = path
            for tile in tiles(range, length: options.clipLength) {
                clips.append(LabeledClip(path: path, label: label, split: split, columns: columns,
                                         start: tile.lowerBound, end: tile.upperBound))
            }
        }
        for interval in intervals {
            add(interval.start...interval.end, path: interval.path, label: interval.label, split: interval.split, group: interval.group)
        }
        if let background = options.background {
            var byVideo: [String: [AnnotatedInterval]] = [:]
            for interval in intervals { byVideo[interval.path, default: []].append(interval) }
            for (video, list) in byVideo.sorted(by: { $0.key < $1.key }) {
                let metadata = try VideoFile.probe(path: video)
                guard let duration = metadata.duration else { continue }
                let split = Set(list.map(\.split)).count == 1 ? list[0].split : nil
                let group = Set(list.map(\.group)).count == 1 ? list[0].group : nil
                for gap in gaps(in: list, duration: duration, minimum: options.clipLength / 2) {
                    add(gap, path: video, label: background, split: split, group: group)
                }
            }
        }
        return clips
    }
}

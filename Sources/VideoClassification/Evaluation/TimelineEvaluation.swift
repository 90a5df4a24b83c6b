import Foundation
import VidclassConcurrency
import VideoIO

/// How well a model's timelines find the annotated intervals of long videos: per-second
/// accuracy, and segment-level precision, recall and F1 at an IoU threshold (the measures of
/// temporal action detection). `vidclass evaluate annotations.csv --timeline` as a library call.
public struct TimelineScore: Sendable, Codable {
    /// One video's score.
    public struct Video: Sendable, Codable {
        /// The video.
        public var path: String
        /// Seconds scored (annotated ones, and the unannotated ones when there is a background label).
        public var seconds: Int
        /// Of those, the seconds whose predicted label is the true one.
        public var correctSeconds: Int
        /// Annotated segments (background excluded).
        public var truthSegments: Int
        /// Predicted segments: runs of seconds with one label (background excluded).
        public var predictedSegments: Int
        /// Predicted segments matched to a true one of the same label with IoU at or above the threshold.
        public var matchedSegments: Int
        /// The WebVTT file of its timeline, when one was written.
        public var webVTT: String?
        /// The predicted segments: `[start, end, label]` in seconds.
        public var predicted: [Segment]
    }

    /// A stretch of time with one label.
    public struct Segment: Sendable, Codable, Equatable {
        /// Start in seconds.
        public var start: Double
        /// End in seconds.
        public var end: Double
        /// The label.
        public var label: String

        /// A segment; every parameter sets the property of the same name.
        public init(start: Double, end: Double, label: String) {
            self.start = start
            self.end = end
            self.label = label
        }

        /// Intersection over union of two segments' time spans.
        public func iou(_ other: Segment) -> Double {
            let intersection = max(0, min(end, other.end) - max(start, other.start))
            let union = max(end, other.end) - min(start, other.start)
            return union > 0 ? intersection / union : 0
        }
    }

    /// Per video.
    public var videos: [Video]
    /// The label of unannotated time, if any.
    public var background: String?
    /// The IoU a predicted segment needs to match a true one.
    public var iouThreshold: Double
    /// Window and stride of the timelines, in seconds.
    public var window: Double
    /// Seconds between window starts.
    public var stride: Double
    /// Videos that could not be read, with the reason.
    public var failures: [String]

    /// Correct seconds over scored seconds, all videos together.
    public var secondAccuracy: Double {
        let total = videos.map(\.seconds).reduce(0, +)
        return total > 0 ? Double(videos.map(\.correctSeconds).reduce(0, +)) / Double(total) : 0
    }

    /// Matched over predicted segments, all videos together.
    public var precision: Double {
        let predicted = videos.map(\.predictedSegments).reduce(0, +)
        return predicted > 0 ? Double(videos.map(\.matchedSegments).reduce(0, +)) / Double(predicted) : 0
    }

    /// Matched over true segments, all videos together.
    public var recall: Double {
        let truth = videos.map(\.truthSegments).reduce(0, +)
        return truth > 0 ? Double(videos.map(\.matchedSegments).reduce(0, +)) / Double(truth) : 0
    }

    /// The harmonic mean of ``precision`` and ``recall``.
    public var f1: Double { precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0 }

    private enum CodingKeys: String, CodingKey {
        case videos, background, iouThreshold, window, stride, failures, secondAccuracy, precision, recall, f1
    }

    /// Encodes the totals too.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(videos, forKey: .videos)
        try c.encodeIfPresent(background, forKey: .background)
        try c.encode(iouThreshold, forKey: .iouThreshold)
        try c.encode(window, forKey: .window)
        try c.encode(stride, forKey: .stride)
        try c.encode(failures, forKey: .failures)
        try c.encode(secondAccuracy, forKey: .secondAccuracy)
        try c.encode(precision, forKey: .precision)
        try c.encode(recall, forKey: .recall)
        try c.encode(f1, forKey: .f1)
    }

    /// Reads a score written by ``encode(to:)``.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        videos = try c.decode([Video].self, forKey: .videos)
        background = try c.decodeIfPresent(String.self, forKey: .background)
        iouThreshold = try c.decode(Double.self, forKey: .iouThreshold)
        window = try c.decode(Double.self, forKey: .window)
        stride = try c.decode(Double.self, forKey: .stride)
        failures = try c.decode([String].self, forKey: .failures)
    }

    init(videos: [Video], background: String?, iouThreshold: Double, window: Double, stride: Double, failures: [String]) {
        self.videos = videos
        self.background = background
        self.iouThreshold = iouThreshold
        self.window = window
        self.stride = stride
        self.failures = failures
    }
}

/// Scores timelines against annotated intervals.
public enum TimelineEvaluation {
    /// The label of each second of `0..<duration` (at its middle; the last, partial second at the
    /// middle of what remains) from the window whose middle is nearest (the earlier one on a
    /// tie); nil for seconds no window covers.
    public static func secondLabels(_ windows: [TimelineWindow], duration: Double) -> [String?] {
        // Windows in time order; each second looks only at those that start before it and are
        // not longer than the longest window: linear in the video's length.
        let sorted = windows.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
        let longest = sorted.map { $0.end - $0.start }.max() ?? 0
        var first = 0
        return (0..<Int(duration.rounded(.up))).map { s in
            let t = min(Double(s) + 0.5, (Double(s) + duration) / 2)
            while first < sorted.count && sorted[first].start < t - longest - 1e-9 { first += 1 }
            var best: TimelineWindow?
            var k = first
            while k < sorted.count && sorted[k].start <= t {
                let w = sorted[k]
                if t <= w.end, best == nil || abs((w.start + w.end) / 2 - t) < abs((best!.start + best!.end) / 2 - t) { best = w }
                k += 1
            }
            return best?.top.label
        }
    }

    /// Runs of equal labels as segments, one second per label (nil and `background` seconds are
    /// not segments); the last segment may end past the video's end by less than a second.
    public static func segments(_ labels: [String?], background: String?) -> [TimelineScore.Segment] {
        var out: [TimelineScore.Segment] = []
        var s = 0
        while s < labels.count {
            var e = s
            while e + 1 < labels.count && labels[e + 1] == labels[s] { e += 1 }
            if let label = labels[s], label != background { out.append(TimelineScore.Segment(start: Double(s), end: Double(e + 1), label: label)) }
            s = e + 1
        }
        return out
    }

    /// Matches predicted to true segments of the same label, best IoU first, each used once;
    /// returns how many matched at `threshold` or above.
    public static func matches(predicted: [TimelineScore.Segment], truth: [TimelineScore.Segment], threshold: Double) -> Int {
        var pairs: [(iou: Double, p: Int, t: Int)] = []
        for (p, a) in predicted.enumerated() {
            for (t, b) in truth.enumerated() where a.label == b.label {
                let iou = a.iou(b)
                if iou >= threshold { pairs.append((iou, p, t)) }
            }
        }
        var usedP = Set<Int>(), usedT = Set<Int>()
        for pair in pairs.sorted(by: { $0.iou > $1.iou }) where !usedP.contains(pair.p) && !usedT.contains(pair.t) {
            usedP.insert(pair.p)
            usedT.insert(pair.t)
        }
        return usedP.count
    }

    /// One video's score from its timeline and its intervals.
    public static func score(path: String, windows: [TimelineWindow], intervals: [AnnotatedInterval], duration: Double,
                             background: String?, iouThreshold: Double = 0.5) -> TimelineScore.Video {
        let predicted = secondLabels(windows, duration: duration)
        var seconds = 0, correct = 0
        for (s, label) in predicted.enumerated() {
            let t = min(Double(s) + 0.5, (Double(s) + duration) / 2)
            let truth = intervals.first { $0.start <= t && t < $0.end }?.label ?? background
            guard let truth else { continue }
            seconds += 1
            if label == truth { correct += 1 }
        }
        // Touching or overlapping intervals of one label are one segment.
        var truthSegments: [TimelineScore.Segment] = []
        for interval in intervals.filter({ $0.label != background }).sorted(by: { ($0.label, $0.start) < ($1.label, $1.start) }) {
            if let last = truthSegments.last, last.label == interval.label, interval.start <= last.end + 1e-6 {
                truthSegments[truthSegments.count - 1].end = max(last.end, interval.end)
            } else {
                truthSegments.append(TimelineScore.Segment(start: interval.start, end: interval.end, label: interval.label))
            }
        }
        let predictedSegments = segments(predicted, background: background)
        return TimelineScore.Video(path: path, seconds: seconds, correctSeconds: correct, truthSegments: truthSegments.count,
                                   predictedSegments: predictedSegments.count,
                                   matchedSegments: matches(predicted: predictedSegments, truth: truthSegments, threshold: iouThreshold),
                                   webVTT: nil, predicted: predictedSegments)
    }

    /// Runs the timeline over every annotated video and scores it.
    /// - Parameters:
    ///   - intervals: the annotations (``Annotations/read(_:)``).
    ///   - classifier: the model.
    ///   - window: timeline window in seconds.
    ///   - stride: seconds between windows.
    ///   - background: the label of unannotated time, if the model has one.
    ///   - iouThreshold: the IoU a predicted segment needs to match (default 0.5).
    ///   - outputDirectory: write each video's timeline as WebVTT here (`NAME.vtt`).
    ///   - stop: set it to stop between videos.
    ///   - progress: videos done and the total.
    /// - Throws: ``VideoClassificationError`` when the VTT files cannot be written; videos that
    ///   cannot be read are listed in ``TimelineScore/failures``.
    public static func run(intervals: [AnnotatedInterval], classifier: VideoClassifier, window: Double = 2, stride: Double = 1,
                           background: String? = nil, iouThreshold: Double = 0.5, outputDirectory: String? = nil,
                           stop: StopFlag = StopFlag(), progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> TimelineScore {
        var order: [String] = [], byVideo: [String: [AnnotatedInterval]] = [:]
        for interval in intervals {
            if byVideo[interval.path] == nil { order.append(interval.path) }
            byVideo[interval.path, default: []].append(interval)
        }
        if let outputDirectory {
            do {
                try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
            } catch {
                throw VideoClassificationError(.ioError, path: outputDirectory, message: "cannot create the folder", underlying: error)
            }
        }
        var videos: [TimelineScore.Video] = [], failures: [String] = [], names = Set<String>()
        for (n, path) in order.enumerated() where !stop.isSet {
            do {
                let windows = try classifier.timeline(path: path, window: window, stride: stride)
                let duration = try VideoFile.probe(path: path).duration ?? (windows.last?.end ?? 0)
                var video = score(path: path, windows: windows, intervals: byVideo[path]!, duration: duration,
                                  background: background, iouThreshold: iouThreshold)
                if let outputDirectory {
                    let base = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
                    var name = base + ".vtt", k = 2
                    while names.contains(name) || FileManager.default.fileExists(atPath: outputDirectory + "/" + name) {
                        name = "\(base)-\(k).vtt"
                        k += 1
                    }
                    names.insert(name)
                    let file = outputDirectory + "/" + name
                    guard FileManager.default.createFile(atPath: file, contents: Data(TimelineFormat.webVTT(windows).utf8)) else {
                        throw VideoClassificationError(.ioError, path: file, message: "cannot write the timeline")
                    }
                    video.webVTT = file
                }
                videos.append(video)
            } catch let error as VideoClassificationError where error.code == .ioError {
                throw error
            } catch {
                failures.append("\(path): \(error)")
            }
            progress?(n + 1, order.count)
        }
        return TimelineScore(videos: videos, background: background, iouThreshold: iouThreshold, window: window, stride: stride,
                             failures: failures)
    }
}

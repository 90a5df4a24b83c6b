import VidclassConcurrency
import Foundation
import NeuralNetwork
import Tensors
import VideoIO

/// One window of a timeline.
public struct TimelineWindow: Sendable, Codable, Equatable {
    /// Start of the window, in seconds from the start of the video.
    public var start: Double
    /// End of the window, in seconds: `start` plus the window length, at most the end of the video
    /// (its last frame's time plus one frame duration).
    public var end: Double
    /// Every label with its probability (0–1) for this window, most probable first.
    public var scores: [LabelScore]
    /// The most probable label of the window.
    public var top: LabelScore { scores[0] }

    /// A window from `start` to `end` seconds with its scores, most probable first.
    public init(start: Double, end: Double, scores: [LabelScore]) {
        self.start = start
        self.end = end
        self.scores = scores
    }
}

/// One video's timeline as `vidclass classify --timeline --format json` writes it (an array of
/// these), and as `vidclass report` reads it.
public struct TimelineResult: Sendable, Codable {
    /// The video, as it was given.
    public var path: String
    /// The model's name (``ModelCard/name``).
    public var model: String
    /// The model file's identity (``VideoModel/hash``).
    public var modelHash: String
    /// Window length in seconds.
    public var window: Double
    /// Seconds between window starts.
    public var stride: Double
    /// The windows, in time order.
    public var windows: [TimelineWindow]

    /// A timeline; every parameter sets the property of the same name.
    public init(path: String, model: String, modelHash: String, window: Double, stride: Double, windows: [TimelineWindow]) {
        self.path = path
        self.model = model
        self.modelHash = modelHash
        self.window = window
        self.stride = stride
        self.windows = windows
    }
}

extension VideoClassifier {
    /// The synchronous `timeline(path:window:stride:threads:timeout:progress:)` without holding a
    /// Swift concurrency thread: the work runs on a thread of its own while the calling task is
    /// suspended. The parameters are the same; `progress` is called from that thread.
    public func timeline(path: String, window: Double, stride: Double, threads: Int = 0,
                         timeout: Double? = nil,
                         progress: (@Sendable (_ seconds: Double, _ duration: Double) -> Void)? = nil) async throws -> [TimelineWindow] {
        try await onOwnThread {
            try self.timeline(path: path, window: window, stride: stride, threads: threads, timeout: timeout, progress: progress)
        }
    }

    /// Predictions for windows of `window` seconds every `stride` seconds over a long video.
    ///
    /// All windows sample one global grid of times, `window / framesPerClip` apart, so one decode
    /// pass serves every window and each sampled frame goes through the CNN once, however much
    /// the windows overlap; only the recurrent layer runs per window. `stride` is rounded to a
    /// whole number of grid steps. Windows start at 0, `stride`, `2·stride`, ...; the last one ends
    /// at the end of the video, so together they cover it exactly. Times come from timestamps, so
    /// variable frame rate is handled.
    /// - Parameters:
    ///   - path: the video file (or a URL FFmpeg opens).
    ///   - window: each window's length in seconds (finite, above 0; at most the video's length).
    ///   - stride: seconds between window starts (finite, above 0; rounded to the grid).
    ///   - threads: decoder threads (0: one per core).
    ///   - timeout: give up after this many seconds of reading (nil: never).
    ///   - progress: called now and then with the seconds of video read so far and the video's
    ///     duration (for a progress display); from the calling thread.
    /// - Returns: the windows in time order, each with every label's probability (0–1).
    /// - Throws: `VideoIOError` for an unreadable video, ``VideoClassificationError`` when it has no
    ///   frames or `window`/`stride` are not positive finite numbers.
    public func timeline(path: String, window: Double, stride: Double, threads: Int = 0,
                         timeout: Double? = nil, progress: ((_ seconds: Double, _ duration: Double) -> Void)? = nil) throws -> [TimelineWindow] {
        guard window.isFinite, stride.isFinite, window > 0, stride > 0 else {
            throw VideoClassificationError(.invalidArgument, path: path, message: "window and stride must be positive, finite numbers of seconds (got \(window) and \(stride))")
        }
        let input = model.card.input
        let steps = input.framesPerClip
        let metadata = try VideoFile.probe(path: path)
        guard let frameDuration = metadata.averageFrameRate.map({ 1 / $0 }) ?? metadata.realFrameRate.map({ 1 / $0 }) else {
            throw VideoClassificationError(.noFrames, path: path, message: "the video has no frame rate")
        }
        guard let declared = metadata.duration, declared > 0 else {
            throw VideoClassificationError(.noFrames, path: path, message: "the video's duration is unknown")
        }
        // The grid, planned on the container's duration (which may include longer audio); the
        // windows are chosen once the last video frame's time is known.
        let windowLength = min(window, declared)
        let gridStep = windowLength / Double(steps)
        let strideSteps = max(1, Int((stride / gridStep).rounded()))
        let offset = input.representation.usesDifferences ? 1 : 0
        let gridCount = Int((declared / gridStep + 1e-6).rounded(.down)) + offset
        let gridTimes = (0..<gridCount).map { Double($0) * gridStep }
        // Plus the last frame, to learn where the video stream really ends.
        var options = DecodeOptions(sampling: .times(gridTimes + [max(0, declared - frameDuration)]), format: input.decodeFormat,
                                    threads: threads)
        options.timeout = timeout
        let reader = try VideoReader(path: path, options: options)

        // One pass: each decoded frame fills the grid points up to its time; each time step goes
        // through the CNN once, in batches; only the features are kept (memory bounded by the window
        // count, not by the video's length).
        let featureSize = model.card.architecture.featureSize
        let elements = input.representation.channels * input.size * input.size
        var features: [Float] = []
        var pending: [(current: VideoFrame, previous: VideoFrame)] = []
        var previousPoint: VideoFrame?
        var point = 0
        var lastFrame: VideoFrame?
        func flush() {
            guard !pending.isEmpty else { return }
            var tensor = Tensor(shape: [pending.count, input.representation.channels, input.size, input.size])
            tensor.withUnsafeMutableBufferPointer { buffer in
                for (i, step) in pending.enumerated() {
                    preprocessor.writeStep(current: step.current, previous: step.previous,
                                           into: UnsafeMutableBufferPointer(rebasing: buffer[(i * elements)..<((i + 1) * elements)]))
                }
            }
            features.append(contentsOf: self.features(tensor).withUnsafeBufferPointer { Array($0) })
            pending.removeAll(keepingCapacity: true)
        }
        func assign(_ frame: VideoFrame) {
            if offset == 0 || previousPoint != nil { pending.append((frame, previousPoint ?? frame)) }
            previousPoint = frame
            point += 1
            if pending.count == 32 { flush() }
        }
        var reported = -1.0
        while let frame = try reader.next() {
            // The grid points this frame is "the first frame at or after".
            while point < gridCount && gridTimes[point] <= frame.time + 1e-6 { assign(frame) }
            lastFrame = frame
            if let progress, frame.time - reported >= 1 {
                reported = frame.time
                progress(frame.time, declared)
            }
        }
        guard let lastFrame else {
            throw VideoClassificationError(.noFrames, path: path, message: "the video yielded no frames")
        }
        let duration = min(declared, lastFrame.time + frameDuration)
        while point < gridCount { assign(lastFrame) }  // points past the last frame (never chosen below unless needed)
        flush()
        let stepCount = features.count / featureSize
        // Windows start at 0, stride, 2·stride, ...; the last one ends at the end of the video.
        let totalSteps = min(stepCount, Int((duration / gridStep + 1e-6).rounded(.down)))
        var starts: [Int] = Array(Swift.stride(from: 0, through: max(0, totalSteps - steps), by: strideSteps))
        if let last = starts.last, last + steps < totalSteps { starts.append(totalSteps - steps) }
        starts = starts.filter { $0 + steps <= stepCount }
        guard !starts.isEmpty else {
            throw VideoClassificationError(.noFrames, path: path, message: "the video is too short for one window")
        }
        // The recurrent layer runs on batches of windows, so memory stays bounded by the batch, not
        // by the number of windows (a 30-minute video at a 0.1 s stride has over 10,000).
        let batch = 64
        var probabilities: [Float] = []
        probabilities.reserveCapacity(starts.count * model.card.labels.count)
        for first in Swift.stride(from: 0, to: starts.count, by: batch) {
            let chunk = starts[first..<min(starts.count, first + batch)]
            var gathered = [Float]()
            gathered.reserveCapacity(chunk.count * steps * featureSize)
            for s in chunk { gathered.append(contentsOf: features[(s * featureSize)..<((s + steps) * featureSize)]) }
            let logits = withInference { $0.logits(features: Tensor(shape: [chunk.count, steps, featureSize], scalars: gathered)) }
            probabilities.append(contentsOf: softmax(logits).scalars)
        }
        let classes = model.card.labels.count
        progress?(duration, duration)
        return probabilities.withUnsafeBufferPointer { p in
            starts.enumerated().map { w, s in
                let start = Double(s) * gridStep
                return TimelineWindow(start: start, end: min(duration, start + windowLength),
                                      scores: ranked((0..<classes).map { Double(p[w * classes + $0]) }))
            }
        }
    }
}

/// Timeline output formats.
public enum TimelineFormat {
    /// WebVTT cues, one per window: `top label (score%)`, so a player can show them over the video.
    public static func webVTT(_ windows: [TimelineWindow]) -> String {
        var out = "WEBVTT\n\n"
        for (n, w) in windows.enumerated() {
            out += "\(n + 1)\n\(vttTime(w.start)) --> \(vttTime(w.end))\n\(w.top.label) (\(String(format: "%.0f", w.top.score * 100))%)\n\n"
        }
        return out
    }

    /// CSV: `start,end,label,score` (the top label per window).
    public static func csv(_ windows: [TimelineWindow], path: String? = nil) -> String {
        let header = (path == nil ? "" : "path,") + "start,end,label,score\n"
        return header + windows.map { w in
            (path.map { CSV.field($0) + "," } ?? "")
                + String(format: "%.3f,%.3f,", w.start, w.end) + CSV.field(w.top.label) + String(format: ",%.6f", w.top.score)
        }.joined(separator: "\n") + "\n"
    }

    static func vttTime(_ t: Double) -> String {
        let ms = Int((t * 1000).rounded())
        return String(format: "%02d:%02d:%02d.%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
    }
}

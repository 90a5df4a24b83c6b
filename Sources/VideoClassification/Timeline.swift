import Foundation
import NeuralNetwork
import Tensors
import VideoIO

/// One window of a timeline.
public struct TimelineWindow: Sendable, Codable, Equatable {
    public var start: Double
    public var end: Double
    public var scores: [LabelScore]
    public var top: LabelScore { scores[0] }

    public init(start: Double, end: Double, scores: [LabelScore]) {
        self.start = start
        self.end = end
        self.scores = scores
    }
}

extension VideoClassifier {
    /// Predictions for windows of `window` seconds every `stride` seconds over a long video.
    ///
    /// All windows sample one global grid of times, `window / framesPerClip` apart, so one decode
    /// pass serves every window and each sampled frame goes through the CNN once, however much
    /// the windows overlap; only the recurrent layer runs per window. `stride` is rounded to a
    /// whole number of grid steps. Windows start at 0, `stride`, `2·stride`, ...; the last one ends
    /// at the end of the video, so together they cover it exactly. Times come from timestamps, so
    /// variable frame rate is handled.
    /// - Throws: ``VideoIOError`` for an unreadable video, ``VideoClassificationError`` when it has no frames.
    public func timeline(path: String, window: Double, stride: Double, threads: Int = 0) throws -> [TimelineWindow] {
        precondition(window > 0 && stride > 0, "window and stride must be positive")
        let input = model.card.input
        let steps = input.framesPerClip
        let metadata = try VideoFile.probe(path: path)
        guard let frameDuration = metadata.averageFrameRate.map({ 1 / $0 }) ?? metadata.realFrameRate.map({ 1 / $0 }) else {
            throw VideoClassificationError(.noFrames, path: path, message: "the video has no frame rate")
        }
        guard let duration = metadata.duration, duration > 0 else {
            throw VideoClassificationError(.noFrames, path: path, message: "the video's duration is unknown")
        }
        let lastTime = max(0, duration - frameDuration)
        let windowLength = min(window, duration)
        let gridStep = windowLength / Double(steps)
        let strideSteps = max(1, Int((stride / gridStep).rounded()))
        // Window starts in grid steps; the last window ends at the end of the video.
        let pointsPerWindow = input.sampledFrames
        let totalSteps = Int((duration / gridStep).rounded(.down))
        var starts: [Int] = Array(Swift.stride(from: 0, through: max(0, totalSteps - steps), by: strideSteps))
        if let last = starts.last, last + steps < totalSteps { starts.append(totalSteps - steps) }
        // Grid points needed, their frames, one decode pass for all of them.
        let gridCount = (starts.last ?? 0) + pointsPerWindow
        let gridTimes = (0..<gridCount).map { min(Double($0) * gridStep, lastTime) }
        let decoded = try VideoReader(path: path, options: DecodeOptions(sampling: .times(gridTimes), format: input.decodeFormat, threads: threads)).readAll()
        let decodedTimes = decoded.map(\.time)
        guard let lastFrame = decoded.last else {
            throw VideoClassificationError(.noFrames, path: path, message: "the video yielded no frames")
        }
        // Each grid point's frame: the first at or after it (the last frame past the end).
        let frameOfPoint = gridTimes.map { t in
            FrameSampling.firstAtOrAfter([t], in: decodedTimes).first.map { decoded[$0] } ?? lastFrame
        }
        // CNN features once per time step (a step is a grid point, or a pair of them for differences).
        let offset = input.representation.usesDifferences ? 1 : 0
        let stepCount = gridCount - offset
        let featureSize = model.card.architecture.featureSize
        var features = [Float](repeating: 0, count: stepCount * featureSize)
        let batch = 32
        let elements = input.representation.channels * input.size * input.size
        for first in Swift.stride(from: 0, to: stepCount, by: batch) {
            let n = min(batch, stepCount - first)
            var tensor = Tensor(shape: [n, input.representation.channels, input.size, input.size])
            tensor.withUnsafeMutableBufferPointer { buffer in
                for i in 0..<n {
                    let k = first + i + offset
                    preprocessor.writeStep(current: frameOfPoint[k], previous: frameOfPoint[k - offset],
                                           into: UnsafeMutableBufferPointer(rebasing: buffer[(i * elements)..<((i + 1) * elements)]))
                }
            }
            let f = self.features(tensor)
            f.withUnsafeBufferPointer { p in
                for j in 0..<(n * featureSize) { features[first * featureSize + j] = p[j] }
            }
        }
        // The recurrent layer and head per window, all windows in one batch.
        var gathered = [Float]()
        gathered.reserveCapacity(starts.count * steps * featureSize)
        for s in starts {
            gathered.append(contentsOf: features[(s * featureSize)..<((s + steps) * featureSize)])
        }
        let logits = withInference { $0.logits(features: Tensor(shape: [starts.count, steps, featureSize], scalars: gathered)) }
        let probabilities = softmax(logits)
        let classes = model.card.labels.count
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
    public static func csv(_ windows: [TimelineWindow]) -> String {
        "start,end,label,score\n" + windows.map { String(format: "%.3f,%.3f,%@,%.6f", $0.start, $0.end, $0.top.label, $0.top.score) }
            .joined(separator: "\n") + "\n"
    }

    static func vttTime(_ t: Double) -> String {
        let ms = Int((t * 1000).rounded())
        return String(format: "%02d:%02d:%02d.%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
    }
}

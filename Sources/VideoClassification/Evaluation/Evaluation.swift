import VidclassConcurrency
import Foundation
import VideoIO

/// What ``Evaluation/run(dataset:classifier:jobs:stop:progress:)`` found.
public struct EvaluationResult: Sendable {
    /// Accuracy, per-class precision/recall/F1, the confusion matrix and the misclassified clips.
    public var report: ClassificationReport
    /// Clips that could not be decoded, with the reason, left out of the report.
    public var skipped: [(path: String, reason: String)]
}

/// Scores a model on a labelled dataset: `vidclass evaluate` as a library call.
///
/// ```swift
/// let dataset = try VideoDataset.load("test-clips/")
/// let result = try Evaluation.run(dataset: dataset, classifier: VideoClassifier(modelPath: "m.safetensors"))
/// print(result.report.top1, result.report.meanClassAccuracy)
/// try result.report.writeConfusionMatrix(to: "cm.svg")
/// ```
public enum Evaluation {
    /// Clips per network pass.
    public static let batchSize = 16

    /// Decodes every clip with the model's own sampling (`jobs` at once), classifies them in
    /// batches (averaging the classifier's ``VideoClassifier/clips`` clips of each), and compares
    /// with the labels.
    /// - Parameters:
    ///   - dataset: the labelled clips; every label must be one of the model's.
    ///   - classifier: the model to score, which also decides how clips are sampled and sized.
    ///   - jobs: clips decoded at the same time (each on one decoder thread).
    ///   - stop: set it to stop decoding early (the clips not decoded are reported as skipped).
    ///   - progress: clips decoded so far and the total.
    /// - Throws: ``VideoClassificationError`` (`invalidDataset`) when the dataset has labels the
    ///   model does not know.
    public static func run(dataset: VideoDataset, classifier: VideoClassifier, jobs: Int = 2, stop: StopFlag = StopFlag(),
                           progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil) throws -> EvaluationResult {
        let labels = classifier.model.card.labels
        let unknown = Set(dataset.labels).subtracting(labels)
        if !unknown.isEmpty {
            throw VideoClassificationError(.invalidDataset, path: dataset.root,
                                           message: "labels the model does not know: \(unknown.sorted().joined(separator: ", "))")
        }
        let decoded = DecodedClips.decode(dataset.clips, options: classifier.decodeOptions(threads: 1), jobs: jobs,
                                          stop: { stop.isSet }) { done, total in progress?(done, total) }
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        let usable = dataset.clips.indices.filter { decoded.frames[$0] != nil }
        var truths: [Int] = [], rows: [[Double]] = [], paths: [String] = [], used: [[UsedFrame]] = []
        for start in stride(from: 0, to: usable.count, by: batchSize) {
            let chunk = Array(usable[start..<min(usable.count, start + batchSize)])
            rows.append(contentsOf: classifier.probabilities(videos: chunk.map { decoded.frames[$0]! },
                                                             clipCounts: chunk.map { dataset.clips[$0].start == nil ? classifier.clips : 1 },
                                                             batchSize: batchSize))
            truths.append(contentsOf: chunk.map { index[dataset.clips[$0].label]! })
            paths.append(contentsOf: chunk.map { dataset.clips[$0].path })
            used.append(contentsOf: chunk.map { decoded.frames[$0]!.map { UsedFrame(index: $0.index, time: $0.time) } })
        }
        var skipped = decoded.failures.map { (path: dataset.clips[$0.index].name, reason: $0.reason) }
        let failed = Set(decoded.failures.map(\.index))
        for i in dataset.clips.indices where decoded.frames[i] == nil && !failed.contains(i) {
            skipped.append((dataset.clips[i].name, "not decoded: the evaluation was stopped"))
        }
        var report = ClassificationReport(labels: labels, truths: truths, probabilities: rows, paths: paths, frames: used)
        report.inferencePrecision = classifier.precisionRecord
        // Stretches of long videos say which stretch (one video holds many clips).
        if classifier.clips > 1 {
            for (n, i) in usable.enumerated() where dataset.clips[i].start == nil {
                report.clips?[n].clips = classifier.clipIndices(decoded.frames[i]!)
            }
        }
        for (n, i) in usable.enumerated() where dataset.clips[i].start != nil {
            report.clips?[n].start = dataset.clips[i].start
            report.clips?[n].end = dataset.clips[i].end
        }
        return EvaluationResult(report: report,
                                skipped: skipped)
    }
}

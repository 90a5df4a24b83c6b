import VidclassConcurrency
import ArgumentParser
import Foundation
import Tensors
import VideoClassification
import VideoIO

extension VidclassCommand {
    /// `vidclass evaluate DATASET --model M`.
    struct Evaluate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accuracy, per-class precision/recall/F1, confusion matrix and misclassified clips on a labelled dataset.")

        @Argument(help: "Dataset folder (one sub-folder per class), CSV file, or `vidclass label` output.")
        var dataset: String

        @Option(help: "A path,label CSV of corrections (as `vidclass report` downloads them) applied to the dataset's labels; 'exclude' leaves a clip out.")
        var corrections: String?

        @OptionGroup var modelOption: ModelOption
        @OptionGroup var clipsOption: ClipsOption
        @OptionGroup var precisionOption: PrecisionOption

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        @Option(help: "Also draw the confusion matrix to this .png or .svg file.")
        var confusionMatrix: String?

        @Option(help: "Clips decoded at once.")
        var jobs = 2

        @Flag(help: "With an annotation CSV (path,start,end,label): run the timeline over each annotated video and score it against the intervals (per-second accuracy; segment precision, recall and F1 at IoU 0.5).")
        var timeline = false

        @Option(help: "Timeline window (with --timeline).")
        var window = Seconds(2)

        @Option(help: "Timeline stride (with --timeline).")
        var stride = Seconds(1)

        @Option(help: "With an annotation CSV: the model's label for time no interval covers.")
        var background: String?

        @Option(help: "With an annotation CSV and no --timeline: seconds of video per clip cut from its intervals.")
        var clipLength = Seconds(2)

        @Option(help: "With --timeline: write each video's timeline as WebVTT into this folder.")
        var outputDir: String?

        func validate() throws {
            if timeline && (clipsOption.clips ?? 1) > 1 { throw ValidationError("--clips averages whole-video predictions; a timeline classifies each window once") }
            try requirePositive(window.value, "--window")
            try requirePositive(stride.value, "--stride")
            try requirePositive(clipLength.value, "--clip-length")
            if outputDir != nil && !timeline { throw ValidationError("--output-dir goes with --timeline") }
        }

        func run() async throws {
            let classifier = clipsOption.classifier(try modelOption.load(), precision: precisionOption)
            if timeline { return try await runTimeline(classifier) }
            var data = try VideoDataset.load(dataset, annotations: AnnotationOptions(clipLength: clipLength.value, background: background))
            if let corrections {
                let outcome = try LabelCorrections(contentsOf: corrections).apply(to: data)
                printError("evaluate: " + outcome.summary)
                data = outcome.dataset
            }
            if let first = data.ignoredFiles.first {
                printError("evaluate: ignored \(data.ignoredFiles.count) file(s) without a video extension in the class folders (e.g. \(first))")
            }
            let result = try await onOwnThread { [jobs, data] in try Evaluation.run(dataset: data, classifier: classifier, jobs: jobs) }
            for skipped in result.skipped { printError("evaluate: skipped \(skipped.path): \(skipped.reason)") }
            let report = result.report
            if let confusionMatrix { try report.writeConfusionMatrix(to: confusionMatrix) }
            if format == .json {
                print(try jsonString(report))
                return
            }
            print(String(format: "%d clips  top-1 %.2f%%  top-5 %.2f%%  mean class accuracy %.2f%%", report.count,
                         report.top1 * 100, report.top5 * 100, report.meanClassAccuracy * 100)
                  + (report.inferencePrecision.map { "  (convolutions in \($0))" } ?? ""))
            print("")
            let width = max(5, report.labels.map(\.count).max() ?? 0)
            print("class".padding(toLength: width, withPad: " ", startingAt: 0) + "  precision  recall     f1  support")
            for c in report.perClass {
                print(c.label.padding(toLength: width, withPad: " ", startingAt: 0)
                      + String(format: "  %9.3f  %6.3f  %5.3f  %7d", c.precision, c.recall, c.f1, c.support))
            }
            print("")
            print(report.confusionText)
            if !report.misclassified.isEmpty {
                print("")
                print("misclassified (\(report.misclassified.count)):")
                for m in report.misclassified {
                    print(String(format: "  %@  true %@  predicted %@ (%.1f%%)", m.path, m.truth, m.predicted, m.confidence * 100))
                }
            }
        }

        /// `--timeline`: each annotated video's timeline, scored against its intervals.
        private func runTimeline(_ classifier: VideoClassifier) async throws {
            let intervals = try Annotations.read(dataset)
            if let background, !classifier.model.card.labels.contains(background) {
                printError("vidclass: --background \(background) is not a label of the model (\(classifier.model.card.labels.joined(separator: ", ")))")
                throw ExitCode(64)
            }
            let unknown = Set(intervals.map(\.label)).subtracting(classifier.model.card.labels)
            if !unknown.isEmpty {
                printError("evaluate: labels the model does not know (their segments cannot be found): \(unknown.sorted().joined(separator: ", "))")
            }
            let score = try await onOwnThread { [window, stride, background, outputDir] in
                try TimelineEvaluation.run(intervals: intervals, classifier: classifier, window: window.value, stride: stride.value,
                                           background: background, outputDirectory: outputDir)
            }
            for failure in score.failures { printError("evaluate: skipped \(failure)") }
            if format == .json {
                print(try jsonString(score))
            } else {
                for v in score.videos {
                    print(String(format: "%@  seconds %d/%d right (%.1f%%)  segments: %d true, %d predicted, %d matched", v.path,
                                 v.correctSeconds, v.seconds, 100 * Double(v.correctSeconds) / Double(max(1, v.seconds)),
                                 v.truthSegments, v.predictedSegments, v.matchedSegments) + (v.webVTT.map { "  \($0)" } ?? ""))
                }
                print(String(format: "%d videos  per-second accuracy %.2f%%  segments at IoU %.2f: precision %.3f  recall %.3f  F1 %.3f",
                             score.videos.count, score.secondAccuracy * 100, score.iouThreshold, score.precision, score.recall, score.f1))
            }
            if !score.failures.isEmpty { throw ExitStatus.someFailed }
        }
    }
}

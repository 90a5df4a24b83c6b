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

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        @Option(help: "Also draw the confusion matrix to this .png or .svg file.")
        var confusionMatrix: String?

        @Option(help: "Clips decoded at once.")
        var jobs = 2

        func run() async throws {
            let classifier = VideoClassifier(model: try modelOption.load())
            var data = try VideoDataset.load(dataset)
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
                         report.top1 * 100, report.top5 * 100, report.meanClassAccuracy * 100))
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
    }
}

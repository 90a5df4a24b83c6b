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

        @Argument(help: "Dataset folder (one sub-folder per class) or CSV file.")
        var dataset: String

        @OptionGroup var modelOption: ModelOption

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        @Option(help: "Also draw the confusion matrix to this .png or .svg file.")
        var confusionMatrix: String?

        @Option(help: "Clips decoded at once.")
        var jobs = 2

        func run() async throws {
            let model = try modelOption.load()
            let classifier = VideoClassifier(model: model)
            let data = try VideoDataset.load(dataset)
            if let first = data.ignoredFiles.first {
                printError("evaluate: ignored \(data.ignoredFiles.count) file(s) without a video extension in the class folders (e.g. \(first))")
            }
            let unknown = Set(data.labels).subtracting(model.card.labels)
            if !unknown.isEmpty {
                throw VideoClassificationError(.invalidDataset, path: dataset,
                                               message: "labels the model does not know: \(unknown.sorted().joined(separator: ", "))")
            }
            let decoded = DecodedClips.decode(data.clips, options: classifier.preprocessor.decodeOptions(threads: 1), jobs: jobs)
            for failure in decoded.failures { printError("evaluate: skipped \(data.clips[failure.index].path): \(failure.reason)") }
            var truths: [Int] = [], rows: [[Double]] = [], paths: [String] = []
            let index = Dictionary(uniqueKeysWithValues: model.card.labels.enumerated().map { ($1, $0) })
            let usable = data.clips.indices.filter { decoded.frames[$0] != nil }
            for start in stride(from: 0, to: usable.count, by: 16) {
                let chunk = Array(usable[start..<min(usable.count, start + 16)])
                let input = model.card.input
                var batch = Tensor(shape: [chunk.count, input.framesPerClip, input.representation.channels, input.size, input.size])
                let stride = classifier.preprocessor.clipElementCount
                batch.withUnsafeMutableBufferPointer { buffer in
                    for (n, i) in chunk.enumerated() {
                        classifier.preprocessor.write(decoded.frames[i]!, into: UnsafeMutableBufferPointer(rebasing: buffer[(n * stride)..<((n + 1) * stride)]))
                    }
                }
                rows.append(contentsOf: classifier.probabilities(batch))
                truths.append(contentsOf: chunk.map { index[data.clips[$0].label]! })
                paths.append(contentsOf: chunk.map { data.clips[$0].path })
            }
            let report = ClassificationReport(labels: model.card.labels, truths: truths, probabilities: rows, paths: paths)
            if let confusionMatrix { try ConfusionMatrixPicture.write(report, to: confusionMatrix) }
            if format == .json {
                print(try jsonString(report))
                return
            }
            print(String(format: "%d clips  top-1 %.2f%%  top-5 %.2f%%  mean class accuracy %.2f%%", report.count,
                         report.top1 * 100, report.top5 * 100, report.meanClassAccuracy * 100))
            print("")
            let width = max(5, model.card.labels.map(\.count).max() ?? 0)
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

/// The confusion matrix as a picture: SVG (labels, counts and shaded cells) or PNG (shaded cells).
enum ConfusionMatrixPicture {
    static func write(_ report: ClassificationReport, to path: String) throws {
        if path.lowercased().hasSuffix(".svg") {
            try Data(svg(report).utf8).write(to: URL(fileURLWithPath: path))
        } else {
            let (pixels, width, height) = png(report)
            try ImageWriter.writePNG(pixels: pixels, width: width, height: height, to: path)
        }
    }

    static func svg(_ r: ClassificationReport) -> String {
        let k = r.labels.count, cell = 40, left = 12 + 7 * (r.labels.map(\.count).max() ?? 4), top = 30
        let maxCount = max(1, r.confusion.flatMap { $0 }.max() ?? 1)
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(left + k * cell + 10)\" height=\"\(top + k * cell + 30)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        out += "<text x=\"\(left)\" y=\"18\">predicted →  (rows: truth)</text>\n"
        for (i, row) in r.confusion.enumerated() {
            out += "<text x=\"4\" y=\"\(top + i * cell + cell / 2 + 4)\">\(escape(r.labels[i]))</text>\n"
            for (j, count) in row.enumerated() {
                let shade = 255 - Int(Double(count) / Double(maxCount) * 200)
                out += "<rect x=\"\(left + j * cell)\" y=\"\(top + i * cell)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"rgb(\(shade),\(shade),255)\" stroke=\"#888\"/>"
                out += "<text x=\"\(left + j * cell + cell / 2)\" y=\"\(top + i * cell + cell / 2 + 4)\" text-anchor=\"middle\">\(count)</text>\n"
            }
        }
        for j in 0..<k { out += "<text x=\"\(left + j * cell + cell / 2)\" y=\"\(top + k * cell + 16)\" text-anchor=\"middle\">[\(j)]</text>\n" }
        return out + "</svg>\n"
    }

    static func png(_ r: ClassificationReport) -> ([UInt8], Int, Int) {
        let k = r.labels.count, cell = 32, size = k * cell + 2
        let maxCount = max(1, r.confusion.flatMap { $0 }.max() ?? 1)
        var pixels = [UInt8](repeating: 255, count: size * size * 3)
        for (i, row) in r.confusion.enumerated() {
            for (j, count) in row.enumerated() {
                let shade = UInt8(255 - Int(Double(count) / Double(maxCount) * 200))
                for y in (i * cell + 1)..<((i + 1) * cell) {
                    for x in (j * cell + 1)..<((j + 1) * cell) {
                        let p = (y * size + x) * 3
                        pixels[p] = shade; pixels[p + 1] = shade; pixels[p + 2] = 255
                    }
                }
            }
        }
        return (pixels, size, size)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}

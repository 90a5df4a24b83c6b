import ArgumentParser
import Foundation
import VideoClassification
import VideoIO

extension VidclassCommand {
    /// `vidclass classify FILE...`.
    struct Classify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Name what happens in video clips: the top labels with their probabilities.")

        @Argument(help: "Video files.")
        var files: [String]

        @OptionGroup var modelOption: ModelOption

        @Option(help: "How many labels to show.")
        var top = 5

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        @Option(help: "Decoder threads (0: one per core).")
        var threads = 0

        func validate() throws {
            if top < 1 { throw ValidationError("--top must be at least 1") }
        }

        struct Output: Encodable {
            var path: String
            var labels: [LabelScore]
            var frames: [UsedFrame]
            var model: String
            var modelHash: String
            var timings: [String: Double]
        }

        func run() async throws {
            let classifier = VideoClassifier(model: try modelOption.load())
            var outputs: [Output] = []
            var failures = 0
            for file in files {
                do {
                    let p = try classifier.classify(path: file, threads: threads)
                    let shown = Array(p.scores.prefix(top))
                    outputs.append(Output(path: file, labels: shown, frames: p.frames, model: p.model, modelHash: p.modelHash, timings: p.timings))
                    if format == .text {
                        if files.count > 1 { print(file) }
                        let width = shown.map(\.label.count).max() ?? 0
                        for s in shown {
                            print("  " + s.label.padding(toLength: width, withPad: " ", startingAt: 0) + String(format: "  %6.2f%%", s.score * 100))
                        }
                    }
                } catch {
                    failures += 1
                    printError("vidclass: \(error)")
                }
            }
            if format == .json { print(try jsonString(outputs)) }
            if failures > 0 { throw ExitStatus.someFailed }
        }
    }

    /// `vidclass info [--model M]`.
    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a model file's description: architecture, labels, input, provenance.")

        @OptionGroup var modelOption: ModelOption

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        func run() async throws {
            let model = try modelOption.load()
            let card = model.card
            if format == .json {
                print(try jsonString(card))
                return
            }
            let a = card.architecture, i = card.input
            print("model        \(card.name) (\(model.hash))")
            print("file         \(model.path ?? "<embedded>")")
            print("encoder      \(a.backbone.rawValue)")
            print("sequence     " + (a.head == .featureMean ? "none (features averaged over time)"
                                        : "\(a.sequenceKind.rawValue), hidden \(a.hiddenSize), \(a.sequenceLayers) layer(s)\(a.bidirectional ? ", bidirectional" : "")"))
            print("labels       \(card.labels.count): \(card.labels.joined(separator: ", "))")
            print("input        \(i.representation.rawValue), \(i.framesPerClip) frames uniform, \(i.size)x\(i.size) center crop of short side \(i.shortSide)")
            print("normalize    mean \(i.mean), std \(i.std)")
            if let p = card.provenance {
                print("trained on   \(p.dataset ?? "?") (hash \(p.datasetHash ?? "?")), \(p.epochs ?? 0) epochs, \(p.date ?? "?"), vidclass \(p.vidclassVersion ?? "?")")
                if !p.metrics.isEmpty {
                    print("metrics      " + p.metrics.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.4f", $0.value))" }.joined(separator: ", "))
                }
            }
        }
    }
}

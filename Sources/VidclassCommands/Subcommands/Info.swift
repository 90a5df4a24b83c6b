import ArgumentParser
import Foundation
import VideoClassification

extension VidclassCommand {
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
            let width = a.backbone.isResNet && a.resnetWidth != 64 ? ", width \(a.resnetWidth)"
                : MobileEncoderSpecification(a.backbone) != nil && a.widthMultiplier != 1 ? ", width multiplier \(a.widthMultiplier)" : ""
            print("encoder      \(a.backbone.rawValue)\(width), \(a.featureSize) features a frame")
            print("sequence     " + (a.head == .featureMean ? "none (features averaged over time)"
                                        : "\(a.sequenceKind.rawValue), hidden \(a.hiddenSize), \(a.sequenceLayers) layer(s)\(a.bidirectional ? ", bidirectional" : "")"))
            print("labels       \(card.labels.count): \(card.labels.joined(separator: ", "))")
            print("input        \(i.representation.rawValue), \(i.framesPerClip) time steps of \(i.size)x\(i.size)")
            print("sampling     \(i.sampledFrames) frames, \(i.sampling.summary)")
            if i.clips > 1 { print("test clips   \(i.clips) interleaved clips averaged per video (--clips overrides)") }
            print("resize       \(i.resize.rawValue): \(i.resize.summary(size: i.size, shortSide: i.shortSide))")
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

import Foundation
import NeuralNetwork

/// The whole description of a model, stored as JSON under the key `vidclass` of the
/// safetensors file's `__metadata__`.
public struct ModelCard: Codable, Sendable, Equatable {
    /// Always `vidclass-model`.
    public var format: String
    /// The card's format version; this vidclass reads and writes 1.
    public var formatVersion: Int
    /// The model's name, shown in predictions and outputs (``Prediction/model``).
    public var name: String
    /// The network: encoder, recurrent layer and head, with their sizes.
    public var architecture: ModelDescription
    /// The class names, in the order of the network's outputs; as many as ``ModelDescription/numClasses``.
    public var labels: [String]
    /// How frames become the network's input: sampling, size, representation, normalisation.
    public var input: InputSpecification
    /// Where the model came from (dataset, date, metrics, recipe); nil for a model made in code.
    public var provenance: Provenance?

    /// A card in the current format (``format`` `vidclass-model`, ``formatVersion`` 1).
    public init(name: String, architecture: ModelDescription, labels: [String], input: InputSpecification,
                provenance: Provenance? = nil) {
        self.format = "vidclass-model"
        self.formatVersion = 1
        self.name = name
        self.architecture = architecture
        self.labels = labels
        self.input = input
        self.provenance = provenance
    }

    /// The metadata key holding the card.
    public static let metadataKey = "vidclass"

    /// The card stored in a model file's metadata (``metadataKey``), or nil when there is none or
    /// it is not a valid card.
    public init?(metadata: [String: String]) {
        guard let json = metadata[Self.metadataKey],
              let card = try? JSONDecoder().decode(ModelCard.self, from: Data(json.utf8)),
              card.problem() == nil else { return nil }
        self = card
    }

    /// Checks the card's internal consistency; returns the problem, or nil.
    public func problem() -> String? {
        if format != "vidclass-model" { return "format is '\(format)', expected 'vidclass-model'" }
        if formatVersion != 1 { return "format version \(formatVersion) is not supported (this vidclass reads 1)" }
        if labels.isEmpty { return "the model has no labels" }
        if labels.count != architecture.numClasses {
            return "\(labels.count) labels for \(architecture.numClasses) outputs"
        }
        if architecture.inputChannels != input.representation.channels {
            return "input '\(input.representation.rawValue)' has \(input.representation.channels) channels, the network takes \(architecture.inputChannels)"
        }
        // Bounds, so that a hostile file cannot make the network or its buffers absurdly large.
        if !(1...1024).contains(input.framesPerClip) || !(8...1024).contains(input.size) || !(input.size...4096).contains(input.shortSide) {
            return "input size \(input.size), short side \(input.shortSide), \(input.framesPerClip) frames per clip are not usable"
        }
        if !InputSpecification.usableClips.contains(input.clips) {
            return "\(input.clips) test-time clips are not usable (\(InputSpecification.usableClips.lowerBound) to \(InputSpecification.usableClips.upperBound))"
        }
        if input.mean.count != 3 || input.std.count != 3 || input.std.contains(where: { !($0 > 0) || !$0.isFinite })
            || input.mean.contains(where: { !$0.isFinite }) {
            return "mean and std need three finite values, std positive"
        }
        let a = architecture
        if !(1...8192).contains(a.hiddenSize) || !(1...16).contains(a.sequenceLayers) || !(1...100_000).contains(a.numClasses) {
            return "hidden size \(a.hiddenSize), \(a.sequenceLayers) recurrent layers, \(a.numClasses) classes are out of range"
        }
        if a.backbone == .small && (a.smallChannels.isEmpty || a.smallChannels.count > 8 || a.smallChannels.contains(where: { !(1...2048).contains($0) })) {
            return "encoder channels \(a.smallChannels) are out of range (1 to 8 stages of 1 to 2048)"
        }
        if a.backbone.isResNet && !(1...512).contains(a.resnetWidth) {
            return "ResNet width \(a.resnetWidth) is out of range (1 to 512)"
        }
        if !(0..<1).contains(a.headDropout) { return "head dropout \(a.headDropout) is not in [0, 1)" }
        return nil
    }
}

import Foundation
import NeuralNetwork
import VideoIO

/// How frames become the network's input: everything about preprocessing lives here, in the
/// model file, so training and inference cannot drift apart.
public struct InputSpecification: Codable, Sendable, Equatable {
    /// What each time step shows the network.
    public enum Representation: String, Codable, Sendable, CaseIterable {
        /// The sampled frames.
        case rgb
        /// The difference of consecutive sampled frames (a cheap motion signal).
        case diff
        /// Both, as six channels (RGB first).
        case rgbDiff = "rgb+diff"

        /// Channels per time step.
        public var channels: Int { self == .rgbDiff ? 6 : 3 }
        /// Whether frame differences are used (one more frame is sampled than time steps).
        public var usesDifferences: Bool { self != .rgb }
    }

    /// How a clip's frames are chosen (stored so that a model file says exactly what it was trained on).
    public enum Sampling: String, Codable, Sendable, CaseIterable {
        /// ``InputSpecification/sampledFrames`` frames spread over the whole clip by index,
        /// `round(linspace(0, frames - 1, n))`; training draws one at random from each of the n
        /// segments instead (temporal jitter).
        case uniform

        /// How the sampling reads in `info` and `--explain`.
        public var summary: String {
            switch self {
            case .uniform: "uniform by index over the clip (round(linspace(0, frames-1, n)))"
            }
        }
    }

    /// How decoded frames become the network's square input.
    public enum Resize: String, Codable, Sendable, CaseIterable {
        /// Scaled (bilinear) so the short side is ``InputSpecification/shortSide``, then the centered
        /// `size` square is cut (training cuts random windows, with small scale jitter).
        case shortSideCenterCrop = "short-side-center-crop"
    }

    public var representation: Representation
    /// How frames are chosen from a clip.
    public var sampling: Sampling
    /// How frames are scaled and cropped.
    public var resize: Resize
    /// Time steps per clip.
    public var framesPerClip: Int
    /// Network input size (square).
    public var size: Int
    /// Frames are scaled so the short side is this, then the centered `size` window is cut
    /// (training cuts random windows).
    public var shortSide: Int
    /// Per-channel mean and standard deviation of RGB in [0, 1]; differences are divided by `std`.
    public var mean: [Float]
    public var std: [Float]

    public init(representation: Representation = .rgb, framesPerClip: Int = 16, size: Int = 112,
                shortSide: Int? = nil, mean: [Float] = [0.45, 0.45, 0.45], std: [Float] = [0.225, 0.225, 0.225]) {
        self.representation = representation
        self.sampling = .uniform
        self.resize = .shortSideCenterCrop
        self.framesPerClip = framesPerClip
        self.size = size
        self.shortSide = shortSide ?? size * 8 / 7
        self.mean = mean
        self.std = std
    }

    enum CodingKeys: String, CodingKey {
        case representation, sampling, resize, framesPerClip, size, shortSide, mean, std
    }

    /// Reads a specification; `sampling` and `resize` default to the only ones model files written
    /// before they were recorded used.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        representation = try c.decode(Representation.self, forKey: .representation)
        sampling = try c.decodeIfPresent(Sampling.self, forKey: .sampling) ?? .uniform
        resize = try c.decodeIfPresent(Resize.self, forKey: .resize) ?? .shortSideCenterCrop
        framesPerClip = try c.decode(Int.self, forKey: .framesPerClip)
        size = try c.decode(Int.self, forKey: .size)
        shortSide = try c.decode(Int.self, forKey: .shortSide)
        mean = try c.decode([Float].self, forKey: .mean)
        std = try c.decode([Float].self, forKey: .std)
    }

    /// Frames sampled per clip: one more than the time steps when differences are used.
    public var sampledFrames: Int { framesPerClip + (representation.usesDifferences ? 1 : 0) }

    /// The decoding format: short side to ``shortSide``, centered square of that side.
    public var decodeFormat: FrameFormat {
        FrameFormat(size: FrameSize(shortSide), resize: .crop, shortSide: shortSide, interpolation: .bilinear)
    }
}

/// Where a model came from.
public struct Provenance: Codable, Sendable, Equatable {
    public var dataset: String?
    /// A hash of the dataset's file list and sizes.
    public var datasetHash: String?
    public var date: String?
    public var epochs: Int?
    /// Final metrics (e.g. `validation_accuracy`).
    public var metrics: [String: Double]
    public var vidclassVersion: String?
    /// The training options, as given.
    public var recipe: [String: String]

    public init(dataset: String? = nil, datasetHash: String? = nil, date: String? = nil, epochs: Int? = nil,
                metrics: [String: Double] = [:], vidclassVersion: String? = nil, recipe: [String: String] = [:]) {
        self.dataset = dataset
        self.datasetHash = datasetHash
        self.date = date
        self.epochs = epochs
        self.metrics = metrics
        self.vidclassVersion = vidclassVersion
        self.recipe = recipe
    }
}

/// The whole description of a model, stored as JSON under the key `vidclass` of the
/// safetensors file's `__metadata__`.
public struct ModelCard: Codable, Sendable, Equatable {
    /// Always `vidclass-model`.
    public var format: String
    public var formatVersion: Int
    public var name: String
    public var architecture: ModelDescription
    public var labels: [String]
    public var input: InputSpecification
    public var provenance: Provenance?

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
        if a.backbone == .resnet18 && !(1...512).contains(a.resnetWidth) {
            return "ResNet width \(a.resnetWidth) is out of range (1 to 512)"
        }
        if !(0..<1).contains(a.headDropout) { return "head dropout \(a.headDropout) is not in [0, 1)" }
        return nil
    }
}

import ArgumentParser
import NeuralNetwork
import VideoClassification

extension InputSpecification.Representation: ExpressibleByArgument {}
extension TrainingOptions.Schedule: ExpressibleByArgument {}
extension InputSpecification.Resize: ExpressibleByArgument {
    /// `crop` (or `short-side-center-crop`) and `stretch`.
    public init?(argument: String) {
        self.init(rawValue: argument == "crop" ? Self.shortSideCenterCrop.rawValue : argument)
    }
    public static var allValueStrings: [String] { ["crop", "stretch"] }
}
extension TrainingOptions.OptimizerKind: ExpressibleByArgument {}

extension ModelDescription.Backbone: ExpressibleByArgument, CaseIterable {
    public static var allCases: [ModelDescription.Backbone] { all }
    /// The raw value (`lrcn-mobilenet-v3-small`) or torchvision's name (`mobilenet_v3_small`).
    public init?(argument: String) { self.init(name: argument) }
}
extension TrainingConfiguration.SequenceModel: ExpressibleByArgument {}

/// `--model M`: a model file, or the embedded default.
struct ModelOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "A vidclass model file (.safetensors); default: the embedded model.")
    var model: String?

    func load() throws -> VideoModel {
        if let model { return try VideoModel(contentsOf: model) }
        return try DefaultModel.load()
    }
}

/// `--clips N`: test-time averaging for `classify`, `label` and `evaluate`.
struct ClipsOption: ParsableArguments {
    @Option(help: "Average the model's probabilities over N clips per video: interleaved samplings of the model's length spread over the whole video (test-time averaging; N× the decoding and network work). Default: the model's own (`info` shows it). The JSON records each clip's frames.")
    var clips: Int?

    func validate() throws {
        if let clips { try requireUsableClips(clips) }
    }

    /// A classifier for `model` averaging ``clips`` clips, its convolutions in `precision`.
    func classifier(_ model: VideoModel, precision: PrecisionOption) -> VideoClassifier {
        VideoClassifier(model: model, clips: clips, precision: precision.precision)
    }
}

extension InferencePrecision: ExpressibleByArgument {}

/// `--precision fp32|bf16`: the arithmetic of the network's convolutions.
struct PrecisionOption: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The arithmetic of the network's convolutions: fp32, or bf16 (the weights and inputs of the wider ones rounded to bfloat16, sums in fp32).",
        discussion: "bf16 is faster on CPUs with AVX-512 BF16 (AMD Zen 4, recent Intel Xeons); elsewhere it gives the same results more slowly. It can change a prediction whose top two classes are close."))
    var precision: InferencePrecision = .float32
}

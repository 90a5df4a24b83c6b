import ArgumentParser
import NeuralNetwork
import VideoClassification

extension InputSpecification.Representation: ExpressibleByArgument {}
extension TrainingOptions.Schedule: ExpressibleByArgument {}
extension TrainingOptions.OptimizerKind: ExpressibleByArgument {}

extension ModelDescription.Backbone: ExpressibleByArgument, CaseIterable {
    public static var allCases: [ModelDescription.Backbone] { [.small, .resnet18] }
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

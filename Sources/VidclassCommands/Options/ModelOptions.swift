import ArgumentParser
import NeuralNetwork
import VideoClassification

extension InputSpecification.Representation: ExpressibleByArgument {}
extension TrainingOptions.Schedule: ExpressibleByArgument {}
extension TrainingOptions.OptimizerKind: ExpressibleByArgument {}

/// The sequence model choices of `train`.
enum SequenceChoice: String, ExpressibleByArgument, CaseIterable {
    case lstm, gru, rnn
    /// No recurrence: frame features averaged over time (the ablation).
    case mean

    var kind: RecurrentKind {
        switch self {
        case .lstm, .mean: .lstm
        case .gru: .gru
        case .rnn: .rnnTanh
        }
    }
}

/// `--model M`: a model file, or the embedded default.
struct ModelOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "A vidclass model file (.safetensors); default: the embedded model.")
    var model: String?

    func load() throws -> VideoModel {
        if let model { return try VideoModel(contentsOf: model) }
        return try DefaultModel.load()
    }
}

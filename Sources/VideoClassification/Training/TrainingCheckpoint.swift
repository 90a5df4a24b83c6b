import Foundation
import NeuralNetwork
import Tensors

/// A training run's state after a complete epoch. With the model's weights (stored beside it in the
/// checkpoint file) it is everything a run needs to go on exactly as if it had never stopped: every
/// epoch's randomness comes from the seed and the epoch number alone.
public struct TrainingCheckpoint {
    /// The run's progress, stored as JSON in the checkpoint's metadata (``metadataKey``).
    public struct State: Codable, Sendable {
        /// Epochs completed.
        public var epoch: Int
        /// The epoch (1-based) whose weights validated best so far; nil without validation clips.
        public var bestEpoch: Int?
        /// That epoch's validation accuracy (0 to 1).
        public var bestAccuracy: Double?
        /// Epochs since the best one (for early stopping).
        public var epochsSinceBest: Int
        /// One summary per completed epoch.
        public var history: [EpochSummary]
        /// Updates folded into the weight average (``TrainingOptions/weightAveraging``); nil without one.
        public var averageUpdates: Int?
    }

    /// Epochs done, the best epoch so far, and the history.
    public var state: State
    /// The optimizer's state (`Optimizer.stateTensors()`).
    public var optimizer: [(String, Tensor)]
    /// The best epoch's weights, when they are not the model's current ones.
    public var bestWeights: [(String, Tensor)]?
    /// The weight average so far (``TrainingOptions/weightAveraging``).
    public var averagedWeights: [(String, Tensor)]?

    /// Names of a checkpoint's tensors that are not the model's weights start with this.
    public static let tensorPrefix = "training."
    /// The metadata key holding ``State`` as JSON.
    public static let metadataKey = "vidclass.training"
    static let optimizerPrefix = tensorPrefix + "optimizer."
    static let bestPrefix = tensorPrefix + "best."
    static let averagePrefix = tensorPrefix + "average."

    /// The tensors to store beside the model's weights.
    public var tensors: [(String, Tensor)] {
        optimizer.map { (Self.optimizerPrefix + $0.0, $0.1) } + (bestWeights ?? []).map { (Self.bestPrefix + $0.0, $0.1) }
            + (averagedWeights ?? []).map { (Self.averagePrefix + $0.0, $0.1) }
    }

    /// The metadata entries to store beside the model's card.
    public var metadata: [String: String] {
        // A diverged run's NaN losses are written as strings, so its checkpoint still reads back.
        let encoder = JSONEncoder.sorted
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let json = (try? encoder.encode(state)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return [Self.metadataKey: json]
    }

    /// Reads the training state from a checkpoint file; nil when the file holds none (a model file
    /// written without it).
    /// - Throws: `SafeTensorsError` when the state is there but cannot be read.
    public init?(file: SafeTensorsFile) throws {
        guard let json = file.metadata[Self.metadataKey] else { return nil }
        do {
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            state = try decoder.decode(State.self, from: Data(json.utf8))
        } catch {
            throw SafeTensorsError.invalidMetadata(reason: "'\(Self.metadataKey)' is not a training state: \(error)")
        }
        func tensors(_ prefix: String) throws -> [(String, Tensor)] {
            try file.names.filter { $0.hasPrefix(prefix) }.map { (String($0.dropFirst(prefix.count)), try file.tensor(named: $0)) }
        }
        optimizer = try tensors(Self.optimizerPrefix)
        let best = try tensors(Self.bestPrefix)
        bestWeights = best.isEmpty ? nil : best
        let average = try tensors(Self.averagePrefix)
        averagedWeights = average.isEmpty ? nil : average
    }

    init(state: State, optimizer: [(String, Tensor)], bestWeights: [(String, Tensor)]?, averagedWeights: [(String, Tensor)]? = nil) {
        self.state = state
        self.optimizer = optimizer
        self.bestWeights = bestWeights
        self.averagedWeights = averagedWeights
    }
}

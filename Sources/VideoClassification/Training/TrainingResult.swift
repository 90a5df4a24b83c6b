import Foundation

/// What a finished ``TrainingRun`` produced.
public struct TrainingResult: Sendable, Encodable {
    /// Cross-validation's outcome.
    public struct CrossValidation: Sendable, Encodable {
        /// Held-out accuracy of each fold (0 to 1).
        public var folds: [Double]
        /// The mean of the folds' accuracies (0 to 1).
        public var mean: Double
        /// The sample standard deviation of the folds' accuracies.
        public var std: Double
        /// Held-out accuracy per fold of the alternatives the same models measure at no training
        /// cost, by name: `clips=1` when ``TrainingOptions/evaluationClips`` averages more, and the
        /// weights without averaging (`weights=last`) when ``TrainingOptions/weightAveraging`` is on.
        public var variants: [String: [Double]] = [:]

        /// The mean and sample standard deviation of accuracies.
        public static func summary(_ accuracies: [Double]) -> (mean: Double, std: Double) {
            let mean = accuracies.reduce(0, +) / Double(max(accuracies.count, 1))
            let std = (accuracies.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(accuracies.count - 1, 1))).squareRoot()
            return (mean, std)
        }
    }

    /// The model file written (nil for cross-validation).
    public var output: String?
    /// The epoch (1-based) whose weights the model ends with, when validation chose them.
    public var bestEpoch: Int?
    /// `train_loss`, `train_accuracy`, `validation_accuracy`, `test_accuracy` (accuracies 0 to 1).
    public var metrics: [String: Double] = [:]
    /// One summary per epoch trained, in order (empty for cross-validation).
    public var history: [EpochSummary] = []
    /// The folds' accuracies, with ``TrainingConfiguration/folds``; nil otherwise.
    public var crossValidation: CrossValidation?
    /// Clips that could not be decoded and were left out.
    public var failures: [String] = []
    /// Clips trained on (after the split and without the ones that failed to decode).
    public var trainingClips = 0
    /// Validation clips, which choose the epoch whose weights are kept.
    public var validationClips = 0
    /// Held-out test clips, scored once at the end.
    public var testClips = 0
}

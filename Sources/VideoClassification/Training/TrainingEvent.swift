import Foundation

/// What happened in one epoch.
public struct EpochSummary: Sendable, Codable {
    /// The epoch, counted from 1.
    public var epoch: Int
    /// Mean training loss (cross-entropy with label smoothing) over the epoch's clips.
    public var loss: Double
    /// Accuracy on the training batches as they were trained (augmented), 0 to 1.
    public var trainAccuracy: Double
    /// Accuracy on the validation clips after the epoch, 0 to 1; nil without validation clips.
    public var validationAccuracy: Double?
    /// The learning rate at the epoch's last step.
    public var learningRate: Double
    /// Training throughput: clips trained per second of the epoch.
    public var clipsPerSecond: Double
    /// Wall-clock seconds the epoch took, validation included.
    public var seconds: Double

    /// A summary; every parameter sets the property of the same name.
    public init(epoch: Int, loss: Double, trainAccuracy: Double, validationAccuracy: Double?, learningRate: Double,
                clipsPerSecond: Double, seconds: Double) {
        self.epoch = epoch
        self.loss = loss
        self.trainAccuracy = trainAccuracy
        self.validationAccuracy = validationAccuracy
        self.learningRate = learningRate
        self.clipsPerSecond = clipsPerSecond
        self.seconds = seconds
    }
}

/// Progress events during training (for progress bars and logs).
public enum TrainingEvent: Sendable {
    /// A batch of epoch `epoch` (1-based) of `epochs` is done; `seconds` since the epoch began.
    case batch(epoch: Int, epochs: Int, batch: Int, batches: Int, loss: Double, accuracy: Double, clipsPerSecond: Double,
               seconds: Double)
    /// An epoch of `epochs` is done and validated.
    case epoch(EpochSummary, epochs: Int)
}

import Foundation

/// What happened in one epoch.
public struct EpochSummary: Sendable, Codable {
    public var epoch: Int
    public var loss: Double
    public var trainAccuracy: Double
    public var validationAccuracy: Double?
    public var learningRate: Double
    public var clipsPerSecond: Double
    public var seconds: Double

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
    case epoch(EpochSummary, epochs: Int)
}

import VidclassConcurrency
import Foundation

/// The run stopped before it finished (its `StopFlag` was set): the output was left alone.
public struct TrainingInterrupted: Error, Sendable, CustomStringConvertible {
    /// The checkpoint that holds the last complete epoch, if any.
    public var checkpoint: String?
    /// Epochs the checkpoint holds (0: none).
    public var epoch: Int
    /// What was interrupted, in one line.
    public var description: String
}

import Foundation

/// What a ``TrainingRun`` reports while it works.
public enum TrainingProgress: Sendable {
    /// Something worth telling a person (files ignored or skipped, a resume), in one line.
    case notice(String)
    /// Clips decoded so far; `framePools` for the second pass that decodes the frame pools of
    /// temporal jitter.
    case decoding(done: Int, total: Int, framePools: Bool)
    /// A decoding pass ended.
    case decoded
    /// Cross-validation starts fold `fold` (1-based) of `folds`.
    case foldStarted(fold: Int, folds: Int, trainingClips: Int, heldOutClips: Int)
    /// A batch or an epoch of training ended (`fold` is nil outside cross-validation).
    case training(TrainingEvent, fold: Int?, folds: Int?)
    /// Cross-validation finished fold `fold` with this held-out accuracy (0 to 1).
    case foldFinished(fold: Int, folds: Int, accuracy: Double)
}

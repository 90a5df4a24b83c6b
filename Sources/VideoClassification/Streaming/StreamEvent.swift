import Foundation

/// What a stream of frames yields.
public enum StreamEvent: Sendable {
    /// Scores after the frame with this index and time.
    case prediction(frameIndex: Int, time: Double, scores: [LabelScore])
    /// A label's smoothed probability reached the threshold.
    case started(label: String, time: Double, score: Double)
    /// The label that had started fell below the threshold.
    case ended(label: String, time: Double)

    /// The scores, for `.prediction`.
    public var scores: [LabelScore]? {
        if case .prediction(_, _, let s) = self { return s }
        return nil
    }
}

import Foundation

/// A label with its probability.
public struct LabelScore: Sendable, Codable, Equatable {
    /// The label, one of the model card's ``ModelCard/labels``.
    public var label: String
    /// Its probability, 0–1; the scores of all of a model's labels sum to 1.
    public var score: Double

    /// A label with its probability (0–1).
    public init(label: String, score: Double) {
        self.label = label
        self.score = score
    }
}

/// A frame the classifier used.
public struct UsedFrame: Sendable, Codable, Equatable {
    /// The frame's index in presentation order, counted from 0 (as `ffmpeg` numbers frames).
    public var index: Int
    /// The frame's presentation time in seconds from the start of the file.
    public var time: Double

    /// Frame `index` (presentation order, from 0) at `time` seconds.
    public init(index: Int, time: Double) {
        self.index = index
        self.time = time
    }
}

/// What a classification says about one video.
public struct Prediction: Sendable, Codable {
    /// The classified file, or `<frames>` (or the path given) for ``VideoClassifier/classify(frames:path:)``.
    public var path: String
    /// Every label, most probable first.
    public var scores: [LabelScore]
    /// The sampled frames, in order (with several clips, every frame any clip used, once).
    public var frames: [UsedFrame]
    /// With test-time averaging (``VideoClassifier/clips``), each clip's frame indices: the
    /// probabilities in ``scores`` are the mean of the clips'. Nil for one clip.
    public var clips: [[Int]]? = nil
    /// The model's name (``ModelCard/name``).
    public var model: String
    /// The model file's identity: the first 12 hex digits of its MD5 (``VideoModel/hash``), or
    /// `untrained` for a model that was never saved.
    public var modelHash: String
    /// Seconds spent per stage: `decode` (including opening), `preprocess`, `model` (the network)
    /// and `total`; which keys are present depends on how the clip was classified.
    public var timings: [String: Double]
    /// The arithmetic of the network's convolutions when it was not single precision (`bf16`:
    /// `InferencePrecision.bfloat16`); nil for single precision.
    public var inferencePrecision: String? = nil

    /// The most probable label.
    public var top: LabelScore { scores[0] }
}

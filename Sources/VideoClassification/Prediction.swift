import Foundation

/// A label with its probability.
public struct LabelScore: Sendable, Codable, Equatable {
    public var label: String
    public var score: Double

    public init(label: String, score: Double) {
        self.label = label
        self.score = score
    }
}

/// A frame the classifier used.
public struct UsedFrame: Sendable, Codable, Equatable {
    public var index: Int
    public var time: Double
}

/// What a classification says about one video.
public struct Prediction: Sendable, Codable {
    public var path: String
    /// Every label, most probable first.
    public var scores: [LabelScore]
    /// The sampled frames, in order.
    public var frames: [UsedFrame]
    public var model: String
    public var modelHash: String
    /// Seconds spent decoding (including opening), preprocessing, and in the network.
    public var timings: [String: Double]

    /// The most probable label.
    public var top: LabelScore { scores[0] }
}

import Foundation
import VideoIO

/// How frames become the network's input: everything about preprocessing lives here, in the
/// model file, so training and inference cannot drift apart.
public struct InputSpecification: Codable, Sendable, Equatable {
    /// What each time step shows the network.
    public enum Representation: String, Codable, Sendable, CaseIterable {
        /// The sampled frames.
        case rgb
        /// The difference of consecutive sampled frames (a cheap motion signal).
        case diff
        /// Both, as six channels (RGB first).
        case rgbDiff = "rgb+diff"

        /// Channels per time step.
        public var channels: Int { self == .rgbDiff ? 6 : 3 }
        /// Whether frame differences are used (one more frame is sampled than time steps).
        public var usesDifferences: Bool { self != .rgb }
    }

    /// How a clip's frames are chosen (stored so that a model file says exactly what it was trained on).
    public enum Sampling: String, Codable, Sendable, CaseIterable {
        /// ``InputSpecification/sampledFrames`` frames spread over the whole clip by index,
        /// `round(linspace(0, frames - 1, n))`; training draws one at random from each of the n
        /// segments instead (temporal jitter).
        case uniform

        /// How the sampling reads in `info` and `--explain`.
        public var summary: String {
            switch self {
            case .uniform: "uniform by index over the clip (round(linspace(0, frames-1, n)))"
            }
        }
    }

    /// How decoded frames become the network's square input.
    public enum Resize: String, Codable, Sendable, CaseIterable {
        /// Scaled (bilinear) so the short side is ``InputSpecification/shortSide``, then the centered
        /// `size` square is cut (training cuts random windows, with small scale jitter).
        case shortSideCenterCrop = "short-side-center-crop"
        /// The whole frame scaled (bilinear) to a ``InputSpecification/shortSide`` square, its
        /// aspect ratio not kept, then the centered `size` square is cut (training cuts random
        /// windows): nothing at the sides of a wide frame is lost, which matters when the action
        /// can be anywhere in the picture (surveillance cameras).
        case stretch

        /// How the resize reads in `info`.
        public func summary(size: Int, shortSide: Int) -> String {
            switch self {
            case .shortSideCenterCrop: "short side scaled to \(shortSide), centered \(size)x\(size) window"
            case .stretch: "whole frame scaled to \(shortSide)x\(shortSide) (aspect not kept), centered \(size)x\(size) window"
            }
        }
    }

    /// What each time step shows: RGB, frame differences, or both.
    public var representation: Representation
    /// How frames are chosen from a clip.
    public var sampling: Sampling
    /// How frames are scaled and cropped.
    public var resize: Resize
    /// Time steps per clip.
    public var framesPerClip: Int
    /// Network input size (square).
    public var size: Int
    /// Frames are scaled so the short side is this, then the centered `size` window is cut
    /// (training cuts random windows).
    public var shortSide: Int
    /// Per-channel mean (R, G, B) of RGB values in [0, 1], subtracted before dividing by ``std``;
    /// differences are divided by `std` alone.
    public var mean: [Float]
    /// Per-channel standard deviation (R, G, B) that normalised values are divided by; positive.
    public var std: [Float]
    /// Clips averaged per video unless told otherwise (test-time averaging,
    /// ``VideoClassifier/clips``): what the model was validated with. 1: the sampling once.
    public var clips = 1
    /// The test-time clip counts a model file, a classifier or a training run accepts.
    public static let usableClips = 1...64

    /// An input specification; `shortSide` defaults to `size × 8 / 7` (128 for 112).
    public init(representation: Representation = .rgb, framesPerClip: Int = 16, size: Int = 112,
                shortSide: Int? = nil, mean: [Float] = [0.45, 0.45, 0.45], std: [Float] = [0.225, 0.225, 0.225]) {
        self.representation = representation
        self.sampling = .uniform
        self.resize = .shortSideCenterCrop
        self.framesPerClip = framesPerClip
        self.size = size
        self.shortSide = shortSide ?? size * 8 / 7
        self.mean = mean
        self.std = std
    }

    enum CodingKeys: String, CodingKey {
        case representation, sampling, resize, framesPerClip, size, shortSide, mean, std, clips
    }

    /// Writes the specification; ``clips`` only when above 1 (files stay as older versions wrote them).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(representation, forKey: .representation)
        try c.encode(sampling, forKey: .sampling)
        try c.encode(resize, forKey: .resize)
        try c.encode(framesPerClip, forKey: .framesPerClip)
        try c.encode(size, forKey: .size)
        try c.encode(shortSide, forKey: .shortSide)
        try c.encode(mean, forKey: .mean)
        try c.encode(std, forKey: .std)
        if clips > 1 { try c.encode(clips, forKey: .clips) }
    }

    /// Reads a specification; `sampling` and `resize` default to the only ones model files written
    /// before they were recorded used.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        representation = try c.decode(Representation.self, forKey: .representation)
        sampling = try c.decodeIfPresent(Sampling.self, forKey: .sampling) ?? .uniform
        resize = try c.decodeIfPresent(Resize.self, forKey: .resize) ?? .shortSideCenterCrop
        framesPerClip = try c.decode(Int.self, forKey: .framesPerClip)
        size = try c.decode(Int.self, forKey: .size)
        shortSide = try c.decode(Int.self, forKey: .shortSide)
        mean = try c.decode([Float].self, forKey: .mean)
        std = try c.decode([Float].self, forKey: .std)
        clips = try c.decodeIfPresent(Int.self, forKey: .clips) ?? 1
    }

    /// Frames sampled per clip: one more than the time steps when differences are used.
    public var sampledFrames: Int { framesPerClip + (representation.usesDifferences ? 1 : 0) }

    /// The decoding format: short side to ``shortSide``, centered square of that side (or, for
    /// ``Resize/stretch``, the whole frame scaled to that square).
    public var decodeFormat: FrameFormat {
        switch resize {
        case .shortSideCenterCrop: FrameFormat(size: FrameSize(shortSide), resize: .crop, shortSide: shortSide, interpolation: .bilinear)
        case .stretch: FrameFormat(size: FrameSize(shortSide), resize: .stretch, interpolation: .bilinear)
        }
    }
}

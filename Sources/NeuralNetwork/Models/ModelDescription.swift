/// Everything needed to build an LRCN video classifier (Donahue et al., "Long-term Recurrent
/// Convolutional Networks", CVPR 2015): a per-frame CNN encoder, a recurrent layer over the frame
/// features, and a linear head. Codable, so it can live in a model file's metadata.
public struct ModelDescription: Codable, Sendable, Equatable {
    /// The per-frame encoder.
    public enum Backbone: String, Codable, Sendable {
        /// 4 × [Conv3×3 (no bias) → BN → ReLU → MaxPool2], then global average pooling.
        case small = "lrcn-small"
        /// torchvision's ResNet-18 without its fc layer.
        case resnet18 = "lrcn-resnet18"
    }

    /// How the recurrent outputs become logits.
    public enum Head: String, Codable, Sendable {
        /// `fc(out[:, -1, :])`, as `bench/models.py`.
        case lastStep = "last"
        /// `fc(mean over t of out[:, t, :])`: the recurrent outputs averaged over time.
        case meanOverTime = "mean"
        /// `fc(mean over t of features[:, t, :])`: no recurrence at all, the frame features averaged
        /// (the ablation that shows what the sequence model adds: it cannot see frame order).
        case featureMean = "feature-mean"
    }

    public var backbone: Backbone
    public var numClasses: Int
    /// Encoder channels after each block of `lrcn-small` (default `[32, 64, 128, 256]`).
    public var smallChannels: [Int]
    /// ResNet width of `layer1` (64 in torchvision; smaller only for tests).
    public var resnetWidth: Int
    public var sequenceKind: RecurrentKind
    public var hiddenSize: Int
    public var sequenceLayers: Int
    public var bidirectional: Bool
    public var head: Head
    /// Channels of each input frame: 3 for RGB or frame differences, 6 for both.
    public var inputChannels: Int
    /// Dropout probability before the linear head (training only).
    public var headDropout: Float

    public init(backbone: Backbone, numClasses: Int = 10, smallChannels: [Int] = [32, 64, 128, 256],
                resnetWidth: Int = 64, sequenceKind: RecurrentKind = .lstm, hiddenSize: Int = 256,
                sequenceLayers: Int = 1, bidirectional: Bool = false, head: Head = .lastStep,
                inputChannels: Int = 3, headDropout: Float = 0) {
        precondition(numClasses > 0 && hiddenSize > 0 && sequenceLayers > 0 && resnetWidth > 0, "invalid model size")
        precondition(inputChannels > 0 && headDropout >= 0 && headDropout < 1, "invalid input channels or dropout")
        precondition(!smallChannels.isEmpty, "lrcn-small needs at least one block")
        self.backbone = backbone
        self.numClasses = numClasses
        self.smallChannels = smallChannels
        self.resnetWidth = resnetWidth
        self.sequenceKind = sequenceKind
        self.hiddenSize = hiddenSize
        self.sequenceLayers = sequenceLayers
        self.bidirectional = bidirectional
        self.head = head
        self.inputChannels = inputChannels
        self.headDropout = headDropout
    }

    private enum CodingKeys: String, CodingKey {
        case backbone, numClasses, smallChannels, resnetWidth, sequenceKind, hiddenSize, sequenceLayers,
             bidirectional, head, inputChannels, headDropout
    }

    /// Decodes a description; fields added after the first version have defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(backbone: try c.decode(Backbone.self, forKey: .backbone),
                  numClasses: try c.decode(Int.self, forKey: .numClasses),
                  smallChannels: try c.decodeIfPresent([Int].self, forKey: .smallChannels) ?? [32, 64, 128, 256],
                  resnetWidth: try c.decodeIfPresent(Int.self, forKey: .resnetWidth) ?? 64,
                  sequenceKind: try c.decodeIfPresent(RecurrentKind.self, forKey: .sequenceKind) ?? .lstm,
                  hiddenSize: try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? 256,
                  sequenceLayers: try c.decodeIfPresent(Int.self, forKey: .sequenceLayers) ?? 1,
                  bidirectional: try c.decodeIfPresent(Bool.self, forKey: .bidirectional) ?? false,
                  head: try c.decodeIfPresent(Head.self, forKey: .head) ?? .lastStep,
                  inputChannels: try c.decodeIfPresent(Int.self, forKey: .inputChannels) ?? 3,
                  headDropout: try c.decodeIfPresent(Float.self, forKey: .headDropout) ?? 0)
    }

    /// The reference `lrcn-small` of DESIGN.md.
    public static func lrcnSmall(numClasses: Int = 10) -> ModelDescription {
        ModelDescription(backbone: .small, numClasses: numClasses)
    }

    /// The reference `lrcn-resnet18` of DESIGN.md.
    public static func lrcnResNet18(numClasses: Int = 10) -> ModelDescription {
        ModelDescription(backbone: .resnet18, numClasses: numClasses)
    }

    /// Size of the per-frame feature vector.
    public var featureSize: Int {
        switch backbone {
        case .small: smallChannels.last!
        case .resnet18: resnetWidth * 8
        }
    }
}

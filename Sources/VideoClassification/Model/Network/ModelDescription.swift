import NeuralNetwork

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
        /// torchvision's ResNet-34 without its fc layer.
        case resnet34 = "lrcn-resnet34"
        /// torchvision's ResNet-50 (bottleneck blocks) without its fc layer.
        case resnet50 = "lrcn-resnet50"
        /// torchvision's MobileNetV2 without its classifier.
        case mobilenetV2 = "lrcn-mobilenet-v2"
        /// torchvision's MobileNetV3-Small without its classifier.
        case mobilenetV3Small = "lrcn-mobilenet-v3-small"
        /// torchvision's MobileNetV3-Large without its classifier.
        case mobilenetV3Large = "lrcn-mobilenet-v3-large"
        /// torchvision's EfficientNet-B0 without its classifier.
        case efficientnetB0 = "lrcn-efficientnet-b0"

        /// Every encoder.
        public static let all: [Backbone] = [.small, .resnet18, .resnet34, .resnet50, .mobilenetV2, .mobilenetV3Small,
                                             .mobilenetV3Large, .efficientnetB0]

        /// torchvision's name for the encoder's network (`resnet50`, `mobilenet_v3_small`, …; `lrcn-small` has none).
        public var torchvisionName: String? {
            self == .small ? nil : String(rawValue.dropFirst("lrcn-".count)).replacingOccurrences(of: "-", with: "_")
        }

        /// The backbone called `name`: its raw value (`lrcn-mobilenet-v2`), or torchvision's name
        /// (`mobilenet_v2`), or either without the `lrcn-` prefix (`resnet50`, `small`).
        public init?(name: String) {
            let key = name.lowercased().replacingOccurrences(of: "_", with: "-")
            guard let match = Self.all.first(where: { $0.rawValue == key || $0.rawValue == "lrcn-" + key }) else { return nil }
            self = match
        }

        /// Whether the encoder is a ResNet (sized by ``ModelDescription/resnetWidth``).
        public var isResNet: Bool { self == .resnet18 || self == .resnet34 || self == .resnet50 }
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

    /// The per-frame CNN encoder.
    public var backbone: Backbone
    /// Outputs of the linear head: the number of labels.
    public var numClasses: Int
    /// Encoder channels after each block of `lrcn-small` (default `[32, 64, 128, 256]`).
    public var smallChannels: [Int]
    /// ResNet width of `layer1` (64 in torchvision; smaller only for tests).
    public var resnetWidth: Int
    /// The recurrent layer's cell: LSTM, GRU or a plain tanh RNN.
    public var sequenceKind: RecurrentKind
    /// Hidden units per direction of the recurrent layer.
    public var hiddenSize: Int
    /// Stacked recurrent layers.
    public var sequenceLayers: Int
    /// Whether the recurrent layer also reads the clip backwards (doubles the head's input; cannot stream).
    public var bidirectional: Bool
    /// How the recurrent outputs become the head's input: the last step or the mean over time.
    public var head: Head
    /// Channels of each input frame: 3 for RGB or frame differences, 6 for both.
    public var inputChannels: Int
    /// Dropout probability before the linear head (training only).
    public var headDropout: Float
    /// Width multiplier of the MobileNet and EfficientNet encoders (torchvision's `width_mult`,
    /// channels rounded to multiples of 8; 1 for the published networks).
    public var widthMultiplier: Double

    /// A description; the sizes must be positive and `headDropout` in [0, 1) (a precondition).
    /// Defaults are those of `lrcn-small`: channels `[32, 64, 128, 256]`, one LSTM layer of 256.
    public init(backbone: Backbone, numClasses: Int = 10, smallChannels: [Int] = [32, 64, 128, 256],
                resnetWidth: Int = 64, sequenceKind: RecurrentKind = .lstm, hiddenSize: Int = 256,
                sequenceLayers: Int = 1, bidirectional: Bool = false, head: Head = .lastStep,
                inputChannels: Int = 3, headDropout: Float = 0, widthMultiplier: Double = 1) {
        if let problem = Self.problem(numClasses: numClasses, smallChannels: smallChannels, resnetWidth: resnetWidth,
                                      hiddenSize: hiddenSize, sequenceLayers: sequenceLayers,
                                      inputChannels: inputChannels, headDropout: headDropout,
                                      widthMultiplier: widthMultiplier) {
            preconditionFailure(problem)
        }
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
        self.widthMultiplier = widthMultiplier
    }

    /// What makes these sizes unusable, or nil.
    static func problem(numClasses: Int, smallChannels: [Int], resnetWidth: Int, hiddenSize: Int, sequenceLayers: Int,
                        inputChannels: Int, headDropout: Float, widthMultiplier: Double) -> String? {
        if numClasses <= 0 || hiddenSize <= 0 || sequenceLayers <= 0 || resnetWidth <= 0 {
            return "invalid model size (classes \(numClasses), hidden \(hiddenSize), layers \(sequenceLayers), width \(resnetWidth))"
        }
        if inputChannels <= 0 || !(headDropout >= 0 && headDropout < 1) {
            return "invalid input channels (\(inputChannels)) or dropout (\(headDropout))"
        }
        if !(widthMultiplier > 0.05 && widthMultiplier <= 4) {
            return "width multiplier \(widthMultiplier) is out of range (0.05 to 4)"
        }
        if smallChannels.isEmpty || smallChannels.contains(where: { $0 <= 0 }) { return "lrcn-small needs blocks of positive width" }
        return nil
    }

    private enum CodingKeys: String, CodingKey {
        case backbone, numClasses, smallChannels, resnetWidth, sequenceKind, hiddenSize, sequenceLayers,
             bidirectional, head, inputChannels, headDropout, widthMultiplier
    }

    /// Decodes a description; fields added after the first version have defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let numClasses = try c.decode(Int.self, forKey: .numClasses)
        let smallChannels = try c.decodeIfPresent([Int].self, forKey: .smallChannels) ?? [32, 64, 128, 256]
        let resnetWidth = try c.decodeIfPresent(Int.self, forKey: .resnetWidth) ?? 64
        let hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? 256
        let sequenceLayers = try c.decodeIfPresent(Int.self, forKey: .sequenceLayers) ?? 1
        let inputChannels = try c.decodeIfPresent(Int.self, forKey: .inputChannels) ?? 3
        let headDropout = try c.decodeIfPresent(Float.self, forKey: .headDropout) ?? 0
        let widthMultiplier = try c.decodeIfPresent(Double.self, forKey: .widthMultiplier) ?? 1
        // A file is data, not code: unusable sizes are a decoding error, never a trap.
        if let problem = Self.problem(numClasses: numClasses, smallChannels: smallChannels, resnetWidth: resnetWidth,
                                      hiddenSize: hiddenSize, sequenceLayers: sequenceLayers,
                                      inputChannels: inputChannels, headDropout: headDropout,
                                      widthMultiplier: widthMultiplier) {
            throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath, debugDescription: problem))
        }
        self.init(backbone: try c.decode(Backbone.self, forKey: .backbone), numClasses: numClasses,
                  smallChannels: smallChannels, resnetWidth: resnetWidth,
                  sequenceKind: try c.decodeIfPresent(RecurrentKind.self, forKey: .sequenceKind) ?? .lstm,
                  hiddenSize: hiddenSize, sequenceLayers: sequenceLayers,
                  bidirectional: try c.decodeIfPresent(Bool.self, forKey: .bidirectional) ?? false,
                  head: try c.decodeIfPresent(Head.self, forKey: .head) ?? .lastStep,
                  inputChannels: inputChannels, headDropout: headDropout, widthMultiplier: widthMultiplier)
    }

    /// The reference `lrcn-small` of DESIGN.md.
    public static func lrcnSmall(numClasses: Int = 10) -> ModelDescription {
        ModelDescription(backbone: .small, numClasses: numClasses)
    }

    /// The reference `lrcn-resnet18` of DESIGN.md.
    public static func lrcnResNet18(numClasses: Int = 10) -> ModelDescription {
        ModelDescription(backbone: .resnet18, numClasses: numClasses)
    }

    /// A lower bound on the number of weights a file for this architecture holds (the
    /// convolution, recurrent and linear weight matrices; biases and batch-norm tensors come on
    /// top). Checked against a file before the network is built, so that a small file cannot make
    /// vidclass allocate a huge network.
    public var minimumParameterCount: Int {
        var count = 0
        switch backbone {
        case .small:
            var cin = inputChannels
            for cout in smallChannels {
                count += 9 * cin * cout
                cin = cout
            }
        case .resnet18:
            // conv1, layer1's four 3×3 convolutions, and three of the four in each later layer.
            let w = resnetWidth
            count += 49 * inputChannels * w + 36 * w * w + 27 * (4 + 16 + 64) * w * w
        case .resnet34:
            // conv1 and every block's two 3×3 convolutions but the first of each later layer.
            let w = resnetWidth
            count += 49 * inputChannels * w + 9 * w * w * (6 + 7 * 4 + 11 * 16 + 5 * 64)
        case .resnet50:
            // conv1 and every bottleneck's 3×3 convolution.
            let w = resnetWidth
            count += 49 * inputChannels * w + 9 * w * w * (3 + 4 * 4 + 6 * 16 + 3 * 64)
        case .mobilenetV2, .mobilenetV3Small, .mobilenetV3Large, .efficientnetB0:
            count += MobileEncoderSpecification(backbone, widthMultiplier: widthMultiplier)!.convolutionWeightCount
        }
        let gates = sequenceKind.gateCount
        let directions = bidirectional ? 2 : 1
        if head != .featureMean {
            var input = featureSize
            for _ in 0..<sequenceLayers {
                count += directions * gates * hiddenSize * (input + hiddenSize)
                input = hiddenSize * directions
            }
        }
        count += (head == .featureMean ? featureSize : hiddenSize * directions) * numClasses
        return count
    }

    /// Size `F` of the per-frame feature vector: the last of ``smallChannels`` for `lrcn-small`,
    /// `8 × resnetWidth` for ResNet-18 and -34, `32 × resnetWidth` for ResNet-50, the last
    /// convolution's channels for the MobileNets and EfficientNet (1280, 576, 960, 1280 at width 1).
    public var featureSize: Int {
        switch backbone {
        case .small: smallChannels.last!
        case .resnet18, .resnet34: resnetWidth * 8
        case .resnet50: resnetWidth * 32
        case .mobilenetV2, .mobilenetV3Small, .mobilenetV3Large, .efficientnetB0:
            MobileEncoderSpecification(backbone, widthMultiplier: widthMultiplier)!.last
        }
    }
}

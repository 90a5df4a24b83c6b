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

    /// A description; the sizes must be positive and `headDropout` in [0, 1) (a precondition).
    /// Defaults are those of `lrcn-small`: channels `[32, 64, 128, 256]`, one LSTM layer of 256.
    public init(backbone: Backbone, numClasses: Int = 10, smallChannels: [Int] = [32, 64, 128, 256],
                resnetWidth: Int = 64, sequenceKind: RecurrentKind = .lstm, hiddenSize: Int = 256,
                sequenceLayers: Int = 1, bidirectional: Bool = false, head: Head = .lastStep,
                inputChannels: Int = 3, headDropout: Float = 0) {
        if let problem = Self.problem(numClasses: numClasses, smallChannels: smallChannels, resnetWidth: resnetWidth,
                                      hiddenSize: hiddenSize, sequenceLayers: sequenceLayers,
                                      inputChannels: inputChannels, headDropout: headDropout) {
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
    }

    /// What makes these sizes unusable, or nil.
    static func problem(numClasses: Int, smallChannels: [Int], resnetWidth: Int, hiddenSize: Int, sequenceLayers: Int,
                        inputChannels: Int, headDropout: Float) -> String? {
        if numClasses <= 0 || hiddenSize <= 0 || sequenceLayers <= 0 || resnetWidth <= 0 {
            return "invalid model size (classes \(numClasses), hidden \(hiddenSize), layers \(sequenceLayers), width \(resnetWidth))"
        }
        if inputChannels <= 0 || !(headDropout >= 0 && headDropout < 1) {
            return "invalid input channels (\(inputChannels)) or dropout (\(headDropout))"
        }
        if smallChannels.isEmpty || smallChannels.contains(where: { $0 <= 0 }) { return "lrcn-small needs blocks of positive width" }
        return nil
    }

    private enum CodingKeys: String, CodingKey {
        case backbone, numClasses, smallChannels, resnetWidth, sequenceKind, hiddenSize, sequenceLayers,
             bidirectional, head, inputChannels, headDropout
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
        // A file is data, not code: unusable sizes are a decoding error, never a trap.
        if let problem = Self.problem(numClasses: numClasses, smallChannels: smallChannels, resnetWidth: resnetWidth,
                                      hiddenSize: hiddenSize, sequenceLayers: sequenceLayers,
                                      inputChannels: inputChannels, headDropout: headDropout) {
            throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath, debugDescription: problem))
        }
        self.init(backbone: try c.decode(Backbone.self, forKey: .backbone), numClasses: numClasses,
                  smallChannels: smallChannels, resnetWidth: resnetWidth,
                  sequenceKind: try c.decodeIfPresent(RecurrentKind.self, forKey: .sequenceKind) ?? .lstm,
                  hiddenSize: hiddenSize, sequenceLayers: sequenceLayers,
                  bidirectional: try c.decodeIfPresent(Bool.self, forKey: .bidirectional) ?? false,
                  head: try c.decodeIfPresent(Head.self, forKey: .head) ?? .lastStep,
                  inputChannels: inputChannels, headDropout: headDropout)
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
    /// `8 × resnetWidth` for `lrcn-resnet18`.
    public var featureSize: Int {
        switch backbone {
        case .small: smallChannels.last!
        case .resnet18: resnetWidth * 8
        }
    }
}

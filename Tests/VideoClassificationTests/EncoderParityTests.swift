import Foundation
import NeuralNetwork
import Tensors
import Testing
import VideoClassification
import VidclassTestSupport

/// The torchvision encoders against PyTorch, frames to probabilities, within 1e-4
/// (`Tools/import_pytorch.py --make-encoder-parity-fixtures Fixtures/pytorch`, run by hand):
/// - tiny versions of each (narrow ResNets, MobileNets and EfficientNet at small width
///   multipliers), converted by the import script exactly as a user's model is;
/// - the full-size networks, whose weights are not committed but drawn from a hash of each
///   `state_dict` key that the script and ``hashedTensor(_:shape:gamma:headScale:)`` compute alike;
///   their cards are the import script's.
struct EncoderParityTests {
    static let encoders = ["resnet34", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0"]

    func expectSameProbabilities(_ model: VideoModel, _ io: SafeTensorsFile, _ name: String) throws {
        let input = try io.tensor(named: "input")
        let expected = try io.tensor(named: "probabilities")
        let classes = model.card.labels.count
        let got = VideoClassifier(model: model).probabilities(input)
        let want = expected.scalars.map(Double.init)
        for clip in 0..<input.shape[0] {
            let row = Array(want[(clip * classes)..<((clip + 1) * classes)])
            let maxError = zip(got[clip], row).map { abs($0 - $1) }.max() ?? 1
            #expect(maxError < 1e-4, "\(name) clip \(clip): \(got[clip]) vs PyTorch \(row)")
        }
    }

    @Test(arguments: encoders)
    func tinyImportedModels(_ encoder: String) throws {
        let model = try VideoModel(contentsOf: TestPaths.fixture("pytorch/tiny_\(encoder).safetensors"))
        #expect(model.card.architecture.backbone == ModelDescription.Backbone(name: encoder))
        try expectSameProbabilities(model, try SafeTensorsFile(path: TestPaths.fixture("pytorch/tiny_\(encoder)_io.safetensors")),
                                    "tiny \(encoder)")
    }

    @Test(arguments: encoders)
    func fullSizeNetworks(_ encoder: String) throws {
        let io = try SafeTensorsFile(path: TestPaths.fixture("pytorch/full_\(encoder)_io.safetensors"))
        let card = try JSONDecoder().decode(ModelCard.self, from: Data(io.metadata["vidclass"]!.utf8))
        #expect(card.architecture.backbone == ModelDescription.Backbone(name: encoder))
        #expect(card.architecture.widthMultiplier == 1 && card.architecture.resnetWidth == 64)
        let gamma = try JSONDecoder().decode([Double].self, from: Data(io.metadata["gamma"]!.utf8))
        let headScale = Double(io.metadata["headScale"]!)!
        let model = VideoModel(card: card, seed: 0)
        for (name, p) in model.network.stateDictionary() {
            p.value = hashedTensor(name, shape: p.value.shape, gamma: (gamma[0], gamma[1]), headScale: headScale)
        }
        try expectSameProbabilities(model, io, encoder)
    }

    /// The full-size networks' feature sizes and parameter counts are torchvision's.
    @Test func torchvisionSizes() {
        let expected: [(ModelDescription.Backbone, features: Int, parameters: Int)] = [
            (.resnet34, 512, 21_284_672), (.resnet50, 2048, 23_508_032), (.mobilenetV2, 1280, 2_223_872),
            (.mobilenetV3Small, 576, 927_008), (.mobilenetV3Large, 960, 2_971_952), (.efficientnetB0, 1280, 4_007_548),
        ]
        for (backbone, features, parameters) in expected {
            let description = ModelDescription(backbone: backbone)
            #expect(description.featureSize == features, "\(backbone)")
            var rng = SplitMix64(seed: 0)
            rng.skipsTensorDraws = true
            let encoder = makeEncoder(description, rng: &rng)
            #expect(encoder.parameterCount == parameters, "\(backbone): \(encoder.parameterCount)")
            // The bound checked against a file before building the network is a lower bound.
            let whole = LRCN(description, initializingWeights: false).parameterCount
            #expect(description.minimumParameterCount <= whole && description.minimumParameterCount > whole / 2, "\(backbone)")
        }
    }
}

/// Streaming (one encoder pass per new frame, the recurrent state carried) gives what classifying
/// the whole clip gives, with every encoder.
@Suite struct EncoderStreamingTests {
    @Test(arguments: [ModelDescription.Backbone.resnet34, .resnet50, .mobilenetV2, .mobilenetV3Small, .mobilenetV3Large,
                      .efficientnetB0])
    func streamingEqualsClassify(_ backbone: ModelDescription.Backbone) async throws {
        let architecture = ModelDescription(backbone: backbone, numClasses: 3, resnetWidth: 4, hiddenSize: 8,
                                            widthMultiplier: 0.25)
        let card = ModelCard(name: "tiny", architecture: architecture, labels: ["a", "b", "c"],
                             input: InputSpecification(representation: .rgb, framesPerClip: 4, size: 32, shortSide: 36))
        let classifier = VideoClassifier(model: VideoModel(card: card, seed: 4))
        let frames = movingSquare(count: 4, side: 40)  // the clip is exactly the model's 4 frames
        let expected = try classifier.classify(frames: frames).scores
        var last: [LabelScore]?
        let stream = AsyncStream<VideoFrame> { continuation in
            for frame in frames { continuation.yield(frame) }
            continuation.finish()
        }
        for try await event in classifier.predictions(for: stream, options: StreamOptions(emit: .everyFrames(1))) {
            if let scores = event.scores { last = scores }
        }
        let got = try #require(last)
        #expect(got.map(\.label) == expected.map(\.label))
        #expect(zip(got, expected).allSatisfy { abs($0.score - $1.score) < 1e-4 }, "\(got) vs \(expected)")
    }
}

/// The channels-last encoders against the layers they are folded from (channels-first, unfused),
/// for batches split across threads by frames (4 per thread) and by layers (1), on odd frame sizes (tails of
/// every tile and vector block; the ResNets' Winograd tiles overhanging, their strided windows in
/// the padding, their long rows multiplied in blocks of k), with the instructions this CPU has (the test says which;
/// `scripts/test-encoders.sh` runs the installed binary with every instruction set the CPU has,
/// one process each, since the choice is global); and the same in bfloat16.
@Test(arguments: [ModelDescription.Backbone.small, .resnet18, .resnet34, .resnet50, .mobilenetV2, .mobilenetV3Small, .mobilenetV3Large,
                  .efficientnetB0])
func channelsLastMatchesTheLayers(_ backbone: ModelDescription.Backbone) {
    let lrcn = LRCN(ModelDescription(backbone: backbone, numClasses: 2, hiddenSize: 4), seed: 11)
    var rng = SplitMix64(seed: 7)
    let frames = Tensor.normal(shape: [4 * ComputeThreads.count, 3, 75, 61], using: &rng)
    let reference = lrcn.encoder.forward(frames, mode: .inference)
    let scale = max(1, reference.scalars.map(abs).max() ?? 0)
    let instructions = VectorInstructions.current
    let model = LRCNInference(lrcn)
    let together = model.frameFeatures(frames)
    #expect(together.maxAbsDifference(reference.reshaped(together.shape)) <= 1e-4 * scale, "\(backbone), \(instructions)")
    let floats = 3 * 75 * 61, f = together.shape[1]
    let alone = model.frameFeatures(Tensor(shape: [1, 3, 75, 61], scalars: Array(frames.scalars[(5 * floats)..<(6 * floats)])))
    let row = Tensor(shape: [1, f], scalars: Array(together.scalars[(5 * f)..<(6 * f)]))
    #expect(row.maxAbsDifference(alone) <= 1e-4 * scale, "\(backbone), \(instructions), one frame")
    if [.small, .resnet18, .resnet34, .resnet50].contains(backbone) {
        // Without Winograd, the 3×3 convolutions gather their windows like the strided ones.
        let direct = LRCNInference(lrcn, winograd: false).frameFeatures(frames)
        #expect(direct.maxAbsDifference(reference.reshaped(direct.shape)) <= 1e-4 * scale, "\(backbone), \(instructions), direct")
    }
    // In bfloat16 (8 significant bits for each convolution's inputs and weights, sums in fp32) the
    // features stay within 2 % of the layers' (as a whole), and differ from them (the bf16 path ran),
    // by frames and by layers, with and without Winograd; the snapshot says which precision it runs.
    let norm = reference.scalars.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
    let native = InferencePrecision.bfloat16IsNative
    for winograd in [ModelDescription.Backbone.small, .resnet18, .resnet34, .resnet50].contains(backbone) ? [true, false] : [true] {
        let model = LRCNInference(lrcn, winograd: winograd, precision: .bfloat16)
        #expect(model.precision == .bfloat16)
        for (name, input) in [("by frames", frames), ("one frame", Tensor(shape: [1, 3, 75, 61], scalars: Array(frames.scalars[0..<floats])))] {
            let features = model.frameFeatures(input)
            let expected = Array(reference.scalars[0..<features.count])
            let error = zip(features.scalars, expected).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
            let size = name == "one frame" ? expected.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot() : norm
            #expect(error <= 0.02 * size, "\(backbone), bf16, winograd \(winograd), \(name), native \(native): relative error \(error / size)")
            #expect(error >= 1e-5 * size, "\(backbone), bf16, \(name): fp32's features (\(error / size)): the bf16 path did not run")
        }
    }
}

/// Frames large enough that each block's expansion and depthwise convolution run in several strips
/// of rows (the rows two strips share kept, not recomputed), stride 1 and 2; one frame per thread,
/// so that the batch is split by frames (where the strips run). MobileNetV3's later blocks are large
/// enough here for their projections to take the squeeze-and-excitation's gates into their weights.
@Test(arguments: [ModelDescription.Backbone.mobilenetV2, .mobilenetV3Small, .mobilenetV3Large, .efficientnetB0])
func channelsLastStripsMatchTheLayers(_ backbone: ModelDescription.Backbone) {
    let lrcn = LRCN(ModelDescription(backbone: backbone, numClasses: 2, hiddenSize: 4), seed: 13)
    var rng = SplitMix64(seed: 9)
    let frames = Tensor.normal(shape: [ComputeThreads.count, 3, 200, 136], using: &rng)  // a frame per thread
    let reference = lrcn.encoder.forward(frames, mode: .inference)
    let scale = max(1, reference.scalars.map(abs).max() ?? 0)
    let features = LRCNInference(lrcn).frameFeatures(frames)
    #expect(features.maxAbsDifference(reference.reshaped(features.shape)) <= 1e-4 * scale, "\(backbone)")
}

/// The channels-last snapshot splits large batches by frames; every frame's features are those it
/// has alone.
@Test func channelsLastGroupsGiveEachFrameItsOwnFeatures() {
    let model = LRCNInference(LRCN(ModelDescription(backbone: .mobilenetV3Small, numClasses: 2, hiddenSize: 4), seed: 3))
    var rng = SplitMix64(seed: 5)
    // 130 frames: each thread takes its frames one at a time through the early blocks, then eight
    // at a time through the rest; a frame alone is split across threads inside each layer.
    let frames = Tensor.normal(shape: [130, 3, 96, 96], using: &rng)
    let together = model.frameFeatures(frames)
    let f = together.shape[1]
    for i in [0, 64, 113, 114, 129] {
        let alone = model.frameFeatures(Tensor(shape: [1, 3, 96, 96],
                                               scalars: Array(frames.scalars[(i * 3 * 96 * 96)..<((i + 1) * 3 * 96 * 96)])))
        let row = Tensor(shape: [1, f], scalars: Array(together.scalars[(i * f)..<((i + 1) * f)]))
        #expect(row.maxAbsDifference(alone) <= 1e-4 * max(1, alone.scalars.map(abs).max() ?? 0), "frame \(i)")
    }
}

/// A worker's frames through the later blocks in groups sized to the cache: with a budget small
/// enough, MobileNetV3-Small's and EfficientNet-B0's blocks run in phases of at least three group
/// sizes (the frames gathered between phases), and every frame's features are still the layers'.
@Test(arguments: [ModelDescription.Backbone.mobilenetV3Small, .efficientnetB0])
func channelsLastPhasesMatchTheLayers(_ backbone: ModelDescription.Backbone) throws {
    let lrcn = LRCN(ModelDescription(backbone: backbone, numClasses: 2, hiddenSize: 4), seed: 17)
    let encoder = try #require(ChannelsLastEncoder(lrcn.encoder, winograd: true))
    let frame = (h: 75, w: 61, c: 3)
    // A budget that mixes at least three group sizes.
    let budget = try #require((8...20).map { 1 << $0 }.first { budget in
        encoder.cachedActivationFloats = budget
        return Set(encoder.framePhases(frame).map(\.together)).count >= 3
    })
    encoder.cachedActivationFloats = budget
    let phases = encoder.framePhases(frame)
    #expect(phases.first?.blocks.lowerBound == 0 && zip(phases, phases.dropFirst()).allSatisfy { $0.blocks.upperBound == $1.blocks.lowerBound })
    var rng = SplitMix64(seed: 21)
    let frames = Tensor.normal(shape: [11 * ComputeThreads.count, 3, frame.h, frame.w], using: &rng)  // groups of 8 and 3
    let reference = lrcn.encoder.forward(frames, mode: .inference)
    let features = encoder.forward(frames, mode: .inference)
    let scale = max(1, reference.scalars.map(abs).max() ?? 0)
    #expect(features.maxAbsDifference(reference.reshaped(features.shape)) <= 1e-4 * scale, "\(backbone), \(phases)")
}

/// The import script's `hashed_tensor`: uniform values from a hash of the key and the index.
func hashedTensor(_ name: String, shape: [Int], gamma: (Double, Double), headScale: Double) -> Tensor {
    var seed: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in name.utf8 { seed = (seed ^ UInt64(byte)) &* 0x100_0000_01B3 }
    let lo: Double, hi: Double
    if name.hasSuffix("running_var") {
        (lo, hi) = (0.8, 1.2)
    } else if name.hasSuffix("running_mean") {
        (lo, hi) = (-0.1, 0.1)
    } else if shape.count == 1 {
        (lo, hi) = name.hasSuffix(".weight") ? gamma : (-0.1, 0.1)
    } else if shape.count == 4 {
        let bound = (6 / Double(shape[1] * shape[2] * shape[3])).squareRoot()
        (lo, hi) = (-bound, bound)
    } else {
        let bound = (name == "fc.weight" ? headScale : 1) / Double(shape[1]).squareRoot()
        (lo, hi) = (-bound, bound)
    }
    let count = shape.reduce(1, *)
    // A plain loop into the buffer (this runs unoptimized, over millions of weights).
    let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        for i in 0..<count {
            var x = (UInt64(i) &+ 1) &* 0x9E37_79B9_7F4A_7C15 ^ seed
            x ^= x >> 31
            x = x &* 0xBF58_476D_1CE4_E5B9
            x ^= x >> 27
            buffer[i] = Float(lo + (hi - lo) * (Double(x >> 40) / Double(1 << 24)))
        }
        initialized = count
    }
    return Tensor(shape: shape, scalars: values)
}

/// A snapshot asked for bfloat16 runs in it only where a convolution gains from it: an encoder too
/// narrow for any (at most 32 outputs each) stays, and says it stays, in single precision, with
/// fp32's features exactly.
@Test func narrowEncodersStayInSinglePrecision() {
    var narrow = ModelDescription(backbone: .small, numClasses: 2, hiddenSize: 4)
    narrow.smallChannels = [8, 16, 32, 32]
    let lrcn = LRCN(narrow, seed: 3)
    let model = LRCNInference(lrcn, precision: .bfloat16)
    #expect(model.precision == .float32)
    var rng = SplitMix64(seed: 4)
    let frames = Tensor.normal(shape: [2, 3, 40, 40], using: &rng)
    #expect(model.frameFeatures(frames).maxAbsDifference(LRCNInference(lrcn).frameFeatures(frames)) == 0)
    #expect(LRCNInference(LRCN(ModelDescription(backbone: .small, numClasses: 2, hiddenSize: 4), seed: 3), precision: .bfloat16).precision
            == .bfloat16)
}

import Foundation
import NeuralNetwork
import Tensors
import Testing
import VideoClassification

@Suite struct ModelTests {
    static let tinySmall = ModelDescription(backbone: .small, numClasses: 3, smallChannels: [4, 8, 8, 16], hiddenSize: 8)
    static let tinyResNet = ModelDescription(backbone: .resnet18, numClasses: 3, resnetWidth: 4, hiddenSize: 8)

    /// Weights saved by PyTorch (`safetensors.torch.save_file(model.state_dict())`, with I64
    /// `num_batches_tracked`; F16 for the ResNet) load unchanged and give PyTorch's logits and gradients.
    @Test(arguments: [("lrcn_small_tiny", tinySmall), ("lrcn_resnet_tiny", tinyResNet)])
    func parityWithPyTorch(name: String, description: ModelDescription) throws {
        let model = try LRCN(description, contentsOf: Golden.directory.appendingPathComponent("\(name)_weights.safetensors").path)
        let io = try Golden.file("\(name)_io")
        let x = try io.tensor(named: "in.x")
        let evalLogits = try io.tensor(named: "out.eval_logits")
        expectClose(model.forward(x, mode: .inference), evalLogits, forwardTolerance, "\(name) eval logits")
        expectClose(LRCNInference(model).logits(x), evalLogits, forwardTolerance, "\(name) fused eval logits")

        model.zeroGradients()
        let logits = model.forward(x, mode: .training)
        expectClose(logits, try io.tensor(named: "out.train_logits"), forwardTolerance, "\(name) train logits")
        let labels = try io.tensor(named: "in.labels").scalars.map { Int($0) }
        let (loss, dLogits) = CrossEntropyLoss()(logits, labels)
        #expect(abs(loss - (try io.tensor(named: "out.train_loss")).scalar) < 1e-4 * max(1, abs(loss)))
        _ = model.backward(dLogits)
        var checked = 0
        for (key, p) in model.namedParameters() where io.tensors["grad.\(key)"] != nil {
            expectClose(p.gradient, try io.tensor(named: "grad.\(key)"), gradientTolerance, "\(name) grad \(key)")
            checked += 1
        }
        #expect(checked >= 10)
    }

    /// Names and shapes of the full-size reference models equal PyTorch's `state_dict()`.
    @Test func fullSizeStateDictMatchesPyTorch() throws {
        let data = try Data(contentsOf: Golden.directory.appendingPathComponent("state_dict_keys.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [[Any]]])
        for (name, description) in [("lrcn-small", ModelDescription.lrcnSmall()),
                                    ("lrcn-resnet18", ModelDescription.lrcnResNet18())] {
            let expected = try #require(json[name]).compactMap { entry -> String? in
                let key = entry[0] as! String
                let shape = (entry[1] as! [NSNumber]).map(\.intValue)
                return key.hasSuffix("num_batches_tracked") ? nil : "\(key) \(shape)"
            }
            let model = LRCN(description)
            let got = model.stateDictionary().map { "\($0.0) \($0.1.value.shape)" }
            #expect(Set(got) == Set(expected), "\(name): \(Set(got).symmetricDifference(expected).sorted().prefix(6))")
            #expect(got.count == expected.count)
        }
        #expect(LRCN(.lrcnSmall()).parameterCount == 920_906 || LRCN(.lrcnSmall()).parameterCount > 900_000)
    }

    /// Full-size models saved by PyTorch, when the uncommitted goldens exist (see Tools/make_nn_goldens.py).
    @Test(.enabled(if: FileManager.default.fileExists(
        atPath: Golden.fullSizeDirectory.appendingPathComponent("lrcn-small.safetensors").path)),
          arguments: ["lrcn-small", "lrcn-resnet18"])
    func fullSizeParity(name: String) throws {
        let dir = Golden.fullSizeDirectory
        let description: ModelDescription = name == "lrcn-small" ? .lrcnSmall() : .lrcnResNet18()
        let model = try LRCN(description, contentsOf: dir.appendingPathComponent("\(name).safetensors").path)
        let io = try SafeTensorsFile(path: dir.appendingPathComponent("\(name)_io.safetensors").path)
        let expected = try io.tensor(named: "out.logits")
        expectClose(LRCNInference(model).logits(try io.tensor(named: "in.x")), expected, forwardTolerance, name)
    }

    @Test(arguments: [ModelDescription.Head.lastStep, .meanOverTime])
    func streamingEqualsWholeClip(head: ModelDescription.Head) {
        var d = Self.tinySmall
        d.head = head
        d.sequenceKind = .gru
        let model = LRCN(d, seed: 3)
        var rng = SplitMix64(seed: 4)
        let clip = Tensor.normal(shape: [2, 4, 3, 16, 16], using: &rng)
        let inference = LRCNInference(model)
        var state = StreamingState()
        for t in 0..<4 {
            let frames = clip.swappingFirstAxes().slice(t)
            let (logits, next) = inference.step(frames: frames, state: state)
            state = next
            let prefix = Tensor.stack((0...t).map { clip.swappingFirstAxes().slice($0) }).swappingFirstAxes()
            expectClose(logits, model.forward(prefix, mode: .inference), 1e-5, "step \(t)")
        }
    }

    /// A training step's backward pass without the clips' gradient (the first convolution skips the
    /// product that makes it) leaves every parameter's gradient with the same bits as the full
    /// backward pass, and a full backward pass after it gives the clips' gradient again.
    @Test(arguments: [ModelDescription.Backbone.small, .resnet18])
    func parameterGradientsWithoutTheClipsGradient(backbone: ModelDescription.Backbone) {
        let d = ModelDescription(backbone: backbone, numClasses: 3, smallChannels: [8, 16, 16], resnetWidth: 4,
                                 hiddenSize: 8)
        let full = LRCN(d, seed: 5), partial = LRCN(d, seed: 5)
        var rng = SplitMix64(seed: 6)
        let clips = Tensor.normal(shape: [2, 3, 3, 16, 16], using: &rng)
        let labels = [0, 2]
        full.zeroGradients()
        let dClips = full.backward(CrossEntropyLoss()(full.forward(clips, mode: .training), labels).1)
        partial.zeroGradients()
        partial.backwardParameters(CrossEntropyLoss()(partial.forward(clips, mode: .training), labels).1)
        #expect(dClips.shape == clips.shape && dClips.scalars.contains { $0 != 0 })
        let fullParameters = full.namedParameters(), partialParameters = partial.namedParameters()
        #expect(fullParameters.count == partialParameters.count && fullParameters.count >= 10)
        for ((name, p), (_, q)) in zip(fullParameters, partialParameters) {
            #expect(p.gradient.scalars == q.gradient.scalars, "\(name)")
        }
        partial.zeroGradients()
        let again = partial.backward(CrossEntropyLoss()(partial.forward(clips, mode: .training), labels).1)
        #expect(again.scalars == dClips.scalars)
    }

    @Test func configurableSequenceModels() {
        var d = Self.tinySmall
        d.sequenceKind = .rnnTanh
        d.sequenceLayers = 2
        d.bidirectional = true
        let model = LRCN(d)
        #expect(model.fc.inFeatures == 16)
        #expect(model.namedParameters().contains { $0.0 == "lstm.weight_hh_l1_reverse" })
        var rng = SplitMix64(seed: 1)
        let out = model.forward(Tensor.normal(shape: [2, 3, 3, 16, 16], using: &rng), mode: .inference)
        #expect(out.shape == [2, 3])
    }

    /// Roundtrip through a safetensors file keeps the logits.
    @Test func saveAndReload() throws {
        let model = LRCN(Self.tinySmall, seed: 9)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lrcn-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(to: path, metadata: ["architecture": "lrcn-small"])
        let reloaded = try LRCN(Self.tinySmall, contentsOf: path)
        var rng = SplitMix64(seed: 2)
        let x = Tensor.normal(shape: [1, 2, 3, 16, 16], using: &rng)
        #expect(model.forward(x, mode: .inference).scalars == reloaded.forward(x, mode: .inference).scalars)
        #expect(try SafeTensorsFile(path: path).metadata["architecture"] == "lrcn-small")
    }

    /// Order is the signal: brightening vs darkening clips. A short run must learn it.
    @Test func shortTrainingRunLearnsTemporalOrder() {
        let d = ModelDescription(backbone: .small, numClasses: 2, smallChannels: [4, 8], hiddenSize: 8)
        let model = LRCN(d, seed: 1)
        var rng = SplitMix64(seed: 2)
        let b = 8, t = 3, s = 8
        var clips = Tensor(shape: [b, t, 3, s, s])
        var labels: [Int] = []
        clips.withUnsafeMutableBufferPointer { p in
            for i in 0..<b {
                let label = i % 2
                labels.append(label)
                for f in 0..<t {
                    let level = Float(label == 0 ? f : t - 1 - f) - 1
                    for j in 0..<(3 * s * s) { p[((i * t + f) * 3 * s * s) + j] = level + 0.3 * rng.nextNormal() }
                }
            }
        }
        let optimizer = Adam(learningRate: 0.02)
        var first: Float = 0, last: Float = 0
        for step in 0..<60 {
            last = model.trainingStep(clips: clips, labels: labels, optimizer: optimizer, clipNorm: 5)
            if step == 0 { first = last }
        }
        #expect(first > 0.5)
        #expect(last < 0.1)
        let predictions = model.forward(clips, mode: .inference).argmaxRows()
        #expect(predictions == labels)
    }
}

@Suite struct BenchmarkEntryTests {
    /// The analytic FLOP count equals bench/models.py's (368.5 MFLOP/frame for lrcn-small at 112, 969.7 for ResNet-18).
    @Test func flopCountsMatchPeerHarness() {
        #expect(ModelBenchmark.encoderFLOPs(.lrcnSmall(), size: 112) == 368_492_544)  // Σ 2·9·Cin·Cout·(112/2^i)²
        let resnet = ModelBenchmark.encoderFLOPs(.lrcnResNet18(), size: 112)
        #expect(abs(resnet / 1e6 - 969.7) < 0.1)
    }

    // These run at the process's current thread count: the count is process-wide, and tests that
    // train in parallel compare bit-exact results that depend on how work is split.
    @Test func runsAndReportsTimings() {
        let d = ModelDescription(backbone: .small, numClasses: 2, smallChannels: [4, 8], hiddenSize: 4)
        let r = ModelBenchmark.inference(d, clips: 1, frames: 2, size: 16, iterations: 2, warmup: 0, threads: BLASThreads.count)
        #expect(r.seconds.count == 2 && r.seconds.allSatisfy { $0 > 0 })
        #expect(r.itemsPerIteration == 2 && r.flopsPerIteration > 0)
        let t = ModelBenchmark.training(d, clips: 2, frames: 2, size: 16, iterations: 1, warmup: 0, threads: BLASThreads.count)
        #expect(t.seconds.count == 1 && t.itemsPerIteration == 2)
    }
}

extension BenchmarkEntryTests {
    @Test func streamingBenchmarkRuns() {
        let d = ModelDescription(backbone: .small, numClasses: 2, smallChannels: [4, 8], hiddenSize: 4)
        let r = ModelBenchmark.streaming(d, frames: 3, size: 16, iterations: 1, warmup: 0, threads: BLASThreads.count)
        #expect(r.itemsPerIteration == 3 && r.seconds.count == 1 && r.gflopsPerSecond > 0)
        let plain = ModelBenchmark.inference(d, clips: 1, frames: 2, size: 16, iterations: 1, warmup: 0, threads: 2,
                                             winograd: false)
        #expect(plain.seconds.count == 1)
    }

    /// `bench model --tasks layers`: every convolution of the fused network (residual blocks
    /// included) is timed once, and their FLOPs add up to the encoder's.
    @Test(arguments: [ModelDescription.Backbone.small, .resnet18])
    func layerProfileCoversTheEncoder(backbone: ModelDescription.Backbone) {
        let d = ModelDescription(backbone: backbone, numClasses: 2, smallChannels: [4, 8], resnetWidth: 4, hiddenSize: 4)
        let layers = ModelBenchmark.layerProfile(d, clips: 1, frames: 2, size: 32, iterations: 1, threads: 1)
        #expect(layers.allSatisfy { $0.seconds > 0 })
        let flops = layers.reduce(0) { $0 + $1.flops }
        let expected = 2 * ModelBenchmark.encoderFLOPs(d, size: 32)
        #expect(abs(flops - expected) <= 1e-9 * expected, "\(flops) vs \(expected)")
        #expect(layers.filter { $0.name.contains("conv") }.count == (backbone == .small ? 2 : 20))
    }

    /// The same for the channels-last encoders: every operation (fused expansion, depthwise and
    /// projection as one) timed, their FLOPs adding up to the encoder's, in the network's order.
    @Test(arguments: [ModelDescription.Backbone.mobilenetV2, .mobilenetV3Small, .efficientnetB0])
    func layerProfileCoversTheChannelsLastEncoder(backbone: ModelDescription.Backbone) {
        let d = ModelDescription(backbone: backbone, numClasses: 2, hiddenSize: 4)
        let layers = ModelBenchmark.layerProfile(d, clips: 1, frames: 2, size: 64, iterations: 1, threads: 2)
        #expect(layers.allSatisfy { $0.seconds > 0 })
        // The stem runs with the depthwise convolution of the first block, a strip of rows at a time.
        #expect(layers.first?.name.hasPrefix("features.0+features.1.0") == true, "\(layers.first?.name ?? "none")")
        #expect(layers.first?.name.contains(" conv3x3/2 3→") == true && layers.first?.name.contains("+ depthwise3x3") == true,
                "\(layers.first?.name ?? "none")")
        #expect(layers.contains { $0.name.contains("conv1x1") && $0.name.contains("+ depthwise") })
        let flops = layers.reduce(0) { $0 + $1.flops }
        let expected = 2 * ModelBenchmark.encoderFLOPs(d, size: 64)
        #expect(abs(flops - expected) <= 0.01 * expected, "\(flops) vs \(expected)")
    }
}

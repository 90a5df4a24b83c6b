import Foundation
import NeuralNetwork
import Tensors
import Testing
import VideoClassification
import VideoIO
import VidclassTestSupport

struct TrainingTests {
    /// Two classes only frame order separates: the square moves right, or the same frames reversed.
    static func samples(_ count: Int) -> [Trainer.Sample] {
        (0..<count).map { n in
            var frames = movingSquare(count: 5, step: 2 + n % 2)
            if n % 2 == 1 { frames.reverse() }
            return Trainer.Sample(frames: frames, label: n % 2, path: "clip\(n)")
        }
    }

    /// 30 epochs of batches of 4 at a constant 1e-2, no label smoothing: enough for the tiny model.
    static var quickOptions: TrainingOptions {
        var options = TrainingOptions()
        options.epochs = 30
        options.batchSize = 4
        options.learningRate = 1e-2
        options.labelSmoothing = 0
        options.schedule = .constant
        return options
    }

    /// The tiny model trained 30 epochs on right-vs-left squares, and its trainer.
    static func trainRightLeft(validation: [Trainer.Sample] = []) -> (Trainer, [EpochSummary]) {
        let options = Self.quickOptions
        let trainer = Trainer(model: VideoModel(card: tinyCard(labels: ["right", "left"]), seed: 1), options: options)
        let history = trainer.fit(train: samples(8), validation: validation)
        return (trainer, history)
    }

    @Test func lossFallsAndOrderIsLearned() {
        let (trainer, history) = Self.trainRightLeft(validation: Self.samples(4))
        #expect(history.count == 30)
        #expect(history.last!.loss < history.first!.loss * 0.5, "loss \(history.first!.loss) → \(history.last!.loss)")
        #expect(trainer.accuracy(Self.samples(8)) == 1)
    }

    /// The ablation's premise: averaging per-frame features over time cannot tell a clip from its
    /// reversal when each step is a frame (rgb): the scores are the same. With differences as input
    /// each step's sign shows the direction, so even the average can; and the LSTM reads order.
    @Test func featureMeanIsBlindToOrderOnlyOnFrames() throws {
        func scores(_ head: ModelDescription.Head, _ representation: InputSpecification.Representation) -> (a: [Double], b: [Double]) {
            let classifier = VideoClassifier(model: VideoModel(card: tinyCard(representation: representation, head: head), seed: 7))
            let preprocessor = classifier.preprocessor
            // Exactly the frames the model samples, forwards and backwards.
            let frames = movingSquare(count: preprocessor.input.sampledFrames), reversed = Array(frames.reversed())
            return (classifier.probabilities(preprocessor.tensor(frames))[0],
                    classifier.probabilities(preprocessor.tensor(reversed))[0])
        }
        func gap(_ p: (a: [Double], b: [Double])) -> Double { zip(p.a, p.b).map { abs($0 - $1) }.max()! }
        #expect(gap(scores(.featureMean, .rgb)) < 1e-6)
        #expect(gap(scores(.featureMean, .diff)) > 1e-4)
        #expect(gap(scores(.lastStep, .rgb)) > 1e-4)
    }

    @Test func temporalJitterDrawsOneFramePerSegment() {
        var rng = SplitMix64(seed: 5)
        var seen = Set<[Int]>()
        for _ in 0..<50 {
            let indices = Trainer.jitterIndices(pool: 40, steps: 8, using: &rng)
            #expect(indices.count == 8)
            for (i, index) in indices.enumerated() { #expect((i * 5)..<((i + 1) * 5) ~= index, "step \(i) in its segment") }
            seen.insert(indices)
        }
        #expect(seen.count > 40, "draws differ")
        #expect(Trainer.jitterIndices(pool: 6, steps: 8, using: &rng) == Array(0..<6), "a short pool is used whole")
        #expect(Trainer.uniformIndices(pool: 9, steps: 5) == [0, 2, 4, 6, 8])
    }

    @Test func jitteredPoolsTrainAndEvaluateDeterministically() {
        // Training clips carry a pool of twice the frames; evaluation of a pool is the uniform sampling.
        let pools = (0..<8).map { n in
            var frames = movingSquare(count: 10, step: 1)
            if n % 2 == 1 { frames.reverse() }
            return Trainer.Sample(frames: frames, label: n % 2, path: "clip\(n)")
        }
        let options = Self.quickOptions
        let trainer = Trainer(model: VideoModel(card: tinyCard(labels: ["right", "left"]), seed: 1), options: options)
        let history = trainer.fit(train: pools, validation: [])
        #expect(history.last!.loss < history.first!.loss * 0.5, "loss \(history.first!.loss) → \(history.last!.loss)")
        #expect(trainer.probabilities(pools) == trainer.probabilities(pools), "evaluation does not jitter")
        #expect(trainer.accuracy(pools) == 1)
    }

    @Test func frozenEncoderTrainsOnlyTheHead() {
        var options = Self.quickOptions
        options.freezeEncoder = true
        let model = VideoModel(card: tinyCard(labels: ["right", "left"]), seed: 1)
        let encoderBefore = model.network.encoder.stateTensors()
        let headBefore = model.network.fc.stateTensors()
        let trainer = Trainer(model: model, options: options)
        let validation = Self.samples(6)
        let history = trainer.fit(train: Self.samples(8), validation: validation)
        #expect(history.last!.loss < history.first!.loss, "loss \(history.first!.loss) → \(history.last!.loss)")
        // Validation scored the frozen features computed once; the model kept the best epoch,
        // which classifying the clips again from their frames scores the same.
        let best = history.compactMap(\.validationAccuracy).max()!
        #expect(trainer.bestEpoch != nil && history[trainer.bestEpoch! - 1].validationAccuracy == best)
        #expect(trainer.accuracy(validation) == best, "\(history.map(\.validationAccuracy))")
        for ((name, before), (_, after)) in zip(encoderBefore, model.network.encoder.stateTensors()) {
            #expect(before.scalars == after.scalars, "\(name) stays frozen")
        }
        #expect(zip(headBefore, model.network.fc.stateTensors()).contains { $0.1.scalars != $1.1.scalars }, "the head learns")
    }

    /// Clips carrying pools of ten frames (temporal jitter draws from them), right and left.
    static var pools: [Trainer.Sample] {
        (0..<8).map { n in
            var frames = movingSquare(count: 10, step: 1)
            if n % 2 == 1 { frames.reverse() }
            return Trainer.Sample(frames: frames, label: n % 2, path: "clip\(n)")
        }
    }

    /// The default recipe (AdamW, one-cycle, label smoothing, clipping, augmentation, temporal
    /// jitter) with head dropout, for six short epochs.
    static func recipeRun(seed: UInt64 = 1, stop: StopFlag = StopFlag(), mixup: Float? = nil) -> Trainer {
        var options = TrainingOptions()
        options.epochs = 6
        options.batchSize = 4
        options.seed = seed
        options.mixup = mixup
        var card = tinyCard(labels: ["right", "left"])
        card.architecture.headDropout = 0.3
        return Trainer(model: VideoModel(card: card, seed: seed), options: options, stopRequest: stop)
    }

    @Test func labelsNamingADirectionFindTheirMirror() throws {
        let synth = ["fade_in", "grow", "move_left", "move_right", "move_up", "rotate_clockwise", "rotate_counterclockwise"]
        #expect(try #require(MirroredLabels(synth)).mirror == [0, 1, 3, 2, 4, 6, 5])
        let gestures = ["Swiping Left", "Swiping Right", "Turning Hand Clockwise", "Turning Hand Counter-Clockwise", "Thumb Up"]
        #expect(try #require(MirroredLabels(gestures)).mirror == [1, 0, 3, 2, 4])
        #expect(try #require(MirroredLabels(["swipeLeft", "swipeRight", "spin_cw", "spin_ccw", "anti clockwise", "clockwise"])).mirror
            == [1, 0, 3, 2, 5, 4])
        let undirected = try #require(MirroredLabels(["fight", "noFight", "Copyright"]))
        #expect(undirected.isIdentity, "'right' inside a word is not a direction")
        #expect(MirroredLabels(["turn_left", "stop"]) == nil, "a direction without its mirror: no flips")
        #expect(MirroredLabels(["left", "right", "rightwards"]) == nil)
    }

    /// Flipped clips train with their label mirrored. The left-moving clips here are the
    /// right-moving ones mirrored, so with the labels "right" and "left" a flipped clip is exactly a
    /// clip of the other class, and learns as one; with labels that name no direction, the same flips
    /// give each picture both labels.
    @Test func flipsMirrorTheLabelsThatNameADirection() {
        func mirrored(_ frame: VideoFrame) -> VideoFrame {
            var pixels = frame.pixels
            for y in 0..<frame.height {
                for x in 0..<frame.width {
                    for c in 0..<3 { pixels[(y * frame.width + x) * 3 + c] = frame.pixels[(y * frame.width + frame.width - 1 - x) * 3 + c] }
                }
            }
            return VideoFrame(index: frame.index, time: frame.time, timestamp: frame.timestamp, width: frame.width,
                              height: frame.height, pixels: pixels)
        }
        let clips = (0..<8).map { n in
            let frames = movingSquare(count: 5, step: 2 + (n / 2) % 2)
            return Trainer.Sample(frames: n % 2 == 0 ? frames : frames.map(mirrored), label: n % 2, path: "clip\(n)")
        }
        var options = Self.quickOptions
        options.flips = true
        func run(_ labels: [String]) -> (trainer: Trainer, trainAccuracy: Double) {
            let trainer = Trainer(model: VideoModel(card: tinyCard(labels: labels), seed: 1), options: options)
            let history = trainer.fit(train: clips, validation: [])
            return (trainer, history.suffix(10).map(\.trainAccuracy).reduce(0, +) / 10)
        }
        let mirrored = run(["right", "left"]), contradicted = run(["a", "b"])
        #expect(mirrored.trainer.mirroredLabels?.mirror == [1, 0])
        #expect(contradicted.trainer.mirroredLabels?.isIdentity == true)
        #expect(mirrored.trainer.accuracy(clips) == 1)
        #expect(mirrored.trainAccuracy > contradicted.trainAccuracy + 0.15,
                "flipped clips with mirrored labels: \(mirrored.trainAccuracy); with their own: \(contradicted.trainAccuracy)")
        // Test-time flipping: each clip's mirror image says the other direction, so it agrees with
        // the clip only once read back through the mirrored labels.
        #expect(mirrored.trainer.accuracy(clips, mirror: true) == 1)
        #expect(mirrored.trainer.probabilities(clips) != mirrored.trainer.probabilities(clips, mirror: true))
    }

    @Test func mirroringReversesEachRowAndReadsProbabilitiesBack() throws {
        let t = Tensor(shape: [1, 2, 1, 2, 3], scalars: (0..<12).map(Float.init))
        #expect(MirroredLabels.mirrored(t).scalars == [2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9])
        #expect(MirroredLabels.mirrored(MirroredLabels.mirrored(t)).scalars == t.scalars)
        let labels = try #require(MirroredLabels(["grow", "move_left", "move_right"]))
        #expect(labels.unmirrored([0.1, 0.7, 0.2]) == [0.1, 0.2, 0.7])
    }

    @Test func theSameSeedTrainsTheSameModel() {
        let a = Self.recipeRun(), b = Self.recipeRun(), c = Self.recipeRun(seed: 2)
        for trainer in [a, b, c] { trainer.fit(train: Self.pools, validation: Self.samples(4)) }
        #expect(a.history.map(\.loss) == b.history.map(\.loss))
        #expect(zip(a.model.network.stateTensors(), b.model.network.stateTensors()).allSatisfy { $0.1.scalars == $1.1.scalars })
        #expect(a.history.map(\.loss) != c.history.map(\.loss), "another seed trains differently")
    }

    /// A run stopped after epoch 3 and resumed from its saved checkpoint file ends with exactly the
    /// weights, history and chosen epoch of a run that never stopped: the optimizer's moments, the
    /// best epoch so far and every epoch's randomness (shuffle, crops, jitter, dropout, mixup's
    /// pairings and λ) carry over.
    @Test(arguments: [nil, 0.4] as [Float?])
    func aResumedRunMatchesAnUninterruptedOne(mixup: Float?) throws {
        let whole = Self.recipeRun(mixup: mixup)
        whole.fit(train: Self.pools, validation: Self.samples(4))
        #expect(whole.history.count == 6)

        let stop = StopFlag()
        let first = Self.recipeRun(stop: stop, mixup: mixup)
        let file = try TestPaths.temporaryDirectory("resume").appendingPathComponent("m.safetensors.checkpoint").path
        try first.fit(train: Self.pools, validation: Self.samples(4), checkpoint: { checkpoint in
            guard checkpoint.state.epoch == 3 else { return }
            try first.model.save(to: file, checkpoint: checkpoint)
            stop.set()
        })
        #expect(first.history.count == 3, "stopped after the checkpoint")

        let model = try VideoModel(contentsOf: file)  // a checkpoint is a model file as well
        let checkpoint = try #require(try TrainingCheckpoint(file: SafeTensorsFile(path: file)))
        #expect(checkpoint.state.epoch == 3 && checkpoint.state.history.count == 3)
        #expect(checkpoint.optimizer.count == 3 * model.network.namedParameters().count, "Adam's two moments and step count per parameter")
        let second = Self.recipeRun(mixup: mixup)
        #expect(second.model.network.stateTensors().first!.1.scalars != model.network.stateTensors().first!.1.scalars)
        let resumed = Trainer(model: model, options: second.options)
        try resumed.resume(from: checkpoint)
        resumed.fit(train: Self.pools, validation: Self.samples(4))
        #expect(resumed.history.map(\.epoch) == Array(1...6))
        #expect(resumed.history.map(\.loss) == whole.history.map(\.loss))
        #expect(resumed.history.map(\.validationAccuracy) == whole.history.map(\.validationAccuracy))
        #expect(resumed.bestEpoch == whole.bestEpoch)
        for ((name, a), (_, b)) in zip(whole.model.network.stateTensors(), resumed.model.network.stateTensors()) {
            #expect(a.scalars == b.scalars, "\(name)")
        }
    }

    /// Mixup: each batch's clips mixed with a random pairing of themselves (λ ≥ 0.5, from
    /// Beta(α, α)) and trained on both labels. A run with it is reproducible, differs from one
    /// without, still learns the order of frames, and records α; a frozen encoder's features are
    /// mixed the same way.
    @Test func mixupMixesBatchesAndStillLearns() {
        let x = Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
        let mixed = Trainer.mixed(x, pairedWith: [2, 0, 1], lambda: 0.75)
        #expect(mixed.shape == [3, 2])
        // Item b: 0.75 · x[b] + 0.25 · x[pairing[b]].
        let expected: [Float] = [2, 3, 2.5, 3.5, 4.5, 5.5]
        #expect(mixed.scalars == expected)
        func meanLambda(_ alpha: Float) -> Float {
            var rng = SplitMix64(seed: 3), sum: Float = 0
            for _ in 0..<4000 {
                let draw = Trainer.mixupDraw(alpha: alpha, batch: 5, using: &rng)
                #expect(draw.pairing.sorted() == Array(0..<5), "a permutation of the batch")
                #expect((0.5...1).contains(draw.lambda))
                sum += draw.lambda
            }
            return sum / 4000
        }
        // Beta(0.4, 0.4) is U-shaped (λ mostly near 1: little mixing), Beta(8, 8) peaks at 0.5:
        // E[max(β, 1 − β)] is 0.840 and 0.598 (standard errors over 4,000 draws 0.0024 and 0.0011).
        let (uShaped, peaked) = (meanLambda(0.4), meanLambda(8))
        #expect(abs(uShaped - 0.840) < 0.015 && abs(peaked - 0.598) < 0.008, "\(uShaped), \(peaked)")

        func run(_ alpha: Float?, frozen: Bool = false) -> Trainer {
            var options = Self.quickOptions
            options.mixup = alpha
            options.freezeEncoder = frozen
            let trainer = Trainer(model: VideoModel(card: tinyCard(labels: ["right", "left"]), seed: 1), options: options)
            trainer.fit(train: Self.samples(8), validation: [])
            return trainer
        }
        let a = run(0.4), b = run(0.4), plain = run(nil)
        #expect(a.history.map(\.loss) == b.history.map(\.loss))
        #expect(a.history.map(\.loss) != plain.history.map(\.loss), "mixed batches train differently")
        #expect(a.history.last!.loss < a.history.first!.loss * 0.8, "\(a.history.first!.loss) → \(a.history.last!.loss)")
        #expect(a.accuracy(Self.samples(8)) == 1)
        #expect(a.options.recipe["mixup"] == "0.4" && plain.options.recipe["mixup"] == "none")
        let frozen = run(0.4, frozen: true), frozenPlain = run(nil, frozen: true)
        #expect(frozen.history.map(\.loss) != frozenPlain.history.map(\.loss))
        #expect(frozen.history.last!.loss < frozen.history.first!.loss)

        for alpha: Float in [0, -1, .nan, .infinity] {
            var configuration = TrainingConfiguration(dataset: "clips/", output: "m.safetensors")
            configuration.options.mixup = alpha
            #expect(configuration.problem() != nil, "mixup \(alpha)")
        }
    }

    @Test func earlyStoppingEndsARunThatStopsImproving() {
        // A learning rate of 0: validation accuracy never improves after the first epoch.
        var options = Self.quickOptions
        options.learningRate = 0
        options.earlyStoppingPatience = 2
        let trainer = Trainer(model: VideoModel(card: tinyCard(labels: ["right", "left"]), seed: 1), options: options)
        let history = trainer.fit(train: Self.samples(8), validation: Self.samples(4))
        #expect(history.count == 3, "the best epoch and two without improvement")
        #expect(trainer.bestEpoch == 1)
        options.earlyStoppingPatience = nil
        #expect(Trainer(model: VideoModel(card: tinyCard(labels: ["right", "left"]), seed: 1), options: options)
            .fit(train: Self.samples(8), validation: Self.samples(4)).count == 30, "without patience every epoch runs")
    }

    @Test func balancedClassWeightsEqualiseTheClasses() {
        let weights = Trainer.balancedClassWeights([0, 0, 0, 0, 0, 0, 1, 1], classes: 3)
        #expect(weights == [8.0 / 18, 8.0 / 6, 0])
        // Each class's total weight is the same: 6 · 8/18 = 2 · 8/6.
        #expect(6 * weights[0] == 2 * weights[1])
        // The trainer uses them: on the same imbalanced clips, balancing changes the loss it reports.
        var options = Self.quickOptions
        options.epochs = 1
        func firstLoss(_ balance: Bool) -> Double {
            options.balanceClasses = balance
            let imbalanced = Self.samples(8).filter { $0.label == 0 } + Self.samples(2).filter { $0.label == 1 }
            return Trainer(model: VideoModel(card: tinyCard(labels: ["right", "left"]), seed: 1), options: options)
                .fit(train: imbalanced, validation: [])[0].loss
        }
        #expect(firstLoss(true) != firstLoss(false))
    }

    /// The defaults are the recipe that works from scratch.
    @Test func defaultsAreTheRecipe() {
        let o = TrainingOptions()
        #expect(o.epochs == 30 && o.batchSize == 16 && o.learningRate == 1e-3 && o.schedule == .onecycle)
        #expect(o.optimizer == .adamw && o.weightDecay == 1e-2 && o.labelSmoothing == 0.1 && o.clipNorm == 5)
        #expect(!o.flips && !o.balanceClasses && o.temporalJitter && o.earlyStoppingPatience == nil)
        #expect(o.weightAveraging == nil && o.evaluationClips == 1)
        let input = InputSpecification()
        #expect(input.framesPerClip == 16 && input.size == 112 && input.shortSide == 128 && input.sampling == .uniform)
        // A model trained from scratch sees frame differences at 64 × 64 unless told otherwise.
        let trained = TrainingConfiguration(dataset: "clips/", output: "m.safetensors").input
        #expect(trained.representation == .diff && trained.framesPerClip == 24 && trained.size == 64 && trained.shortSide == 73)
        #expect(trained.resize == .stretch, "the whole frame: the action may be at its sides")
    }

    @Test func aCheckpointWithADivergedLossReadsBack() throws {
        let trainer = Self.recipeRun()
        var saved: TrainingCheckpoint?
        trainer.fit(train: Self.pools, validation: [], checkpoint: { saved = $0 })
        var checkpoint = try #require(saved)
        checkpoint.state.history[0].loss = .nan
        checkpoint.state.history[1].loss = .infinity
        let file = try TestPaths.temporaryDirectory("nan").appendingPathComponent("m.checkpoint").path
        try trainer.model.save(to: file, checkpoint: checkpoint)
        let read = try #require(try TrainingCheckpoint(file: SafeTensorsFile(path: file)))
        #expect(read.state.history[0].loss.isNaN && read.state.history[1].loss == .infinity)
        #expect(read.state.epoch == 6)
        // A state that contradicts itself is refused before anything changes.
        var broken = read
        broken.state.epoch = -1
        #expect(throws: SafeTensorsError.self) { try Self.recipeRun().resume(from: broken) }
        broken = read
        broken.state.bestEpoch = 9
        broken.state.bestAccuracy = 1
        #expect(throws: SafeTensorsError.self) { try Self.recipeRun().resume(from: broken) }
    }

    @Test func stopRequestEndsTheRunEarly() {
        var options = TrainingOptions()
        options.epochs = 50
        let stop = StopFlag()
        stop.set()
        let trainer = Trainer(model: VideoModel(card: tinyCard(labels: ["right", "left"])), options: options, stopRequest: stop)
        #expect(trainer.fit(train: Self.samples(4), validation: []).count <= 1)
    }
}

/// `train`, `evaluate`, `classify`, `info` end to end on the built binary.
struct TrainingCommandTests {
    /// A tiny video dataset: squares moving right or left, plus one corrupt file.
    static func makeDataset() throws -> String {
        let root = try TestPaths.temporaryDirectory("videos").path
        for (label, direction) in [("right", 1), ("left", -1)] {
            try FileManager.default.createDirectory(atPath: root + "/" + label, withIntermediateDirectories: true)
            for n in 0..<4 {
                let writer = try VideoWriter(path: "\(root)/\(label)/clip\(n).avi", width: 32, height: 32, frameRate: 10, codec: .mjpeg)
                for f in 0..<8 {
                    var pixels = [UInt8](repeating: 90, count: 32 * 32 * 3)
                    let x0 = direction > 0 ? 2 + 3 * f : 24 - 3 * f
                    for y in (8 + n)..<(16 + n) { for x in max(0, x0)..<min(32, x0 + 8) { for c in 0..<3 { pixels[(y * 32 + x) * 3 + c] = 230 } } }
                    try writer.write(rgb: pixels)
                }
                try writer.finish()
            }
        }
        try Data("not a video".utf8).write(to: URL(fileURLWithPath: root + "/left/broken.mp4"))
        return root
    }

    @Test func trainEvaluateClassifyInfo() throws {
        let dataset = try Self.makeDataset()
        let out = try TestPaths.temporaryDirectory("model")
        let model = out.appendingPathComponent("m.safetensors").path
        let common = ["--frames", "4", "--size", "16", "--short-side", "20", "--input", "diff", "--batch-size", "4",
                      "--hidden", "16", "--validation-fraction", "0.25", "--seed", "3"]
        let train = try runVidclass(["train", dataset, "-o", model, "--epochs", "2", "--clips", "2", "--mixup", "0.3"] + common)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("skipped \(dataset)/left/broken.mp4"), "a corrupt clip is listed and skipped")
        #expect(train.stderr.contains("epoch 2/2"))
        #expect(FileManager.default.fileExists(atPath: model))
        #expect(!FileManager.default.fileExists(atPath: model + ".checkpoint"), "the checkpoint goes once training ends")

        let info = try runVidclass(["info", "--model", model, "--format", "json"])
        #expect(info.status == 0)
        let card = try JSONDecoder().decode(ModelCard.self, from: Data(info.stdout.utf8))
        #expect(card.labels == ["left", "right"])
        #expect(card.input.representation == .diff && card.input.framesPerClip == 4)
        #expect(card.provenance?.epochs == 2 && card.provenance?.datasetHash != nil)
        #expect(card.input.sampling == .uniform && card.input.resize == .stretch)
        #expect(card.input.clips == 2, "validated with two clips, the model is used with two")
        #expect(card.provenance?.recipe["mixup"] == "0.3", "\(card.provenance?.recipe ?? [:])")
        let infoText = try runVidclass(["info", "--model", model])
        #expect(infoText.status == 0)
        #expect(infoText.stdout.contains("sampling     5 frames, uniform by index over the clip"), "\(infoText.stdout)")
        #expect(infoText.stdout.contains("resize       stretch: whole frame scaled to 20x20 (aspect not kept), centered 16x16 window"), "\(infoText.stdout)")
        #expect(infoText.stdout.contains("labels       2: left, right"))

        let clip = dataset + "/right/clip0.avi"
        let classify = try runVidclass(["classify", clip, "--model", model, "--format", "json"])
        #expect(classify.status == 0, "\(classify.stderr)")
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(classify.stdout.utf8)) as? [[String: Any]])
        let labels = try #require(objects.first?["labels"] as? [[String: Any]])
        #expect(labels.count == 2)
        #expect((objects.first?["clips"] as? [[Int]])?.count == 2, "the model's own test-time clips by default")
        let once = try runVidclass(["classify", clip, "--model", model, "--format", "json", "--clips", "1"])
        #expect(once.status == 0 && !once.stdout.contains("\"clips\""), "--clips 1 overrides the model's")
        let total = labels.compactMap { $0["score"] as? Double }.reduce(0, +)
        #expect(abs(total - 1) < 1e-4)
        let onceObjects = try #require(try JSONSerialization.jsonObject(with: Data(once.stdout.utf8)) as? [[String: Any]])
        let frames = try #require(onceObjects.first?["frames"] as? [[String: Any]])
        let indices = frames.compactMap { $0["index"] as? Int }
        #expect(indices == [0, 2, 4, 5, 7], "diff input samples framesPerClip + 1 frames, round(linspace(0, 7, 5))")
        let times = frames.compactMap { $0["time"] as? Double }
        #expect(zip(indices, times).allSatisfy { abs(Double($0) / 10 - $1) < 1e-9 }, "times match the frames at 10 fps")

        let text = try runVidclass(["classify", clip, "--model", model, "--top", "1"])
        #expect(text.status == 0 && text.stdout.split(separator: "\n").count == 1)

        let svg = out.appendingPathComponent("cm.svg").path
        let evaluate = try runVidclass(["evaluate", dataset, "--model", model, "--format", "json", "--confusion-matrix", svg])
        #expect(evaluate.status == 0, "\(evaluate.stderr)")
        let report = try JSONDecoder().decode(ClassificationReport.self, from: Data(evaluate.stdout.utf8))
        #expect(report.count == 8)
        #expect(report.confusion.flatMap { $0 }.reduce(0, +) == 8)
        #expect(try String(contentsOfFile: svg, encoding: .utf8).hasPrefix("<svg"))

        // A frozen encoder started from this model, with a frame cache: the second run decodes nothing,
        // and the encoder's weights come through unchanged.
        let cache = out.appendingPathComponent("cache").path
        let frozen = out.appendingPathComponent("frozen.safetensors").path
        for run in 0..<2 {
            let result = try runVidclass(["train", dataset, "-o", frozen, "--epochs", "1", "--init-from", model, "--freeze-encoder",
                                          "--cache", cache] + common)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains(run == 0 ? "0 of 9 clips read from the cache" : "8 of 9 clips read from the cache"), "\(result.stderr)")
        }
        let before = try SafeTensorsFile(path: model), after = try SafeTensorsFile(path: frozen)
        let encoderNames = before.names.filter { $0.hasPrefix("encoder.") }
        #expect(!encoderNames.isEmpty)
        for name in encoderNames { #expect(try before.tensor(named: name).scalars == after.tensor(named: name).scalars, "\(name)") }
        #expect(try before.tensor(named: "fc.weight").scalars != after.tensor(named: "fc.weight").scalars)
        let noInit = try runVidclass(["train", dataset, "-o", frozen, "--freeze-encoder"] + common)
        #expect(noInit.status != 0 && noInit.stderr.contains("--init-from"))

        // A checkpoint in the way: a new run refuses to start over it; resuming it with other
        // options is refused too (it would not be exact), naming what changed.
        try FileManager.default.copyItem(atPath: model, toPath: model + ".checkpoint")
        let fresh = try runVidclass(["train", dataset, "-o", model, "--epochs", "2"] + common)
        #expect(fresh.status != 0 && fresh.stderr.contains("a checkpoint of an earlier run is in the way"), "\(fresh.stderr)")
        let changed = try runVidclass(["train", dataset, "-o", model, "--epochs", "3", "--resume", "--clips", "2", "--mixup", "0.3"] + common)
        #expect(changed.status != 0 && changed.stderr.contains("trained with other options (epochs 2 → 3)"), "\(changed.stderr)")
        let withoutMixup = try runVidclass(["train", dataset, "-o", model, "--epochs", "2", "--resume", "--clips", "2"] + common)
        #expect(withoutMixup.status != 0 && withoutMixup.stderr.contains("trained with other options (mixup 0.3 → none)"), "\(withoutMixup.stderr)")
        // A checkpoint of a vidclass that did not record mixup was trained without it.
        let older = try VideoModel(contentsOf: model)
        var olderCard = older.card
        olderCard.provenance?.recipe["mixup"] = nil
        try older.save(to: model + ".checkpoint", card: olderCard)
        let addedMixup = try runVidclass(["train", dataset, "-o", model, "--epochs", "2", "--resume", "--clips", "2", "--mixup", "0.3"] + common)
        #expect(addedMixup.status != 0 && addedMixup.stderr.contains("trained with other options (mixup none → 0.3)"), "\(addedMixup.stderr)")
    }

    /// SIGTERM in the middle of training: the run stops after its batch and exits 130, the
    /// checkpoint holds the last complete epoch with the optimizer's state, and the output is not
    /// written. `--resume` then finishes the run, and its model is the one a run that was never
    /// stopped makes, tensor for tensor.
    @Test func sigtermWhileTrainingCheckpointsAndResumeFinishesTheSameModel() throws {
        let dataset = try Self.makeDataset()
        let out = try TestPaths.temporaryDirectory("sigterm")
        // Enough epochs that the signal, sent once epoch 2 is reported, lands well before the
        // last one ends (about 2.5 s of tiny epochs left with the release binary).
        let epochs = 30
        // Explicit lists: two clips validate, two more are a test set seen only at the end.
        let validationList = out.appendingPathComponent("validation.txt").path, testList = out.appendingPathComponent("test.txt").path
        try "right/clip0.avi\nleft/clip0.avi\n".write(toFile: validationList, atomically: true, encoding: .utf8)
        try "# held out\nright/clip3.avi\n\(dataset)/left/clip3.avi\n".write(toFile: testList, atomically: true, encoding: .utf8)
        let common = ["--frames", "4", "--size", "16", "--short-side", "20", "--input", "diff", "--batch-size", "2",
                      "--hidden", "16", "--validation-list", validationList, "--test-list", testList, "--seed", "3",
                      "--epochs", "\(epochs)", "--dropout", "0.3"]
        let reference = out.appendingPathComponent("reference.safetensors").path
        let reportPath = out.appendingPathComponent("report.json").path
        let whole = try runVidclass(["train", dataset, "-o", reference, "--report", reportPath] + common)
        #expect(whole.status == 0, "\(whole.stderr)")
        // Thirty epochs on the generated videos: the loss falls.
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reportPath))) as? [String: Any])
        let losses = try #require(report["history"] as? [[String: Any]]).compactMap { $0["loss"] as? Double }
        #expect(losses.count == epochs && losses.last! < losses.first!, "\(losses)")
        #expect(whole.stderr.contains("4 training clips, 2 validation clips, 2 test clips"), "\(whole.stderr)")
        #expect(whole.stdout.contains("test accuracy") && whole.stdout.contains("on 2 clips"), "\(whole.stdout)")
        let card = try #require(VideoModel.card(atPath: reference))
        #expect(card.provenance?.metrics["test_accuracy"] != nil && card.provenance?.metrics["validation_accuracy"] != nil)

        let model = out.appendingPathComponent("m.safetensors").path
        let process = Process()
        process.executableURL = TestPaths.vidclassBinary
        process.arguments = ["train", dataset, "-o", model] + common
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var stderr = ""
        while !stderr.contains("epoch 2/\(epochs)") {  // plain lines: stderr is not a terminal
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            stderr += String(decoding: chunk, as: UTF8.self)
        }
        kill(process.processIdentifier, SIGTERM)
        stderr += String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 130, "\(process.terminationStatus): \(stderr.suffix(400))")
        #expect(stderr.contains("interrupted; the checkpoint \(model).checkpoint holds epoch"), "\(stderr.suffix(400))")
        #expect(!FileManager.default.fileExists(atPath: model), "an unfinished run does not write its output")
        let checkpoint = try #require(try TrainingCheckpoint(file: SafeTensorsFile(path: model + ".checkpoint")))
        #expect((2..<epochs).contains(checkpoint.state.epoch) && !checkpoint.optimizer.isEmpty)
        let info = try runVidclass(["info", "--model", model + ".checkpoint"])
        #expect(info.status == 0, "a checkpoint is a usable model file: \(info.stderr)")

        let resumed = try runVidclass(["train", dataset, "-o", model, "--resume"] + common)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming after epoch \(checkpoint.state.epoch)"))
        #expect(!resumed.stderr.contains("epoch \(checkpoint.state.epoch)/\(epochs) "), "completed epochs are not trained again")
        #expect(!FileManager.default.fileExists(atPath: model + ".checkpoint"))
        let a = try SafeTensorsFile(path: reference), b = try SafeTensorsFile(path: model)
        #expect(a.names == b.names)
        for name in a.names { #expect(try a.tensor(named: name).scalars == b.tensor(named: name).scalars, "\(name)") }

        // A checkpoint of other settings is refused rather than silently trained on.
        try FileManager.default.copyItem(atPath: reference, toPath: model + "2.checkpoint")
        let other = try runVidclass(["train", dataset, "-o", model + "2", "--resume"] + common.map { $0 == "4" ? "3" : $0 })
        #expect(other.status != 0 && other.stderr.contains("the checkpoint is of another model"), "\(other.stderr)")
    }

    /// A model made by hand to say "right" at 75 % for any clip: every weight zero, the head's bias
    /// log(1), log(3). On 4 right and 4 left clips the numbers are known exactly.
    @Test func evaluateGivesKnownNumbersOnAHandMadeModel() throws {
        let dataset = try Self.makeDataset()
        var card = tinyCard(labels: ["left", "right"])
        card.name = "always-right"
        let model = VideoModel(card: card)
        for (name, parameter) in model.network.namedParameters() {
            parameter.value = name == "fc.bias"
                ? Tensor(shape: [2], scalars: [0, Float(log(3.0))]) : Tensor(shape: parameter.value.shape)
        }
        let out = try TestPaths.temporaryDirectory("handmade")
        let path = out.appendingPathComponent("always-right.safetensors").path
        try model.save(to: path)

        let png = out.appendingPathComponent("cm.png").path
        let json = try runVidclass(["evaluate", dataset, "--model", path, "--format", "json", "--confusion-matrix", png])
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.stderr.contains("skipped \(dataset)/left/broken.mp4"))
        let report = try JSONDecoder().decode(ClassificationReport.self, from: Data(json.stdout.utf8))
        #expect(report.labels == ["left", "right"] && report.count == 8)
        #expect(report.top1 == 0.5 && report.top5 == 1 && report.meanClassAccuracy == 0.5)
        #expect(report.confusion == [[0, 4], [0, 4]], "rows are the truth, columns the prediction")
        let left = report.perClass[0], right = report.perClass[1]
        #expect(left.precision == 0 && left.recall == 0 && left.f1 == 0 && left.support == 4)
        #expect(right.precision == 0.5 && right.recall == 1 && abs(right.f1 - 2.0 / 3) < 1e-12 && right.support == 4)
        #expect(report.misclassified.count == 4)
        #expect(report.misclassified.allSatisfy { $0.truth == "left" && $0.predicted == "right" && abs($0.confidence - 0.75) < 1e-6 })
        #expect(Set(report.misclassified.map(\.path)) == Set((0..<4).map { "\(dataset)/left/clip\($0).avi" }))
        let image = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(image.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "a PNG file")
        let decoded = try VideoFile.probe(path: png)
        #expect(decoded.width > 50 && decoded.height > 50, "FFmpeg reads the picture: \(decoded.width)x\(decoded.height)")

        let text = try runVidclass(["evaluate", dataset, "--model", path])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("8 clips  top-1 50.00%  top-5 100.00%  mean class accuracy 50.00%"), "\(text.stdout)")
        #expect(text.stdout.contains("misclassified (4):"))
        #expect(text.stdout.contains("\(dataset)/left/clip0.avi  true left  predicted right (75.0%)"), "\(text.stdout)")
        let rows = text.stdout.split(separator: "\n").map(String.init)
        #expect(rows.contains { $0.hasPrefix("[0] left") && $0.hasSuffix("0   4") }, "\(text.stdout)")
    }

    /// `--folds 2`: two models, each scored on the clips it did not train on, and the mean and
    /// standard deviation of the two, printed and in the report.
    @Test func crossValidationReportsTheMeanAndSpread() throws {
        let dataset = try Self.makeDataset()
        let report = try TestPaths.temporaryDirectory("folds").appendingPathComponent("cv.json").path
        let result = try runVidclass(["train", dataset, "--folds", "2", "--group-by", "clip([0-9])", "--epochs", "1", "--frames", "4",
                                      "--size", "16", "--short-side", "20", "--input", "diff", "--hidden", "8", "--report", report,
                                      "--clips", "2", "--weight-averaging", "0.9", "--resize", "stretch", "--score-precisions", "bf16",
                                      "--flips"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("flipped clips take the mirrored label: right ↔ left") || result.stderr.contains("flipped clips take the mirrored label: left ↔ right"),
                "\(result.stderr)")
        #expect(result.stderr.contains("fold 1/2: 4 training clips, 4 held out") && result.stderr.contains("fold 2/2: 4 training clips, 4 held out"),
                "groups clip0..clip3 hold one right and one left clip each: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let folds = try #require(object["folds"] as? [Double]), mean = try #require(object["mean"] as? Double)
        let std = try #require(object["std"] as? Double)
        // The same models without test-time averaging, without the weight average, in bf16 and
        // with test-time flipping, measured in the same run.
        let variants = try #require(object["variants"] as? [String: [Double]])
        #expect(Set(variants.keys) == ["clips=1", "weights=last", "weights=last clips=1", "precision=bf16", "mirror"])
        #expect(variants.values.allSatisfy { $0.count == 2 && $0.allSatisfy { [0, 0.25, 0.5, 0.75, 1].contains($0) } }, "\(variants)")
        #expect(result.stdout.contains("the same models with clips=1: ") && result.stdout.contains("the same models with precision=bf16: "),
                "\(result.stdout)")
        let alone = try runVidclass(["train", dataset, "-o", report + ".safetensors", "--score-precisions", "bf16"])
        #expect(alone.status == 64 && alone.stderr.contains("--score-precisions") && alone.stderr.contains("--folds"), "\(alone.stderr)")
        #expect(folds.count == 2 && folds.allSatisfy { [0, 0.25, 0.5, 0.75, 1].contains($0) }, "\(folds)")
        #expect(abs(mean - (folds[0] + folds[1]) / 2) < 1e-12)
        #expect(abs(std - abs(folds[0] - folds[1]) / 2.0.squareRoot()) < 1e-12, "sample standard deviation")
        #expect(result.stdout.contains(String(format: "2-fold cross-validation: %.1f%% ± %.1f (mean ± std of 2 folds)", mean * 100, std * 100)), "\(result.stdout)")
    }

    @Test(.enabled(if: TestPaths.hasSharedData, "needs ../shared/data"))
    func sigtermWhileDecodingExitsPromptly() throws {
        // 300 real clips take many seconds to decode; SIGTERM after one must end the run at once.
        let dataset = TestPaths.sharedData.appendingPathComponent("surveillance-fight/labels.csv").path
        let process = Process()
        process.executableURL = TestPaths.vidclassBinary
        process.arguments = ["train", dataset, "--folds", "2", "--jobs", "1", "--input", "diff"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 1.5)
        let sent = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let waited = ContinuousClock.now - sent
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .exit && process.terminationStatus == 130, "\(process.terminationStatus): \(stderr.suffix(300))")
        #expect(stderr.contains("interrupted while decoding"))
        #expect(waited < .seconds(10), "stopped \(waited) after SIGTERM")
    }

    @Test func badInputsExitNonZeroWithAClearLine() throws {
        let dataset = try Self.makeDataset()
        let badModel = try TestPaths.temporaryDirectory().appendingPathComponent("bad.safetensors").path
        try Data("junk".utf8).write(to: URL(fileURLWithPath: badModel))
        let r1 = try runVidclass(["classify", dataset + "/right/clip0.avi", "--model", badModel])
        #expect(r1.status != 0 && r1.stderr.contains(badModel) && r1.stderr.contains("invalid model file"))
        let r2 = try runVidclass(["info", "--model", "/nonexistent/m.safetensors"])
        #expect(r2.status != 0 && r2.stderr.contains("/nonexistent/m.safetensors"))
        let oneClass = try TestPaths.temporaryDirectory().path
        try FileManager.default.createDirectory(atPath: oneClass + "/only", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: dataset + "/right/clip0.avi", toPath: oneClass + "/only/a.avi")
        let r3 = try runVidclass(["train", oneClass, "-o", oneClass + "/m.safetensors"])
        #expect(r3.status != 0 && r3.stderr.contains("at least two classes"))
    }
}

import VidclassConcurrency
import Foundation
import NeuralNetwork
import Tensors
import VideoIO

/// Trains a ``VideoModel`` on decoded clips: mini-batches of randomly augmented clips, the
/// optimizer and schedule of ``TrainingOptions``, validation after every epoch, the best epoch's
/// weights kept.
public final class Trainer {
    /// The model being trained; its network's weights change in place.
    public let model: VideoModel
    /// The recipe: epochs, batch size, optimizer, schedule, augmentation.
    public let options: TrainingOptions
    private let preprocessor: Preprocessor
    private var rng: SplitMix64
    /// With ``TrainingOptions/flips``: what each label becomes when its clip is mirrored; nil when
    /// flips are off, or when some label names a direction no other label mirrors (no flips then).
    public let mirroredLabels: MirroredLabels?
    /// Set from another thread (a signal handler) to stop after the current batch.
    public let stopRequest: StopFlag
    /// One summary per completed epoch, including those restored by ``resume(from:)``.
    public private(set) var history: [EpochSummary] = []
    /// The epoch to start from (a resumed run starts after its checkpoint's epoch).
    public private(set) var startEpoch = 0
    /// The parameters that learn (without the encoder's when it is frozen), and their optimizer.
    private let parameters: [(String, Parameter)]
    private let optimizer: any Optimizer
    /// The weight average, with ``TrainingOptions/weightAveraging``.
    private let average: WeightAverage?
    /// The best validated epoch (1-based) so far, and its weights.
    private var best: (epoch: Int, accuracy: Double, weights: [(String, Tensor)])?
    private var epochsSinceBest = 0

    /// A trainer for `model` with `options`; the optimizer starts afresh (see ``resume(from:)``).
    /// `stopRequest` ends ``fit(train:validation:progress:checkpoint:)`` after the current batch.
    public init(model: VideoModel, options: TrainingOptions, stopRequest: StopFlag = StopFlag()) {
        self.model = model
        self.stopRequest = stopRequest
        self.options = options
        self.preprocessor = Preprocessor(model.card.input)
        self.rng = SplitMix64(seed: options.seed)
        self.mirroredLabels = options.flips ? MirroredLabels(model.card.labels) : nil
        let network = model.network
        parameters = options.freezeEncoder
            ? network.namedParameters().filter { !$0.0.hasPrefix("encoder.") } : network.namedParameters()
        average = options.weightAveraging.map { decay in
            WeightAverage(network.stateDictionary().filter { !options.freezeEncoder || !$0.0.hasPrefix("encoder.") }, decay: decay)
        }
        switch options.optimizer {
        case .adamw: optimizer = Adam.adamW(learningRate: options.learningRate, weightDecay: options.weightDecay)
        case .adam: optimizer = Adam(learningRate: options.learningRate, weightDecay: options.weightDecay)
        case .sgd: optimizer = SGD(learningRate: options.learningRate, momentum: 0.9, weightDecay: options.weightDecay)
        }
    }

    /// Continues from a checkpoint taken after an epoch of a run with the same model, options and
    /// data; ``fit(train:validation:progress:checkpoint:)`` then trains the remaining epochs exactly
    /// as the first run would have. The model must already hold the checkpoint's weights.
    /// - Throws: `SafeTensorsError` when the checkpoint's optimizer state or best weights do not fit
    ///   this model; nothing is changed then.
    public func resume(from checkpoint: TrainingCheckpoint) throws {
        let state = checkpoint.state
        guard state.epoch >= 0, state.epochsSinceBest >= 0, state.bestEpoch.map({ (1...max(1, state.epoch)).contains($0) }) ?? true else {
            throw SafeTensorsError.invalidMetadata(reason: "training state: epoch \(state.epoch), best epoch \(state.bestEpoch.map(String.init) ?? "none") are not consistent")
        }
        var restoredBest: (epoch: Int, accuracy: Double, weights: [(String, Tensor)])?
        if let epoch = state.bestEpoch, let accuracy = state.bestAccuracy {
            let current = model.network.stateTensors()
            guard let weights = checkpoint.bestWeights ?? (epoch == state.epoch ? current : nil) else {
                throw SafeTensorsError.missingTensor(name: TrainingCheckpoint.bestPrefix + "*")
            }
            let given = Dictionary(weights.map { ($0.0, $0.1.shape) }, uniquingKeysWith: { a, _ in a })
            if let extra = Set(given.keys).subtracting(current.map(\.0)).sorted().first {
                throw SafeTensorsError.unexpectedTensors(names: [TrainingCheckpoint.bestPrefix + extra])
            }
            for (name, tensor) in current {
                guard let shape = given[name] else { throw SafeTensorsError.missingTensor(name: TrainingCheckpoint.bestPrefix + name) }
                guard shape == tensor.shape else {
                    throw SafeTensorsError.shapeMismatch(name: TrainingCheckpoint.bestPrefix + name, expected: tensor.shape, found: shape)
                }
            }
            restoredBest = (epoch, accuracy, weights)
        }
        var averaged: [String: Tensor]?
        if let average {
            guard let weights = checkpoint.averagedWeights, state.averageUpdates != nil else {
                throw SafeTensorsError.missingTensor(name: TrainingCheckpoint.averagePrefix + "*")
            }
            averaged = Dictionary(weights, uniquingKeysWith: { a, _ in a })
            try average.check(averaged!)
        }
        try optimizer.loadState(Dictionary(checkpoint.optimizer, uniquingKeysWith: { a, _ in a }), for: parameters)
        if let average, let averaged, let updates = state.averageUpdates {
            if average.isSwappedIn { average.swap() }
            try average.load(averaged, updates: updates)  // (checked above: it cannot fail now)
        }
        startEpoch = state.epoch
        history = state.history
        best = restoredBest
        epochsSinceBest = state.epochsSinceBest
    }

    /// Starts after `epoch` completed epochs with a fresh optimizer (a checkpoint that holds weights
    /// but no training state).
    public func resume(afterEpoch epoch: Int) {
        startEpoch = epoch
    }

    /// The state after `epoch` completed epochs.
    private func makeCheckpoint(after epoch: Int) -> TrainingCheckpoint {
        TrainingCheckpoint(
            state: .init(epoch: epoch, bestEpoch: best?.epoch, bestAccuracy: best?.accuracy,
                         epochsSinceBest: epochsSinceBest, history: history, averageUpdates: average?.updates),
            optimizer: optimizer.stateTensors(),
            // (With averaging, the best weights are averaged ones, never the model's current weights.)
            bestWeights: best.flatMap { $0.epoch == epoch && average == nil ? nil : $0.weights },
            averagedWeights: average?.tensors)
    }

    /// The generator seed of one epoch: its shuffle, augmentation, temporal jitter and dropout
    /// masks depend on the run's seed and the epoch alone.
    static func epochSeed(_ seed: UInt64, _ epoch: Int) -> UInt64 {
        var mixer = SplitMix64(seed: seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15))
        return mixer.next()
    }

    /// A clip ready for training: its decoded frames and class index. Training clips may carry
    /// more frames than the model samples (a pool for temporal jitter, see ``TrainingOptions/temporalJitter``).
    public struct Sample: Sendable {
        /// The clip's decoded frames, in order (the model's sampled frames, or a larger pool).
        public var frames: [VideoFrame]
        /// The clip's class: an index into the model card's ``ModelCard/labels``.
        public var label: Int
        /// The clip's file, for reports.
        public var path: String
        /// For evaluation with test-time averaging: the clips whose probabilities are averaged
        /// (``Preprocessor/clips(_:count:)`` of frames decoded for several clips). Nil: ``frames``
        /// is the one clip.
        public var clips: [[VideoFrame]]?
        /// A sample; every parameter sets the property of the same name.
        public init(frames: [VideoFrame], label: Int, path: String, clips: [[VideoFrame]]? = nil) {
            self.frames = frames
            self.label = label
            self.path = path
            self.clips = clips
        }
    }

    /// Builds a batch tensor `[B, T, C, S, S]` (augmented when `augment`) and the clips' labels (a
    /// mirrored clip's label mirrored, see ``mirroredLabels``).
    func batch(_ samples: ArraySlice<Sample>, augment: Bool) -> (input: Tensor, labels: [Int]) {
        let input = model.card.input
        var clips: [[VideoFrame]] = [], augmentations: [Preprocessor.Augmentation?] = [], labels: [Int] = []
        for sample in samples {
            let augmentation = augment
                ? Preprocessor.Augmentation.random(for: input, flips: mirroredLabels != nil, using: &rng) : nil
            augmentations.append(augmentation)
            labels.append(augmentation?.flip == true ? mirroredLabels.map { $0[sample.label] } ?? sample.label : sample.label)
            let indices = augment
                ? Self.jitterIndices(pool: sample.frames.count, steps: input.sampledFrames, using: &rng)
                : Self.uniformIndices(pool: sample.frames.count, steps: input.sampledFrames)
            clips.append(indices.map { sample.frames[$0] })
        }
        return (preprocessor.batch(clips, augmentations: augmentations), labels)
    }

    /// Indices into a pool of `pool` frames for `steps` time steps: one at random from each of
    /// `steps` equal segments (TSN-style), increasing; the whole pool when it is no larger than `steps`.
    public static func jitterIndices(pool: Int, steps: Int, using rng: inout SplitMix64) -> [Int] {
        guard pool > steps else { return Array(0..<pool) }
        let width = Double(pool) / Double(steps)
        return (0..<steps).map { i in
            min(pool - 1, Int(Double(i) * width + Double(rng.nextFloat(in: 0, 1)) * width))
        }
    }

    /// `round(linspace(0, pool - 1, steps))` (the model's own uniform sampling); the whole pool
    /// when it is no larger than `steps`.
    public static func uniformIndices(pool: Int, steps: Int) -> [Int] {
        pool > steps ? FrameSampling.uniformIndices(count: steps, frameCount: pool) : Array(0..<pool)
    }

    /// Class probabilities for samples (center crops, inference mode, the convolutions in
    /// `precision`), in batches; a sample with ``Sample/clips`` gets the mean of its clips' probabilities.
    ///
    /// With `mirror`, each clip is also scored mirrored left to right, its probabilities read back
    /// through ``MirroredLabels`` of the model's labels, and the two averaged (test-time flipping;
    /// nothing changes when a label names a direction that no other label mirrors).
    public func probabilities(_ samples: [Sample], precision: InferencePrecision = .float32, mirror: Bool = false) -> [[Double]] {
        let split = samples.map { sample in
            (sample.clips ?? [sample.frames]).map { Sample(frames: $0, label: sample.label, path: sample.path) }
        }
        let labels = mirror ? MirroredLabels(model.card.labels) : nil
        return VideoClassifier.averaged(singleClipProbabilities(split.flatMap { $0 }, precision: precision, mirror: labels),
                                        groups: split.map(\.count))
    }

    private func singleClipProbabilities(_ samples: [Sample], precision: InferencePrecision, mirror: MirroredLabels?) -> [[Double]] {
        let inference = LRCNInference(model.network, precision: precision)
        var rows: [[Double]] = []
        let k = model.card.labels.count
        func scores(_ input: Tensor, count: Int) -> [[Double]] {
            softmax(inference.logits(input)).withUnsafeBufferPointer { p in
                (0..<count).map { b in (0..<k).map { Double(p[b * k + $0]) } }
            }
        }
        for start in stride(from: 0, to: samples.count, by: max(1, options.batchSize)) {
            let chunk = samples[start..<min(samples.count, start + options.batchSize)]
            let input = batch(chunk, augment: false).input
            let plain = scores(input, count: chunk.count)
            guard let mirror else {
                rows.append(contentsOf: plain)
                continue
            }
            let mirrored = scores(MirroredLabels.mirrored(input), count: chunk.count).map(mirror.unmirrored)
            rows.append(contentsOf: zip(plain, mirrored).map { a, b in zip(a, b).map { ($0 + $1) / 2 } })
        }
        return rows
    }

    /// Per-frame encoder features `[T, F]` of each sample (center crops), from `inference`'s
    /// encoder: the features `classify` computes with the same weights.
    func features(_ samples: [Sample], with inference: LRCNInference) -> [Tensor] {
        var out: [Tensor] = []
        for start in stride(from: 0, to: samples.count, by: max(1, options.batchSize)) {
            let chunk = samples[start..<min(samples.count, start + options.batchSize)]
            let features = inference.clipFeatures(batch(chunk, augment: false).input)
            for n in 0..<chunk.count { out.append(features.slice(n)) }
        }
        return out
    }

    /// Top-1 accuracy of the head on fixed per-clip features `[T, F]` (a frozen encoder's).
    private func accuracy(features: [Tensor], labels: [Int], with inference: LRCNInference) -> Double {
        guard !features.isEmpty else { return 0 }
        var correct = 0
        for start in stride(from: 0, to: features.count, by: max(1, options.batchSize)) {
            let end = min(features.count, start + options.batchSize)
            let logits = inference.logits(features: Tensor.stack(Array(features[start..<end])))
            correct += Self.correctCount(logits, labels: labels[start..<end])
        }
        return Double(correct) / Double(features.count)
    }

    /// How many rows of `logits` `[B, K]` have their largest value at the label of that row.
    static func correctCount(_ logits: Tensor, labels: some Collection<Int>) -> Int {
        let k = logits.shape[1]
        return logits.withUnsafeBufferPointer { p in
            zip(0..., labels).filter { n, label in
                let row = p[(n * k)..<((n + 1) * k)]
                return row.indices.max(by: { row[$0] < row[$1] }).map({ $0 - n * k }) == label
            }.count
        }
    }

    /// Top-1 accuracy on samples (averaging the clips of those that carry ``Sample/clips``), the
    /// convolutions in `precision`, with `mirror` each clip's mirror image averaged in.
    public func accuracy(_ samples: [Sample], precision: InferencePrecision = .float32, mirror: Bool = false) -> Double {
        guard !samples.isEmpty else { return 0 }
        let rows = probabilities(samples, precision: precision, mirror: mirror)
        let correct = zip(rows, samples).filter { row, sample in row.indices.max { row[$0] < row[$1] } == sample.label }.count
        return Double(correct) / Double(samples.count)
    }

    /// Trains; returns the per-epoch history. The model ends with the weights of the epoch with
    /// the best validation accuracy (the last epoch without validation data); with
    /// ``TrainingOptions/weightAveraging``, the averaged weights (validated, and kept, instead of
    /// the optimizer's). A stop request ends
    /// the run after the current batch; an epoch cut short is not checkpointed (the previous
    /// epoch's checkpoint stands, and a resumed run trains the cut epoch again in full).
    /// - Parameters:
    ///   - train: the clips to learn from.
    ///   - validation: the clips that choose the best epoch; may be empty.
    ///   - progress: called with each batch and epoch event, on the calling thread.
    ///   - checkpoint: called after every complete epoch with the state to save.
    @discardableResult
    public func fit(train: [Sample], validation: [Sample],
                    progress: ((TrainingEvent) -> Void)? = nil,
                    checkpoint: ((TrainingCheckpoint) throws -> Void)? = nil) rethrows -> [EpochSummary] {
        precondition(!train.isEmpty, "no training clips")
        BLASThreads.count = options.threads
        if let average, average.isSwappedIn { average.swap() }  // a second fit goes on from the weights it trains
        let network = model.network
        // A frozen encoder: features once (through the inference snapshot, which shares the
        // recurrent layer and the head), then only those learn, and validation scores the
        // validation clips' features, also computed once, with the head of each epoch.
        let frozen = options.freezeEncoder ? LRCNInference(network) : nil
        let frozenFeatures = frozen.map { features(train, with: $0) }
        let frozenValidation = frozen.flatMap { inference in
            validation.contains { $0.clips != nil } ? nil : features(validation, with: inference)
        }
        let batchesPerEpoch = (train.count + options.batchSize - 1) / options.batchSize
        let totalSteps = max(1, batchesPerEpoch * options.epochs)
        let schedule: LearningRateSchedule
        switch options.schedule {
        case .onecycle: schedule = .oneCycle(maxRate: options.learningRate, totalSteps: totalSteps)
        case .cosine: schedule = .cosine(base: options.learningRate, totalSteps: totalSteps, minimum: 0)
        case .step: schedule = .step(base: options.learningRate, stepSize: max(1, totalSteps / 3), gamma: 0.1)
        case .constant: schedule = .constant(options.learningRate)
        }
        let classWeights = options.balanceClasses ? Self.balancedClassWeights(train.map(\.label), classes: model.card.labels.count) : nil
        let loss = CrossEntropyLoss(classWeights: classWeights, labelSmoothing: options.labelSmoothing)
        epochs: for epoch in startEpoch..<max(startEpoch, options.epochs) {
            if let patience = options.earlyStoppingPatience, best != nil, epochsSinceBest >= patience { break }
            let started = ContinuousClock.now
            rng = SplitMix64(seed: Self.epochSeed(options.seed, epoch))
            network.headDropout.reseed(rng.next())
            var order = Array(train.indices)
            order.shuffle(using: &rng)
            var lossSum = 0.0, correct = 0, seen = 0
            for b in 0..<batchesPerEpoch {
                if stopRequest.isSet { break epochs }
                let indices = order[(b * options.batchSize)..<min(order.count, (b + 1) * options.batchSize)]
                let samples = indices.map { train[$0] }
                optimizer.learningRate = schedule.rate(at: epoch * batchesPerEpoch + b)
                network.zeroGradients()
                let prepared = frozenFeatures.map { features in (input: Tensor.stack(indices.map { features[$0] }), labels: samples.map(\.label)) }
                    ?? batch(samples[...], augment: true)
                var inputs = prepared.input
                let labels = prepared.labels
                let mixing = options.mixup.map { Self.mixupDraw(alpha: $0, batch: samples.count, using: &rng) }
                if let mixing { inputs = Self.mixed(inputs, pairedWith: mixing.pairing, lambda: mixing.lambda) }
                let logits = frozenFeatures != nil
                    ? network.head(inputs, mode: .training) : network.forward(inputs, mode: .training)
                var (value, gradient) = loss(logits, labels)
                if let mixing {
                    // λ · L(y) + (1 − λ) · L(y[π]), and its gradient likewise.
                    let (pairedValue, pairedGradient) = loss(logits, mixing.pairing.map { labels[$0] })
                    value = mixing.lambda * value + (1 - mixing.lambda) * pairedValue
                    gradient.scale(by: mixing.lambda)
                    gradient.addScaled(pairedGradient, alpha: 1 - mixing.lambda)
                }
                if frozenFeatures != nil { _ = network.headBackward(gradient) } else { network.backwardParameters(gradient) }
                if let clip = options.clipNorm { _ = clipGradientNorm(parameters, maxNorm: clip) }
                optimizer.step(parameters)
                average?.update()
                lossSum += Double(value) * Double(samples.count)
                correct += Self.correctCount(logits, labels: labels)
                seen += samples.count
                let elapsed = (ContinuousClock.now - started).seconds
                progress?(.batch(epoch: epoch + 1, epochs: options.epochs, batch: b + 1, batches: batchesPerEpoch,
                                 loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
                                 clipsPerSecond: Double(seen) / max(elapsed, 1e-9), seconds: elapsed))
            }
            average?.swap()  // validation sees the averaged weights
            let validationAccuracy: Double?
            if validation.isEmpty {
                validationAccuracy = nil
            } else if let frozen, let frozenValidation {
                validationAccuracy = accuracy(features: frozenValidation, labels: validation.map(\.label), with: frozen)
            } else {
                validationAccuracy = accuracy(validation)
            }
            let seconds = (ContinuousClock.now - started).seconds
            let summary = EpochSummary(epoch: epoch + 1, loss: lossSum / Double(max(seen, 1)),
                                       trainAccuracy: Double(correct) / Double(max(seen, 1)),
                                       validationAccuracy: validationAccuracy,
                                       learningRate: Double(optimizer.learningRate),
                                       clipsPerSecond: Double(seen) / max(seconds, 1e-9), seconds: seconds)
            history.append(summary)
            progress?(.epoch(summary, epochs: options.epochs))
            if let accuracy = validationAccuracy {
                if best == nil || accuracy > best!.accuracy {
                    best = (epoch + 1, accuracy, network.stateTensors())  // (averaged ones, with averaging)
                    epochsSinceBest = 0
                } else {
                    epochsSinceBest += 1
                }
            }
            average?.swap()
            try checkpoint?(makeCheckpoint(after: epoch + 1))  // (built only when someone saves it)
            if stopRequest.isSet { break }
        }
        if let best, let file = try? SafeTensorsFile(bytes: SafeTensors.encode(best.weights)) {
            try? network.load(from: file)
        } else {
            average?.swap()  // the model ends with the averaged weights
        }
        return history
    }

    /// Runs `body` with the weights as the optimizer left them, when the model ended a fit with
    /// averaged weights (``TrainingOptions/weightAveraging``, no validation), for comparisons.
    func withLastWeights<R>(_ body: () -> R) -> R {
        guard let average, average.isSwappedIn else { return body() }
        average.swap()
        defer { average.swap() }
        return body()
    }

    /// One batch's mixup: a random pairing of its `batch` clips (a permutation) and λ from
    /// Beta(α, α), kept at 0.5 or above so that a clip's own label weighs most.
    public static func mixupDraw(alpha: Float, batch: Int, using rng: inout SplitMix64) -> (pairing: [Int], lambda: Float) {
        let beta = Float(rng.nextBeta(Double(alpha), Double(alpha)))
        var pairing = Array(0..<batch)
        pairing.shuffle(using: &rng)
        return (pairing, max(beta, 1 - beta))
    }

    /// `x` (`[B, ...]`) mixed with its own items in the order of `pairing`: item b becomes
    /// λ · x[b] + (1 − λ) · x[pairing[b]].
    public static func mixed(_ x: Tensor, pairedWith pairing: [Int], lambda: Float) -> Tensor {
        precondition(x.rank >= 1 && x.shape[0] == pairing.count, "mixup: \(pairing.count) pairs for a batch of shape \(x.shape)")
        let item = x.count / max(1, pairing.count)
        var out = Tensor(uninitializedShape: x.shape)
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (b, other) in pairing.enumerated() {
                    for i in 0..<item { dst[b * item + i] = lambda * src[b * item + i] + (1 - lambda) * src[other * item + i] }
                }
            }
        }
        return out
    }

    /// Loss weights for `--balance-classes`: `n / (k · n_c)` for a class of `n_c` of the `n` clips
    /// (scikit-learn's "balanced"), so every class weighs as much in total; 0 for a class with no clips.
    public static func balancedClassWeights(_ labels: [Int], classes k: Int) -> [Float] {
        var counts = Array(repeating: 0, count: k)
        for label in labels { counts[label] += 1 }
        return counts.map { $0 > 0 ? Float(labels.count) / Float(k * $0) : 0 }
    }

    /// The epoch (1-based) whose weights the model ends with, when validation chose them.
    public var bestEpoch: Int? { best?.epoch }
}

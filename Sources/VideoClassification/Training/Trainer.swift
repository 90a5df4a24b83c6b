import Foundation
import NeuralNetwork
import Tensors
import VideoIO

/// How to train. The defaults are the recipe that works from scratch on small real datasets
/// (DESIGN.md): AdamW 1e-3, weight decay 1e-2, one-cycle schedule, 40 epochs, batch 16, label
/// smoothing 0.1, gradient clipping at norm 5, random crops and small jitter, no flips.
public struct TrainingOptions: Sendable, Codable {
    public enum Schedule: String, Sendable, Codable, CaseIterable { case onecycle, cosine, step, constant }
    public enum OptimizerKind: String, Sendable, Codable, CaseIterable { case adamw, adam, sgd }

    public var epochs = 40
    public var batchSize = 16
    public var learningRate: Float = 1e-3
    public var schedule: Schedule = .onecycle
    public var optimizer: OptimizerKind = .adamw
    public var weightDecay: Float = 1e-2
    public var labelSmoothing: Float = 0.1
    public var clipNorm: Float? = 5
    /// Weight classes by inverse frequency in the loss.
    public var balanceClasses = false
    /// Horizontal flips (off by default: flipping swaps left and right motion).
    public var flips = false
    public var seed: UInt64 = 1
    /// Stop when validation accuracy has not improved for this many epochs.
    public var earlyStoppingPatience: Int?
    public var threads = 2
    /// Random temporal jitter: training clips carry a pool of frames, and each epoch draws one
    /// frame at random from each of `framesPerClip` equal segments of it (evaluation always uses
    /// the model file's sampling).
    public var temporalJitter = true
    /// Train only the recurrent layer and the head on per-frame features computed once with the
    /// encoder as it is (e.g. loaded from a pretrained model file); no spatial augmentation.
    public var freezeEncoder = false

    public init() {}

    /// The options as strings, for the model file's provenance.
    public var recipe: [String: String] {
        var r = ["epochs": "\(epochs)", "batch_size": "\(batchSize)", "learning_rate": "\(learningRate)",
                 "schedule": schedule.rawValue, "optimizer": optimizer.rawValue, "weight_decay": "\(weightDecay)",
                 "label_smoothing": "\(labelSmoothing)", "clip_norm": clipNorm.map { "\($0)" } ?? "none",
                 "balance_classes": "\(balanceClasses)", "flips": "\(flips)", "seed": "\(seed)"]
        if let p = earlyStoppingPatience { r["early_stopping_patience"] = "\(p)" }
        r["temporal_jitter"] = "\(temporalJitter)"
        if freezeEncoder { r["freeze_encoder"] = "true" }
        return r
    }
}

/// What happened in one epoch.
public struct EpochSummary: Sendable, Codable {
    public var epoch: Int
    public var loss: Double
    public var trainAccuracy: Double
    public var validationAccuracy: Double?
    public var learningRate: Double
    public var clipsPerSecond: Double
    public var seconds: Double
}

/// Progress events during training (for progress bars and logs).
public enum TrainingEvent: Sendable {
    case batch(epoch: Int, batch: Int, batches: Int, loss: Double, accuracy: Double, clipsPerSecond: Double)
    case epoch(EpochSummary, epochs: Int)
}

/// Trains a ``VideoModel`` on decoded clips: mini-batches of randomly augmented clips, the
/// optimizer and schedule of ``TrainingOptions``, validation after every epoch, the best epoch's
/// weights kept.
public final class Trainer {
    public let model: VideoModel
    public let options: TrainingOptions
    private let preprocessor: Preprocessor
    private var rng: SplitMix64
    /// Set from another thread (a signal handler) to stop after the current batch.
    public let stopRequest: StopFlag
    public private(set) var history: [EpochSummary] = []
    /// The epoch to start from (a resumed run starts after its checkpoint's epoch).
    public var startEpoch = 0

    public init(model: VideoModel, options: TrainingOptions, stopRequest: StopFlag = StopFlag()) {
        self.model = model
        self.stopRequest = stopRequest
        self.options = options
        self.preprocessor = Preprocessor(model.card.input)
        self.rng = SplitMix64(seed: options.seed)
    }

    /// A clip ready for training: its decoded frames and class index. Training clips may carry
    /// more frames than the model samples (a pool for temporal jitter, see ``TrainingOptions/temporalJitter``).
    public struct Sample: Sendable {
        public var frames: [VideoFrame]
        public var label: Int
        public var path: String
        public init(frames: [VideoFrame], label: Int, path: String) {
            self.frames = frames
            self.label = label
            self.path = path
        }
    }

    /// Builds a batch tensor `[B, T, C, S, S]` (augmented when `augment`).
    func batch(_ samples: ArraySlice<Sample>, augment: Bool) -> Tensor {
        let input = model.card.input
        var tensor = Tensor(shape: [samples.count, input.framesPerClip, input.representation.channels, input.size, input.size])
        let stride = preprocessor.clipElementCount
        tensor.withUnsafeMutableBufferPointer { buffer in
            for (n, sample) in samples.enumerated() {
                let augmentation = augment ? Preprocessor.Augmentation.random(for: input, flips: options.flips, using: &rng) : nil
                let slice = UnsafeMutableBufferPointer(rebasing: buffer[(n * stride)..<((n + 1) * stride)])
                let indices = augment
                    ? Self.jitterIndices(pool: sample.frames.count, steps: input.sampledFrames, using: &rng)
                    : Self.uniformIndices(pool: sample.frames.count, steps: input.sampledFrames)
                let frames = indices.map { sample.frames[$0] }
                preprocessor.write(frames, augmentation: augmentation, into: slice)
            }
        }
        return tensor
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

    /// Class probabilities for samples (center crops, inference mode), in batches.
    public func probabilities(_ samples: [Sample]) -> [[Double]] {
        let inference = LRCNInference(model.network)
        var rows: [[Double]] = []
        let k = model.card.labels.count
        for start in stride(from: 0, to: samples.count, by: max(1, options.batchSize)) {
            let chunk = samples[start..<min(samples.count, start + options.batchSize)]
            let probabilities = softmax(inference.logits(batch(chunk, augment: false)))
            probabilities.withUnsafeBufferPointer { p in
                for b in 0..<chunk.count { rows.append((0..<k).map { Double(p[b * k + $0]) }) }
            }
        }
        return rows
    }

    /// Per-frame encoder features `[T, F]` of each sample (center crops, inference mode).
    func features(_ samples: [Sample]) -> [Tensor] {
        var out: [Tensor] = []
        for start in stride(from: 0, to: samples.count, by: max(1, options.batchSize)) {
            let chunk = samples[start..<min(samples.count, start + options.batchSize)]
            let features = model.network.features(batch(chunk, augment: false), mode: .inference)
            for n in 0..<chunk.count { out.append(features.slice(n)) }
        }
        return out
    }

    /// Top-1 accuracy on samples.
    public func accuracy(_ samples: [Sample]) -> Double {
        guard !samples.isEmpty else { return 0 }
        let rows = probabilities(samples)
        let correct = zip(rows, samples).filter { row, sample in row.indices.max { row[$0] < row[$1] } == sample.label }.count
        return Double(correct) / Double(samples.count)
    }

    /// Trains; returns the per-epoch history. The model ends with the weights of the epoch with
    /// the best validation accuracy (the last epoch without validation data).
    /// - Parameter checkpoint: called after every epoch with the epoch number (1-based).
    @discardableResult
    public func fit(train: [Sample], validation: [Sample],
                    progress: ((TrainingEvent) -> Void)? = nil,
                    checkpoint: ((Int) throws -> Void)? = nil) rethrows -> [EpochSummary] {
        precondition(!train.isEmpty, "no training clips")
        BLASThreads.count = options.threads
        let network = model.network
        // A frozen encoder: features once, then only the recurrent layer and the head learn.
        let frozenFeatures = options.freezeEncoder ? features(train) : nil
        let parameters = options.freezeEncoder
            ? network.namedParameters().filter { !$0.0.hasPrefix("encoder.") } : network.namedParameters()
        let optimizer: any Optimizer
        switch options.optimizer {
        case .adamw: optimizer = Adam.adamW(learningRate: options.learningRate, weightDecay: options.weightDecay)
        case .adam: optimizer = Adam(learningRate: options.learningRate, weightDecay: options.weightDecay)
        case .sgd: optimizer = SGD(learningRate: options.learningRate, momentum: 0.9, weightDecay: options.weightDecay)
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
        var classWeights: [Float]?
        if options.balanceClasses {
            let k = model.card.labels.count
            var counts = Array(repeating: 0, count: k)
            for s in train { counts[s.label] += 1 }
            classWeights = counts.map { $0 > 0 ? Float(train.count) / Float(k * $0) : 0 }
        }
        let loss = CrossEntropyLoss(classWeights: classWeights, labelSmoothing: options.labelSmoothing)
        var best: (accuracy: Double, weights: [(String, Tensor)])?
        var sinceBest = 0
        var order = Array(train.indices)
        for epoch in startEpoch..<options.epochs {
            let started = ContinuousClock.now
            order.shuffle(using: &rng)
            var lossSum = 0.0, correct = 0, seen = 0
            for b in 0..<batchesPerEpoch {
                if stopRequest.isSet { break }
                let indices = order[(b * options.batchSize)..<min(order.count, (b + 1) * options.batchSize)]
                let samples = indices.map { train[$0] }
                let labels = samples.map(\.label)
                optimizer.learningRate = schedule.rate(at: epoch * batchesPerEpoch + b)
                network.zeroGradients()
                let logits: Tensor
                if let frozenFeatures {
                    logits = network.head(Tensor.stack(indices.map { frozenFeatures[$0] }), mode: .training)
                } else {
                    logits = network.forward(batch(samples[...], augment: true), mode: .training)
                }
                let (value, gradient) = loss(logits, labels)
                if frozenFeatures != nil { _ = network.headBackward(gradient) } else { _ = network.backward(gradient) }
                if let clip = options.clipNorm { _ = clipGradientNorm(parameters, maxNorm: clip) }
                optimizer.step(parameters)
                lossSum += Double(value) * Double(samples.count)
                logits.withUnsafeBufferPointer { p in
                    let k = logits.shape[1]
                    for (n, label) in labels.enumerated() {
                        let row = p[(n * k)..<((n + 1) * k)]
                        if row.indices.max(by: { row[$0] < row[$1] }).map({ $0 - n * k }) == label { correct += 1 }
                    }
                }
                seen += samples.count
                let elapsed = (ContinuousClock.now - started).seconds
                progress?(.batch(epoch: epoch + 1, batch: b + 1, batches: batchesPerEpoch, loss: lossSum / Double(seen),
                                 accuracy: Double(correct) / Double(seen), clipsPerSecond: Double(seen) / max(elapsed, 1e-9)))
            }
            if stopRequest.isSet && seen < train.count {
                // Stopped mid-epoch: the checkpoint records the last complete epoch, so a resumed
                // run trains this one again in full.
                try checkpoint?(epoch)
                break
            }
            let validationAccuracy = validation.isEmpty ? nil : accuracy(validation)
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
                    best = (accuracy, network.stateTensors())
                    sinceBest = 0
                } else {
                    sinceBest += 1
                }
            }
            try checkpoint?(epoch + 1)
            if stopRequest.isSet { break }
            if let patience = options.earlyStoppingPatience, sinceBest >= patience { break }
        }
        if let best, let file = try? SafeTensorsFile(bytes: SafeTensors.encode(best.weights)) {
            try? network.load(from: file)
        }
        return history
    }
}

/// A flag one thread sets and another reads.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    public init() {}
    public var isSet: Bool { lock.withLock { value } }
    public func set() { lock.withLock { value = true } }
}

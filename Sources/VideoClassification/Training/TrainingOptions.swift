import Foundation

/// How to train. The defaults are the recipe that works from scratch on small real datasets
/// (DESIGN.md, and the cross-validation in the README's "Real data"): AdamW 1e-3, weight decay
/// 1e-2, one-cycle schedule, 30 epochs, batch 16, label smoothing 0.1, gradient clipping at norm 5,
/// random crops and small jitter, temporal jitter, no flips, no mixup.
public struct TrainingOptions: Sendable, Codable {
    /// How the learning rate changes over the run's steps (batches): `onecycle` rises to
    /// ``learningRate`` over the first 30 % and anneals to nearly 0, `cosine` decays to 0, `step`
    /// multiplies by 0.1 after each third of the run, `constant` keeps it.
    public enum Schedule: String, Sendable, Codable, CaseIterable { case onecycle, cosine, step, constant }
    /// The optimizer: AdamW (decoupled weight decay), Adam (L2 weight decay) or SGD with momentum 0.9.
    public enum OptimizerKind: String, Sendable, Codable, CaseIterable { case adamw, adam, sgd }

    /// Passes over the training clips (default 30).
    public var epochs = 30
    /// Clips per optimisation step (default 16).
    public var batchSize = 16
    /// The base (for one-cycle, the peak) learning rate; default 1e-3.
    public var learningRate: Float = 1e-3
    /// The learning-rate schedule (default one-cycle).
    public var schedule: Schedule = .onecycle
    /// The optimizer (default AdamW).
    public var optimizer: OptimizerKind = .adamw
    /// Weight decay (default 1e-2); decoupled for AdamW, an L2 term for Adam and SGD.
    public var weightDecay: Float = 1e-2
    /// Label smoothing of the cross-entropy loss, 0 to <1 (default 0.1).
    public var labelSmoothing: Float = 0.1
    /// The global gradient norm above which gradients are scaled down (default 5); nil: no clipping.
    public var clipNorm: Float? = 5
    /// Weight classes by inverse frequency in the loss.
    public var balanceClasses = false
    /// Random horizontal flips of half the training clips. A flipped clip takes its label's mirror
    /// image (``MirroredLabels``: `move_left` becomes `move_right`); when a label names a direction
    /// that no other label mirrors, there are no flips.
    public var flips = false
    /// Seeds the weights, the split, the shuffling and the augmentation: a run is reproducible.
    public var seed: UInt64 = 1
    /// Stop when validation accuracy has not improved for this many epochs.
    public var earlyStoppingPatience: Int?
    /// Threads for the network's matrix kernels during training (default 2).
    public var threads = 2
    /// Random temporal jitter: training clips carry a pool of frames, and each epoch draws one
    /// frame at random from each of `framesPerClip` equal segments of it (evaluation always uses
    /// the model file's sampling).
    public var temporalJitter = true
    /// Train only the recurrent layer and the head on per-frame features computed once with the
    /// encoder as it is (e.g. loaded from a pretrained model file); no spatial augmentation.
    public var freezeEncoder = false
    /// An exponential moving average of the weights with this decay per step (`WeightAverage` of NeuralNetwork;
    /// e.g. 0.99, about 100 steps): validation, testing and the saved model use the averaged
    /// weights. Nil (the default; it measured no gain on surveillance-fight): the weights as the
    /// optimizer leaves them.
    public var weightAveraging: Float?
    /// Clips averaged per video when validating, testing and scoring folds (test-time averaging,
    /// ``VideoClassifier/clips``), recorded in the model file for inference. Default 1: the model's
    /// own sampling once (four clips measured −1.1 to +1.4 points on surveillance-fight, at 1.45×
    /// the cost a file).
    public var evaluationClips = 1
    /// Mixup (Zhang et al. 2018) with this α: each training batch is replaced by
    /// λ · x + (1 − λ) · x[π], for a random pairing π of its clips and λ drawn from Beta(α, α) per
    /// batch, and the loss is λ · L(y) + (1 − λ) · L(y[π]). With a frozen encoder, the per-frame
    /// features are mixed. Nil (the default): off.
    public var mixup: Float?

    /// The default recipe.
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
        r["weight_averaging"] = weightAveraging.map { "\($0)" } ?? "none"
        r["evaluation_clips"] = "\(evaluationClips)"
        r["mixup"] = mixup.map { "\($0)" } ?? "none"
        return r
    }
}

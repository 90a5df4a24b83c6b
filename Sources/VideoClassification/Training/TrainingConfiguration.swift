import Foundation
import NeuralNetwork

/// Everything `vidclass train` is told: the data, the model to build, the recipe, and how to split.
///
/// ```swift
/// var configuration = TrainingConfiguration(dataset: "clips/", output: "model.safetensors")
/// configuration.input.representation = .diff
/// configuration.options.epochs = 30
/// let result = try TrainingRun(configuration).run()
/// print(result.metrics["validation_accuracy"] ?? 0)
/// ```
public struct TrainingConfiguration: Sendable {
    /// The recurrent part of the model.
    public enum SequenceModel: String, Sendable, CaseIterable, Codable {
        /// An LSTM, a GRU, or a plain tanh RNN over the frame features.
        case lstm, gru, rnn
        /// No recurrence: frame features averaged over time (the ablation).
        case mean

        /// The recurrent layer's kind (``mean`` keeps an LSTM's weights but does not use them).
        public var kind: RecurrentKind {
            switch self {
            case .lstm, .mean: .lstm
            case .gru: .gru
            case .rnn: .rnnTanh
            }
        }
    }

    /// A folder per class (`DATASET/<label>/*.mp4`) or a CSV of `path,label[,split]`.
    public var dataset: String
    /// The model file to write; nil with ``folds`` (cross-validation writes no model).
    public var output: String?
    /// The model's name in its card (default: the output's file name without extension).
    public var name: String?
    /// The per-frame encoder (with ``initFrom``, that file's encoder is used instead).
    public var encoder: ModelDescription.Backbone = .small
    /// Width multiplier of a MobileNet or EfficientNet encoder (torchvision's `width_mult`; 1: the
    /// published networks).
    public var widthMultiplier = 1.0
    /// The recurrent layer over the frame features (default LSTM), or ``SequenceModel/mean`` for none.
    public var sequence: SequenceModel = .lstm
    /// Hidden units of the recurrent layer.
    public var hidden = 256
    /// Stacked recurrent layers.
    public var layers = 1
    /// Bidirectional recurrent layers (such a model cannot stream).
    public var bidirectional = false
    /// Dropout before the head (0 to 1).
    public var dropout: Float = 0.3
    /// What the network sees: representation, time steps, size, sampling (its ``InputSpecification/clips``
    /// is set from ``TrainingOptions/evaluationClips`` in the model file). The default is the
    /// from-scratch recipe chosen by cross-validation on real footage (README, "Real data"):
    /// frame differences, 24 steps, the whole frame (stretched) at 64 × 64.
    public var input = TrainingConfiguration.defaultInput

    /// The input a model trained from scratch gets unless told otherwise: `diff`, 24 steps, the
    /// whole frame stretched to 73 px (``InputSpecification/Resize/stretch``), 64 px windows.
    /// (24 steps rather than 16: +3.7 and +1.2 points in the surveillance-fight cross-validation
    /// with two seeds, for 1.3× the training time and 1.5× the inference a clip.)
    public static let defaultInput: InputSpecification = {
        var input = InputSpecification(representation: .diff, framesPerClip: 24, size: 64)
        input.resize = .stretch
        return input
    }()
    /// The optimisation recipe.
    public var options = TrainingOptions()
    /// Fraction of the training clips held out (stratified, group-aware) for validation when no
    /// clip is marked `validation` (0 to <1; 0: none).
    public var validationFraction = 0.2
    /// A file listing validation clips, one path per line (relative to the dataset's folder).
    public var validationList: String?
    /// A file listing test clips: held out from training and from choosing the epoch.
    public var testList: String?
    /// For an annotation CSV (`path,start,end,label`): the length of the clips cut from its
    /// intervals, and the label of unannotated time (``AnnotationOptions``).
    public var annotations = AnnotationOptions()
    /// A `path,label` file of a person's corrections (``LabelCorrections``), applied to the
    /// dataset before anything else: relabelled clips train with their new label, `exclude`d ones
    /// not at all.
    public var corrections: String?
    /// A CSV column or a regular expression naming each clip's group: clips of a group stay on one
    /// side of every split.
    public var groupBy: String?
    /// K-fold cross-validation (K ≥ 2): K models, the mean and standard deviation of their
    /// held-out accuracy; no model file is written.
    public var folds: Int?
    /// With ``folds``, each fold's model is also scored with its convolutions in these precisions
    /// (`InferencePrecision`; the folds' accuracies in `variants` named `precision=bf16`), to see
    /// what a faster precision costs on held-out clips.
    public var scorePrecisions: [InferencePrecision] = []
    /// Continue from `OUTPUT.checkpoint` when it exists.
    public var resume = false
    /// Start from this model file's weights (the encoder's at least). The encoder's architecture
    /// (backbone, widths, input channels) and the input normalisation (mean and std) are then the
    /// file's, whatever ``encoder`` and ``widthMultiplier`` say: an imported ImageNet backbone keeps
    /// ImageNet's normalisation.
    public var initFrom: String?
    /// Keep decoded frames in this directory, so later runs do not decode again.
    public var cache: String?
    /// Clips decoded at once.
    public var jobs = 2

    /// A configuration with the default model and recipe for `dataset` (a folder or a CSV), writing
    /// `output` (nil for cross-validation, which writes no model file).
    public init(dataset: String, output: String?) {
        self.dataset = dataset
        self.output = output
    }

    /// Where the run keeps its checkpoint: `OUTPUT.checkpoint`.
    public var checkpointPath: String? { output.map { $0 + ".checkpoint" } }

    /// The card of the model this configuration trains, for `labels`; with `initial` (the card of
    /// ``initFrom``), its encoder's architecture and input normalisation.
    public func card(labels: [String], initial: ModelCard? = nil) -> ModelCard {
        var architecture = ModelDescription(
            backbone: encoder, numClasses: labels.count, sequenceKind: sequence.kind, hiddenSize: hidden,
            sequenceLayers: layers, bidirectional: bidirectional, head: sequence == .mean ? .featureMean : .lastStep,
            inputChannels: input.representation.channels, headDropout: dropout, widthMultiplier: widthMultiplier)
        let modelName = name ?? output.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension } ?? "model"
        var input = input
        if let initial {
            let a = initial.architecture
            architecture.backbone = a.backbone
            architecture.smallChannels = a.smallChannels
            architecture.resnetWidth = a.resnetWidth
            architecture.widthMultiplier = a.widthMultiplier
            input.mean = initial.input.mean
            input.std = initial.input.std
        }
        input.clips = options.evaluationClips  // the model is used as it was validated
        return ModelCard(name: modelName, architecture: architecture, labels: labels, input: input)
    }

    /// The first thing wrong with the configuration, in one line naming the option, or nil.
    public func problem() -> String? {
        if folds == nil && output == nil { return "an output path is required (except with folds)" }
        if let folds, folds < 2 { return "folds must be at least 2" }
        if options.freezeEncoder && initFrom == nil { return "freezing the encoder needs initFrom (a frozen random encoder learns nothing)" }
        if input.framesPerClip < 1 { return "frames must be at least 1" }
        if input.size < 16 { return "size must be at least 16" }
        if options.epochs < 1 { return "epochs must be at least 1" }
        if options.batchSize < 1 { return "batch size must be at least 1" }
        if !(0..<1).contains(validationFraction) || validationFraction.isNaN { return "validation fraction must be in [0, 1)" }
        if !(0...1).contains(dropout) { return "dropout must be in [0, 1]" }
        if hidden < 1 || layers < 1 { return "hidden and layers must be at least 1" }
        if jobs < 1 { return "jobs must be at least 1" }
        let o = options
        if !(o.learningRate.isFinite && o.learningRate > 0) { return "the learning rate must be a finite number above 0" }
        if !(o.weightDecay.isFinite && o.weightDecay >= 0) { return "weight decay must be a finite number, 0 or more" }
        if !(o.labelSmoothing >= 0 && o.labelSmoothing < 1) { return "label smoothing must be in [0, 1)" }
        if let clip = o.clipNorm, !(clip.isFinite && clip > 0) { return "the gradient clipping norm must be a finite number above 0" }
        if let patience = o.earlyStoppingPatience, patience < 1 { return "early stopping patience must be at least 1 epoch" }
        if o.threads < 1 { return "threads must be at least 1" }
        if !InputSpecification.usableClips.contains(o.evaluationClips) {
            return "evaluation clips must be from \(InputSpecification.usableClips.lowerBound) to \(InputSpecification.usableClips.upperBound)"
        }
        if let decay = o.weightAveraging, !(0..<1).contains(decay) { return "the weight-averaging decay must be in [0, 1)" }
        if let alpha = o.mixup, !(alpha.isFinite && alpha > 0) { return "mixup's alpha must be a finite number above 0" }
        return nil
    }
}

import VidclassConcurrency
import ArgumentParser
import Foundation
import NeuralNetwork
import VideoClassification
import VideoIO

extension VidclassCommand {
    /// `vidclass train DATASET --output model.safetensors`.
    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a CNN+RNN clip classifier on a folder per class (or a CSV of path,label[,split]).")

        @Argument(help: "Dataset folder (one sub-folder per class), CSV file, annotation CSV of long videos (path,start,end,label[,split][,group]; times in seconds or HH:MM:SS.mmm), or `vidclass label` output (JSONL or CSV: its labels, with --corrections on top).")
        var dataset: String

        @Option(name: .shortAndLong, help: "The model file to write.")
        var output: String?

        @Option(help: "Model name stored in the file (default: the output's file name).")
        var name: String?

        @Option(help: "Encoder: lrcn-small, or a torchvision network: resnet18, resnet34, resnet50, mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large, efficientnet_b0 (default: lrcn-small, or --init-from's).")
        var encoder: ModelDescription.Backbone?

        @Option(help: "Width multiplier of a MobileNet or EfficientNet encoder (torchvision's width_mult).")
        var widthMultiplier = 1.0

        @Option(help: "Sequence model: lstm, gru, rnn, or mean (no recurrence: features averaged over time).")
        var sequence: TrainingConfiguration.SequenceModel = .lstm

        @Option(help: "Recurrent hidden size.")
        var hidden = 256

        @Option(help: "Recurrent layers.")
        var layers = 1

        @Flag(help: "Bidirectional recurrent layers (cannot stream).")
        var bidirectional = false

        @Option(help: "Input: rgb, diff (differences of consecutive sampled frames) or rgb+diff.")
        var input: InputSpecification.Representation = TrainingConfiguration.defaultInput.representation

        @Option(help: "Time steps per clip.")
        var frames = TrainingConfiguration.defaultInput.framesPerClip

        @Option(help: "Network input size (square).")
        var size = TrainingConfiguration.defaultInput.size

        @Option(help: "Short side frames are scaled to before cropping (default: size * 8/7).")
        var shortSide: Int?

        @Option(help: "How frames become squares: crop (short side scaled, centered square cut) or stretch (the whole frame scaled to the square, aspect not kept: nothing at the sides is lost).")
        var resize: InputSpecification.Resize = TrainingConfiguration.defaultInput.resize

        @Option(help: "Dropout before the head.")
        var dropout: Float = 0.3

        @Option(help: "Epochs.") var epochs = TrainingOptions().epochs
        @Option(help: "Clips per batch.") var batchSize = 16
        @Option(name: .customLong("lr"), help: "Peak learning rate.") var learningRate: Float = 1e-3
        @Option(help: "Average the weights over steps with this decay (e.g. 0.99); the model keeps the average. 0: off.")
        var weightAveraging: Float = TrainingOptions().weightAveraging ?? 0
        @Option(help: "Clips averaged per video when validating, testing and scoring folds (test-time averaging).")
        var clips = TrainingOptions().evaluationClips
        @Option(help: "Mixup with this alpha (e.g. 0.2): each batch trains on λ·x + (1−λ)·x of a random pairing of its clips, both labels weighted, λ ~ Beta(alpha, alpha). 0: off.")
        var mixup: Float = TrainingOptions().mixup ?? 0
        @Option(help: "Learning-rate schedule: onecycle, cosine, step, constant.") var schedule: TrainingOptions.Schedule = .onecycle
        @Option(help: "Optimizer: adamw, adam, sgd.") var optimizer: TrainingOptions.OptimizerKind = .adamw
        @Option(help: "Weight decay.") var weightDecay: Float = 1e-2
        @Option(help: "Label smoothing.") var labelSmoothing: Float = 0.1
        @Option(help: "Clip gradients to this global norm (0: off).") var clipNorm: Float = 5
        @Flag(help: "Weight classes by inverse frequency.") var balanceClasses = false
        @Flag(help: "Random horizontal flips; a flipped clip of a class named for a left/right or turning direction takes the mirrored class (move_left ↔ move_right), and no clip is flipped when such a class has no mirror.") var flips = false
        @Option(help: "Random seed.") var seed: UInt64 = 1
        @Option(help: "Stop when validation accuracy has not improved for this many epochs.") var earlyStopping: Int?
        @Option(help: "Fraction of the training clips held out (stratified, group-aware) for validation when no clip is marked validation (0: none).")
        var validationFraction = 0.2
        @Option(help: "A file listing validation clips (one path per line, relative to the dataset's folder); other clips train, or keep their CSV split.")
        var validationList: String?
        @Option(help: "A file listing test clips, held out from training and from choosing the epoch, evaluated once at the end.")
        var testList: String?
        @Option(help: "With an annotation CSV (path,start,end,label[,split][,group]): seconds of video per training clip cut from its intervals.")
        var clipLength = Seconds(2)
        @Option(help: "With an annotation CSV: train the time no interval covers as this class.")
        var background: String?
        @Option(help: "A path,label CSV of corrections (as `vidclass report` downloads them): listed clips get the new label, or are left out when it is 'exclude'.")
        var corrections: String?
        @Option(help: "A CSV column (e.g. source_video_index), or a regular expression whose first match (or capture group) in a path, that names each clip's group: clips of a group stay on one side of every split.")
        var groupBy: String?
        @Option(help: "K-fold cross-validation: train K models and report the mean and standard deviation.")
        var folds: Int?
        @Option(help: "With --folds, also score each fold's model with its convolutions in these precisions (bf16: see `classify --help`), reported beside the folds.")
        var scorePrecisions: CommaSeparated<InferencePrecision>?
        @Option(help: "Write a JSON report (history, metrics, folds) here.")
        var report: String?
        @Flag(help: "Continue from OUTPUT.checkpoint if present.")
        var resume = false
        @Flag(inversion: .prefixedNo, help: "Random temporal jitter: each epoch samples every clip's frames afresh, one from each segment.")
        var temporalJitter = true
        @Option(help: "Start from this model file's weights (an encoder trained elsewhere, e.g. imported from PyTorch); the head is new when the labels differ.")
        var initFrom: String?
        @Flag(help: "Keep the encoder as it is (from --init-from) and train only the sequence model and head, on per-frame features computed once.")
        var freezeEncoder = false
        @Option(help: "Keep decoded frames in this directory, so later runs (other folds, other settings) do not decode again.")
        var cache: String?
        @Option(help: "Compute threads.") var threads = 2
        @Option(help: "Clips decoded at once.") var jobs = 2

        /// The library's configuration for these options.
        var configuration: TrainingConfiguration {
            var c = TrainingConfiguration(dataset: dataset, output: output)
            c.name = name
            c.encoder = encoder ?? .small
            c.widthMultiplier = widthMultiplier
            c.sequence = sequence
            c.hidden = hidden
            c.layers = layers
            c.bidirectional = bidirectional
            c.dropout = dropout
            c.input = InputSpecification(representation: input, framesPerClip: frames, size: size, shortSide: shortSide)
            c.input.resize = resize
            var o = TrainingOptions()
            o.epochs = epochs
            o.batchSize = batchSize
            o.learningRate = learningRate
            o.schedule = schedule
            o.optimizer = optimizer
            o.weightDecay = weightDecay
            o.labelSmoothing = labelSmoothing
            o.clipNorm = clipNorm == 0 ? nil : clipNorm
            o.balanceClasses = balanceClasses
            o.flips = flips
            o.seed = seed
            o.earlyStoppingPatience = earlyStopping
            o.threads = threads
            o.temporalJitter = temporalJitter
            o.freezeEncoder = freezeEncoder
            o.weightAveraging = weightAveraging == 0 ? nil : weightAveraging
            o.evaluationClips = clips
            o.mixup = mixup == 0 ? nil : mixup
            c.options = o
            c.validationFraction = validationFraction
            c.validationList = validationList
            c.testList = testList
            c.corrections = corrections
            c.annotations = AnnotationOptions(clipLength: clipLength.value, background: background)
            c.groupBy = groupBy
            c.folds = folds
            c.scorePrecisions = scorePrecisions?.values ?? []
            c.resume = resume
            c.initFrom = initFrom
            c.cache = cache
            c.jobs = jobs
            return c
        }

        func validate() throws {
            if folds == nil && output == nil { throw ValidationError("--output is required (except with --folds)") }
            if let folds, folds < 2 { throw ValidationError("--folds must be at least 2") }
            if folds == nil && scorePrecisions != nil { throw ValidationError("--score-precisions scores the folds' models: it needs --folds") }
            if scorePrecisions?.contains(.float32) == true { throw ValidationError("--score-precisions: the folds are scored in fp32 already; name the others (bf16)") }
            if freezeEncoder && initFrom == nil { throw ValidationError("--freeze-encoder needs --init-from MODEL (a frozen random encoder learns nothing)") }
            if !(widthMultiplier > 0.05 && widthMultiplier <= 4) { throw ValidationError("--width-multiplier must be above 0.05 and at most 4") }
            if let initFrom, let encoder, let card = VideoModel.card(atPath: initFrom), card.architecture.backbone != encoder {
                throw ValidationError("--encoder \(encoder.rawValue) differs from --init-from's encoder (\(card.architecture.backbone.rawValue), \(initFrom)); leave --encoder out to use the file's")
            }
            if frames < 1 || size < 16 || epochs < 1 || batchSize < 1 { throw ValidationError("--frames, --size, --epochs and --batch-size must be positive (size ≥ 16)") }
            if !(0..<1).contains(validationFraction) { throw ValidationError("--validation-fraction must be in [0, 1)") }
            try requirePositive(Double(learningRate), "--lr")
            guard weightDecay.isFinite, weightDecay >= 0 else { throw ValidationError("--weight-decay must be a finite number, 0 or more") }
            guard labelSmoothing >= 0, labelSmoothing < 1 else { throw ValidationError("--label-smoothing must be in [0, 1)") }
            guard clipNorm.isFinite, clipNorm >= 0 else { throw ValidationError("--clip-norm must be a finite number, 0 (off) or more") }
            guard dropout >= 0, dropout <= 1 else { throw ValidationError("--dropout must be in [0, 1]") }
            if let earlyStopping { try requirePositive(earlyStopping, "--early-stopping") }
            try requirePositive(threads, "--threads")
            try requirePositive(clipLength.value, "--clip-length")
            try requirePositive(jobs, "--jobs")
            try requirePositive(hidden, "--hidden")
            try requireUsableClips(clips)
            guard mixup.isFinite, mixup >= 0 else { throw ValidationError("--mixup must be a finite number, 0 (off) or more") }
            guard weightAveraging >= 0, weightAveraging < 1 else { throw ValidationError("--weight-averaging must be in [0, 1) (0: off)") }
            try requirePositive(layers, "--layers")
            if let problem = configuration.problem() { throw ValidationError(problem) }
        }

        func run() async throws {
            let progress = ProgressLine()
            // Ctrl-C or SIGTERM: while decoding, stop decoding and exit; while training, checkpoint and exit.
            let stop = StopFlag()
            let signals = SignalWatcher { stop.set() }
            defer { signals.cancel() }
            let result: TrainingResult
            do {
                result = try await onOwnThread { [configuration] in
                    try TrainingRun(configuration).run(stop: stop) { event in
                        switch event {
                        case .notice(let text):
                            progress.finish()
                            printError("train: " + text)
                        case .decoding(let done, let total, let pools):
                            progress.update((pools ? "decoding frame pools for temporal jitter " : "decoding ") + "\(done)/\(total)")
                        case .decoded:
                            progress.finish()
                        case .foldStarted(let fold, let folds, let train, let held):
                            printError("fold \(fold)/\(folds): \(train) training clips, \(held) held out")
                        case .training(let event, let fold, let folds):
                            progress.show(event, prefix: fold.map { "fold \($0)/\(folds ?? 0) " } ?? "")
                        case .foldFinished(let fold, let folds, let accuracy):
                            progress.finish()
                            print(String(format: "fold %d/%d: held-out accuracy %.1f%%", fold, folds, accuracy * 100))
                        }
                    }
                }
            } catch let interrupted as TrainingInterrupted {
                progress.finish()
                printError("train: \(interrupted)")
                throw ExitCode(130)
            }
            progress.finish()
            if let cv = result.crossValidation {
                print(String(format: "%d-fold cross-validation: %.1f%% ± %.1f (mean ± std of %d folds)", cv.folds.count, cv.mean * 100,
                             cv.std * 100, cv.folds.count))
                for (name, folds) in cv.variants.sorted(by: { $0.key < $1.key }) {
                    let (mean, std) = TrainingResult.CrossValidation.summary(folds)
                    print(String(format: "  the same models with %@: %.1f%% ± %.1f (folds: %@)", name, mean * 100, std * 100,
                                 folds.map { String(format: "%.1f", $0 * 100) }.joined(separator: ", ")))
                }
                if let report {
                    try writeJSON(cv, to: report)
                }
                return
            }
            guard let output = result.output else { return }
            let chosen = result.bestEpoch.map { " from epoch \($0)" } ?? ""
            print("wrote \(output)\(chosen)" + (result.metrics["validation_accuracy"].map { String(format: " (validation accuracy %.1f%%)", $0 * 100) } ?? ""))
            if let test = result.metrics["test_accuracy"] {
                print(String(format: "test accuracy %.1f%% on %d clips", test * 100, result.testClips))
            }
            if let report {
                struct Report: Encodable { var history: [EpochSummary]; var bestEpoch: Int?; var metrics: [String: Double]; var failures: [String] }
                try writeJSON(Report(history: result.history, bestEpoch: result.bestEpoch, metrics: result.metrics,
                                     failures: result.failures), to: report)
            }
        }

        private func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
            try Data(jsonString(value).utf8).write(to: URL(fileURLWithPath: path))
        }
    }
}

import ArgumentParser
import Dispatch
import Foundation
import NeuralNetwork
import VideoClassification
import VideoIO

extension VidclassCommand {
    /// `vidclass train DATASET --output model.safetensors`.
    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a CNN+RNN clip classifier on a folder per class (or a CSV of path,label[,split]).")

        @Argument(help: "Dataset folder (one sub-folder per class) or CSV file.")
        var dataset: String

        @Option(name: .shortAndLong, help: "The model file to write.")
        var output: String?

        @Option(help: "Model name stored in the file (default: the output's file name).")
        var name: String?

        @Option(help: "Encoder: lrcn-small or lrcn-resnet18.")
        var encoder = "lrcn-small"

        @Option(help: "Sequence model: lstm, gru, rnn, or mean (no recurrence: features averaged over time).")
        var sequence: SequenceChoice = .lstm

        @Option(help: "Recurrent hidden size.")
        var hidden = 256

        @Option(help: "Recurrent layers.")
        var layers = 1

        @Flag(help: "Bidirectional recurrent layers (cannot stream).")
        var bidirectional = false

        @Option(help: "Input: rgb, diff (differences of consecutive sampled frames) or rgb+diff.")
        var input: InputSpecification.Representation = .rgb

        @Option(help: "Time steps per clip.")
        var frames = 16

        @Option(help: "Network input size (square).")
        var size = 112

        @Option(help: "Short side frames are scaled to before cropping (default: size * 8/7).")
        var shortSide: Int?

        @Option(help: "Dropout before the head.")
        var dropout: Float = 0.3

        @Option(help: "Epochs.") var epochs = 40
        @Option(help: "Clips per batch.") var batchSize = 16
        @Option(name: .customLong("lr"), help: "Peak learning rate.") var learningRate: Float = 1e-3
        @Option(help: "Learning-rate schedule: onecycle, cosine, step, constant.") var schedule: TrainingOptions.Schedule = .onecycle
        @Option(help: "Optimizer: adamw, adam, sgd.") var optimizer: TrainingOptions.OptimizerKind = .adamw
        @Option(help: "Weight decay.") var weightDecay: Float = 1e-2
        @Option(help: "Label smoothing.") var labelSmoothing: Float = 0.1
        @Option(help: "Clip gradients to this global norm (0: off).") var clipNorm: Float = 5
        @Flag(help: "Weight classes by inverse frequency.") var balanceClasses = false
        @Flag(help: "Random horizontal flips (they swap left and right motion).") var flips = false
        @Option(help: "Random seed.") var seed: UInt64 = 1
        @Option(help: "Stop when validation accuracy has not improved for this many epochs.") var earlyStopping: Int?
        @Option(help: "Fraction of the training clips held out (stratified, group-aware) for validation when no clip is marked validation (0: none).")
        var validationFraction = 0.2
        @Option(help: "A file listing validation clips (one path per line, relative to the dataset's folder); other clips train, or keep their CSV split.")
        var validationList: String?
        @Option(help: "A file listing test clips, held out from training and from choosing the epoch, evaluated once at the end.")
        var testList: String?
        @Option(help: "A CSV column (e.g. source_video_index), or a regular expression whose first match (or capture group) in a path, that names each clip's group: clips of a group stay on one side of every split.")
        var groupBy: String?
        @Option(help: "K-fold cross-validation: train K models and report the mean and standard deviation.")
        var folds: Int?
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

        func validate() throws {
            if folds == nil && output == nil { throw ValidationError("--output is required (except with --folds)") }
            if let folds, folds < 2 { throw ValidationError("--folds must be at least 2") }
            if freezeEncoder && initFrom == nil { throw ValidationError("--freeze-encoder needs --init-from MODEL (a frozen random encoder learns nothing)") }
            if frames < 1 || size < 16 || epochs < 1 || batchSize < 1 { throw ValidationError("--frames, --size, --epochs and --batch-size must be positive (size ≥ 16)") }
            if !(0..<1).contains(validationFraction) { throw ValidationError("--validation-fraction must be in [0, 1)") }
            if !["lrcn-small", "lrcn-resnet18"].contains(encoder) { throw ValidationError("--encoder must be lrcn-small or lrcn-resnet18") }
        }

        func card(labels: [String]) -> ModelCard {
            let inputSpec = InputSpecification(representation: input, framesPerClip: frames, size: size, shortSide: shortSide)
            let architecture = ModelDescription(
                backbone: encoder == "lrcn-resnet18" ? .resnet18 : .small, numClasses: labels.count,
                sequenceKind: sequence.kind, hiddenSize: hidden, sequenceLayers: layers, bidirectional: bidirectional,
                head: sequence == .mean ? .featureMean : .lastStep, inputChannels: input.channels, headDropout: dropout)
            let modelName = name ?? output.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension } ?? "model"
            return ModelCard(name: modelName, architecture: architecture, labels: labels, input: inputSpec)
        }

        var trainingOptions: TrainingOptions {
            var o = TrainingOptions()
            o.epochs = epochs
            o.batchSize = batchSize
            o.learningRate = learningRate
            o.schedule = schedule
            o.optimizer = optimizer
            o.weightDecay = weightDecay
            o.labelSmoothing = labelSmoothing
            o.clipNorm = clipNorm > 0 ? clipNorm : nil
            o.balanceClasses = balanceClasses
            o.flips = flips
            o.seed = seed
            o.earlyStoppingPatience = earlyStopping
            o.threads = threads
            o.temporalJitter = temporalJitter && !freezeEncoder
            o.freezeEncoder = freezeEncoder
            return o
        }

        func run() async throws {
            var data = try VideoDataset.load(dataset)
            try data.assignSplits(validationList: validationList, testList: testList)
            if let first = data.ignoredFiles.first {
                printError("train: ignored \(data.ignoredFiles.count) file(s) without a video extension in the class folders (e.g. \(first))")
            }
            let baseCard = card(labels: data.labels)
            let progress = ProgressLine()
            printError("train: \(data.clips.count) clips, \(data.labels.count) classes (\(data.labels.joined(separator: ", "))); decoding ...")
            // Ctrl-C or SIGTERM: while decoding, stop decoding and exit; while training, checkpoint and exit.
            let stop = StopFlag()
            let signals = SignalWatcher { stop.set() }
            defer { signals.cancel() }
            func exitIfInterruptedWhileDecoding() throws {
                guard stop.isSet else { return }
                progress.finish()
                printError("train: interrupted while decoding; nothing was trained")
                throw ExitCode(130)
            }
            let frameCache = try cache.map { try FrameCacheDirectory(path: $0) }
            let decodeOptions = Preprocessor(baseCard.input).decodeOptions(threads: 1)
            let decoded = DecodedClips.decode(data.clips, options: decodeOptions, jobs: jobs, cache: frameCache, stop: { stop.isSet }) { done, total in
                progress.update("decoding \(done)/\(total)")
            }
            try exitIfInterruptedWhileDecoding()
            progress.finish()
            if frameCache != nil { printError("train: \(decoded.fromCache) of \(data.clips.count) clips read from the cache") }
            for failure in decoded.failures {
                printError("train: skipped \(data.clips[failure.index].path): \(failure.reason)")
            }
            // Temporal jitter draws from a pool of four times the sampled frames (evaluation uses
            // the exact sampling above).
            var pools = decoded
            if trainingOptions.temporalJitter {
                var poolOptions = decodeOptions
                poolOptions.sampling = .uniform(4 * baseCard.input.sampledFrames)
                pools = DecodedClips.decode(data.clips, options: poolOptions, jobs: jobs, cache: frameCache, stop: { stop.isSet }) { done, total in
                    progress.update("decoding frame pools for temporal jitter \(done)/\(total)")
                }
                try exitIfInterruptedWhileDecoding()
                progress.finish()
            }
            let labelIndex = Dictionary(uniqueKeysWithValues: data.labels.enumerated().map { ($1, $0) })
            func samples(_ indices: [Int], from clips: DecodedClips = decoded) -> [Trainer.Sample] {
                indices.compactMap { i in
                    guard decoded.frames[i] != nil else { return nil }
                    return clips.frames[i].map { Trainer.Sample(frames: $0, label: labelIndex[data.clips[i].label]!, path: data.clips[i].path) }
                }
            }
            func initialModel(seed: UInt64) throws -> VideoModel {
                let model = VideoModel(card: baseCard, seed: seed)
                if let initFrom { try model.loadWeights(from: initFrom) }
                return model
            }

            if let folds {
                // Clips marked `test` stay out of every fold.
                let pool = data.nonTestIndices
                let parts = try data.subset(pool).folds(folds, seed: seed, groupBy: groupBy).map { $0.map { pool[$0] } }
                var accuracies: [Double] = []
                for (k, heldOut) in parts.enumerated() {
                    let train = samples(parts.enumerated().filter { $0.offset != k }.flatMap(\.element), from: pools)
                    let held = samples(heldOut)
                    let model = try initialModel(seed: seed &+ UInt64(k))
                    let trainer = Trainer(model: model, options: trainingOptions, stopRequest: stop)
                    printError("fold \(k + 1)/\(folds): \(train.count) training clips, \(held.count) held out")
                    trainer.fit(train: train, validation: [], progress: { progress.show($0, prefix: "fold \(k + 1)/\(folds) ") })
                    progress.finish()
                    if stop.isSet {
                        printError("train: interrupted in fold \(k + 1)/\(folds); no mean is reported for unfinished folds")
                        throw ExitCode(130)
                    }
                    let accuracy = trainer.accuracy(held)
                    accuracies.append(accuracy)
                    print(String(format: "fold %d/%d: held-out accuracy %.1f%%", k + 1, folds, accuracy * 100))
                }
                let mean = accuracies.reduce(0, +) / Double(max(accuracies.count, 1))
                let std = (accuracies.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(accuracies.count - 1, 1))).squareRoot()
                print(String(format: "%d-fold cross-validation: %.1f%% ± %.1f (mean ± std of %d folds)", folds, mean * 100, std * 100, accuracies.count))
                if let report {
                    try writeJSON(["folds": accuracies, "mean": [mean], "std": [std]], to: report)
                }
                return
            }

            guard let output else { return }
            let split = try data.split(validationFraction: validationFraction, seed: seed, groupBy: groupBy)
            let trainSamples = samples(split.train, from: pools)
            let validationSamples = samples(split.validation)
            let testSamples = samples(split.test)
            guard !trainSamples.isEmpty else {
                throw VideoClassificationError(.invalidDataset, path: dataset, message: "no decodable training clips")
            }
            let checkpointPath = output + ".checkpoint"
            var model = try initialModel(seed: seed)
            var resumeState: TrainingCheckpoint?
            var resumeEpoch = 0
            let datasetHash = data.hash
            // The recipe as stored: the training options and how the clips were split.
            var recipe = trainingOptions.recipe
            recipe["split"] = validationList != nil || testList != nil
                ? "lists validation=\(validationList ?? "-") test=\(testList ?? "-")"
                : "fraction \(validationFraction) seed \(seed) group-by \(groupBy ?? "-")"
            if !resume && FileManager.default.fileExists(atPath: checkpointPath) {
                throw VideoClassificationError(.ioError, path: checkpointPath,
                                               message: "a checkpoint of an earlier run is in the way: continue it with --resume, or delete it to start afresh")
            }
            if resume, FileManager.default.fileExists(atPath: checkpointPath) {
                (model, resumeState, resumeEpoch) = try checkpoint(at: checkpointPath, card: baseCard, recipe: recipe, datasetHash: datasetHash)
                printError("train: resuming after epoch \(resumeEpoch) from \(checkpointPath)"
                           + (resumeState == nil ? " (it holds no optimizer state: the optimizer starts afresh)" : ""))
            }
            let trainer = Trainer(model: model, options: trainingOptions, stopRequest: stop)
            if let resumeState {
                do { try trainer.resume(from: resumeState) } catch {
                    throw VideoClassificationError(.invalidModel, path: checkpointPath, message: "its training state does not fit the model: \(error)")
                }
            } else {
                trainer.resume(afterEpoch: resumeEpoch)
            }
            printError("train: \(trainSamples.count) training clips, \(validationSamples.count) validation clips"
                       + (split.test.isEmpty ? "" : ", \(testSamples.count) test clips"))
            let started = Date()
            func provenance(epochs: Int, metrics: [String: Double]) -> Provenance {
                Provenance(dataset: dataset, datasetHash: datasetHash, date: ISO8601DateFormatter().string(from: started),
                           epochs: epochs, metrics: metrics, vidclassVersion: vidclassVersion, recipe: recipe)
            }
            var checkpointEpoch = resumeEpoch
            try trainer.fit(train: trainSamples, validation: validationSamples, progress: { progress.show($0) }) { checkpoint in
                var checkpointCard = model.card
                checkpointCard.provenance = provenance(epochs: checkpoint.state.epoch, metrics: [:])
                try model.save(to: checkpointPath, card: checkpointCard, checkpoint: checkpoint)
                checkpointEpoch = checkpoint.state.epoch
            }
            progress.finish()
            if stop.isSet && trainer.history.last.map({ $0.epoch < epochs }) ?? true {
                // An unfinished run leaves the output alone: the checkpoint is the model so far.
                printError("train: interrupted; " + (checkpointEpoch > 0
                    ? "the checkpoint \(checkpointPath) holds epoch \(checkpointEpoch) (a usable model file; continue with --resume)"
                    : "no epoch was completed, nothing was saved"))
                throw ExitCode(130)
            }
            var metrics: [String: Double] = [:]
            if let last = trainer.history.last {
                metrics["train_loss"] = last.loss
                metrics["train_accuracy"] = last.trainAccuracy
            }
            if !validationSamples.isEmpty { metrics["validation_accuracy"] = trainer.accuracy(validationSamples) }
            if !testSamples.isEmpty { metrics["test_accuracy"] = trainer.accuracy(testSamples) }
            var finalCard = model.card
            finalCard.provenance = provenance(epochs: trainer.history.last?.epoch ?? resumeEpoch, metrics: metrics)
            try model.save(to: output, card: finalCard)
            try? FileManager.default.removeItem(atPath: checkpointPath)
            let chosen = trainer.bestEpoch.map { " from epoch \($0)" } ?? ""
            print("wrote \(output)\(chosen)" + (metrics["validation_accuracy"].map { String(format: " (validation accuracy %.1f%%)", $0 * 100) } ?? ""))
            if let test = metrics["test_accuracy"] {
                print(String(format: "test accuracy %.1f%% on %d clips", test * 100, testSamples.count))
            }
            if let report {
                struct Report: Encodable { var history: [EpochSummary]; var bestEpoch: Int?; var metrics: [String: Double]; var failures: [String] }
                try writeJSON(Report(history: trainer.history, bestEpoch: trainer.bestEpoch, metrics: metrics,
                                     failures: decoded.failures.map { data.clips[$0.index].path }), to: report)
            }
        }

        /// The checkpoint to resume from: its model, its training state (nil in files written before
        /// checkpoints held one) and the epochs it completed.
        /// - Throws: ``VideoClassificationError`` when it is of another model, was trained with other
        ///   options or data (resuming would not be exact), or cannot be read.
        private func checkpoint(at path: String, card: ModelCard, recipe: [String: String], datasetHash: String) throws
            -> (VideoModel, TrainingCheckpoint?, Int) {
            let model = try VideoModel(contentsOf: path)
            let saved = model.card
            guard saved.architecture == card.architecture, saved.input == card.input, saved.labels == card.labels else {
                throw VideoClassificationError(.invalidModel, path: path,
                                               message: "the checkpoint is of another model (architecture, input or labels differ from these options); delete it or resume with the options it was trained with")
            }
            if let stored = saved.provenance, !stored.recipe.isEmpty {
                // (Keys an older vidclass did not record are not compared.)
                let changed = stored.recipe.keys.sorted().filter { stored.recipe[$0] != recipe[$0] }
                if !changed.isEmpty {
                    throw VideoClassificationError(.invalidModel, path: path, message: "the checkpoint was trained with other options ("
                        + changed.map { "\($0) \(stored.recipe[$0] ?? "-") → \(recipe[$0] ?? "-")" }.joined(separator: ", ")
                        + "); resume with the same options, or start a new run from it with --init-from")
                }
                if let hash = stored.datasetHash, hash != datasetHash {
                    throw VideoClassificationError(.invalidModel, path: path, message: "the dataset changed since the checkpoint (clips, labels or sizes differ)")
                }
            }
            let state: TrainingCheckpoint?
            do {
                state = try TrainingCheckpoint(file: SafeTensorsFile(path: path))
            } catch {
                throw VideoClassificationError(.invalidModel, path: path, message: "its training state cannot be read: \(error)")
            }
            let epoch = state?.state.epoch ?? saved.provenance?.epochs ?? 0
            guard (0...epochs).contains(epoch) else {
                throw VideoClassificationError(.invalidModel, path: path, message: "it holds epoch \(epoch), which is not within the \(epochs) epochs of this run")
            }
            return (model, state, epoch)
        }

        private func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
            try Data(jsonString(value).utf8).write(to: URL(fileURLWithPath: path))
        }
    }
}

/// Runs a handler on SIGINT and SIGTERM instead of dying, so training can checkpoint and exit cleanly.
final class SignalWatcher: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    init(_ handler: @escaping @Sendable () -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            sources.append(source)
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

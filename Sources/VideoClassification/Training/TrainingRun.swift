import VidclassConcurrency
import Foundation
import NeuralNetwork
import VideoIO

/// One training run of `vidclass train`, as a library call: load and split the dataset, decode
/// the clips (through the frame cache), train with checkpoints after every epoch, resume exactly,
/// cross-validate, and write the model file with its provenance.
///
/// ```swift
/// let stop = StopFlag()      // set it from a signal handler or another task to stop after the batch
/// let result = try TrainingRun(configuration).run(stop: stop) { event in
///     if case .training(.epoch(let summary, _), _, _) = event { print(summary.epoch, summary.loss) }
/// }
/// ```
/// `run` is synchronous and long (minutes to hours): call it from a thread of your own or a
/// detached task, not from an actor that must stay responsive.
public struct TrainingRun: Sendable {
    /// What to train: the data, the model, the recipe and the split.
    public let configuration: TrainingConfiguration

    /// A run of `configuration`; nothing happens until ``run(stop:progress:)``.
    public init(_ configuration: TrainingConfiguration) {
        self.configuration = configuration
    }

    /// Trains.
    /// - Parameters:
    ///   - stop: set it to stop after the current batch; the run then throws ``TrainingInterrupted``.
    ///   - progress: called with each event: from the decoding threads while clips decode, then
    ///     from the training thread (so it must be safe to call from any thread).
    /// - Returns: the metrics, history and (with folds) the cross-validation result.
    /// - Throws: ``VideoClassificationError`` for a bad dataset, model or checkpoint;
    ///   ``TrainingInterrupted`` when stopped.
    public func run(stop: StopFlag = StopFlag(), progress: @escaping @Sendable (TrainingProgress) -> Void = { _ in }) throws -> TrainingResult {
        let c = configuration
        if let problem = c.problem() {
            throw VideoClassificationError(.invalidDataset, path: c.dataset, message: problem)
        }
        var data = try VideoDataset.load(c.dataset, annotations: c.annotations)
        if let path = c.corrections {
            let outcome = try LabelCorrections(contentsOf: path).apply(to: data)
            data = outcome.dataset
            progress(.notice(outcome.summary))
        }
        try data.assignSplits(validationList: c.validationList, testList: c.testList)
        if let first = data.ignoredFiles.first {
            progress(.notice("ignored \(data.ignoredFiles.count) file(s) without a video extension in the class folders (e.g. \(first))"))
        }
        let initialCard = try c.initFrom.map { path in
            guard let card = VideoModel.card(atPath: path) else {
                throw VideoClassificationError(.invalidModel, path: path, message: "not a vidclass model file (no model card)")
            }
            guard card.architecture.inputChannels == c.input.representation.channels else {
                throw VideoClassificationError(
                    .invalidModel, path: path,
                    message: "its encoder takes \(card.architecture.inputChannels) channels per frame; input '\(c.input.representation.rawValue)' gives \(c.input.representation.channels) (its own input is '\(card.input.representation.rawValue)')")
            }
            return card
        }
        let baseCard = c.card(labels: data.labels, initial: initialCard)
        var options = c.options
        options.temporalJitter = options.temporalJitter && !options.freezeEncoder
        progress(.notice("\(data.clips.count) clips, \(data.labels.count) classes (\(data.labels.joined(separator: ", "))); decoding ..."))
        if options.flips, !options.freezeEncoder {
            if let mirrored = MirroredLabels(baseCard.labels) {
                let swaps = mirrored.mirror.enumerated().filter { $0.offset < $0.element }
                    .map { "\(baseCard.labels[$0.offset]) ↔ \(baseCard.labels[$0.element])" }
                if !swaps.isEmpty { progress(.notice("flipped clips take the mirrored label: \(swaps.joined(separator: ", "))")) }
            } else {
                progress(.notice("no flips: a label names a left/right or turning direction that no other label mirrors"))
            }
        }
        func stopIfInterruptedWhileDecoding() throws {
            guard stop.isSet else { return }
            throw TrainingInterrupted(checkpoint: nil, epoch: 0, description: "interrupted while decoding; nothing was trained")
        }
        let frameCache = try c.cache.map { try FrameCacheDirectory(path: $0) }
        let decodeOptions = Preprocessor(baseCard.input).decodeOptions(threads: 1)
        let decoded = DecodedClips.decode(data.clips, options: decodeOptions, jobs: c.jobs, cache: frameCache, stop: { stop.isSet }) { done, total in
            progress(.decoding(done: done, total: total, framePools: false))
        }
        progress(.decoded)
        try stopIfInterruptedWhileDecoding()
        if frameCache != nil { progress(.notice("\(decoded.fromCache) of \(data.clips.count) clips read from the cache")) }
        for failure in decoded.failures {
            progress(.notice("skipped \(data.clips[failure.index].name): \(failure.reason)"))
        }
        // Temporal jitter draws from a pool of four times the sampled frames (evaluation uses the
        // exact sampling above).
        var pools = decoded
        if options.temporalJitter {
            var poolOptions = decodeOptions
            poolOptions.sampling = .uniform(4 * baseCard.input.sampledFrames)
            pools = DecodedClips.decode(data.clips, options: poolOptions, jobs: c.jobs, cache: frameCache, stop: { stop.isSet }) { done, total in
                progress(.decoding(done: done, total: total, framePools: true))
            }
            progress(.decoded)
            try stopIfInterruptedWhileDecoding()
        }
        // Test-time averaging: the clips that are scored (all of them with folds; validation and
        // test otherwise) decoded again with the frames of all their clips. A stretch of a long
        // video stays one clip (as `evaluate` scores it).
        let clipCount = options.evaluationClips
        var averaged: [Int: [[VideoFrame]]] = [:]
        func decodeAveraged(_ scored: [Int]) throws {
            guard clipCount > 1 else { return }
            let wholeVideos = scored.filter { data.clips[$0].start == nil && decoded.frames[$0] != nil }
            let preprocessor = Preprocessor(baseCard.input)
            let clipDecoded = DecodedClips.decode(wholeVideos.map { data.clips[$0] }, options: preprocessor.decodeOptions(threads: 1, clips: clipCount),
                                                  jobs: c.jobs, cache: frameCache, stop: { stop.isSet }) { done, total in
                progress(.decoding(done: done, total: total, framePools: false))
            }
            progress(.decoded)
            try stopIfInterruptedWhileDecoding()
            for failure in clipDecoded.failures {
                progress(.notice("scored with one clip: \(data.clips[wholeVideos[failure.index]].name) (its \(clipCount) clips failed: \(failure.reason))"))
            }
            for (n, i) in wholeVideos.enumerated() {
                if let frames = clipDecoded.frames[n] { averaged[i] = preprocessor.clips(frames, count: clipCount) }
            }
        }
        let labelIndex = Dictionary(uniqueKeysWithValues: data.labels.enumerated().map { ($1, $0) })
        /// Samples of clips `indices` with frames `from`; `averaging`: with their test-time clips.
        func samples(_ indices: [Int], from clips: DecodedClips = decoded, averaging: Bool = false) -> [Trainer.Sample] {
            indices.compactMap { i in
                guard decoded.frames[i] != nil, let label = labelIndex[data.clips[i].label] else { return nil }
                return clips.frames[i].map { Trainer.Sample(frames: $0, label: label, path: data.clips[i].path, clips: averaging ? averaged[i] : nil) }
            }
        }
        func initialModel(seed: UInt64) throws -> VideoModel {
            let model = VideoModel(card: baseCard, seed: seed)
            if let initFrom = c.initFrom { try model.loadWeights(from: initFrom) }
            return model
        }
        var result = TrainingResult()
        result.failures = decoded.failures.map { data.clips[$0.index].path }

        if let folds = c.folds {
            // Clips marked `test` stay out of every fold.
            let pool = data.nonTestIndices
            try decodeAveraged(pool)
            let parts = try data.subset(pool).folds(folds, seed: options.seed, groupBy: c.groupBy).map { $0.map { pool[$0] } }
            var accuracies: [Double] = [], variants: [String: [Double]] = [:]
            for (k, heldOut) in parts.enumerated() {
                let train = samples(parts.enumerated().filter { $0.offset != k }.flatMap(\.element), from: pools)
                let held = samples(heldOut, averaging: true), heldOneClip = samples(heldOut)
                let model = try initialModel(seed: options.seed &+ UInt64(k))
                let trainer = Trainer(model: model, options: options, stopRequest: stop)
                progress(.foldStarted(fold: k + 1, folds: folds, trainingClips: train.count, heldOutClips: held.count))
                trainer.fit(train: train, validation: [], progress: { progress(.training($0, fold: k + 1, folds: folds)) })
                if stop.isSet {
                    throw TrainingInterrupted(checkpoint: nil, epoch: 0,
                                              description: "interrupted in fold \(k + 1)/\(folds); no mean is reported for unfinished folds")
                }
                let accuracy = trainer.accuracy(held)
                accuracies.append(accuracy)
                // What the same model scores without test-time averaging or without weight averaging.
                if clipCount > 1 { variants["clips=1", default: []].append(trainer.accuracy(heldOneClip)) }
                if trainer.mirroredLabels != nil {  // trained with flips: the same models with test-time flipping
                    variants["mirror", default: []].append(trainer.accuracy(held, mirror: true))
                }
                for precision in c.scorePrecisions where precision != .float32 {
                    variants["precision=\(precision.rawValue)", default: []].append(trainer.accuracy(held, precision: precision))
                }
                if options.weightAveraging != nil {
                    trainer.withLastWeights {
                        variants["weights=last", default: []].append(trainer.accuracy(held))
                        if clipCount > 1 { variants["weights=last clips=1", default: []].append(trainer.accuracy(heldOneClip)) }
                    }
                }
                progress(.foldFinished(fold: k + 1, folds: folds, accuracy: accuracy))
            }
            let (mean, std) = TrainingResult.CrossValidation.summary(accuracies)
            result.crossValidation = TrainingResult.CrossValidation(folds: accuracies, mean: mean, std: std, variants: variants)
            return result
        }

        guard let output = c.output, let checkpointPath = c.checkpointPath else { return result }
        let split = try data.split(validationFraction: c.validationFraction, seed: options.seed, groupBy: c.groupBy)
        try decodeAveraged(split.validation + split.test)
        let trainSamples = samples(split.train, from: pools)
        let validationSamples = samples(split.validation, averaging: true)
        let testSamples = samples(split.test, averaging: true)
        guard !trainSamples.isEmpty else {
            if !split.train.isEmpty || (split.validation.isEmpty && split.test.isEmpty) {
                throw VideoClassificationError(.invalidDataset, path: c.dataset, message: "no decodable training clips")
            }
            let groups = Set(try data.groups(by: c.groupBy)).count
            throw VideoClassificationError(
                .invalidDataset, path: c.dataset,
                message: "no clip is left to train on: the held-out splits took all \(groups) group(s) (clips of one video are one group); "
                    + "use --validation-fraction 0, or more videos or groups")
        }
        var model = try initialModel(seed: options.seed)
        var resumeState: TrainingCheckpoint?
        var resumeEpoch = 0
        let datasetHash = data.hash
        // The recipe as stored: the training options and how the clips were split.
        var recipe = options.recipe
        recipe["split"] = c.validationList != nil || c.testList != nil
            ? "lists validation=\(c.validationList ?? "-") test=\(c.testList ?? "-")"
            : "fraction \(c.validationFraction) seed \(options.seed) group-by \(c.groupBy ?? "-")"
        if !c.resume && FileManager.default.fileExists(atPath: checkpointPath) {
            throw VideoClassificationError(.ioError, path: checkpointPath,
                                           message: "a checkpoint of an earlier run is in the way: continue it with --resume, or delete it to start afresh")
        }
        if c.resume, FileManager.default.fileExists(atPath: checkpointPath) {
            (model, resumeState, resumeEpoch) = try Self.checkpoint(at: checkpointPath, card: baseCard, recipe: recipe,
                                                                    datasetHash: datasetHash, epochs: options.epochs)
            progress(.notice("resuming after epoch \(resumeEpoch) from \(checkpointPath)"
                             + (resumeState == nil ? " (it holds no optimizer state: the optimizer starts afresh)" : "")))
        }
        let trainer = Trainer(model: model, options: options, stopRequest: stop)
        if let resumeState {
            do { try trainer.resume(from: resumeState) } catch {
                throw VideoClassificationError(.invalidModel, path: checkpointPath, message: "its training state does not fit the model: \(error)",
                                               underlying: error)
            }
        } else {
            trainer.resume(afterEpoch: resumeEpoch)
        }
        result.trainingClips = trainSamples.count
        result.validationClips = validationSamples.count
        result.testClips = testSamples.count
        progress(.notice("\(trainSamples.count) training clips, \(validationSamples.count) validation clips"
                         + (split.test.isEmpty ? "" : ", \(testSamples.count) test clips")))
        let started = Date()
        func provenance(epochs: Int, metrics: [String: Double]) -> Provenance {
            Provenance(dataset: c.dataset, datasetHash: datasetHash, date: ISO8601DateFormatter().string(from: started),
                       epochs: epochs, metrics: metrics, vidclassVersion: vidclassVersion, recipe: recipe)
        }
        var checkpointEpoch = resumeEpoch
        let trained = model
        try trainer.fit(train: trainSamples, validation: validationSamples, progress: { progress(.training($0, fold: nil, folds: nil)) }) { checkpoint in
            var checkpointCard = trained.card
            checkpointCard.provenance = provenance(epochs: checkpoint.state.epoch, metrics: [:])
            try trained.save(to: checkpointPath, card: checkpointCard, checkpoint: checkpoint)
            checkpointEpoch = checkpoint.state.epoch
        }
        if stop.isSet && trainer.history.last.map({ $0.epoch < options.epochs }) ?? true {
            // An unfinished run leaves the output alone: the checkpoint is the model so far.
            throw TrainingInterrupted(
                checkpoint: checkpointEpoch > 0 ? checkpointPath : nil, epoch: checkpointEpoch,
                description: "interrupted; " + (checkpointEpoch > 0
                    ? "the checkpoint \(checkpointPath) holds epoch \(checkpointEpoch) (a usable model file; continue with --resume)"
                    : "no epoch was completed, nothing was saved"))
        }
        if let last = trainer.history.last {
            result.metrics["train_loss"] = last.loss
            result.metrics["train_accuracy"] = last.trainAccuracy
        }
        if !validationSamples.isEmpty { result.metrics["validation_accuracy"] = trainer.accuracy(validationSamples) }
        if !testSamples.isEmpty { result.metrics["test_accuracy"] = trainer.accuracy(testSamples) }
        var finalCard = trained.card
        finalCard.provenance = provenance(epochs: trainer.history.last?.epoch ?? resumeEpoch, metrics: result.metrics)
        try trained.save(to: output, card: finalCard)
        try? FileManager.default.removeItem(atPath: checkpointPath)
        result.output = output
        result.bestEpoch = trainer.bestEpoch
        result.history = trainer.history
        return result
    }

    /// The checkpoint to resume from: its model, its training state (nil in files written before
    /// checkpoints held one) and the epochs it completed.
    /// - Throws: ``VideoClassificationError`` when it is of another model, was trained with other
    ///   options or data (resuming would not be exact), or cannot be read.
    static func checkpoint(at path: String, card: ModelCard, recipe: [String: String], datasetHash: String, epochs: Int) throws
        -> (VideoModel, TrainingCheckpoint?, Int) {
        let model = try VideoModel(contentsOf: path)
        let saved = model.card
        if saved.input.clips != card.input.clips {
            var other = saved.input
            other.clips = card.input.clips
            if other == card.input && saved.architecture == card.architecture && saved.labels == card.labels {
                throw VideoClassificationError(.invalidModel, path: path, message: "the checkpoint was validated with --clips \(saved.input.clips), not \(card.input.clips); resume with the same --clips")
            }
        }
        guard saved.architecture == card.architecture, saved.input == card.input, saved.labels == card.labels else {
            throw VideoClassificationError(.invalidModel, path: path,
                                           message: "the checkpoint is of another model (architecture, input or labels differ from these options); delete it or resume with the options it was trained with")
        }
        if let stored = saved.provenance, !stored.recipe.isEmpty {
            // (Keys an older vidclass did not record are not compared, except those whose absence
            // meant off: a checkpoint from before mixup was recorded trained without it.)
            let storedRecipe = stored.recipe.merging(["mixup": "none"]) { saved, _ in saved }
            let changed = storedRecipe.keys.sorted().filter { storedRecipe[$0] != recipe[$0] }
            if !changed.isEmpty {
                throw VideoClassificationError(.invalidModel, path: path, message: "the checkpoint was trained with other options ("
                    + changed.map { "\($0) \(storedRecipe[$0] ?? "-") → \(recipe[$0] ?? "-")" }.joined(separator: ", ")
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
            throw VideoClassificationError(.invalidModel, path: path, message: "its training state cannot be read: \(error)", underlying: error)
        }
        let epoch = state?.state.epoch ?? saved.provenance?.epochs ?? 0
        guard (0...epochs).contains(epoch) else {
            throw VideoClassificationError(.invalidModel, path: path, message: "it holds epoch \(epoch), which is not within the \(epochs) epochs of this run")
        }
        return (model, state, epoch)
    }
}

import VidclassConcurrency
import Foundation
import NeuralNetwork
import Tensors
import VideoIO

/// Classifies video files with a ``VideoModel``.
///
/// ```swift
/// let classifier = try VideoClassifier(modelPath: nil)   // the embedded default model
/// let prediction = try classifier.classify(path: "clip.mp4")
/// print(prediction.top.label, prediction.top.score)
/// ```
/// Safe to share between tasks: the network runs one call at a time; decoding runs in parallel.
public final class VideoClassifier: @unchecked Sendable {
    /// The model: its card (labels, input specification) and weights.
    public let model: VideoModel
    /// Turns decoded frames into the model's input, as its card says.
    public let preprocessor: Preprocessor
    /// The network and its reused buffers: one pass at a time.
    private let inference: LRCNInference
    private let inferenceGate = Locked(())

    /// Clips per video whose probabilities are averaged (test-time averaging, MMAction2's
    /// `--average-clips`): interleaved samplings of the model's length spread over the whole video
    /// (`FrameSampling.uniformClipIndices(count:clips:frameCount:)`). 1: the model's own sampling.
    public let clips: Int

    /// The arithmetic of the network's convolutions (``LRCNInference/precision``).
    public var precision: InferencePrecision { inference.precision }
    /// ``precision`` as results record it: nil for single precision, else its name.
    var precisionRecord: String? { precision == .float32 ? nil : precision.rawValue }

    /// A classifier for a model already loaded, with an inference snapshot of its network
    /// (``LRCNInference``: the encoder copied with BatchNorm folded), averaging `clips` clips per
    /// video (default: the model's own ``InputSpecification/clips``), its convolutions in
    /// `precision` (default single precision; `InferencePrecision.bfloat16` is faster on CPUs
    /// with AVX-512 BF16, at a small cost in agreement with single precision).
    public init(model: VideoModel, clips: Int? = nil, precision: InferencePrecision = .float32) {
        let clips = clips ?? model.card.input.clips
        precondition(clips >= 1, "clips must be at least 1")
        BLASThreads.preload()
        self.model = model
        self.clips = clips
        self.preprocessor = Preprocessor(model.card.input)
        self.inference = LRCNInference(model.network, precision: precision)
    }

    /// Loads a model file, or the embedded default model when `modelPath` is nil; `clips` clips
    /// per video are averaged (default: the model's), the convolutions run in `precision`.
    /// - Throws: ``VideoClassificationError`` for a bad model file.
    public convenience init(modelPath: String?, clips: Int? = nil, precision: InferencePrecision = .float32) throws {
        if let modelPath {
            self.init(model: try VideoModel(contentsOf: modelPath), clips: clips, precision: precision)
        } else {
            self.init(model: try DefaultModel.load(), clips: clips, precision: precision)
        }
    }

    /// How to decode a video for this classifier: the model's sampling, for ``clips`` clips.
    public func decodeOptions(threads: Int = 0) -> DecodeOptions {
        preprocessor.decodeOptions(threads: threads, clips: clips)
    }

    /// Probabilities per video for videos decoded with ``decodeOptions(threads:)``: each video is
    /// split into its ``clips`` clips (``Preprocessor/clips(_:count:)``), the clips run through the
    /// network in batches of `batchSize`, and each video's rows are averaged.
    public func probabilities(videos: [[VideoFrame]], batchSize: Int = 16) -> [[Double]] {
        probabilities(videos: videos, clipCounts: videos.map { _ in clips }, batchSize: batchSize)
    }

    /// ``probabilities(videos:batchSize:)`` with a clip count per video (a stretch of a long
    /// video is decoded as one clip).
    func probabilities(videos: [[VideoFrame]], clipCounts: [Int], batchSize: Int = 16) -> [[Double]] {
        precondition(videos.allSatisfy { !$0.isEmpty }, "a video without frames")
        let split = zip(videos, clipCounts).map { preprocessor.clips($0, count: $1) }
        let flat = split.flatMap { $0 }
        var rows: [[Double]] = []
        let batchSize = max(1, batchSize)
        for start in stride(from: 0, to: flat.count, by: batchSize) {
            rows.append(contentsOf: probabilities(preprocessor.batch(Array(flat[start..<min(flat.count, start + batchSize)]))))
        }
        return Self.averaged(rows, groups: split.map(\.count))
    }

    /// Consecutive rows averaged in groups of the given sizes.
    static func averaged(_ rows: [[Double]], groups: [Int]) -> [[Double]] {
        var out: [[Double]] = [], at = 0
        for size in groups {
            let group = rows[at..<(at + size)]
            out.append(group.dropFirst().reduce(group.first!) { zip($0, $1).map(+) }.map { $0 / Double(size) })
            at += size
        }
        return out
    }

    /// Each clip's frame indices for ``Prediction/clips`` (nil for one clip).
    func clipIndices(_ frames: [VideoFrame]) -> [[Int]]? {
        clips > 1 ? preprocessor.clips(frames, count: clips).map { $0.map(\.index) } : nil
    }

    /// Probabilities per label for clips `[B, T, C, H, W]`, as `[B][labels]` (model order).
    public func probabilities(_ clips: Tensor) -> [[Double]] {
        let logits = withInference { $0.logits(clips) }
        let probabilities = softmax(logits)
        let classes = model.card.labels.count
        return probabilities.withUnsafeBufferPointer { p in
            (0..<clips.shape[0]).map { b in (0..<classes).map { Double(p[b * classes + $0]) } }
        }
    }

    /// Runs `body` with the network, one caller at a time (its buffers are reused between calls).
    /// Synchronous callers only: the async APIs call it from threads of their own.
    func withInference<R>(_ body: (LRCNInference) -> R) -> R {
        inferenceGate.withLock { _ in body(inference) }
    }

    /// Sorted label scores from one row of probabilities.
    public func ranked(_ row: [Double]) -> [LabelScore] {
        zip(model.card.labels, row).map { LabelScore(label: $0, score: $1) }.sorted { $0.score > $1.score }
    }

    /// Classifies frames already decoded with ``Preprocessor/decodeOptions(threads:clips:)`` as one
    /// clip (whatever ``clips`` says: the frames given are the clip).
    public func classify(frames: [VideoFrame], path: String = "<frames>") throws -> Prediction {
        guard !frames.isEmpty else {
            throw VideoClassificationError(.noFrames, path: path, message: "the video yielded no frames")
        }
        let clock = ContinuousClock()
        let start = clock.now
        let clip = preprocessor.tensor(frames)
        let preprocessed = clock.now
        let row = probabilities(clip)[0]
        let preprocess = preprocessed - start, network = clock.now - preprocessed
        return Prediction(path: path, scores: ranked(row), frames: frames.map { UsedFrame(index: $0.index, time: $0.time) },
                          model: model.card.name, modelHash: model.hash,
                          timings: ["preprocess": preprocess.seconds, "model": network.seconds], inferencePrecision: precisionRecord)
    }

    /// Decodes the frames the model samples from `path` and classifies them.
    ///
    /// Decoding runs on its own thread while the encoder already processes the time steps whose
    /// frames have arrived, so the network's work overlaps the decoder's.
    /// - Throws: `VideoIOError` for an unreadable video, ``VideoClassificationError`` if it has no frames.
    public func classify(path: String, threads: Int = 0, timeout: Double? = nil) throws -> Prediction {
        try classify(ClipDecoding(path: path, input: model.card.input, threads: threads, timeout: timeout, clips: clips))
    }

    /// Decodes the frames the model samples from `path` and classifies them, without holding a
    /// Swift concurrency thread: decoding and the network run on threads of their own while the
    /// calling task is suspended. Many calls may run at once (the network takes one at a time).
    /// - Throws: `VideoIOError` for an unreadable video, ``VideoClassificationError`` if it has no frames.
    public func classify(path: String, threads: Int = 0, timeout: Double? = nil) async throws -> Prediction {
        try await onOwnThread { try self.classify(path: path, threads: threads, timeout: timeout) }
    }

    /// Classifies a video whose decoding was started with ``ClipDecoding`` (for this model's input).
    public func classify(_ decoding: ClipDecoding) throws -> Prediction {
        precondition(decoding.input == model.card.input, "the decoding was set up for another model's input")
        precondition(decoding.clips == clips, "the decoding was set up for \(decoding.clips) clip(s), the classifier averages \(clips)")
        if clips > 1 { return try classifyClips(decoding) }
        let clock = ContinuousClock()
        let started = decoding.started, queue = decoding.queue, path = decoding.path
        let input = model.card.input
        let offset = input.representation.usesDifferences ? 1 : 0
        let elements = input.representation.channels * input.size * input.size
        var frames: [VideoFrame] = []
        var features: [Float] = []
        var network = Duration.zero
        // Encodes time steps [encoded, upTo) of `source` (consecutive frames for differences).
        var encoded = 0
        func encode(upTo end: Int, from source: [VideoFrame]) {
            guard end > encoded else { return }
            let began = clock.now
            var tensor = Tensor(shape: [end - encoded, input.representation.channels, input.size, input.size])
            tensor.withUnsafeMutableBufferPointer { buffer in
                for (i, step) in (encoded..<end).enumerated() {
                    let current = preprocessor.resampledIfNeeded(source[step + offset])
                    let previous = preprocessor.resampledIfNeeded(source[step])
                    preprocessor.writeStep(current: current, previous: previous,
                                           into: UnsafeMutableBufferPointer(rebasing: buffer[(i * elements)..<((i + 1) * elements)]))
                }
            }
            features.append(contentsOf: self.features(tensor).withUnsafeBufferPointer { Array($0) })
            encoded = end
            network += clock.now - began
        }
        while let result = queue.pop() {
            frames.append(try result.get())
            // Encode in chunks of eight steps as their frames arrive.
            let available = min(frames.count - offset, input.framesPerClip)
            if available - encoded >= 8 { encode(upTo: available, from: frames) }
        }
        let decoded = clock.now - started
        guard !frames.isEmpty else {
            throw VideoClassificationError(.noFrames, path: path, message: "the video yielded no frames")
        }
        let fitted = preprocessor.fitted(frames)  // a short video repeats its last frame
        encode(upTo: input.framesPerClip, from: fitted)
        let began = clock.now
        let row = probabilities(features: Tensor(shape: [input.framesPerClip, model.card.architecture.featureSize], scalars: features),
                                steps: input.framesPerClip)
        network += clock.now - began
        return Prediction(path: path, scores: ranked(row), frames: frames.map { UsedFrame(index: $0.index, time: $0.time) },
                          model: model.card.name, modelHash: model.hash,
                          timings: ["decode": decoded.seconds, "model": network.seconds, "total": (clock.now - started).seconds], inferencePrecision: precisionRecord)
    }

    /// ``classify(_:)`` with several clips: every frame decoded first, then the clips in one batch.
    private func classifyClips(_ decoding: ClipDecoding) throws -> Prediction {
        let clock = ContinuousClock()
        var frames: [VideoFrame] = []
        while let result = decoding.queue.pop() { frames.append(try result.get()) }
        let decoded = clock.now - decoding.started
        guard !frames.isEmpty else {
            throw VideoClassificationError(.noFrames, path: decoding.path, message: "the video yielded no frames")
        }
        let began = clock.now
        let row = probabilities(videos: [frames])[0]
        let network = clock.now - began
        return Prediction(path: decoding.path, scores: ranked(row), frames: frames.map { UsedFrame(index: $0.index, time: $0.time) },
                          clips: clipIndices(frames), model: model.card.name, modelHash: model.hash,
                          timings: ["decode": decoded.seconds, "model": network.seconds, "total": (clock.now - decoding.started).seconds], inferencePrecision: precisionRecord)
    }
}

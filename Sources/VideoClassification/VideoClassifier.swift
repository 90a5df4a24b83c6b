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

    /// A classifier for a model already loaded, with an inference snapshot of its network
    /// (``LRCNInference``: the encoder copied with BatchNorm folded).
    public init(model: VideoModel) {
        BLASThreads.preload()
        self.model = model
        self.preprocessor = Preprocessor(model.card.input)
        self.inference = LRCNInference(model.network)
    }

    /// Loads a model file, or the embedded default model when `modelPath` is nil.
    /// - Throws: ``VideoClassificationError`` for a bad model file.
    public convenience init(modelPath: String?) throws {
        if let modelPath {
            self.init(model: try VideoModel(contentsOf: modelPath))
        } else {
            self.init(model: try DefaultModel.load())
        }
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

    /// Classifies frames already decoded with ``Preprocessor/decodeOptions(threads:)``.
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
                          timings: ["preprocess": preprocess.seconds, "model": network.seconds])
    }

    /// Decodes the frames the model samples from `path` and classifies them.
    ///
    /// Decoding runs on its own thread while the encoder already processes the time steps whose
    /// frames have arrived, so the network's work overlaps the decoder's.
    /// - Throws: `VideoIOError` for an unreadable video, ``VideoClassificationError`` if it has no frames.
    public func classify(path: String, threads: Int = 0, timeout: Double? = nil) throws -> Prediction {
        try classify(ClipDecoding(path: path, input: model.card.input, threads: threads, timeout: timeout))
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
                          timings: ["decode": decoded.seconds, "model": network.seconds, "total": (clock.now - started).seconds])
    }
}

import CDefaultModel
import Foundation
import Synchronization
import NeuralNetwork
import Tensors
import VideoIO

/// A label with its probability.
public struct LabelScore: Sendable, Codable, Equatable {
    public var label: String
    public var score: Double

    public init(label: String, score: Double) {
        self.label = label
        self.score = score
    }
}

/// A frame the classifier used.
public struct UsedFrame: Sendable, Codable, Equatable {
    public var index: Int
    public var time: Double
}

/// What a classification says about one video.
public struct Prediction: Sendable, Codable {
    public var path: String
    /// Every label, most probable first.
    public var scores: [LabelScore]
    /// The sampled frames, in order.
    public var frames: [UsedFrame]
    public var model: String
    public var modelHash: String
    /// Seconds spent decoding (including opening), preprocessing, and in the network.
    public var timings: [String: Double]

    /// The most probable label.
    public var top: LabelScore { scores[0] }
}

/// Classifies video files with a ``VideoModel``.
///
/// ```swift
/// let classifier = try VideoClassifier(modelPath: nil)   // the embedded default model
/// let prediction = try classifier.classify(path: "clip.mp4")
/// print(prediction.top.label, prediction.top.score)
/// ```
/// Safe to share between tasks: the network runs one call at a time; decoding runs in parallel.
public final class VideoClassifier: @unchecked Sendable {
    public let model: VideoModel
    public let preprocessor: Preprocessor
    /// The network and its reused buffers: one pass at a time.
    private let inference: LRCNInference
    private let inferenceGate = Mutex(())

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
    /// - Throws: ``VideoIOError`` for an unreadable video, ``VideoClassificationError`` if it has no frames.
    public func classify(path: String, threads: Int = 0, timeout: Double? = nil) throws -> Prediction {
        try classify(ClipDecoding(path: path, input: model.card.input, threads: threads, timeout: timeout))
    }

    /// Decodes the frames the model samples from `path` and classifies them, without holding a
    /// Swift concurrency thread: decoding and the network run on threads of their own while the
    /// calling task is suspended. Many calls may run at once (the network takes one at a time).
    /// - Throws: ``VideoIOError`` for an unreadable video, ``VideoClassificationError`` if it has no frames.
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

/// One video being opened and decoded, on its own thread, into the frames a model samples.
///
/// ``VideoClassifier/classify(path:threads:timeout:)`` uses one; start one yourself (with the input
/// specification from ``VideoModel/card(atPath:)``) to open and decode a video while the model's
/// weights are still loading, then pass it to ``VideoClassifier/classify(_:)``, which must consume it.
public final class ClipDecoding: @unchecked Sendable {
    public let path: String
    /// The input the frames are prepared for.
    public let input: InputSpecification
    let started: ContinuousClock.Instant
    let queue = BlockingQueue<Result<VideoFrame, any Error>>(capacity: 64)

    /// Opens `path` (throwing ``VideoIOError`` if it cannot be opened) and starts decoding it.
    public init(path: String, input: InputSpecification, threads: Int = 0, timeout: Double? = nil) throws {
        self.path = path
        self.input = input
        started = ContinuousClock().now
        var options = Preprocessor(input).decodeOptions(threads: threads)
        options.timeout = timeout
        // Opened here, so that open errors are thrown to the caller; then handed to the decoding
        // thread, which alone uses it from then on.
        nonisolated(unsafe) let reader = try VideoReader(path: path, options: options)
        let queue = self.queue
        Thread.detachNewThread {
            do {
                while let frame = try reader.next() { queue.push(.success(frame)) }
            } catch {
                queue.push(.failure(error))
            }
            queue.close()
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

/// The model that ships inside the package, its file's bytes linked into every binary that uses
/// this library (trained by `vidclass train` on `vidclass synth` data; the README has the commands).
///
/// No resource bundle and no file: a copied or installed executable keeps its default model.
public enum DefaultModel {
    /// How errors and `info` name the default model.
    public static let name = "<default model>"

    /// The model file's bytes (a safetensors file), valid for the life of the program.
    public static var fileBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: vidclass_default_model_bytes(), count: vidclass_default_model_size())
    }

    /// The default model's card, read from the header alone; nil if the embedded file is damaged.
    public static var card: ModelCard? {
        (try? SafeTensorsFile(staticBytes: fileBytes)).flatMap { ModelCard(metadata: $0.metadata) }
    }

    /// Loads the default model.
    /// - Throws: ``VideoClassificationError`` (`invalidModel`) when this build has no usable embedded
    ///   model; never traps.
    public static func load() throws -> VideoModel {
        guard fileBytes.count > 0 else {
            throw VideoClassificationError(.invalidModel, path: name, message: "this build has no embedded default model; pass --model")
        }
        return try VideoModel(embedded: fileBytes)
    }
}

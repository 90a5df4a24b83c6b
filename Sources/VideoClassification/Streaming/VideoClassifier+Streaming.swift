import Foundation
import NeuralNetwork
import Tensors
import VideoIO

extension VideoClassifier {
    /// Classifies a live stream of frames (from VideoIO, a camera, a network source, your own
    /// decoder), yielding a prediction every N frames or T seconds, and `started`/`ended` events
    /// when a label crosses the threshold.
    ///
    /// ```swift
    /// for try await event in classifier.predictions(for: VideoFrames(path: "stream.mp4")) {
    ///     if case .prediction(_, let time, let scores) = event { print(time, scores[0].label) }
    /// }
    /// ```
    /// Frames of any size are center-cropped and scaled to the model's input. Each frame costs one
    /// CNN pass; memory stays constant however long the stream runs (besides the model, up to
    /// about twice ``StreamOptions/batchLimit`` frames are held: read ahead, and in the network). The network runs on a thread
    /// of the stream's own, never on a Swift concurrency thread. The source is read into a queue
    /// of ``StreamOptions/batchLimit`` frames (back-pressure: the reading waits while it is full),
    /// and frames that arrive while the network is busy go through the encoder together in its
    /// next pass: faster than real time when the source is, with each frame's events as soon as it
    /// is processed when the source is live. Cancelling the iterating task, or dropping the iterator, stops the stream and the
    /// reading of its source.
    public func predictions<Frames: AsyncSequence & Sendable>(for frames: Frames, options: StreamOptions = StreamOptions())
        -> StreamPredictions<Frames> where Frames.Element == VideoFrame {
        StreamPredictions(classifier: self, frames: frames, options: options)
    }

    /// Synchronous streaming: feed frames one at a time.
    /// - Throws: ``VideoClassificationError`` (`invalidArgument`) for options this model cannot
    ///   stream with (``StreamOptions/validate(for:)``).
    public func makeStream(options: StreamOptions = StreamOptions()) throws -> FrameStream {
        try options.validate(for: model.card)
        return FrameStream(state: StreamState(classifier: self, options: options))
    }

    /// Encoder features `[N, F]` of time steps `[N, C, S, S]`.
    func features(_ steps: Tensor) -> Tensor {
        withInference { $0.frameFeatures(steps) }
    }

    /// Probabilities from the features of `steps` consecutive time steps (`[steps, F]`).
    func probabilities(features: Tensor, steps: Int) -> [Double] {
        let logits = withInference { $0.logits(features: features.reshaped([1, steps, features.shape[1]])) }
        return softmax(logits).withUnsafeBufferPointer { $0.map(Double.init) }
    }

    /// One recurrent step from encoder features `[1, F]`.
    func step(features: Tensor, state: StreamingState) -> (Tensor, StreamingState) {
        withInference { $0.step(features: features, state: state) }
    }
}

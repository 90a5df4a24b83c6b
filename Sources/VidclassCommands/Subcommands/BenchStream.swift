import ArgumentParser
import Foundation
import Tensors
import VideoClassification
import VideoIO

/// `vidclass bench stream`: decode + streaming classification of a video as a live stream (every
/// frame through the CNN, a prediction every 8 frames), its speed against real time and its memory.
struct BenchStream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Streaming throughput (times real time) and peak memory of decode + classify on one video.")

    @Argument(help: "The video to stream (default: $BENCH_VIDEOS/a_640x360_h264.mp4).")
    var file: String?

    @Option(help: "Emit a prediction every N frames.")
    var every = 8

    @Option(help: "Threads.")
    var threads = 2

    @Option(help: "The most frames that pile up while the network works to take through the encoder in one pass (1: one frame per pass).")
    var batchLimit = StreamOptions().batchLimit

    @OptionGroup var precisionOption: PrecisionOption

    func validate() throws {
        for (name, value) in [("--every", every), ("--threads", threads), ("--batch-limit", batchLimit)] where value < 1 {
            throw ValidationError("\(name) \(value): must be at least 1")
        }
    }

    func run() async throws {
        let path = file ?? benchVideosDirectory() + "/a_640x360_h264.mp4"
        let metadata = try VideoFile.probe(path: path)
        BLASThreads.count = threads
        let classifier = VideoClassifier(model: benchmarkModel(), precision: precisionOption.precision)
        // Decoding runs ahead on its own thread while the network processes each frame.
        let frames = VideoFrames(path: path, options: DecodeOptions(sampling: .all, format: classifier.model.card.input.decodeFormat,
                                                                    threads: threads)).prefetching(16)
        let start = ContinuousClock.now
        var predictions = 0, lastTime = 0.0
        let options = StreamOptions(emit: .everyFrames(every), memory: .carried, batchLimit: batchLimit)
        for try await event in classifier.predictions(for: frames, options: options) {
            if case .prediction(_, let time, _) = event {
                predictions += 1
                lastTime = time
            }
        }
        let elapsed = (ContinuousClock.now - start).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        let videoSeconds = metadata.duration ?? lastTime
        let notes = [classifier.precision == .float32 ? nil : classifier.precision.rawValue,
                     batchLimit == StreamOptions().batchLimit ? nil : "batch limit \(batchLimit)"].compactMap { $0 }
        print(String(format: "stream %@%@: %.0f s of %dx%d video in %.1f s = %.1fx real time, %d predictions, peak RSS %.1f MB",
                     path, notes.isEmpty ? "" : " (\(notes.joined(separator: ", ")))", videoSeconds, metadata.width, metadata.height,
                     seconds, videoSeconds / seconds, predictions, Double(peakResidentBytes()) / 1e6))
    }
}

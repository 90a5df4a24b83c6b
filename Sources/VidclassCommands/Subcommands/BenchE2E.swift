import ArgumentParser
import Foundation
import NeuralNetwork
import Tensors
import VideoClassification
import VideoIO

/// The reference model of the peer harness's end-to-end benchmark (`bench_e2e.py`): lrcn-small,
/// 10 classes, 16 RGB frames of 112×112, seeded random weights.
func benchmarkModel() -> VideoModel {
    let card = ModelCard(name: "lrcn-small-bench", architecture: .lrcnSmall(numClasses: 10),
                         labels: (0..<10).map { "class\($0)" },
                         input: InputSpecification(representation: .rgb, framesPerClip: 16, size: 112, shortSide: 112))
    return VideoModel(card: card, seed: 1)
}

/// A temporary folder holding ``benchmarkModel()`` as a model file (remove it when done).
func benchmarkWorkspace() throws -> (folder: URL, modelPath: String) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vidclass-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let modelPath = folder.appendingPathComponent("lrcn-small.safetensors").path
    try benchmarkModel().save(to: modelPath)
    return (folder, modelPath)
}

/// `vidclass bench e2e`: whole-process `classify` of one clip and `label` of a directory of clips,
/// each started as a fresh process (start-up included), with the benchmark model.
struct BenchE2E: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e",
        abstract: "End to end: `vidclass classify` of one 360p clip and `vidclass label` of the 20-clip directory, whole processes.")

    @Option(help: "Directory of clips (default: $BENCH_VIDEOS/e2e from ../shared/bench/make_videos.sh).")
    var clips: String?

    @Option(help: "Timed repetitions (after one warm-up).")
    var repetitions = 5

    @Option(help: "Write the results as JSON here.")
    var json: String?

    @Option(help: "Only write the benchmark model to this file.")
    var saveModel: String?

    func run() async throws {
        if let saveModel { return try benchmarkModel().save(to: saveModel) }
        let directory = clips ?? (benchVideosDirectory() + "/e2e")
        let files = try InputDiscovery.files([directory])
        guard let first = files.first else { throw ValidationError("no clips in \(directory): run ../shared/bench/make_videos.sh") }
        let (temporary, modelPath) = try benchmarkWorkspace()
        defer { try? FileManager.default.removeItem(at: temporary) }
        print("vidclass bench e2e: lrcn-small 16x112x112 RGB (random weights), \(files.count) clips in \(directory)")
        let single = try TimingSummary.measure(repetitions: repetitions, warmup: 1) {
            try runThisExecutable(["classify", first, "--model", modelPath, "--threads", "2"])
        }
        print(String(format: "classify one clip (whole process): %.1f ms (%.1f-%.1f)", single.median * 1e3, single.min * 1e3, single.max * 1e3))
        let output = temporary.appendingPathComponent("labels.jsonl").path
        let batch = try TimingSummary.measure(repetitions: max(1, repetitions - 2), warmup: 1) {
            try? FileManager.default.removeItem(atPath: output)
            try runThisExecutable(["label", directory, "-o", output, "--model", modelPath, "--jobs", "2"])
        }
        let rate = Double(files.count) / batch.median
        print(String(format: "label %d clips (whole process): %.2f s (%.2f-%.2f), %.2f clips/s", files.count, batch.median, batch.min, batch.max, rate))
        if let json {
            struct Report: Codable { var classifyOneClip: TimingSummary; var labelDirectory: TimingSummary; var clips: Int; var clipsPerSecond: Double }
            try JSONEncoder().encode(Report(classifyOneClip: single, labelDirectory: batch, clips: files.count, clipsPerSecond: rate))
                .write(to: URL(fileURLWithPath: json))
        }
    }
}

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

    func run() async throws {
        let path = file ?? benchVideosDirectory() + "/a_640x360_h264.mp4"
        let metadata = try VideoFile.probe(path: path)
        BLASThreads.count = threads
        let classifier = VideoClassifier(model: benchmarkModel())
        // Decoding runs ahead on its own thread while the network processes each frame.
        let frames = VideoFrames(path: path, options: DecodeOptions(sampling: .all, format: classifier.model.card.input.decodeFormat,
                                                                    threads: threads)).prefetching(16)
        let start = ContinuousClock.now
        var predictions = 0, lastTime = 0.0
        for try await event in classifier.predictions(for: frames, options: StreamOptions(emit: .everyFrames(every), memory: .carried)) {
            if case .prediction(_, let time, _) = event {
                predictions += 1
                lastTime = time
            }
        }
        let elapsed = (ContinuousClock.now - start).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        let videoSeconds = metadata.duration ?? lastTime
        print(String(format: "stream %@: %.0f s of %dx%d video in %.1f s = %.1fx real time, %d predictions, peak RSS %.1f MB",
                     path, videoSeconds, metadata.width, metadata.height, seconds, videoSeconds / seconds, predictions,
                     Double(peakResidentBytes()) / 1e6))
    }
}

/// `vidclass bench label DIR`: `vidclass label` over a directory as a fresh process with the
/// benchmark model: files/s, CPU utilization, peak memory; and peak memory for 10 against 1,000
/// files (hard links to one clip), which must stay flat.
struct BenchLabel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Throughput, CPU utilization and memory of `vidclass label` on a directory.")

    @Argument(help: "Directory of videos (for example ../shared/data/surveillance-fight).")
    var directory: String

    @Flag(help: "Also compare peak memory labelling 10 and 1,000 files.")
    var memoryCheck = false

    func run() async throws {
        let (temporary, modelPath) = try benchmarkWorkspace()
        defer { try? FileManager.default.removeItem(at: temporary) }
        let files = try InputDiscovery.files([directory])
        func labelRun(_ root: String) throws -> (seconds: Double, cpu: Double, peak: Int) {
            var before = rusage(), after = rusage()
            getrusage(RUSAGE_CHILDREN.rawValue, &before)
            let start = ContinuousClock.now
            let output = try runThisExecutable(["label", root, "-o", temporary.appendingPathComponent("out-\(UUID().uuidString).jsonl").path,
                                                "--model", modelPath, "--print-peak-memory"], captureOutput: true)
            let elapsed = (ContinuousClock.now - start).components
            let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
            getrusage(RUSAGE_CHILDREN.rawValue, &after)
            func cpu(_ r: rusage) -> Double {
                Double(r.ru_utime.tv_sec + r.ru_stime.tv_sec) + Double(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6
            }
            let line = output.split(separator: "\n").last { $0.hasPrefix("peak-memory-bytes ") } ?? ""
            return (seconds, cpu(after) - cpu(before), Int(line.split(separator: " ").last ?? "") ?? -1)
        }
        let run = try labelRun(directory)
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        print(String(format: "label %d files in %@: %.1f s, %.2f files/s, CPU utilization %.0f%% of %.0f cores, peak RSS %.1f MB",
                     files.count, directory, run.seconds, Double(files.count) / run.seconds, 100 * run.cpu / (run.seconds * cores),
                     cores, Double(run.peak) / 1e6))
        guard memoryCheck, let first = files.first else { return }
        var peaks: [Int] = []
        for count in [10, 1000] {
            let folder = temporary.appendingPathComponent("copies-\(count)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for n in 0..<count {
                try FileManager.default.linkItem(atPath: first, toPath: folder.appendingPathComponent(String(format: "%04d.%@", n, (first as NSString).pathExtension)).path)
            }
            let r = try labelRun(folder.path)
            peaks.append(r.peak)
            print(String(format: "label %d files: %.1f s, peak RSS %.1f MB", count, r.seconds, Double(r.peak) / 1e6))
        }
        print(String(format: "peak RSS, 1,000 files against 10: %+.1f%%", 100 * (Double(peaks[1]) / Double(peaks[0]) - 1)))
    }
}

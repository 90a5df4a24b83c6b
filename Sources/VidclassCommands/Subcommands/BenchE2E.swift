import ArgumentParser
import Foundation
import VideoClassification

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

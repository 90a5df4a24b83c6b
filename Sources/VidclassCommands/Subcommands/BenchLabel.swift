import ArgumentParser
import Foundation
import VideoClassification

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

    @Option(help: "Label with this model file instead of the benchmark model.")
    var model: String?

    @Option(parsing: .upToNextOption, help: "Label once per value with --clips N (test-time averaging), e.g. --clips 1 4: the cost per file of averaging.")
    var clips: [Int] = []

    func validate() throws {
        for n in clips { try requirePositive(n, "--clips") }
    }

    func run() async throws {
        let (temporary, benchmarkModel) = try benchmarkWorkspace()
        defer { try? FileManager.default.removeItem(at: temporary) }
        let modelPath = model ?? benchmarkModel
        let files = try InputDiscovery.files([directory])
        func labelRun(_ root: String, clips: Int? = nil) throws -> (seconds: Double, cpu: Double, peak: Int) {
            var before = rusage(), after = rusage()
            getrusage(RUSAGE_CHILDREN.rawValue, &before)
            let start = ContinuousClock.now
            let output = try runThisExecutable(["label", root, "-o", temporary.appendingPathComponent("out-\(UUID().uuidString).jsonl").path,
                                                "--model", modelPath, "--print-peak-memory"] + (clips.map { ["--clips", "\($0)"] } ?? []),
                                               captureOutput: true)
            let elapsed = (ContinuousClock.now - start).components
            let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
            getrusage(RUSAGE_CHILDREN.rawValue, &after)
            func cpu(_ r: rusage) -> Double {
                Double(r.ru_utime.tv_sec + r.ru_stime.tv_sec) + Double(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6
            }
            let line = output.split(separator: "\n").last { $0.hasPrefix("peak-memory-bytes ") } ?? ""
            return (seconds, cpu(after) - cpu(before), Int(line.split(separator: " ").last ?? "") ?? -1)
        }
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        var first: Double?
        for n in clips.isEmpty ? [nil] : clips.map(Optional.some) {
            let run = try labelRun(directory, clips: n)
            let perFile = run.seconds / Double(max(files.count, 1))
            print(String(format: "label %d files in %@%@: %.1f s, %.2f files/s, %.1f ms a file%@, CPU utilization %.0f%% of %.0f cores, peak RSS %.1f MB",
                         files.count, directory, n.map { " with --clips \($0)" } ?? "", run.seconds, Double(files.count) / run.seconds,
                         perFile * 1000, first.map { String(format: " (%.2f× the first)", perFile / $0) } ?? "",
                         100 * run.cpu / (run.seconds * cores), cores, Double(run.peak) / 1e6))
            first = first ?? perFile
        }
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

import VidclassConcurrency
import ArgumentParser
import Foundation
import VideoClassification
import VideoIO

extension LabelOutput.Format: ExpressibleByArgument {}

extension VidclassCommand {
    /// `vidclass label PATH... --output labels.jsonl`.
    struct Label: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Label every video under folders (or listed files): parallel, resumable, one record per file, bad files never stop the batch.",
            discussion: """
            Exit status: 0 when every file was labelled; 1 when some failed (their records say why);
            2 for a fatal setup error (bad model, unwritable output, a resumed output of another model).
            """)

        @Argument(help: "Folders (searched recursively) and files.")
        var paths: [String] = []

        @Option(name: .shortAndLong, help: "Output file (JSON Lines, or CSV with --format csv).")
        var output: String

        @Option(help: "Output format: jsonl or csv.")
        var format: LabelOutput.Format = .jsonl

        @OptionGroup var modelOption: ModelOption
        @OptionGroup var clipsOption: ClipsOption
        @OptionGroup var precisionOption: PrecisionOption

        @Option(help: "Read more paths, one per line, from this file (- for standard input).")
        var filesFrom: String?

        @Option(help: "Comma-separated extensions to include from folders.")
        var extensions = InputDiscovery.defaultExtensions.sorted().joined(separator: ",")

        @Flag(help: "Include hidden files and folders.")
        var hidden = false

        @Flag(help: "Skip files already recorded in the output (same file, size and modification time) and append the rest.")
        var resume = false

        @Flag(help: "With --resume: label again the files whose records say error or timeout.")
        var retryFailed = false

        @Flag(help: "Replace an existing output that holds results (without it, such an output is refused unless --resume).")
        var overwrite = false

        @Flag(help: "When another run is writing the output, wait for it to finish (then, with --resume, label what it left) instead of failing.")
        var waitForOutput = false

        @Option(help: "Take the I-th of N parts of the sorted input (0 ≤ I < N), for array jobs.")
        var shard: String?

        @Option(help: "Files decoded at once (default: the number of cores).")
        var jobs: Int?

        @Option(help: "Give up on a file after this many seconds (its record says timeout).")
        var timeout: Double = 120

        @Option(help: "Top labels kept per record.")
        var top = 5

        @Flag(help: "Add per-window predictions (see --window, --stride).")
        var timeline = false

        @Flag(help: .hidden) var printPeakMemory = false

        @Option(help: "Timeline window, seconds.") var window: Double = 2
        @Option(help: "Timeline stride, seconds.") var stride: Double = 1

        static let fatal = ExitCode(2)

        func validate() throws {
            if paths.isEmpty && filesFrom == nil { throw ValidationError("give folders or files, or --files-from") }
            if let shard, Shard(shard) == nil { throw ValidationError("--shard must be I/N with 0 ≤ I < N, got '\(shard)'") }
            if let jobs { try requirePositive(jobs, "--jobs") }
            try requirePositive(timeout, "--timeout")
            try requirePositive(window, "--window")
            try requirePositive(stride, "--stride")
            try requirePositive(top, "--top")
            if retryFailed && !resume { throw ValidationError("--retry-failed goes with --resume") }
            if overwrite && resume { throw ValidationError("--overwrite and --resume exclude each other") }
        }

        func run() async throws {
            let started = Date()
            let classifier: VideoClassifier
            let out: LabelOutput
            var files: [String]
            var inputProblems = 0
            do {
                classifier = clipsOption.classifier(try modelOption.load(), precision: precisionOption)
                var roots = paths
                if let filesFrom {
                    // One path per line, as bytes: names that are not UTF-8 keep them (FileNameBytes).
                    let data = filesFrom == "-" ? FileHandle.standardInput.readDataToEndOfFile()
                        : try Data(contentsOf: URL(fileURLWithPath: filesFrom))
                    roots += data.split(separator: UInt8(ascii: "\n")).map { line in
                        FileNameBytes.string(line.last == UInt8(ascii: "\r") ? line.dropLast() : line[...])
                    }.filter { !$0.isEmpty }
                }
                let wanted = Set(extensions.lowercased().split(separator: ",").map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: ". ")) })
                let found = InputDiscovery.discover(roots, extensions: wanted, includeHidden: hidden)
                for problem in found.problems { printError("label: \(problem)") }
                inputProblems = found.problems.filter(\.isFailure).count
                if found.contains(output) || found.files.contains(output) {
                    throw ValidationError("\(output): the output is one of the inputs; refusing to write over it")
                }
                files = found.files
                if let shard = shard.flatMap(Shard.init) { files = shard.select(files) }
                if waitForOutput { printError("label: waiting for \(output) if another run is writing it") }
                out = try LabelOutput(path: output, format: format, resume: resume, overwrite: overwrite, retryFailed: retryFailed,
                                      waitForLock: waitForOutput, modelHash: classifier.model.hash, clips: classifier.clips,
                                      precision: classifier.precision)
            } catch {
                printError("vidclass: \(error)")
                throw Self.fatal
            }
            var options = BatchOptions()
            let cores = ProcessInfo.processInfo.activeProcessorCount
            options.jobs = jobs ?? cores
            options.timeout = timeout
            options.top = top
            if timeline { options.timeline = (window, stride) }
            let stop = StopFlag()
            let signals = SignalWatcher { stop.set() }
            defer { signals.cancel() }
            let progress = ProgressLine()
            let summary: BatchSummary
            do {
                summary = try BatchLabeler(classifier: classifier, options: options).run(files, output: out, stop: stop) { s, total in
                let done = s.labelled + s.failed + s.skipped
                let rate = Double(s.labelled + s.failed) / max(s.seconds, 1e-9)
                let eta = rate > 0 ? Double(total - done) / rate : 0
                progress.update(String(format: "%d/%d files  %.1f files/s  ETA %@  errors %d", done, total, rate,
                                       ProgressLine.duration(eta), s.failed))
                }
            } catch {
                progress.finish()
                printError("vidclass: \(error)")  // the output cannot be written: nothing more can be recorded
                throw Self.fatal
            }
            progress.finish()
            let elapsed = Date().timeIntervalSince(started)
            let counts = summary.labelCounts.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            printError(String(format: "labelled %d, failed %d (%d timed out), skipped %d already recorded; %.1f s, %.2f files/s",
                              summary.labelled, summary.failed, summary.timedOut, summary.skipped, elapsed,
                              Double(summary.labelled + summary.failed) / max(elapsed, 1e-9))
                       + (counts.isEmpty ? "" : "; labels: " + counts))
            if printPeakMemory { print("peak-memory-bytes \(peakResidentBytes())") }
            if stop.isSet { throw ExitCode(130) }
            if inputProblems > 0 { printError("label: \(inputProblems) input(s) could not be read or would block (listed above)") }
            if summary.failed > 0 || inputProblems > 0 { throw ExitStatus.someFailed }
        }
    }
}

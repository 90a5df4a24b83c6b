import ArgumentParser
import Foundation
import VideoClassification

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

        @Option(help: "Read more paths, one per line, from this file (- for standard input).")
        var filesFrom: String?

        @Option(help: "Comma-separated extensions to include from folders.")
        var extensions = InputDiscovery.defaultExtensions.sorted().joined(separator: ",")

        @Flag(help: "Include hidden files and folders.")
        var hidden = false

        @Flag(help: "Skip files already recorded in the output (same path, size and modification time) and append the rest.")
        var resume = false

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
            if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
            if timeout <= 0 || window <= 0 || stride <= 0 || top < 1 { throw ValidationError("--timeout, --window, --stride and --top must be positive") }
        }

        func run() async throws {
            let started = Date()
            let classifier: VideoClassifier
            let out: LabelOutput
            var files: [String]
            do {
                classifier = VideoClassifier(model: try modelOption.load())
                var roots = paths
                if let filesFrom {
                    let text = filesFrom == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                        : try String(contentsOfFile: filesFrom, encoding: .utf8)
                    roots += text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
                }
                let wanted = Set(extensions.lowercased().split(separator: ",").map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: ". ")) })
                files = try InputDiscovery.files(roots, extensions: wanted, includeHidden: hidden)
                if let shard = shard.flatMap(Shard.init) { files = shard.select(files) }
                out = try LabelOutput(path: output, format: format, resume: resume, modelHash: classifier.model.hash)
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
            if summary.failed > 0 { throw ExitStatus.someFailed }
        }
    }

    /// `vidclass merge OUTPUT INPUT...`: shard outputs into one, duplicates dropped.
    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge JSON Lines outputs of `label` (for example one per shard): one record per file, duplicates reported and dropped.")

        @Option(name: .shortAndLong, help: "The merged output (JSON Lines).")
        var output: String

        @Argument(help: "Outputs of `vidclass label`.")
        var inputs: [String]

        func run() async throws {
            var seen = Set<String>(), duplicates = 0, records: [String] = [], models = Set<String>()
            for input in inputs {
                guard let text = try? String(contentsOfFile: input, encoding: .utf8) else {
                    printError("vidclass: \(input): cannot read")
                    throw Label.fatal
                }
                for line in text.split(separator: "\n") {
                    guard let record = try? JSONDecoder().decode(LabelRecord.self, from: Data(line.utf8)) else { continue }
                    models.insert(record.modelHash)
                    if seen.insert(record.path).inserted { records.append(String(line)) } else { duplicates += 1 }
                }
            }
            if models.count > 1 {
                printError("vidclass: the inputs were written by different models (\(models.sorted().joined(separator: ", ")))")
                throw Label.fatal
            }
            try Data((records.joined(separator: "\n") + (records.isEmpty ? "" : "\n")).utf8).write(to: URL(fileURLWithPath: output))
            print("merged \(records.count) records from \(inputs.count) files into \(output); \(duplicates) duplicate(s) dropped")
        }
    }
}

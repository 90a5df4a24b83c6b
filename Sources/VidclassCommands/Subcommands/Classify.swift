import ArgumentParser
import Foundation
import Tensors
import VideoClassification
import VideoIO

extension VidclassCommand {
    /// `vidclass classify FILE...`.
    struct Classify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Name what happens in video clips: the top labels with their probabilities.")

        @Argument(help: "Video files, URLs FFmpeg opens (file:, http:, rtsp:, ...), or - for standard input.")
        var files: [String]

        @Flag(help: "Explain which frames were sampled and why.")
        var explain = false

        @Option(help: "With --explain: also write the contact sheet of the sampled frames (PNG).")
        var explainSheet: String?

        @OptionGroup var modelOption: ModelOption
        @OptionGroup var clipsOption: ClipsOption
        @OptionGroup var precisionOption: PrecisionOption

        @Option(help: "How many labels to show.")
        var top = 5

        @Option(help: "Output format: text, json, or with --timeline also csv and vtt (WebVTT subtitles).")
        var format: ClassifyFormat = .text

        @Option(help: "Decoder threads (0: one per core).")
        var threads = 0

        @Flag(help: "A prediction per window over the video (see --window and --stride).")
        var timeline = false

        @Option(help: "Timeline window length (2, 2s, 1.5s, 500ms, 1m).")
        var window = Seconds(2)

        @Option(help: "Timeline stride (same forms as --window).")
        var stride = Seconds(1)

        @Option(help: "With --timeline and --format vtt or csv: write one file per input into this folder (NAME.vtt / NAME.csv) instead of standard output.")
        var outputDir: String?

        enum ClassifyFormat: String, ExpressibleByArgument, CaseIterable { case text, json, csv, vtt }

        func validate() throws {
            if timeline && (clipsOption.clips ?? 1) > 1 { throw ValidationError("--clips averages whole-video predictions; a timeline classifies each window once") }
            if top < 1 { throw ValidationError("--top must be at least 1") }
            if (format == .csv || format == .vtt) && !timeline { throw ValidationError("--format \(format.rawValue) needs --timeline") }
            if threads < 0 { throw ValidationError("--threads must be 0 (one per core) or more, got \(threads)") }
            if outputDir != nil && !(timeline && (format == .csv || format == .vtt)) {
                throw ValidationError("--output-dir goes with --timeline --format vtt or csv")
            }
            if files.count > 1 && timeline && format == .vtt && outputDir == nil {
                throw ValidationError("several inputs with --format vtt need --output-dir (one WebVTT file per input)")
            }
        }

        /// Prints how the frames were chosen and writes their contact sheet.
        private func explainSampling(_ p: Prediction, classifier: VideoClassifier, file: String, path: String) throws {
            let spec = classifier.model.card.input
            let metadata = try? VideoFile.probe(path: path)
            let total = metadata?.frameCount.map { "\($0)" } ?? "?"
            if let clips = p.clips {
                printError("\(file): \(clips.count) clips of \(spec.sampledFrames) frames, interleaved uniform samplings over \(total) (the first starts on frame 0, the last ends on the last frame); their probabilities are averaged")
            } else {
                printError("\(file): \(spec.sampledFrames) frames sampled uniformly by index over \(total) (round(linspace(0, frames-1, \(spec.sampledFrames))))")
            }
            switch spec.representation {
            case .rgb: printError("  input rgb: each of the \(spec.framesPerClip) frames is one time step")
            case .diff: printError("  input diff: the \(spec.framesPerClip) differences of consecutive sampled frames are the time steps")
            case .rgbDiff: printError("  input rgb+diff: each time step is a frame and its difference from the previous sampled frame (6 channels)")
            }
            printError("  each frame: \(spec.resize.summary(size: spec.size, shortSide: spec.shortSide)), (x/255 - \(spec.mean))/\(spec.std)")
            let times = Dictionary(p.frames.map { ($0.index, $0.time) }, uniquingKeysWith: { a, _ in a })
            for (n, clip) in (p.clips ?? [p.frames.map(\.index)]).enumerated() {
                printError((p.clips == nil ? "  frames: " : "  clip \(n + 1) frames: ")
                           + clip.map { String(format: "#%d@%.2fs", $0, times[$0] ?? .nan) }.joined(separator: " "))
            }
            if let sheet = explainSheet {
                let decoded = try VideoReader(path: path, options: DecodeOptions(sampling: .indices(p.frames.map(\.index)),
                                                                                 format: spec.decodeFormat, threads: threads)).readAll()
                // What the network got: the same windows as its input tensor (Preprocessor.networkFrames),
                // clip after clip.
                let clips = classifier.preprocessor.clips(decoded, count: p.clips?.count ?? 1)
                let picture = ContactSheet.render(clips.flatMap { classifier.preprocessor.networkFrames($0) })
                try ImageWriter.writePNG(pixels: picture.pixels, width: picture.width, height: picture.height, to: sheet)
                printError("  contact sheet: \(sheet)")
            }
        }

        private func runTimeline(_ classifier: VideoClassifier) throws {
            var failures = 0
            var writtenFiles = Set<String>()
            var outputs: [TimelineResult] = []
            for file in files {
                do {
                    let input = try InputSpool(file)
                    defer { input.remove() }
                    let progress = isatty(STDERR_FILENO) != 0 ? ProgressLine() : nil
                    let windows = try classifier.timeline(path: input.path, window: window.value, stride: stride.value, threads: threads) {
                        seconds, duration in
                        progress?.update(String(format: "%@: %.0f of %.0f s read (%.0f%%)", file, seconds, duration, 100 * seconds / max(duration, 1e-9)))
                    }
                    progress?.finish()
                    switch format {
                    case .json:
                        outputs.append(TimelineResult(path: file, model: classifier.model.card.name, modelHash: classifier.model.hash,
                                                      window: window.value, stride: stride.value, windows: windows))
                    case .csv, .vtt:
                        let text = format == .csv ? TimelineFormat.csv(windows, path: file) : TimelineFormat.webVTT(windows)
                        if let outputDir {
                            let name = file == "-" ? "stdin" : ((file as NSString).lastPathComponent as NSString).deletingPathExtension
                            let target = (outputDir as NSString).appendingPathComponent(name + "." + format.rawValue)
                            try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
                            if writtenFiles.contains(target) || FileManager.default.fileExists(atPath: target) {
                                throw ValidationError("\(target): already exists; timelines never replace a file (inputs with the same name need separate folders)")
                            }
                            try Data(text.utf8).write(to: URL(fileURLWithPath: target))
                            writtenFiles.insert(target)
                            printError("\(file): \(target)")
                        } else {
                            print(text, terminator: "")
                        }
                    case .text:
                        if files.count > 1 { print(file) }
                        for w in windows {
                            let others = w.scores.dropFirst().prefix(top - 1).map { "\($0.label) \(String(format: "%.1f%%", $0.score * 100))" }
                            print(String(format: "%8.2f–%-8.2f %@ %.1f%%", w.start, w.end, w.top.label, w.top.score * 100)
                                  + (others.isEmpty ? "" : "  (" + others.joined(separator: ", ") + ")"))
                        }
                    }
                } catch {
                    failures += 1
                    printError("vidclass: \(error)")
                }
            }
            if format == .json { print(try jsonString(outputs)) }
            if failures > 0 { throw ExitStatus.someFailed }
        }

        struct Output: Encodable {
            var path: String
            var labels: [LabelScore]
            var frames: [UsedFrame]
            var clips: [[Int]]?
            var model: String
            var modelHash: String
            var timings: [String: Double]
            var inferencePrecision: String?
        }

        func run() async throws {
            // The card alone says how to decode: open and start decoding the first video while the
            // weights load (any trouble here is left for the normal path to report).
            BLASThreads.preload()
            var early: ClipDecoding?
            if !timeline, let first = files.first, first != "-",
               let card = modelOption.model.map(VideoModel.card(atPath:)) ?? DefaultModel.card {
                early = try? ClipDecoding(path: first, input: card.input, threads: threads, clips: clipsOption.clips ?? card.input.clips)
            }
            let classifier = clipsOption.classifier(try modelOption.load(), precision: precisionOption)
            if timeline { return try runTimeline(classifier) }
            if early?.input != classifier.model.card.input || early?.clips != classifier.clips { early = nil }  // the file changed meanwhile
            var outputs: [Output] = []
            var failures = 0
            // Progress on a terminal only (a log or a pipe gets the results and the errors alone).
            let progress = isatty(STDERR_FILENO) != 0 ? ProgressLine() : nil
            for (position, file) in files.enumerated() {
                if files.count > 1 && format == .json { progress?.update("\(position)/\(files.count) files classified") }
                do {
                    // Standard input stays in memory (no file) unless --explain needs it as a file.
                    let explaining = explain || explainSheet != nil
                    let input = try InputSpool(file, inMemoryUpTo: explaining ? 0 : InputSpool.memoryLimit)
                    defer { input.remove() }
                    let p: Prediction
                    if position == 0, let early {
                        p = try classifier.classify(early)
                    } else if let bytes = input.bytes {
                        p = try classifier.classify(ClipDecoding(bytes: bytes, name: file, input: classifier.model.card.input, threads: threads,
                                                                  clips: classifier.clips))
                    } else {
                        p = try await classifier.classify(path: input.path, threads: threads)
                    }
                    if explain || explainSheet != nil { try explainSampling(p, classifier: classifier, file: file, path: input.path) }
                    let shown = Array(p.scores.prefix(top))
                    outputs.append(Output(path: file, labels: shown, frames: p.frames, clips: p.clips, model: p.model, modelHash: p.modelHash, timings: p.timings,
                                          inferencePrecision: p.inferencePrecision))
                    if format != .json {
                        if files.count > 1 { print(file) }
                        let width = shown.map(\.label.count).max() ?? 0
                        for s in shown {
                            print("  " + s.label.padding(toLength: width, withPad: " ", startingAt: 0) + String(format: "  %6.2f%%", s.score * 100))
                        }
                    }
                } catch {
                    failures += 1
                    printError("vidclass: \(error)")
                }
            }
            progress?.finish()
            if format == .json { print(try jsonString(outputs)) }
            if failures > 0 { throw ExitStatus.someFailed }
        }
    }
}

import ArgumentParser
import Foundation
import VideoClassification

extension VidclassCommand {
    /// `vidclass watch SOURCE`.
    struct Watch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Classify a live source as it plays (a camera, a stream URL, a pipe, a file) and write events as JSON Lines.",
            discussion: """
                SOURCE is a file, - (standard input), a URL FFmpeg opens (rtsp://, rtmp://, http://, udp://, srt://, ...) or a \
                capture device (/dev/video0, through FFmpeg's v4l2 input). Each line is one event: opened, prediction, started, \
                ended, dropped (frames the network could not take from a live source), disconnected, retrying, reconnected, \
                finished; each with the source's timestamp ("time") and the wall clock ("wall").
                Exit status: 0 the source ended or Ctrl-C/SIGTERM stopped the watch; 1 the source failed (without --reconnect) \
                or the output could not be written; 2 the model or the output cannot be opened; 64 bad arguments.
                """)

        @Argument(help: "The source: a file, -, a URL, or /dev/videoN.")
        var source: String

        @OptionGroup var modelOption: ModelOption
        @OptionGroup var precisionOption: PrecisionOption

        @Option(name: .shortAndLong, help: "Append the events to this file instead of writing them to standard output.")
        var output: String?

        @Option(help: "A prediction every T of source time (500ms, 1s, 2s).")
        var every = Seconds(0.5)

        @Option(help: "A prediction every N frames given to the model, instead of --every.")
        var everyFrames: Int?

        @Option(help: "Source time the model looks at (its time steps spread over it).")
        var window = Seconds(2)

        @Option(help: "Average the last N predictions before deciding started/ended.")
        var smoothing = 3

        @Option(help: "A label starts when its smoothed probability reaches this (0-1), and ends below it.")
        var threshold = 0.6

        @Option(help: "What the recurrent layer sees: window (the last --window of frames, as in training) or carried (state carried for the whole stream).")
        var memory: MemoryMode = .window

        @Flag(help: "Read a file at its own frame rate, as if it were live (default: as fast as possible).")
        var realtime = false

        @Flag(help: "When a live source ends, fails or goes quiet, open it again (waiting 0.5 s, then twice as long each time, up to --max-reconnect-delay).")
        var reconnect = false

        @Option(help: "The longest wait between reconnection attempts.")
        var maxReconnectDelay = Seconds(30)

        @Option(help: "A live source that sends nothing this long has gone away.")
        var stallTimeout = Seconds(5)

        @Option(help: "FFmpeg input format (default: v4l2 for /dev/video*, FFmpeg's guess otherwise).")
        var inputFormat: String?

        @Option(help: "Run this shell command on every 'started' event (VIDCLASS_LABEL, VIDCLASS_SCORE, VIDCLASS_TIME, VIDCLASS_WALL, VIDCLASS_SOURCE in its environment; the event's JSON on its standard input; its output goes to standard error).")
        var exec: String?

        @Option(help: "Decoder threads (0: one per core).")
        var threads = 0

        enum MemoryMode: String, ExpressibleByArgument, CaseIterable { case window, carried }

        func validate() throws {
            try requirePositive(every.value, "--every")
            try requirePositive(window.value, "--window")
            try requirePositive(stallTimeout.value, "--stall-timeout")
            try requirePositive(maxReconnectDelay.value, "--max-reconnect-delay")
            if let everyFrames, everyFrames < 1 { throw ValidationError("--every-frames must be at least 1") }
            if everyFrames != nil && every != Seconds(0.5) { throw ValidationError("--every and --every-frames are alternatives: give one") }
            if smoothing < 1 { throw ValidationError("--smoothing must be at least 1") }
            if !(0...1).contains(threshold) { throw ValidationError("--threshold must be within 0 and 1") }
        }

        func run() throws {
            let classifier: VideoClassifier
            do {
                classifier = VideoClassifier(model: try modelOption.load(), precision: precisionOption.precision)
            } catch {
                printError("vidclass: \(error)")
                throw Label.fatal
            }
            var options = WatchOptions()
            options.stream = StreamOptions(emit: everyFrames.map { .everyFrames($0) } ?? .everySeconds(every.value),
                                           memory: memory == .carried ? .carried : .window(nil), smoothing: smoothing, threshold: threshold,
                                           emitsPartialWindows: false)
            options.window = window.value
            options.realtime = realtime
            options.reconnect = reconnect
            options.maximumReconnectDelay = maxReconnectDelay.value
            options.stallTimeout = stallTimeout.value
            options.inputFormat = inputFormat
            options.threads = threads
            let watcher: Watcher
            do {
                watcher = try Watcher(classifier: classifier, source: source, options: options)
            } catch {
                printError("vidclass: \(error)")
                throw Label.fatal
            }

            var sink: FileHandle = .standardOutput
            if let output {
                let fd = FileNameBytes.withFileSystemPath(output) { open($0, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644) }
                guard fd >= 0 else {
                    printError("vidclass: \(output): cannot open for writing: \(String(cString: strerror(errno)))")
                    throw Label.fatal
                }
                sink = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            }
            // A reader that goes away (`| head`, an --exec command that ignores its input) is an
            // error to report, not a signal that kills the watch mid-line.
            signal(SIGPIPE, SIG_IGN)
            let hook = exec.map { EventCommand($0) }
            let signals = SignalWatcher { watcher.stop() }
            defer { signals.cancel() }
            var writeFailed = false
            do {
                try watcher.run { event in
                    guard !writeFailed else { return }
                    do {
                        try sink.write(contentsOf: Data((event.jsonLine + "\n").utf8))
                    } catch {
                        // A closed pipe or a full disk: say so once and stop watching.
                        printError("vidclass: \(output ?? "standard output"): cannot write: \(error.localizedDescription); stopping")
                        writeFailed = true
                        watcher.stop()
                    }
                    hook?.run(for: event)
                }
            } catch {
                printError("vidclass: \(error)")
                throw ExitStatus.someFailed
            }
            hook?.waitForLast(seconds: 5)
            if let hook, hook.skipped > 0 {
                printError("watch: --exec skipped \(hook.skipped) event(s) while its previous run had not ended")
            }
            if writeFailed { throw ExitStatus.someFailed }
        }
    }
}

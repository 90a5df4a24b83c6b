import ArgumentParser
import Foundation
import VidclassConcurrency
import VideoClassification

extension VidclassCommand {
    /// `vidclass report RESULTS... -o report/`.
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a web page of results to open from disk: label counts, a filterable table with the frames the model used, evaluations, timelines, and label corrections to download.",
            discussion: """
                RESULTS are outputs of `label` (JSON Lines or CSV), `evaluate --format json` and `classify [--timeline] --format json`, in any mix. \
                Open OUTPUT/index.html in a browser (no server is needed). Corrections made there download as corrections.csv, \
                which `train --corrections` and `evaluate --corrections` read.
                Exit status: 0 built; 1 built, but some videos could not be read for thumbnails (each is named); 2 an input cannot be read or the folder cannot be written; 130 interrupted (nothing is left behind).
                """)

        @Argument(help: "Results files.")
        var results: [String]

        @Option(name: .shortAndLong, help: "The report folder to write (created; must be new or empty unless --overwrite).")
        var output: String

        @Flag(help: "Replace the folder if it already holds something (the old report stays until the new one is complete).")
        var overwrite = false

        @Option(help: "Page title.")
        var title = "vidclass report"

        @Option(help: "Height in pixels of each frame in the thumbnail strips (even).")
        var thumbnailHeight = 64

        @Flag(help: "No thumbnail strips (no video is opened).")
        var noThumbnails = false

        @Option(help: "Videos decoded at once for thumbnails (default: the number of cores).")
        var jobs = ProcessInfo.processInfo.activeProcessorCount

        func validate() throws {
            if thumbnailHeight < 8 || thumbnailHeight > 720 { throw ValidationError("--thumbnail-height must be between 8 and 720") }
            if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        }

        func run() async throws {
            var options = ReportOptions()
            options.overwrite = overwrite
            options.title = title
            options.thumbnailHeight = thumbnailHeight / 2 * 2
            options.thumbnails = !noThumbnails
            options.jobs = jobs
            let stop = StopFlag()
            let signals = SignalWatcher { stop.set() }
            defer { signals.cancel() }
            let progress = isatty(STDERR_FILENO) != 0 ? ProgressLine() : nil
            let summary: ReportSummary
            do {
                summary = try await onOwnThread { [results, output, options] in
                    try VideoClassification.Report.build(inputs: results, to: output, options: options, stop: stop) { done, total in
                        progress?.update("\(done)/\(total) thumbnail strips")
                    }
                }
            } catch {
                progress?.finish()
                if stop.isSet {
                    printError("vidclass: interrupted; no report was written")
                    throw ExitCode(130)
                }
                printError("vidclass: \(error)")
                throw Label.fatal
            }
            progress?.finish()
            for warning in summary.warnings { printError("report: \(warning)") }
            for failure in summary.thumbnailFailures { printError("report: no thumbnails for \(failure.path): \(failure.reason)") }
            var parts: [String] = []
            if summary.labelledFiles > 0 { parts.append("\(summary.labelledFiles) files") }
            if summary.evaluations > 0 { parts.append("\(summary.evaluations) evaluation\(summary.evaluations == 1 ? "" : "s")") }
            if summary.timelines > 0 { parts.append("\(summary.timelines) timeline\(summary.timelines == 1 ? "" : "s")") }
            print("wrote \(summary.directory)/index.html: \(parts.joined(separator: ", ")), \(summary.thumbnails) thumbnail strips")
            if !summary.thumbnailFailures.isEmpty { throw ExitStatus.someFailed }
        }
    }
}

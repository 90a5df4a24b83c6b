import Foundation
import VidclassConcurrency
import VideoIO

/// How ``Report/build(inputs:to:options:stop:progress:)`` builds a report.
public struct ReportOptions: Sendable {
    /// Make a strip of the frames the model used for every clip (default true).
    public var thumbnails = true
    /// Height of each frame in a strip, in pixels (even; default 64).
    public var thumbnailHeight = 64
    /// Videos decoded at once for thumbnails (each on one thread); default: the number of cores.
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    /// Replace an existing report folder (default: an error).
    public var overwrite = false
    /// The page title (default: "vidclass report").
    public var title = "vidclass report"

    /// The defaults.
    public init() {}
}

/// What ``Report/build(inputs:to:options:stop:progress:)`` made.
public struct ReportSummary: Sendable {
    /// The report folder (open `index.html` in it).
    public var directory: String
    /// Files of `label` results in the report.
    public var labelledFiles: Int
    /// Evaluations in the report.
    public var evaluations: Int
    /// Timelines in the report.
    public var timelines: Int
    /// Thumbnail strips written.
    public var thumbnails: Int
    /// Videos whose strip could not be made, with the reason (their rows show it).
    public var thumbnailFailures: [(path: String, reason: String)]
    /// Problems with the inputs that did not stop the report (lines that are not records).
    public var warnings: [String]
}

/// A static website of results that a person opens from disk: `vidclass report` as a library call.
///
/// ```swift
/// let summary = try Report.build(inputs: ["labels.jsonl", "eval.json"], to: "report")
/// print("open \(summary.directory)/index.html")
/// ```
///
/// The folder holds everything the page needs (`index.html`, its script and style, the data as
/// `data.js`, thumbnails under `t/`): no server, no network. From `label` results it shows label
/// counts, a sortable and filterable table of files with the frames the model used; from an
/// evaluation the metrics and the confusion matrix whose cells open their clips; from timelines a
/// strip of labels over time. A person can correct labels in the page and download them as
/// `corrections.csv`, which `vidclass train --corrections` and `evaluate --corrections` read
/// (``LabelCorrections``).
public enum Report {
    /// Reads `inputs` (``ReportInput``), decodes the frames each clip was classified from (only
    /// those, `options.jobs` videos at once) and writes the site into `directory`. The folder is
    /// built beside the target and moved into place at the end, so an interrupted build leaves no
    /// half report.
    /// - Throws: ``VideoClassificationError`` when an input cannot be read or is not a vidclass
    ///   result, when `directory` exists and is not empty (without `options.overwrite`), or when
    ///   it cannot be written; `invalidArgument` when `stop` was set before the end.
    public static func build(inputs: [String], to directory: String, options: ReportOptions = ReportOptions(),
                             stop: StopFlag = StopFlag(),
                             progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil) throws -> ReportSummary {
        // `review/` and `review` are one folder (and messages do not say `review//index.html`).
        var directory = directory
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        guard !inputs.isEmpty else {
            throw VideoClassificationError(.invalidArgument, path: directory, message: "no results to report")
        }
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = manager.fileExists(atPath: directory, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue {
            throw VideoClassificationError(.invalidArgument, path: directory, message: "exists and is not a folder")
        }
        let contents = exists ? (try? manager.contentsOfDirectory(atPath: directory)) ?? ["?"] : []
        if !contents.isEmpty {
            if !options.overwrite {
                throw VideoClassificationError(.invalidArgument, path: directory,
                                               message: "already exists and is not empty; pass --overwrite to replace it")
            }
            // --overwrite replaces a report, never any other folder.
            if !(contents.contains("index.html") && contents.contains("data.js")) {
                throw VideoClassificationError(.invalidArgument, path: directory,
                                               message: "is not a report folder (no index.html and data.js): not replaced, even with --overwrite")
            }
        }
        var page = try PageData(inputs: inputs.map(ReportInput.load), title: options.title)

        // Thumbnails: one strip per distinct (file, frames), made in parallel.
        var jobs: [(abs: String, frames: [UsedFrame])] = [], seen = Set<String>()
        func thumb(_ abs: String, _ frames: [UsedFrame]?) -> String? {
            guard options.thumbnails, let frames, !frames.isEmpty else { return nil }
            let key = thumbnailKey(abs, frames)
            if seen.insert(key).inserted { jobs.append((abs, frames)) }
            return thumbnailName(key)
        }
        var changed: [(path: String, reason: String)] = []
        for i in page.items.indices {
            // A file that changed since it was labelled would show other frames than the model's.
            if let recorded = page.items[i].recorded, options.thumbnails, page.items[i].frames != nil {
                let now = FileKey.of(page.items[i].abs)
                if now.size >= 0 && (now.size != recorded.size || abs(now.mtime - recorded.mtime) > 1e-3) {
                    page.items[i].thumbError = "changed since it was labelled (size or modification time differ): its frames are not shown"
                    changed.append((page.items[i].path, page.items[i].thumbError!))
                    continue
                }
            }
            page.items[i].thumb = thumb(page.items[i].abs, page.items[i].frames)
        }
        for e in page.evaluations.indices {
            for c in page.evaluations[e].clips.indices {
                page.evaluations[e].clips[c].thumb = thumb(page.evaluations[e].clips[c].abs, page.evaluations[e].clips[c].frames)
            }
        }

        let parent = (directory as NSString).deletingLastPathComponent
        let staging = (parent.isEmpty ? "." : parent) + "/." + (directory as NSString).lastPathComponent + ".partial-\(getpid())"
        try? manager.removeItem(atPath: staging)
        do {
            try manager.createDirectory(atPath: options.thumbnails ? staging + "/t" : staging, withIntermediateDirectories: true)
        } catch {
            throw VideoClassificationError(.ioError, path: directory, message: "cannot create the report folder", underlying: error)
        }
        var finished = false
        defer { if !finished { try? manager.removeItem(atPath: staging) } }

        let failures = Locked([String: String]())
        let counter = AtomicCounter(), done = AtomicCounter()
        let writeFailure = Locked<VideoClassificationError?>(nil)
        // Stops the workers on a write failure without looking like the caller's stop.
        let failedToWrite = StopFlag()
        let jobList = jobs
        DispatchQueue.concurrentPerform(iterations: max(1, min(options.jobs, jobList.count))) { _ in
            while !stop.isSet && !failedToWrite.isSet {
                let i = counter.increment()
                guard i < jobList.count else { return }
                let job = jobList[i]
                let key = thumbnailKey(job.abs, job.frames)
                let file = staging + "/" + thumbnailName(key)
                do {
                    let bytes = try ThumbnailStrip.jpeg(path: job.abs, frames: job.frames, height: options.thumbnailHeight)
                    if !FileManager.default.createFile(atPath: file, contents: Data(bytes)) {
                        writeFailure.withLock { $0 = $0 ?? VideoClassificationError(.ioError, path: file, message: "cannot write the thumbnail (disk full?)") }
                        failedToWrite.set()
                    }
                } catch {
                    failures.withLock { $0[key] = "\(error)" }
                }
                progress?(done.increment() + 1, jobList.count)
            }
        }
        if let failure = writeFailure.withLock({ $0 }) { throw failure }
        if stop.isSet {
            throw VideoClassificationError(.invalidArgument, path: directory, message: "stopped before the report was complete; nothing was written")
        }
        let failed = failures.withLock { $0 }
        /// The thumbnail a row keeps, or why it has none.
        func outcome(_ abs: String, _ frames: [UsedFrame]?, _ thumb: String?) -> (thumb: String?, error: String?) {
            guard let frames, let thumb else { return (thumb, nil) }
            if let why = failed[thumbnailKey(abs, frames)] { return (nil, why) }
            return (thumb, nil)
        }
        for i in page.items.indices where page.items[i].thumb != nil {
            let item = page.items[i]
            (page.items[i].thumb, page.items[i].thumbError) = outcome(item.abs, item.frames, item.thumb)
        }
        for e in page.evaluations.indices {
            for c in page.evaluations[e].clips.indices where page.evaluations[e].clips[c].thumb != nil {
                let clip = page.evaluations[e].clips[c]
                (page.evaluations[e].clips[c].thumb, page.evaluations[e].clips[c].thumbError) = outcome(clip.abs, clip.frames, clip.thumb)
            }
        }

        // The confusion matrices as pictures too, with class names and counts.
        for (n, input) in page.inputs.enumerated() {
            guard case .evaluation(_, let report) = input else { continue }
            let name = "confusion-\(n + 1).svg"
            try write(Data(ConfusionMatrixPicture.svg(report).utf8), to: staging + "/" + name)
            if let e = page.evaluations.firstIndex(where: { $0.source == n }) { page.evaluations[e].picture = name }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json: Data
        do { json = try encoder.encode(page) } catch {
            throw VideoClassificationError(.ioError, path: directory, message: "cannot encode the report data", underlying: error)
        }
        try write(Data("window.VIDCLASS_REPORT = ".utf8) + json + Data(";\n".utf8), to: staging + "/data.js")
        try write(Data(ReportAssets.html(title: options.title).utf8), to: staging + "/index.html")
        try write(Data(ReportAssets.script.utf8), to: staging + "/report.js")
        try write(Data(ReportAssets.style.utf8), to: staging + "/report.css")

        // Into place: the old report (with overwrite) leaves only once the new one is complete.
        let old = staging + ".old"
        do {
            if exists {
                try manager.moveItem(atPath: directory, toPath: old)
            }
            try manager.moveItem(atPath: staging, toPath: directory)
            finished = true
            try? manager.removeItem(atPath: old)
        } catch {
            if exists && !manager.fileExists(atPath: directory) { try? manager.moveItem(atPath: old, toPath: directory) }
            throw VideoClassificationError(.ioError, path: directory, message: "cannot move the report into place", underlying: error)
        }
        return ReportSummary(directory: directory, labelledFiles: page.items.count, evaluations: page.evaluations.count,
                             timelines: page.timelines.count, thumbnails: jobs.count - failed.count,
                             thumbnailFailures: failed.map { (path: String($0.key[..<($0.key.lastIndex(of: "|") ?? $0.key.endIndex)]), reason: $0.value) }
                                 .sorted { $0.path < $1.path } + changed,
                             warnings: page.warnings)
    }

    /// A strip's identity: the file and the frame indices.
    private static func thumbnailKey(_ abs: String, _ frames: [UsedFrame]) -> String {
        abs + "|" + frames.map { String($0.index) }.joined(separator: ",")
    }

    /// A strip's file in the report folder.
    private static func thumbnailName(_ key: String) -> String {
        "t/" + MD5.hex(of: Array(key.utf8)).prefix(20) + ".jpg"
    }

    private static func write(_ data: Data, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: data) else {
            throw VideoClassificationError(.ioError, path: path, message: "cannot write it (disk full or no permission?)")
        }
    }
}

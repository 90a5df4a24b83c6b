import VidclassConcurrency
import Foundation
import Tensors
import VideoIO

/// `I/N`: this job's part of a sorted input list, for array jobs under a scheduler.
public struct Shard: Sendable, Equatable {
    /// This job's part, `0 ≤ index < count`.
    public var index: Int
    /// The number of parts the list is split into.
    public var count: Int

    /// Parses `I/N` with `0 ≤ I < N`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] > 0, (0..<parts[1]).contains(parts[0]) else { return nil }
        index = parts[0]
        count = parts[1]
    }

    /// Every `count`-th file starting at `index`: the shards of one list partition it exactly.
    public func select<T>(_ sorted: [T]) -> [T] {
        sorted.enumerated().filter { $0.offset % count == index }.map(\.element)
    }
}

/// How a batch runs.
public struct BatchOptions: Sendable {
    /// Files decoded at once.
    public var jobs = 2
    /// Clips per network call at most. Two keeps the network's working memory the same whether a
    /// run has ten files or a million (larger batches gain little: 16 frames are already one batch).
    public var batchSize = 2
    /// Give up on a file after this many seconds.
    public var timeout: Double? = 120
    /// Top labels kept per record.
    public var top = 5
    /// Per-window predictions (`window`, `stride` seconds).
    public var timeline: (window: Double, stride: Double)?

    /// The defaults: 2 jobs, batches of 2, 120-second timeout, top 5, no timeline.
    public init() {}
}

/// Totals of a batch.
public struct BatchSummary: Sendable {
    /// Files labelled successfully in this run.
    public var labelled = 0
    /// Files that got an error record, timeouts included.
    public var failed = 0
    /// Files given up on after ``BatchOptions/timeout`` (also counted in ``failed``).
    public var timedOut = 0
    /// Files skipped because the output already had a record for them (resume).
    public var skipped = 0
    /// Wall-clock seconds since the run started.
    public var seconds = 0.0
    /// Files per top label, among those labelled in this run.
    public var labelCounts: [String: Int] = [:]
}

/// Labels many files: `jobs` decoders run in parallel while the network classifies their clips
/// in batches; every file gets exactly one record, written as soon as it is known.
public final class BatchLabeler {
    /// The model that labels the files.
    public let classifier: VideoClassifier
    /// Parallelism, batch size, timeout, top-k and timeline settings.
    public let options: BatchOptions

    /// A labeler; nothing runs until ``run(_:output:stop:progress:)``.
    public init(classifier: VideoClassifier, options: BatchOptions) {
        self.classifier = classifier
        self.options = options
    }

    private enum Decoded {
        case clip(path: String, key: FileKey, frames: [VideoFrame], duration: Double?)
        case done(LabelRecord)
    }

    /// Labels `files` into `output`, skipping those it has recorded; calls `progress` after each file.
    public func run(_ files: [String], output: LabelOutput, stop: StopFlag = StopFlag(),
                    progress: ((BatchSummary, Int) -> Void)? = nil) throws -> BatchSummary {
        let started = ContinuousClock.now
        var summary = BatchSummary()
        let todo = files.filter { !output.recorded.contains(FileKey.of($0)) }
        summary.skipped = files.count - todo.count
        let queue = BlockingQueue<Decoded>(capacity: max(2, options.jobs * 2))
        let next = AtomicCounter()
        let model = classifier.model
        let decodeOptions: DecodeOptions = {
            var o = classifier.decodeOptions(threads: 1)
            o.timeout = options.timeout
            return o
        }()
        let abort = StopFlag()
        let workers = DispatchGroup()
        for _ in 0..<max(1, min(options.jobs, todo.count)) {
            workers.enter()
            Thread.detachNewThread { [options, classifier] in
                defer { workers.leave() }
                while !stop.isSet && !abort.isSet {
                    let i = next.increment()
                    guard i < todo.count else { return }
                    let path = todo[i], key = FileKey.of(path)
                    func failure(_ error: Error) -> Decoded {
                        let timedOut = (error as? VideoIOError)?.code == .timedOut
                        return .done(LabelRecord(path: path, status: timedOut ? .timeout : .error, model: model.card.name,
                                                 modelHash: model.hash, size: key.size, mtime: key.mtime,
                                                 error: "\(error)".replacingOccurrences(of: "\n", with: " ")))
                    }
                    do {
                        if let timeline = options.timeline {
                            let windows = try classifier.timeline(path: path, window: timeline.window, stride: timeline.stride,
                                                                  threads: 1, timeout: options.timeout)
                            let p = try classifier.classify(path: path, threads: 1, timeout: options.timeout)
                            queue.push(.done(Self.record(p, key: key, top: options.top, timeline: windows, duration: windows.last?.end, model: model)))
                        } else {
                            let reader = try VideoReader(path: path, options: decodeOptions)
                            let frames = try reader.readAll()
                            if frames.isEmpty {
                                queue.push(failure(VideoClassificationError(.noFrames, path: path, message: "the video yielded no frames")))
                            } else {
                                queue.push(.clip(path: path, key: key, frames: frames, duration: reader.duration))
                            }
                        }
                    } catch {
                        queue.push(failure(error))
                    }
                }
            }
        }
        Thread.detachNewThread {
            workers.wait()
            queue.close()
        }
        // If writing fails (disk full), stop the workers and unblock them before the error propagates.
        defer {
            abort.set()
            queue.close()
        }
        var done = summary.skipped
        func write(_ record: LabelRecord) throws {
            try output.append(record)
            switch record.status {
            case .ok:
                summary.labelled += 1
                summary.labelCounts[record.label ?? "?", default: 0] += 1
            case .error: summary.failed += 1
            case .timeout: summary.failed += 1; summary.timedOut += 1
            }
            done += 1
            summary.seconds = (ContinuousClock.now - started).seconds
            progress?(summary, files.count)
        }
        while let first = queue.pop() {
            // Gather whatever else is ready, up to a batch, and run the network once for all.
            var items = [first]
            while items.count < options.batchSize, let more = queue.tryPop() { items.append(more) }
            var clips: [(path: String, key: FileKey, frames: [VideoFrame], duration: Double?)] = []
            for item in items {
                switch item {
                case .done(let record): try write(record)
                case .clip(let path, let key, let frames, let duration): clips.append((path, key, frames, duration))
                }
            }
            guard !clips.isEmpty else { continue }
            let rows = classifier.probabilities(videos: clips.map(\.frames), batchSize: options.batchSize)
            for (clip, row) in zip(clips, rows) {
                let p = Prediction(path: clip.path, scores: classifier.ranked(row),
                                   frames: clip.frames.map { UsedFrame(index: $0.index, time: $0.time) },
                                   clips: classifier.clipIndices(clip.frames), model: model.card.name, modelHash: model.hash, timings: [:],
                                   inferencePrecision: classifier.precisionRecord)
                try write(Self.record(p, key: clip.key, top: options.top, timeline: nil, duration: clip.duration, model: model))
            }
        }
        summary.seconds = (ContinuousClock.now - started).seconds
        return summary
    }

    static func record(_ p: Prediction, key: FileKey, top: Int, timeline: [TimelineWindow]?, duration: Double?, model: VideoModel) -> LabelRecord {
        LabelRecord(path: p.path, status: .ok, label: p.top.label, score: p.top.score, top: Array(p.scores.prefix(top)),
                    duration: duration, frames: p.frames, clips: p.clips, timeline: timeline, model: model.card.name, modelHash: model.hash,
                    inferencePrecision: p.inferencePrecision, size: key.size, mtime: key.mtime)
    }
}

import Foundation
import VidclassConcurrency

/// A synchronous frame reader over one video file.
///
/// ```swift
/// let reader = try VideoReader(path: "clip.mp4",
///                              options: DecodeOptions(sampling: .uniform(16), format: FrameFormat(size: FrameSize(112))))
/// while let frame = try reader.next() { ... }
/// ```
/// Opening the file happens in `init` (errors name the file and the cause). Not `Sendable`:
/// use one reader per task; several readers may decode different files at once.
public final class VideoReader {
    private let engine: FrameReader
    /// Readers of later runs of the wanted frames, decoding on threads of their own meanwhile.
    private var parts: [PartDecoder] = []
    private var currentPart = -1

    /// Opens `path` and prepares to return the frames `options` select.
    ///
    /// With several threads, a seekable file whose frames to decode span several groups of
    /// pictures may be decoded in parts at once: runs of frames that each start at a clean
    /// keyframe, each read by a reader of its own (one decoder thread each for pictures up to
    /// 1280×720, on which the decoder's own threads gain little), their frames returned in
    /// order. The frames are the same either way.
    /// - Throws: ``VideoIOError`` when the file cannot be opened or has no decodable video.
    public init(path: String, options: DecodeOptions = DecodeOptions()) throws {
        engine = try FrameReader(path: path, options: options)
        if let split = engine.partsForParallelDecoding() {
            try engine.keepFirstWanted(split.runs[0].count)
            // Every part opens the file now, before this returns (the file may be gone later).
            for (k, run) in split.runs.enumerated().dropFirst() {
                parts.append(try PartDecoder(path: path, options: options, threads: engine.threadsPerPart, wanted: run,
                                             later: split.runs[(k + 1)...].flatMap { $0 }, table: split.table))
            }
            parts.forEach { $0.start() }
        }
    }

    deinit { parts.forEach { $0.stop() } }

    /// Reads a video held in memory (through a custom FFmpeg I/O context, no file); `name` names it
    /// in errors.
    public init(bytes: [UInt8], name: String = "<memory>", options: DecodeOptions = DecodeOptions()) throws {
        engine = try FrameReader(path: name, options: options, bytes: bytes)
    }

    /// The next selected frame in presentation order, or nil at the end.
    /// - Throws: ``VideoIOError`` for damaged data when the policy says so, or I/O failures.
    public func next() throws -> VideoFrame? {
        if let failure { throw failure }
        if currentPart < 0 {
            if let frame = try engine.next() { return frame }
            if engine.tookOverLaterRuns { dropParts(after: -1) }
            currentPart = 0
        }
        while currentPart < parts.count {
            do {
                if let frame = try parts[currentPart].next() { return frame }
            } catch {
                // The part's reader stopped at the error: what it had left is lost, so this
                // reader ends here too rather than go on with a gap.
                failure = error
                dropParts(after: currentPart)
                throw error
            }
            if parts[currentPart].report.tookOverLaterRuns { dropParts(after: currentPart) }
            currentPart += 1
        }
        return nil
    }

    /// A part's error, thrown again by every later call.
    private var failure: Error?

    /// Stops and forgets the parts after index `k` (-1: all of them).
    private func dropParts(after k: Int) {
        for part in parts[(k + 1)...] { part.stop() }
        parts.removeSubrange((k + 1)...)
    }

    /// Reads all remaining selected frames.
    public func readAll() throws -> [VideoFrame] {
        var frames: [VideoFrame] = []
        while let frame = try next() { frames.append(frame) }
        return frames
    }

    /// How many frames the decoder flagged as damaged so far.
    public var corruptFrameCount: Int { engine.corruptFrameCount + parts.reduce(0) { $0 + $1.report.corruptFrameCount } }
    /// The container's duration in seconds, when it declares one.
    public var duration: Double? { engine.duration }

    /// What the reader has done so far (parts decoded on other threads count once they finish).
    public var statistics: DecodeStatistics { parts.reduce(engine.statistics) { $0 + $1.report.statistics } }
    /// How many parts the frames are decoded in at once (1: this thread alone).
    public var partCount: Int { 1 + parts.count }
    /// Whether sparse sampling uses the frame table (seeks and skips) rather than reading on.
    public var usesFrameTable: Bool { engine.isPlanned }
    /// How many packets the decoder rejected so far.
    public var rejectedPacketCount: Int { engine.rejectedPacketCount + parts.reduce(0) { $0 + $1.report.rejectedPacketCount } }
}

/// One run of a file's wanted frames, decoded by a reader of its own on a thread of its own into
/// a queue that holds the whole run (``VideoReader`` checked that it fits the memory budget).
/// The reader is only touched by that thread once it starts (hence `@unchecked Sendable`).
final class PartDecoder: @unchecked Sendable {
    struct Report {
        var statistics = DecodeStatistics()
        var corruptFrameCount = 0
        var rejectedPacketCount = 0
        var tookOverLaterRuns = false
    }

    private enum Item { case frame(VideoFrame), failure(Error) }
    private let queue: BlockingQueue<Item>
    private let stopFlag = StopFlag()
    private let reported = Locked(Report())

    /// Opens the file for `wanted` (the frames after it, `later`, are its to decode if it
    /// falls back); decoding starts with ``start()``.
    init(path: String, options: DecodeOptions, threads: Int, wanted: [Int], later: [Int], table: FrameTable) throws {
        var partOptions = options
        partOptions.sampling = .indices(wanted)
        partOptions.threads = threads
        reader = try FrameReader(path: path, options: partOptions, table: table)
        reader.laterWanted = later
        // Room for every frame it can return, so it never waits for the consumer.
        queue = BlockingQueue<Item>(capacity: wanted.count + later.count + 1)
    }

    private let reader: FrameReader

    func start() {
        let thread = Thread { [self] in
            do {
                defer {
                    reported.withLock {
                        $0 = Report(statistics: reader.statistics, corruptFrameCount: reader.corruptFrameCount,
                                    rejectedPacketCount: reader.rejectedPacketCount,
                                    tookOverLaterRuns: reader.tookOverLaterRuns)
                    }
                }
                while !stopFlag.isSet, let frame = try reader.next() { queue.push(.frame(frame)) }
            } catch {
                queue.push(.failure(error))
            }
            queue.close()
        }
        thread.name = "vidclass.decode-part"
        thread.start()
    }

    /// The run's next frame, waiting for it; nil at the run's end.
    func next() throws -> VideoFrame? {
        switch queue.pop() {
        case .frame(let frame): return frame
        case .failure(let error): throw error
        case nil: return nil
        }
    }

    /// What the part's reader did, once it has finished.
    var report: Report { reported.withLock { $0 } }

    /// Asks the thread to stop after its current frame (the reader went away).
    func stop() { stopFlag.set() }
}

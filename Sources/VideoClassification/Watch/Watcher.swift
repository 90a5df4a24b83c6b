import Foundation
import VidclassConcurrency
import VideoIO

/// Classifies a live source as it plays: a camera, a network stream, a pipe, or a file: `vidclass
/// watch` as a library call.
///
/// ```swift
/// let watcher = try Watcher(classifier: classifier, source: "udp://127.0.0.1:5000", options: options)
/// // From a signal handler or another task: watcher.stop()
/// let summary = try watcher.run { event in print(event.jsonLine) }
/// ```
///
/// A thread of its own decodes the source into a short queue; the calling thread runs the network
/// on each frame (one CNN pass per new frame, ``StreamOptions``). When the network falls behind a
/// live source the oldest waiting frame is dropped and a ``WatchEvent/Kind/dropped`` event says
/// which, so memory stays flat and results stay current. With ``WatchOptions/reconnect`` a source
/// that ends, fails or goes quiet for ``WatchOptions/stallTimeout`` seconds is opened again with
/// backoff; the stream's state is reset over the gap.
public final class Watcher: Sendable {
    /// The model.
    public let classifier: VideoClassifier
    /// The source as given: a file, `-` (standard input), a URL FFmpeg opens (rtsp, rtmp, http,
    /// udp, srt, ...) or a capture device (`/dev/video0`).
    public let source: String
    /// How it is read.
    public let options: WatchOptions
    /// The stream options in effect (the frame rate filled in from ``WatchOptions/window``).
    public let streamOptions: StreamOptions
    private let stopFlag = StopFlag()
    private let interrupt = DecodeInterrupt()

    /// What ``run(emit:)`` saw.
    public struct Summary: Sendable {
        /// Frames read from the source and given to the network (which takes them at
        /// ``streamOptions``' frame rate).
        public var frames: Int
        /// Frames dropped because the network was behind.
        public var dropped: Int
        /// Times the source went away.
        public var disconnections: Int
    }

    /// A watcher of `source`.
    /// - Throws: ``VideoClassificationError`` (`invalidArgument`) for options the model cannot
    ///   stream with (``StreamOptions/validate(for:)``) or durations that are not positive.
    public init(classifier: VideoClassifier, source: String, options: WatchOptions = WatchOptions()) throws {
        self.classifier = classifier
        self.source = source
        self.options = options
        var stream = options.stream
        let input = classifier.model.card.input
        if stream.frameRate == nil {
            stream.frameRate = Double(input.framesPerClip + (input.representation.usesDifferences ? 1 : 0)) / options.window
        }
        try stream.validate(for: classifier.model.card)
        for (name, value) in [("window", options.window), ("stall timeout", options.stallTimeout),
                              ("reconnect delay", options.reconnectDelay), ("maximum reconnect delay", options.maximumReconnectDelay)]
        where !(value.isFinite && value > 0) {
            throw VideoClassificationError(.invalidArgument, path: source, message: "\(name) \(value): must be a finite number above 0")
        }
        if options.queueLength < 1 {
            throw VideoClassificationError(.invalidArgument, path: source, message: "queue length \(options.queueLength): must be at least 1")
        }
        streamOptions = stream
    }

    /// Whether the source is live: a URL or a device, which cannot be held back (frames the
    /// network cannot take are dropped), may go quiet (``WatchOptions/stallTimeout``) and may
    /// come back (``WatchOptions/reconnect``). Files and pipes (`-`) are read as fast as the
    /// network takes them, their writer waiting, unless ``WatchOptions/realtime``.
    public var isLive: Bool {
        if source == "-" { return false }
        if source.contains("://") { return true }
        var status = stat()
        guard FileNameBytes.withFileSystemPath(source, { stat($0, &status) }) == 0 else { return source.hasPrefix("/dev/") }
        let type = status.st_mode & S_IFMT
        return type == S_IFCHR || type == S_IFBLK || type == S_IFSOCK
    }

    /// Ends ``run(emit:)`` soon, from any thread (a signal handler's too): a read blocked on the
    /// source is interrupted, the active label gets its `ended` event, then `finished`.
    public func stop() {
        stopFlag.set()
        interrupt.interrupt()
    }

    /// What the decoding thread hands to the network.
    private enum Item {
        case frame(VideoFrame, arrived: ContinuousClock.Instant)
        case opened(width: Int, height: Int, attempt: Int)
        case retrying(reason: String, attempt: Int, delay: Double)
        case gap(reason: String)
        case end(Error?)
    }

    /// Reads and classifies until the source ends (and is not reopened), ``stop()`` is called, or
    /// the source cannot be opened at all (without reconnection). Events go to `emit` on the
    /// calling thread, in order. A watcher runs once.
    /// - Throws: the source's error when it fails without ``WatchOptions/reconnect`` (after
    ///   `disconnected` and `finished` events).
    @discardableResult
    public func run(emit: (WatchEvent) -> Void) throws -> Summary {
        let queue = BlockingQueue<Item>(capacity: options.queueLength)
        let drops = Locked<(count: Int, from: Double, to: Double)>((0, 0, 0))
        let live = isLive
        var stream = try classifier.makeStream(options: streamOptions)
        // However run ends (a thrown error included), the decoding thread stops too.
        defer {
            stopFlag.set()
            interrupt.interrupt()
            queue.close()
        }
        let decoding = Thread { [self] in decode(into: queue, drops: drops, dropping: live || options.realtime) }
        decoding.stackSize = 8 << 20
        decoding.start()

        var active: String?, lastTime: Double?
        var summary = Summary(frames: 0, dropped: 0, disconnections: 0)
        func event(_ kind: WatchEvent.Kind) -> WatchEvent { WatchEvent(kind, source: source) }
        func endActive(_ reason: String?) {
            guard let label = active else { return }
            var e = event(.ended)
            e.label = label
            e.time = lastTime
            e.reason = reason
            emit(e)
            active = nil
        }
        /// Frames dropped since the last report, as an event.
        func reportDrops() {
            let pending = drops.withLock { d -> (count: Int, from: Double, to: Double) in defer { d = (0, 0, 0) }; return d }
            guard pending.count > 0 else { return }
            summary.dropped += pending.count
            var e = event(.dropped)
            e.dropped = pending.count
            e.skippedFrom = pending.from
            e.skippedTo = pending.to
            emit(e)
        }
        while let item = queue.pop() {
            switch item {
            case .frame(let frame, let arrived):
                summary.frames += 1
                reportDrops()
                // A source restarted without going quiet (a publisher restarted within the stall
                // timeout) starts its timestamps again: a new stream, its state reset.
                if let last = lastTime, frame.time < last - 1 {
                    endActive("the source restarted")
                    summary.disconnections += 1
                    var gone = event(.disconnected)
                    gone.reason = String(format: "the source's timestamps went back from %.3f to %.3f s: it restarted", last, frame.time)
                    gone.time = last
                    emit(gone)
                    var back = event(.reconnected)
                    back.time = frame.time
                    back.reason = "the same connection, a new stream"
                    emit(back)
                    stream = try classifier.makeStream(options: streamOptions)
                }
                lastTime = frame.time
                for result in stream.push(frame) {
                    let latency = (ContinuousClock.now - arrived) / .seconds(1)
                    switch result {
                    case .prediction(let index, let time, let scores):
                        var e = event(.prediction)
                        e.time = time
                        e.frame = index
                        e.label = scores.first?.label
                        e.score = scores.first?.score
                        e.scores = Array(scores.prefix(3))
                        e.dropped = summary.dropped
                        e.latency = latency
                        emit(e)
                    case .started(let label, let time, let score):
                        active = label
                        var e = event(.started)
                        e.label = label
                        e.time = time
                        e.score = score
                        e.frame = frame.index
                        e.latency = latency
                        emit(e)
                    case .ended(let label, let time):
                        active = nil
                        var e = event(.ended)
                        e.label = label
                        e.time = time
                        e.frame = frame.index
                        e.latency = latency
                        emit(e)
                    }
                }
            case .opened(let width, let height, let attempt):
                var e = event(attempt > 0 ? .reconnected : .opened)
                e.width = width
                e.height = height
                if attempt > 0 { e.attempt = attempt }
                let rate = streamOptions.frameRate.map { String(format: "%.2f", $0) } ?? "every"
                e.reason = "\(live ? "live" : options.realtime ? "file at its own rate" : "file as fast as possible"); \(rate) frames/s to the model"
                emit(e)
            case .retrying(let reason, let attempt, let delay):
                var e = event(.retrying)
                e.reason = reason
                e.attempt = attempt
                e.delay = delay
                emit(e)
            case .gap(let reason):
                reportDrops()
                endActive("the source went away")
                summary.disconnections += 1
                var e = event(.disconnected)
                e.reason = reason
                e.time = lastTime
                emit(e)
                stream = try classifier.makeStream(options: streamOptions)
                lastTime = nil
            case .end(let error):
                reportDrops()
                endActive(stopFlag.isSet ? "stopped" : error == nil ? "the source ended" : "the source failed")
                if let error {
                    var e = event(.disconnected)
                    e.reason = "\(error)"
                    e.time = lastTime
                    emit(e)
                }
                var e = event(.finished)
                e.frames = summary.frames
                e.dropped = summary.dropped
                if stopFlag.isSet { e.reason = "stopped" }
                emit(e)
                if let error { throw error }
                return summary
            }
        }
        return summary
    }

    /// The decoding thread: opens (and reopens) the source, paces files with `realtime`, and
    /// queues frames, dropping the oldest when `dropping` and the network is behind.
    private func decode(into queue: BlockingQueue<Item>, drops: Locked<(count: Int, from: Double, to: Double)>, dropping: Bool) {
        let spec = classifier.model.card.input
        let live = isLive
        var decodeOptions = DecodeOptions(sampling: .all, format: spec.decodeFormat, threads: options.threads,
                                          stallTimeout: live ? options.stallTimeout : nil,
                                          inputFormat: options.inputFormat ?? (source.hasPrefix("/dev/video") ? "v4l2" : nil),
                                          interrupt: interrupt)
        decodeOptions.allowSeeking = false
        let path = source == "-" ? "pipe:0" : source
        // Standard input cannot come back once it ends.
        let reopens = options.reconnect && live
        var attempt = 0, delay = options.reconnectDelay, connected = false, everConnected = false
        while !stopFlag.isSet {
            do {
                let reader = try VideoReader(path: path, options: decodeOptions)
                var announced = false
                let start = ContinuousClock.now
                var first: Double?
                while !stopFlag.isSet, let frame = try reader.next() {
                    if !announced {
                        queue.push(.opened(width: frame.width, height: frame.height, attempt: everConnected ? attempt : 0))
                        announced = true
                        connected = true
                        everConnected = true
                        attempt = 0
                        delay = options.reconnectDelay
                    }
                    if options.realtime && !live {
                        let offset = frame.time - (first ?? frame.time)
                        first = first ?? frame.time
                        let due = start.advanced(by: .milliseconds(Int64(offset * 1000)))
                        while ContinuousClock.now < due && !stopFlag.isSet {
                            Thread.sleep(forTimeInterval: min(0.05, max(0, (due - ContinuousClock.now) / .seconds(1))))
                        }
                    }
                    let item = Item.frame(frame, arrived: .now)
                    if dropping {
                        queue.pushDroppingOldest(item, droppable: { if case .frame = $0 { true } else { false } }) { old in
                            guard case .frame(let old, _) = old else { return }
                            drops.withLock { d in
                                if d.count == 0 { d.from = old.time }
                                d.count += 1
                                d.to = old.time
                            }
                        }
                    } else {
                        queue.push(item)
                    }
                }
                if stopFlag.isSet || !reopens { break }
                queue.push(.gap(reason: "the source ended"))
                connected = false
            } catch var error {
                if stopFlag.isSet { break }
                // Standard input is opened as FFmpeg's pipe:0; errors name it as the user did.
                if source == "-", var named = error as? VideoIOError {
                    named.path = "-"
                    error = named
                }
                // Retrying cannot fix a refused special file, an unknown format or a missing decoder.
                let permanent = (error as? VideoIOError).map { [.invalidArgument, .unsupportedCodec, .noVideoStream].contains($0.code) } ?? false
                if !reopens || permanent {
                    queue.push(.end(error))
                    return
                }
                // A stall already waited: try again at once (a publisher back within the stall
                // timeout is not missed); other failures back off.
                let stalled = (error as? VideoIOError)?.code == .timedOut
                if connected {
                    queue.push(.gap(reason: "\(error)"))
                    connected = false
                } else {
                    queue.push(.retrying(reason: "\(error)", attempt: attempt + 1, delay: stalled ? 0 : delay))
                }
                if stalled {
                    attempt += 1
                    continue
                }
            }
            guard reopens else { break }
            attempt += 1
            let until = ContinuousClock.now.advanced(by: .milliseconds(Int64(delay * 1000)))
            while ContinuousClock.now < until && !stopFlag.isSet { Thread.sleep(forTimeInterval: 0.05) }
            delay = min(delay * 2, options.maximumReconnectDelay)
        }
        queue.push(.end(nil))
    }
}

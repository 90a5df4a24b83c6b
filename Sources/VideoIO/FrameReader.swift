import CFFmpeg
import Foundation

/// The decoding engine behind ``VideoFrames``: demux, decode, pick, convert — one frame at a time.
///
/// Two ways through a file, both returning exactly the frames `ffmpeg` outputs:
/// - **sequential**: every packet is decoded, frames are numbered as they come out;
/// - **planned** (sparse sampling on a seekable file with a trustworthy ``FrameTable``): seek to
///   the clean keyframe before each wanted frame when that skips work, send only the packets
///   wanted frames depend on (disposable H.264 pictures nobody wants are never decoded), and stop
///   after the last wanted frame. If the decoder ever disagrees with the table, the reader
///   starts over sequentially, so the result is the same either way.
///
/// Only wanted frames are converted and scaled. Not thread-safe: one reader per task.
final class FrameReader {
    let path: String
    let options: DecodeOptions
    private var input: InputContext
    private var stream: UnsafeMutablePointer<AVStream>
    private var decoder: Decoder
    private let scaler: Scaler
    private let resampler = PlanarResampler()
    private let decoded: Frame
    private let packet: Packet
    private let transform: DisplayTransform
    private let secondsPerTick: Double
    private let startTimestamp: Int64
    /// Seconds per frame, for streams without timestamps (raw elementary streams).
    private let frameDuration: Double
    /// The stream's coded size: like `ffmpeg` (`-autoscale`, its default), native-size output keeps
    /// this size even if the stream's resolution changes midway.
    private let nativeCodedSize: (width: Int, height: Int)

    private enum Mode { case sequential, planned(FrameTable) }
    var isPlanned: Bool { if case .planned = mode { return true } else { return false } }
    private var mode: Mode = .sequential
    /// Wanted frame indices, ascending; nil means "decide per frame" (all / every k-th).
    private var wanted: [Int]?
    private var nextWanted = 0
    /// Packets (decode order) that carry wanted frames, ascending, and the first not yet read.
    private var wantedPackets: [Int] = []
    private var nextWantedPacket = 0
    /// The table index of the next packet the demuxer returns; nil when unknown (after the pre-pass).
    private var position: Int?

    private var outputCount = 0
    private var queue: [VideoFrame] = []
    private var queueHead = 0
    private var draining = false
    private var finished = false
    private var sentSinceFlush = false
    private var planCache: (width: Int, height: Int, plan: ScalePlan)?
    /// Frames the decoder flagged as damaged, and packets it rejected.
    private(set) var corruptFrameCount = 0
    private(set) var rejectedPacketCount = 0
    private(set) var statistics = DecodeStatistics()

    private let deadline: Deadline?

    /// The video's bytes when it is read from memory rather than from `path`.
    private let bytes: [UInt8]?

    init(path: String, options: DecodeOptions, bytes: [UInt8]? = nil) throws {
        decoded = try Frame()
        packet = try Packet()
        self.path = path
        self.options = options
        self.bytes = bytes
        self.deadline = Deadline.make(options)
        let input = try InputContext(path: path, deadline: deadline, bytes: bytes, format: options.inputFormat)
        let stream = try input.bestVideoStream()
        input.discardAllStreams(except: stream)
        self.input = input
        self.stream = stream
        self.decoder = try Decoder(stream: stream, threads: Self.threadCount(options.threads), path: path)
        self.scaler = Scaler(path: path)
        let info = StreamInfo(input: input, stream: stream)
        self.transform = info.transform
        self.secondsPerTick = info.secondsPerTick
        self.startTimestamp = info.startTimestamp
        self.frameDuration = info.frameDuration
        let parameters = stream.pointee.codecpar.pointee
        self.nativeCodedSize = (Int(parameters.width), Int(parameters.height))
        try prepare()
    }

    var duration: Double? {
        let d = input.pointer.pointee.duration
        return d > 0 ? Double(d) / Double(AV_TIME_BASE) : nil
    }

    static func threadCount(_ requested: Int) -> Int {
        requested > 0 ? requested : ProcessInfo.processInfo.activeProcessorCount
    }

    /// Chooses the way through the file for the sampling asked for.
    private func prepare() throws {
        switch options.sampling {
        case .all, .everyNth:
            // Decided frame by frame on the input as opened (a pipe cannot be read twice).
            if !options.allowSeeking || options.sampling.isDense || !input.isSeekable { return }
        default: break
        }
        if input.isSeekable, let table = try FrameTable.build(input: input, stream: stream) {
            let times = table.frameTimestamps.map(seconds)
            let wanted = try options.sampling.resolve(frameTimes: times, path: path)
            if options.allowSeeking {
                self.wanted = wanted
                wantedPackets = wanted.map { Int(table.frameToPacket[$0]) }.sorted()
                mode = .planned(table)
                position = nil
                return
            }
            try restartSequential(wanted: wanted)
            return
        }
        // No table: number the frames by decoding them all once, then decode again.
        switch options.sampling {
        case .all, .everyNth: try restartSequential(wanted: nil)
        default:
            guard input.isSeekable else {
                throw VideoIOError(.invalidArgument, path: path, operation: "sample",
                                   message: "sampling \(options.sampling) needs a seekable input")
            }
            let times = try countFrames()
            try restartSequential(wanted: try options.sampling.resolve(frameTimes: times, path: path))
        }
    }

    private func seconds(_ timestamp: Int64) -> Double {
        Double(timestamp &- startTimestamp) * secondsPerTick
    }

    /// Reopens the file and decodes from the start, picking `wanted` (nil: the sampling's rule).
    private func restartSequential(wanted: [Int]?) throws {
        input = try InputContext(path: path, deadline: deadline, bytes: bytes, format: options.inputFormat)
        stream = try input.bestVideoStream()
        input.discardAllStreams(except: stream)
        decoder = try Decoder(stream: stream, threads: Self.threadCount(options.threads), path: path)
        mode = .sequential
        self.wanted = wanted
        nextWanted = 0
        outputCount = 0
        draining = false
        sentSinceFlush = false
    }

    /// Decodes every frame without converting any; returns their times.
    private func countFrames() throws -> [Double] {
        var times: [Double] = []
        let counter = try FrameReader(path: path, options: DecodeOptions(sampling: .all, threads: options.threads,
                                                                         corruptFrames: .deliver, timeout: options.timeout))
        while let timestamp = try counter.nextTimestampOnly() {
            if let deadline, deadline.hasPassed { throw deadline.error(path: path) }
            times.append(timestamp == noTimestamp ? Double(times.count) * frameDuration : seconds(timestamp))
        }
        return times
    }

    // MARK: - Pulling frames

    func next() throws -> VideoFrame? {
        while queueHead == queue.count {
            if let deadline, deadline.hasPassed { throw deadline.error(path: path) }
            if finished {
                if decodedAny || !reachedEnd { return nil }
                throw VideoIOError(.noFrames, path: path, operation: "decode",
                                   message: rejectedPacketCount > 0
                                       ? "the decoder rejected all \(rejectedPacketCount) packets" : "the video stream has no frames")
            }
            try step()
        }
        let frame = queue[queueHead]
        queueHead += 1
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        }
        return frame
    }

    /// For counting: the next frame's timestamp, without converting it.
    private func nextTimestampOnly() throws -> Int64? {
        while true {
            let result = decoder.receive(decoded)
            if result == 0 {
                defer { decoded.unref() }
                return timestamp(of: decoded.pointer)
            }
            if result == AVErrorCode.endOfFile { return nil }
            if result != AVErrorCode.tryAgain { rejectedPacketCount += 1; if draining { return nil } }
            try feedSequential()
        }
    }

    /// One unit of work: receive a frame if the decoder has one, otherwise give it input.
    private func step() throws {
        let result = decoder.receive(decoded)
        if result == 0 {
            defer { decoded.unref() }
            try handleDecodedFrame()
            return
        }
        if result == AVErrorCode.endOfFile {
            if case .planned = mode, !isDoneWanting {
                if nextWantedPacket < wantedPackets.count {
                    // Drained before a seek: the decoder restarts at the next keyframe.
                    decoder.flush()
                    draining = false
                    sentSinceFlush = false
                    return
                }
                // Every wanted packet was decoded, yet a wanted frame never came out: the decoder
                // dropped it, so the table's numbering no longer holds. Decode sequentially.
                return try fallBack()
            }
            finished = true
            reachedEnd = true
            return
        }
        if result != AVErrorCode.tryAgain {
            // A decoding error surfaced on receive: count it and go on like ffmpeg does.
            rejectedPacketCount += 1
            if options.corruptFrames == .fail {
                throw makeError(result, path: path, operation: "decode", fallback: .corruptData)
            }
            if case .planned = mode { try fallBack() }
            return
        }
        if isDoneWanting {
            finished = true
            return
        }
        switch mode {
        case .sequential: try feedSequential()
        case .planned(let table): try feedPlanned(table)
        }
    }

    private var isDoneWanting: Bool {
        if let wanted { return nextWanted >= wanted.count }
        return false
    }

    private func send(_ packet: Packet?) throws {
        if packet != nil { statistics.packetsDecoded += 1 }
        let result = decoder.send(packet)
        if result >= 0 || result == AVErrorCode.endOfFile { return }
        if result == AVErrorCode.tryAgain {
            // The decoder has output waiting; it will be received on the next step. This
            // only happens with packet == nil racing buffered output, so retry draining later.
            draining = false
            return
        }
        rejectedPacketCount += 1
        if options.corruptFrames == .fail {
            throw makeError(result, path: path, operation: "decode", fallback: .corruptData)
        }
        // A rejected packet may mean a frame that never comes out: only sequential decoding numbers
        // the frames exactly as ffmpeg does then.
        if case .planned = mode { try fallBack() }
    }

    private func feedSequential() throws {
        if draining { return }
        while true {
            if try input.read(into: packet) {
                defer { packet.unref() }
                guard packet.pointer.pointee.stream_index == stream.pointee.index else { continue }
                try send(packet)
                return
            }
            draining = true
            try send(nil)
            return
        }
    }

    private func feedPlanned(_ table: FrameTable) throws {
        if draining { return }
        // The next packet some wanted frame still needs.
        while nextWantedPacket < wantedPackets.count, let position, wantedPackets[nextWantedPacket] < position {
            nextWantedPacket += 1
        }
        guard nextWantedPacket < wantedPackets.count else {
            // Every wanted frame's packet is in the decoder: drain it instead of reading on.
            draining = true
            try send(nil)
            return
        }
        let needed = wantedPackets[nextWantedPacket]
        let seekPoint = Int(table.seekPointBefore[needed])
        let shouldSeek: Bool
        if let position {
            shouldSeek = seekPoint > position + 1 && seekPoint >= 0
        } else {
            shouldSeek = true
        }
        if shouldSeek {
            guard seekPoint >= 0 else { return try fallBack() }
            if sentSinceFlush {
                draining = true
                try send(nil)
                return
            }
            guard try seek(to: seekPoint, in: table) else { return try fallBack() }
            return
        }
        guard let current = position else { return try fallBack() }
        guard try input.read(into: packet) else {
            draining = true
            try send(nil)
            return
        }
        defer { packet.unref() }
        guard packet.pointer.pointee.stream_index == stream.pointee.index else { return }
        guard let index = table.packet(withTimestamp: packet.pointer.pointee.pts), index == current else { return try fallBack() }
        position = current + 1
        let info = table.packets[index]
        let frame = Int(table.packetToFrame[index])
        if info.isDisposable && !isWanted(frame) {  // nothing depends on it, nobody wants it
            statistics.packetsSkipped += 1
            return
        }
        try send(packet)
        sentSinceFlush = true
    }

    private func isWanted(_ frame: Int) -> Bool {
        guard frame >= 0, let wanted else { return false }
        var low = nextWanted, high = wanted.count
        while low < high {
            let mid = (low + high) / 2
            if wanted[mid] < frame { low = mid + 1 } else { high = mid }
        }
        return low < wanted.count && wanted[low] == frame
    }

    /// Seeks so that the next packet read is `target`; false if the demuxer cannot get there.
    private func seek(to target: Int, in table: FrameTable) throws -> Bool {
        let info = table.packets[target]
        statistics.seeks += 1
        decoder.flush()
        guard input.seek(stream: stream, to: min(info.dts, info.pts)) else { return false }
        // Read forward to the target packet; landing after it means the seek is unusable.
        while true {
            guard try input.read(into: packet) else { return false }
            defer { packet.unref() }
            guard packet.pointer.pointee.stream_index == stream.pointee.index else { continue }
            guard let index = table.packet(withTimestamp: packet.pointer.pointee.pts) else { return false }
            if index > target { return false }
            if index == target {
                try send(packet)
                sentSinceFlush = true
                position = target + 1
                return true
            }
        }
    }

    /// The table and the decoder disagree: decode the rest sequentially from the start.
    private func fallBack() throws {
        statistics.fallbacks += 1
        let remaining = wanted.map { Array($0[nextWanted...]) }
        try restartSequential(wanted: nil)
        wanted = remaining
        skipBelow = emittedUpTo
    }

    /// In a sequential restart after a fallback, frames before this index were already returned.
    private var skipBelow = 0
    /// One past the index of the last frame queued for the caller.
    private var emittedUpTo = 0
    /// Whether the decoder produced any frame, and whether it was drained to the end.
    private var decodedAny = false
    private var reachedEnd = false

    // MARK: - Decoded frames

    private func timestamp(of frame: UnsafeMutablePointer<AVFrame>) -> Int64 {
        let pts = frame.pointee.pts
        return pts != noTimestamp ? pts : frame.pointee.best_effort_timestamp
    }

    private func handleDecodedFrame() throws {
        decodedAny = true
        statistics.framesDecoded += 1
        let frame = decoded.pointer
        let pts = timestamp(of: frame)
        let index: Int
        switch mode {
        case .sequential:
            index = outputCount
            outputCount += 1
        case .planned(let table):
            guard let known = table.frame(withTimestamp: pts) else { return try fallBack() }
            if let wanted, nextWanted < wanted.count, known > wanted[nextWanted] {
                return try fallBack()  // a wanted frame was skipped by the decoder
            }
            index = known
            outputCount = max(outputCount, known + 1)
        }
        guard index >= skipBelow, isSelected(index, pts: pts) else { return }
        let corrupt = frame.pointee.flags & AV_FRAME_FLAG_CORRUPT != 0 || frame.pointee.decode_error_flags != 0
        if corrupt {
            corruptFrameCount += 1
            switch options.corruptFrames {
            case .deliver: break
            case .skip: return
            case .fail:
                throw VideoIOError(.corruptData, path: path, operation: "decode",
                                   message: "frame \(index) is damaged")
            }
        }
        statistics.framesConverted += 1
        queue.append(try convert(frame, index: index, pts: pts, corrupt: corrupt))
        emittedUpTo = index + 1
    }

    /// Whether frame `index` is returned; advances past it in the wanted list.
    private func isSelected(_ index: Int, pts: Int64) -> Bool {
        if let wanted {
            while nextWanted < wanted.count && wanted[nextWanted] < index { nextWanted += 1 }
            if nextWanted < wanted.count && wanted[nextWanted] == index {
                nextWanted += 1
                return true
            }
            return false
        }
        switch options.sampling {
        case .everyNth(let k): return index % k == 0
        default: return true
        }
    }

    private func convert(_ frame: UnsafeMutablePointer<AVFrame>, index: Int, pts: Int64, corrupt: Bool) throws -> VideoFrame {
        let width = Int(frame.pointee.width), height = Int(frame.pointee.height)
        let plan: ScalePlan
        if let cached = planCache, cached.width == width, cached.height == height {
            plan = cached.plan
        } else {
            var format = options.format
            let native = nativeCodedSize
            if format.size == nil && native.width > 0 && native.height > 0 && (native.width, native.height) != (width, height) {
                // The resolution changed midway: scale back to the stream's size, as ffmpeg does.
                format.size = transform.transposes ? FrameSize(width: native.height, height: native.width)
                    : FrameSize(width: native.width, height: native.height)
                format.resize = .stretch
                format.interpolation = .bicubic
            }
            plan = ScalePlan(codedWidth: width, codedHeight: height, transform: transform, format: format)
            planCache = (width, height, plan)
        }
        let flags = Scaler.flags(options.format.interpolation, native: options.format.size == nil)
        var scaled = [UInt8](repeating: 0, count: plan.scaledWidth * plan.scaledHeight * 3)
        try scaled.withUnsafeMutableBufferPointer { buffer in
            // Bilinear resizing of 8-bit planar YUV runs on vidclass's own kernels; the rest (and
            // native size, which matches `ffmpeg` bit for bit) on libswscale.
            if options.format.size != nil && options.format.interpolation == .bilinear
                && resampler.convert(frame, plan: plan, into: buffer.baseAddress!) {
                return
            }
            try scaler.convert(frame, plan: plan, flags: flags, into: buffer.baseAddress!)
        }
        var pixels = transform.apply(to: scaled, width: plan.scaledWidth, height: plan.scaledHeight)
        let shownWidth = transform.transposes ? plan.scaledHeight : plan.scaledWidth
        let shownHeight = transform.transposes ? plan.scaledWidth : plan.scaledHeight
        if shownWidth != plan.outputWidth || shownHeight != plan.outputHeight {
            var canvas = [UInt8](repeating: 0, count: plan.outputWidth * plan.outputHeight * 3)
            for row in 0..<shownHeight {
                let src = row * shownWidth * 3
                let dst = ((row + plan.offsetY) * plan.outputWidth + plan.offsetX) * 3
                canvas.replaceSubrange(dst..<dst + shownWidth * 3, with: pixels[src..<src + shownWidth * 3])
            }
            pixels = canvas
        }
        let time = pts == noTimestamp ? Double(index) * frameDuration : seconds(pts)
        return VideoFrame(index: index, time: time, timestamp: pts, width: plan.outputWidth,
                          height: plan.outputHeight, pixels: pixels, isCorrupt: corrupt,
                          isKeyframe: frame.pointee.key_frame != 0)
    }
}

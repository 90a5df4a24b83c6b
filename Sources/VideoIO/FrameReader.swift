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

    /// The frame table a reader that decodes part of the same file can start from (no second pass).
    private let prebuiltTable: FrameTable?

    init(path: String, options: DecodeOptions, bytes: [UInt8]? = nil, table: FrameTable? = nil) throws {
        prebuiltTable = table
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

    // MARK: - Decoding in parts

    /// Whether this reader may hand parts of its frames to other readers of the same file: a
    /// seekable file on disk, several threads allowed.
    private var mayDecodeInParts: Bool {
        bytes == nil && options.inputFormat == nil && options.stallTimeout == nil && Self.threadCount(options.threads) >= 2
            && nativeCodedSize.width > 0 && nativeCodedSize.height > 0
    }

    /// Decoder threads for each part: one for pictures up to 1280×720, on which the decoder's own
    /// frame threads gain little; above, each part keeps them (both cores stay busy while one
    /// part's threads wait on each other).
    var threadsPerPart: Int {
        nativeCodedSize.width * nativeCodedSize.height <= 1280 * 720 ? 1 : Self.threadCount(options.threads)
    }

    /// Reading every frame in parts buffers the later parts' frames until their turn: only for
    /// files whose frames, at the output size, fit in ``partsMemoryBudget``.
    private var isShortEnoughForParts: Bool {
        // The declared frame count, or a generous 60 frames a second of the declared duration.
        let frames = stream.pointee.nb_frames > 0 ? Double(stream.pointee.nb_frames) : (duration ?? .infinity) * 60
        guard frames.isFinite, frames > 0, frames < 100_000 else { return false }
        return frames * Double(outputBytesPerFrame) <= Double(Self.partsMemoryBudget)
    }

    /// The bytes of one returned frame (an estimate before the first is decoded).
    private var outputBytesPerFrame: Int {
        if let size = options.format.size { return size.width * size.height * 3 }
        return nativeCodedSize.width * nativeCodedSize.height * 3
    }

    /// Frames held for later parts stay under this many bytes.
    static let partsMemoryBudget = 256 << 20

    /// Splits `wanted` (ascending) into up to `parts` runs of frames, each starting at its own
    /// clean keyframe, so that separate readers can decode them at once: balanced by the packets
    /// each must decode, and only when the largest run is at most 70 % of the work and the later
    /// runs' frames fit in the memory budget. nil when one reader is the better way.
    private func partition(_ wanted: [Int], table: FrameTable, parts: Int) -> [[Int]]? {
        guard parts >= 2, wanted.count >= 2, mayDecodeInParts else { return nil }
        // Groups of wanted frames that share a seek point, in order, and the packets each decodes
        // (from its seek point to its last wanted packet).
        func seekPoint(_ frame: Int) -> Int { Int(table.seekPointBefore[Int(table.frameToPacket[frame])]) }
        var groups: [(frames: ArraySlice<Int>, cost: Int)] = []
        var start = 0, lastPacket = -1
        for i in 0..<wanted.count {
            let point = seekPoint(wanted[i])
            // Seek points must rise with the frames for the runs to be independent.
            if point < 0 || (i > 0 && point < seekPoint(wanted[i - 1])) { return nil }
            if i > start && point != seekPoint(wanted[start]) {
                groups.append((wanted[start..<i], lastPacket - seekPoint(wanted[start]) + 1))
                start = i
                lastPacket = -1
            }
            lastPacket = max(lastPacket, Int(table.frameToPacket[wanted[i]]))
        }
        groups.append((wanted[start...], lastPacket - seekPoint(wanted[start]) + 1))
        let count = min(parts, groups.count)
        guard count >= 2 else { return nil }
        var prefix = [0]
        for group in groups { prefix.append(prefix.last! + group.cost) }
        let total = prefix.last!
        guard total >= 24 else { return nil }  // too little work to pay for opening the file again
        // Boundaries between groups nearest to equal shares of the packets.
        var bounds = [0]
        for k in 1..<count {
            let goal = Double(total) * Double(k) / Double(count)
            var best = bounds.last! + 1
            for b in (bounds.last! + 1)...(groups.count - (count - k))
            where abs(Double(prefix[b]) - goal) < abs(Double(prefix[best]) - goal) {
                best = b
            }
            bounds.append(best)
        }
        bounds.append(groups.count)
        let spans = zip(bounds, bounds.dropFirst())
        guard Double(spans.map { prefix[$1] - prefix[$0] }.max()!) <= 0.7 * Double(total) else { return nil }
        let runs = spans.map { a, b in groups[a..<b].flatMap { $0.frames } }
        let buffered = (wanted.count - runs[0].count) * outputBytesPerFrame
        guard buffered <= Self.partsMemoryBudget else { return nil }
        return runs
    }

    /// The runs of wanted frames separate readers may decode at once (the first is this reader's),
    /// with the table they share; nil when this reader had better decode everything itself.
    func partsForParallelDecoding() -> (runs: [[Int]], table: FrameTable)? {
        guard case .planned(let table) = mode, let wanted, nextWanted == 0,
              let runs = denseRuns ?? partition(wanted, table: table, parts: Self.threadCount(options.threads)) else { return nil }
        return (runs, table)
    }

    /// The split `prepare` chose reading every frame in parts (it decided on it there).
    private var denseRuns: [[Int]]?

    /// Keeps only the first `count` wanted frames (the rest go to other readers), decoding them
    /// with ``threadsPerPart`` threads. Only before the first frame is read.
    func keepFirstWanted(_ count: Int) throws {
        guard let wanted, nextWanted == 0, count < wanted.count, case .planned(let table) = mode else { return }
        self.wanted = Array(wanted.prefix(count))
        laterWanted = Array(wanted[count...])
        wantedPackets = self.wanted!.map { Int(table.frameToPacket[$0]) }.sorted()
        decoder = try Decoder(stream: stream, threads: threadsPerPart, path: path)
    }

    /// Frames other readers decode after this one's (see ``keepFirstWanted(_:)``): their runs
    /// number frames by the table, which a fallback here shows to be wrong for what follows.
    var laterWanted: [Int] = []
    /// Whether a fallback made this reader take ``laterWanted`` over (decoding sequentially from
    /// the start, it numbers them right): the readers of later runs must then be left unread.
    private(set) var tookOverLaterRuns = false

    /// Chooses the way through the file for the sampling asked for.
    private func prepare() throws {
        var denseInParts = false
        switch options.sampling {
        case .all, .everyNth:
            // Decided frame by frame on the input as opened (a pipe cannot be read twice), unless
            // a short file may be decoded in parts at once (which needs the table).
            if !options.allowSeeking || !input.isSeekable { return }
            if options.sampling.isDense {
                guard mayDecodeInParts, isShortEnoughForParts else { return }
                denseInParts = true
            }
        default: break
        }
        let built: FrameTable?
        if denseInParts {
            // Only to decode in parts: a file the table pass cannot read through is read as before.
            guard let table = try? FrameTable.build(input: input, stream: stream) else { return try restartSequential(wanted: nil) }
            built = table
        } else {
            built = input.isSeekable ? try prebuiltTable ?? FrameTable.build(input: input, stream: stream) : nil
        }
        if let table = built {
            let times = table.frameTimestamps.map(seconds)
            let wanted = try options.sampling.resolve(frameTimes: times, path: path)
            if denseInParts {
                denseRuns = partition(wanted, table: table, parts: Self.threadCount(options.threads))
                if denseRuns == nil {
                    // Not worth splitting: every frame, read on with the decoder's own threads.
                    try restartSequential(wanted: nil)
                    return
                }
            }
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
        var remaining = wanted.map { Array($0[nextWanted...]) }
        if !laterWanted.isEmpty {
            remaining = (remaining ?? []) + laterWanted
            laterWanted = []
            tookOverLaterRuns = true
        }
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

import CFFmpeg

/// An open input (demuxer): owns an `AVFormatContext` and closes it in `deinit`.
///
/// Not thread-safe; confined to one reader. The corresponding FFmpeg functions are
/// `avformat_open_input`, `avformat_find_stream_info` and `avformat_close_input`.
final class InputContext {
    let pointer: UnsafeMutablePointer<AVFormatContext>
    let path: String
    /// Shared with FFmpeg's interrupt callback, which aborts blocking I/O after the deadline.
    let deadline: Deadline?

    /// The custom I/O reading from memory, when the input is bytes rather than a file.
    private var memoryIO: UnsafeMutablePointer<AVIOContext>?
    private let memory: MemoryInput?

    /// Opens `path`, or, with `bytes`, demuxes those bytes through a custom AVIO reader (`path` then
    /// only names the input in errors).
    init(path: String, deadline: Deadline? = nil, bytes: [UInt8]? = nil, format formatName: String? = nil) throws {
        _ = FFmpegLogging.configured
        self.deadline = deadline
        var inputFormat: UnsafePointer<AVInputFormat>?
        if let formatName {
            _ = FFmpegLogging.devices  // a capture device's format (v4l2) comes from libavdevice
            guard let found = av_find_input_format(formatName) else {
                throw VideoIOError(.invalidArgument, path: path, operation: "open",
                                   message: "FFmpeg has no input format '\(formatName)' in this build")
            }
            inputFormat = found
        }
        // A named input format (v4l2 for a capture device) opens special files on purpose.
        if bytes == nil, formatName == nil, let special = SpecialFile.kind(of: path) {
            // open(2) on a FIFO waits for a writer, for ever, before FFmpeg's interrupt callback
            // (and so any timeout) can act; sockets and devices are no video files either.
            throw VideoIOError(.invalidArgument, path: path, operation: "open",
                               message: "is \(special), not a video file: not opened (it could block); send its bytes through standard input (-) instead")
        }
        guard let allocated = avformat_alloc_context() else {
            throw VideoIOError(.other, path: path, operation: "open", message: "out of memory")
        }
        var context: UnsafeMutablePointer<AVFormatContext>? = allocated
        if let bytes {
            let memory = MemoryInput(bytes)
            self.memory = memory
            guard let io = memory.makeIOContext() else {
                avformat_free_context(context)
                throw VideoIOError(.other, path: path, operation: "open", message: "out of memory")
            }
            memoryIO = io
            context?.pointee.pb = io
            context?.pointee.flags |= AVFMT_FLAG_CUSTOM_IO
        } else {
            memory = nil
        }
        if let deadline {
            deadline.watch(allocated)
            context?.pointee.interrupt_callback = AVIOInterruptCB(
                callback: { opaque in
                    guard let opaque else { return 0 }
                    return Unmanaged<Deadline>.fromOpaque(opaque).takeUnretainedValue().shouldAbort() ? 1 : 0
                },
                opaque: Unmanaged.passUnretained(deadline).toOpaque())
        }
        // The file's own bytes, names that are not UTF-8 included (FileNameBytes); frees the context on failure.
        let opened = memory == nil
            ? FileNameBytes.withFileSystemPath(path) { avformat_open_input(&context, $0, inputFormat, nil) }
            : avformat_open_input(&context, nil, nil, nil)
        guard opened >= 0, let context else {
            MemoryInput.free(&memoryIO)
            if deadline?.hasPassed == true { throw deadline!.error(path: path) }
            throw makeError(opened, path: path, operation: "open", fallback: .notAVideo)
        }
        self.pointer = context
        self.path = path
        let found = avformat_find_stream_info(context, nil)
        if found < 0, let deadline, deadline.hasPassed { throw deadline.error(path: path) }
        if found < 0 {
            throw makeError(found, path: path, operation: "open", fallback: .corruptData)
        }
    }

    deinit {
        deadline?.unwatch(pointer)
        var context: UnsafeMutablePointer<AVFormatContext>? = pointer
        avformat_close_input(&context)  // leaves a custom AVIO context to its owner
        MemoryInput.free(&memoryIO)
    }

    var formatName: String {
        guard let iformat = pointer.pointee.iformat, let name = iformat.pointee.name else { return "unknown" }
        return String(cString: name)
    }

    var streams: [UnsafeMutablePointer<AVStream>] {
        (0..<Int(pointer.pointee.nb_streams)).compactMap { pointer.pointee.streams[$0] }
    }

    /// The index of the stream FFmpeg itself would pick as "the" video stream (attached pictures excluded).
    func bestVideoStream() throws -> UnsafeMutablePointer<AVStream> {
        let index = av_find_best_stream(pointer, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        if index >= 0, let stream = pointer.pointee.streams[Int(index)],
           stream.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC == 0 {
            return stream
        }
        // av_find_best_stream may reject a video stream whose decoder is missing: say so precisely.
        if let stream = streams.first(where: {
            $0.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO
                && $0.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC == 0
        }) {
            let id = stream.pointee.codecpar.pointee.codec_id
            let name = avcodec_get_name(id).map { String(cString: $0) } ?? "unknown"
            throw VideoIOError(.unsupportedCodec, path: path, operation: "open",
                               message: "no decoder for codec '\(name)' in this FFmpeg build")
        }
        throw VideoIOError(.noVideoStream, path: path, operation: "open", message: "the file has no video stream")
    }

    /// Only `keep` is demuxed; every other stream's packets are skipped by the demuxer.
    func discardAllStreams(except keep: UnsafeMutablePointer<AVStream>) {
        for stream in streams where stream != keep { stream.pointee.discard = AVDISCARD_ALL }
    }

    /// Reads the next packet of any non-discarded stream; `false` at end of file.
    /// Errors other than end of file are thrown (a truncated or corrupt container).
    func read(into packet: Packet) throws -> Bool {
        if let deadline, deadline.hasPassed { throw deadline.error(path: path) }
        let result = av_read_frame(pointer, packet.pointer)
        if result >= 0 { deadline?.touch() }
        if result == AVErrorCode.endOfFile { return false }
        if result < 0, let deadline, deadline.hasPassed { throw deadline.error(path: path) }
        if result < 0 { throw makeError(result, path: path, operation: "read", fallback: .corruptData) }
        return true
    }

    /// Seeks `stream` to the last keyframe at or before `timestamp` (in the stream's time base).
    func seek(stream: UnsafeMutablePointer<AVStream>, to timestamp: Int64) -> Bool {
        av_seek_frame(pointer, stream.pointee.index, timestamp, AVSEEK_FLAG_BACKWARD) >= 0
    }

    /// Whether the underlying I/O can seek at all (false for pipes).
    var isSeekable: Bool {
        guard let io = pointer.pointee.pb else { return false }
        return io.pointee.seekable & AVIO_SEEKABLE_NORMAL != 0
    }
}

/// Bytes read by FFmpeg through a custom AVIO context (`avio_alloc_context` with read and seek
/// callbacks), for demuxing a video held in memory.
final class MemoryInput {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// An AVIO context reading from this object, which must outlive it.
    func makeIOContext() -> UnsafeMutablePointer<AVIOContext>? {
        let size: Int32 = 32 * 1024
        guard let buffer = av_malloc(Int(size))?.assumingMemoryBound(to: UInt8.self) else { return nil }
        let io = avio_alloc_context(buffer, size, 0, Unmanaged.passUnretained(self).toOpaque(), { opaque, destination, wanted in
            let input = Unmanaged<MemoryInput>.fromOpaque(opaque!).takeUnretainedValue()
            let count = min(Int(wanted), input.bytes.count - input.position)
            guard count > 0, let destination else { return AVErrorCode.endOfFile }
            input.bytes.withUnsafeBufferPointer { source in
                destination.update(from: source.baseAddress! + input.position, count: count)
            }
            input.position += count
            return Int32(count)
        }, nil, { opaque, offset, whence in
            let input = Unmanaged<MemoryInput>.fromOpaque(opaque!).takeUnretainedValue()
            if whence & AVSEEK_SIZE != 0 { return Int64(input.bytes.count) }
            let base: Int64
            switch whence & ~AVSEEK_FORCE {
            case SEEK_SET: base = 0
            case SEEK_CUR: base = Int64(input.position)
            case SEEK_END: base = Int64(input.bytes.count)
            default: return -1
            }
            let target = base + offset
            guard target >= 0, target <= Int64(input.bytes.count) else { return -1 }
            input.position = Int(target)
            return target
        })
        if io == nil { av_free(buffer) }
        return io
    }

    /// Frees an AVIO context made by ``makeIOContext()`` and its buffer (FFmpeg may have replaced it).
    static func free(_ io: inout UnsafeMutablePointer<AVIOContext>?) {
        guard let context = io else { return }
        av_freep(&context.pointee.buffer)
        avio_context_free(&io)
    }
}

/// An owned `AVPacket` (`av_packet_alloc` / `av_packet_free`).
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>

    init() throws {
        guard let packet = av_packet_alloc() else {
            throw VideoIOError(.other, path: "", operation: "allocate a packet", message: "out of memory")
        }
        self.pointer = packet
    }

    deinit {
        var packet: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&packet)
    }

    func unref() { av_packet_unref(pointer) }
}

/// An owned `AVFrame` (`av_frame_alloc` / `av_frame_free`).
final class Frame {
    let pointer: UnsafeMutablePointer<AVFrame>

    init() throws {
        guard let frame = av_frame_alloc() else {
            throw VideoIOError(.other, path: "", operation: "allocate a frame", message: "out of memory")
        }
        self.pointer = frame
    }

    deinit {
        var frame: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&frame)
    }

    func unref() { av_frame_unref(pointer) }
}

/// A point in time after which reading gives up.
final class Deadline: @unchecked Sendable {
    /// The limit on the whole read, if any.
    let seconds: Double?
    /// The limit on any one wait for data, if any.
    let stall: Double?
    let interrupt: DecodeInterrupt?
    private let end: ContinuousClock.Instant?
    /// When the current wait for data gives up; moved forward by ``touch()`` on the reading thread
    /// (FFmpeg calls the interrupt callback on that same thread).
    private var stallEnd: ContinuousClock.Instant?

    init(seconds: Double? = nil, stall: Double? = nil, interrupt: DecodeInterrupt? = nil) {
        self.seconds = seconds
        self.stall = stall
        self.interrupt = interrupt
        self.end = seconds.map { ContinuousClock.now.advanced(by: .milliseconds(Int64($0 * 1000))) }
        self.stallEnd = stall.map { ContinuousClock.now.advanced(by: .milliseconds(Int64($0 * 1000))) }
    }

    /// A deadline for `options`, or nil when they set no limit and no interrupt.
    static func make(_ options: DecodeOptions) -> Deadline? {
        if options.timeout == nil && options.stallTimeout == nil && options.interrupt == nil { return nil }
        return Deadline(seconds: options.timeout, stall: options.stallTimeout, interrupt: options.interrupt)
    }

    /// Data arrived: the wait for the next starts now.
    func touch() {
        if let stall { stallEnd = ContinuousClock.now.advanced(by: .milliseconds(Int64(stall * 1000))) }
    }

    /// Set once FFmpeg's interrupt callback has aborted an I/O call: the demuxer may still hand
    /// out packets it had buffered (which ``touch()`` the stall clock), then fail with "exit
    /// requested"; that failure is still this deadline's.
    private(set) var hasFired = false

    var hasPassed: Bool {
        if hasFired || interrupt?.isInterrupted == true { return true }
        let now = ContinuousClock.now
        return end.map { now >= $0 } ?? false || stallEnd.map { now >= $0 } ?? false
    }

    /// The input whose bytes count as data arriving (its I/O position moving), while it is open.
    private var watched: UnsafeMutablePointer<AVFormatContext>?
    private var lastPosition: Int64 = -1

    func watch(_ context: UnsafeMutablePointer<AVFormatContext>) {
        watched = context
        lastPosition = -1
    }

    func unwatch(_ context: UnsafeMutablePointer<AVFormatContext>) {
        if watched == context { watched = nil }
    }

    /// What FFmpeg's interrupt callback asks: abort now? Bytes arriving while FFmpeg opens or
    /// probes the source (before any packet is returned) count as data too, so a slow handshake
    /// or a long first group of pictures is not a stall.
    func shouldAbort() -> Bool {
        if stall != nil, let io = watched?.pointee.pb, io.pointee.pos != lastPosition {
            if lastPosition >= 0 { touch() }
            lastPosition = io.pointee.pos
        }
        if hasPassed { hasFired = true }
        return hasFired
    }

    func error(path: String) -> VideoIOError {
        if interrupt?.isInterrupted == true {
            return VideoIOError(.interrupted, path: path, operation: "read", message: "stopped")
        }
        if let end, ContinuousClock.now >= end, let seconds {
            return VideoIOError(.timedOut, path: path, operation: "read", message: "gave up after \(seconds) s")
        }
        return VideoIOError(.timedOut, path: path, operation: "read", message: "no data for \(stall ?? 0) s")
    }
}

import CFFmpeg

/// Video codecs the writer can use.
public enum VideoCodec: String, Sendable, CaseIterable, Codable {
    /// H.264 through libx264 (MP4, MKV); falls back to MPEG-4 Part 2 when libx264 is missing.
    case h264
    /// MPEG-4 Part 2 (MP4, AVI, MKV).
    case mpeg4
    /// VP9 through libvpx (WebM, MKV).
    case vp9
    /// Motion JPEG (AVI, MKV).
    case mjpeg

    /// The codec a container's extension implies: `.mp4`/`.mov`/`.mkv` H.264, `.webm` VP9, `.avi` MJPEG.
    public static func `default`(forPath path: String) -> VideoCodec {
        let lower = path.lowercased()
        if lower.hasSuffix(".webm") { return .vp9 }
        if lower.hasSuffix(".avi") { return .mjpeg }
        return .h264
    }
}

/// Writes RGB24 frames to a video file: H.264 or MPEG-4 in MP4, VP9 in WebM, MJPEG in AVI.
///
/// ```swift
/// let writer = try VideoWriter(path: "clip.mp4", width: 160, height: 120, frameRate: 25)
/// for frame in frames { try writer.write(rgb: frame) }
/// try writer.finish()
/// ```
/// Used to make datasets and test fixtures. Frames are converted to the codec's YUV format with
/// libswscale. Sizes must be even for H.264, MPEG-4 and MJPEG (4:2:0); VP9 takes any size.
public final class VideoWriter {
    /// The output file.
    public let path: String
    /// Frame width in pixels; every frame written must have it.
    public let width: Int
    /// Frame height in pixels; every frame written must have it.
    public let height: Int
    /// The codec actually used (after any fallback).
    public let codec: VideoCodec
    private let format: UnsafeMutablePointer<AVFormatContext>
    private let encoder: UnsafeMutablePointer<AVCodecContext>
    private let stream: UnsafeMutablePointer<AVStream>
    private var scaler: OpaquePointer?
    private let frame: Frame
    private let packet: Packet
    private var nextPTS: Int64 = 0
    private var finished = false
    private var fileOpen = false

    /// Creates the file and its encoder.
    /// - Parameters:
    ///   - path: the output file; its extension picks the container (`.mp4`, `.mkv`, `.webm`, `.avi`).
    ///   - width: frame width in pixels; even unless the codec is VP9.
    ///   - height: frame height in pixels; even unless the codec is VP9.
    ///   - frameRate: frames per second (time base 1/frameRate).
    ///   - codec: default from the extension (``VideoCodec/default(forPath:)``).
    ///   - quality: 0 (best) to 100 (smallest); default 30.
    ///   - keyframeInterval: frames between keyframes (GOP size); default 2 seconds.
    ///   - bFrames: B-frames between references (H.264 and MPEG-4); default 2.
    /// - Throws: ``VideoIOError`` for an unknown container, a missing encoder or an unwritable path.
    public init(path: String, width: Int, height: Int, frameRate: Int, codec: VideoCodec? = nil,
                quality: Int = 30, keyframeInterval: Int? = nil, bFrames: Int = 2) throws {
        _ = FFmpegLogging.configured
        guard width > 0, height > 0, frameRate > 0 else {
            throw VideoIOError(.invalidArgument, path: path, operation: "encode", message: "size and frame rate must be positive (got \(width)x\(height) at \(frameRate) fps)")
        }
        frame = try Frame()
        packet = try Packet()
        self.path = path
        self.width = width
        self.height = height
        var chosen = codec ?? VideoCodec.default(forPath: path)
        var encoderCodec = Self.findEncoder(chosen)
        if encoderCodec == nil && chosen == .h264 {
            chosen = .mpeg4
            encoderCodec = Self.findEncoder(.mpeg4)
        }
        guard let encoderCodec else {
            throw VideoIOError(.unsupportedOutput, path: path, operation: "encode",
                               message: "no \(chosen.rawValue) encoder in this FFmpeg build")
        }
        if chosen != .vp9 && (width % 2 != 0 || height % 2 != 0) {
            throw VideoIOError(.invalidArgument, path: path, operation: "encode",
                               message: "\(chosen.rawValue) needs even width and height, got \(width)x\(height)")
        }
        self.codec = chosen

        var context: UnsafeMutablePointer<AVFormatContext>?
        let allocated = avformat_alloc_output_context2(&context, nil, nil, path)
        guard allocated >= 0, let context else {
            throw VideoIOError(.unsupportedOutput, path: path, operation: "encode",
                               message: "no container format for this file name (use .mp4, .mkv, .webm or .avi)")
        }
        self.format = context
        guard let stream = avformat_new_stream(context, nil), let encoder = avcodec_alloc_context3(encoderCodec) else {
            avformat_free_context(context)
            throw VideoIOError(.other, path: path, operation: "encode", message: "out of memory")
        }
        self.stream = stream
        self.encoder = encoder
        encoder.pointee.width = Int32(width)
        encoder.pointee.height = Int32(height)
        encoder.pointee.time_base = AVRational(num: 1, den: Int32(frameRate))
        encoder.pointee.framerate = AVRational(num: Int32(frameRate), den: 1)
        encoder.pointee.pix_fmt = chosen == .mjpeg ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_YUV420P
        encoder.pointee.gop_size = Int32(keyframeInterval ?? 2 * frameRate)
        encoder.pointee.thread_count = 1
        if chosen == .h264 || chosen == .mpeg4 { encoder.pointee.max_b_frames = Int32(max(0, bFrames)) }
        if context.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            encoder.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        }
        let q = max(0, min(100, quality))
        var options: OpaquePointer?
        defer { av_dict_free(&options) }
        switch chosen {
        case .h264:
            av_dict_set(&options, "preset", "veryfast", 0)
            av_dict_set(&options, "crf", String(12 + q * 38 / 100), 0)
            av_dict_set(&options, "x264-params", "scenecut=0", 0)
        case .mpeg4, .mjpeg:
            encoder.pointee.flags |= AV_CODEC_FLAG_QSCALE
            encoder.pointee.global_quality = Int32(FF_QP2LAMBDA) * Int32(2 + q * 29 / 100)
        case .vp9:
            av_dict_set(&options, "crf", String(15 + q * 45 / 100), 0)
            av_dict_set(&options, "b", "0", 0)
            av_dict_set(&options, "deadline", "realtime", 0)
            av_dict_set(&options, "cpu-used", "8", 0)
        }
        do {
            try check(avcodec_open2(encoder, encoderCodec, &options), path: path, operation: "encode", fallback: .unsupportedOutput)
            try check(avcodec_parameters_from_context(stream.pointee.codecpar, encoder), path: path, operation: "encode")
            stream.pointee.time_base = encoder.pointee.time_base
            if context.pointee.oformat.pointee.flags & AVFMT_NOFILE == 0 {
                try check(avio_open(&context.pointee.pb, path, AVIO_FLAG_WRITE), path: path, operation: "create", fallback: .ioError)
                fileOpen = true
            }
            try check(avformat_write_header(context, nil), path: path, operation: "encode")
            frame.pointer.pointee.width = Int32(width)
            frame.pointer.pointee.height = Int32(height)
            frame.pointer.pointee.format = encoder.pointee.pix_fmt.rawValue
            try check(av_frame_get_buffer(frame.pointer, 0), path: path, operation: "encode")
        } catch {
            release()
            throw error
        }
    }

    private static func findEncoder(_ codec: VideoCodec) -> UnsafePointer<AVCodec>? {
        switch codec {
        case .h264: return avcodec_find_encoder_by_name("libx264")
        case .mpeg4: return avcodec_find_encoder(AV_CODEC_ID_MPEG4)
        case .vp9: return avcodec_find_encoder_by_name("libvpx-vp9")
        case .mjpeg: return avcodec_find_encoder(AV_CODEC_ID_MJPEG)
        }
    }

    deinit { release() }

    /// Frees every FFmpeg object exactly once (after `finish`, or when abandoned or failed).
    private func release() {
        if released { return }
        released = true
        finished = true
        if fileOpen { avio_closep(&format.pointee.pb); fileOpen = false }
        var encoderPointer: UnsafeMutablePointer<AVCodecContext>? = encoder
        avcodec_free_context(&encoderPointer)
        sws_freeContext(scaler)
        scaler = nil
        avformat_free_context(format)
    }

    private var released = false

    /// Appends one frame of packed RGB24 pixels (`width * height * 3` bytes).
    public func write(rgb pixels: [UInt8]) throws {
        precondition(!finished, "write after finish")
        precondition(pixels.count == width * height * 3, "a frame needs width*height*3 bytes")
        try check(av_frame_make_writable(frame.pointer), path: path, operation: "encode")
        scaler = sws_getCachedContext(scaler, Int32(width), Int32(height), AV_PIX_FMT_RGB24,
                                      Int32(width), Int32(height), encoder.pointee.pix_fmt, SWS_BICUBIC, nil, nil, nil)
        guard let scaler else {
            throw VideoIOError(.unsupportedOutput, path: path, operation: "encode", message: "libswscale cannot convert RGB")
        }
        pixels.withUnsafeBufferPointer { src in
            var source: [UnsafePointer<UInt8>?] = [src.baseAddress, nil, nil, nil]
            var strides: [Int32] = [Int32(width * 3), 0, 0, 0]
            withUnsafeMutableBytes(of: &frame.pointer.pointee.data) { dataBytes in
                withUnsafeMutableBytes(of: &frame.pointer.pointee.linesize) { sizeBytes in
                    let data = dataBytes.bindMemory(to: UnsafeMutablePointer<UInt8>?.self)
                    let lines = sizeBytes.bindMemory(to: Int32.self)
                    _ = sws_scale(scaler, &source, &strides, 0, Int32(height), data.baseAddress, lines.baseAddress)
                }
            }
        }
        frame.pointer.pointee.pts = nextPTS
        nextPTS += 1
        try check(avcodec_send_frame(encoder, frame.pointer), path: path, operation: "encode")
        try writePackets()
    }

    /// Appends a decoded frame (its RGB pixels; the size must match).
    public func write(_ frame: VideoFrame) throws {
        precondition(frame.width == width && frame.height == height, "frame size differs from the writer's")
        try write(rgb: frame.pixels)
    }

    private func writePackets() throws {
        while true {
            let result = avcodec_receive_packet(encoder, packet.pointer)
            if result == AVErrorCode.tryAgain || result == AVErrorCode.endOfFile { return }
            try check(result, path: path, operation: "encode")
            // Every frame lasts one tick; without it MP4's edit list would cut the last frame.
            if packet.pointer.pointee.duration == 0 { packet.pointer.pointee.duration = 1 }
            av_packet_rescale_ts(packet.pointer, encoder.pointee.time_base, stream.pointee.time_base)
            packet.pointer.pointee.stream_index = stream.pointee.index
            let written = av_interleaved_write_frame(format, packet.pointer)
            packet.unref()
            try check(written, path: path, operation: "write", fallback: .ioError)
        }
    }

    /// Flushes the encoder, writes the trailer and closes the file.
    public func finish() throws {
        precondition(!finished, "finish called twice")
        try check(avcodec_send_frame(encoder, nil), path: path, operation: "encode")
        try writePackets()
        try check(av_write_trailer(format), path: path, operation: "write", fallback: .ioError)
        if fileOpen {
            let closed = avio_closep(&format.pointee.pb)
            fileOpen = false
            try check(closed, path: path, operation: "write", fallback: .ioError)
        }
        release()
    }
}

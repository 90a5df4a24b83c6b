import CFFmpeg

/// A video decoder: owns an `AVCodecContext` opened for one stream.
///
/// The corresponding FFmpeg functions are `avcodec_alloc_context3`, `avcodec_parameters_to_context`,
/// `avcodec_open2`, `avcodec_send_packet`, `avcodec_receive_frame` and `avcodec_free_context`.
final class Decoder {
    let pointer: UnsafeMutablePointer<AVCodecContext>
    let path: String

    /// Frames larger than this many pixels are refused before any buffer is allocated for them.
    static let maximumPixels: Int64 = 8192 * 8192

    init(stream: UnsafeMutablePointer<AVStream>, threads: Int, path: String) throws {
        self.path = path
        let parameters = stream.pointee.codecpar!
        guard let codec = avcodec_find_decoder(parameters.pointee.codec_id) else {
            let name = avcodec_get_name(parameters.pointee.codec_id).map { String(cString: $0) } ?? "unknown"
            throw VideoIOError(.unsupportedCodec, path: path, operation: "open",
                               message: "no decoder for codec '\(name)' in this FFmpeg build")
        }
        guard let context = avcodec_alloc_context3(codec) else {
            throw VideoIOError(.other, path: path, operation: "open", message: "out of memory")
        }
        self.pointer = context
        try check(avcodec_parameters_to_context(context, parameters), path: path, operation: "open")
        let width = Int64(parameters.pointee.width), height = Int64(parameters.pointee.height)
        if width * height > Decoder.maximumPixels || width > 32768 || height > 32768 {
            throw VideoIOError(.tooLarge, path: path, operation: "open",
                               message: "declared frame size \(width)x\(height) is beyond the \(Decoder.maximumPixels)-pixel limit")
        }
        context.pointee.max_pixels = Decoder.maximumPixels
        context.pointee.pkt_timebase = stream.pointee.time_base
        context.pointee.thread_count = Int32(max(threads, 1))
        context.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
        try check(avcodec_open2(context, codec, nil), path: path, operation: "open", fallback: .unsupportedCodec)
    }

    deinit {
        var context: UnsafeMutablePointer<AVCodecContext>? = pointer
        avcodec_free_context(&context)
    }

    var codecName: String {
        guard let codec = pointer.pointee.codec, let name = codec.pointee.name else { return "unknown" }
        return String(cString: name)
    }

    /// Sends a packet (nil drains the decoder at end of stream); returns FFmpeg's code.
    func send(_ packet: Packet?) -> Int32 {
        avcodec_send_packet(pointer, packet?.pointer)
    }

    /// Receives a decoded frame; returns FFmpeg's code (`tryAgain`, `endOfFile`, or an error).
    func receive(_ frame: Frame) -> Int32 {
        avcodec_receive_frame(pointer, frame.pointer)
    }

    /// Forgets buffered frames and reference state, so decoding can restart at a keyframe.
    func flush() { avcodec_flush_buffers(pointer) }
}

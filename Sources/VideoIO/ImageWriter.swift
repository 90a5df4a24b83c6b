import CFFmpeg
import Foundation

/// Writes RGB24 pictures as PNG or JPEG with libavcodec's image encoders (no extra library).
public enum ImageWriter {
    /// Encodes a packed RGB24 picture as PNG bytes (lossless).
    public static func pngData(pixels: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        try encode(pixels: pixels, width: width, height: height, codecID: AV_CODEC_ID_PNG, name: "png", pixelFormat: AV_PIX_FMT_RGB24)
    }

    /// Encodes a packed RGB24 picture as baseline JPEG bytes (4:2:0, full range), for thumbnails
    /// a tenth the size of their PNG.
    /// - Parameters:
    ///   - pixels: packed RGB24, `width * height * 3` bytes.
    ///   - width: picture width in pixels (even: 4:2:0 chroma).
    ///   - height: picture height in pixels (even).
    ///   - quality: 1 (smallest) to 100 (best); default 80.
    public static func jpegData(pixels: [UInt8], width: Int, height: Int, quality: Int = 80) throws -> [UInt8] {
        precondition(width % 2 == 0 && height % 2 == 0, "JPEG 4:2:0 needs an even width and height")
        // The MJPEG encoder's quantizer scale: 2 (best) to 31; quality 80 is about 6.
        let qscale = 2 + (100 - max(1, min(100, quality))) * 29 / 99
        return try encode(pixels: pixels, width: width, height: height, codecID: AV_CODEC_ID_MJPEG, name: "jpeg",
                          pixelFormat: AV_PIX_FMT_YUVJ420P, qscale: qscale)
    }

    /// One picture through a libavcodec image encoder; RGB24 is converted with libswscale when the
    /// encoder takes another pixel format.
    private static func encode(pixels: [UInt8], width: Int, height: Int, codecID: AVCodecID, name: String,
                               pixelFormat: AVPixelFormat, qscale: Int? = nil) throws -> [UInt8] {
        precondition(pixels.count == width * height * 3, "RGB24 needs width*height*3 bytes")
        let path = "<\(name)>"
        guard let codec = avcodec_find_encoder(codecID) else {
            throw VideoIOError(.unsupportedOutput, path: path, operation: "encode", message: "no \(name) encoder in this FFmpeg build")
        }
        guard let context = avcodec_alloc_context3(codec) else {
            throw VideoIOError(.other, path: path, operation: "encode", message: "out of memory")
        }
        defer { var c: UnsafeMutablePointer<AVCodecContext>? = context; avcodec_free_context(&c) }
        context.pointee.width = Int32(width)
        context.pointee.height = Int32(height)
        context.pointee.pix_fmt = pixelFormat
        context.pointee.time_base = AVRational(num: 1, den: 25)
        context.pointee.thread_count = 1
        if let qscale {
            context.pointee.flags |= AV_CODEC_FLAG_QSCALE
            context.pointee.global_quality = Int32(FF_QP2LAMBDA) * Int32(qscale)
        }
        try check(avcodec_open2(context, codec, nil), path: path, operation: "encode")
        let frame = try Frame()
        frame.pointer.pointee.width = Int32(width)
        frame.pointer.pointee.height = Int32(height)
        frame.pointer.pointee.format = pixelFormat.rawValue
        try check(av_frame_get_buffer(frame.pointer, 0), path: path, operation: "encode")
        if pixelFormat == AV_PIX_FMT_RGB24 {
            let stride = Int(frame.pointer.pointee.linesize.0)
            pixels.withUnsafeBufferPointer { src in
                let dst = frame.pointer.pointee.data.0!
                for row in 0..<height {
                    (dst + row * stride).update(from: src.baseAddress! + row * width * 3, count: width * 3)
                }
            }
        } else {
            guard let scaler = sws_getContext(Int32(width), Int32(height), AV_PIX_FMT_RGB24, Int32(width), Int32(height), pixelFormat,
                                              SWS_BICUBIC, nil, nil, nil) else {
                throw VideoIOError(.unsupportedOutput, path: path, operation: "encode", message: "libswscale cannot convert RGB")
            }
            defer { sws_freeContext(scaler) }
            pixels.withUnsafeBufferPointer { src in
                var source: [UnsafePointer<UInt8>?] = [src.baseAddress, nil, nil, nil]
                var strides: [Int32] = [Int32(width * 3), 0, 0, 0]
                withUnsafeMutableBytes(of: &frame.pointer.pointee.data) { dataBytes in
                    withUnsafeMutableBytes(of: &frame.pointer.pointee.linesize) { sizeBytes in
                        _ = sws_scale(scaler, &source, &strides, 0, Int32(height),
                                      dataBytes.bindMemory(to: UnsafeMutablePointer<UInt8>?.self).baseAddress,
                                      sizeBytes.bindMemory(to: Int32.self).baseAddress)
                    }
                }
            }
        }
        // A fixed quantizer is read from each frame (as the ffmpeg command line sets it), not
        // from the context alone: without it the encoder uses its finest scale.
        frame.pointer.pointee.quality = context.pointee.global_quality
        try check(avcodec_send_frame(context, frame.pointer), path: path, operation: "encode")
        try check(avcodec_send_frame(context, nil), path: path, operation: "encode")
        let packet = try Packet()
        var bytes: [UInt8] = []
        while avcodec_receive_packet(context, packet.pointer) == 0 {
            bytes.append(contentsOf: UnsafeBufferPointer(start: packet.pointer.pointee.data, count: Int(packet.pointer.pointee.size)))
            packet.unref()
        }
        return bytes
    }

    /// Writes a packed RGB24 picture to `path` as PNG.
    /// - Throws: ``VideoIOError`` when the file cannot be written.
    public static func writePNG(pixels: [UInt8], width: Int, height: Int, to path: String) throws {
        let data = try pngData(pixels: pixels, width: width, height: height)
        guard FileManager.default.createFile(atPath: path, contents: Data(data)) else {
            throw VideoIOError(.ioError, path: path, operation: "write", message: "cannot create the file")
        }
    }
}

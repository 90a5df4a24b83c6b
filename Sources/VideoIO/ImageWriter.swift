import CFFmpeg
import Foundation

/// Writes RGB24 pictures as PNG files with libavcodec's PNG encoder (no extra library).
public enum ImageWriter {
    /// Encodes a packed RGB24 picture as PNG bytes.
    public static func pngData(pixels: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        precondition(pixels.count == width * height * 3, "RGB24 needs width*height*3 bytes")
        let path = "<png>"
        guard let codec = avcodec_find_encoder(AV_CODEC_ID_PNG) else {
            throw VideoIOError(.unsupportedOutput, path: path, operation: "encode", message: "no PNG encoder")
        }
        guard let context = avcodec_alloc_context3(codec) else {
            throw VideoIOError(.other, path: path, operation: "encode", message: "out of memory")
        }
        defer { var c: UnsafeMutablePointer<AVCodecContext>? = context; avcodec_free_context(&c) }
        context.pointee.width = Int32(width)
        context.pointee.height = Int32(height)
        context.pointee.pix_fmt = AV_PIX_FMT_RGB24
        context.pointee.time_base = AVRational(num: 1, den: 25)
        try check(avcodec_open2(context, codec, nil), path: path, operation: "encode")
        let frame = try Frame()
        frame.pointer.pointee.width = Int32(width)
        frame.pointer.pointee.height = Int32(height)
        frame.pointer.pointee.format = AV_PIX_FMT_RGB24.rawValue
        try check(av_frame_get_buffer(frame.pointer, 0), path: path, operation: "encode")
        let stride = Int(frame.pointer.pointee.linesize.0)
        pixels.withUnsafeBufferPointer { src in
            let dst = frame.pointer.pointee.data.0!
            for row in 0..<height {
                (dst + row * stride).update(from: src.baseAddress! + row * width * 3, count: width * 3)
            }
        }
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

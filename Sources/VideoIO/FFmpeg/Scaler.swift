import CFFmpeg

/// Converts decoded pictures to packed RGB24 at a planned size: owns a cached `SwsContext`.
///
/// Mirrors what the `ffmpeg` command line's auto-inserted `scale` filter does for the
/// conversion: the frame's own colorspace coefficients and range are passed to libswscale,
/// so native-size output hashes like `ffmpeg -pix_fmt rgb24`.
final class Scaler {
    private var context: OpaquePointer?
    private let path: String

    init(path: String) { self.path = path }

    deinit {
        sws_freeContext(context)
        scratch?.deallocate()
    }

    static func flags(_ interpolation: Interpolation, native: Bool) -> Int32 {
        if native { return SWS_BICUBIC }  // the ffmpeg CLI's default sws_flags
        switch interpolation {
        case .nearest: return SWS_POINT
        case .bilinear: return SWS_BILINEAR
        case .bicubic: return SWS_BICUBIC
        case .area: return SWS_AREA
        }
    }

    /// Scales `frame`'s window `plan.crop*` to `plan.scaled*` and writes RGB24 rows into `out`
    /// (`plan.scaledWidth * 3` bytes per row).
    func convert(_ frame: UnsafeMutablePointer<AVFrame>, plan: ScalePlan, flags: Int32,
                 into out: UnsafeMutablePointer<UInt8>) throws {
        let format = AVPixelFormat(rawValue: frame.pointee.format)
        guard let descriptor = av_pix_fmt_desc_get(format) else {
            throw VideoIOError(.unsupportedCodec, path: path, operation: "convert",
                               message: "unknown pixel format \(frame.pointee.format)")
        }
        // Source pointers moved to the crop window's top-left corner, per plane.
        let chromaShiftX = Int(descriptor.pointee.log2_chroma_w), chromaShiftY = Int(descriptor.pointee.log2_chroma_h)
        let alignX = 1 << chromaShiftX, alignY = 1 << chromaShiftY
        let cropX = plan.cropX / alignX * alignX, cropY = plan.cropY / alignY * alignY
        var source: [UnsafePointer<UInt8>?] = Array(repeating: nil, count: 4)
        var strides: [Int32] = Array(repeating: 0, count: 4)
        let isPaletted = descriptor.pointee.flags & UInt64(AV_PIX_FMT_FLAG_PAL) != 0
        let isBitstream = descriptor.pointee.flags & UInt64(AV_PIX_FMT_FLAG_BITSTREAM) != 0
        let canCrop = !isPaletted && !isBitstream
        withUnsafeBytes(of: frame.pointee.data) { dataBytes in
            withUnsafeBytes(of: frame.pointee.linesize) { sizeBytes in
                let data = dataBytes.bindMemory(to: UnsafeMutablePointer<UInt8>?.self)
                let lines = sizeBytes.bindMemory(to: Int32.self)
                for plane in 0..<4 {
                    strides[plane] = lines[plane]
                    source[plane] = data[plane].map { UnsafePointer($0) }
                }
            }
        }
        if canCrop && (cropX != 0 || cropY != 0) {
            withUnsafeBytes(of: descriptor.pointee.comp) { compBytes in
                let components = compBytes.bindMemory(to: AVComponentDescriptor.self)
                var moved = Set<Int>()
                let isRGB = descriptor.pointee.flags & UInt64(AV_PIX_FMT_FLAG_RGB) != 0
                for c in 0..<Int(descriptor.pointee.nb_components) {
                    let plane = Int(components[c].plane)
                    guard !moved.contains(plane), let base = source[plane] else { continue }
                    moved.insert(plane)
                    let chroma = !isRGB && (c == 1 || c == 2)
                    let x = chroma ? cropX >> chromaShiftX : cropX
                    let y = chroma ? cropY >> chromaShiftY : cropY
                    source[plane] = base + y * Int(strides[plane]) + x * Int(components[c].step)
                }
            }
        }
        let srcW = canCrop ? plan.cropWidth : Int(frame.pointee.width)
        let srcH = canCrop ? plan.cropHeight : Int(frame.pointee.height)
        context = sws_getCachedContext(context, Int32(srcW), Int32(srcH), format,
                                       Int32(plan.scaledWidth), Int32(plan.scaledHeight), AV_PIX_FMT_RGB24,
                                       flags, nil, nil, nil)
        guard let context else {
            throw VideoIOError(.unsupportedCodec, path: path, operation: "convert",
                               message: "libswscale cannot convert \(srcW)x\(srcH) \(String(cString: descriptor.pointee.name)) to RGB")
        }
        applyColorspace(of: frame, to: context)
        // libswscale's SIMD paths write whole blocks of pixels and decide how many from the
        // destination stride, so it writes into a buffer laid out exactly as `ffmpeg` lays out
        // its frames (`av_frame_get_buffer`), whose rows are then packed into `out`.
        let rowBytes = plan.scaledWidth * 3
        let stride = Self.frameBufferStride(width: plan.scaledWidth)
        let needed = stride * (plan.scaledHeight + 1) + 64
        if scratchCapacity < needed {
            scratch?.deallocate()
            scratch = UnsafeMutableRawPointer.allocate(byteCount: needed, alignment: 64).assumingMemoryBound(to: UInt8.self)
            scratchCapacity = needed
        }
        var destination: [UnsafeMutablePointer<UInt8>?] = [scratch, nil, nil, nil]
        var destinationStrides: [Int32] = [Int32(stride), 0, 0, 0]
        let rows = sws_scale(context, source, strides, 0, Int32(srcH), &destination, &destinationStrides)
        if rows <= 0 {
            throw VideoIOError(.corruptData, path: path, operation: "convert", message: "libswscale produced no rows")
        }
        for row in 0..<plan.scaledHeight {
            (out + row * rowBytes).update(from: scratch! + row * stride, count: rowBytes)
        }
    }

    /// The RGB24 line size `av_frame_get_buffer` chooses: the width is padded until the line
    /// size is a multiple of the CPU's maximum alignment (64).
    static func frameBufferStride(width: Int, alignment: Int = 64) -> Int {
        var padding = 1
        while padding <= alignment {
            let stride = ((width + padding - 1) / padding * padding) * 3
            if stride % alignment == 0 { return stride }
            padding *= 2
        }
        return ((width + alignment - 1) / alignment * alignment) * 3
    }

    private var scratch: UnsafeMutablePointer<UInt8>?
    private var scratchCapacity = 0

    /// Passes the frame's YUV coefficients and range to libswscale, like `vf_scale` does.
    private func applyColorspace(of frame: UnsafeMutablePointer<AVFrame>, to context: OpaquePointer) {
        var invTable: UnsafeMutablePointer<Int32>?
        var table: UnsafeMutablePointer<Int32>?
        var srcRange: Int32 = 0, dstRange: Int32 = 0, brightness: Int32 = 0, contrast: Int32 = 0, saturation: Int32 = 0
        guard sws_getColorspaceDetails(context, &invTable, &srcRange, &table, &dstRange,
                                       &brightness, &contrast, &saturation) >= 0 else { return }
        let colorspace = Int32(bitPattern: frame.pointee.colorspace.rawValue)
        let coefficients = sws_getCoefficients(colorspace)
        if frame.pointee.color_range != AVCOL_RANGE_UNSPECIFIED {
            srcRange = frame.pointee.color_range == AVCOL_RANGE_JPEG ? 1 : 0
        }
        _ = sws_setColorspaceDetails(context, coefficients, srcRange, table, dstRange, brightness, contrast, saturation)
    }
}

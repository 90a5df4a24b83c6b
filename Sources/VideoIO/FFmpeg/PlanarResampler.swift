import CFFmpeg
import CKernels

/// Converts 8-bit planar YUV pictures (4:2:0, 4:2:2, 4:4:4) to RGB24 at a planned size with the
/// bilinear filter, in vidclass's own vectorized kernels instead of libswscale.
///
/// The filter is the one libswscale's `SWS_BILINEAR` uses: a tent, widened to the scale factor
/// when shrinking, so every source pixel under an output pixel counts. The planes are filtered
/// vertically first, straight from the decoder's 8-bit rows, so the horizontal pass runs on the
/// output's rows only; each chroma plane is resampled directly to the output's full size, at its
/// own sample positions (the frame's chroma location), and the frame's colorspace and range
/// choose the matrix. libswscale converts the same pictures with a vertical filter in scalar C
/// for packed RGB output; this is about 3× less work a frame, and the results differ from it
/// by rounding (a level or two), never by more than its own fixed-point steps.
final class PlanarResampler {
    /// The taps of one pass: output `o` reads `taps` inputs from `starts[o]`, weighted by
    /// `weights[o * taps ..< (o + 1) * taps]`.
    struct Filter: Equatable {
        var starts: [Int32]
        var weights: [Float]
        var taps: Int
    }

    /// A tent filter for `outputs` positions: output `o` is centred at input coordinate
    /// `first + o * step` (input `i` sits at `i`), reaches `halfWidth` either side, and reads only
    /// inputs `lowest...highest` (beyond them, the edge input repeats). `taps` is rounded up to a
    /// multiple of `multiple`; the extra taps weigh 0 and may run past `highest`.
    static func tent(outputs: Int, first: Double, step: Double, halfWidth: Double, lowest: Int, highest: Int,
                     multiple: Int = 1) -> Filter {
        precondition(outputs > 0 && highest >= lowest && halfWidth >= 1)
        var taps = 1
        var spans: [(start: Int, weights: [Double])] = []
        spans.reserveCapacity(outputs)
        for o in 0..<outputs {
            let center = first + Double(o) * step
            let from = Int((center - halfWidth).rounded(.down)) + 1, to = Int((center + halfWidth).rounded(.up)) - 1
            var start = Int.max, end = Int.min
            var byInput: [Int: Double] = [:]
            for i in from...max(from, to) {
                let weight = 1 - abs(Double(i) - center) / halfWidth
                guard weight > 0 else { continue }
                let clamped = min(max(i, lowest), highest)
                byInput[clamped, default: 0] += weight
                start = min(start, clamped); end = max(end, clamped)
            }
            if byInput.isEmpty {  // cannot happen with halfWidth >= 1; the nearest input, to be safe
                let nearest = min(max(Int(center.rounded()), lowest), highest)
                byInput[nearest] = 1; start = nearest; end = nearest
            }
            let total = byInput.values.reduce(0, +)
            spans.append((start, (start...end).map { (byInput[$0] ?? 0) / total }))
            taps = max(taps, end - start + 1)
        }
        let padded = (taps + multiple - 1) / multiple * multiple
        var filter = Filter(starts: [], weights: [Float](repeating: 0, count: outputs * padded), taps: padded)
        filter.starts.reserveCapacity(outputs)
        for (o, span) in spans.enumerated() {
            // Every output reads `taps` inputs from its start, so a start near the end moves back
            // (its first weights stay 0): the reads stay within lowest...highest.
            let start = max(lowest, min(span.start, highest + 1 - taps))
            for (k, weight) in span.weights.enumerated() {
                filter.weights[o * padded + span.start - start + k] = Float(weight)
            }
            filter.starts.append(Int32(start))
        }
        return filter
    }

    /// Whether `format` is one this converter handles, with its chroma subsampling (log 2) and
    /// whether it is full range when the frame does not say (the `J` formats).
    static func layout(of format: AVPixelFormat) -> (shiftX: Int, shiftY: Int, fullRange: Bool)? {
        switch format {
        case AV_PIX_FMT_YUV420P: return (1, 1, false)
        case AV_PIX_FMT_YUVJ420P: return (1, 1, true)
        case AV_PIX_FMT_YUV422P: return (1, 0, false)
        case AV_PIX_FMT_YUVJ422P: return (1, 0, true)
        case AV_PIX_FMT_YUV444P: return (0, 0, false)
        case AV_PIX_FMT_YUVJ444P: return (0, 0, true)
        default: return nil
        }
    }

    /// Where chroma sample 0 sits in luma samples, horizontally and vertically, for subsampled
    /// planes. Unspecified is MPEG-2's and H.264's default, "left": co-sited horizontally,
    /// between the two rows vertically.
    static func chromaSiting(_ location: AVChromaLocation, shiftX: Int, shiftY: Int) -> (x: Double, y: Double) {
        let halfX = shiftX > 0 ? 0.5 : 0, halfY = shiftY > 0 ? 0.5 : 0
        switch location {
        case AVCHROMA_LOC_CENTER: return (halfX, halfY)
        case AVCHROMA_LOC_TOPLEFT: return (0, 0)
        case AVCHROMA_LOC_TOP: return (halfX, 0)
        case AVCHROMA_LOC_BOTTOMLEFT: return (0, 2 * halfY)
        case AVCHROMA_LOC_BOTTOM: return (halfX, 2 * halfY)
        default: return (0, halfY)
        }
    }

    private struct Geometry: Equatable {
        var width: Int, height: Int, format: Int32, chromaLocation: UInt32, plan: ScalePlan
    }

    /// One plane's passes: the columns of the plane they read and the two filters.
    private struct PlanePasses {
        var columns: ClosedRange<Int>
        var vertical: Filter
        var horizontal: Filter
    }

    private var geometry: Geometry?
    private var passes: [PlanePasses] = []
    /// The vertical pass's output for one plane (rows × stride; the padding columns, which the
    /// horizontal pass's zero-weight taps read, hold finite values left by earlier planes).
    private var rows: [Float] = []
    private var rowStride = 0
    /// The three planes at the output size.
    private var planes: [Float] = []

    /// Converts `frame`'s window `plan.crop*` to `plan.scaled*` RGB24 rows in `out`
    /// (`plan.scaledWidth * 3` bytes a row). Returns false, having written nothing, when the
    /// frame's pixel format is not one this converter handles.
    func convert(_ frame: UnsafeMutablePointer<AVFrame>, plan: ScalePlan, into out: UnsafeMutablePointer<UInt8>) -> Bool {
        let format = AVPixelFormat(rawValue: frame.pointee.format)
        guard let layout = Self.layout(of: format) else { return false }
        let width = Int(frame.pointee.width), height = Int(frame.pointee.height)
        guard width > 0, height > 0, plan.cropWidth > 0, plan.cropHeight > 0, plan.scaledWidth > 0, plan.scaledHeight > 0,
              plan.cropX >= 0, plan.cropY >= 0, plan.cropX + plan.cropWidth <= width,
              plan.cropY + plan.cropHeight <= height else { return false }
        let current = Geometry(width: width, height: height, format: frame.pointee.format,
                               chromaLocation: frame.pointee.chroma_location.rawValue, plan: plan)
        if geometry != current {
            prepare(current, layout: layout, location: frame.pointee.chroma_location)
        }
        let outWidth = plan.scaledWidth, outHeight = plan.scaledHeight, count = outWidth * outHeight
        let planeData = withUnsafeBytes(of: frame.pointee.data) { Array($0.bindMemory(to: UnsafeMutablePointer<UInt8>?.self).prefix(3)) }
        let lineSizes = withUnsafeBytes(of: frame.pointee.linesize) { Array($0.bindMemory(to: Int32.self).prefix(3)) }
        guard planeData.allSatisfy({ $0 != nil }) else { return false }
        rows.withUnsafeMutableBufferPointer { rowBuffer in
            planes.withUnsafeMutableBufferPointer { planeBuffer in
                for plane in 0..<3 {
                    let pass = passes[plane]
                    let stride = Int(lineSizes[plane])
                    let source = UnsafePointer(planeData[plane]! + pass.columns.lowerBound)
                    pass.vertical.starts.withUnsafeBufferPointer { starts in
                        pass.vertical.weights.withUnsafeBufferPointer { weights in
                            vc_resample_vertical_u8(source, stride, Int32(pass.columns.count), starts.baseAddress,
                                                    weights.baseAddress, Int32(pass.vertical.taps), Int32(outHeight),
                                                    rowBuffer.baseAddress, rowStride)
                        }
                    }
                    pass.horizontal.starts.withUnsafeBufferPointer { starts in
                        pass.horizontal.weights.withUnsafeBufferPointer { weights in
                            vc_resample_horizontal_f32(rowBuffer.baseAddress, rowStride, Int32(outHeight), starts.baseAddress,
                                                       weights.baseAddress, Int32(pass.horizontal.taps), Int32(outWidth),
                                                       planeBuffer.baseAddress! + plane * count, outWidth)
                        }
                    }
                }
                let matrix = Self.matrix(for: frame, fullRangeByDefault: layout.fullRange)
                matrix.withUnsafeBufferPointer { m in
                    let base = planeBuffer.baseAddress!
                    vc_yuv_to_rgb24(base, base + count, base + 2 * count, Int32(count), m.baseAddress, out)
                }
            }
        }
        return true
    }

    private func prepare(_ current: Geometry, layout: (shiftX: Int, shiftY: Int, fullRange: Bool), location: AVChromaLocation) {
        let plan = current.plan
        let scaleX = Double(plan.cropWidth) / Double(plan.scaledWidth)
        let scaleY = Double(plan.cropHeight) / Double(plan.scaledHeight)
        // Output pixel o's centre, in luma samples.
        let firstX = Double(plan.cropX) + 0.5 * scaleX - 0.5, firstY = Double(plan.cropY) + 0.5 * scaleY - 0.5
        let siting = Self.chromaSiting(location, shiftX: layout.shiftX, shiftY: layout.shiftY)
        passes = (0..<3).map { plane in
            let shiftX = plane == 0 ? 0 : layout.shiftX, shiftY = plane == 0 ? 0 : layout.shiftY
            let offsetX = plane == 0 ? 0 : siting.x, offsetY = plane == 0 ? 0 : siting.y
            let factorX = Double(1 << shiftX), factorY = Double(1 << shiftY)
            let planeWidth = (current.width + (1 << shiftX) - 1) >> shiftX
            let planeHeight = (current.height + (1 << shiftY) - 1) >> shiftY
            // The window's edge pixels are filtered with their neighbours outside it, as in the
            // whole picture; only the picture's own edges repeat.
            let vertical = Self.tent(outputs: plan.scaledHeight, first: (firstY - offsetY) / factorY,
                                     step: scaleY / factorY, halfWidth: max(1, scaleY / factorY),
                                     lowest: 0, highest: planeHeight - 1)
            var horizontal = Self.tent(outputs: plan.scaledWidth, first: (firstX - offsetX) / factorX,
                                       step: scaleX / factorX, halfWidth: max(1, scaleX / factorX),
                                       lowest: 0, highest: planeWidth - 1, multiple: 8)
            // The columns the horizontal pass reads (its padding taps beyond them read zeros).
            let first = Int(horizontal.starts.min()!)
            let columns = first...min(Int(horizontal.starts.max()!) + horizontal.taps - 1, planeWidth - 1)
            horizontal.starts = horizontal.starts.map { $0 - Int32(first) }
            return PlanePasses(columns: columns, vertical: vertical, horizontal: horizontal)
        }
        let widest = passes.map { $0.columns.count + $0.horizontal.taps }.max()!
        rowStride = (widest + 15) / 16 * 16
        rows = [Float](repeating: 0, count: rowStride * plan.scaledHeight)
        planes = [Float](repeating: 0, count: 3 * plan.scaledWidth * plan.scaledHeight)
        geometry = current
    }

    /// The YUV to RGB matrix for `vc_yuv_to_rgb24`: libswscale's coefficients for the frame's
    /// colorspace (BT.601 when unspecified), for its range, as `sws_setColorspaceDetails` uses them.
    static func matrix(for frame: UnsafeMutablePointer<AVFrame>, fullRangeByDefault: Bool) -> [Float] {
        let range = frame.pointee.color_range
        let full = range == AVCOL_RANGE_UNSPECIFIED ? fullRangeByDefault : range == AVCOL_RANGE_JPEG
        let table = sws_getCoefficients(Int32(bitPattern: frame.pointee.colorspace.rawValue))!
        // {crv, cbu, cgu, cgv} in 16.16, for limited-range chroma; full range scales them by 224/255.
        let chroma: Float = full ? 224.0 / 255.0 : 1
        let c = (0..<4).map { Float(table[$0]) / 65536 * chroma }
        return [full ? 0 : 16, full ? 1 : 255.0 / 219.0, 128, c[0], c[2], c[3], c[1]]
    }
}

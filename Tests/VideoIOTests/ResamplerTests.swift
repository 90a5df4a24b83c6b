import CFFmpeg
import Foundation
import Testing
@testable import VideoIO
import VidclassTestSupport

/// vidclass's own bilinear resizing of planar YUV (`PlanarResampler`), which replaced libswscale's
/// for resized output: its filter taps, its kernels against a direct computation, and its pictures
/// against the `ffmpeg` command line's `scale=…:flags=bilinear` on real files.
struct ResamplerTests {
    // MARK: The filter

    @Test func tentTapsAtScaleOneAreTheIdentity() {
        let filter = PlanarResampler.tent(outputs: 7, first: 0, step: 1, halfWidth: 1, lowest: 0, highest: 6, multiple: 8)
        #expect(filter.taps == 8)
        for o in 0..<7 {
            let weights = Array(filter.weights[o * 8..<(o + 1) * 8])
            let start = Int(filter.starts[o])
            #expect(start + weights.firstIndex(of: 1)! == o, "output \(o) reads its own input only")
            #expect(weights.reduce(0, +) == 1)
        }
    }

    @Test func tentTapsUpscalingByTwoAreQuarters() {
        // 4 inputs to 8 outputs: centres at -0.25, 0.25, 0.75, …
        let filter = PlanarResampler.tent(outputs: 8, first: -0.25, step: 0.5, halfWidth: 1, lowest: 0, highest: 3)
        #expect(filter.taps == 2)
        let pairs = (0..<8).map { o in (Int(filter.starts[o]), filter.weights[2 * o], filter.weights[2 * o + 1]) }
        // Output 0 lies before input 0: the edge repeats, all of its weight on input 0.
        #expect(pairs[0].0 == 0 && pairs[0].1 == 1 && pairs[0].2 == 0)
        #expect(pairs[1].0 == 0 && abs(pairs[1].1 - 0.75) < 1e-6 && abs(pairs[1].2 - 0.25) < 1e-6)
        #expect(pairs[2].0 == 0 && abs(pairs[2].1 - 0.25) < 1e-6 && abs(pairs[2].2 - 0.75) < 1e-6)
        #expect(pairs[7].0 == 2 && pairs[7].1 == 0 && pairs[7].2 == 1, "the last output moves back to stay inside")
    }

    @Test(arguments: [(640, 112), (1920, 112), (360, 112), (113, 112), (321, 7), (16, 112)])
    func tentTapsStayInsideAndSumToOne(_ inputs: Int, _ outputs: Int) {
        let scale = Double(inputs) / Double(outputs)
        let filter = PlanarResampler.tent(outputs: outputs, first: 0.5 * scale - 0.5, step: scale,
                                          halfWidth: max(1, scale), lowest: 0, highest: inputs - 1, multiple: 8)
        #expect(filter.taps % 8 == 0)
        for o in 0..<outputs {
            let weights = Array(filter.weights[o * filter.taps..<(o + 1) * filter.taps])
            #expect(abs(weights.reduce(0, +) - 1) < 1e-5, "output \(o)")
            #expect(weights.allSatisfy { $0 >= 0 })
            let start = Int(filter.starts[o])
            let last = weights.lastIndex { $0 > 0 }! + start
            #expect(start >= 0 && last <= inputs - 1, "output \(o) reads \(start)...\(last)")
            // A shrinking tent covers every input within one scale step of the centre.
            if scale > 1 {
                let center = 0.5 * scale - 0.5 + Double(o) * scale
                let nearest = min(max(Int(center.rounded()), 0), inputs - 1)
                #expect(filter.weights[o * filter.taps + nearest - start] > 0)
            }
        }
    }

    // MARK: The kernels against a direct computation

    /// A frame of `format` filled with a pattern that has detail at every scale.
    static func makeFrame(width: Int, height: Int, format: AVPixelFormat, seed: Int) -> UnsafeMutablePointer<AVFrame> {
        let frame = av_frame_alloc()!
        frame.pointee.width = Int32(width)
        frame.pointee.height = Int32(height)
        frame.pointee.format = format.rawValue
        precondition(av_frame_get_buffer(frame, 0) >= 0)
        let layout = PlanarResampler.layout(of: format)!
        for plane in 0..<3 {
            let w = plane == 0 ? width : (width + (1 << layout.shiftX) - 1) >> layout.shiftX
            let h = plane == 0 ? height : (height + (1 << layout.shiftY) - 1) >> layout.shiftY
            let base = plane == 0 ? frame.pointee.data.0! : plane == 1 ? frame.pointee.data.1! : frame.pointee.data.2!
            let stride = Int(plane == 0 ? frame.pointee.linesize.0 : plane == 1 ? frame.pointee.linesize.1 : frame.pointee.linesize.2)
            for y in 0..<h {
                for x in 0..<w {
                    var v = (x * 7 + y * 13 + plane * 50 + seed) % 256
                    if (x / 3 + y / 5) % 2 == 0 { v = 255 - v }
                    base[y * stride + x] = UInt8(v)
                }
            }
        }
        return frame
    }

    /// The same resampling computed directly, in double precision: each output pixel sums its
    /// plane's inputs weighted by the product of a horizontal and a vertical tent.
    static func reference(_ frame: UnsafeMutablePointer<AVFrame>, plan: ScalePlan) -> [UInt8] {
        let format = AVPixelFormat(rawValue: frame.pointee.format)
        let layout = PlanarResampler.layout(of: format)!
        let width = Int(frame.pointee.width), height = Int(frame.pointee.height)
        let siting = PlanarResampler.chromaSiting(frame.pointee.chroma_location, shiftX: layout.shiftX, shiftY: layout.shiftY)
        let sx = Double(plan.cropWidth) / Double(plan.scaledWidth), sy = Double(plan.cropHeight) / Double(plan.scaledHeight)
        var planes: [[Double]] = []
        for plane in 0..<3 {
            let shiftX = plane == 0 ? 0 : layout.shiftX, shiftY = plane == 0 ? 0 : layout.shiftY
            let fx = Double(1 << shiftX), fy = Double(1 << shiftY)
            let ox = plane == 0 ? 0 : siting.x, oy = plane == 0 ? 0 : siting.y
            let pw = (width + (1 << shiftX) - 1) >> shiftX, ph = (height + (1 << shiftY) - 1) >> shiftY
            let x0 = 0, x1 = pw - 1, y0 = 0, y1 = ph - 1  // the picture's edges repeat, not the window's
            let base = plane == 0 ? frame.pointee.data.0! : plane == 1 ? frame.pointee.data.1! : frame.pointee.data.2!
            let stride = Int(plane == 0 ? frame.pointee.linesize.0 : plane == 1 ? frame.pointee.linesize.1 : frame.pointee.linesize.2)
            func weights(center: Double, half: Double, low: Int, high: Int) -> [Int: Double] {
                var byInput: [Int: Double] = [:]
                for i in Int((center - half).rounded(.down)) - 1...Int((center + half).rounded(.up)) + 1 {
                    let w = max(0, 1 - abs(Double(i) - center) / half)
                    if w > 0 { byInput[min(max(i, low), high), default: 0] += w }
                }
                return byInput
            }
            var out = [Double](repeating: 0, count: plan.scaledWidth * plan.scaledHeight)
            for y in 0..<plan.scaledHeight {
                let cy = (Double(plan.cropY) + (Double(y) + 0.5) * sy - 0.5 - oy) / fy
                let wy = weights(center: cy, half: max(1, sy / fy), low: y0, high: y1)
                let ty = wy.values.reduce(0, +)
                for x in 0..<plan.scaledWidth {
                    let cx = (Double(plan.cropX) + (Double(x) + 0.5) * sx - 0.5 - ox) / fx
                    let wx = weights(center: cx, half: max(1, sx / fx), low: x0, high: x1)
                    let tx = wx.values.reduce(0, +)
                    var sum = 0.0
                    for (j, a) in wy { for (i, b) in wx { sum += a * b * Double(base[j * stride + i]) } }
                    out[y * plan.scaledWidth + x] = sum / (tx * ty)
                }
            }
            planes.append(out)
        }
        let m = PlanarResampler.matrix(for: frame, fullRangeByDefault: layout.fullRange).map(Double.init)
        var rgb: [UInt8] = []
        for i in 0..<planes[0].count {
            let l = (planes[0][i] - m[0]) * m[1], cb = planes[1][i] - m[2], cr = planes[2][i] - m[2]
            for value in [l + m[3] * cr, l - m[4] * cb - m[5] * cr, l + m[6] * cb] {
                rgb.append(UInt8(min(max(value, 0), 255).rounded()))
            }
        }
        return rgb
    }

    @Test(arguments: [
        (AV_PIX_FMT_YUV420P, 640, 360, FrameFormat(size: FrameSize(width: 112, height: 112))),
        (AV_PIX_FMT_YUVJ420P, 321, 241, FrameFormat(size: FrameSize(width: 64, height: 48), resize: .crop)),
        (AV_PIX_FMT_YUV422P, 200, 150, FrameFormat(size: FrameSize(width: 37, height: 91), resize: .letterbox)),
        (AV_PIX_FMT_YUV444P, 24, 18, FrameFormat(size: FrameSize(width: 112, height: 112))),
        (AV_PIX_FMT_YUV420P, 1, 1, FrameFormat(size: FrameSize(width: 5, height: 3))),
        (AV_PIX_FMT_YUV420P, 160, 120, FrameFormat(size: FrameSize(80), resize: .crop, shortSide: 120)),
        (AV_PIX_FMT_YUV420P, 16, 4000, FrameFormat(size: FrameSize(width: 112, height: 112), resize: .crop, shortSide: 120)),
    ])
    func kernelsMatchADirectComputation(_ format: AVPixelFormat, _ width: Int, _ height: Int, _ output: FrameFormat) throws {
        for (seed, location) in [(0, AVCHROMA_LOC_UNSPECIFIED), (91, AVCHROMA_LOC_CENTER), (17, AVCHROMA_LOC_TOPLEFT)] {
            var frame: UnsafeMutablePointer<AVFrame>? = Self.makeFrame(width: width, height: height, format: format, seed: seed)
            defer { av_frame_free(&frame) }
            frame!.pointee.chroma_location = location
            frame!.pointee.colorspace = seed == 91 ? AVCOL_SPC_BT709 : AVCOL_SPC_UNSPECIFIED
            let plan = ScalePlan(codedWidth: width, codedHeight: height, transform: .identity, format: output)
            var ours = [UInt8](repeating: 0, count: plan.scaledWidth * plan.scaledHeight * 3)
            let resampler = PlanarResampler()
            #expect(resampler.convert(frame!, plan: plan, into: &ours))
            let expected = Self.reference(frame!, plan: plan)
            let worst = zip(ours, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
            #expect(worst <= 1, "\(width)x\(height) to \(plan.scaledWidth)x\(plan.scaledHeight), chroma \(location.rawValue): off by \(worst)")
            // A second frame of the same geometry reuses the prepared filters.
            var again = [UInt8](repeating: 0, count: ours.count)
            #expect(resampler.convert(frame!, plan: plan, into: &again))
            #expect(again == ours)
        }
    }

    @Test func formatsItDoesNotHandleAreLeftToLibswscale() {
        var frame: UnsafeMutablePointer<AVFrame>? = av_frame_alloc()
        defer { av_frame_free(&frame) }
        frame!.pointee.width = 8
        frame!.pointee.height = 8
        frame!.pointee.format = AV_PIX_FMT_NV12.rawValue
        #expect(av_frame_get_buffer(frame, 0) >= 0)
        let plan = ScalePlan(codedWidth: 8, codedHeight: 8, transform: .identity,
                             format: FrameFormat(size: FrameSize(width: 4, height: 4)))
        var out = [UInt8](repeating: 7, count: 48)
        #expect(!PlanarResampler().convert(frame!, plan: plan, into: &out))
        #expect(out.allSatisfy { $0 == 7 }, "nothing written")
    }

    // MARK: Real files against ffmpeg's own bilinear scaler

    static let ffmpegFiles = [
        "imageio/realshort.mp4", "libwebm/bbb_480p_vp9_opus_1second.webm", "gpac/video_5s.ivf",
        "transcoded/mjpeg_odd_321x241.avi", "qtmultimedia/color_matrix.mp4", "qtmultimedia/h264_yuv444p.mp4",
        "qtmultimedia/h264_yuvj420p.mp4", "lpms/portrait.ts", "transcoded/mpeg2_interlaced_tff_720x576_mp2.ts",
        "qtmultimedia/color_matrix_90_deg_clockwise.mp4",
    ]

    static var hasFFmpeg: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/ffmpeg") }

    @Test(.enabled(if: TestPaths.hasSharedData && hasFFmpeg), arguments: ffmpegFiles, [(112, 112), (48, 200)])
    func picturesMatchFFmpegsBilinearScaler(_ file: String, _ size: (Int, Int)) throws {
        let path = CorpusTests.path(file)
        let frames = 5
        let options = DecodeOptions(sampling: .indices(Array(0..<frames)),
                                    format: FrameFormat(size: FrameSize(width: size.0, height: size.1)), threads: 1)
        let ours = try VideoReader(path: path, options: options).readAll()
        let directory = try TestPaths.temporaryDirectory("resampler")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("frames.rgb")
        // libswscale's exact path (its default one rounds the luma gain: 235 becomes 253), with
        // chroma at full resolution, sited where the file says (libswscale assumes "center").
        let probe = try runVidclass(["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=pix_fmt,chroma_location",
                                     "-of", "default=nw=1:nk=1", path], executable: URL(fileURLWithPath: "/usr/bin/ffprobe"))
        let fields = probe.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let siting = fields.count > 1 ? fields[1] : ""
        let subsampled = fields.first?.contains("420") ?? false  // the 4:4:4 files have no siting to set
        let horizontal = ["center", "top", "bottom"].contains(siting) ? 128 : 0
        let vertical = ["topleft", "top"].contains(siting) ? 0 : ["bottomleft", "bottom"].contains(siting) ? 256 : 128
        let positions = subsampled ? ":in_h_chr_pos=\(horizontal):in_v_chr_pos=\(vertical)" : ""
        let result = try runVidclass(["-v", "error", "-nostdin", "-i", path, "-frames:v", "\(frames)",
                                      "-vf", "scale=\(size.0):\(size.1):flags=bilinear+accurate_rnd+full_chroma_int"
                                        + positions, "-pix_fmt", "rgb24",
                                      "-f", "rawvideo", "-y", output.path],
                                     executable: URL(fileURLWithPath: "/usr/bin/ffmpeg"))
        try #require(result.status == 0, "ffmpeg: \(result.stderr)")
        let theirs = [UInt8](try Data(contentsOf: output))
        let frameBytes = size.0 * size.1 * 3
        try #require(theirs.count >= frameBytes && ours.count >= 1)
        var total = 0, count = 0, large = 0
        var signed = [0, 0, 0]
        for (k, frame) in ours.enumerated() where (k + 1) * frameBytes <= theirs.count {
            #expect(frame.pixels.count == frameBytes)
            for (i, (a, b)) in zip(frame.pixels, theirs[k * frameBytes..<(k + 1) * frameBytes]).enumerated() {
                let d = abs(Int(a) - Int(b))
                signed[i % 3] += Int(a) - Int(b)
                total += d; count += 1
                if d > 12 { large += 1 }
            }
        }
        let bias = signed.map { Double($0) / Double(count / 3) }
        let mean = Double(total) / Double(count)
        // The same filter, so the same pictures up to fixed-point rounding; except where ffmpeg's
        // order differs: it rotates before scaling (so the chroma's siting turns with the picture),
        // and it sites the chroma of odd-sized pictures a little differently.
        let exact = !file.contains("deg_clockwise") && !file.contains("odd")
        #expect(mean < (exact ? 0.05 : 0.5), "\(file) at \(size): mean difference \(mean) levels, mean signed R, G, B \(bias)")
        #expect(Double(large) / Double(count) < 0.01, "\(file) at \(size): \(large) of \(count) values differ by more than 12")
    }
}

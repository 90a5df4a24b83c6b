/// One decoded frame: packed RGB24 pixels with the frame's place in the video.
///
/// `index` counts frames in presentation order from 0, exactly as the `ffmpeg` command line
/// numbers its output frames (`-vsync passthrough`); `time` is the presentation time in
/// seconds from the start of the file.
public struct VideoFrame: Sendable, Hashable {
    /// Frame number in presentation order, from 0.
    public var index: Int
    /// Presentation time in seconds, from the start of the file.
    public var time: Double
    /// Presentation timestamp in the stream's time base (what `ffmpeg -f framemd5` prints).
    public var timestamp: Int64
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// Packed RGB24: `height` rows of `width * 3` bytes, top row first.
    public var pixels: [UInt8]
    /// Whether the decoder flagged the frame as damaged (error concealment was applied).
    public var isCorrupt: Bool
    /// Whether the frame is a keyframe.
    public var isKeyframe: Bool

    /// A frame from RGB24 bytes of any source; `pixels.count` must be `width * height * 3` (a precondition).
    public init(index: Int, time: Double, timestamp: Int64, width: Int, height: Int, pixels: [UInt8],
                isCorrupt: Bool = false, isKeyframe: Bool = false) {
        precondition(pixels.count == width * height * 3, "RGB24 needs width*height*3 bytes")
        self.index = index
        self.time = time
        self.timestamp = timestamp
        self.width = width
        self.height = height
        self.pixels = pixels
        self.isCorrupt = isCorrupt
        self.isKeyframe = isKeyframe
    }

    /// Writes the frame as planar (CHW) floats, `(pixel / 255 - mean[c]) / std[c]`, straight into
    /// `destination` (which must hold `3 * width * height` floats), with no intermediate copy.
    public func writePlanar(into destination: UnsafeMutableBufferPointer<Float>,
                            mean: [Float] = [0, 0, 0], std: [Float] = [1, 1, 1]) {
        let planeSize = width * height
        precondition(destination.count >= 3 * planeSize, "destination holds fewer than 3*width*height floats")
        precondition(mean.count == 3 && std.count == 3, "mean and std need one value per channel")
        let scale = (0..<3).map { 1 / (255 * std[$0]) }
        let shift = (0..<3).map { -mean[$0] / std[$0] }
        pixels.withUnsafeBufferPointer { src in
            for c in 0..<3 {
                let s = scale[c], b = shift[c]
                let plane = destination.baseAddress! + c * planeSize
                for i in 0..<planeSize {
                    plane[i] = Float(src[i * 3 + c]) * s + b
                }
            }
        }
    }

    /// The frame as planar (CHW) normalized floats; see ``writePlanar(into:mean:std:)``.
    public func planar(mean: [Float] = [0, 0, 0], std: [Float] = [1, 1, 1]) -> [Float] {
        var out = [Float](repeating: 0, count: 3 * width * height)
        out.withUnsafeMutableBufferPointer { writePlanar(into: $0, mean: mean, std: std) }
        return out
    }

    /// The MD5 of the pixel bytes, as lowercase hex: what `ffmpeg -f framemd5 -pix_fmt rgb24` prints.
    public var md5: String { MD5.hex(of: pixels) }

    /// The mean absolute difference of two frames' bytes (0 when either is empty): for tests, the
    /// same picture through two lossy encodings is a few levels apart, another picture tens.
    package func meanAbsoluteDifference(from other: VideoFrame) -> Double {
        let count = min(pixels.count, other.pixels.count)
        guard count > 0 else { return 0 }
        // A plain loop over the buffers: the tests that call this run unoptimized, where a
        // generic zip and reduce over frames of 100,000 bytes cost seconds.
        let total = pixels.withUnsafeBufferPointer { a in
            other.pixels.withUnsafeBufferPointer { b in
                var sum = 0
                for i in 0..<count { sum &+= abs(Int(a[i]) &- Int(b[i])) }
                return sum
            }
        }
        return Double(total) / Double(count)
    }
}

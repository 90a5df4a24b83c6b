/// The display transform a stream's display matrix asks for, as the `ffmpeg` command line
/// (5.1, `-autorotate`, the default) applies it: a transpose or flips.
enum DisplayTransform: Equatable, Sendable {
    case identity
    /// `transpose=clock`: 90° clockwise.
    case clockwise
    /// `transpose=cclock`: 90° counter-clockwise.
    case counterClockwise
    /// `transpose=clock_flip`: 90° clockwise, then a vertical flip.
    case clockwiseFlip
    /// `transpose=cclock_flip`: 90° counter-clockwise, then a vertical flip (a plain transpose).
    case counterClockwiseFlip
    /// `hflip` and/or `vflip`.
    case flip(horizontal: Bool, vertical: Bool)

    /// Whether width and height swap.
    var transposes: Bool {
        switch self {
        case .clockwise, .counterClockwise, .clockwiseFlip, .counterClockwiseFlip: return true
        case .identity, .flip: return false
        }
    }

    /// Chooses the transform exactly as `fftools/ffmpeg_filter.c` (5.1) does from the matrix.
    init(displayMatrix m: UnsafePointer<Int32>?, rotation theta: Double) {
        guard let m else {
            self = .identity
            return
        }
        if abs(theta - 90) < 1 {
            self = m[3] > 0 ? .counterClockwiseFlip : .clockwise
        } else if abs(theta - 180) < 1 {
            self = .flip(horizontal: m[0] < 0, vertical: m[4] < 0)
        } else if abs(theta - 270) < 1 {
            self = m[3] < 0 ? .clockwiseFlip : .counterClockwise
        } else if abs(theta) < 1 {
            self = m[4] < 0 ? .flip(horizontal: false, vertical: true) : .identity
        } else {
            self = .identity  // arbitrary angles: ffmpeg uses the rotate filter; we keep the coded picture
        }
        if case .flip(false, false) = self { self = .identity }
    }

    /// Applies the transform to a packed RGB24 image.
    func apply(to pixels: [UInt8], width: Int, height: Int) -> [UInt8] {
        if self == .identity { return pixels }
        let outWidth = transposes ? height : width
        let outHeight = transposes ? width : height
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for r in 0..<outHeight {
                    for c in 0..<outWidth {
                        // (sr, sc): the source row and column of output pixel (r, c); see vf_transpose.
                        let sr: Int, sc: Int
                        switch self {
                        case .counterClockwiseFlip: sr = c; sc = r
                        case .clockwise: sr = height - 1 - c; sc = r
                        case .counterClockwise: sr = c; sc = width - 1 - r
                        case .clockwiseFlip: sr = height - 1 - c; sc = width - 1 - r
                        case .flip(let h, let v): sr = v ? height - 1 - r : r; sc = h ? width - 1 - c : c
                        case .identity: sr = r; sc = c
                        }
                        let s = (sr * width + sc) * 3, d = (r * outWidth + c) * 3
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return out
    }
}

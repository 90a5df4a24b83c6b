/// A frame size in pixels.
public struct FrameSize: Hashable, Sendable, Codable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// A square size.
    public init(_ side: Int) { self.init(width: side, height: side) }

    public var description: String { "\(width)x\(height)" }
}

/// How a frame is fitted to a requested output size. All of them run inside libswscale, straight
/// from the decoded picture to the target size; nothing is scaled twice.
public enum ResizeMode: String, Sendable, CaseIterable, Codable {
    /// Scale each axis independently to the target size (aspect ratio not kept).
    case stretch
    /// Scale the short side to `shortSide` (default: the target's larger side), then cut the
    /// centered target-size window. The classic "resize + center crop" of image models.
    case crop
    /// Scale to fit inside the target keeping the aspect ratio, pad the rest with black.
    case letterbox
}

/// Scaling filters of libswscale.
public enum Interpolation: String, Sendable, CaseIterable, Codable {
    case nearest, bilinear, bicubic, area
}

/// What the frames a reader returns look like: size, fitting and filter.
///
/// The default is the frame's own display size (after rotation), converted to RGB the way the
/// `ffmpeg` command line does, so hashes match `ffmpeg -f framemd5 -pix_fmt rgb24`.
public struct FrameFormat: Sendable, Hashable, Codable {
    /// The output size; `nil` keeps the display size.
    public var size: FrameSize?
    /// How the frame is fitted to ``size``.
    public var resize: ResizeMode
    /// For ``ResizeMode/crop``: the short side is scaled to this before the center crop.
    public var shortSide: Int?
    /// The scaling filter. Ignored at native size (which uses `ffmpeg`'s own default, bicubic).
    public var interpolation: Interpolation

    public init(size: FrameSize? = nil, resize: ResizeMode = .stretch, shortSide: Int? = nil,
                interpolation: Interpolation = .bilinear) {
        self.size = size
        self.resize = resize
        self.shortSide = shortSide
        self.interpolation = interpolation
    }

    /// The display-size format.
    public static let native = FrameFormat()
}

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

/// Where the scaler reads from and writes to, for one source size and one requested format.
struct ScalePlan: Equatable {
    /// The source window, in coded (pre-rotation) coordinates.
    var cropX = 0, cropY = 0, cropWidth: Int, cropHeight: Int
    /// The scaled picture's size in coded orientation.
    var scaledWidth: Int, scaledHeight: Int
    /// The output canvas (display orientation) and where the rotated picture goes on it.
    var outputWidth: Int, outputHeight: Int
    var offsetX = 0, offsetY = 0

    init(codedWidth: Int, codedHeight: Int, transform: DisplayTransform, format: FrameFormat) {
        let t = transform.transposes
        let displayWidth = t ? codedHeight : codedWidth
        let displayHeight = t ? codedWidth : codedHeight
        var cropW = displayWidth, cropH = displayHeight
        var scaledW = displayWidth, scaledH = displayHeight
        var outW = displayWidth, outH = displayHeight
        var offX = 0, offY = 0
        if let size = format.size {
            outW = size.width
            outH = size.height
            switch format.resize {
            case .stretch:
                scaledW = outW; scaledH = outH
            case .crop:
                let shortSide = Double(format.shortSide ?? max(outW, outH))
                let factor = max(shortSide / Double(min(displayWidth, displayHeight)),
                                 Double(outW) / Double(displayWidth), Double(outH) / Double(displayHeight))
                cropW = min(displayWidth, max(1, Int((Double(outW) / factor).rounded())))
                cropH = min(displayHeight, max(1, Int((Double(outH) / factor).rounded())))
                scaledW = outW; scaledH = outH
            case .letterbox:
                let factor = min(Double(outW) / Double(displayWidth), Double(outH) / Double(displayHeight))
                scaledW = min(outW, max(1, Int((Double(displayWidth) * factor).rounded())))
                scaledH = min(outH, max(1, Int((Double(displayHeight) * factor).rounded())))
                offX = (outW - scaledW) / 2
                offY = (outH - scaledH) / 2
            }
        }
        // Centered windows are symmetric, so flips leave them unchanged; transposes swap the axes.
        let cropX = (displayWidth - cropW) / 2, cropY = (displayHeight - cropH) / 2
        self.cropX = t ? cropY : cropX
        self.cropY = t ? cropX : cropY
        self.cropWidth = t ? cropH : cropW
        self.cropHeight = t ? cropW : cropH
        self.scaledWidth = t ? scaledH : scaledW
        self.scaledHeight = t ? scaledW : scaledH
        self.outputWidth = outW
        self.outputHeight = outH
        self.offsetX = offX
        self.offsetY = offY
    }
}

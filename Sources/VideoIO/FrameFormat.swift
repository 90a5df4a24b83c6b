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

    /// A format; the default is the display size. With a `size` and ``ResizeMode/crop``, `shortSide`
    /// (default: the larger of the size's sides) is what the short side is scaled to before the crop.
    public init(size: FrameSize? = nil, resize: ResizeMode = .stretch, shortSide: Int? = nil,
                interpolation: Interpolation = .bilinear) {
        self.size = size
        self.resize = resize
        self.shortSide = shortSide
        self.interpolation = interpolation
    }

    /// The display-size format.
    public static let native = FrameFormat()

    /// Which revision of the resizing and colour conversion produces frames; it changes when
    /// frames of the same format come out different (2: bilinear resizing of planar YUV by
    /// vidclass's own kernels, exact in luma gain where libswscale's fast path was about 1 % low).
    /// Stores of decoded frames put it in their keys.
    public static let conversionRevision = 2
}

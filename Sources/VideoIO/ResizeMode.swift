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

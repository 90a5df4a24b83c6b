/// Scaling filters of libswscale.
public enum Interpolation: String, Sendable, CaseIterable, Codable {
    case nearest, bilinear, bicubic, area
}

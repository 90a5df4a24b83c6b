/// Scaling filters of libswscale.
public enum Interpolation: String, Sendable, CaseIterable, Codable {
    /// libswscale's `SWS_POINT` (nearest neighbour), `SWS_BILINEAR`, `SWS_BICUBIC` and `SWS_AREA`
    /// (area averaging, suited to strong downscaling).
    case nearest, bilinear, bicubic, area
}

/// Scaling filters, as libswscale defines them.
public enum Interpolation: String, Sendable, CaseIterable, Codable {
    /// libswscale's `SWS_POINT` (nearest neighbour), `SWS_BILINEAR`, `SWS_BICUBIC` and `SWS_AREA`
    /// (area averaging, suited to strong downscaling). `bilinear`, the default, is a tent widened
    /// to the scale factor when shrinking; for 8-bit planar YUV (4:2:0, 4:2:2, 4:4:4) vidclass
    /// computes it with its own vectorized kernels, with the chroma at full resolution and sited
    /// where the stream says, matching libswscale's exact path (`accurate_rnd+full_chroma_int`).
    case nearest, bilinear, bicubic, area
}

import Tensors

/// Global average pooling: `[N, C, H, W] → [N, C]` (or `[N, C, 1, 1]` with `keepSpatial`), as
/// PyTorch's `nn.AdaptiveAvgPool2d(1)` (followed by a flatten unless `keepSpatial`).
public final class GlobalAveragePool: Layer {
    /// Whether the output keeps `1 × 1` spatial dimensions (`[N, C, 1, 1]`) instead of `[N, C]`.
    public let keepSpatial: Bool
    private var inputShape: [Int] = []

    /// A pooling layer; `keepSpatial` keeps the `1 × 1` dimensions, as `nn.AdaptiveAvgPool2d(1)` alone.
    public init(keepSpatial: Bool = false) { self.keepSpatial = keepSpatial }

    /// `[N, C, H, W]` → `[N, C]` (or `[N, C, 1, 1]`), each the mean of a channel's plane.
    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        precondition(input.rank == 4, "GlobalAveragePool expects [N, C, H, W], got \(input.shape)")
        inputShape = input.shape
        let n = input.shape[0], c = input.shape[1], hw = input.shape[2] * input.shape[3]
        var output = Tensor(uninitializedShape: keepSpatial ? [n, c, 1, 1] : [n, c])
        let inv = 1 / Float(hw)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                for plane in 0..<(n * c) {
                    var acc: Float = 0
                    let src = x.baseAddress! + plane * hw
                    for j in 0..<hw { acc += src[j] }
                    y[plane] = acc * inv
                }
            }
        }
        return output
    }

    /// Spreads each channel's gradient evenly over its `H × W` plane.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        let hw = inputShape[2] * inputShape[3], planes = inputShape[0] * inputShape[1]
        let inv = 1 / Float(hw)
        var dx = Tensor(uninitializedShape: inputShape)
        outputGradient.withUnsafeBufferPointer { dy in
            dx.withUnsafeMutableBufferPointer { d in
                for plane in 0..<planes {
                    (d.baseAddress! + plane * hw).update(repeating: dy[plane] * inv, count: hw)
                }
            }
        }
        return dx
    }
}

import Tensors

/// Average pooling over NCHW input, as PyTorch's `nn.AvgPool2d` (zero padding counted in the
/// divisor, `count_include_pad=True`, floor mode).
public final class AvgPool2d: Layer {
    /// Square window side, step between windows and zero padding per side, in pixels.
    public let kernelSize: Int, stride: Int, padding: Int
    private var inputShape: [Int] = []

    /// A pooling layer; `stride` defaults to `kernelSize` (non-overlapping windows), as in PyTorch.
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    private func geometry(_ shape: [Int]) -> WindowGeometry {
        WindowGeometry(channels: shape[1], height: shape[2], width: shape[3], kernel: (kernelSize, kernelSize),
                       stride: (stride, stride), padding: (padding, padding))
    }

    /// `[N, C, H, W]` → `[N, C, Ho, Wo]`, each output the mean of its window.
    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        precondition(input.rank == 4, "AvgPool2d expects [N, C, H, W], got \(input.shape)")
        let g = geometry(input.shape)
        let n = input.shape[0], c = input.shape[1], h = g.height, w = g.width, oh = g.outputHeight, ow = g.outputWidth
        inputShape = input.shape
        var output = Tensor(uninitializedShape: [n, c, oh, ow])
        let k = kernelSize, s = stride, p = padding, inv = 1 / Float(k * k)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                for plane in 0..<(n * c) {
                    let src = x.baseAddress! + plane * h * w
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            var acc: Float = 0
                            for iy in max(oy * s - p, 0)..<min(oy * s - p + k, h) {
                                for ix in max(ox * s - p, 0)..<min(ox * s - p + k, w) { acc += src[iy * w + ix] }
                            }
                            y[(plane * oh + oy) * ow + ox] = acc * inv
                        }
                    }
                }
            }
        }
        return output
    }

    /// Spreads each output's gradient evenly over its window; returns `[N, C, H, W]`.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        let g = geometry(inputShape)
        let planes = inputShape[0] * inputShape[1], h = g.height, w = g.width, oh = g.outputHeight, ow = g.outputWidth
        let k = kernelSize, s = stride, p = padding, inv = 1 / Float(k * k)
        var dx = Tensor(shape: inputShape)
        outputGradient.withUnsafeBufferPointer { dy in
            dx.withUnsafeMutableBufferPointer { d in
                for plane in 0..<planes {
                    let dst = d.baseAddress! + plane * h * w
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            let v = dy[(plane * oh + oy) * ow + ox] * inv
                            for iy in max(oy * s - p, 0)..<min(oy * s - p + k, h) {
                                for ix in max(ox * s - p, 0)..<min(ox * s - p + k, w) { dst[iy * w + ix] += v }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}

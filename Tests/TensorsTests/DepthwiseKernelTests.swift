import CKernels
import Testing
@testable import Tensors

/// The channels-last depthwise kernel (`vc_depthwise_nhwc`) against a direct sum in Float64: the
/// blocked paths (3×3 and 5×5, stride 1 and 2, channel counts a multiple of 8 with and without a
/// last half vector), the general path (other channel counts, other kernels), rows narrower than a
/// block of pixels, blocks reaching into the padding on both sides, and strips of rows (input held
/// from a later row on, output written from a later row on, nothing written past the strip), and
/// the activations applied as the sums are stored.
@Suite struct DepthwiseKernelTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        var c: Int, h: Int, w: Int, kernel: Int, stride: Int, rows: Range<Int>? = nil, activation: Int32 = 3
        var testDescription: String {
            "\(h)×\(w)×\(c) \(kernel)×\(kernel)/\(stride) rows \(rows.map { "\($0)" } ?? "all") act \(activation)"
        }
    }

    @Test(arguments: [
        Shape(c: 16, h: 14, w: 14, kernel: 5, stride: 1),
        Shape(c: 24, h: 7, w: 7, kernel: 5, stride: 1, activation: 5),
        Shape(c: 72, h: 29, w: 27, kernel: 3, stride: 2, activation: 2),
        Shape(c: 40, h: 9, w: 23, kernel: 5, stride: 2, rows: 2..<4),
        Shape(c: 8, h: 5, w: 3, kernel: 3, stride: 1, activation: 6),
        Shape(c: 8, h: 1, w: 1, kernel: 3, stride: 1),
        Shape(c: 32, h: 6, w: 2, kernel: 5, stride: 2),
        Shape(c: 48, h: 17, w: 33, kernel: 3, stride: 1, rows: 5..<11),
        Shape(c: 3, h: 8, w: 10, kernel: 3, stride: 1),
        Shape(c: 20, h: 11, w: 13, kernel: 5, stride: 2, rows: 1..<5, activation: 5),
        Shape(c: 16, h: 12, w: 12, kernel: 7, stride: 1),
    ])
    func depthwiseMatchesDirectSum(_ shape: Shape) {
        let (c, h, w, kernel, stride) = (shape.c, shape.h, shape.w, shape.kernel, shape.stride)
        let pad = kernel / 2
        let (oh, ow) = ((h + 2 * pad - kernel) / stride + 1, (w + 2 * pad - kernel) / stride + 1)
        let rows = shape.rows ?? 0..<oh
        var rng = SplitMix64(seed: UInt64(c * 7919 + h * 101 + w * 13 + kernel * 3 + stride))
        let x = Tensor.normal(shape: [h * w * c], using: &rng).scalars
        let weights = Tensor.normal(shape: [kernel * kernel * c], using: &rng).scalars
        let bias = Tensor.normal(shape: [c], using: &rng).scalars
        // The input rows the strip reads, from `first` on (as a fused block holds them).
        let first = max(0, rows.lowerBound * stride - pad), last = min(h, (rows.upperBound - 1) * stride - pad + kernel)
        let strip = Array(x[(first * w * c)..<(last * w * c)])
        let sentinel: Float = 12345
        var y = [Float](repeating: sentinel, count: (rows.count + 1) * ow * c)
        strip.withUnsafeBufferPointer { xp in
            vc_depthwise_nhwc(xp.baseAddress!, Int32(first), Int32(h), Int32(w), Int32(c), weights, Int32(kernel),
                              Int32(kernel), Int32(stride), Int32(pad), Int32(pad), bias, &y, Int32(rows.lowerBound),
                              Int32(ow), Int32(rows.lowerBound), Int32(rows.upperBound), shape.activation)
        }
        var worst = 0.0
        for oy in rows {
            for ox in 0..<ow {
                for ch in 0..<c {
                    var sum = Double(bias[ch])
                    for ky in 0..<kernel {
                        for kx in 0..<kernel {
                            let (iy, ix) = (oy * stride - pad + ky, ox * stride - pad + kx)
                            guard (0..<h).contains(iy), (0..<w).contains(ix) else { continue }
                            sum += Double(weights[(ky * kernel + kx) * c + ch]) * Double(x[(iy * w + ix) * c + ch])
                        }
                    }
                    let expected = PointwiseKernelTests.activate(sum, shape.activation)
                    let got = Double(y[((oy - rows.lowerBound) * ow + ox) * c + ch])
                    worst = max(worst, abs(got - expected) / max(1, abs(expected)))
                }
            }
        }
        #expect(worst < 1e-5, "\(shape.testDescription), \(VectorInstructions.current): largest relative error \(worst)")
        #expect(y[(rows.count * ow * c)...].allSatisfy { $0 == sentinel }, "written past the strip's rows")
    }
}

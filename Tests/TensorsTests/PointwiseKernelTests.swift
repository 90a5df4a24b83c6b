import CKernels
import Foundation
import Testing
@testable import Tensors

/// The channels-last 1×1 convolution (`vc_pointwise_nhwc`) and the stem convolution built on it
/// (`vc_stem_nhwc`) against direct sums in Float64: rows in tiles and in the last smaller tiles,
/// panels of 16 columns and a last panel of at most 8 (or of a few), the short dense rows whose
/// length the tiles take as a constant (16 to 48) and the same lengths with wider rows, blocks of
/// k, a residual, the activations, and nothing written past n. Each also in bfloat16 (the weights
/// packed by `vc_bf16_pack`): against the direct sum of the inputs and weights rounded to bf16,
/// whose products fp32 holds exactly, so the same tolerance applies. On AVX-512 the rows come in
/// tiles of 12 by 32 columns (two panels) over blocks of k and blocks of panels, the last rows
/// (fewer than 12) through the narrower tiles.
@Suite struct PointwiseKernelTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        var m: Int, n: Int, k: Int, lda: Int? = nil, residual = false, activation: Int32 = 0
        var testDescription: String {
            "\(m)×\(k)\(lda.map { " (lda \($0))" } ?? "") · \(k)×\(n)\(residual ? " + residual" : "") act \(activation)"
        }
    }

    @Test(arguments: [
        Shape(m: 3136, n: 72, k: 16, activation: 1),
        Shape(m: 29, n: 24, k: 16, lda: 19),
        Shape(m: 25, n: 144, k: 24, activation: 2),
        Shape(m: 13, n: 40, k: 32, residual: true),
        Shape(m: 7, n: 88, k: 40, activation: 3),
        Shape(m: 31, n: 120, k: 48, residual: true, activation: 5),
        Shape(m: 1, n: 8, k: 24),
        Shape(m: 3, n: 5, k: 16, activation: 4),
        Shape(m: 12, n: 13, k: 40, lda: 41, activation: 6),
        Shape(m: 50, n: 24, k: 144, residual: true),
        Shape(m: 19, n: 40, k: 600, activation: 3),
        Shape(m: 37, n: 16, k: 9),
        Shape(m: 26, n: 33, k: 1100, lda: 1101, residual: true, activation: 1),
        // More weights than one block of panels holds (two blocks, the second's panel count odd),
        // with a residual and a last panel of a few columns.
        Shape(m: 40, n: 1000, k: 300, residual: true, activation: 1),
        Shape(m: 36, n: 520, k: 520, lda: 530, activation: 2),
    ], [false, true])
    func pointwiseMatchesDirectSum(_ shape: Shape, bf16: Bool) {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let (lda, ldc) = (shape.lda ?? k, n + 3)
        var rng = SplitMix64(seed: UInt64(m * 7919 + n * 101 + k * 13 + lda))
        var a = Tensor.normal(shape: [m * lda], using: &rng).scalars
        var w = Tensor.normal(shape: [n * k], using: &rng).scalars
        let bias = Tensor.normal(shape: [n], using: &rng).scalars
        let residual = shape.residual ? Tensor.normal(shape: [m * n], using: &rng).scalars : nil
        var packed = [Float](repeating: 0, count: vc_pointwise_packed_count(Int32(n), Int32(k)))
        vc_pointwise_pack(Int32(n), Int32(k), w, &packed)
        let rounded = bf16 ? Self.bfloat16(packed, n: n, k: k) : nil
        let sentinel: Float = 12345
        var c = [Float](repeating: sentinel, count: m * ldc)
        withOptionalPointer(residual) { r in
            withOptionalPointer(rounded) { wb in
                vc_pointwise_nhwc(Int32(m), Int32(n), Int32(k), a, Int32(lda), packed, wb, bias, r, Int32(n), shape.activation,
                                  &c, Int32(ldc))
            }
        }
        if bf16 {
            // What the kernel multiplies: both operands rounded to bf16.
            a = a.map(vc_bf16_round)
            w = w.map(vc_bf16_round)
        }
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<ldc {
                guard j < n else {
                    #expect(c[i * ldc + j] == sentinel, "row \(i): column \(j) past n was written")
                    continue
                }
                var sum = Double(bias[j]) + (residual.map { Double($0[i * n + j]) } ?? 0)
                for p in 0..<k { sum += Double(a[i * lda + p]) * Double(w[j * k + p]) }
                let expected = Self.activate(sum, shape.activation)
                worst = max(worst, abs(Double(c[i * ldc + j]) - expected) / max(1, abs(expected)))
            }
        }
        // Float32 sums of k products: the rounding grows with the square root of k.
        let tolerance = 1e-5 * max(1, (Double(k) / 64).squareRoot())
        #expect(worst < tolerance, "\(shape.testDescription)\(bf16 ? " bf16" : ""), \(VectorInstructions.current): largest relative error \(worst)")
    }

    /// Weights packed by `vc_pointwise_pack` in their bf16 form (`vc_bf16_pack`).
    static func bfloat16(_ packed: [Float], n: Int, k: Int, segments: Int = 1) -> [UInt16] {
        var rounded = [UInt16](repeating: 0xffff, count: vc_bf16_packed_count(Int32(n), Int32(k), Int32(segments)))
        vc_bf16_pack(Int32(n), Int32(k), Int32(segments), packed, &rounded)
        return rounded
    }

    /// Rounding to bfloat16: to nearest, ties to even, infinities and NaN kept, values past the
    /// largest bf16 to infinity.
    @Test func bfloat16Rounding() {
        #expect(vc_bf16_round(1) == 1)
        #expect(vc_bf16_round(1 + 1.0 / 256) == 1)                 // a tie: to the even (1)
        #expect(vc_bf16_round(1 + 3.0 / 256) == 1 + 4.0 / 256)     // a tie: to the even (1 + 2⁻⁶)
        #expect(vc_bf16_round(1 + 1.0 / 256 + 1.0 / 65536) == 1 + 1.0 / 128)
        #expect(vc_bf16_round(-3.14159) == -3.140625)
        #expect(vc_bf16_round(.infinity) == .infinity)
        #expect(vc_bf16_round(Float.greatestFiniteMagnitude) == .infinity)
        #expect(vc_bf16_round(.nan).isNaN)
        #expect(vc_bf16_round(1e-40) > 0)                          // subnormals are rounded, not flushed
        var rng = SplitMix64(seed: 5)
        for x in Tensor.normal(shape: [1000], using: &rng).scalars {
            let r = vc_bf16_round(x)
            #expect(r.bitPattern & 0xffff == 0 && abs(r - x) <= abs(x) / 256, "\(x) → \(r)")
        }
    }

    /// The first layer of the inverted-residual encoders (3×3 at stride 2 on an RGB frame, the
    /// shape the kernel takes as constants) and other stems, against a direct convolution with
    /// zero padding, over strips of output rows.
    @Test(arguments: [(3, 224, 224, 3, 2, 16), (3, 75, 61, 3, 2, 32), (3, 20, 9, 3, 1, 24), (2, 17, 23, 5, 2, 8),
                      (3, 60, 57, 7, 2, 64), (8, 30, 31, 7, 2, 40)], [false, true])
    func stemMatchesDirectConvolution(_ geometry: (Int, Int, Int, Int, Int, Int), bf16: Bool) {
        let (c, h, w, kernel, stride, n) = geometry
        let pad = kernel / 2
        let (oh, ow) = ((h + 2 * pad - kernel) / stride + 1, (w + 2 * pad - kernel) / stride + 1)
        var rng = SplitMix64(seed: UInt64(c * 1000 + h * 10 + w + kernel + stride + n))
        var x = Tensor.normal(shape: [c * h * w], using: &rng).scalars
        var weights = Tensor.normal(shape: [n * kernel * kernel * c], using: &rng).scalars  // [n][ky][kx][c]
        let bias = Tensor.normal(shape: [n], using: &rng).scalars
        var packed = [Float](repeating: 0, count: vc_pointwise_packed_count(Int32(n), Int32(kernel * kernel * c)))
        vc_pointwise_pack(Int32(n), Int32(kernel * kernel * c), weights, &packed)
        // In bf16 the window's kh rows are the segments, each kw · c values.
        let rounded = bf16 ? Self.bfloat16(packed, n: n, k: kernel * c, segments: kernel) : nil
        var y = [Float](repeating: 0, count: oh * ow * n)
        let strip = 5
        var scratch = [Float](repeating: 0, count: vc_stem_scratch_count(Int32(c), Int32(w), Int32(kernel), Int32(stride),
                                                                         Int32(pad), 0, Int32(strip)))
        let hardSwish: Int32 = 3
        for start in Swift.stride(from: 0, to: oh, by: strip) {
            let end = min(oh, start + strip)
            y.withUnsafeMutableBufferPointer { yp in
                withOptionalPointer(rounded) { wb in
                    vc_stem_nhwc(x, Int32(c), Int32(h), Int32(w), Int32(kernel), Int32(kernel), Int32(stride), Int32(pad),
                                 Int32(pad), packed, wb, bias, hardSwish, Int32(n), yp.baseAddress! + start * ow * n, Int32(ow),
                                 Int32(start), Int32(end), &scratch)
                }
            }
        }
        if bf16 {
            x = x.map(vc_bf16_round)
            weights = weights.map(vc_bf16_round)
        }
        var worst = 0.0
        for oy in 0..<oh {
            for ox in 0..<ow {
                for j in 0..<n {
                    var sum = Double(bias[j])
                    for ky in 0..<kernel {
                        for kx in 0..<kernel {
                            let (iy, ix) = (oy * stride - pad + ky, ox * stride - pad + kx)
                            guard (0..<h).contains(iy), (0..<w).contains(ix) else { continue }
                            for ch in 0..<c {
                                sum += Double(weights[((j * kernel + ky) * kernel + kx) * c + ch]) * Double(x[(ch * h + iy) * w + ix])
                            }
                        }
                    }
                    let expected = Self.activate(sum, hardSwish)
                    worst = max(worst, abs(Double(y[(oy * ow + ox) * n + j]) - expected) / max(1, abs(expected)))
                }
            }
        }
        // As above: the rounding of the sums grows with the square root of a window's length.
        let tolerance = 1e-5 * max(1, (Double(kernel * kernel * c) / 64).squareRoot())
        #expect(worst < tolerance, "stem \(geometry)\(bf16 ? " bf16" : ""), \(VectorInstructions.current): largest relative error \(worst)")
    }

    /// The kernels' activation codes (vc_activate), in Float64.
    static func activate(_ v: Double, _ code: Int32) -> Double {
        switch code {
        case 1: max(v, 0)
        case 2: min(max(v, 0), 6)
        case 3: v * min(max(v + 3, 0), 6) / 6
        case 4: min(max(v + 3, 0), 6) / 6
        case 5: v / (1 + exp(-v))
        case 6: 1 / (1 + exp(-v))
        default: v
        }
    }
}

private func withOptionalPointer<Element>(_ values: [Element]?, _ body: (UnsafePointer<Element>?) -> Void) {
    guard let values else { return body(nil) }
    values.withUnsafeBufferPointer { body($0.baseAddress!) }
}

import CKernels
import Testing
@testable import Tensors

/// The channels-last channel means (`vc_channel_means_nhwc`: eight 16-channel vectors summed in
/// registers, the last vectors several pixels at a time, an 8-channel and a one-channel tail) and
/// squeeze-and-excitation (`vc_squeeze_excite_nhwc`: means, two small layers on up to eight frames
/// at once, the gate) against direct sums in Float64.
@Suite struct SqueezeExciteKernelTests {
    @Test(arguments: [3, 8, 16, 24, 40, 48, 72, 80, 96, 120, 136, 200, 576], [1, 3, 5, 49, 196])
    func channelMeansMatchDirectSums(channels c: Int, pixels: Int) {
        var rng = SplitMix64(seed: UInt64(c * 131 + pixels))
        let x = Tensor.normal(shape: [pixels * c], using: &rng).scalars
        let sentinel: Float = 12345
        var means = [Float](repeating: sentinel, count: c + 16)
        vc_channel_means_nhwc(x, Int32(pixels), Int32(c), &means)
        for ch in 0..<c {
            let expected = (0..<pixels).reduce(0.0) { $0 + Double(x[$1 * c + ch]) } / Double(pixels)
            #expect(abs(Double(means[ch]) - expected) <= 1e-5 * (1 + abs(expected)), "channel \(ch)")
        }
        #expect(means[c...].allSatisfy { $0 == sentinel }, "nothing written past the channels")
    }

    /// Frames × pixels × channels → squeezed: up to and past the eight frames the kernel takes
    /// together, channel counts with and without tails.
    @Test(arguments: [(1, 49, 16, 8), (3, 196, 72, 24), (9, 5, 40, 16), (11, 49, 120, 32)])
    func squeezeExciteMatchesDirectComputation(_ shape: (images: Int, pixels: Int, c: Int, s: Int)) {
        let (images, pixels, c, s) = shape
        var rng = SplitMix64(seed: UInt64(images * 1000 + pixels * 10 + c))
        let x = Tensor.normal(shape: [images * pixels * c], using: &rng).scalars
        let w1 = Tensor.normal(shape: [s * c], std: 0.3, using: &rng).scalars
        let b1 = Tensor.normal(shape: [s], using: &rng).scalars
        let w2 = Tensor.normal(shape: [c * s], std: 0.3, using: &rng).scalars
        let b2 = Tensor.normal(shape: [c], using: &rng).scalars
        func packed(_ n: Int, _ k: Int, _ w: [Float]) -> [Float] {
            var p = [Float](repeating: 0, count: vc_pointwise_packed_count(Int32(n), Int32(k)))
            vc_pointwise_pack(Int32(n), Int32(k), w, &p)
            return p
        }
        let (p1, p2) = (packed(s, c, w1), packed(c, s, w2))
        var scratch = [Float](repeating: 0, count: vc_squeeze_excite_scratch_count(Int32(images), Int32(c), Int32(s)))
        var y = [Float](repeating: 0, count: x.count)
        let (relu, hardSigmoid): (Int32, Int32) = (1, 4)
        vc_squeeze_excite_nhwc(x, &y, Int32(images), Int32(pixels), Int32(c), p1, b1, Int32(s), p2, b2, relu, hardSigmoid,
                               &scratch)
        var worst = 0.0
        for image in 0..<images {
            let frame = image * pixels * c
            let means = (0..<c).map { ch in (0..<pixels).reduce(0.0) { $0 + Double(x[frame + $1 * c + ch]) } / Double(pixels) }
            let hidden = (0..<s).map { j in
                max(0, (0..<c).reduce(Double(b1[j])) { $0 + Double(w1[j * c + $1]) * means[$1] })
            }
            for ch in 0..<c {
                let pre = (0..<s).reduce(Double(b2[ch])) { $0 + Double(w2[ch * s + $1]) * hidden[$1] }
                let gate = min(max(pre + 3, 0), 6) / 6
                for p in 0..<pixels {
                    let i = frame + p * c + ch
                    worst = max(worst, abs(Double(y[i]) - Double(x[i]) * gate))
                }
            }
        }
        #expect(worst <= 1e-5, "largest difference \(worst)")

        // The gates alone, taken by the 1×1 convolution after them into its weights: the same as
        // that convolution of the gated activations.
        var gates = [Float](repeating: 0, count: images * c)
        vc_squeeze_gates_nhwc(x, Int32(images), Int32(pixels), Int32(c), p1, b1, Int32(s), p2, b2, relu, hardSigmoid, &gates,
                              &scratch)
        let n = 24, projection = packed(n, c, Tensor.normal(shape: [n * c], std: 0.2, using: &rng).scalars)
        var scaled = [Float](repeating: 0, count: projection.count)
        var direct = [Float](repeating: 0, count: images * pixels * n), folded = direct
        vc_pointwise_nhwc(Int32(images * pixels), Int32(n), Int32(c), y, Int32(c), projection, nil, nil, nil, 0, 0, &direct, Int32(n))
        for image in 0..<images {
            vc_pointwise_scale_packed(Int32(n), Int32(c), projection, Array(gates[(image * c)...]), &scaled)
            let rows = image * pixels
            x.withUnsafeBufferPointer { xp in
                folded.withUnsafeMutableBufferPointer { out in
                    vc_pointwise_nhwc(Int32(pixels), Int32(n), Int32(c), xp.baseAddress! + rows * c, Int32(c), scaled, nil, nil, nil, 0,
                                      0, out.baseAddress! + rows * n, Int32(n))
                }
            }
        }
        let largest = zip(direct, folded).map { abs(Double($0) - Double($1)) }.max() ?? 0
        #expect(largest <= 1e-4, "gates in the weights: largest difference \(largest)")
    }
}

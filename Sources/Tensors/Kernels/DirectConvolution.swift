import CKernels

/// A convolution that reads its input directly through vidclass's own GEMM kernel, without an
/// im2col matrix (`vc_conv_direct` in `CKernels`): for layers with few input channels, whose
/// im2col columns would be many times the input. Weights come packed (``WeightMatrices``).
package enum DirectConvolution {
    /// Floats of scratch ``run(weights:outChannels:geometry:input:output:rows:scratch:)`` needs.
    package static func scratchCount(_ g: WindowGeometry) -> Int {
        vc_conv_direct_scratch_count(Int32(g.channels), Int32(g.height), Int32(g.width), Int32(g.kernelHeight),
                                     Int32(g.kernelWidth), Int32(g.strideH), Int32(g.padH))
    }

    /// Output rows `rows` of one image (`g.channels × g.height × g.width`) into `output`
    /// (`outChannels × outputHeight × outputWidth`), without bias. The geometry must have equal
    /// strides (1 or 2) and paddings both ways and no dilation.
    package static func run(weights: UnsafePointer<Float>, outChannels: Int, geometry g: WindowGeometry,
                            input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, rows: Range<Int>,
                            scratch: UnsafeMutablePointer<Float>) {
        precondition(g.strideH == g.strideW && (g.strideH == 1 || g.strideH == 2) && g.padH == g.padW
                     && g.dilationH == 1 && g.dilationW == 1, "direct convolution geometry")
        vc_conv_direct(weights, Int32(outChannels), Int32(g.channels), Int32(g.height), Int32(g.width),
                       Int32(g.kernelHeight), Int32(g.kernelWidth), Int32(g.strideH), Int32(g.padH), input, output,
                       Int32(rows.lowerBound), Int32(rows.upperBound), scratch)
    }
}

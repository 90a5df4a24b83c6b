import CKernels
import Tensors

/// Direct loops for depthwise convolution (one filter per channel, `groups == Cin == Cout`), which
/// GEMM serves badly: each channel's filter has only `kh·kw` taps. Each output row is accumulated
/// tap by tap as a contiguous (stride 1) or strided run over the input row, with the bias, the
/// residual and the activation applied while the row is in cache. Channels are split across threads.
enum DepthwiseConvolution {
    /// The output columns `lo..<hi` whose input column `x·stride − padding + kx` lies in `0..<width`.
    @inline(__always)
    static func columns(kx: Int, stride: Int, padding: Int, width: Int, outputWidth: Int) -> Range<Int> {
        let lo = max(0, (padding - kx + stride - 1) / stride)
        let hi = min(outputWidth, (width - 1 + padding - kx) / stride + 1)
        return lo..<max(lo, hi)
    }

    /// `output[n, c] = act(bias[c] + Σ w[c, 0, ky, kx] · input[n, c, y·s − p + ky, x·s − p + kx] + residual[n, c])`.
    ///
    /// Strides 1 and 2 run `vc_depthwise_plane` (CKernels): each plane is copied, zero-padded, into
    /// scratch (for stride 2, split into its four even/odd row and column phases, so that every tap
    /// reads a stride-1 run), and each tap is one multiply-add over the whole flattened plane, in the
    /// widest vector instructions the CPU has.
    static func forward(input: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor?, stride: (Int, Int),
                        padding: (Int, Int), activation: ActivationFunction?, output: inout Tensor) {
        let n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3]
        let kh = weight.shape[2], kw = weight.shape[3]
        let oh = output.shape[2], ow = output.shape[3]
        let (sy, sx) = stride, (py, px) = padding
        guard (sy == 1 || sy == 2) && sy == sx else {
            return forwardByRows(input: input, weight: weight, bias: bias, residual: residual, stride: stride,
                                 padding: padding, activation: activation, output: &output)
        }
        let code = activation?.kernelCode ?? 0
        let x = UncheckedSendable(input.storage.pointer), wt = UncheckedSendable(weight.storage.pointer)
        let b = UncheckedSendable(bias?.storage.pointer), r = UncheckedSendable(residual?.storage.pointer)
        let y = UncheckedSendable(output.storage.pointer)
        let (h32, w32, kh32, kw32, s32) = (Int32(h), Int32(w), Int32(kh), Int32(kw), Int32(sy))
        let (py32, px32, oh32, ow32) = (Int32(py), Int32(px), Int32(oh), Int32(ow))
        let scratchCount = vc_depthwise_scratch_count(h32, w32, s32, py32, px32, oh32)
        parallelChunks(n * c, minimumChunk: max(1, 8192 / max(oh * ow * kh * kw, 1))) { planes in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
            defer { scratch.deallocate() }
            vc_depthwise_clear_scratch(scratch, h32, w32, s32, py32, px32, oh32)
            for plane in planes {
                let ch = plane % c
                vc_depthwise_plane(x.value + plane * h * w, h32, w32, wt.value + ch * kh * kw, kh32, kw32, s32, py32, px32,
                                   b.value?[ch] ?? 0, r.value.map { UnsafePointer($0 + plane * oh * ow) },
                                   y.value + plane * oh * ow, oh32, ow32, code, scratch)
            }
            if code != 0 { vc_activate(y.value + planes.lowerBound * oh * ow, planes.count * oh * ow, code) }
        }
        output.makeUnique()
    }

    /// The row-by-row loops, for strides other than 1 and 2 (or unequal ones).
    static func forwardByRows(input: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor?, stride: (Int, Int),
                              padding: (Int, Int), activation: ActivationFunction?, output: inout Tensor) {
        let n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3]
        let kh = weight.shape[2], kw = weight.shape[3]
        let oh = output.shape[2], ow = output.shape[3]
        let (sy, sx) = stride, (py, px) = padding
        let x = UncheckedSendable(input.storage.pointer), wt = UncheckedSendable(weight.storage.pointer)
        let b = UncheckedSendable(bias?.storage.pointer), r = UncheckedSendable(residual?.storage.pointer)
        let y = UncheckedSendable(output.storage.pointer)
        let spans = (0..<kw).map { columns(kx: $0, stride: sx, padding: px, width: w, outputWidth: ow) }
        parallelChunks(n * c, minimumChunk: max(1, 8192 / max(oh * ow * kh * kw, 1))) { planes in
            for plane in planes {
                let ch = plane % c
                let src = x.value + plane * h * w, dst = y.value + plane * oh * ow
                let filter = wt.value + ch * kh * kw
                let start = b.value?[ch] ?? 0
                for oy in 0..<oh {
                    let row = dst + oy * ow
                    row.update(repeating: start, count: ow)
                    for ky in 0..<kh {
                        let iy = oy * sy - py + ky
                        guard iy >= 0 && iy < h else { continue }
                        let inRow = src + iy * w
                        for kx in 0..<kw {
                            let tap = filter[ky * kw + kx], span = spans[kx]
                            guard !span.isEmpty else { continue }
                            let first = inRow + (span.lowerBound * sx - px + kx)
                            if sx == 1 {
                                let out = row + span.lowerBound
                                for i in 0..<span.count { out[i] += tap * first[i] }
                            } else {
                                let out = row + span.lowerBound
                                for i in 0..<span.count { out[i] += tap * first[i * sx] }
                            }
                        }
                    }
                    if let res = r.value {
                        let add = res + plane * oh * ow + oy * ow
                        for i in 0..<ow { row[i] += add[i] }
                    }
                    activation?.apply(row, count: ow)
                }
            }
        }
        output.makeUnique()
    }

    /// Adds the weight (and bias) gradients into `weightGradient` (`biasGradient`) and returns the
    /// input's gradient.
    static func backward(input: Tensor, weight: Tensor, outputGradient: Tensor, stride: (Int, Int), padding: (Int, Int),
                         weightGradient: inout Tensor, biasGradient: UnsafeMutablePointer<Float>?) -> Tensor {
        let n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3]
        let kh = weight.shape[2], kw = weight.shape[3]
        let oh = outputGradient.shape[2], ow = outputGradient.shape[3]
        let (sy, sx) = stride, (py, px) = padding
        var dx = Tensor(shape: input.shape)
        // Per-channel sums, each channel owned by one worker: no races and a fixed order.
        var dw = [Float](repeating: 0, count: c * kh * kw), db = [Float](repeating: 0, count: c)
        let x = UncheckedSendable(input.storage.pointer), wt = UncheckedSendable(weight.storage.pointer)
        let g = UncheckedSendable(outputGradient.storage.pointer), d = UncheckedSendable(dx.storage.pointer)
        let spans = (0..<kw).map { columns(kx: $0, stride: sx, padding: px, width: w, outputWidth: ow) }
        dw.withUnsafeMutableBufferPointer { dwp in
            db.withUnsafeMutableBufferPointer { dbp in
                let dwv = UncheckedSendable(dwp.baseAddress!), dbv = UncheckedSendable(dbp.baseAddress!)
                parallelChunks(c, minimumChunk: 1) { channels in
                    for ch in channels {
                        let filter = wt.value + ch * kh * kw, dFilter = dwv.value + ch * kh * kw
                        for image in 0..<n {
                            let plane = image * c + ch
                            let src = x.value + plane * h * w, dsrc = d.value + plane * h * w
                            let grad = g.value + plane * oh * ow
                            for oy in 0..<oh {
                                let gRow = grad + oy * ow
                                var rowSum: Float = 0
                                for i in 0..<ow { rowSum += gRow[i] }
                                dbv.value[ch] += rowSum
                                for ky in 0..<kh {
                                    let iy = oy * sy - py + ky
                                    guard iy >= 0 && iy < h else { continue }
                                    let inRow = src + iy * w, dRow = dsrc + iy * w
                                    for kx in 0..<kw {
                                        let span = spans[kx]
                                        guard !span.isEmpty else { continue }
                                        let offset = span.lowerBound * sx - px + kx
                                        let tap = filter[ky * kw + kx]
                                        var acc: Float = 0
                                        for i in span {
                                            let j = offset + (i - span.lowerBound) * sx
                                            acc += gRow[i] * inRow[j]
                                            dRow[j] += tap * gRow[i]
                                        }
                                        dFilter[ky * kw + kx] += acc
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        dx.makeUnique()
        weightGradient.withUnsafeMutableBufferPointer { p in for i in 0..<dw.count { p[i] += dw[i] } }
        if let biasGradient { for i in 0..<c { biasGradient[i] += db[i] } }
        return dx
    }
}

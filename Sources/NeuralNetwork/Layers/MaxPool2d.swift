import Tensors

/// Max pooling over NCHW input, as PyTorch's `nn.MaxPool2d` (padding counts as −∞, floor mode).
public final class MaxPool2d: Layer {
    /// Square window side, step between windows and padding per side, in pixels.
    public let kernelSize: Int, stride: Int, padding: Int
    /// Flat in-plane index of each output's maximum (Int32 bit patterns in pooled tensor storage).
    private var argmax: Tensor?
    private var inputShape: [Int] = []

    /// A pooling layer; `stride` defaults to `kernelSize`, and `padding` must be at most half the kernel.
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        precondition(padding * 2 <= kernelSize, "pad should be at most half of the kernel size")
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    /// `[N, C, H, W]` → `[N, C, Ho, Wo]`, each output the maximum of its window.
    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        precondition(input.rank == 4, "MaxPool2d expects [N, C, H, W], got \(input.shape)")
        let n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3]
        let g = WindowGeometry(channels: c, height: h, width: w, kernel: (kernelSize, kernelSize),
                               stride: (stride, stride), padding: (padding, padding))
        let oh = g.outputHeight, ow = g.outputWidth
        var output = Tensor(uninitializedShape: [n, c, oh, ow])
        let training = mode == .training
        var indexStore = Tensor(uninitializedShape: training ? output.shape : [0])
        let k = kernelSize, s = stride, p = padding
        let planes = n * c
        let workers = min(ComputeThreads.count, max(1, planes * oh * ow / 16384))
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                indexStore.withUnsafeMutableBufferPointer { fp in fp.withMemoryRebound(to: Int32.self) { idx in
                    let xb = UncheckedSendable(x), yb = UncheckedSendable(y), ib = UncheckedSendable(idx)
                    parallelFor(workers) { worker in
                    let x = xb.value, y = yb.value, idx = ib.value
                    for plane in partition(planes, worker: worker, of: workers) {
                        let src = x.baseAddress! + plane * h * w
                        let dst = y.baseAddress! + plane * oh * ow
                        if !training && !(k == 2 && s == 2 && p == 0) {
                            // Separable max (rows, then columns) for inference.
                            MaxPool2d.separable(src, dst, h: h, w: w, oh: oh, ow: ow, k: k, s: s, p: p)
                            continue
                        }
                        if k == 2 && s == 2 && p == 0 {
                            // Fast path: 2×2 windows, no padding. Wrapping arithmetic and a
                            // branch-free argmax: the indices are in range by construction, and
                            // checked arithmetic here kept the loop from vectorizing.
                            for oy in 0..<oh {
                                let r0 = src + 2 &* oy &* w, r1 = r0 + w
                                let out = dst + oy &* ow
                                if training {
                                    let rowIndex = idx.baseAddress! + (plane &* oh &+ oy) &* ow
                                    let base = Int32(truncatingIfNeeded: 2 &* oy &* w)
                                    let w32 = Int32(truncatingIfNeeded: w)
                                    for ox in 0..<ow {
                                        let a = r0[2 &* ox], b = r0[2 &* ox &+ 1], c = r1[2 &* ox], d = r1[2 &* ox &+ 1]
                                        let m = max(max(a, b), max(c, d))
                                        out[ox] = m
                                        let x2 = Int32(truncatingIfNeeded: 2 &* ox)
                                        let first = a == m ? x2 : b == m ? x2 &+ 1 : c == m ? x2 &+ w32 : x2 &+ w32 &+ 1
                                        rowIndex[ox] = base &+ first
                                    }
                                } else {
                                    for ox in 0..<ow {
                                        out[ox] = max(max(r0[2 &* ox], r0[2 &* ox &+ 1]), max(r1[2 &* ox], r1[2 &* ox &+ 1]))
                                    }
                                }
                            }
                            continue
                        }
                        for oy in 0..<oh {
                            let y0 = oy * s - p
                            let ys = max(y0, 0), ye = min(y0 + k, h)
                            for ox in 0..<ow {
                                let x0 = ox * s - p
                                let xs = max(x0, 0), xe = min(x0 + k, w)
                                var best = -Float.infinity, bestIndex = ys * w + xs
                                for iy in ys..<ye {
                                    for ix in xs..<xe {
                                        let v = src[iy * w + ix]
                                        if v > best || v.isNaN { best = v; bestIndex = iy * w + ix }
                                    }
                                }
                                dst[oy * ow + ox] = best
                                if training { idx[plane * oh * ow + oy * ow + ox] = Int32(bestIndex) }
                            }
                        }
                    }
                    }
                } }
            }
        }
        argmax = training ? indexStore : nil
        inputShape = input.shape
        return output
    }

    /// Inference max-pool of one plane: a horizontal pass into `oh`-independent row maxima, then a
    /// vertical pass. Padding never wins (it is −∞ in PyTorch).
    private static func separable(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                                  h: Int, w: Int, oh: Int, ow: Int, k: Int, s: Int, p: Int) {
        let rows = UnsafeMutablePointer<Float>.allocate(capacity: h * ow)
        defer { rows.deallocate() }
        for iy in 0..<h {
            let r = src + iy * w, o = rows + iy * ow
            if k == 3 && s == 2 && p == 1 && w >= 2 {
                // ResNet's stem pooling: windows {2x−1, 2x, 2x+1}.
                o[0] = max(r[0], r[1])
                var ox = 1
                while ox < ow && 2 * ox + 1 < w {
                    o[ox] = max(max(r[2 * ox - 1], r[2 * ox]), r[2 * ox + 1])
                    ox += 1
                }
                while ox < ow {
                    o[ox] = max(r[2 * ox - 1], r[min(2 * ox, w - 1)])
                    ox += 1
                }
                continue
            }
            for ox in 0..<ow {
                let x0 = ox * s - p
                let xs = max(x0, 0), xe = min(x0 + k, w)
                var m = r[xs]
                for ix in (xs + 1)..<max(xe, xs + 1) { m = max(m, r[ix]) }
                o[ox] = m
            }
        }
        for oy in 0..<oh {
            let y0 = oy * s - p
            let ys = max(y0, 0), ye = min(y0 + k, h)
            let o = dst + oy * ow
            o.update(from: rows + ys * ow, count: ow)
            for iy in (ys + 1)..<max(ye, ys + 1) {
                let r = rows + iy * ow
                for ox in 0..<ow { o[ox] = max(o[ox], r[ox]) }
            }
        }
    }

    /// Routes each output's gradient to the input that was its maximum; returns `[N, C, H, W]`.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let argmax, argmax.count == outputGradient.count else {
            preconditionFailure("MaxPool2d.backward without a matching training forward")
        }
        let planes = inputShape[0] * inputShape[1], hw = inputShape[2] * inputShape[3]
        let ohw = outputGradient.count / max(planes, 1)
        let dx = Tensor(shape: inputShape)  // written through its storage pointer below
        let dy = UncheckedSendable(outputGradient.storage.pointer), d = UncheckedSendable(dx.storage.pointer)
        let am = UncheckedSendable(UnsafeRawPointer(argmax.storage.pointer))
        parallelChunks(planes, minimumChunk: max(1, 32768 / max(ohw, 1))) { range in
            let dy = dy.value, d = d.value, am = am.value
            for plane in range {
                let indices = am.assumingMemoryBound(to: Int32.self) + plane &* ohw
                let gradients = dy + plane &* ohw, plane = d + plane &* hw
                for j in 0..<ohw { plane[Int(indices[j])] += gradients[j] }
            }
        }
        self.argmax = nil
        return dx
    }
}

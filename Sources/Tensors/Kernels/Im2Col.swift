/// Geometry of a 2-D sliding window (convolution or pooling) over one `[C, H, W]` image.
public struct WindowGeometry: Sendable, Equatable {
    /// Input channels `C`.
    public var channels: Int
    /// Input height and width in pixels, before padding.
    public var height: Int, width: Int
    /// Window height and width in pixels (before dilation).
    public var kernelHeight: Int, kernelWidth: Int
    /// Step between windows, vertically and horizontally (≥ 1).
    public var strideH: Int, strideW: Int
    /// Zero padding added to each side, vertically and horizontally (≥ 0).
    public var padH: Int, padW: Int
    /// Spacing between the window's taps, vertically and horizontally (1: contiguous).
    public var dilationH: Int, dilationW: Int

    /// A geometry; `kernel`, `stride`, `padding` and `dilation` are `(vertical, horizontal)` as in
    /// PyTorch. Non-positive sizes, strides or dilations and negative padding are a precondition failure.
    public init(channels: Int, height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1)) {
        self.channels = channels
        self.height = height
        self.width = width
        (kernelHeight, kernelWidth) = kernel
        (strideH, strideW) = stride
        (padH, padW) = padding
        (dilationH, dilationW) = dilation
        precondition(strideH > 0 && strideW > 0 && dilationH > 0 && dilationW > 0 && kernelHeight > 0
                     && kernelWidth > 0 && padH >= 0 && padW >= 0, "invalid window geometry")
    }

    /// Output height: `(H + 2p - d(k-1) - 1) / s + 1` (floor), as PyTorch.
    public var outputHeight: Int { (height + 2 * padH - dilationH * (kernelHeight - 1) - 1) / strideH + 1 }
    /// Output width.
    public var outputWidth: Int { (width + 2 * padW - dilationW * (kernelWidth - 1) - 1) / strideW + 1 }
    /// Rows of the column matrix: `C · kh · kw`.
    public var columnRows: Int { channels * kernelHeight * kernelWidth }
}

/// Unfolds one image `[C, H, W]` into columns `[C·kh·kw, Ho·Wo]`, written at `columns` with row stride
/// `rowStride` (so several images can share one column matrix side by side). Padding reads as zero.
/// With `outputRows`, only the columns of those output rows (a band, `rows.count · Wo` wide).
package func im2col(_ image: UnsafePointer<Float>, _ g: WindowGeometry,
                    columns: UnsafeMutablePointer<Float>, rowStride: Int, outputRows: Range<Int>? = nil) {
    let ow = g.outputWidth
    let band = outputRows ?? 0..<g.outputHeight
    var row = 0
    for c in 0..<g.channels {
        let plane = image + c * g.height * g.width
        for ki in 0..<g.kernelHeight {
            for kj in 0..<g.kernelWidth {
                let dst = columns + row * rowStride
                let offH = ki * g.dilationH - g.padH
                let offW = kj * g.dilationW - g.padW
                for y in band {
                    let iy = y * g.strideH + offH
                    let out = dst + (y - band.lowerBound) * ow
                    if iy < 0 || iy >= g.height {
                        out.update(repeating: 0, count: ow)
                        continue
                    }
                    let src = plane + iy * g.width
                    if g.strideW == 1 {
                        // Contiguous run: zero the padded ends, copy the middle.
                        let lo = max(0, -offW), hi = min(ow, g.width - offW)
                        if lo > 0 { out.update(repeating: 0, count: min(lo, ow)) }
                        if hi > lo { (out + lo).update(from: src + lo + offW, count: hi - lo) }
                        if hi < ow { (out + max(hi, 0)).update(repeating: 0, count: ow - max(hi, 0)) }
                    } else {
                        // Valid x: 0 ≤ x·s + off < W.
                        let s = g.strideW
                        let lo = min(ow, max(0, (-offW + s - 1) / s))
                        let hi = max(lo, min(ow, (g.width - offW + s - 1) / s))
                        for x in 0..<lo { out[x] = 0 }
                        var x = lo, ix = lo * s + offW
                        if s == 2 {
                            // Even elements of 16 consecutive inputs, 8 outputs at a time.
                            while x + 8 <= hi && ix + 16 <= g.width {
                                let v = UnsafeRawPointer(src + ix).loadUnaligned(as: SIMD16<Float>.self)
                                UnsafeMutableRawPointer(out + x).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
                                x += 8
                                ix += 16
                            }
                        }
                        while x < hi {
                            out[x] = src[ix]
                            x += 1
                            ix += s
                        }
                        for x in hi..<ow { out[x] = 0 }
                    }
                }
                row += 1
            }
        }
    }
}

/// Folds columns back into an image, adding overlapping contributions (the adjoint of ``im2col``).
/// `image` is accumulated into, not overwritten.
package func col2im(_ columns: UnsafePointer<Float>, rowStride: Int, _ g: WindowGeometry,
                    image: UnsafeMutablePointer<Float>) {
    let oh = g.outputHeight, ow = g.outputWidth
    var row = 0
    for c in 0..<g.channels {
        let plane = image + c * g.height * g.width
        for ki in 0..<g.kernelHeight {
            for kj in 0..<g.kernelWidth {
                let src = columns + row * rowStride
                let offH = ki * g.dilationH - g.padH
                let offW = kj * g.dilationW - g.padW
                for y in 0..<oh {
                    let iy = y * g.strideH + offH
                    if iy < 0 || iy >= g.height { continue }
                    let dst = plane + iy * g.width
                    let s = src + y * ow
                    let st = g.strideW
                    let lo = min(ow, max(0, (-offW + st - 1) / st))
                    let hi = max(lo, min(ow, (g.width - offW + st - 1) / st))
                    if st == 1 {
                        let d = dst + offW
                        for x in lo..<hi { d[x] += s[x] }
                    } else {
                        var ix = lo * st + offW
                        for x in lo..<hi {
                            dst[ix] += s[x]
                            ix += st
                        }
                    }
                }
                row += 1
            }
        }
    }
}

/// Sum of `count` floats from `p`, 8 lanes at a time (vectorised; order differs from a serial sum).
@inlinable
package func vectorSum(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    let raw = UnsafeRawPointer(p)
    var i = 0
    while i + 8 <= count {
        acc += raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
        i += 8
    }
    var s = acc.sum()
    while i < count {
        s += p[i]
        i += 1
    }
    return s
}

/// Σ (p[i] − shift)² over `count` floats, vectorised.
@inlinable
package func vectorSquaredDeviation(_ p: UnsafePointer<Float>, _ count: Int, shift: Float) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    let m = SIMD8<Float>(repeating: shift)
    let raw = UnsafeRawPointer(p)
    var i = 0
    while i + 8 <= count {
        let d = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) - m
        acc += d * d
        i += 8
    }
    var s = acc.sum()
    while i < count {
        let d = p[i] - shift
        s += d * d
        i += 1
    }
    return s
}

/// (Σ a[i], Σ a[i]·b[i]) over `count` floats, vectorised.
@inlinable
package func vectorSumAndDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> (Float, Float) {
    var s1 = SIMD8<Float>(repeating: 0), s2 = SIMD8<Float>(repeating: 0)
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    var i = 0
    while i + 8 <= count {
        let x = ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
        s1 += x
        s2 += x * rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
        i += 8
    }
    var t1 = s1.sum(), t2 = s2.sum()
    while i < count {
        t1 += a[i]
        t2 += a[i] * b[i]
        i += 1
    }
    return (t1, t2)
}

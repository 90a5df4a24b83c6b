import Tensors

// Winograd minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", CVPR 2016) for 3×3, stride-1, padding-1 convolutions at inference: each 2×2 output
// tile costs 16 multiplies per (input, output) channel pair instead of 36, done as 16 GEMMs
// `M[ξ] = U[ξ] · V[ξ]` with U = G g Gᵀ (filters, precomputed) and V = Bᵀ d B (4×4 input tiles).

extension Conv2d {
    /// Whether this layer's geometry allows the Winograd path.
    var supportsWinograd: Bool {
        kernelSize == (3, 3) && stride == (1, 1) && padding == (1, 1) && dilation == (1, 1) && groups == 1
    }

    /// Transformed filters `U[16][Cout][Cin]`.
    func makeWinogradFilters() -> [Float] {
        let cout = outChannels, cin = inChannels
        var u = [Float](repeating: 0, count: 16 * cout * cin)
        let w = weight.value.scalars
        for co in 0..<cout {
            for ci in 0..<cin {
                let g = Array(w[((co * cin + ci) * 9)..<((co * cin + ci) * 9 + 9)])
                // Gg: 4×3
                var gg = [Float](repeating: 0, count: 12)
                for c in 0..<3 {
                    let g0 = g[c], g1 = g[3 + c], g2 = g[6 + c]
                    gg[c] = g0
                    gg[3 + c] = (g0 + g1 + g2) / 2
                    gg[6 + c] = (g0 - g1 + g2) / 2
                    gg[9 + c] = g2
                }
                for r in 0..<4 {
                    let a = gg[r * 3], b = gg[r * 3 + 1], c = gg[r * 3 + 2]
                    let row = [a, (a + b + c) / 2, (a - b + c) / 2, c]
                    for col in 0..<4 { u[((r * 4 + col) * cout + co) * cin + ci] = row[col] }
                }
            }
        }
        return u
    }

    /// Winograd convolution with the same epilogue options as ``convolve(_:residual:)``.
    func winogradConvolve(_ input: Tensor, residual: Tensor?, filters: [Float], output: inout Tensor) {
        let n = input.shape[0], h = input.shape[2], w = input.shape[3]
        let cin = inChannels, cout = outChannels
        let th = (h + 1) / 2, tw = (w + 1) / 2, tilesPerImage = th * tw
        let threads = ComputeThreads.count
        // Images per unit: ≥ ~256 tiles per GEMM, balanced across threads.
        let wanted = max(1, (256 + tilesPerImage - 1) / tilesPerImage)
        var units = (n + min(n, wanted) - 1) / min(n, wanted)
        if n >= threads { units = (units + threads - 1) / threads * threads }
        let nb = max(1, (n + units - 1) / units)
        units = (n + nb - 1) / nb
        let workers = min(threads, units)
        let innerParallel = workers < threads
        let spaces = workspaceBuffers(workers)
        let pool = fusedMaxPool, relu = fusedReLU
        let oh = pool ? h / 2 : h, ow = pool ? w / 2 : w
        let outPlane = cout * oh * ow
        let x = UncheckedSendable(input), res = UncheckedSendable(residual), bias = UncheckedSendable(self.bias?.value)
        let y = UncheckedSendable(output.storage.pointer)
        let uBox = UncheckedSendable(filters)
        parallelFor(workers) { worker in
            let tMax = nb * tilesPerImage
            let base = spaces[worker].reserve(16 * (cin + cout) * tMax)
            let v = base, m = base + 16 * cin * tMax
            x.value.withUnsafeBufferPointer { xp in
                uBox.value.withUnsafeBufferPointer { up in
                    for unit in partition(units, worker: worker, of: workers) {
                        let first = unit * nb, count = min(nb, n - first), t = count * tilesPerImage
                        // Input transform V[ξ][ci][tile] = Bᵀ d B.
                        for i in 0..<count {
                            for ci in 0..<cin {
                                let plane = xp.baseAddress! + ((first + i) * cin + ci) * h * w
                                for ty in 0..<th {
                                    for tx in 0..<tw {
                                        var d = (Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0),
                                                 Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0),
                                                 Float(0), Float(0))
                                        let y0 = 2 * ty - 1, x0 = 2 * tx - 1
                                        withUnsafeMutableBytes(of: &d) { raw in
                                            let dp = raw.baseAddress!.assumingMemoryBound(to: Float.self)
                                            if y0 >= 0 && x0 >= 0 && y0 + 3 < h && x0 + 3 < w {
                                                for r in 0..<4 {
                                                    let row = plane + (y0 + r) * w + x0
                                                    dp[4 * r] = row[0]; dp[4 * r + 1] = row[1]
                                                    dp[4 * r + 2] = row[2]; dp[4 * r + 3] = row[3]
                                                }
                                            } else {
                                                for r in 0..<4 where y0 + r >= 0 && y0 + r < h {
                                                    for c in 0..<4 where x0 + c >= 0 && x0 + c < w {
                                                        dp[4 * r + c] = plane[(y0 + r) * w + x0 + c]
                                                    }
                                                }
                                            }
                                            // Bᵀ d (rows), then · B (columns).
                                            for c in 0..<4 {
                                                let d0 = dp[c], d1 = dp[4 + c], d2 = dp[8 + c], d3 = dp[12 + c]
                                                dp[c] = d0 - d2
                                                dp[4 + c] = d1 + d2
                                                dp[8 + c] = d2 - d1
                                                dp[12 + c] = d1 - d3
                                            }
                                            let tile = i * tilesPerImage + ty * tw + tx
                                            for r in 0..<4 {
                                                let r0 = dp[4 * r], r1 = dp[4 * r + 1], r2 = dp[4 * r + 2], r3 = dp[4 * r + 3]
                                                let o = v + ((4 * r) * cin + ci) * t + tile
                                                let stride = cin * t
                                                o[0] = r0 - r2
                                                o[stride] = r1 + r2
                                                o[2 * stride] = r2 - r1
                                                o[3 * stride] = r1 - r3
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        // 16 GEMMs: M[ξ] (Cout × t) = U[ξ] (Cout × Cin) · V[ξ] (Cin × t).
                        for xi in 0..<16 {
                            GEMM.multiply(transposeA: false, transposeB: false, m: cout, n: t, k: cin,
                                          a: up.baseAddress! + xi * cout * cin, lda: cin,
                                          b: v + xi * cin * t, ldb: t,
                                          c: m + xi * cout * t, ldc: t, parallel: innerParallel)
                        }
                        // Output transform Y = Aᵀ m A, then bias, residual, ReLU, pooling.
                        let plane = cout * t
                        for i in 0..<count {
                            let image = first + i
                            let outBase = y.value + image * outPlane
                            let resBase = res.value.map { $0.storage.pointer + image * cout * h * w }
                            for co in 0..<cout {
                                let bv = bias.value.map { $0.storage.pointer[co] } ?? 0
                                let mrow = m + co * t + i * tilesPerImage
                                let out = outBase + co * oh * ow
                                let rrow = resBase.map { $0 + co * h * w }
                                for ty in 0..<th {
                                    for tx in 0..<tw {
                                        let tile = ty * tw + tx
                                        // s = Aᵀ m (2×4)
                                        var s0 = (Float(0), Float(0), Float(0), Float(0))
                                        var s1 = s0
                                        let p = mrow + tile
                                        s0.0 = p[0] + p[4 * plane] + p[8 * plane]
                                        s0.1 = p[plane] + p[5 * plane] + p[9 * plane]
                                        s0.2 = p[2 * plane] + p[6 * plane] + p[10 * plane]
                                        s0.3 = p[3 * plane] + p[7 * plane] + p[11 * plane]
                                        s1.0 = p[4 * plane] - p[8 * plane] - p[12 * plane]
                                        s1.1 = p[5 * plane] - p[9 * plane] - p[13 * plane]
                                        s1.2 = p[6 * plane] - p[10 * plane] - p[14 * plane]
                                        s1.3 = p[7 * plane] - p[11 * plane] - p[15 * plane]
                                        var y00 = s0.0 + s0.1 + s0.2 + bv, y01 = s0.1 - s0.2 - s0.3 + bv
                                        var y10 = s1.0 + s1.1 + s1.2 + bv, y11 = s1.1 - s1.2 - s1.3 + bv
                                        if pool {
                                            var mx = max(max(y00, y01), max(y10, y11))
                                            if relu { mx = max(mx, 0) }
                                            if ty < oh && tx < ow { out[ty * ow + tx] = mx }
                                            continue
                                        }
                                        let oy = 2 * ty, ox = 2 * tx
                                        if let rr = rrow {
                                            y00 += rr[oy * w + ox]
                                            if ox + 1 < w { y01 += rr[oy * w + ox + 1] }
                                            if oy + 1 < h {
                                                y10 += rr[(oy + 1) * w + ox]
                                                if ox + 1 < w { y11 += rr[(oy + 1) * w + ox + 1] }
                                            }
                                        }
                                        if relu { y00 = max(y00, 0); y01 = max(y01, 0); y10 = max(y10, 0); y11 = max(y11, 0) }
                                        out[oy * ow + ox] = y00
                                        if ox + 1 < ow { out[oy * ow + ox + 1] = y01 }
                                        if oy + 1 < oh {
                                            out[(oy + 1) * ow + ox] = y10
                                            if ox + 1 < ow { out[(oy + 1) * ow + ox + 1] = y11 }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

import CKernels
import Tensors

// Winograd F(4×4, 3×3) (Lavin & Gray 2016): 6×6 input tiles, 36 multiplies per 4×4 output tile and
// channel pair (2.25 per output instead of 9), as 36 GEMMs. Same layout and epilogue as the
// F(2×2, 3×3) path in Winograd.swift; chosen per call when the tiles cover the image with little waste.

extension Conv2d {
    /// Transformed filters `U[36][Cout][Cin]` = G g Gᵀ; with `forInputGradient`, `U[36][Cin][Cout]`
    /// of the flipped filters (``transformedFilters(elements:scratch:forInputGradient:_:)``).
    func makeWinograd4Filters(forInputGradient: Bool = false) -> [Float] {
        transformedFilters(elements: 36, scratch: 18, forInputGradient: forInputGradient) { g, gg, o, plane in
            // Gg: 6×3 (each column of g transformed).
            for c in 0..<3 {
                let a = g[c], b = g[3 + c], cc = g[6 + c]
                gg[c] = a / 4
                gg[3 + c] = -(a + b + cc) / 6
                gg[6 + c] = -(a - b + cc) / 6
                gg[9 + c] = a / 24 + b / 12 + cc / 6
                gg[12 + c] = a / 24 - b / 12 + cc / 6
                gg[15 + c] = cc
            }
            // (Gg) Gᵀ: each row of Gg transformed.
            for r in 0..<6 {
                let a = gg[r * 3], b = gg[r * 3 + 1], cc = gg[r * 3 + 2]
                let row = o + r * 6 * plane
                row[0] = a / 4
                row[plane] = -(a + b + cc) / 6
                row[2 * plane] = -(a - b + cc) / 6
                row[3 * plane] = a / 24 + b / 12 + cc / 6
                row[4 * plane] = a / 24 - b / 12 + cc / 6
                row[5 * plane] = cc
            }
        }
    }

    /// Whether F(4×4, 3×3) should run on `images` outputs of `h × w`: its tiles must cover at most
    /// ~15 % more than F(2×2, 3×3)'s do, on images of at least 6×6 (on 112…28-pixel layers F(4×4)
    /// measured 1.4–1.7× faster; on ResNet's 7×7 layer3, whose tiles both overhang, about 1.1× at
    /// 8×16 frames). On a 4×4 image (ResNet's layer4, one tile each) the GEMMs are only as wide as
    /// the batch, so F(4×4) needs 64 images to pay for repacking its 2.25× larger filters
    /// (`vidclass bench model --tasks layers`: about 1.1× at 8×16 frames, slower at 1×16).
    package static func prefersWinograd4(h: Int, w: Int, images: Int) -> Bool {
        let th = (h + 3) / 4, tw = (w + 3) / 4
        let f2 = Double(4 * ((h + 1) / 2) * ((w + 1) / 2))  // what F(2×2, 3×3) tiles cover
        if h == 4 && w == 4 && images >= 64 { return true }
        return h >= 6 && w >= 6 && Double(16 * th * tw) <= 1.15 * f2
    }

    func winograd4Convolve(_ input: Tensor, residual: Tensor?, filters: WeightMatrices, output: inout Tensor) {
        winograd4Convolve(input, inChannels: inChannels, outChannels: outChannels, bias: bias?.value, residual: residual,
                          relu: fusedReLU, pool: fusedMaxPool, filters: filters, output: &output)
    }

    /// The input gradient `[N, Cin, H, W]` of this layer (3×3, stride 1, padding 1) from its output
    /// gradient `[N, Cout, H, W]` by F(4×4, 3×3): the output gradient convolved with the flipped
    /// filters, channel roles swapped, in place of a GEMM and col2im.
    func winograd4InputGradient(_ outputGradient: Tensor) -> Tensor {
        let filters = WeightMatrices(makeWinograd4Filters(forInputGradient: true), count: 36, rows: inChannels,
                                     columns: outChannels, pack: true)
        let shape = outputGradient.shape
        var inputGradient = Tensor(uninitializedShape: [shape[0], inChannels, shape[2], shape[3]])
        winograd4Convolve(outputGradient, inChannels: outChannels, outChannels: inChannels, bias: nil, residual: nil,
                          relu: false, pool: false, filters: filters, output: &inputGradient)
        return inputGradient
    }

    /// Adds this layer's weight gradient (3×3, stride 1, padding 1) from its input `[N, Cin, H, W]`
    /// and output gradient `[N, Cout, H, W]` by F(4×4, 3×3) run backwards: per 4 × 4 tile, the
    /// output gradient's A e Aᵀ times the input's Bᵀ d B, element by element, summed over tiles by
    /// 36 GEMMs (Cout × Cin, as deep as the tiles), then Gᵀ · G back to 3 × 3: a quarter of the
    /// multiplies of im2col's product.
    func winograd4AccumulateWeightGradient(input: Tensor, outputGradient: Tensor) {
        let n = input.shape[0], h = input.shape[2], w = input.shape[3]
        let cin = inChannels, cout = outChannels, plane = cout * cin
        let th = (h + 3) / 4, tw = (w + 3) / 4
        let threads = ComputeThreads.count
        let (units, tMax, workers, unitImages) =
            winogradWorkUnits(images: n, tileRows: th, tileColumns: tw, targetTiles: 128, threads: threads)
        let innerParallel = workers < threads
        let spaces = workspaceBuffers(workers)
        let pw = 4 * tw + 2
        let gradientScratch = vc_winograd4_gradient_row_scratch_count(Int32(tw))
        let x = UncheckedSendable(input), dy = UncheckedSendable(outputGradient)
        parallelFor(workers) { worker in
            // Each worker's sums M[ξ][co][ci], then V (input) and E (output gradient) for a unit of tiles.
            let base = spaces[worker].reserve(36 * plane + 36 * (cin + cout) * tMax + 12 * pw + gradientScratch)
            let sums = base, v = base + 36 * plane, e = v + 36 * cin * tMax
            let rows = e + 36 * cout * tMax, trows = rows + 6 * pw, scratch = trows + 6 * pw
            sums.update(repeating: 0, count: 36 * plane)
            for unit in partition(units, worker: worker, of: workers) {
                let (first, count, ty0, ty1) = unitImages(unit)
                let tilesHere = (ty1 - ty0) * tw, t = count * tilesHere
                for i in 0..<count {
                    for ty in ty0..<ty1 {
                        let tile = i * tilesHere + (ty - ty0) * tw
                        for ci in 0..<cin {
                            winograd4InputTiles(x.value.storage.pointer + ((first + i) * cin + ci) * h * w, height: h,
                                                width: w, tileRow: ty, tileColumns: tw, rows: rows, transformedRows: trows,
                                                into: v + ci * t + tile, planeStride: cin * t)
                        }
                        for co in 0..<cout {
                            vc_winograd4_gradient_row(dy.value.storage.pointer + ((first + i) * cout + co) * h * w,
                                                      Int32(h), Int32(w), Int32(ty), Int32(tw), scratch,
                                                      e + co * t + tile, cout * t)
                        }
                    }
                }
                // M[ξ] += E[ξ] · V[ξ]ᵀ
                for xi in 0..<36 {
                    GEMM.multiply(transposeA: false, transposeB: true, m: cout, n: cin, k: t,
                                  a: e + xi * cout * t, lda: t, b: v + xi * cin * t, ldb: t,
                                  beta: 1, c: sums + xi * plane, ldc: cin, parallel: innerParallel)
                }
            }
        }
        // dW[co][ci] += Gᵀ (Σ over workers of M[·][co][ci]) G, each 6 × 6 → 3 × 3.
        let g: [(Float, Float, Float)] = [(1.0 / 4, 0, 0), (-1.0 / 6, -1.0 / 6, -1.0 / 6), (-1.0 / 6, 1.0 / 6, -1.0 / 6),
                                          (1.0 / 24, 1.0 / 12, 1.0 / 6), (1.0 / 24, -1.0 / 12, 1.0 / 6), (0, 0, 1)]
        weight.gradient.withUnsafeMutableBufferPointer { dw in
            var m = [Float](repeating: 0, count: 36), p = [Float](repeating: 0, count: 18)
            for pair in 0..<plane {
                for xi in 0..<36 {
                    var s: Float = 0
                    for worker in 0..<workers { s += spaces[worker].pointer[xi * plane + pair] }
                    m[xi] = s
                }
                // P = M G (6 × 3), then dW = Gᵀ P (3 × 3).
                for r in 0..<6 {
                    var p0: Float = 0, p1: Float = 0, p2: Float = 0
                    for c in 0..<6 {
                        let value = m[r * 6 + c]
                        p0 += value * g[c].0
                        p1 += value * g[c].1
                        p2 += value * g[c].2
                    }
                    p[r * 3] = p0
                    p[r * 3 + 1] = p1
                    p[r * 3 + 2] = p2
                }
                let out = dw.baseAddress! + pair * 9
                for b in 0..<3 {
                    var d0: Float = 0, d1: Float = 0, d2: Float = 0
                    for r in 0..<6 {
                        let value = p[r * 3 + b]
                        d0 += g[r].0 * value
                        d1 += g[r].1 * value
                        d2 += g[r].2 * value
                    }
                    out[b] += d0
                    out[3 + b] += d1
                    out[6 + b] += d2
                }
            }
        }
    }

    /// F(4×4, 3×3) of `input` `[N, cin, H, W]` into `output` `[N, cout, H, W]` (or half of each side
    /// with `pool`): filters `U[36][cout][cin]`, then bias, residual, ReLU and 2×2 max pooling as asked.
    private func winograd4Convolve(_ input: Tensor, inChannels cin: Int, outChannels cout: Int, bias: Tensor?,
                                   residual: Tensor?, relu: Bool, pool: Bool, filters: WeightMatrices,
                                   output: inout Tensor) {
        let n = input.shape[0], h = input.shape[2], w = input.shape[3]
        let th = (h + 3) / 4, tw = (w + 3) / 4
        let threads = ComputeThreads.count
        let target = 64
        let (units, tMax, workers, unitImages) =
            winogradWorkUnits(images: n, tileRows: th, tileColumns: tw, targetTiles: target, threads: threads)
        let innerParallel = workers < threads
        let spaces = workspaceBuffers(workers)
        let oh = pool ? h / 2 : h, ow = pool ? w / 2 : w
        let outPlane = cout * oh * ow
        let x = UncheckedSendable(input), res = UncheckedSendable(residual), bias = UncheckedSendable(bias)
        let y = UncheckedSendable(output.storage.pointer)
        let pw = 4 * tw + 2, ysStride = tw + 8
        parallelFor(workers) { worker in
            let base = spaces[worker].reserve(36 * (cin + cout) * tMax + 12 * pw + 16 * ysStride + 24 * 8 + 16)
            let v = base, m = base + 36 * cin * tMax
            let rows = m + 36 * cout * tMax, trows = rows + 6 * pw, ys = trows + 6 * pw
            let sb = ys + 16 * ysStride  // 24 vectors of Aᵀ m
            x.value.withUnsafeBufferPointer { xp in
                for unit in partition(units, worker: worker, of: workers) {
                    let (first, count, ty0, ty1) = unitImages(unit)
                    let tilesHere = (ty1 - ty0) * tw, t = count * tilesHere
                    // Input transform V[ξ][ci][tile] = Bᵀ d B per row of tiles.
                    for i in 0..<count {
                        for ci in 0..<cin {
                            let plane = xp.baseAddress! + ((first + i) * cin + ci) * h * w
                            for ty in ty0..<ty1 {
                                winograd4InputTiles(plane, height: h, width: w, tileRow: ty, tileColumns: tw, rows: rows,
                                                    transformedRows: trows,
                                                    into: v + ci * t + i * tilesHere + (ty - ty0) * tw,
                                                    planeStride: cin * t)
                            }
                        }
                    }
                    for xi in 0..<36 {
                        filters.multiply(xi, n: t, b: v + xi * cin * t, ldb: t, c: m + xi * cout * t, ldc: t,
                                         parallel: innerParallel)
                    }
                    // Output transform Y = Aᵀ m A (4×4 per tile), then bias, residual, ReLU, pooling.
                    let plane = cout * t
                    for i in 0..<count {
                        let image = first + i
                        let outBase = y.value + image * outPlane
                        let resBase = res.value.map { $0.storage.pointer + image * cout * h * w }
                        for co in 0..<cout {
                            let bv = SIMD8<Float>(repeating: bias.value.map { $0.storage.pointer[co] } ?? 0)
                            let out = outBase + co * oh * ow
                            let rplane = resBase.map { $0 + co * h * w }
                            for ty in ty0..<ty1 {
                                let p = m + co * t + i * tilesHere + (ty - ty0) * tw
                                var tx0 = 0
                                // Whole vectors even past the row's end (extra lanes read scratch, never stored).
                                while tx0 < tw {
                                    // s[r][c] = Σ_k Aᵀ[r][k] m[k][c]
                                    for c in 0..<6 {
                                        let m0 = ld(p + (0 * 6 + c) * plane + tx0), m1 = ld(p + (1 * 6 + c) * plane + tx0)
                                        let m2 = ld(p + (2 * 6 + c) * plane + tx0), m3 = ld(p + (3 * 6 + c) * plane + tx0)
                                        let m4 = ld(p + (4 * 6 + c) * plane + tx0), m5 = ld(p + (5 * 6 + c) * plane + tx0)
                                        let a = m1 + m2, b = m1 - m2, cc = m3 + m4, d = m3 - m4
                                        st(m0 + a + cc, sb + 8 * c)
                                        st(b + 2 * d, sb + 8 * (6 + c))
                                        st(a + 4 * cc, sb + 8 * (12 + c))
                                        st(b + 8 * d + m5, sb + 8 * (18 + c))
                                    }
                                    for r in 0..<4 {
                                        let q0 = ld(sb + 8 * (6 * r)), q1 = ld(sb + 8 * (6 * r + 1))
                                        let q2 = ld(sb + 8 * (6 * r + 2)), q3 = ld(sb + 8 * (6 * r + 3))
                                        let q4 = ld(sb + 8 * (6 * r + 4)), q5 = ld(sb + 8 * (6 * r + 5))
                                        let a = q1 + q2, b = q1 - q2, cc = q3 + q4, d = q3 - q4
                                        st(q0 + a + cc + bv, ys + (4 * r) * ysStride + tx0)
                                        st(b + 2 * d + bv, ys + (4 * r + 1) * ysStride + tx0)
                                        st(a + 4 * cc + bv, ys + (4 * r + 2) * ysStride + tx0)
                                        st(b + 8 * d + q5 + bv, ys + (4 * r + 3) * ysStride + tx0)
                                    }
                                    tx0 += 8
                                }
                                if pool {
                                    for a in 0..<2 {
                                        let oy = 2 * ty + a
                                        guard oy < oh else { break }
                                        let o = out + oy * ow
                                        let r0 = ys + (2 * a) * 4 * ysStride, r1 = ys + (2 * a + 1) * 4 * ysStride
                                        for tx in 0..<tw {
                                            for b in 0..<2 {
                                                let ox = 2 * tx + b
                                                guard ox < ow else { break }
                                                let j0 = (2 * b) * ysStride + tx, j1 = (2 * b + 1) * ysStride + tx
                                                var mx = max(max(r0[j0], r0[j1]), max(r1[j0], r1[j1]))
                                                if relu { mx = max(mx, 0) }
                                                o[ox] = mx
                                            }
                                        }
                                    }
                                    continue
                                }
                                for r in 0..<4 {
                                    let oy = 4 * ty + r
                                    guard oy < oh else { break }
                                    vc_winograd4_output_row(ys + 4 * r * ysStride, ysStride, Int32(ow),
                                                            rplane.map { UnsafePointer($0 + oy * w) }, relu ? 1 : 0,
                                                            out + oy * ow)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Bᵀ d B for the 6 × 6 input tiles of tile row `ty` of one channel plane `[h][w]` (padding 1):
/// element 6 · ξ + ζ of tile tx to `o[(6 · ξ + ζ) · planeStride + tx]`. `rows` and `transformedRows`
/// are scratch of 6 · (4 · tw + 2) floats each.
func winograd4InputTiles(_ plane: UnsafePointer<Float>, height h: Int, width w: Int, tileRow ty: Int, tileColumns tw: Int,
                         rows: UnsafeMutablePointer<Float>, transformedRows trows: UnsafeMutablePointer<Float>,
                         into o: UnsafeMutablePointer<Float>, planeStride: Int) {
    let pw = 4 * tw + 2
    copyPaddedRows(plane, height: h, width: w, from: 4 * ty - 1, count: 6, into: rows, rowStride: pw)
    let d0 = rows, d1 = rows + pw, d2 = rows + 2 * pw, d3 = rows + 3 * pw
    let d4 = rows + 4 * pw, d5 = rows + 5 * pw
    let t0 = trows, t1 = trows + pw, t2 = trows + 2 * pw, t3 = trows + 3 * pw
    let t4 = trows + 4 * pw, t5 = trows + 5 * pw
    var xi = 0
    let four = SIMD8<Float>(repeating: 4), five = SIMD8<Float>(repeating: 5)
    let two = SIMD8<Float>(repeating: 2)
    while xi + 8 <= pw {
        let a0 = ld(d0 + xi), a1 = ld(d1 + xi), a2 = ld(d2 + xi)
        let a3 = ld(d3 + xi), a4 = ld(d4 + xi), a5 = ld(d5 + xi)
        st(four * a0 - five * a2 + a4, t0 + xi)
        st(a3 + a4 - four * (a1 + a2), t1 + xi)
        st(four * (a1 - a2) - a3 + a4, t2 + xi)
        st(two * (a3 - a1) - a2 + a4, t3 + xi)
        st(two * (a1 - a3) - a2 + a4, t4 + xi)
        st(four * a1 - five * a3 + a5, t5 + xi)
        xi += 8
    }
    while xi < pw {
        let a0 = d0[xi], a1 = d1[xi], a2 = d2[xi], a3 = d3[xi], a4 = d4[xi], a5 = d5[xi]
        t0[xi] = 4 * a0 - 5 * a2 + a4
        t1[xi] = a3 + a4 - 4 * (a1 + a2)
        t2[xi] = 4 * (a1 - a2) - a3 + a4
        t3[xi] = 2 * (a3 - a1) - a2 + a4
        t4[xi] = 2 * (a1 - a3) - a2 + a4
        t5[xi] = 4 * a1 - 5 * a3 + a5
        xi += 1
    }
    for k in 0..<6 {
        vc_winograd4_input_row(trows + k * pw, Int32(tw), o + 6 * k * planeStride, planeStride)
    }
}

@inline(__always) private func ld(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) private func ld(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) private func st(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

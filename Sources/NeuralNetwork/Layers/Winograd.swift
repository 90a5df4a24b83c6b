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

    /// Transformed filters `U[16][Cout][Cin]` = G g Gᵀ.
    func makeWinogradFilters() -> [Float] {
        transformedFilters(elements: 16, scratch: 12) { g, gg, o, plane in
            // Gg: 4×3.
            for c in 0..<3 {
                let g0 = g[c], g1 = g[3 + c], g2 = g[6 + c]
                gg[c] = g0
                gg[3 + c] = (g0 + g1 + g2) / 2
                gg[6 + c] = (g0 - g1 + g2) / 2
                gg[9 + c] = g2
            }
            for r in 0..<4 {
                let a = gg[r * 3], b = gg[r * 3 + 1], c = gg[r * 3 + 2]
                let row = o + r * 4 * plane
                row[0] = a
                row[plane] = (a + b + c) / 2
                row[2 * plane] = (a - b + c) / 2
                row[3 * plane] = c
            }
        }
    }

    /// `U[elements][Cout][Cin]` from this layer's 3×3 filters: `transform(g, scratch, u, plane)` turns
    /// each channel pair's filter `g` into its `elements` values, `u[e · plane]` (shared by F(2×2)
    /// and F(4×4), which differ only in the transform).
    ///
    /// With `forInputGradient`, `U[elements][Cin][Cout]` from the filters turned by 180°: the
    /// convolution that takes an output gradient to the input's (for 3×3, stride 1, padding 1, the
    /// input gradient is the output gradient convolved, padding 1, with each filter flipped and
    /// the channel roles swapped).
    func transformedFilters(elements: Int, scratch: Int, forInputGradient: Bool = false,
                            _ transform: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)
        -> [Float]
    {
        let cout = outChannels, cin = inChannels, plane = cout * cin
        var u = [Float](repeating: 0, count: elements * plane)
        weight.value.withUnsafeBufferPointer { w in
            u.withUnsafeMutableBufferPointer { out in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: scratch + 9) { gg in
                    let flipped = gg.baseAddress! + scratch
                    for co in 0..<cout {
                        for ci in 0..<cin {
                            let g = w.baseAddress! + (co * cin + ci) * 9
                            if forInputGradient {
                                for j in 0..<9 { flipped[j] = g[8 - j] }
                                transform(flipped, gg.baseAddress!, out.baseAddress! + ci * cout + co, plane)
                            } else {
                                transform(g, gg.baseAddress!, out.baseAddress! + co * cin + ci, plane)
                            }
                        }
                    }
                }
            }
        }
        return u
    }

    /// Winograd convolution with the same epilogue options as ``convolve(_:residual:)``.
    func winogradConvolve(_ input: Tensor, residual: Tensor?, filters: WeightMatrices, output: inout Tensor) {
        let n = input.shape[0], h = input.shape[2], w = input.shape[3]
        let cin = inChannels, cout = outChannels
        let th = (h + 1) / 2, tw = (w + 1) / 2
        let threads = ComputeThreads.count
        // A unit is ~128 tiles (so V and M stay cache-resident): a block of tile rows of one image,
        // or several whole images when images are small. Units are balanced across threads.
        let target = 128
        if threads > 1 && n * th * tw <= target && cout >= 32 * threads {
            return winogradConvolveSplittingChannels(input, residual: residual, filters: filters, output: &output)
        }
        let (units, tMax, workers, unitImages) =
            winogradWorkUnits(images: n, tileRows: th, tileColumns: tw, targetTiles: target, threads: threads)
        let innerParallel = workers < threads
        let spaces = workspaceBuffers(workers)
        let geometry = WinogradTiles(conv: self, input: input, residual: residual)
        let x = UncheckedSendable(input), y = UncheckedSendable(output.storage.pointer)
        parallelFor(workers) { worker in
            let base = spaces[worker].reserve(16 * (cin + cout) * tMax + geometry.scratchCount)
            let v = base, m = base + 16 * cin * tMax, scratch = m + 16 * cout * tMax
            x.value.withUnsafeBufferPointer { xp in
                for unit in partition(units, worker: worker, of: workers) {
                    let (first, count, ty0, ty1) = unitImages(unit)
                    let t = count * (ty1 - ty0) * tw
                    for i in 0..<count {
                        for ci in 0..<cin {
                            geometry.transformInput(xp.baseAddress!, image: first + i, channel: ci, tileRows: ty0..<ty1,
                                                    into: v, imageSlot: i, tiles: t, scratch: scratch)
                        }
                    }
                    // 16 GEMMs: M[ξ] (Cout × t) = U[ξ] (Cout × Cin) · V[ξ] (Cin × t).
                    for xi in 0..<16 {
                        filters.multiply(xi, n: t, b: v + xi * cin * t, ldb: t, c: m + xi * cout * t, ldc: t,
                                         parallel: innerParallel)
                    }
                    for i in 0..<count {
                        for co in 0..<cout {
                            geometry.transformOutput(m, image: first + i, channel: co, tileRows: ty0..<ty1,
                                                     imageSlot: i, tiles: t, output: y.value, scratch: scratch)
                        }
                    }
                }
            }
        }
    }

    /// The whole batch as one unit when it has few tiles (ResNet's 4×4 layer4 at 16 frames): the
    /// threads split the input transform by input channel, then the GEMMs and the output transform
    /// by output channel, so each thread packs only its share of the transformed filters, which
    /// dominate the work there, and every GEMM is as wide as the batch.
    private func winogradConvolveSplittingChannels(_ input: Tensor, residual: Tensor?, filters: WeightMatrices,
                                                   output: inout Tensor) {
        let n = input.shape[0], h = input.shape[2], w = input.shape[3]
        let cin = inChannels, cout = outChannels
        let th = (h + 1) / 2, tw = (w + 1) / 2, t = n * th * tw
        let workers = ComputeThreads.count
        let spaces = workspaceBuffers(workers + 1)
        let geometry = WinogradTiles(conv: self, input: input, residual: residual)
        let shared = spaces[workers].reserve(16 * (cin + cout) * t + 8)
        for worker in 0..<workers { _ = spaces[worker].reserve(geometry.scratchCount) }
        let v = UncheckedSendable(shared), m = UncheckedSendable(shared + 16 * cin * t)
        let x = UncheckedSendable(input), y = UncheckedSendable(output.storage.pointer)
        parallelFor(workers) { worker in
            let scratch = spaces[worker].pointer
            x.value.withUnsafeBufferPointer { xp in
                for ci in partition(cin, worker: worker, of: workers) {
                    for i in 0..<n {
                        geometry.transformInput(xp.baseAddress!, image: i, channel: ci, tileRows: 0..<th,
                                                into: v.value, imageSlot: i, tiles: t, scratch: scratch)
                    }
                }
            }
        }
        parallelFor(workers) { worker in
            let scratch = spaces[worker].pointer
            let channels = partition(cout, worker: worker, of: workers)
            guard !channels.isEmpty else { return }
            for xi in 0..<16 {
                filters.multiply(xi, rows: channels, n: t, b: v.value + xi * cin * t, ldb: t,
                                 c: m.value + (xi * cout + channels.lowerBound) * t, ldc: t, parallel: false)
            }
            for i in 0..<n {
                for co in channels {
                    geometry.transformOutput(m.value, image: i, channel: co, tileRows: 0..<th, imageSlot: i, tiles: t,
                                             output: y.value, scratch: scratch)
                }
            }
        }
    }
}

/// The F(2×2, 3×3) input and output transforms of one layer call, per image, channel and block of
/// tile rows. V is `[16][Cin][t]` and M `[16][Cout][t]`, where the `t` tiles of a unit are its images'
/// tile rows one after another (image slot `i` starts at `i · rows · tw`).
private struct WinogradTiles: @unchecked Sendable {
    let h: Int, w: Int, tw: Int, cin: Int, cout: Int
    let pool: Bool, relu: Bool
    let oh: Int, ow: Int
    let input: Tensor, residual: Tensor?, bias: Tensor?

    init(conv: Conv2d, input: Tensor, residual: Tensor?) {
        h = input.shape[2]
        w = input.shape[3]
        tw = (w + 1) / 2
        cin = conv.inChannels
        cout = conv.outChannels
        pool = conv.fusedMaxPool
        relu = conv.fusedReLU
        oh = pool ? h / 2 : h
        ow = pool ? w / 2 : w
        self.input = input
        self.residual = residual
        bias = conv.bias?.value
    }

    /// Padded row width of a row of tiles.
    var pw: Int { 2 * tw + 2 }
    /// Floats of per-thread scratch the transforms need.
    var scratchCount: Int { 8 * pw + 4 * (tw + 8) + 16 }

    /// V[ξ][ci][tile] = Bᵀ d B for channel `ci` of `image`, one row of tiles at a time: Bᵀ combines
    /// 4 padded input rows elementwise, then B combines columns.
    func transformInput(_ x: UnsafePointer<Float>, image: Int, channel ci: Int, tileRows: Range<Int>,
                        into v: UnsafeMutablePointer<Float>, imageSlot i: Int, tiles t: Int,
                        scratch: UnsafeMutablePointer<Float>) {
        let pw = self.pw
        let rows = scratch, trows = scratch + 4 * pw
        let plane = x + (image * cin + ci) * h * w
        let tilesHere = tileRows.count * tw
        for ty in tileRows {
            copyPaddedRows(plane, height: h, width: w, from: 2 * ty - 1, count: 4, into: rows, rowStride: pw)
            let r0 = rows, r1 = rows + pw, r2 = rows + 2 * pw, r3 = rows + 3 * pw
            let t0 = trows, t1 = trows + pw, t2 = trows + 2 * pw, t3 = trows + 3 * pw
            var x = 0
            while x + 8 <= pw {
                let a = load8(r0 + x), b = load8(r1 + x), c = load8(r2 + x), d = load8(r3 + x)
                store8(a - c, t0 + x)
                store8(b + c, t1 + x)
                store8(c - b, t2 + x)
                store8(b - d, t3 + x)
                x += 8
            }
            while x < pw {
                t0[x] = r0[x] - r2[x]
                t1[x] = r1[x] + r2[x]
                t2[x] = r2[x] - r1[x]
                t3[x] = r1[x] - r3[x]
                x += 1
            }
            let tileBase = i * tilesHere + (ty - tileRows.lowerBound) * tw
            for k in 0..<4 {
                let tk = trows + k * pw
                let o0 = v + ((4 * k) * cin + ci) * t + tileBase
                let o1 = o0 + cin * t, o2 = o1 + cin * t, o3 = o2 + cin * t
                var tx = 0
                while tx + 8 <= tw {
                    // Deinterleave 16 consecutive values into even/odd columns.
                    let l0 = load16(tk + 2 * tx), l1 = load16(tk + 2 * tx + 2)
                    let a = l0.evenHalf, b = l0.oddHalf, c = l1.evenHalf, d = l1.oddHalf
                    store8(a - c, o0 + tx)
                    store8(b + c, o1 + tx)
                    store8(c - b, o2 + tx)
                    store8(b - d, o3 + tx)
                    tx += 8
                }
                while tx < tw {
                    let a = tk[2 * tx], b = tk[2 * tx + 1], c = tk[2 * tx + 2], d = tk[2 * tx + 3]
                    o0[tx] = a - c
                    o1[tx] = b + c
                    o2[tx] = c - b
                    o3[tx] = b - d
                    tx += 1
                }
            }
        }
    }

    /// Y = Aᵀ m A for output channel `co` of `image`, per row of tiles, then bias, residual, ReLU
    /// and pooling, into the output tensor.
    func transformOutput(_ m: UnsafeMutablePointer<Float>, image: Int, channel co: Int, tileRows: Range<Int>,
                         imageSlot i: Int, tiles t: Int, output: UnsafeMutablePointer<Float>,
                         scratch: UnsafeMutablePointer<Float>) {
        let plane = cout * t
        let tilesHere = tileRows.count * tw
        let ys = scratch + 8 * pw
        let y00 = ys, y01 = ys + (tw + 8), y10 = ys + 2 * (tw + 8), y11 = ys + 3 * (tw + 8)
        let bv = bias.map { $0.storage.pointer[co] } ?? 0
        let out = output + (image * cout + co) * oh * ow
        let rrow = residual.map { $0.storage.pointer + (image * cout + co) * h * w }
        for ty in tileRows {
            let p = m + co * t + i * tilesHere + (ty - tileRows.lowerBound) * tw
            let p0 = p, p1 = p + plane, p2 = p + 2 * plane, p3 = p + 3 * plane
            let p4 = p + 4 * plane, p5 = p + 5 * plane, p6 = p + 6 * plane, p7 = p + 7 * plane
            let p8 = p + 8 * plane, p9 = p + 9 * plane, p10 = p + 10 * plane, p11 = p + 11 * plane
            let p12 = p + 12 * plane, p13 = p + 13 * plane, p14 = p + 14 * plane
            let p15 = p + 15 * plane
            var tx0 = 0
            let bias8 = SIMD8<Float>(repeating: bv)
            // Whole vectors even past the row's end: the extra lanes read neighbouring values (M is
            // followed by at least 8 floats of scratch) and are never stored to the output.
            while tx0 < tw {
                let q4 = load8(p4 + tx0), q5 = load8(p5 + tx0), q6 = load8(p6 + tx0)
                let q7 = load8(p7 + tx0), q8 = load8(p8 + tx0), q9 = load8(p9 + tx0)
                let q10 = load8(p10 + tx0), q11 = load8(p11 + tx0)
                let a0 = load8(p0 + tx0) + q4 + q8, a1 = load8(p1 + tx0) + q5 + q9
                let a2 = load8(p2 + tx0) + q6 + q10, a3 = load8(p3 + tx0) + q7 + q11
                let b0 = q4 - q8 - load8(p12 + tx0), b1 = q5 - q9 - load8(p13 + tx0)
                let b2 = q6 - q10 - load8(p14 + tx0), b3 = q7 - q11 - load8(p15 + tx0)
                store8(a0 + a1 + a2 + bias8, y00 + tx0)
                store8(a1 - a2 - a3 + bias8, y01 + tx0)
                store8(b0 + b1 + b2 + bias8, y10 + tx0)
                store8(b1 - b2 - b3 + bias8, y11 + tx0)
                tx0 += 8
            }
            for tx in min(tx0, tw)..<tw {
                let a0 = p0[tx] + p4[tx] + p8[tx], a1 = p1[tx] + p5[tx] + p9[tx]
                let a2 = p2[tx] + p6[tx] + p10[tx], a3 = p3[tx] + p7[tx] + p11[tx]
                let b0 = p4[tx] - p8[tx] - p12[tx], b1 = p5[tx] - p9[tx] - p13[tx]
                let b2 = p6[tx] - p10[tx] - p14[tx], b3 = p7[tx] - p11[tx] - p15[tx]
                y00[tx] = a0 + a1 + a2 + bv
                y01[tx] = a1 - a2 - a3 + bv
                y10[tx] = b0 + b1 + b2 + bv
                y11[tx] = b1 - b2 - b3 + bv
            }
            if pool {
                guard ty < oh else { continue }
                let o = out + ty * ow
                for tx in 0..<ow {
                    let mx = max(max(y00[tx], y01[tx]), max(y10[tx], y11[tx]))
                    o[tx] = relu ? max(mx, 0) : mx
                }
                continue
            }
            for dy in 0..<2 {
                let oy = 2 * ty + dy
                guard oy < oh else { break }
                let ya = dy == 0 ? y00 : y10, yb = dy == 0 ? y01 : y11
                let o = out + oy * ow
                let rr = rrow.map { $0 + oy * w }
                for tx in 0..<tw {
                    var e = ya[tx], f = yb[tx]
                    let ox = 2 * tx
                    if let rr {
                        e += rr[ox]
                        if ox + 1 < ow { f += rr[ox + 1] }
                    }
                    if relu { e = max(e, 0); f = max(f, 0) }
                    o[ox] = e
                    if ox + 1 < ow { o[ox + 1] = f }
                }
            }
        }
    }
}

@inline(__always) private func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) private func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) private func load16(_ p: UnsafeMutablePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always) private func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Copies input rows `first ..< first + count` of an `h × w` plane into rows `rowStride` apart, each
/// with one zero before and zeros after (padding 1); rows outside the plane are all zeros.
@inline(__always)
func copyPaddedRows(_ plane: UnsafePointer<Float>, height h: Int, width w: Int, from first: Int, count: Int,
                    into rows: UnsafeMutablePointer<Float>, rowStride pw: Int) {
    for r in 0..<count {
        let iy = first + r, dst = rows + r * pw
        if iy >= 0 && iy < h {
            dst[0] = 0
            (dst + 1).update(from: plane + iy * w, count: w)
            (dst + 1 + w).update(repeating: 0, count: pw - 1 - w)
        } else {
            dst.update(repeating: 0, count: pw)
        }
    }
}

/// How Winograd work is cut into units for the threads: blocks of tile rows of one image when an
/// image has at least `targetTiles` tiles, otherwise groups of whole images; `tMax` is the most
/// tiles in a unit, `workers` the threads that get work, and `unitImages(unit)` a unit's first
/// image, its count of images and its tile rows `ty0 ..< ty1`. Shared by F(2×2,3×3) and F(4×4,3×3).
func winogradWorkUnits(images n: Int, tileRows th: Int, tileColumns tw: Int, targetTiles target: Int, threads: Int)
    -> (units: Int, tMax: Int, workers: Int,
        unitImages: @Sendable (Int) -> (first: Int, count: Int, ty0: Int, ty1: Int)) {
    let tilesPerImage = th * tw
    let rowBlocked = tilesPerImage >= target
    let rowsPerUnit = rowBlocked ? max(1, target / tw) : th
    let unitsPerImage = rowBlocked ? (th + rowsPerUnit - 1) / rowsPerUnit : 1
    var nb = 1
    var units = n * unitsPerImage
    if !rowBlocked {
        let wanted = max(1, (target + tilesPerImage - 1) / tilesPerImage)
        units = (n + min(n, wanted) - 1) / min(n, wanted)
        if n >= threads { units = (units + threads - 1) / threads * threads }
        nb = max(1, (n + units - 1) / units)
        units = (n + nb - 1) / nb
    }
    let tMax = rowBlocked ? rowsPerUnit * tw : nb * tilesPerImage
    let imagesPerUnit = nb
    let unitImages: @Sendable (Int) -> (first: Int, count: Int, ty0: Int, ty1: Int) = { unit in
        let first = rowBlocked ? unit / unitsPerImage : unit * imagesPerUnit
        let ty0 = rowBlocked ? (unit % unitsPerImage) * rowsPerUnit : 0
        return (first, rowBlocked ? 1 : min(imagesPerUnit, n - first), ty0, min(th, ty0 + rowsPerUnit))
    }
    return (units, tMax, workers: min(threads, units), unitImages)
}

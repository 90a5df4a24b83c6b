import Testing
@testable import Tensors

/// vidclass's own GEMM for packed weights (``WeightMatrices``) against a naive product in Float64:
/// edges of the 6 × 16 tiles, the 256-deep and 2048-wide blocks, row slices, several matrices,
/// leading dimensions wider than the matrices, and the multi-threaded split.
@Suite struct PackedGEMMTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        var m: Int, n: Int, k: Int, count = 1, rows: Range<Int>? = nil, pad = 0, threads = 1
        var testDescription: String { "\(count)×\(m)×\(k) · \(k)×\(n) rows \(rows.map { "\($0)" } ?? "all") pad \(pad) threads \(threads)" }
    }

    @Test(arguments: [
        Shape(m: 6, n: 16, k: 1),
        Shape(m: 7, n: 17, k: 3),
        Shape(m: 64, n: 3136, k: 147),
        Shape(m: 5, n: 33, k: 600, pad: 3),
        Shape(m: 13, n: 2100, k: 20),
        Shape(m: 512, n: 64, k: 300, count: 3, rows: 250..<512),
        Shape(m: 40, n: 50, k: 9, count: 2, rows: 7..<29, pad: 5),
        Shape(m: 600, n: 40, k: 100, rows: 3..<599, threads: 2),
        Shape(m: 30, n: 700, k: 130, rows: 1..<29, threads: 2),
    ])
    func packedProductMatchesNaiveProduct(_ s: Shape) {
        guard WeightMatrices.packingAvailable else { return }
        let saved = ComputeThreads.count
        ComputeThreads.count = s.threads
        defer { ComputeThreads.count = saved }
        var rng = SplitMix64(seed: UInt64(s.m * 131 + s.n * 7 + s.k))
        let w = Tensor.normal(shape: [s.count * s.m * s.k], using: &rng).scalars
        let ldb = s.n + s.pad, ldc = s.n + s.pad
        let b = Tensor.normal(shape: [s.k * ldb], using: &rng).scalars
        let packed = WeightMatrices(w, count: s.count, rows: s.m, columns: s.k, pack: true)
        let plain = WeightMatrices(w, count: s.count, rows: s.m, columns: s.k, pack: false)
        #expect(packed.isPacked && !plain.isPacked)
        let rows = s.rows ?? 0..<s.m
        for index in 0..<s.count {
            // C starts as garbage (NaN): every element in the slice must be written, none outside it.
            var c = [Float](repeating: .nan, count: rows.count * ldc)
            var reference = c
            c.withUnsafeMutableBufferPointer { cp in
                b.withUnsafeBufferPointer { bp in
                    packed.multiply(index, rows: s.rows, n: s.n, b: bp.baseAddress!, ldb: ldb, c: cp.baseAddress!, ldc: ldc)
                }
            }
            reference.withUnsafeMutableBufferPointer { cp in
                b.withUnsafeBufferPointer { bp in
                    plain.multiply(index, rows: s.rows, n: s.n, b: bp.baseAddress!, ldb: ldb, c: cp.baseAddress!, ldc: ldc)
                }
            }
            var worst = 0.0
            for (i, row) in rows.enumerated() {
                for j in 0..<ldc {
                    let got = c[i * ldc + j]
                    if j >= s.n {
                        #expect(got.isNaN, "column \(j) past n was written")
                        continue
                    }
                    var exact = 0.0
                    for p in 0..<s.k { exact += Double(w[(index * s.m + row) * s.k + p]) * Double(b[p * ldb + j]) }
                    worst = max(worst, abs(Double(got) - exact) / max(1, abs(exact)))
                    #expect(abs(Double(reference[i * ldc + j]) - exact) / max(1, abs(exact)) < 1e-4)
                }
            }
            #expect(worst < 1e-4, "largest relative error \(worst)")
        }
    }

    @Test func unpackedWeightsGoThroughTheGEMMEntryPoint() {
        let w: [Float] = [1, 2, 3, 4, 5, 6]  // 2 × 3
        let b: [Float] = [1, 0, 0, 1, 1, 1]  // 3 × 2
        var c = [Float](repeating: 0, count: 4)
        let matrices = WeightMatrices(w, count: 1, rows: 2, columns: 3, pack: false)
        #expect(!matrices.isPacked)
        c.withUnsafeMutableBufferPointer { cp in
            b.withUnsafeBufferPointer { matrices.multiply(0, n: 2, b: $0.baseAddress!, ldb: 2, c: cp.baseAddress!, ldc: 2) }
        }
        #expect(c == [4, 5, 10, 11])
    }
}

/// ``GEMM/multiply`` (vidclass's own kernel when the CPU has AVX2 and FMA) against a naive product:
/// every transpose combination, alpha and beta, blocks deeper than 256 and row blocks past 120.
@Suite struct GEMMEntryPointTests {
    @Test(arguments: [
        (false, false, 7, 9, 5, Float(1), Float(0)),
        (true, false, 130, 33, 300, Float(1), Float(1)),
        (false, true, 16, 1024, 256, Float(1), Float(0)),
        (true, true, 125, 70, 270, Float(0.5), Float(2)),
        (false, false, 1, 1, 1, Float(-1), Float(0.25)),
        // A convolution's weight gradient (dY · colᵀ): A's panels of six rows and Bᵀ's of 16 columns
        // transposed 8 steps of k at a time, their last rows, columns and steps one at a time.
        (false, true, 64, 290, 301, Float(1), Float(1)),
        (false, true, 12, 32, 16, Float(1), Float(0)),
        (false, true, 13, 40, 7, Float(0.5), Float(0)),
        (false, false, 12, 20, 19, Float(2), Float(0)),
    ])
    func productMatchesNaiveProduct(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float) {
        var rng = SplitMix64(seed: UInt64(m + 1000 * n + k))
        let a = Tensor.normal(shape: transposeA ? [k, m] : [m, k], using: &rng).scalars
        let b = Tensor.normal(shape: transposeB ? [n, k] : [k, n], using: &rng).scalars
        let c0 = Tensor.normal(shape: [m, n], using: &rng).scalars
        var c = beta == 0 ? [Float](repeating: .nan, count: m * n) : c0
        GEMM.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                      a: a, lda: transposeA ? m : k, b: b, ldb: transposeB ? k : n, beta: beta, c: &c, ldc: n)
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    s += Double(transposeA ? a[p * m + i] : a[i * k + p]) * Double(transposeB ? b[j * k + p] : b[p * n + j])
                }
                let exact = Double(alpha) * s + (beta == 0 ? 0 : Double(beta) * Double(c0[i * n + j]))
                worst = max(worst, abs(Double(c[i * n + j]) - exact) / max(1, abs(exact)))
            }
        }
        #expect(worst < 1e-4, "largest relative error \(worst)")
    }
}

/// Products of at most ``GEMM/smallRows`` rows against a transposed B (a recurrent layer's input
/// projection and steps) run as blocks of dot products (four or two rows of A against eight, four
/// or two of B, with the instructions this CPU has): against a naive product in Float64, on shapes
/// that leave every kind of remainder (rows, columns of B, the 16-float lanes of k), with alpha,
/// beta and leading dimensions wider than the matrices.
@Test(arguments: [(1, 1, 1), (1, 1030, 256), (2, 9, 17), (3, 8, 16), (4, 4, 15), (5, 33, 300), (16, 1024, 40), (13, 7, 33)])
func fewRowsProductsMatchNaiveProduct(_ shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    let (lda, ldb, ldc) = (k + 3, k + 1, n + 2)
    var rng = SplitMix64(seed: UInt64(m * 1000 + n * 10 + k))
    let a = Tensor.normal(shape: [m * lda], using: &rng).scalars
    let b = Tensor.normal(shape: [n * ldb], using: &rng).scalars
    let c0 = Tensor.normal(shape: [m * ldc], using: &rng).scalars
    var c = c0
    let (alpha, beta): (Float, Float) = (0.75, 0.5)
    c.withUnsafeMutableBufferPointer { cp in
        GEMM.multiply(transposeA: false, transposeB: true, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                      beta: beta, c: cp.baseAddress!, ldc: ldc, parallel: false)
    }
    var worst = 0.0
    for i in 0..<m {
        for j in 0..<ldc {
            if j >= n {
                #expect(c[i * ldc + j] == c0[i * ldc + j], "column \(j) past n was written")
                continue
            }
            var exact = 0.0
            for p in 0..<k { exact += Double(a[i * lda + p]) * Double(b[j * ldb + p]) }
            exact = Double(alpha) * exact + Double(beta) * Double(c0[i * ldc + j])
            worst = max(worst, abs(Double(c[i * ldc + j]) - exact) / max(1, abs(exact)))
        }
    }
    #expect(worst < 1e-5, "\(m)×\(n)×\(k), \(VectorInstructions.current): largest relative error \(worst)")
}

/// A row's products have the same bits whether the row is multiplied alone (blocks of one row
/// against eight of B) or with others (four against four, and the remainders): every block sums
/// a product's lanes as the same tree. Streaming (one row per step) and batches rely on it. (On a
/// CPU without AVX2 and FMA the products are OpenBLAS's, whose paths for one row and for several
/// round differently: there they agree within rounding.)
@Test(arguments: [(6, 1030, 256), (16, 1024, 40), (5, 13, 33)])
func fewRowsProductsHaveTheSameBitsInAnyBlock(_ shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    var rng = SplitMix64(seed: UInt64(m * 77 + n + k))
    let a = Tensor.normal(shape: [m * k], using: &rng).scalars
    let b = Tensor.normal(shape: [n * k], using: &rng).scalars
    var together = [Float](repeating: 0, count: m * n)
    GEMM.multiply(transposeA: false, transposeB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: &together, ldc: n,
                  parallel: false)
    for i in 0..<m {
        var alone = [Float](repeating: 0, count: n)
        a.withUnsafeBufferPointer { ap in
            GEMM.multiply(transposeA: false, transposeB: true, m: 1, n: n, k: k, a: ap.baseAddress! + i * k, lda: k, b: b, ldb: k,
                          c: &alone, ldc: n, parallel: false)
        }
        let row = Array(together[(i * n)..<((i + 1) * n)])
        if GEMM.ownKernel {
            #expect(alone == row, "row \(i) of \(m)×\(n)×\(k), \(VectorInstructions.current)")
        } else {
            #expect(zip(alone, row).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) }, "row \(i), OpenBLAS")
        }
    }
}

import CKernels
import COpenBLAS
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// The one matrix-product entry point of vidclass (row-major single-precision GEMM).
///
/// Computes `C = alpha * op(A) * op(B) + beta * C` where `op(A)` is `m × k` and `op(B)` is `k × n`.
/// Every matrix product in Tensors and NeuralNetwork goes through here (or through
/// ``WeightMatrices`` for weights packed ahead of time). On CPUs with AVX2 and FMA the products run
/// on vidclass's own kernel (`CKernels`), which is as fast as OpenBLAS's on large products and
/// spares the process from loading OpenBLAS at all; elsewhere, or with `VIDCLASS_GEMM=openblas`,
/// on OpenBLAS's `cblas_sgemm`.
package enum GEMM {
    /// Whether products run on vidclass's own kernel: the CPU has AVX2 and FMA, and
    /// `VIDCLASS_GEMM` is not `openblas`.
    package static let ownKernel: Bool = {
        if let choice = getenv("VIDCLASS_GEMM"), String(cString: choice) == "openblas" { return false }
        return vc_packed_gemm_available() != 0
    }()

    /// Computes the product, split across ``ComputeThreads/count`` threads when it is large and
    /// `parallel` is true (pass `false` from code that is already running on several threads).
    package static func multiply(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, parallel: Bool = true
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "negative GEMM size")
        if m == 0 || n == 0 { return }
        precondition(lda >= max(1, transposeA ? m : k), "lda too small")
        precondition(ldb >= max(1, transposeB ? k : n), "ldb too small")
        precondition(ldc >= max(1, n), "ldc too small")
        if k == 0 {
            // BLAS would only scale C; do it here so beta = 0 clears uninitialised memory.
            for i in 0..<m {
                let row = c + i * ldc
                for j in 0..<n { row[j] = beta == 0 ? 0 : beta * row[j] }
            }
            return
        }
        let threads = parallel ? ComputeThreads.count : 1
        let work = Double(m) * Double(n) * Double(k)
        if threads > 1 && work >= 2_000_000 && max(m, n) >= 32 * threads {
            // Split the larger output dimension into blocks (multiples of 16 columns/rows).
            let splitColumns = n >= m
            let extent = splitColumns ? n : m
            let blocks = (extent + 15) / 16
            let aBox = UncheckedSendable(a), bBox = UncheckedSendable(b), cBox = UncheckedSendable(c)
            parallelFor(threads) { w in
                let r = partition(blocks, worker: w, of: threads)
                let start = r.lowerBound * 16, end = min(r.upperBound * 16, extent)
                guard end > start else { return }
                if splitColumns {
                    single(transposeA, transposeB, m, end - start, k, alpha, aBox.value, lda,
                           bBox.value + (transposeB ? start * ldb : start), ldb, beta, cBox.value + start, ldc)
                } else {
                    single(transposeA, transposeB, end - start, n, k, alpha,
                           aBox.value + (transposeA ? start : start * lda), lda, bBox.value, ldb, beta,
                           cBox.value + start * ldc, ldc)
                }
            }
        } else {
            single(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        }
    }

    @inline(__always)
    private static func single(
        _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        if ownKernel {
            vc_gemm(transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
        } else {
            vc_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                     beta, c, Int32(ldc))
        }
    }
}

/// Thread-count control, kept under its original name: forwards to ``ComputeThreads``
/// (OpenBLAS itself runs single-threaded; vidclass partitions the work).
public enum BLASThreads {
    /// The number of threads used for matrix products and the kernels around them.
    public static var count: Int {
        get { ComputeThreads.count }
        set { ComputeThreads.count = newValue }
    }

    /// Opens OpenBLAS (normally opened by the first matrix product) on a background thread, so
    /// that loading it overlaps other start-up work such as opening a video. Does nothing when
    /// vidclass's own GEMM kernel runs the products (AVX2 and FMA): OpenBLAS is then never needed.
    public static func preload() {
        guard !GEMM.ownKernel else { return }
        DispatchQueue.global().async { _ = vc_blas_load() }
    }
}

extension Tensor {
    /// The matrix product of two rank-2 tensors, `op(a) · op(b)`.
    ///
    /// - Parameters:
    ///   - transposeA: use `aᵀ` (shape `[k, m]`) instead of `a` (`[m, k]`).
    ///   - transposeB: use `bᵀ` (shape `[n, k]`) instead of `b` (`[k, n]`).
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul needs rank-2 tensors, got \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[1] : a.shape[0]
        let k = transposeA ? a.shape[0] : a.shape[1]
        let kb = transposeB ? b.shape[1] : b.shape[0]
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition(k == kb, "matmul inner dimensions differ: \(a.shape) · \(b.shape)")
        var c = Tensor(uninitializedShape: [m, n])
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                GEMM.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                              a: pa.baseAddress!, lda: a.shape[1], b: pb.baseAddress!, ldb: b.shape[1],
                              c: c.storage.pointer, ldc: n)
            }
        }
        c.makeUnique()
        return c
    }
}

/// Weight matrices as the GEMM reads them: `count` row-major `rows × columns` matrices, one after
/// another (a convolution's groups, or Winograd's transformed filters, one matrix per tile element),
/// each the left operand of products `W[i] · B`.
///
/// Packed (`pack: true`, for weights that no longer change, as in an inference snapshot) they are
/// laid out once for vidclass's own AVX2/FMA GEMM, which then packs only `B` on each product and
/// skips OpenBLAS's repacking of the weights and its pass to clear `C`. Unpacked (training, or a
/// CPU without AVX2 and FMA, or `VIDCLASS_GEMM=openblas`), products go through ``GEMM/multiply``.
package struct WeightMatrices: @unchecked Sendable {
    package let count: Int
    package let rows: Int
    package let columns: Int
    /// The matrices as given, kept only while unpacked (packed, the copy replaces them).
    private let values: [Float]
    private let packed: PackedStorage?

    /// Whether packed products run on this machine (``GEMM/ownKernel``).
    package static var packingAvailable: Bool { GEMM.ownKernel }

    package init(_ values: [Float], count: Int, rows: Int, columns: Int, pack: Bool) {
        precondition(values.count == count * rows * columns, "weight matrices: \(values.count) values for \(count)×\(rows)×\(columns)")
        self.count = count
        self.rows = rows
        self.columns = columns
        packed = pack && Self.packingAvailable && rows > 0 && columns > 0
            ? PackedStorage(values, count: count, rows: rows, columns: columns) : nil
        self.values = packed == nil ? values : []
    }

    /// Whether products use the packed layout.
    package var isPacked: Bool { packed != nil }

    /// The packed copy of matrix `index` (nil when unpacked), valid while `self` is.
    package func packedPointer(_ index: Int) -> UnsafePointer<Float>? {
        packed.map { UnsafePointer($0.pointer + index * $0.matrixCount) }
    }

    /// `C[r] = W[index][r] · B` for the rows `r` in `rowRange` of matrix `index`, where `B` is
    /// `columns × n` and `c` points at the row `rowRange.lowerBound` of `C`.
    package func multiply(_ index: Int, rows rowRange: Range<Int>? = nil, n: Int, b: UnsafePointer<Float>, ldb: Int,
                          c: UnsafeMutablePointer<Float>, ldc: Int, parallel: Bool = true) {
        let range = rowRange ?? 0..<rows
        precondition(index >= 0 && index < count && range.lowerBound >= 0 && range.upperBound <= rows, "weight matrix out of range")
        guard let packed else {
            values.withUnsafeBufferPointer { w in
                GEMM.multiply(transposeA: false, transposeB: false, m: range.count, n: n, k: columns,
                              a: w.baseAddress! + (index * rows + range.lowerBound) * columns, lda: columns,
                              b: b, ldb: ldb, c: c, ldc: ldc, parallel: parallel)
            }
            return
        }
        precondition(ldb >= n && ldc >= n, "packed GEMM leading dimensions")
        if range.isEmpty || n == 0 { return }
        let a = UnsafePointer(packed.pointer + index * packed.matrixCount)
        let k = columns
        let threads = parallel ? ComputeThreads.count : 1
        let work = Double(range.count) * Double(n) * Double(k)
        guard threads > 1 && work >= 2_000_000 && max(range.count, n) >= 32 * threads else {
            vc_gemm_packed(Int32(range.lowerBound), Int32(range.count), Int32(n), Int32(k), a, b, Int32(ldb), c, Int32(ldc), 0)
            return
        }
        let bBox = UncheckedSendable(b), cBox = UncheckedSendable(c), aBox = UncheckedSendable(a)
        if n >= range.count {
            let blocks = (n + 15) / 16
            parallelFor(threads) { w in
                let r = partition(blocks, worker: w, of: threads)
                let start = r.lowerBound * 16, end = min(r.upperBound * 16, n)
                guard end > start else { return }
                vc_gemm_packed(Int32(range.lowerBound), Int32(range.count), Int32(end - start), Int32(k), aBox.value,
                               bBox.value + start, Int32(ldb), cBox.value + start, Int32(ldc), 0)
            }
        } else {
            // Row blocks on the packed panels' boundaries (6 rows).
            let first = range.lowerBound / 6, end = (range.upperBound + 5) / 6
            parallelFor(threads) { w in
                let r = partition(end - first, worker: w, of: threads)
                let lo = max(range.lowerBound, (first + r.lowerBound) * 6)
                let hi = min(range.upperBound, (first + r.upperBound) * 6)
                guard hi > lo else { return }
                vc_gemm_packed(Int32(lo), Int32(hi - lo), Int32(n), Int32(k), aBox.value, bBox.value, Int32(ldb),
                               cBox.value + (lo - range.lowerBound) * ldc, Int32(ldc), 0)
            }
        }
    }
}

/// The packed copies of ``WeightMatrices`` (freed with the last reference).
private final class PackedStorage: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let matrixCount: Int

    init(_ values: [Float], count: Int, rows: Int, columns: Int) {
        matrixCount = vc_packed_a_count(Int32(rows), Int32(columns))
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, matrixCount * count))
        values.withUnsafeBufferPointer { v in
            for i in 0..<count {
                vc_pack_a(Int32(rows), Int32(columns), v.baseAddress! + i * rows * columns, Int32(columns), pointer + i * matrixCount)
            }
        }
    }

    deinit { pointer.deallocate() }
}

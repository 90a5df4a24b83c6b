import CKernels
import COpenBLAS
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
    /// Whether products run on vidclass's own kernel: the CPU has AVX2 and FMA, `VIDCLASS_GEMM` is
    /// not `openblas`, and the kernels' instruction set is not capped below AVX2
    /// (``VectorInstructions``), as of the first product.
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

    /// Products of at most this many rows against a transposed B run as dot products
    /// (`vc_gemm_rows_dot`): packing B would cost more than the product.
    static let smallRows = 16

    @inline(__always)
    private static func single(
        _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        if ownKernel && !transposeA && transposeB && m <= smallRows {
            // A few rows against Bᵀ: dot products, nothing packed.
            vc_gemm_rows_dot(Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        } else if ownKernel {
            vc_gemm(transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
        } else {
            vc_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                     beta, c, Int32(ldc))
        }
    }
}

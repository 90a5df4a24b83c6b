extension Tensor {
    /// The matrix product of two rank-2 tensors, `op(a) · op(b)`.
    ///
    /// - Parameters:
    ///   - a: the left operand, `[m, k]` (or `[k, m]` with `transposeA`).
    ///   - b: the right operand, `[k, n]` (or `[n, k]` with `transposeB`).
    ///   - transposeA: use `aᵀ` (shape `[k, m]`) instead of `a` (`[m, k]`).
    ///   - transposeB: use `bᵀ` (shape `[n, k]`) instead of `b` (`[k, n]`).
    /// - Returns: the product, `[m, n]`.
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

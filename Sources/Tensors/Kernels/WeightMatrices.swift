import CKernels

/// Weight matrices as the GEMM reads them: `count` row-major `rows × columns` matrices, one after
/// another (a convolution's groups, or Winograd's transformed filters, one matrix per tile element),
/// each the left operand of products `W[i] · B`.
///
/// Packed (`pack: true`: once for weights that no longer change, as in an inference snapshot; once
/// per layer call in training, whose products then do not each repack them) they are laid out for
/// vidclass's own AVX2/FMA GEMM, which then packs only `B` on each product and skips OpenBLAS's
/// repacking of the weights and its pass to clear `C`. Unpacked (`pack: false`, or a CPU without
/// AVX2 and FMA, or `VIDCLASS_GEMM=openblas`), products go through ``GEMM/multiply``.
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

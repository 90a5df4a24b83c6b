import Dispatch
import Synchronization

/// The number of threads the compute kernels use (GEMM included).
///
/// vidclass runs OpenBLAS single-threaded and partitions work itself: a batch of images is split
/// across threads (each calling a single-threaded GEMM), and a single large GEMM is split into
/// column or row blocks. This keeps every core busy in the non-GEMM parts (im2col, epilogues,
/// pooling) too, instead of leaving BLAS worker threads spinning between calls.
public enum ComputeThreads {
    private static let storage = Atomic<Int>(0)

    /// Current thread count (defaults to `VIDCLASS_COMPUTE_THREADS` when set, otherwise the number
    /// of active processors).
    public static var count: Int {
        get {
            let n = storage.load(ordering: .relaxed)
            if n > 0 { return n }
            let fromEnvironment = getenv("VIDCLASS_COMPUTE_THREADS").flatMap { Int(String(cString: $0)) }.flatMap { $0 >= 1 ? $0 : nil }
            let initial = fromEnvironment ?? max(1, ProcessInfoShim.activeProcessorCount)
            set(initial)
            return initial
        }
        set {
            precondition(newValue >= 1, "thread count must be at least 1")
            set(newValue)
        }
    }

    private static func set(_ n: Int) {
        storage.store(n, ordering: .relaxed)
    }
}

enum ProcessInfoShim {
    static var activeProcessorCount: Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Runs `body(worker)` for `worker` in `0..<workers`, concurrently when `workers > 1`.
package func parallelFor(_ workers: Int, _ body: (Int) -> Void) {
    if workers <= 1 {
        for w in 0..<max(workers, 1) { body(w) }
        return
    }
    withoutActuallyEscaping(body) { b in
        let box = UncheckedSendable(b)
        DispatchQueue.concurrentPerform(iterations: workers) { box.value($0) }
    }
}

/// The range of items `0..<count` assigned to `worker` of `workers` (contiguous, balanced).
package func partition(_ count: Int, worker: Int, of workers: Int) -> Range<Int> {
    let base = count / workers, extra = count % workers
    let start = worker * base + min(worker, extra)
    return start..<(start + base + (worker < extra ? 1 : 0))
}

package struct UncheckedSendable<T>: @unchecked Sendable {
    package let value: T
    package init(_ value: T) { self.value = value }
}

/// Splits `0..<count` into one contiguous range per thread (fewer for small counts) and runs
/// `body` on each, concurrently.
package func parallelChunks(_ count: Int, minimumChunk: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
    let workers = max(1, min(ComputeThreads.count, count / max(minimumChunk, 1)))
    parallelFor(workers) { w in body(partition(count, worker: w, of: workers)) }
}

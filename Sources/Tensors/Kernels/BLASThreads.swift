import COpenBLAS
import Dispatch

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

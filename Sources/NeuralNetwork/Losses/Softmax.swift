#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Tensors

/// Row-wise log-softmax of `[N, C]` logits (max-subtracted, stable).
public func logSoftmax(_ logits: Tensor) -> Tensor {
    precondition(logits.rank == 2, "logSoftmax expects [N, C], got \(logits.shape)")
    let n = logits.shape[0], c = logits.shape[1]
    var out = Tensor(uninitializedShape: logits.shape)
    logits.withUnsafeBufferPointer { x in
        out.withUnsafeMutableBufferPointer { y in
            for i in 0..<n {
                let row = x.baseAddress! + i * c
                var m = -Float.infinity
                for j in 0..<c { m = max(m, row[j]) }
                var s: Double = 0
                for j in 0..<c { s += Double(expf(row[j] - m)) }
                let logSum = Float(log(s))
                // (x − max) − log Σ, as PyTorch: exact shift first, so large logits keep precision.
                for j in 0..<c { y[i * c + j] = (row[j] - m) - logSum }
            }
        }
    }
    return out
}

/// Row-wise softmax of `[N, C]` logits.
public func softmax(_ logits: Tensor) -> Tensor { logSoftmax(logits).exp() }

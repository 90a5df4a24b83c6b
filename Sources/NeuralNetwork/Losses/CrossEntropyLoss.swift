#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Tensors

/// Cross-entropy between `[N, C]` logits and class indices, with PyTorch's `nn.CrossEntropyLoss`
/// semantics for `weight`, `label_smoothing` and `reduction="mean"`.
///
/// With class weights `w` and smoothing `ε`:
/// `loss = [(1-ε)·Σᵢ w[yᵢ]·(−log pᵢ[yᵢ]) + ε/C·Σᵢ Σ_c w[c]·(−log pᵢ[c])] / Σᵢ w[yᵢ]`.
public struct CrossEntropyLoss: Sendable {
    /// Per-class weights (`nil` = all ones).
    public var classWeights: [Float]?
    /// Label smoothing ε in `[0, 1]`.
    public var labelSmoothing: Float

    /// A loss; `classWeights` has one weight per class (nil: all 1), `labelSmoothing` is in [0, 1].
    public init(classWeights: [Float]? = nil, labelSmoothing: Float = 0) {
        precondition(labelSmoothing >= 0 && labelSmoothing <= 1, "label smoothing must be in [0, 1]")
        self.classWeights = classWeights
        self.labelSmoothing = labelSmoothing
    }

    /// The mean loss and its gradient with respect to the logits.
    public func callAsFunction(_ logits: Tensor, _ targets: [Int]) -> (loss: Float, gradient: Tensor) {
        precondition(logits.rank == 2 && logits.shape[0] == targets.count, "logits \(logits.shape) vs \(targets.count) targets")
        let n = logits.shape[0], c = logits.shape[1]
        let w = classWeights ?? [Float](repeating: 1, count: c)
        precondition(w.count == c, "\(w.count) class weights for \(c) classes")
        let eps = Double(labelSmoothing)
        let logp = logSoftmax(logits)
        let wSum = w.reduce(0, +)
        var denom = 0.0
        for y in targets {
            precondition(y >= 0 && y < c, "target \(y) out of range 0..<\(c)")
            denom += Double(w[y])
        }
        var total = 0.0
        var grad = Tensor(uninitializedShape: logits.shape)
        logp.withUnsafeBufferPointer { lp in
            grad.withUnsafeMutableBufferPointer { g in
                for i in 0..<n {
                    let y = targets[i], row = i * c
                    var smooth = 0.0
                    for j in 0..<c { smooth -= Double(w[j] * lp[row + j]) }
                    total += (1 - eps) * Double(-w[y] * lp[row + y]) + eps / Double(c) * smooth
                    for j in 0..<c {
                        let p = Double(expf(lp[row + j]))
                        var d = (1 - eps) * Double(w[y]) * (p - (j == y ? 1 : 0))
                        d += eps / Double(c) * (Double(wSum) * p - Double(w[j]))
                        g[row + j] = Float(d / denom)
                    }
                }
            }
        }
        return (Float(total / denom), grad)
    }
}

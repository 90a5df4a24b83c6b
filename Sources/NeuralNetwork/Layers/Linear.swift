import Tensors

/// Fully connected layer, as PyTorch's `nn.Linear`: `y = x·Wᵀ + b`.
///
/// Input `[…, in]` (leading dimensions are flattened into rows), weight `[out, in]`, bias `[out]`,
/// output `[…, out]`.
public final class Linear: Layer {
    /// Input features (the input's last axis) and output features.
    public let inFeatures: Int, outFeatures: Int
    /// The weight matrix, `[out, in]` (`weight`).
    public let weight: Parameter
    /// The bias, `[out]` (`bias`); nil for a layer without bias.
    public let bias: Parameter?
    private var cachedInput: Tensor?

    /// Creates the layer with PyTorch's default initialisation (uniform ±1/√in for weight and bias).
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout SplitMix64) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let bound = pytorchDefaultBound(fanIn: inFeatures)
        weight = Parameter(.uniform(shape: [outFeatures, inFeatures], bound: bound, using: &rng))
        self.bias = bias ? Parameter(.uniform(shape: [outFeatures], bound: bound, using: &rng)) : nil
    }

    /// `weight`, and `bias` when there is one.
    public func namedParameters() -> [(String, Parameter)] {
        var p = [("weight", weight)]
        if let bias { p.append(("bias", bias)) }
        return p
    }

    /// `[…, in]` → `[…, out]`.
    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        precondition(input.shape.last == inFeatures, "Linear expects [..., \(inFeatures)], got \(input.shape)")
        let rows = input.count / inFeatures
        cachedInput = mode == .training ? input : nil
        var y = Tensor.matmul(input.reshaped([rows, inFeatures]), weight.value, transposeB: true)
        if let bias {
            bias.value.withUnsafeBufferPointer { b in
                y.withUnsafeMutableBufferPointer { p in
                    for r in 0..<rows {
                        for j in 0..<outFeatures { p[r * outFeatures + j] += b[j] }
                    }
                }
            }
        }
        return y.reshaped(Array(input.shape.dropLast()) + [outFeatures])
    }

    /// Gradients of the weight and bias from `[…, out]`; returns the input's, `[…, in]`.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input = cachedInput else { preconditionFailure("Linear.backward without a training forward") }
        let rows = input.count / inFeatures
        let dy = outputGradient.reshaped([rows, outFeatures])
        let x = input.reshaped([rows, inFeatures])
        dy.withUnsafeBufferPointer { g in
            x.withUnsafeBufferPointer { xp in
                weight.gradient.withUnsafeMutableBufferPointer { dw in
                    GEMM.multiply(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows,
                                  a: g.baseAddress!, lda: outFeatures, b: xp.baseAddress!, ldb: inFeatures,
                                  beta: 1, c: dw.baseAddress!, ldc: inFeatures)
                }
            }
        }
        if let bias { bias.gradient += dy.sum(alongAxis: 0) }
        return Tensor.matmul(dy, weight.value).reshaped(input.shape)
    }
}

import NeuralNetwork
import Tensors

/// Central finite-difference check of a layer's input and parameter gradients.
///
/// The scalar loss is `Σ forward(x) ⊙ R` for a fixed random `R`, so `backward(R)` must return
/// ∂loss/∂x. Returns the worst relative error `|num − ana| / max(1, |num|, |ana|)`.
func gradientCheck(_ layer: any Layer, input: Tensor, seed: UInt64 = 99, eps: Float = 1e-2,
                   maxChecksPerTensor: Int = 40) -> Float {
    var rng = SplitMix64(seed: seed)
    let probe = layer.forward(input, mode: .training)
    let r = Tensor.normal(shape: probe.shape, using: &rng)
    func loss(_ x: Tensor) -> Double {
        let y = layer.forward(x, mode: .training)
        var s = 0.0
        for i in 0..<y.count { s += Double(y[flat: i]) * Double(r[flat: i]) }
        return s
    }
    layer.zeroGradients()
    _ = layer.forward(input, mode: .training)
    let dx = layer.backward(r)
    var worst: Float = 0
    func compare(_ numeric: Double, _ analytic: Float) {
        let err = Float(abs(numeric - Double(analytic))) / max(1, Float(abs(numeric)), abs(analytic))
        worst = max(worst, err)
    }
    func indices(_ n: Int) -> [Int] {
        n <= maxChecksPerTensor ? Array(0..<n) : (0..<maxChecksPerTensor).map { ($0 * 7919) % n }
    }
    for i in indices(input.count) {
        var plus = input, minus = input
        plus[flat: i] += eps
        minus[flat: i] -= eps
        compare((loss(plus) - loss(minus)) / Double(2 * eps), dx[flat: i])
    }
    for (_, p) in layer.namedParameters() {
        let analytic = p.gradient
        for i in indices(p.value.count) {
            let original = p.value[flat: i]
            p.value[flat: i] = original + eps
            let lp = loss(input)
            p.value[flat: i] = original - eps
            let lm = loss(input)
            p.value[flat: i] = original
            compare((lp - lm) / Double(2 * eps), analytic[flat: i])
        }
    }
    return worst
}

import Tensors

/// Mean squared error `mean((x − y)²)` and its gradient with respect to `x`.
public func meanSquaredError(_ prediction: Tensor, _ target: Tensor) -> (loss: Float, gradient: Tensor) {
    precondition(prediction.shape == target.shape, "MSE shape mismatch \(prediction.shape) vs \(target.shape)")
    let diff = prediction - target
    let n = Float(max(prediction.count, 1))
    return (Float(diff.squaredNorm()) / n, diff * (2 / n))
}

import Tensors

/// Scales all gradients so that their global L2 norm is at most `maxNorm`, as
/// `torch.nn.utils.clip_grad_norm_`. Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [(String, Parameter)], maxNorm: Float) -> Float {
    var total = 0.0
    for (_, p) in parameters { total += p.gradient.squaredNorm() }
    let norm = Float(total.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        for (_, p) in parameters { p.gradient.scale(by: coefficient) }
    }
    return norm
}

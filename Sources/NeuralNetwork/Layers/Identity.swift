import Tensors

/// Identity (PyTorch's `nn.Identity`).
public final class Identity: Layer {
    /// An identity layer (no parameters).
    public init() {}
    /// The input, unchanged.
    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor { input }
    /// The gradient, unchanged.
    public func backward(_ outputGradient: Tensor) -> Tensor { outputGradient }
}

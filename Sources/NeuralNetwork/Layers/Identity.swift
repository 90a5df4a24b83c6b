import Tensors

/// Identity (PyTorch's `nn.Identity`).
public final class Identity: Layer {
    public init() {}
    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor { input }
    public func backward(_ outputGradient: Tensor) -> Tensor { outputGradient }
}

import Tensors

/// Flattens all but the first dimension: `[N, …] → [N, prod(…)]` (PyTorch's `nn.Flatten(1)`).
public final class Flatten: Layer {
    private var inputShape: [Int] = []
    public init() {}

    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        inputShape = input.shape
        return input.reshaped([input.shape[0], -1])
    }

    public func backward(_ outputGradient: Tensor) -> Tensor { outputGradient.reshaped(inputShape) }
}

import Tensors

/// Flattens all but the first dimension: `[N, …] → [N, prod(…)]` (PyTorch's `nn.Flatten(1)`).
public final class Flatten: Layer {
    private var inputShape: [Int] = []
    /// A flatten layer (no parameters).
    public init() {}

    /// `[N, …]` → `[N, prod(…)]`; shares the input's storage.
    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        inputShape = input.shape
        return input.reshaped([input.shape[0], -1])
    }

    /// The gradient reshaped back to the input's shape.
    public func backward(_ outputGradient: Tensor) -> Tensor { outputGradient.reshaped(inputShape) }
}

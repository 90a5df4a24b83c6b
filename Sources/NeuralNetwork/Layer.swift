import Tensors

/// Whether a forward pass is for training (batch statistics, dropout, activations cached for
/// ``Layer/backward(_:)``) or for inference (running statistics, nothing cached).
///
/// Passed explicitly to every forward call: there is no global training flag.
public enum ExecutionMode: Sendable, Equatable {
    /// Batch statistics, active dropout, and what `backward` needs is cached.
    case training
    /// Running statistics, no dropout, nothing cached.
    case inference
}

/// A learnable tensor and the gradient accumulated for it by backward passes.
public final class Parameter {
    /// The current value.
    public var value: Tensor
    /// The accumulated gradient (same shape as `value`); backward passes add to it.
    public var gradient: Tensor

    /// Creates a parameter with a zero gradient.
    public init(_ value: Tensor) {
        self.value = value
        gradient = Tensor(shape: value.shape)
    }

    /// Sets the gradient to zero.
    public func zeroGradient() {
        if gradient.shape != value.shape { gradient = Tensor(shape: value.shape) } else { gradient.fill(0) }
    }
}

/// A network layer with an explicit forward and backward pass.
///
/// A training-mode `forward` remembers what its `backward` needs; `backward` takes the gradient of
/// the loss with respect to that forward's output, adds parameter gradients into each
/// ``Parameter/gradient`` and returns the gradient with respect to the input. Parameter and buffer
/// names are PyTorch `state_dict` keys relative to the layer (e.g. `weight`, `0.bias`).
public protocol Layer: AnyObject {
    /// Computes the layer's output.
    func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor
    /// Back-propagates through the last training-mode forward pass.
    func backward(_ outputGradient: Tensor) -> Tensor
    /// Learnable parameters with dotted names.
    func namedParameters() -> [(String, Parameter)]
    /// Non-learnable state saved with the model (e.g. BatchNorm running statistics).
    func namedBuffers() -> [(String, Parameter)]
}

extension Layer {
    /// None: the default for layers without parameters.
    public func namedParameters() -> [(String, Parameter)] { [] }
    /// None: the default for layers without buffers.
    public func namedBuffers() -> [(String, Parameter)] { [] }

    /// Inference-mode forward pass.
    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input, mode: .inference) }

    /// Parameters and buffers together, in `state_dict` order (parameters of a layer before its buffers).
    public func stateDictionary() -> [(String, Parameter)] { namedParameters() + namedBuffers() }

    /// Zeroes every parameter gradient.
    public func zeroGradients() {
        for (_, p) in namedParameters() { p.zeroGradient() }
    }

    /// Number of learnable scalars.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.value.count } }
}

/// Prefixes names with `prefix.` (no dot when the prefix is empty).
package func prefixed(_ prefix: String, _ items: [(String, Parameter)]) -> [(String, Parameter)] {
    items.map { (prefix.isEmpty ? $0.0 : "\(prefix).\($0.0)", $0.1) }
}

/// PyTorch's default initialisation for Conv and Linear weights (`kaiming_uniform_(a=√5)`),
/// which is uniform in ±1/√fan_in, and for their biases (also ±1/√fan_in).
public func pytorchDefaultBound(fanIn: Int) -> Float {
    fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0
}

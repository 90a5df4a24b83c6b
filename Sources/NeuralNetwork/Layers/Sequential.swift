import Tensors

/// Layers applied in order, named like PyTorch's `nn.Sequential` (`"0"`, `"1"`, …) or with explicit
/// names (for modules such as torchvision's ResNet whose children are named attributes).
public final class Sequential: Layer {
    /// The children with their `state_dict` names.
    public private(set) var layers: [(name: String, layer: any Layer)]

    /// Children named by position, as `nn.Sequential(*layers)`.
    public init(_ layers: [any Layer]) {
        self.layers = layers.enumerated().map { ("\($0.offset)", $0.element) }
    }

    /// Children with explicit names.
    public init(named layers: [(String, any Layer)]) {
        self.layers = layers.map { (name: $0.0, layer: $0.1) }
    }

    /// Each child's output is the next child's input.
    ///
    /// A ``ReLU`` followed by a ``MaxPool2d`` runs in the other order: the maximum of a window
    /// commutes with `max(·, 0)`, so the outputs and (through ``backward(_:)``, which mirrors the
    /// order) the gradients are the same, and the ReLU sees a quarter of the values (a 2×2 pool).
    /// In training, a ``BatchNorm2d`` that then comes right before a 2×2 ``MaxPool2d`` runs with
    /// it (and with a ``ReLU`` right after the pooling) in one pass over the values: the same
    /// outputs, and the normalized values are not stored.
    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        var x = input
        for step in steps(for: mode) {
            switch step {
            case .layer(let index): x = layers[index].layer.forward(x, mode: mode)
            case .normalizeAndPool(let norm, let relu): x = norm.forwardMaxPooled(x, relu: relu)
            }
        }
        return x
    }

    /// Back-propagates through the children in the reverse of the order ``forward(_:mode:)`` ran them.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        var g = outputGradient
        for step in steps(for: .training).reversed() {
            switch step {
            case .layer(let index): g = layers[index].layer.backward(g)
            case .normalizeAndPool(let norm, _): g = norm.backwardMaxPooled(g)
            }
        }
        return g
    }

    /// What a forward pass runs: a child, or a batch norm, the 2×2 max pooling after it and
    /// possibly a ReLU after that, in one pass.
    private enum Step {
        case layer(Int)
        case normalizeAndPool(BatchNorm2d, relu: Bool)
    }

    /// The steps of a forward pass in the order they run: each ReLU directly before a max pooling
    /// swapped with it; in training, a batch norm, the 2×2 max pooling that then follows it and a
    /// ReLU after that as one step.
    private func steps(for mode: ExecutionMode) -> [Step] {
        var order = Array(layers.indices)
        var i = 0
        while i + 1 < order.count {
            if layers[i].layer is ReLU && layers[i + 1].layer is MaxPool2d {
                order.swapAt(i, i + 1)
                i += 2
            } else {
                i += 1
            }
        }
        var steps: [Step] = []
        i = 0
        while i < order.count {
            if mode == .training, i + 1 < order.count, let norm = layers[order[i]].layer as? BatchNorm2d,
               let pool = layers[order[i + 1]].layer as? MaxPool2d,
               pool.kernelSize == 2 && pool.stride == 2 && pool.padding == 0 {
                let relu = i + 2 < order.count && layers[order[i + 2]].layer is ReLU
                steps.append(.normalizeAndPool(norm, relu: relu))
                i += relu ? 3 : 2
            } else {
                steps.append(.layer(order[i]))
                i += 1
            }
        }
        return steps
    }

    /// The children's parameters, prefixed with the children's names (`0.weight`, `layer1.0.conv1.weight`, …).
    public func namedParameters() -> [(String, Parameter)] {
        layers.flatMap { prefixed($0.name, $0.layer.namedParameters()) }
    }

    /// The children's buffers, prefixed with the children's names.
    public func namedBuffers() -> [(String, Parameter)] {
        layers.flatMap { prefixed($0.name, $0.layer.namedBuffers()) }
    }

    /// torchvision's `Conv2dNormActivation`: a convolution without bias (padding `(k−1)/2`),
    /// BatchNorm, and an optional activation (keys `0.weight`, `1.weight`, `1.running_mean`, …).
    public static func convNormActivation(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1,
                                          groups: Int = 1, activation: ActivationFunction?,
                                          batchNorm: (epsilon: Float, momentum: Float) = (1e-5, 0.1),
                                          rng: inout SplitMix64) -> Sequential {
        var layers: [any Layer] = [
            Conv2d(inChannels, outChannels, kernelSize: kernel, stride: stride, padding: (kernel - 1) / 2, groups: groups,
                   bias: false, rng: &rng),
            BatchNorm2d(outChannels, eps: batchNorm.epsilon, momentum: batchNorm.momentum),
        ]
        if let activation { layers.append(Activation(activation)) }
        return Sequential(layers)
    }

    /// Replaces the children (used by inference-time fusion).
    func replaceLayers(_ newLayers: [(name: String, layer: any Layer)]) { layers = newLayers }
}

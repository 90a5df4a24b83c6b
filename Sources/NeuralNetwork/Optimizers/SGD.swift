import Tensors

/// Stochastic gradient descent with momentum and L2 weight decay, as `torch.optim.SGD`:
/// `g ← g + λ·p; b ← μ·b + (1−dampening)·g` (first step `b = g`); `p ← p − lr·(nesterov ? g + μ·b : b)`.
public final class SGD: Optimizer {
    /// The step size `lr` of the next ``step(_:)``; a schedule sets it before each step.
    public var learningRate: Float
    /// Momentum `μ` ≥ 0 (0: none), L2 weight decay `λ` ≥ 0, dampening of the momentum's input, and
    /// whether to use Nesterov momentum.
    public let momentum: Float, weightDecay: Float, dampening: Float, nesterov: Bool
    private var buffers: [String: Tensor] = [:]

    /// SGD with `torch.optim.SGD`'s defaults: no momentum, no weight decay, no dampening.
    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, dampening: Float = 0,
                nesterov: Bool = false) {
        precondition(learningRate >= 0 && momentum >= 0 && weightDecay >= 0, "SGD hyperparameters must be ≥ 0")
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.dampening = dampening
        self.nesterov = nesterov
    }

    /// Updates each parameter from its gradient and, with momentum, its momentum buffer.
    public func step(_ parameters: [(String, Parameter)]) {
        for (name, p) in parameters {
            var g = p.gradient
            if weightDecay != 0 { g.addScaled(p.value, alpha: weightDecay) }
            if momentum != 0 {
                var buf: Tensor
                if var b = buffers[name] {
                    buffers[name] = nil
                    b.scale(by: momentum)
                    b.addScaled(g, alpha: 1 - dampening)
                    buf = b
                } else {
                    buf = g
                }
                buffers[name] = buf
                if nesterov { g.addScaled(buf, alpha: momentum) } else { g = buf }
            }
            p.value.addScaled(g, alpha: -learningRate)
        }
    }

    /// `<name>.momentum_buffer` for every parameter with a buffer (none without momentum).
    public func stateTensors() -> [(String, Tensor)] {
        buffers.keys.sorted().map { ("\($0).momentum_buffer", buffers[$0]!) }
    }

    /// Restores the momentum buffers written by ``stateTensors()``.
    public func loadState(_ tensors: [String: Tensor], for parameters: [(String, Parameter)]) throws(SafeTensorsError) {
        var restored: [String: Tensor] = [:]
        for (name, p) in parameters where tensors["\(name).momentum_buffer"] != nil {
            restored[name] = try Self.stateTensor(tensors, name, "momentum_buffer", shape: p.value.shape)
        }
        buffers = restored
    }
}

import Tensors

/// Updates parameters from their accumulated gradients. State is kept per parameter name.
public protocol Optimizer: AnyObject {
    /// The learning rate used by the next ``step(_:)``.
    var learningRate: Float { get set }
    /// Applies one update to every parameter (gradients are read, not cleared).
    func step(_ parameters: [(String, Parameter)])
    /// The per-parameter state (moments, step counts) as named tensors, `<parameter>.<state>` in
    /// `torch.optim`'s names, so a checkpoint can continue training exactly.
    func stateTensors() -> [(String, Tensor)]
    /// Replaces the state with tensors from ``stateTensors()``, for these parameters.
    /// - Throws: ``SafeTensorsError/missingTensor(name:)`` or ``SafeTensorsError/shapeMismatch(name:expected:found:)``
    ///   when a parameter's state is incomplete or does not fit it; nothing is changed then.
    func loadState(_ tensors: [String: Tensor], for parameters: [(String, Parameter)]) throws(SafeTensorsError)
}

extension Optimizer {
    /// The state tensor `name` for `parameter`, checked against `shape` (nil when the parameter has no
    /// state at all, i.e. it was never stepped).
    static func stateTensor(_ tensors: [String: Tensor], _ parameter: String, _ name: String,
                            shape: [Int]) throws(SafeTensorsError) -> Tensor {
        let key = "\(parameter).\(name)"
        guard let tensor = tensors[key] else { throw .missingTensor(name: key) }
        guard tensor.shape == shape else { throw .shapeMismatch(name: key, expected: shape, found: tensor.shape) }
        return tensor
    }
}

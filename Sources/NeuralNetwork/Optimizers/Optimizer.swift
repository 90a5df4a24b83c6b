import Tensors

/// Updates parameters from their accumulated gradients. State is kept per parameter name.
public protocol Optimizer: AnyObject {
    /// The learning rate used by the next ``step(_:)``.
    var learningRate: Float { get set }
    /// Applies one update to every parameter (gradients are read, not cleared).
    func step(_ parameters: [(String, Parameter)])
}

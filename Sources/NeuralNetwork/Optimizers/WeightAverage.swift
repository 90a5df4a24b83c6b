import Tensors

/// An exponential moving average of a network's weights (Polyak averaging; timm's `ModelEmaV2`
/// keeps one): after every optimizer step, `average ← d · average + (1 − d) · weight`, with the
/// decay warmed up as `d = min(decay, (1 + n) / (10 + n))` after `n` updates (TensorFlow's
/// `ExponentialMovingAverage` with `num_updates`), so early averages are not dominated by the
/// random initial weights.
///
/// ```swift
/// let average = WeightAverage(network.stateDictionary(), decay: 0.99)
/// for batch in batches { train(batch); optimizer.step(parameters); average.update() }
/// average.swap()   // the network now holds the averaged weights
/// ```
/// Buffers are averaged like weights (BatchNorm's running statistics), except integer counters
/// (`num_batches_tracked`), which are copied.
public final class WeightAverage {
    /// The largest decay per update (0 to 1).
    public let decay: Float
    /// Updates so far (they set the warm-up decay).
    public private(set) var updates: Int
    private let parameters: [(String, Parameter)]
    private var average: [Tensor]
    private var swapped = false

    /// Starts the average at the parameters' current values.
    /// - Parameters:
    ///   - parameters: the tensors to average, usually ``Layer/stateDictionary()``.
    ///   - decay: the largest decay per update, 0 to 1 (0.99: a memory of about 100 updates).
    public init(_ parameters: [(String, Parameter)], decay: Float) {
        precondition((0..<1).contains(decay), "decay must be in [0, 1)")
        self.parameters = parameters
        self.decay = decay
        average = parameters.map { $0.1.value }
        updates = 0
    }

    /// Folds the parameters' current values into the average.
    public func update() {
        precondition(!swapped, "update() while the averaged weights are swapped in")
        let d = min(decay, Float(1 + updates) / Float(10 + updates))
        for (i, (name, parameter)) in parameters.enumerated() {
            if name.hasSuffix("num_batches_tracked") {
                average[i] = parameter.value
                continue
            }
            let current = parameter.value
            precondition(current.shape == average[i].shape, "\(name) changed shape")
            current.withUnsafeBufferPointer { x in
                average[i].withUnsafeMutableBufferPointer { a in
                    for j in 0..<a.count { a[j] = d * a[j] + (1 - d) * x[j] }
                }
            }
        }
        updates += 1
    }

    /// Exchanges the parameters' values with the average: call it again to swap back.
    public func swap() {
        for (i, (_, parameter)) in parameters.enumerated() {
            let current = parameter.value
            parameter.value = average[i]
            average[i] = current
        }
        swapped.toggle()
    }

    /// Whether the parameters hold the average (after an odd number of ``swap()`` calls).
    public var isSwappedIn: Bool { swapped }

    /// The averaged tensors by name (the parameters' values while swapped in), for checkpoints.
    public var tensors: [(String, Tensor)] {
        parameters.enumerated().map { i, entry in (entry.0, swapped ? entry.1.value : average[i]) }
    }

    /// Restores an average saved from ``tensors`` after `updates` updates.
    /// - Throws: ``SafeTensorsError`` when a tensor is missing or does not fit; nothing changes then.
    public func load(_ tensors: [String: Tensor], updates: Int) throws(SafeTensorsError) {
        precondition(!swapped, "load while the averaged weights are swapped in")
        try check(tensors)
        average = parameters.map { tensors[$0.0]! }
        self.updates = updates
    }

    /// Throws what ``load(_:updates:)`` would throw for `tensors`, changing nothing.
    public func check(_ tensors: [String: Tensor]) throws(SafeTensorsError) {
        for (name, parameter) in parameters {
            guard let tensor = tensors[name] else { throw .missingTensor(name: name) }
            guard tensor.shape == parameter.value.shape else {
                throw .shapeMismatch(name: name, expected: parameter.value.shape, found: tensor.shape)
            }
        }
    }
}

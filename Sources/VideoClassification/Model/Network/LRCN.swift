import NeuralNetwork
import Tensors

/// An LRCN video classifier: per-frame CNN encoder → recurrent layer over time → linear head.
///
/// Input clips `[B, T, 3, H, W]` (NCHW frames); all `B·T` frames go through the encoder as one batch.
/// Output logits `[B, classes]` from the last step (or the mean over time, see
/// ``ModelDescription/Head``). Parameter names match `bench/models.py`'s `LRCN.state_dict()`:
/// `encoder.*`, `lstm.*` (whatever the recurrent kind), `fc.*`.
public final class LRCN: Layer {
    /// The architecture this network was built from.
    public let configuration: ModelDescription
    /// The per-frame CNN: frames `[N, C, H, W]` to features `[N, F]` (parameters `encoder.*`).
    public let encoder: Sequential
    /// The recurrent layer over the frame features, whatever its kind (parameters `lstm.*`).
    public let lstm: Recurrent
    /// The linear head: pooled recurrent outputs (or mean features) to logits `[B, classes]` (parameters `fc.*`).
    public let fc: Linear
    /// Dropout before the head (``ModelDescription/headDropout``; identity at inference).
    public let headDropout: Dropout

    private var cachedShape: (b: Int, t: Int) = (0, 0)
    private var cachedInputShape: [Int] = []

    /// Builds the model with PyTorch's default initialisation drawn from `SplitMix64(seed:)`; with
    /// `initializingWeights: false` the weights start at zero, for a caller that loads all of them next.
    public init(_ description: ModelDescription, seed: UInt64 = 0, initializingWeights: Bool = true) {
        self.configuration = description
        var rng = SplitMix64(seed: seed)
        rng.skipsTensorDraws = !initializingWeights
        encoder = makeEncoder(description, seed: seed, rng: &rng)
        lstm = Recurrent(description.sequenceKind, inputSize: description.featureSize,
                         hiddenSize: description.hiddenSize, numLayers: description.sequenceLayers,
                         bidirectional: description.bidirectional, batchFirst: true, rng: &rng)
        let pooledSize = description.head == .featureMean
            ? description.featureSize : description.hiddenSize * (description.bidirectional ? 2 : 1)
        fc = Linear(pooledSize, description.numClasses, rng: &rng)
        headDropout = Dropout(probability: description.headDropout, seed: seed &+ 0x5EED)
    }

    /// Builds the model and loads its weights from a safetensors file saved from PyTorch
    /// (`save_file(model.state_dict(), path)`) or from ``save(to:metadata:)``.
    public convenience init(_ description: ModelDescription, contentsOf path: String) throws(SafeTensorsError) {
        self.init(description)
        try load(from: SafeTensorsFile(path: path))
    }

    /// Writes all parameters and buffers (F32) with optional metadata.
    public func save(to path: String, metadata: [String: String] = [:]) throws(SafeTensorsError) {
        try SafeTensors.write(stateTensors(), metadata: metadata, to: path)
    }

    /// The trainable parameters with their PyTorch `state_dict` names (`encoder.*`, `lstm.*`, `fc.*`).
    public func namedParameters() -> [(String, Parameter)] {
        prefixed("encoder", encoder.namedParameters()) + prefixed("lstm", lstm.namedParameters())
            + prefixed("fc", fc.namedParameters())
    }

    /// The encoder's BatchNorm running statistics, with their `state_dict` names.
    public func namedBuffers() -> [(String, Parameter)] { prefixed("encoder", encoder.namedBuffers()) }

    /// Per-frame features `[B, T, F]` of clips `[B, T, C, H, W]`.
    public func features(_ clips: Tensor, mode: ExecutionMode) -> Tensor {
        precondition(clips.rank == 5, "LRCN expects clips [B, T, C, H, W], got \(clips.shape)")
        let b = clips.shape[0], t = clips.shape[1]
        let frames = clips.reshaped([b * t, clips.shape[2], clips.shape[3], clips.shape[4]])
        return encoder.forward(frames, mode: mode).reshaped([b, t, configuration.featureSize])
    }

    /// Logits `[B, classes]` for clips `[B, T, C, H, W]`; after a training-mode call,
    /// ``backward(_:)`` can follow.
    public func forward(_ clips: Tensor, mode: ExecutionMode) -> Tensor {
        cachedInputShape = clips.shape
        return head(features(clips, mode: mode), mode: mode)
    }

    /// Logits `[B, classes]` from per-frame features `[B, T, F]`: the recurrent layer (or the
    /// mean over time) and the linear head, without the encoder. With ``headBackward(_:)`` this
    /// trains the sequence model on cached features while the encoder stays frozen.
    public func head(_ features: Tensor, mode: ExecutionMode) -> Tensor {
        cachedShape = (features.shape[0], features.shape[1])
        let pooled = configuration.head == .featureMean ? pool(features) : pool(lstm.forward(features, mode: mode))
        return fc.forward(headDropout.forward(pooled, mode: mode), mode: mode)
    }

    func pool(_ out: Tensor) -> Tensor {
        let b = out.shape[0], t = out.shape[1], d = out.shape[2]
        switch configuration.head {
        case .lastStep:
            return out.swappingFirstAxes().slice(t - 1).reshaped([b, d])
        case .meanOverTime, .featureMean:
            return out.reshaped([b, t, d]).sum(alongAxis: 1) * (1 / Float(t))
        }
    }

    /// Accumulates every parameter's gradient from the logits' gradient `[B, classes]` (after a training
    /// forward pass); returns the gradient of the clips `[B, T, C, H, W]`.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        let (b, t) = cachedShape
        let dFeats = headBackward(outputGradient)
        let dFrames = encoder.backward(dFeats.reshaped([b * t, configuration.featureSize]))
        return dFrames.reshaped(cachedInputShape)
    }

    /// Accumulates every parameter's gradient from the logits' gradient, as ``backward(_:)`` does,
    /// without the clips' gradient: the encoder's first convolution then skips the product that
    /// would make it (what a training step needs).
    public func backwardParameters(_ outputGradient: Tensor) {
        let (b, t) = cachedShape
        let dFeats = headBackward(outputGradient)
        let first = firstConvolution
        first?.computesInputGradient = false
        defer { first?.computesInputGradient = true }
        _ = encoder.backward(dFeats.reshaped([b * t, configuration.featureSize]))
    }

    /// The encoder's first layer when it is a convolution (inside nested ``Sequential``s).
    private var firstConvolution: Conv2d? {
        var layer: any Layer = encoder
        while let sequence = layer as? Sequential {
            guard let first = sequence.layers.first else { return nil }
            layer = first.layer
        }
        return layer as? Conv2d
    }

    /// Gradients of the head and the recurrent layer from the logits' gradient; returns the
    /// gradient of the features `[B, T, F]` that went into the last ``head(_:mode:)``.
    public func headBackward(_ outputGradient: Tensor) -> Tensor {
        let (b, t) = cachedShape
        let dPooled = headDropout.backward(fc.backward(outputGradient))
        let d = dPooled.shape[1]
        var dOut = Tensor(shape: [b, t, d])
        dPooled.withUnsafeBufferPointer { g in
            dOut.withUnsafeMutableBufferPointer { o in
                for bi in 0..<b {
                    switch configuration.head {
                    case .lastStep:
                        for j in 0..<d { o[(bi * t + t - 1) * d + j] = g[bi * d + j] }
                    case .meanOverTime, .featureMean:
                        for ti in 0..<t { for j in 0..<d { o[(bi * t + ti) * d + j] = g[bi * d + j] / Float(t) } }
                    }
                }
            }
        }
        return configuration.head == .featureMean ? dOut : lstm.backward(dOut)
    }

    /// One optimisation step on a batch: forward (training mode), cross-entropy, backward, optional
    /// gradient clipping, optimizer update. Returns the loss before the update.
    @discardableResult
    public func trainingStep(clips: Tensor, labels: [Int], loss: CrossEntropyLoss = CrossEntropyLoss(),
                             optimizer: any Optimizer, clipNorm: Float? = nil) -> Float {
        zeroGradients()
        let logits = forward(clips, mode: .training)
        let (value, gradient) = loss(logits, labels)
        backwardParameters(gradient)
        let params = namedParameters()
        if let clipNorm { clipGradientNorm(params, maxNorm: clipNorm) }
        optimizer.step(params)
        return value
    }
}

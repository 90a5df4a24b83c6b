#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import CKernels
import Tensors

@inline(__always) private func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

/// A multi-layer, optionally bidirectional RNN, LSTM or GRU with PyTorch's semantics and
/// `state_dict` names (`weight_ih_l0 [G·H, I]`, `weight_hh_l0 [G·H, H]`, `bias_ih_l0`, `bias_hh_l0`,
/// `…_reverse` for the backward direction).
///
/// Input `[B, T, I]` when `batchFirst` (else `[T, B, I]`); output `[B, T, D·H]` (resp. `[T, B, D·H]`).
/// The input projection of all time steps is one GEMM; each step adds one `[B, H]·[H, G·H]` GEMM.
/// Backward is back-propagation through time, with the weight gradients accumulated as one GEMM
/// over all steps. For streaming, ``step(_:state:)`` advances a unidirectional layer one step.
public final class Recurrent: Layer {
    /// The cell: LSTM, GRU, or a plain RNN with tanh or ReLU.
    public let kind: RecurrentKind
    /// Input features `I`, hidden units `H` per direction, and stacked layers.
    public let inputSize: Int, hiddenSize: Int, numLayers: Int
    /// Whether each layer also runs backwards in time (`D` = 2), whether input and output are
    /// batch-major (`[B, T, …]`) rather than time-major, and whether the layer has biases.
    public let bidirectional: Bool, batchFirst: Bool, hasBias: Bool
    /// Weights indexed by `layer · directions + direction`.
    public let weightIH: [Parameter], weightHH: [Parameter]
    /// Input and hidden biases `[G·H]`, indexed like the weights; empty without bias.
    public let biasIH: [Parameter], biasHH: [Parameter]
    /// Gradient with respect to the initial state of the last backward pass.
    public private(set) var initialStateGradient: RecurrentState?

    private struct Cache {
        var input: Tensor          // [T, B, I_l] time-major layer input
        var hPrev: [Float]         // [T, B, H]: state fed into step t
        var cPrev: [Float]         // LSTM
        var gates: [Float]         // [T, B, G·H] activated gates (RNN: the new h)
        var extra: [Float]         // LSTM: new c; GRU: W_hn h + b_hn
    }
    private var caches: [Cache] = []
    private var cachedShape: (t: Int, b: Int) = (0, 0)

    /// `D`: 2 for a bidirectional layer, 1 otherwise.
    public var directions: Int { bidirectional ? 2 : 1 }

    /// Creates the layer with PyTorch's default initialisation: every weight and bias uniform in ±1/√H.
    public init(_ kind: RecurrentKind, inputSize: Int, hiddenSize: Int, numLayers: Int = 1,
                bidirectional: Bool = false, batchFirst: Bool = true, bias: Bool = true, rng: inout SplitMix64) {
        precondition(inputSize > 0 && hiddenSize > 0 && numLayers > 0, "invalid recurrent layer size")
        self.kind = kind
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        self.bidirectional = bidirectional
        self.batchFirst = batchFirst
        hasBias = bias
        let d = bidirectional ? 2 : 1, gh = kind.gateCount * hiddenSize
        let bound = 1 / Float(hiddenSize).squareRoot()
        var wih: [Parameter] = [], whh: [Parameter] = [], bih: [Parameter] = [], bhh: [Parameter] = []
        for l in 0..<numLayers {
            for _ in 0..<d {
                let inSize = l == 0 ? inputSize : hiddenSize * d
                wih.append(Parameter(.uniform(shape: [gh, inSize], bound: bound, using: &rng)))
                whh.append(Parameter(.uniform(shape: [gh, hiddenSize], bound: bound, using: &rng)))
                if bias {
                    bih.append(Parameter(.uniform(shape: [gh], bound: bound, using: &rng)))
                    bhh.append(Parameter(.uniform(shape: [gh], bound: bound, using: &rng)))
                }
            }
        }
        weightIH = wih
        weightHH = whh
        biasIH = bih
        biasHH = bhh
    }

    /// PyTorch's names: `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, `…_reverse`, per layer.
    public func namedParameters() -> [(String, Parameter)] {
        var out: [(String, Parameter)] = []
        for l in 0..<numLayers {
            for d in 0..<directions {
                let suffix = "_l\(l)" + (d == 1 ? "_reverse" : "")
                let i = l * directions + d
                out.append(("weight_ih" + suffix, weightIH[i]))
                out.append(("weight_hh" + suffix, weightHH[i]))
                if hasBias {
                    out.append(("bias_ih" + suffix, biasIH[i]))
                    out.append(("bias_hh" + suffix, biasHH[i]))
                }
            }
        }
        return out
    }

    /// `[B, T, I]` → `[B, T, D·H]` (time-major without `batchFirst`), starting from a zero state.
    public func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        forward(input, initialState: nil, mode: mode).output
    }

    /// Runs the whole sequence from `initialState` (zeros when `nil`) and returns the output sequence
    /// and the final state (`h_n`, `c_n`).
    public func forward(_ input: Tensor, initialState: RecurrentState?, mode: ExecutionMode)
        -> (output: Tensor, state: RecurrentState)
    {
        precondition(input.rank == 3 && input.shape[2] == inputSize,
                     "Recurrent expects [\(batchFirst ? "B, T" : "T, B"), \(inputSize)], got \(input.shape)")
        let timeMajor = batchFirst ? input.swappingFirstAxes() : input
        let (out, state) = run(timeMajor, initialState: initialState, training: mode == .training)
        return (batchFirst ? out.swappingFirstAxes() : out, state)
    }

    /// Advances a unidirectional layer by one time step: input `[B, I]`, output `[B, H]` (the top
    /// layer's new hidden state). Stepping through a sequence gives the same numbers as ``forward(_:initialState:mode:)``.
    public func step(_ input: Tensor, state: RecurrentState?) -> (output: Tensor, state: RecurrentState) {
        precondition(!bidirectional, "a bidirectional layer cannot be stepped")
        precondition(input.rank == 2 && input.shape[1] == inputSize, "step expects [B, \(inputSize)], got \(input.shape)")
        let (out, newState) = run(input.reshaped([1] + input.shape), initialState: state, training: false)
        return (out.reshaped([input.shape[0], hiddenSize]), newState)
    }

    /// A zero state for `batch` sequences.
    public func zeroState(batch: Int) -> RecurrentState {
        let shape = [numLayers * directions, batch, hiddenSize]
        return RecurrentState(hidden: Tensor(shape: shape), cell: kind == .lstm ? Tensor(shape: shape) : nil)
    }

    private func run(_ x: Tensor, initialState: RecurrentState?, training: Bool) -> (Tensor, RecurrentState) {
        let t = x.shape[0], b = x.shape[1], h = hiddenSize, g = kind.gateCount, gh = g * h
        let state0 = initialState ?? zeroState(batch: b)
        precondition(state0.hidden.shape == [numLayers * directions, b, h], "initial hidden state has the wrong shape")
        if kind == .lstm { precondition(state0.cell?.shape == state0.hidden.shape, "LSTM needs an initial cell state") }
        var finalH = Tensor(shape: state0.hidden.shape)
        var finalC = kind == .lstm ? Tensor(shape: state0.hidden.shape) : nil
        var layerInput = x
        var newCaches: [Cache] = []
        let h0 = state0.hidden.scalars, c0 = state0.cell?.scalars ?? []
        for l in 0..<numLayers {
            var outputs: [Tensor] = []
            for d in 0..<directions {
                let idx = l * directions + d
                let inSize = layerInput.shape[2]
                // Input projection of every step at once: [T·B, I] · W_ihᵀ (+ b_ih).
                var gi = Tensor.matmul(layerInput.reshaped([t * b, inSize]), weightIH[idx].value, transposeB: true)
                if hasBias {
                    let bias = biasIH[idx].value.scalars
                    gi.withUnsafeMutableBufferPointer { p in
                        for r in 0..<(t * b) { for j in 0..<gh { p[r * gh + j] += bias[j] } }
                    }
                }
                let bhh = hasBias ? biasHH[idx].value.scalars : [Float](repeating: 0, count: gh)
                var hCur = Array(h0[(idx * b * h)..<((idx + 1) * b * h)])
                var cCur = kind == .lstm ? Array(c0[(idx * b * h)..<((idx + 1) * b * h)]) : []
                var hPrevAll = [Float](repeating: 0, count: training ? t * b * h : 0)
                var cPrevAll = [Float](repeating: 0, count: training && kind == .lstm ? t * b * h : 0)
                var gatesAll = [Float](repeating: 0, count: training ? t * b * gh : 0)
                var extraAll = [Float](repeating: 0, count: training && kind != .rnnTanh && kind != .rnnReLU ? t * b * h : 0)
                var out = [Float](repeating: 0, count: t * b * h)
                var ghBuf = [Float](repeating: 0, count: b * gh)
                weightHH[idx].value.withUnsafeBufferPointer { whh in
                    gi.withUnsafeBufferPointer { giP in
                        for s in 0..<t {
                            let step = d == 0 ? s : t - 1 - s
                            hCur.withUnsafeBufferPointer { hp in
                                ghBuf.withUnsafeMutableBufferPointer { gp in
                                    GEMM.multiply(transposeA: false, transposeB: true, m: b, n: gh, k: h,
                                                  a: hp.baseAddress!, lda: h, b: whh.baseAddress!, ldb: h,
                                                  c: gp.baseAddress!, ldc: gh)
                                }
                            }
                            if training {
                                hPrevAll.replaceSubrange((step * b * h)..<((step + 1) * b * h), with: hCur)
                                if kind == .lstm { cPrevAll.replaceSubrange((step * b * h)..<((step + 1) * b * h), with: cCur) }
                            }
                            for bi in 0..<b {
                                let a = giP.baseAddress! + (step * b + bi) * gh
                                let hh = bi * gh
                                let gateBase = (step * b + bi) * gh
                                let hBase = bi * h
                                switch kind {
                                case .lstm where !training:
                                    // Inference: the step's gates vectorized, nothing kept for the backward pass.
                                    ghBuf.withUnsafeBufferPointer { gp in
                                        cCur.withUnsafeMutableBufferPointer { cp in
                                            hCur.withUnsafeMutableBufferPointer { hp in
                                                vc_lstm_cell(Int32(h), a, gp.baseAddress! + hh, bhh, cp.baseAddress! + hBase,
                                                             hp.baseAddress! + hBase)
                                            }
                                        }
                                    }
                                case .lstm:
                                    for j in 0..<h {
                                        let ig = sigmoid(a[j] + ghBuf[hh + j] + bhh[j])
                                        let fg = sigmoid(a[h + j] + ghBuf[hh + h + j] + bhh[h + j])
                                        let gg = tanhf(a[2 * h + j] + ghBuf[hh + 2 * h + j] + bhh[2 * h + j])
                                        let og = sigmoid(a[3 * h + j] + ghBuf[hh + 3 * h + j] + bhh[3 * h + j])
                                        let c = fg * cCur[hBase + j] + ig * gg
                                        cCur[hBase + j] = c
                                        hCur[hBase + j] = og * tanhf(c)
                                        if training {
                                            gatesAll[gateBase + j] = ig
                                            gatesAll[gateBase + h + j] = fg
                                            gatesAll[gateBase + 2 * h + j] = gg
                                            gatesAll[gateBase + 3 * h + j] = og
                                            extraAll[(step * b + bi) * h + j] = c
                                        }
                                    }
                                case .gru:
                                    for j in 0..<h {
                                        let r = sigmoid(a[j] + ghBuf[hh + j] + bhh[j])
                                        let z = sigmoid(a[h + j] + ghBuf[hh + h + j] + bhh[h + j])
                                        let hn = ghBuf[hh + 2 * h + j] + bhh[2 * h + j]
                                        let n = tanhf(a[2 * h + j] + r * hn)
                                        let hp = hCur[hBase + j]
                                        hCur[hBase + j] = (1 - z) * n + z * hp
                                        if training {
                                            gatesAll[gateBase + j] = r
                                            gatesAll[gateBase + h + j] = z
                                            gatesAll[gateBase + 2 * h + j] = n
                                            extraAll[(step * b + bi) * h + j] = hn
                                        }
                                    }
                                case .rnnTanh, .rnnReLU:
                                    for j in 0..<h {
                                        let pre = a[j] + ghBuf[hh + j] + bhh[j]
                                        let v = kind == .rnnTanh ? tanhf(pre) : max(pre, 0)
                                        hCur[hBase + j] = v
                                        if training { gatesAll[gateBase + j] = v }
                                    }
                                }
                            }
                            out.replaceSubrange((step * b * h)..<((step + 1) * b * h), with: hCur)
                        }
                    }
                }
                finalH.withUnsafeMutableBufferPointer { p in
                    for i in 0..<(b * h) { p[idx * b * h + i] = hCur[i] }
                }
                if kind == .lstm {
                    finalC!.withUnsafeMutableBufferPointer { p in
                        for i in 0..<(b * h) { p[idx * b * h + i] = cCur[i] }
                    }
                }
                if training {
                    newCaches.append(Cache(input: layerInput, hPrev: hPrevAll, cPrev: cPrevAll, gates: gatesAll,
                                           extra: extraAll))
                }
                outputs.append(Tensor(shape: [t, b, h], scalars: out))
            }
            layerInput = directions == 1 ? outputs[0] : Tensor.concatenateLastAxis(outputs)
        }
        if training {
            caches = newCaches
            cachedShape = (t, b)
        }
        return (layerInput, RecurrentState(hidden: finalH, cell: finalC))
    }

    /// Back-propagation through time from the output's gradient; returns the input's gradient.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        backward(outputGradient, finalStateGradient: nil)
    }

    /// Back-propagation through time for the last training forward. `finalStateGradient` is the
    /// gradient with respect to the returned final state, if the loss used it. Returns the input
    /// gradient; the initial-state gradient is left in ``initialStateGradient``.
    public func backward(_ outputGradient: Tensor, finalStateGradient: RecurrentState?) -> Tensor {
        precondition(caches.count == numLayers * directions, "Recurrent.backward without a training forward")
        let (t, b) = cachedShape
        let h = hiddenSize, gh = kind.gateCount * h
        var dOut = batchFirst ? outputGradient.swappingFirstAxes() : outputGradient
        precondition(dOut.shape == [t, b, directions * h], "Recurrent gradient shape \(outputGradient.shape) mismatch")
        let dhN = finalStateGradient?.hidden.scalars
        let dcN = finalStateGradient?.cell?.scalars
        var dh0 = [Float](repeating: 0, count: numLayers * directions * b * h)
        var dc0 = kind == .lstm ? dh0 : []
        for l in stride(from: numLayers - 1, through: 0, by: -1) {
            let layerInput = caches[l * directions].input
            let inSize = layerInput.shape[2]
            var dIn = Tensor(shape: [t, b, inSize])
            for d in 0..<directions {
                let idx = l * directions + d
                let cache = caches[idx]
                let dY = directions == 1 ? dOut : dOut.sliceLastAxis(d * h, width: h)
                var dGi = [Float](repeating: 0, count: t * b * gh)
                var dGh = kind == .gru ? [Float](repeating: 0, count: t * b * gh) : []
                var dh = dhN.map { Array($0[(idx * b * h)..<((idx + 1) * b * h)]) } ?? [Float](repeating: 0, count: b * h)
                var dc = kind == .lstm
                    ? (dcN.map { Array($0[(idx * b * h)..<((idx + 1) * b * h)]) } ?? [Float](repeating: 0, count: b * h))
                    : []
                var dhPrev = [Float](repeating: 0, count: b * h)
                let dYs = dY.scalars
                weightHH[idx].value.withUnsafeBufferPointer { whh in
                    for s in stride(from: t - 1, through: 0, by: -1) {
                        let step = d == 0 ? s : t - 1 - s
                        for i in 0..<(b * h) { dh[i] += dYs[step * b * h + i] }
                        for bi in 0..<b {
                            let gBase = (step * b + bi) * gh
                            let hBase = (step * b + bi) * h
                            for j in 0..<h {
                                let dhj = dh[bi * h + j]
                                switch kind {
                                case .lstm:
                                    let ig = cache.gates[gBase + j], fg = cache.gates[gBase + h + j]
                                    let gg = cache.gates[gBase + 2 * h + j], og = cache.gates[gBase + 3 * h + j]
                                    let tc = tanhf(cache.extra[hBase + j])
                                    let dcj = dc[bi * h + j] + dhj * og * (1 - tc * tc)
                                    dGi[gBase + j] = dcj * gg * ig * (1 - ig)
                                    dGi[gBase + h + j] = dcj * cache.cPrev[hBase + j] * fg * (1 - fg)
                                    dGi[gBase + 2 * h + j] = dcj * ig * (1 - gg * gg)
                                    dGi[gBase + 3 * h + j] = dhj * tc * og * (1 - og)
                                    dc[bi * h + j] = dcj * fg
                                case .gru:
                                    let r = cache.gates[gBase + j], z = cache.gates[gBase + h + j]
                                    let n = cache.gates[gBase + 2 * h + j], hn = cache.extra[hBase + j]
                                    let hp = cache.hPrev[hBase + j]
                                    let dan = dhj * (1 - z) * (1 - n * n)
                                    let dar = dan * hn * r * (1 - r)
                                    let daz = dhj * (hp - n) * z * (1 - z)
                                    dGi[gBase + j] = dar
                                    dGi[gBase + h + j] = daz
                                    dGi[gBase + 2 * h + j] = dan
                                    dGh[gBase + j] = dar
                                    dGh[gBase + h + j] = daz
                                    dGh[gBase + 2 * h + j] = dan * r
                                case .rnnTanh:
                                    let v = cache.gates[gBase + j]
                                    dGi[gBase + j] = dhj * (1 - v * v)
                                case .rnnReLU:
                                    dGi[gBase + j] = cache.gates[gBase + j] > 0 ? dhj : 0
                                }
                            }
                        }
                        // dh_prev = dG_h[step] · W_hh (+ z ⊙ dh for GRU)
                        let src = kind == .gru ? dGh : dGi
                        src.withUnsafeBufferPointer { gp in
                            dhPrev.withUnsafeMutableBufferPointer { dp in
                                GEMM.multiply(transposeA: false, transposeB: false, m: b, n: h, k: gh,
                                              a: gp.baseAddress! + step * b * gh, lda: gh, b: whh.baseAddress!, ldb: h,
                                              c: dp.baseAddress!, ldc: h)
                            }
                        }
                        if kind == .gru {
                            for bi in 0..<b {
                                for j in 0..<h {
                                    dhPrev[bi * h + j] += dh[bi * h + j] * cache.gates[(step * b + bi) * gh + h + j]
                                }
                            }
                        }
                        swap(&dh, &dhPrev)
                    }
                }
                dh0.replaceSubrange((idx * b * h)..<((idx + 1) * b * h), with: dh)
                if kind == .lstm { dc0.replaceSubrange((idx * b * h)..<((idx + 1) * b * h), with: dc) }
                let dGiT = Tensor(shape: [t * b, gh], scalars: dGi)
                let dGhT = kind == .gru ? Tensor(shape: [t * b, gh], scalars: dGh) : dGiT
                weightIH[idx].gradient += Tensor.matmul(dGiT, layerInput.reshaped([t * b, inSize]), transposeA: true)
                weightHH[idx].gradient += Tensor.matmul(dGhT, Tensor(shape: [t * b, h], scalars: cache.hPrev),
                                                        transposeA: true)
                if hasBias {
                    biasIH[idx].gradient += dGiT.sum(alongAxis: 0)
                    biasHH[idx].gradient += dGhT.sum(alongAxis: 0)
                }
                dIn += Tensor.matmul(dGiT, weightIH[idx].value).reshaped([t, b, inSize])
            }
            dOut = dIn
        }
        let stateShape = [numLayers * directions, b, h]
        initialStateGradient = RecurrentState(hidden: Tensor(shape: stateShape, scalars: dh0),
                                              cell: kind == .lstm ? Tensor(shape: stateShape, scalars: dc0) : nil)
        return batchFirst ? dOut.swappingFirstAxes() : dOut
    }
}

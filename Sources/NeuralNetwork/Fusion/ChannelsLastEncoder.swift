import CKernels
import Tensors

/// An inference-only snapshot of an inverted-residual encoder (torchvision's MobileNetV2,
/// MobileNetV3 or EfficientNet layout: `features` = a stem Conv2dNormActivation, blocks, a last
/// 1×1 Conv2dNormActivation; then `avgpool`) that runs channels-last (NHWC) after the stem.
///
/// With channels innermost, every 1×1 convolution is one GEMM over all pixels of all frames
/// (`[pixels, Cin] · Wᵀ`), a depthwise convolution multiplies whole channel vectors per tap, and
/// squeeze-and-excitation scales channel vectors: the layouts ONNX Runtime and OpenVINO use for
/// these networks. BatchNorm is folded into the convolutions; bias, residual and activation are
/// applied in one pass after each GEMM.
package final class ChannelsLastEncoder: Layer {
    enum Operation {
        /// `[Cout, Cin]` weights, and the same packed for `vc_gemm_prepacked_b` (empty without
        /// vidclass's own GEMM kernel).
        case pointwise(weight: [Float], packed: [Float], bias: [Float], outChannels: Int, activation: Int32)
        /// Weights `[kh·kw][C]`.
        case depthwise(weights: [Float], bias: [Float], kernel: (Int, Int), stride: Int, padding: (Int, Int), activation: Int32)
        /// `w1t` `[C][S]` and `w2t` `[S][C]`: the 1×1 convolutions' weights transposed.
        case squeeze(w1t: [Float], b1: [Float], squeezed: Int, w2t: [Float], b2: [Float], activation: Int32, gate: Int32)
    }

    struct Block {
        var operations: [Operation]
        var residual: Bool
    }

    let stem: Conv2d
    let blocks: [Block]
    let outChannels: Int
    private var buffers = [ScratchBuffer(), ScratchBuffer(), ScratchBuffer()]

    /// The snapshot of `encoder`, or nil when it does not have the inverted-residual layout.
    package init?(_ encoder: any Layer) {
        guard let root = encoder as? Sequential, root.layers.count == 2, root.layers[1].layer is GlobalAveragePool,
              let features = root.layers[0].layer as? Sequential, features.layers.count >= 3,
              let stemLayers = features.layers.first?.layer as? Sequential,
              let stem = ChannelsLastEncoder.folded(stemLayers.layers.map(\.layer)).first,
              let lastLayers = features.layers.last?.layer as? Sequential,
              let last = ChannelsLastEncoder.operations(lastLayers.layers.map(\.layer)),
              case .pointwise(_, _, _, let outChannels, _)? = last.first, last.count == 1
        else { return nil }
        var blocks: [Block] = []
        for (_, entry) in features.layers.dropFirst().dropLast() {
            let residuals = (entry as? Sequential).map { $0.layers.map(\.layer) } ?? [entry]
            for layer in residuals {
                guard let block = layer as? ResidualBlock, block.shortcut == nil, block.postActivation == nil,
                      let operations = ChannelsLastEncoder.operations(block.body.layers.map(\.layer)) else { return nil }
                blocks.append(Block(operations: operations, residual: block.hasResidual))
            }
        }
        blocks.append(Block(operations: last, residual: false))
        self.stem = stem
        self.blocks = blocks
        self.outChannels = outChannels
    }

    /// Conv2d + BatchNorm (+ activation) runs, folded; nil for anything else.
    static func folded(_ layers: [any Layer]) -> [Conv2d] {
        var result: [Conv2d] = []
        var i = 0
        while i < layers.count {
            guard let conv = layers[i] as? Conv2d, i + 1 < layers.count, let bn = layers[i + 1] as? BatchNorm2d else { return [] }
            let activation = i + 2 < layers.count ? activationFunction(of: layers[i + 2]) : nil
            result.append(foldBatchNorm(conv, bn, activation: activation))
            i += activation == nil ? 2 : 3
        }
        return result
    }

    /// A block body's operations, or nil when it holds something this snapshot cannot run.
    static func operations(_ layers: [any Layer]) -> [Operation]? {
        var result: [Operation] = []
        var pending: [any Layer] = []
        func flush() -> Bool {
            guard !pending.isEmpty else { return true }
            let convolutions = folded(pending)
            pending = []
            guard !convolutions.isEmpty else { return false }
            for conv in convolutions {
                guard let op = operation(conv) else { return false }
                result.append(op)
            }
            return true
        }
        for layer in layers {
            if let seq = layer as? Sequential {
                guard flush() else { return nil }
                pending = seq.layers.map(\.layer)
                guard flush() else { return nil }
            } else if let se = layer as? SqueezeExcitation {
                guard flush() else { return nil }
                let (c, s) = (se.fc1.inChannels, se.fc1.outChannels)
                result.append(.squeeze(w1t: transposed(se.fc1.weight.value.scalars, rows: s, columns: c), b1: se.fc1.bias?.value.scalars ?? .init(repeating: 0, count: s),
                                       squeezed: s, w2t: transposed(se.fc2.weight.value.scalars, rows: c, columns: s),
                                       b2: se.fc2.bias?.value.scalars ?? .init(repeating: 0, count: se.fc2.outChannels),
                                       activation: se.activation.kernelCode, gate: se.gate.kernelCode))
            } else {
                pending.append(layer)
            }
        }
        return flush() ? result : nil
    }

    /// A `rows × columns` matrix transposed.
    static func transposed(_ m: [Float], rows: Int, columns: Int) -> [Float] {
        var t = [Float](repeating: 0, count: m.count)
        for r in 0..<rows { for c in 0..<columns { t[c * rows + r] = m[r * columns + c] } }
        return t
    }

    static func operation(_ conv: Conv2d) -> Operation? {
        let activation = conv.fusedReLU ? ActivationFunction.relu.kernelCode : conv.fusedActivation?.kernelCode ?? 0
        let bias = conv.bias?.value.scalars ?? [Float](repeating: 0, count: conv.outChannels)
        if conv.kernelSize == (1, 1) && conv.stride == (1, 1) && conv.padding == (0, 0) && conv.groups == 1 {
            let weight = conv.weight.value.scalars, (cout, cin) = (conv.outChannels, conv.inChannels)
            var packed: [Float] = []
            if vc_packed_gemm_available() != 0 {
                packed = [Float](repeating: 0, count: vc_packed_bt_count(Int32(cout), Int32(cin)))
                vc_pack_bt(Int32(cout), Int32(cin), weight, Int32(cin), &packed)
            }
            return .pointwise(weight: weight, packed: packed, bias: bias, outChannels: cout, activation: activation)
        }
        if conv.isDepthwise && conv.stride.0 == conv.stride.1 {
            let c = conv.outChannels, taps = conv.kernelSize.0 * conv.kernelSize.1
            let w = conv.weight.value.scalars
            return .depthwise(weights: transposed(w, rows: c, columns: taps), bias: bias, kernel: conv.kernelSize, stride: conv.stride.0,
                              padding: conv.padding, activation: activation)
        }
        return nil
    }

    /// Floats of the stem's output per pass through the blocks: large batches of large frames go
    /// through in groups (at least 16 frames), so that their activations stay closer to the cores.
    static let groupBudget = 1 << 22

    /// `[N, C, H, W]` frames → features `[N, outChannels]`, in groups of frames (``groupBudget``).
    package func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        let stemOut = stem.forward(input, mode: .inference)
        let n = stemOut.shape[0], perImage = stemOut.count / max(n, 1)
        let group = max(16, Self.groupBudget / max(perImage, 1))
        var output = Tensor(uninitializedShape: [n, outChannels])
        for first in stride(from: 0, to: n, by: group) {
            let count = min(group, n - first)
            features(stemOut, images: first..<(first + count), into: output.storage.pointer + first * outChannels)
        }
        output.makeUnique()
        return output
    }

    /// The blocks and the pooling for `images` of the stem's output, features written to `features`.
    private func features(_ stemOut: Tensor, images: Range<Int>, into features: UnsafeMutablePointer<Float>) {
        let n = images.count
        var (h, w, c) = (stemOut.shape[2], stemOut.shape[3], stemOut.shape[1])
        var current = 0
        let first = UncheckedSendable(buffers[0].reserve(n * h * w * c))
        let stemPointer = UncheckedSendable(stemOut.storage.pointer + images.lowerBound * c * h * w)
        let (plane, channels) = (h * w, c)
        parallelChunks(n, minimumChunk: 1) { images in
            for i in images {
                vc_nchw_to_nhwc(stemPointer.value + i * channels * plane, Int32(channels), Int32(plane),
                                first.value + i * channels * plane)
            }
        }
        for block in blocks {
            let blockInput = current
            for (k, operation) in block.operations.enumerated() {
                let target = (0..<3).first { $0 != current && $0 != blockInput }!
                let x = UncheckedSendable(buffers[current].pointer)
                let residual = block.residual && k == block.operations.count - 1
                    ? UncheckedSendable<UnsafeMutablePointer<Float>?>(buffers[blockInput].pointer) : UncheckedSendable(nil)
                switch operation {
                case let .pointwise(weight, packed, bias, cout, activation):
                    let y = UncheckedSendable(buffers[target].reserve(n * h * w * cout))
                    let rows = n * h * w, cin = c
                    // Each thread multiplies its own rows and finishes them while they are in cache.
                    let threads = rows * cin * cout >= 1 << 18 ? ComputeThreads.count : 1
                    let usePacked = !packed.isEmpty
                    (usePacked ? packed : weight).withUnsafeBufferPointer { wp in
                        bias.withUnsafeBufferPointer { bp in
                            let wv = UncheckedSendable(wp.baseAddress!), b = UncheckedSendable(bp.baseAddress!)
                            let blocks = (rows + 15) / 16
                            parallelFor(threads) { worker in
                                let part = partition(blocks, worker: worker, of: threads)
                                let start = part.lowerBound * 16, end = min(rows, part.upperBound * 16)
                                guard end > start else { return }
                                if usePacked {
                                    vc_gemm_prepacked_b(Int32(end - start), Int32(cout), Int32(cin), x.value + start * cin,
                                                        Int32(cin), wv.value, y.value + start * cout, Int32(cout))
                                } else {
                                    GEMM.multiply(transposeA: false, transposeB: true, m: end - start, n: cout, k: cin,
                                                  a: x.value + start * cin, lda: cin, b: wv.value, ldb: cin,
                                                  c: y.value + start * cout, ldc: cout, parallel: false)
                                }
                                vc_rows_epilogue(y.value + start * cout, Int32(end - start), Int32(cout), b.value,
                                                 residual.value.map { UnsafePointer($0 + start * cout) }, activation)
                            }
                        }
                    }
                    c = cout
                case let .depthwise(weights, bias, kernel, stride, padding, activation):
                    let oh = (h + 2 * padding.0 - kernel.0) / stride + 1, ow = (w + 2 * padding.1 - kernel.1) / stride + 1
                    let y = UncheckedSendable(buffers[target].reserve(n * oh * ow * c))
                    let (ih, iw, ch) = (h, w, c)
                    weights.withUnsafeBufferPointer { wp in
                        bias.withUnsafeBufferPointer { bp in
                            let wv = UncheckedSendable(wp.baseAddress!), bv = UncheckedSendable(bp.baseAddress!)
                            parallelChunks(n * oh, minimumChunk: max(1, 2048 / max(ow * ch, 1))) { r in
                                var row = r.lowerBound
                                while row < r.upperBound {
                                    let image = row / oh, start = row % oh, end = min(oh, start + (r.upperBound - row))
                                    let out = y.value + image * oh * ow * ch
                                    vc_depthwise_nhwc(x.value + image * ih * iw * ch, Int32(ih), Int32(iw), Int32(ch), wv.value,
                                                      Int32(kernel.0), Int32(kernel.1), Int32(stride), Int32(padding.0),
                                                      Int32(padding.1), bv.value, out, Int32(ow), Int32(start), Int32(end))
                                    if activation != 0 {
                                        vc_activate(out + start * ow * ch, (end - start) * ow * ch, activation)
                                    }
                                    row += end - start
                                }
                            }
                        }
                    }
                    (h, w) = (oh, ow)
                case let .squeeze(w1, b1, squeezed, w2, b2, activation, gate):
                    let y = UncheckedSendable(buffers[target].reserve(n * h * w * c))
                    let (pixels, ch) = (h * w, c)
                    w1.withUnsafeBufferPointer { w1p in
                        b1.withUnsafeBufferPointer { b1p in
                            w2.withUnsafeBufferPointer { w2p in
                                b2.withUnsafeBufferPointer { b2p in
                                    let p = UncheckedSendable((w1p.baseAddress!, b1p.baseAddress!, w2p.baseAddress!, b2p.baseAddress!))
                                    parallelChunks(n, minimumChunk: max(1, 16384 / max(pixels * ch, 1))) { images in
                                        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * ch + squeezed)
                                        defer { scratch.deallocate() }
                                        for i in images {
                                            vc_squeeze_excite_nhwc(x.value + i * pixels * ch, y.value + i * pixels * ch, Int32(pixels),
                                                                   Int32(ch), p.value.0, p.value.1, Int32(squeezed), p.value.2,
                                                                   p.value.3, activation, gate, scratch)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                current = target
            }
        }
        let x = UncheckedSendable(buffers[current].pointer), y = UncheckedSendable(features)
        let (pixels, ch) = (h * w, c)
        parallelChunks(n, minimumChunk: 1) { images in
            for i in images { vc_channel_means_nhwc(x.value + i * pixels * ch, Int32(pixels), Int32(ch), y.value + i * ch) }
        }
    }

    package func backward(_ outputGradient: Tensor) -> Tensor {
        preconditionFailure("ChannelsLastEncoder is inference-only")
    }
}

import CKernels
import Synchronization
import Tensors
#if canImport(Glibc)
import Glibc
#endif

/// An inference-only snapshot of a convolutional encoder that runs channels-last (NHWC) after its
/// stem: torchvision's inverted-residual encoders (MobileNetV2, MobileNetV3, EfficientNet:
/// `features` = a stem Conv2dNormActivation, blocks, a last 1×1 Conv2dNormActivation; then
/// `avgpool`), its ResNets (`conv1`, `bn1`, `relu`, `maxpool`, `layer1`…`layer4` of basic or
/// bottleneck blocks, `avgpool`) and lrcn-small (3×3 convolution, BatchNorm, ReLU and 2×2 max
/// pooling per width, then average pooling).
///
/// With channels innermost, every 1×1 convolution is one GEMM over pixels (`[pixels, Cin] · Wᵀ`,
/// the activations read in place), a depthwise convolution multiplies whole channel vectors per
/// tap, squeeze-and-excitation scales channel vectors, a 3×3 convolution runs as Winograd
/// F(4×4, 3×3) with both transforms on channel vectors, and any other convolution gathers its
/// windows a chunk of pixels at a time: the layouts ONNX Runtime and OpenVINO use for these
/// networks. BatchNorm is folded into the convolutions; bias, residual (the input, or a ResNet
/// block's projection) and activation are applied to each tile in registers.
///
/// A batch of at least four frames per thread, or a multiple of the thread count, is split by
/// frames: each thread takes its frames one at a time through the stem and the early blocks, whose
/// activations outweigh their weights (the stem with the depthwise convolution after it, and a
/// block's expansion, depthwise convolution and projection, a strip of rows at a time, so that the
/// large activations stay in cache), then up to eight of its frames at a time through the later
/// blocks, as many as move the least to and from memory (their weights read once for the group,
/// their activations kept in L2: ``framePhases(_:)``). Other batches (a stream's single frame) are
/// split across threads inside each layer.
package final class ChannelsLastEncoder: Layer {
    /// Weights packed for the kernels (`vc_pointwise_pack` layout, or 36 such matrices for Winograd),
    /// and their bfloat16 form (`vc_bf16_pack`) when the snapshot runs in ``InferencePrecision/bfloat16``.
    struct PackedWeights {
        let floats: [Float]
        private(set) var bfloat16: [UInt16]?

        init(_ floats: [Float]) { self.floats = floats }

        var count: Int { floats.count }

        /// The inputs of each output in one of `copies` matrices of `outputs` columns (the packing
        /// rounds the columns up to whole panels of 16).
        func inputs(outputs: Int, copies: Int = 1) -> Int { floats.count / copies / ((outputs + 15) / 16 * 16) }

        /// With the bfloat16 form of `copies` matrices of `outputs` columns, each `segments` runs of
        /// inputs (the stem's window rows; 1 for any other convolution).
        func withBFloat16(outputs: Int, segments: Int = 1, copies: Int = 1) -> PackedWeights {
            let each = floats.count / copies, k = inputs(outputs: outputs, copies: copies) / segments
            let eachRounded = vc_bf16_packed_count(Int32(outputs), Int32(k), Int32(segments))
            var rounded = [UInt16](repeating: 0, count: eachRounded * copies)
            floats.withUnsafeBufferPointer { source in
                rounded.withUnsafeMutableBufferPointer { target in
                    for copy in 0..<copies {
                        vc_bf16_pack(Int32(outputs), Int32(k), Int32(segments), source.baseAddress! + copy * each,
                                     target.baseAddress! + copy * eachRounded)
                    }
                }
            }
            var result = self
            result.bfloat16 = rounded
            return result
        }

        /// The fp32 weights and, in bfloat16, the rounded ones (the kernels use those when given).
        func withPointers<R>(_ body: (UnsafePointer<Float>, UnsafePointer<UInt16>?) -> R) -> R {
            floats.withUnsafeBufferPointer { wp in
                if let bfloat16 {
                    bfloat16.withUnsafeBufferPointer { body(wp.baseAddress!, $0.baseAddress!) }
                } else {
                    body(wp.baseAddress!, nil)
                }
            }
        }
    }

    enum Operation {
        /// A convolution of channels-first input (the stem), written channels-last by
        /// `vc_stem_nhwc`: `[Cout, kh, kw, Cin]` weights packed by `vc_pointwise_pack`.
        case stem(packed: PackedWeights, bias: [Float], outChannels: Int, kernel: (Int, Int), stride: (Int, Int),
                  padding: (Int, Int), activation: Int32)
        /// A channels-last convolution by gathered windows (`vc_convolution_nhwc`), weights as the stem's.
        case convolution(packed: PackedWeights, bias: [Float], outChannels: Int, kernel: (Int, Int), stride: Int,
                         padding: (Int, Int), activation: Int32)
        /// A 3×3 convolution (stride 1, padding 1) by Winograd F(4×4, 3×3): the 36 transformed weight
        /// matrices packed by `vc_winograd4_nhwc_pack`; with `pooled`, followed by a 2×2 max pooling
        /// (stride 2) done on each output tile.
        case winograd(packed: PackedWeights, bias: [Float], outChannels: Int, activation: Int32, pooled: Bool = false)
        /// `[Cout, Cin]` weights packed for `vc_pointwise_nhwc`.
        case pointwise(packed: PackedWeights, bias: [Float], outChannels: Int, activation: Int32)
        /// Weights `[kh·kw][C]`.
        case depthwise(weights: [Float], bias: [Float], kernel: (Int, Int), stride: Int, padding: (Int, Int), activation: Int32)
        /// The two 1×1 convolutions' weights (`[S][C]` and `[C][S]`) packed for `vc_pointwise_nhwc`.
        case squeeze(reduce: [Float], b1: [Float], squeezed: Int, expand: [Float], b2: [Float], activation: Int32, gate: Int32)
        /// Max pooling over square windows (padding never counted).
        case maxPool(kernel: Int, stride: Int, padding: Int)

        /// Whether the operation multiplies bfloat16 weights.
        var runsInBFloat16: Bool {
            switch self {
            case let .stem(packed, _, _, _, _, _, _), let .convolution(packed, _, _, _, _, _, _), let .winograd(packed, _, _, _, _),
                 let .pointwise(packed, _, _, _):
                packed.bfloat16 != nil
            case .depthwise, .squeeze, .maxPool:
                false
            }
        }
    }

    struct Block {
        /// The block's name in the encoder, e.g. `features.3` or `layer2.0` (for profiles).
        var name: String
        var operations: [Operation]
        /// Whether the block's input (or `shortcut`'s output) is added before the last operation's
        /// activation.
        var residual: Bool
        /// A ResNet block's projection of its input (1×1, strided), when the shape changes.
        var shortcut: Operation? = nil
    }

    let stem: Operation
    let stemName: String
    let stemChannels: Int
    let blocks: [Block]
    let outChannels: Int
    /// Per worker: three activation buffers and one of stem windows and fused strips, then two that
    /// gather the worker's frames between phases (``framePhases(_:)``).
    private var buffers: [[ScratchBuffer]] = []

    /// The arithmetic of the convolutions: ``InferencePrecision/bfloat16`` when it was asked for
    /// and at least one operation runs in it (their weights' bfloat16 form is made once, in `init`).
    package let precision: InferencePrecision

    /// The snapshot of `encoder`, or nil when it has neither the inverted-residual nor the ResNet
    /// layout. Without `winograd`, 3×3 convolutions gather their windows like any other.
    package init?(_ encoder: any Layer, winograd: Bool = true, precision: InferencePrecision = .float32) {
        guard let root = encoder as? Sequential else { return nil }
        if let layout = ChannelsLastEncoder.invertedResidualLayout(root) ?? ChannelsLastEncoder.resNetLayout(root, winograd: winograd)
            ?? ChannelsLastEncoder.convolutionStackLayout(root, winograd: winograd) {
            (stem, stemName, stemChannels, blocks, outChannels) = precision == .bfloat16 ? Self.rounded(layout) : layout
        } else {
            return nil
        }
        // bf16 only when some operation runs in it (none of a very narrow encoder's might).
        let operations = [stem] + blocks.flatMap { $0.operations + ($0.shortcut.map { [$0] } ?? []) }
        self.precision = operations.contains { $0.runsInBFloat16 } ? .bfloat16 : .float32
    }

    /// `layout` with every operation ``rounded(_:)``.
    static func rounded(_ layout: Layout) -> Layout {
        var result = layout
        result.stem = rounded(layout.stem)
        result.blocks = layout.blocks.map { block in
            var block = block
            block.operations = block.operations.map(rounded)
            block.shortcut = block.shortcut.map(rounded)
            return block
        }
        return result
    }

    /// `operation` with its weights' bfloat16 form, for the products where it pays: more than 32
    /// outputs and at least 24 inputs (a narrower product spends more on rounding its input, and on
    /// the unused half of its second panel, than it saves). The other operations stay in single
    /// precision.
    static func rounded(_ operation: Operation) -> Operation {
        func pays(_ packed: PackedWeights, outputs: Int, copies: Int = 1) -> Bool {
            outputs > 32 && packed.inputs(outputs: outputs, copies: copies) >= 24
        }
        switch operation {
        case let .stem(packed, bias, cout, kernel, stride, padding, activation) where pays(packed, outputs: cout):
            return .stem(packed: packed.withBFloat16(outputs: cout, segments: kernel.0), bias: bias, outChannels: cout,
                         kernel: kernel, stride: stride, padding: padding, activation: activation)
        case let .convolution(packed, bias, cout, kernel, stride, padding, activation) where pays(packed, outputs: cout):
            return .convolution(packed: packed.withBFloat16(outputs: cout), bias: bias, outChannels: cout, kernel: kernel,
                                stride: stride, padding: padding, activation: activation)
        case let .winograd(packed, bias, cout, activation, pooled) where pays(packed, outputs: cout, copies: 36):
            return .winograd(packed: packed.withBFloat16(outputs: cout, copies: 36), bias: bias, outChannels: cout,
                             activation: activation, pooled: pooled)
        case let .pointwise(packed, bias, cout, activation) where pays(packed, outputs: cout):
            return .pointwise(packed: packed.withBFloat16(outputs: cout), bias: bias, outChannels: cout, activation: activation)
        default:
            return operation
        }
    }

    typealias Layout = (stem: Operation, stemName: String, stemChannels: Int, blocks: [Block], outChannels: Int)

    /// MobileNetV2/V3 and EfficientNet: `features` (stem, blocks, last 1×1 convolution), `avgpool`.
    static func invertedResidualLayout(_ root: Sequential) -> Layout? {
        guard root.layers.count == 2, root.layers[1].layer is GlobalAveragePool,
              let features = root.layers[0].layer as? Sequential, features.layers.count >= 3,
              let stemLayers = features.layers.first?.layer as? Sequential,
              let stemConv = folded(stemLayers.layers.map(\.layer)).first, stemConv.groups == 1,
              stemConv.dilation == (1, 1), stemConv.stride.0 == stemConv.stride.1,
              let lastLayers = features.layers.last?.layer as? Sequential,
              let last = operations(lastLayers.layers.map(\.layer)),
              case .pointwise(_, _, let outChannels, _)? = last.first, last.count == 1
        else { return nil }
        var blocks: [Block] = []
        for (index, child) in features.layers.dropFirst().dropLast().enumerated() {
            let stage = child.layer as? Sequential
            let stageLayers: [any Layer] = stage.map { $0.layers.map(\.layer) } ?? [child.layer]
            for (j, layer) in stageLayers.enumerated() {
                guard let block = layer as? ResidualBlock, block.shortcut == nil, block.postActivation == nil,
                      let operations = operations(block.body.layers.map(\.layer)) else { return nil }
                blocks.append(Block(name: stage == nil ? "features.\(index + 1)" : "features.\(index + 1).\(j)",
                                    operations: operations, residual: block.hasResidual))
            }
        }
        blocks.append(Block(name: "features.\(features.layers.count - 1)", operations: last, residual: false))
        return (stemOperation(stemConv), "features.0", stemConv.inChannels, blocks, outChannels)
    }

    /// ResNet-18/34 (basic blocks) and ResNet-50 (bottlenecks): `conv1`, `bn1`, `relu`, `maxpool`,
    /// `layer1`…`layer4`, `avgpool`.
    static func resNetLayout(_ root: Sequential, winograd: Bool) -> Layout? {
        guard root.layers.count == 9, root.layers[8].layer is GlobalAveragePool, let pool = root.layers[3].layer as? MaxPool2d,
              let stemConv = folded(root.layers[0..<3].map(\.layer)).first, stemConv.groups == 1,
              stemConv.dilation == (1, 1), stemConv.stride.0 == stemConv.stride.1
        else { return nil }
        var blocks = [Block(name: "maxpool", operations: [.maxPool(kernel: pool.kernelSize, stride: pool.stride, padding: pool.padding)],
                            residual: false)]
        var outChannels = stemConv.outChannels
        for (name, entry) in root.layers[4..<8] {
            guard let stage = entry as? Sequential else { return nil }
            for (index, (_, child)) in stage.layers.map({ ($0.name, $0.layer) }).enumerated() {
                let convolutions: [Conv2d], projection: Sequential?
                if let basic = child as? BasicBlock {
                    convolutions = [foldBatchNorm(basic.conv1, basic.bn1, activation: .relu),
                                    foldBatchNorm(basic.conv2, basic.bn2, activation: nil)]
                    projection = basic.downsample
                } else if let block = child as? ResidualBlock, block.hasResidual, block.postActivation == .relu {
                    convolutions = folded(block.body.layers.map(\.layer))
                    projection = block.shortcut
                } else {
                    return nil
                }
                // The last convolution takes the residual, then the ReLU that follows the sum.
                guard let last = convolutions.last, last.fusedActivation == nil, !last.fusedReLU else { return nil }
                var operations: [Operation] = []
                for (k, conv) in convolutions.enumerated() {
                    let activation = k == convolutions.count - 1 ? ActivationFunction.relu.kernelCode : activationCode(conv)
                    guard let operation = resNetOperation(conv, activation: activation, winograd: winograd) else { return nil }
                    operations.append(operation)
                }
                var shortcut: Operation? = nil
                if let projection {
                    let convs = folded(projection.layers.map(\.layer))
                    guard convs.count == 1, let conv = convs.first, activationCode(conv) == 0,
                          let operation = resNetOperation(conv, activation: 0, winograd: winograd) else { return nil }
                    shortcut = operation
                }
                blocks.append(Block(name: "\(name).\(index)", operations: operations, residual: true, shortcut: shortcut))
                outChannels = last.outChannels
            }
        }
        return (stemOperation(stemConv), "conv1", stemConv.inChannels, blocks, outChannels)
    }

    /// lrcn-small: (Conv2d 3×3, BatchNorm2d, ReLU, MaxPool2d) for each width, then average pooling
    /// and `Flatten`. Each stage after the first is a block of its convolution and its pooling.
    static func convolutionStackLayout(_ root: Sequential, winograd: Bool) -> Layout? {
        let layers = root.layers.map(\.layer)
        guard layers.count >= 6, layers.count % 4 == 2, layers[layers.count - 2] is GlobalAveragePool, layers.last is Flatten
        else { return nil }
        var stem: (operation: Operation, channels: Int)?
        var blocks: [Block] = []
        var outChannels = 0
        for start in stride(from: 0, to: layers.count - 2, by: 4) {
            guard let pool = layers[start + 3] as? MaxPool2d, activationFunction(of: layers[start + 2]) == .relu,
                  let conv = folded(Array(layers[start..<(start + 3)])).first, conv.groups == 1, conv.dilation == (1, 1),
                  conv.stride.0 == conv.stride.1
            else { return nil }
            let pooling = Operation.maxPool(kernel: pool.kernelSize, stride: pool.stride, padding: pool.padding)
            if stem == nil {
                stem = (stemOperation(conv), conv.inChannels)
                blocks.append(Block(name: "\(start + 3)", operations: [pooling], residual: false))
            } else {
                guard var operation = resNetOperation(conv, activation: activationCode(conv), winograd: winograd) else { return nil }
                // A 2×2 pooling after a Winograd convolution with a ReLU (max and ReLU commute) is
                // done on each output tile, before the outputs are stored.
                if case let .winograd(packed, bias, cout, activation, _) = operation, pool.kernelSize == 2, pool.stride == 2,
                   pool.padding == 0, activation == ActivationFunction.relu.kernelCode {
                    operation = .winograd(packed: packed, bias: bias, outChannels: cout, activation: activation, pooled: true)
                    blocks.append(Block(name: "\(start)", operations: [operation], residual: false))
                } else {
                    blocks.append(Block(name: "\(start)", operations: [operation, pooling], residual: false))
                }
            }
            outChannels = conv.outChannels
        }
        guard let stem else { return nil }
        return (stem.operation, "0", stem.channels, blocks, outChannels)
    }

    /// A ResNet convolution: a 1×1 of stride 1 as a pointwise product, a 3×3 of stride 1 by
    /// Winograd (when `winograd`), any other by gathered windows.
    static func resNetOperation(_ conv: Conv2d, activation: Int32, winograd: Bool) -> Operation? {
        guard conv.groups == 1, conv.dilation == (1, 1), conv.stride.0 == conv.stride.1 else { return nil }
        let bias = conv.bias?.value.scalars ?? [Float](repeating: 0, count: conv.outChannels)
        if conv.kernelSize == (1, 1) && conv.stride == (1, 1) && conv.padding == (0, 0) {
            return .pointwise(packed: PackedWeights(packed(conv)), bias: bias, outChannels: conv.outChannels, activation: activation)
        }
        if winograd && conv.kernelSize == (3, 3) && conv.stride == (1, 1) && conv.padding == (1, 1) {
            let (cout, cin) = (conv.outChannels, conv.inChannels)
            let filters = conv.makeWinograd4Filters()
            var packed = [Float](repeating: 0, count: vc_winograd4_nhwc_packed_count(Int32(cout), Int32(cin)))
            vc_winograd4_nhwc_pack(Int32(cout), Int32(cin), filters, &packed)
            return .winograd(packed: PackedWeights(packed), bias: bias, outChannels: cout, activation: activation, pooled: false)
        }
        return .convolution(packed: PackedWeights(windowWeights(conv)), bias: bias, outChannels: conv.outChannels, kernel: conv.kernelSize,
                            stride: conv.stride.0, padding: conv.padding, activation: activation)
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
                let s = se.fc1.outChannels
                result.append(.squeeze(reduce: packed(se.fc1), b1: se.fc1.bias?.value.scalars ?? .init(repeating: 0, count: s),
                                       squeezed: s, expand: packed(se.fc2),
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
        let activation = activationCode(conv)
        let bias = conv.bias?.value.scalars ?? [Float](repeating: 0, count: conv.outChannels)
        if conv.kernelSize == (1, 1) && conv.stride == (1, 1) && conv.padding == (0, 0) && conv.groups == 1 {
            return .pointwise(packed: PackedWeights(packed(conv)), bias: bias, outChannels: conv.outChannels, activation: activation)
        }
        if conv.isDepthwise && conv.stride.0 == conv.stride.1 && conv.dilation == (1, 1) {
            let c = conv.outChannels, taps = conv.kernelSize.0 * conv.kernelSize.1
            let w = conv.weight.value.scalars
            return .depthwise(weights: transposed(w, rows: c, columns: taps), bias: bias, kernel: conv.kernelSize, stride: conv.stride.0,
                              padding: conv.padding, activation: activation)
        }
        return nil
    }

    /// A convolution's weights `[Cout, Cin, kh, kw]` reordered `[Cout, kh, kw, Cin]` (a window's rows
    /// are kw · Cin consecutive floats, channels-last) and packed by `vc_pointwise_pack`.
    static func windowWeights(_ conv: Conv2d) -> [Float] {
        let (cout, cin, kh, kw) = (conv.outChannels, conv.inChannels, conv.kernelSize.0, conv.kernelSize.1)
        let w = conv.weight.value.scalars
        var reordered = [Float](repeating: 0, count: w.count)
        for o in 0..<cout { for i in 0..<cin { for y in 0..<kh { for x in 0..<kw {
            reordered[((o * kh + y) * kw + x) * cin + i] = w[((o * cin + i) * kh + y) * kw + x]
        } } } }
        var packed = [Float](repeating: 0, count: vc_pointwise_packed_count(Int32(cout), Int32(w.count / cout)))
        vc_pointwise_pack(Int32(cout), Int32(w.count / cout), reordered, &packed)
        return packed
    }

    static func stemOperation(_ conv: Conv2d) -> Operation {
        .stem(packed: PackedWeights(windowWeights(conv)), bias: conv.bias?.value.scalars ?? [Float](repeating: 0, count: conv.outChannels),
              outChannels: conv.outChannels, kernel: conv.kernelSize, stride: conv.stride, padding: conv.padding,
              activation: activationCode(conv))
    }

    static func activationCode(_ conv: Conv2d) -> Int32 {
        conv.fusedReLU ? ActivationFunction.relu.kernelCode : conv.fusedActivation?.kernelCode ?? 0
    }

    /// A convolution's `[Cout, Cin·kh·kw]` weights packed for `vc_pointwise_nhwc`.
    static func packed(_ conv: Conv2d) -> [Float] {
        let (n, k) = (conv.outChannels, conv.weight.value.count / conv.outChannels)
        var packed = [Float](repeating: 0, count: vc_pointwise_packed_count(Int32(n), Int32(k)))
        vc_pointwise_pack(Int32(n), Int32(k), conv.weight.value.scalars, &packed)
        return packed
    }

    typealias Shape = (h: Int, w: Int, c: Int)

    /// Frames a thread takes through the later, weight-heavy blocks together.
    static let framesTogether = 8

    /// `[N, C, H, W]` frames → features `[N, outChannels]`.
    package func forward(_ input: Tensor, mode: ExecutionMode) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == stemChannels,
                     "ChannelsLastEncoder expects [N, \(stemChannels), H, W], got \(input.shape)")
        let (n, h, w) = (input.shape[0], input.shape[2], input.shape[3])
        var output = Tensor(uninitializedShape: [n, outChannels])
        let threads = ComputeThreads.count
        let byFrames = n >= threads && (n % threads == 0 || n >= 4 * threads), workers = byFrames ? threads : 1
        while buffers.count < workers { buffers.append((0..<6).map { _ in ScratchBuffer() }) }
        let x = UncheckedSendable(input.storage.pointer), y = UncheckedSendable(output.storage.pointer)
        let frameShape = (h: h, w: w, c: stemChannels)
        if byFrames {
            // Each worker takes its own frames: one at a time through the early blocks, whose
            // activations are larger than their weights, then several together through the rest,
            // whose weights are larger than a frame's activations (read once for all of them).
            let phases = framePhases(frameShape)
            parallelFor(workers) { worker in
                let frameFloats = stemChannels * h * w
                let work = Array(buffers[worker][0..<4]), gathers = [buffers[worker][4], buffers[worker][5]]
                // At most `framesTogether` frames at a time, each phase taking them in its own groups.
                let frames = partition(n, worker: worker, of: workers)
                for first in stride(from: frames.lowerBound, to: frames.upperBound, by: Self.framesTogether) {
                    let mine = first..<min(first + Self.framesTogether, frames.upperBound)
                    // Each phase's frames, a few at a time; its results gathered for the next phase
                    // (in the gathering buffer the phase does not read), the last phase's averaged.
                    var input = (pointer: x.value + first * frameFloats, shape: frameShape)
                    for (p, phase) in phases.enumerated() {
                        var gathered: (pointer: UnsafeMutablePointer<Float>, shape: Shape)? = nil
                        let inputFloats = input.shape.h * input.shape.w * input.shape.c
                        for start in stride(from: 0, to: mine.count, by: phase.together) {
                            let count = min(phase.together, mine.count - start)
                            let result = layers(input.pointer + start * inputFloats, shape: input.shape, stem: p == 0,
                                                blocks: phase.blocks, images: count, buffers: work, threads: 1)
                            if p == phases.count - 1 {
                                means(result.pointer, shape: result.shape, images: count,
                                      into: y.value + (first + start) * outChannels, threads: 1)
                                continue
                            }
                            let size = result.shape.h * result.shape.w * result.shape.c
                            if gathered == nil { gathered = (gathers[p % 2].reserve(mine.count * size), result.shape) }
                            gathered!.pointer.advanced(by: start * size).update(from: result.pointer, count: count * size)
                        }
                        if let gathered { input = (gathered.pointer, gathered.shape) }
                    }
                }
            }
        } else if n > 0 {
            let result = layers(x.value, shape: frameShape, stem: true, blocks: 0..<blocks.count, images: n, buffers: buffers[0],
                                threads: threads)
            means(result.pointer, shape: result.shape, images: n, into: y.value, threads: threads)
        }
        output.makeUnique()
        return output
    }

    /// How a worker takes its frames through the stem and the blocks: runs of blocks, each with the
    /// number of frames it takes through them together. Up to the first batched block
    /// (``firstBatchedBlock(_:)``), one; then whichever of 8, 4, 2 or 1 moves the least to and from
    /// memory per frame: more frames share each read of the weights, fewer keep their activations
    /// within half of a core's L2 cache.
    package func framePhases(_ frame: (h: Int, w: Int, c: Int)) -> [(blocks: Range<Int>, together: Int)] {
        let footprints = blockFootprints(frame), switchBlock = firstBatchedBlock(footprints)
        var phases: [(blocks: Range<Int>, together: Int)] = [(0..<switchBlock, 1)]
        for (index, (largest, weights)) in footprints.enumerated().dropFirst(switchBlock) {
            // Floats a frame moves between the core and memory beyond its cache in this block, when
            // it goes through with `g - 1` others: its share of the weights (read once per group),
            // and about twice its activations (stored and read again) once the group's no longer fit.
            func traffic(_ g: Int) -> Int { weights / g + (g * largest > cachedActivationFloats ? 2 * largest : 0) }
            var together = Self.framesTogether
            for g in [4, 2, 1] where traffic(g) < traffic(together) { together = g }
            if phases[phases.count - 1].together == together {
                phases[phases.count - 1].blocks = phases[phases.count - 1].blocks.lowerBound..<(index + 1)
            } else {
                phases.append((index..<(index + 1), together))
            }
        }
        return phases
    }

    /// Floats of a batch's activations a block keeps in one core's L2 cache: half of it (the rest
    /// for the block's input, weights and output), 512 KB when the system does not say.
    static let l2ActivationFloats: Int = {
        let bytes = sysconf(Int32(_SC_LEVEL2_CACHE_SIZE))
        return (bytes > 0 ? bytes : 1 << 20) / 2 / MemoryLayout<Float>.stride
    }()

    /// How many floats of a group's largest activation in a block stay in cache; beyond it
    /// ``framePhases(_:)`` counts them as stored and read again. ``l2ActivationFloats`` unless a
    /// test sets it.
    package var cachedActivationFloats = ChannelsLastEncoder.l2ActivationFloats

    /// Each block's largest activation of one frame of `frame`'s size and its weights (shortcut
    /// included), in floats.
    func blockFootprints(_ frame: Shape) -> [(largest: Int, weights: Int)] {
        var shape = Self.outputShape(stem, frame)
        return blocks.map { block in
            var largest = 0, weights = block.shortcut.map(Self.weightCount) ?? 0
            for operation in block.operations {
                shape = Self.outputShape(operation, shape)
                largest = max(largest, shape.h * shape.w * shape.c)
                weights += Self.weightCount(operation)
            }
            return (largest, weights)
        }
    }

    /// The first block to run on all of a worker's frames at once: the first whose weights outnumber
    /// the largest activation it makes of one frame (`blocks.count` when there is none).
    func firstBatchedBlock(_ footprints: [(largest: Int, weights: Int)]) -> Int {
        footprints.firstIndex { $0.weights > $0.largest } ?? blocks.count
    }

    static func outputShape(_ operation: Operation, _ s: Shape) -> Shape {
        switch operation {
        case let .stem(_, _, cout, kernel, stride, padding, _):
            return ((s.h + 2 * padding.0 - kernel.0) / stride.0 + 1, (s.w + 2 * padding.1 - kernel.1) / stride.1 + 1, cout)
        case let .convolution(_, _, cout, kernel, stride, padding, _):
            return ((s.h + 2 * padding.0 - kernel.0) / stride + 1, (s.w + 2 * padding.1 - kernel.1) / stride + 1, cout)
        case let .pointwise(_, _, cout, _), let .winograd(_, _, cout, _, false):
            return (s.h, s.w, cout)
        case let .winograd(_, _, cout, _, true):
            return (s.h / 2, s.w / 2, cout)
        case let .maxPool(kernel, stride, padding):
            return ((s.h + 2 * padding - kernel) / stride + 1, (s.w + 2 * padding - kernel) / stride + 1, s.c)
        case let .depthwise(_, _, kernel, stride, padding, _):
            return ((s.h + 2 * padding.0 - kernel.0) / stride + 1, (s.w + 2 * padding.1 - kernel.1) / stride + 1, s.c)
        case .squeeze:
            return s
        }
    }

    static func weightCount(_ operation: Operation) -> Int {
        switch operation {
        case let .stem(packed, _, _, _, _, _, _), let .convolution(packed, _, _, _, _, _, _), let .pointwise(packed, _, _, _):
            packed.count
        case let .winograd(packed, _, _, _, _): packed.count / 4  // 36 transformed taps for 9
        case let .depthwise(weights, _, _, _, _, _): weights.count
        case let .squeeze(reduce, _, _, expand, _, _, _): reduce.count + expand.count
        case .maxPool: 0
        }
    }

    /// The stem (with `stem`, on channels-first frames at `input`) and then `blocks`, for `images`
    /// frames of `shape`, through `buffers` (three for activations, one for the stem's input rows,
    /// the fused blocks' expanded strips and a squeeze-and-excitation's gates; the third activation
    /// buffer also holds the stem's windows when the stem runs fused with the first block);
    /// the layers split across `threads` (1: all on the calling thread). The result is in one of
    /// the buffers.
    private func layers(_ input: UnsafePointer<Float>, shape: Shape, stem runStem: Bool, blocks range: Range<Int>, images n: Int,
                        buffers: [ScratchBuffer], threads: Int) -> (pointer: UnsafeMutablePointer<Float>, shape: Shape) {
        var shape = shape
        var current = UnsafeMutablePointer(mutating: input)
        // Operations of the first block already run with the stem.
        var stemFused = 0
        if runStem, threads == 1 && n == 1, range.first == 0, let block = blocks.first, !block.residual, block.shortcut == nil,
           block.operations.count >= 2, case .depthwise = block.operations[0] {
            // The stem and the depthwise convolution after it a strip of rows at a time: the stem's
            // large output (16 or 32 channels at half the frame's size) is never all in memory.
            shape = timed([stem, block.operations[0]], name: "\(stemName)+\(block.name).0", images: 1, shape: shape, threads: 1) {
                expandDepthwise([stem, block.operations[0]][...], input: input, shape: shape, residual: nil, strip: buffers[3],
                                depthwiseOutput: buffers[0], output: buffers[1], stemWindows: buffers[2])
            }
            current = buffers[0].pointer
            stemFused = 1
        } else if runStem {
            shape = timed([stem], name: stemName, images: n, shape: shape, threads: threads) {
                run(stem, input: input, residual: nil, output: buffers[0], images: n, shape: shape, windows: buffers[3], threads: threads)
            }
            current = buffers[0].pointer
        }
        for index in range {
            let block = blocks[index], blockInput = current, blockShape = shape
            var first = index == 0 ? stemFused : 0
            if threads == 1 && n == 1, let fused = Self.fusedPrefix(block.operations) {
                // Expansion and depthwise convolution (and the projection, when nothing comes
                // between) a strip of rows at a time, on this thread.
                let free = buffers[0..<3].filter { $0.pointer != current }
                shape = timed(Array(block.operations[0..<fused]), name: "\(block.name).0-\(fused - 1)", images: 1, shape: shape,
                              threads: 1) {
                    expandDepthwise(block.operations[0..<fused], input: current, shape: shape,
                                    residual: block.residual && fused == 3 ? UnsafePointer(blockInput) : nil,
                                    strip: buffers[3], depthwiseOutput: free[0], output: free[1])
                }
                current = fused == 3 ? free[1].pointer : free[0].pointer
                first = fused
            }
            // Gates of a squeeze-and-excitation that the projection after it takes into its weights.
            var gates: UnsafePointer<Float>? = nil
            for (k, operation) in block.operations.enumerated().dropFirst(first) {
                let isLast = k == block.operations.count - 1
                if case let .squeeze(w1, b1, squeezed, w2, b2, activation, gate) = operation, k + 2 == block.operations.count,
                   block.shortcut == nil,  // (a shortcut would run in between, through buffers[3])
                   case let .pointwise(packed, _, cout, _) = block.operations[k + 1],
                   Self.projectionTakesGates(pixels: shape.h * shape.w, outChannels: cout) {
                    let c = shape.c, pixels = shape.h * shape.w
                    // The gates, then room for the projection's weights scaled by one image's gates.
                    let space = buffers[3].reserve(n * c + packed.count)
                    let x = UncheckedSendable(UnsafePointer(current)), g = UncheckedSendable(space)
                    _ = timed([operation], name: "\(block.name).\(k)", images: n, shape: shape, threads: threads) {
                        squeezeChunks(images: n, pixels: pixels, channels: c, squeezed: squeezed, threads: threads) { images, scratch in
                            vc_squeeze_gates_nhwc(x.value + images.lowerBound * pixels * c, Int32(images.count), Int32(pixels),
                                                  Int32(c), w1, b1, Int32(squeezed), w2, b2, activation, gate,
                                                  g.value + images.lowerBound * c, scratch)
                        }
                        return shape
                    }
                    gates = UnsafePointer(space)
                    continue
                }
                // What the last operation adds: the block's input, or its projection (computed just
                // before, into a buffer that holds neither the input nor the body's activations).
                var residual: UnsafeMutablePointer<Float>? = block.residual && isLast ? blockInput : nil
                if isLast, let shortcut = block.shortcut {
                    let projected = buffers[0..<3].first { $0.pointer != current && $0.pointer != blockInput }!
                    _ = timed([shortcut], name: "\(block.name).downsample", images: n, shape: blockShape, threads: threads) {
                        run(shortcut, input: blockInput, residual: nil, output: projected, images: n, shape: blockShape,
                            windows: buffers[3], threads: threads)
                    }
                    residual = projected.pointer
                }
                let target = buffers[0..<3].first { $0.pointer != current && $0.pointer != (residual ?? blockInput) }!
                shape = timed([operation], name: "\(block.name).\(k)", images: n, shape: shape, threads: threads) {
                    if let gates, case let .pointwise(packed, bias, cout, activation) = operation {
                        return gatedPointwise(packed: packed.floats, bias: bias, outChannels: cout, activation: activation, gates: gates,
                                              scaled: UnsafeMutablePointer(mutating: gates) + n * shape.c, input: current,
                                              residual: residual.map { UnsafePointer($0) }, output: target, images: n,
                                              shape: shape, threads: threads)
                    }
                    return run(operation, input: current, residual: residual.map { UnsafePointer($0) }, output: target,
                               images: n, shape: shape, windows: buffers[3], threads: threads)
                }
                current = target.pointer
            }
        }
        return (current, shape)
    }

    /// Whether the 1×1 projection after a squeeze-and-excitation takes the gates into its weights
    /// (`vc_pointwise_scale_packed`, once per image) instead of the gates scaling the activations (a
    /// pass over all of them): when an image has more pixels than the projection has outputs (rounded
    /// up to its 16-output panels), scaling the weights is the smaller job.
    static func projectionTakesGates(pixels: Int, outChannels: Int) -> Bool {
        pixels > (outChannels + 15) / 16 * 16
    }

    /// A 1×1 convolution of `images` images whose input channels are first multiplied by each
    /// image's `gates` (`[images][c]`, from `vc_squeeze_gates_nhwc`): each image through its own copy
    /// of the weights scaled by its gates (in `scaled`), its rows split across `threads`.
    private func gatedPointwise(packed: [Float], bias: [Float], outChannels cout: Int, activation: Int32,
                                gates: UnsafePointer<Float>, scaled: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                residual: UnsafePointer<Float>?, output: ScratchBuffer, images n: Int, shape: Shape,
                                threads: Int) -> Shape {
        let (h, w, c) = shape, pixels = h * w
        let y = UncheckedSendable(output.reserve(n * pixels * cout)), x = UncheckedSendable(input)
        let r = UncheckedSendable(residual), s = UncheckedSendable(scaled)
        let workers = threads > 1 && pixels * c * cout >= 1 << 18 ? threads : 1
        packed.withUnsafeBufferPointer { wp in
            bias.withUnsafeBufferPointer { bp in
                for image in 0..<n {
                    vc_pointwise_scale_packed(Int32(cout), Int32(c), wp.baseAddress!, gates + image * c, scaled)
                    let first = image * pixels, b = UncheckedSendable(bp.baseAddress!)
                    parallelFor(workers) { worker in
                        let part = partition((pixels + 15) / 16, worker: worker, of: workers)
                        let start = first + part.lowerBound * 16, end = first + min(pixels, part.upperBound * 16)
                        guard end > start else { return }
                        vc_pointwise_nhwc(Int32(end - start), Int32(cout), Int32(c), x.value + start * c, Int32(c), s.value,
                                          nil, b.value, r.value.map { $0 + start * cout }, Int32(cout), activation,
                                          y.value + start * cout, Int32(cout))
                    }
                }
            }
        }
        return (h, w, cout)
    }

    /// How many of a block's first operations ``expandDepthwise(_:input:shape:residual:strip:depthwiseOutput:output:stemWindows:)``
    /// runs: 3 for expansion, depthwise and projection; 2 for expansion and depthwise when more
    /// follows (squeeze-and-excitation, then the projection that takes the residual); nil otherwise.
    static func fusedPrefix(_ operations: [Operation]) -> Int? {
        guard operations.count >= 3, case .pointwise = operations[0], case .depthwise = operations[1] else { return nil }
        if operations.count == 3, case .pointwise = operations[2] { return 3 }
        return 2
    }

    /// Per-operation times, collected while set (`vidclass bench model --tasks layers`).
    package var operationTimes: OperationTimes?

    /// Seconds and FLOPs per operation, summed over calls; thread-safe.
    package final class OperationTimes: Sendable {
        package struct Entry: Sendable {
            /// Where and what, e.g. `features.3.1 depthwise3x3/2 72 56×56`.
            package var name: String
            /// Wall-clock seconds: an operation run by one of several threads counts its share.
            package var seconds: Double
            package var flops: Double
        }

        private let entries = Mutex<[Entry]>([])
        private let workers: Int

        /// Times for a forward pass run by `workers` threads taking frames each.
        package init(workers: Int = ComputeThreads.count) { self.workers = workers }

        /// The operations in the order they first ran.
        package var all: [Entry] { entries.withLock { $0 } }

        func add(_ name: String, seconds: Double, flops: Double, alone: Bool) {
            let share = alone ? 1 / Double(max(workers, 1)) : 1
            entries.withLock { entries in
                if let i = entries.firstIndex(where: { $0.name == name }) {
                    entries[i].seconds += seconds * share
                    entries[i].flops += flops
                } else {
                    entries.append(Entry(name: name, seconds: seconds * share, flops: flops))
                }
            }
        }
    }

    /// `body` (running `operations` on `n` images of `shape`), timed into ``operationTimes`` when set.
    private func timed(_ operations: [Operation], name: String, images n: Int, shape: Shape, threads: Int,
                       _ body: () -> Shape) -> Shape {
        guard let times = operationTimes else { return body() }
        let start = ContinuousClock.now
        let result = body()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        var descriptions: [String] = [], perImage = 0, input = shape
        for operation in operations {
            let out = Self.outputShape(operation, input)
            switch operation {
            case let .stem(_, _, cout, kernel, stride, _, _):
                descriptions.append("conv\(kernel.0)x\(kernel.1)/\(stride.0) \(input.c)→\(cout)")
                perImage += out.h * out.w * cout * input.c * kernel.0 * kernel.1
            case let .convolution(_, _, cout, kernel, stride, _, _):
                descriptions.append("conv\(kernel.0)x\(kernel.1)/\(stride) \(input.c)→\(cout)")
                perImage += out.h * out.w * cout * input.c * kernel.0 * kernel.1
            case let .winograd(_, _, cout, _, pooled):
                // Counted as the direct convolution's multiply-adds, as the channels-first profile does.
                descriptions.append("conv3x3/1 \(input.c)→\(cout) winograd4" + (pooled ? " + maxpool2x2/2" : ""))
                perImage += input.h * input.w * cout * input.c * 9
            case let .maxPool(kernel, stride, _):
                descriptions.append("maxpool\(kernel)x\(kernel)/\(stride) \(input.c)")
            case let .pointwise(_, _, cout, _):
                descriptions.append("conv1x1 \(input.c)→\(cout)")
                perImage += out.h * out.w * cout * input.c
            case let .depthwise(_, _, kernel, stride, _, _):
                descriptions.append("depthwise\(kernel.0)x\(kernel.1)/\(stride) \(input.c)")
                perImage += out.h * out.w * input.c * kernel.0 * kernel.1
            case let .squeeze(_, _, squeezed, _, _, _, _):
                descriptions.append("squeeze-excitation \(input.c)→\(squeezed)")
                perImage += 2 * input.c * squeezed
            }
            input = out
        }
        times.add("\(name) \(descriptions.joined(separator: " + ")) \(shape.h)×\(shape.w)", seconds: seconds,
                  flops: 2 * Double(perImage * n), alone: threads == 1)
        return result
    }

    /// An inverted-residual block's expansion (1×1) and depthwise convolution, and its projection
    /// (1×1, with `residual`) when `operations` has three, on one frame of `shape` at `input`, a
    /// strip of output rows at a time: the expanded rows a strip reads (about 256 KB) are computed
    /// into `strip`, the rows shared with the next strip kept, so that the block's largest
    /// activations never leave the cache. The depthwise output goes to `depthwiseOutput` (whole,
    /// without a projection; a strip, with one) and the projection's to `output`. The expansion may
    /// also be the stem (on a channels-first frame; its windows' rows in `stemWindows`).
    private func expandDepthwise(_ operations: ArraySlice<Operation>, input: UnsafePointer<Float>, shape: Shape,
                                 residual: UnsafePointer<Float>?, strip: ScratchBuffer, depthwiseOutput: ScratchBuffer,
                                 output: ScratchBuffer, stemWindows: ScratchBuffer? = nil) -> Shape {
        guard case let .depthwise(weights, bias, kernel, stride, padding, activation) = operations[operations.startIndex + 1]
        else { preconditionFailure("expandDepthwise: no depthwise convolution after the expansion") }
        let (h, w, expanded) = Self.outputShape(operations[operations.startIndex], shape)
        let (oh, ow, _) = Self.outputShape(operations[operations.startIndex + 1], (h, w, expanded))
        // The expansion's output rows rowStart..<rowEnd into `rows`: a 1×1 convolution of the input's
        // rows, or the stem's convolution of a channels-first frame.
        let expand: (_ rowStart: Int, _ rowEnd: Int, _ rows: UnsafeMutablePointer<Float>) -> Void
        switch operations[operations.startIndex] {
        case let .pointwise(expandWeights, expandBias, _, expandActivation):
            let cin = shape.c
            expand = { rowStart, rowEnd, rows in
                expandWeights.withPointers { wp, wb in
                    vc_pointwise_nhwc(Int32((rowEnd - rowStart) * w), Int32(expanded), Int32(cin), input + rowStart * w * cin,
                                      Int32(cin), wp, wb, expandBias, nil, 0, expandActivation, rows, Int32(expanded))
                }
            }
        case let .stem(packed, stemBias, _, stemKernel, stemStride, stemPadding, stemActivation):
            guard let stemWindows else { preconditionFailure("expandDepthwise: a stem needs its windows' buffer") }
            expand = { rowStart, rowEnd, rows in
                let c = shape.c
                let scratch = stemWindows.reserve(vc_stem_scratch_count(Int32(c), Int32(shape.w), Int32(stemKernel.0),
                                                                        Int32(stemStride.0), Int32(stemPadding.1), Int32(rowStart),
                                                                        Int32(rowEnd)))
                packed.withPointers { wp, wb in
                    vc_stem_nhwc(input, Int32(c), Int32(shape.h), Int32(shape.w), Int32(stemKernel.0), Int32(stemKernel.1),
                                 Int32(stemStride.0), Int32(stemPadding.0), Int32(stemPadding.1), wp, wb, stemBias, stemActivation,
                                 Int32(expanded), rows, Int32(w), Int32(rowStart), Int32(rowEnd), scratch)
                }
            }
        default:
            preconditionFailure("expandDepthwise: not an expansion")
        }
        let rowsWanted = max(kernel.0, 65536 / max(w * expanded, 1))
        let stripRows = max(1, (rowsWanted - kernel.0) / stride + 1)
        let expandedRows = strip.reserve(((stripRows - 1) * stride + kernel.0) * w * expanded)
        var project: (weights: PackedWeights, bias: [Float], outChannels: Int, activation: Int32, output: UnsafeMutablePointer<Float>)?
        let depthwiseRows: UnsafeMutablePointer<Float>
        if operations.count == 3, case let .pointwise(pw, pb, cout, pa) = operations[operations.startIndex + 2] {
            depthwiseRows = depthwiseOutput.reserve(stripRows * ow * expanded)
            project = (pw, pb, cout, pa, output.reserve(oh * ow * cout))
        } else {
            depthwiseRows = depthwiseOutput.reserve(oh * ow * expanded)
        }
        var (held, heldEnd) = (0, 0)  // the input rows whose expansion is in `expandedRows`
        var r0 = 0
        while r0 < oh {
            let r1 = min(oh, r0 + stripRows)
            let low = max(0, r0 * stride - padding.0), high = min(h, (r1 - 1) * stride - padding.0 + kernel.0)
            if low >= heldEnd {
                (held, heldEnd) = (low, low)
            } else if low > held {
                // The rows this strip shares with the last one, moved to the front (memmove).
                UnsafeMutableRawPointer(expandedRows).copyMemory(from: expandedRows + (low - held) * w * expanded,
                                                                 byteCount: (heldEnd - low) * w * expanded * MemoryLayout<Float>.stride)
                held = low
            }
            if high > heldEnd {
                expand(heldEnd, high, expandedRows + (heldEnd - held) * w * expanded)
                heldEnd = high
            }
            vc_depthwise_nhwc(expandedRows, Int32(held), Int32(h), Int32(w), Int32(expanded), weights, Int32(kernel.0),
                              Int32(kernel.1), Int32(stride), Int32(padding.0), Int32(padding.1), bias, depthwiseRows,
                              project == nil ? 0 : Int32(r0), Int32(ow), Int32(r0), Int32(r1), activation)
            if let project {
                project.weights.withPointers { wp, wb in
                    vc_pointwise_nhwc(Int32((r1 - r0) * ow), Int32(project.outChannels), Int32(expanded), depthwiseRows,
                                      Int32(expanded), wp, wb, project.bias, residual.map { $0 + r0 * ow * project.outChannels },
                                      Int32(project.outChannels), project.activation, project.output + r0 * ow * project.outChannels,
                                      Int32(project.outChannels))
                }
            }
            r0 = r1
        }
        return (oh, ow, project?.outChannels ?? expanded)
    }

    /// Each frame's channel means of `images` frames of `shape` at `x`, into `features`.
    private func means(_ x: UnsafeMutablePointer<Float>, shape: Shape, images n: Int, into features: UnsafeMutablePointer<Float>,
                       threads: Int) {
        let x = UncheckedSendable(x), y = UncheckedSendable(features)
        let (pixels, ch) = (shape.h * shape.w, shape.c)
        split(n, minimumChunk: 1, threads: threads) { images in
            for i in images { vc_channel_means_nhwc(x.value + i * pixels * ch, Int32(pixels), Int32(ch), y.value + i * ch) }
        }
    }

    /// Squeeze-and-excitation's images in chunks (split across the compute threads unless `threads`
    /// is 1), each chunk with scratch for `vc_squeeze_excite_nhwc` or `vc_squeeze_gates_nhwc`.
    private func squeezeChunks(images n: Int, pixels: Int, channels c: Int, squeezed: Int, threads: Int,
                               _ body: (_ images: Range<Int>, _ scratch: UnsafeMutablePointer<Float>) -> Void) {
        split(n, minimumChunk: max(1, 16384 / max(pixels * c, 1)), threads: threads) { images in
            let scratch = UnsafeMutablePointer<Float>.allocate(
                capacity: vc_squeeze_excite_scratch_count(Int32(images.count), Int32(c), Int32(squeezed)))
            defer { scratch.deallocate() }
            body(images, scratch)
        }
    }

    /// `body` over `0..<count`: on the calling thread when `threads` is 1, else split across the
    /// compute threads in chunks of at least `minimumChunk`.
    private func split(_ count: Int, minimumChunk: Int, threads: Int, _ body: (Range<Int>) -> Void) {
        if threads <= 1 { body(0..<count) } else { parallelChunks(count, minimumChunk: minimumChunk, body) }
    }

    /// One operation over `n` images of `shape` (channels-last; channels-first for the stem's
    /// convolution) into `output`; the shape of the result.
    private func run(_ operation: Operation, input: UnsafePointer<Float>, residual: UnsafePointer<Float>?,
                     output: ScratchBuffer, images n: Int, shape: (h: Int, w: Int, c: Int), windows: ScratchBuffer,
                     threads: Int) -> (h: Int, w: Int, c: Int) {
        let (h, w, c) = shape
        let x = UncheckedSendable(input), r = UncheckedSendable(residual)
        switch operation {
        case let .stem(packed, bias, cout, kernel, stride, padding, activation):
            let (oh, ow, _) = Self.outputShape(operation, shape)
            // Output rows a few at a time (per thread), so that their input rows stay in cache.
            let strip = max(1, 4096 / max(ow, 1))
            let workers = threads <= 1 ? 1 : min(ComputeThreads.count, n * oh)
            let y = UncheckedSendable(output.reserve(n * oh * ow * cout))
            let perWorker = vc_stem_scratch_count(Int32(c), Int32(w), Int32(kernel.0), Int32(stride.0), Int32(padding.1), 0,
                                                  Int32(strip))
            let scratch = UncheckedSendable(windows.reserve(workers * perWorker))
            packed.withPointers { wp, wb in
                bias.withUnsafeBufferPointer { bp in
                    let p = UncheckedSendable((wp, bp.baseAddress!, wb))
                    parallelFor(workers) { worker in
                        let rows = partition(n * oh, worker: worker, of: workers)
                        var row = rows.lowerBound
                        while row < rows.upperBound {
                            let image = row / oh, start = row % oh, stop = min(oh, start + strip, start + (rows.upperBound - row))
                            vc_stem_nhwc(x.value + image * c * h * w, Int32(c), Int32(h), Int32(w), Int32(kernel.0), Int32(kernel.1),
                                         Int32(stride.0), Int32(padding.0), Int32(padding.1), p.value.0, p.value.2, p.value.1, activation,
                                         Int32(cout), y.value + (image * oh + start) * ow * cout, Int32(ow), Int32(start),
                                         Int32(stop), scratch.value + worker * perWorker)
                            row += stop - start
                        }
                    }
                }
            }
            return (oh, ow, cout)
        case let .convolution(packed, bias, cout, kernel, stride, padding, activation):
            let (oh, ow, _) = Self.outputShape(operation, shape)
            let pixels = oh * ow, y = UncheckedSendable(output.reserve(n * pixels * cout))
            let workers = threads > 1 && n * pixels * cout * c * kernel.0 * kernel.1 >= 1 << 18 ? threads : 1
            let perWorker = vc_convolution_nhwc_scratch_count(Int32(c), Int32(kernel.0), Int32(kernel.1))
            let scratch = UncheckedSendable(windows.reserve(workers * perWorker))
            packed.withPointers { wp, wb in
                bias.withUnsafeBufferPointer { bp in
                    let p = UncheckedSendable((wp, bp.baseAddress!, wb))
                    parallelFor(workers) { worker in
                        // The worker's output pixels, numbered across images, an image's part at a time.
                        let mine = partition(n * pixels, worker: worker, of: workers)
                        var first = mine.lowerBound
                        while first < mine.upperBound {
                            let image = first / pixels, start = first % pixels, end = min(pixels, start + (mine.upperBound - first))
                            vc_convolution_nhwc(x.value + image * h * w * c, Int32(h), Int32(w), Int32(c), Int32(kernel.0),
                                                Int32(kernel.1), Int32(stride), Int32(padding.0), Int32(padding.1), p.value.0,
                                                p.value.2, p.value.1, r.value.map { $0 + image * pixels * cout }, activation, Int32(cout),
                                                y.value + image * pixels * cout, Int32(ow), Int32(start), Int32(end),
                                                scratch.value + worker * perWorker)
                            first += end - start
                        }
                    }
                }
            }
            return (oh, ow, cout)
        case let .winograd(packed, bias, cout, activation, pooled):
            let (oh, ow, _) = Self.outputShape(operation, shape)
            let tiles = n * ((h + 3) / 4) * ((w + 3) / 4), y = UncheckedSendable(output.reserve(n * oh * ow * cout))
            let workers = threads > 1 && tiles >= 2 ? min(threads, tiles) : 1
            let perWorker = vc_winograd4_nhwc_scratch_count(Int32(c), Int32(cout))
            let scratch = UncheckedSendable(windows.reserve(workers * perWorker))
            packed.withPointers { wp, wb in
                bias.withUnsafeBufferPointer { bp in
                    let p = UncheckedSendable((wp, bp.baseAddress!, wb))
                    parallelFor(workers) { worker in
                        let mine = partition(tiles, worker: worker, of: workers)
                        vc_winograd4_nhwc(x.value, Int32(h), Int32(w), Int32(c), p.value.0, p.value.2, p.value.1, r.value, activation,
                                          pooled ? 1 : 0, Int32(cout), y.value, Int32(mine.lowerBound), Int32(mine.upperBound),
                                          scratch.value + worker * perWorker)
                    }
                }
            }
            return (oh, ow, cout)
        case let .maxPool(kernel, stride, padding):
            let (oh, ow, _) = Self.outputShape(operation, shape)
            let y = UncheckedSendable(output.reserve(n * oh * ow * c))
            split(n * oh, minimumChunk: max(1, 4096 / max(ow * c, 1)), threads: threads) { rows in
                var row = rows.lowerBound
                while row < rows.upperBound {
                    let image = row / oh, start = row % oh, end = min(oh, start + (rows.upperBound - row))
                    vc_max_pool_nhwc(x.value + image * h * w * c, Int32(h), Int32(w), Int32(c), Int32(kernel), Int32(stride),
                                     Int32(padding), y.value + image * oh * ow * c, Int32(ow), Int32(start), Int32(end))
                    row += end - start
                }
            }
            return (oh, ow, c)
        case let .pointwise(packed, bias, cout, activation):
            let y = UncheckedSendable(output.reserve(n * h * w * cout))
            let rows = n * h * w
            // Each thread multiplies its own rows and finishes them while they are in cache.
            let workers = threads > 1 && rows * c * cout >= 1 << 18 ? threads : 1
            packed.withPointers { wp, wb in
                bias.withUnsafeBufferPointer { bp in
                    let p = UncheckedSendable((wp, bp.baseAddress!, wb))
                    let blocks = (rows + 15) / 16
                    parallelFor(workers) { worker in
                        let part = partition(blocks, worker: worker, of: workers)
                        let start = part.lowerBound * 16, end = min(rows, part.upperBound * 16)
                        guard end > start else { return }
                        vc_pointwise_nhwc(Int32(end - start), Int32(cout), Int32(c), x.value + start * c, Int32(c), p.value.0,
                                          p.value.2, p.value.1, r.value.map { $0 + start * cout }, Int32(cout), activation,
                                          y.value + start * cout, Int32(cout))
                    }
                }
            }
            return (h, w, cout)
        case let .depthwise(weights, bias, kernel, stride, padding, activation):
            let oh = (h + 2 * padding.0 - kernel.0) / stride + 1, ow = (w + 2 * padding.1 - kernel.1) / stride + 1
            let y = UncheckedSendable(output.reserve(n * oh * ow * c))
            weights.withUnsafeBufferPointer { wp in
                bias.withUnsafeBufferPointer { bp in
                    let p = UncheckedSendable((wp.baseAddress!, bp.baseAddress!))
                    split(n * oh, minimumChunk: max(1, 2048 / max(ow * c, 1)), threads: threads) { rows in
                        var row = rows.lowerBound
                        while row < rows.upperBound {
                            let image = row / oh, start = row % oh, end = min(oh, start + (rows.upperBound - row))
                            let out = y.value + image * oh * ow * c
                            vc_depthwise_nhwc(x.value + image * h * w * c, 0, Int32(h), Int32(w), Int32(c), p.value.0,
                                              Int32(kernel.0), Int32(kernel.1), Int32(stride), Int32(padding.0),
                                              Int32(padding.1), p.value.1, out, 0, Int32(ow), Int32(start), Int32(end), activation)
                            row += end - start
                        }
                    }
                }
            }
            return (oh, ow, c)
        case let .squeeze(w1, b1, squeezed, w2, b2, activation, gate):
            let y = UncheckedSendable(output.reserve(n * h * w * c))
            let pixels = h * w
            w1.withUnsafeBufferPointer { w1p in
                b1.withUnsafeBufferPointer { b1p in
                    w2.withUnsafeBufferPointer { w2p in
                        b2.withUnsafeBufferPointer { b2p in
                            let p = UncheckedSendable((w1p.baseAddress!, b1p.baseAddress!, w2p.baseAddress!, b2p.baseAddress!))
                            squeezeChunks(images: n, pixels: pixels, channels: c, squeezed: squeezed, threads: threads) { images, scratch in
                                let offset = images.lowerBound * pixels * c
                                vc_squeeze_excite_nhwc(x.value + offset, y.value + offset, Int32(images.count), Int32(pixels),
                                                       Int32(c), p.value.0, p.value.1, Int32(squeezed), p.value.2, p.value.3,
                                                       activation, gate, scratch)
                            }
                        }
                    }
                }
            }
            return (h, w, c)
        }
    }

    package func backward(_ outputGradient: Tensor) -> Tensor {
        preconditionFailure("ChannelsLastEncoder is inference-only")
    }
}

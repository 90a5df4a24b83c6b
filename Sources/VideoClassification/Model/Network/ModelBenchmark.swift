import NeuralNetwork
import Tensors

/// Timings of a repeated operation (for `vidclass bench model`; release builds only give meaningful numbers).
public struct BenchmarkTimings: Sendable, CustomStringConvertible {
    /// What was measured.
    public var label: String
    /// Wall-clock seconds of each timed iteration (after warm-up).
    public var seconds: [Double]
    /// Frames (inference), clips (training) or matrix products (GEMM) per iteration.
    public var itemsPerIteration: Int
    /// Useful floating-point operations per iteration (multiply-add = 2).
    public var flopsPerIteration: Double

    /// Median seconds per iteration.
    public var median: Double {
        let s = seconds.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    /// Items per second at the median.
    public var itemsPerSecond: Double { Double(itemsPerIteration) / median }
    /// GFLOP/s at the median.
    public var gflopsPerSecond: Double { flopsPerIteration / median / 1e9 }

    /// One line: the label, median milliseconds per iteration with the range, items/s and GFLOP/s.
    public var description: String {
        let lo = seconds.min() ?? .nan, hi = seconds.max() ?? .nan
        return "\(label): \(fmt(median * 1000)) ms/iter [\(fmt(lo * 1000))–\(fmt(hi * 1000))], "
            + "\(fmt(itemsPerSecond)) items/s, \(fmt(gflopsPerSecond)) GFLOP/s"
    }
}

private func fmt(_ x: Double) -> String {
    let r = (x * 10).rounded() / 10
    return "\(r)"
}

/// Library-level benchmarks: a model with seeded random weights, timed forward passes or training steps.
public enum ModelBenchmark {
    /// Times inference of `clips × frames` frames of `size × size` per call (BatchNorm folded, ReLU and
    /// pooling fused, Winograd for eligible 3×3 convolutions unless `winograd` is false), the
    /// convolutions in `precision`.
    public static func inference(_ description: ModelDescription, clips: Int = 1, frames: Int = 16, size: Int = 112,
                                 iterations: Int = 5, warmup: Int = 1, threads: Int = 2,
                                 winograd: Bool = true, precision: InferencePrecision = .float32) -> BenchmarkTimings {
        BLASThreads.count = threads
        let model = LRCNInference(LRCN(description, seed: 1), winograd: winograd, precision: precision)
        var rng = SplitMix64(seed: 2)
        let x = Tensor.normal(shape: [clips, frames, 3, size, size], using: &rng)
        let seconds = time(iterations: iterations, warmup: warmup) { _ = model.logits(x) }
        let flops = Double(clips * frames) * (encoderFLOPs(description, size: size) + recurrentFLOPs(description))
        let suffix = model.precision == .float32 ? "" : " \(model.precision.rawValue)"
        return BenchmarkTimings(label: "\(description.backbone.rawValue) inference \(clips)×\(frames)@\(size)\(suffix)",
                                seconds: seconds, itemsPerIteration: clips * frames, flopsPerIteration: flops)
    }

    /// Times streaming: one frame per call through ``LRCNInference/step(frames:state:)`` (encoder,
    /// one recurrent step, head), as the streaming classifier runs it. Items are frames.
    public static func streaming(_ description: ModelDescription, frames: Int = 16, size: Int = 112,
                                 iterations: Int = 5, warmup: Int = 1, threads: Int = 2,
                                 precision: InferencePrecision = .float32) -> BenchmarkTimings {
        BLASThreads.count = threads
        let model = LRCNInference(LRCN(description, seed: 1), precision: precision)
        var rng = SplitMix64(seed: 2)
        let frame = Tensor.normal(shape: [1, 3, size, size], using: &rng)
        let seconds = time(iterations: iterations, warmup: warmup) {
            var state = StreamingState()
            for _ in 0..<frames { state = model.step(frames: frame, state: state).state }
        }
        let flops = Double(frames) * (encoderFLOPs(description, size: size) + recurrentFLOPs(description))
        return BenchmarkTimings(label: "\(description.backbone.rawValue) streaming \(frames) frames@\(size)",
                                seconds: seconds, itemsPerIteration: frames, flopsPerIteration: flops)
    }

    /// Times training steps (forward, cross-entropy, backward, Adam 1e-3) on `clips × frames` random frames.
    public static func training(_ description: ModelDescription, clips: Int = 8, frames: Int = 16, size: Int = 112,
                                iterations: Int = 3, warmup: Int = 1, threads: Int = 2) -> BenchmarkTimings {
        BLASThreads.count = threads
        let model = LRCN(description, seed: 1)
        var rng = SplitMix64(seed: 2)
        let x = Tensor.normal(shape: [clips, frames, 3, size, size], using: &rng)
        let labels = (0..<clips).map { $0 % description.numClasses }
        let optimizer = Adam(learningRate: 1e-3)
        let seconds = time(iterations: iterations, warmup: warmup) {
            model.trainingStep(clips: x, labels: labels, optimizer: optimizer)
        }
        let flops = 3 * Double(clips * frames) * (encoderFLOPs(description, size: size) + recurrentFLOPs(description))
        return BenchmarkTimings(label: "\(description.backbone.rawValue) training \(clips)×\(frames)@\(size)",
                                seconds: seconds, itemsPerIteration: clips, flopsPerIteration: flops)
    }

    /// Times an `n × n × n` single-precision GEMM through the library's GEMM entry point (OpenBLAS),
    /// or with `packed`, through vidclass's own GEMM with the left matrix packed beforehand, as the
    /// inference layers use it.
    public static func gemm(n: Int = 2048, iterations: Int = 5, warmup: Int = 1, threads: Int = 2,
                            packed: Bool = false) -> BenchmarkTimings {
        BLASThreads.count = threads
        var rng = SplitMix64(seed: 3)
        let a = Tensor.normal(shape: [n, n], using: &rng), b = Tensor.normal(shape: [n, n], using: &rng)
        let weights = WeightMatrices(a.scalars, count: 1, rows: n, columns: n, pack: packed)
        var c = Tensor(shape: [n, n])
        let seconds = time(iterations: iterations, warmup: warmup) {
            if packed {
                b.withUnsafeBufferPointer { bp in
                    weights.multiply(0, n: n, b: bp.baseAddress!, ldb: n, c: c.storage.pointer, ldc: n)
                }
            } else {
                _ = Tensor.matmul(a, b)
            }
        }
        c.makeUnique()
        let kernel = GEMM.ownKernel ? "own kernel" : "OpenBLAS"
        return BenchmarkTimings(label: packed ? "sgemm \(n)³ (\(kernel), weights packed beforehand)" : "sgemm \(n)³ (\(kernel))",
                                seconds: seconds, itemsPerIteration: 1,
                                flopsPerIteration: 2 * Double(n) * Double(n) * Double(n))
    }

    /// Convolution and linear FLOPs of the encoder for one frame (multiply-add = 2, as `bench/models.py`).
    public static func encoderFLOPs(_ description: ModelDescription, size: Int) -> Double {
        let encoder = LRCN(ModelDescription(backbone: description.backbone, numClasses: 1,
                                            smallChannels: description.smallChannels,
                                            resnetWidth: description.resnetWidth, hiddenSize: 1,
                                            widthMultiplier: description.widthMultiplier)).encoder
        var flops = 0.0
        _ = traceFLOPs(encoder, shape: [3, size, size], flops: &flops)
        return flops
    }

    /// Recurrent-layer FLOPs per time step.
    public static func recurrentFLOPs(_ d: ModelDescription) -> Double {
        let g = Double(d.sequenceKind.gateCount), h = Double(d.hiddenSize), dirs = d.bidirectional ? 2.0 : 1.0
        var total = 0.0, input = Double(d.featureSize)
        for _ in 0..<d.sequenceLayers {
            total += dirs * 2 * g * h * (input + h)
            input = h * dirs
        }
        return total
    }

    private static func traceFLOPs(_ layer: any Layer, shape: [Int], flops: inout Double) -> [Int] {
        switch layer {
        case let seq as Sequential:
            return seq.layers.reduce(shape) { traceFLOPs($1.layer, shape: $0, flops: &flops) }
        case let block as BasicBlock:
            var s = traceFLOPs(block.conv1, shape: shape, flops: &flops)
            s = traceFLOPs(block.conv2, shape: s, flops: &flops)
            if let ds = block.downsample { _ = traceFLOPs(ds, shape: shape, flops: &flops) }
            return s
        case let block as ResidualBlock:
            let s = traceFLOPs(block.body, shape: shape, flops: &flops)
            if let shortcut = block.shortcut { _ = traceFLOPs(shortcut, shape: shape, flops: &flops) }
            return s
        case let se as SqueezeExcitation:
            _ = traceFLOPs(se.fc2, shape: traceFLOPs(se.fc1, shape: [shape[0], 1, 1], flops: &flops), flops: &flops)
            return shape
        case let conv as Conv2d:
            let g = WindowGeometry(channels: shape[0], height: shape[1], width: shape[2], kernel: conv.kernelSize,
                                   stride: conv.stride, padding: conv.padding, dilation: conv.dilation)
            let out = [conv.outChannels, g.outputHeight, g.outputWidth]
            flops += 2 * Double(Tensor.elementCount(out) * (conv.inChannels / conv.groups) * conv.kernelSize.0
                                * conv.kernelSize.1)
            return out
        case let pool as MaxPool2d:
            let g = WindowGeometry(channels: shape[0], height: shape[1], width: shape[2],
                                   kernel: (pool.kernelSize, pool.kernelSize), stride: (pool.stride, pool.stride),
                                   padding: (pool.padding, pool.padding))
            return [shape[0], g.outputHeight, g.outputWidth]
        case let pool as AvgPool2d:
            let g = WindowGeometry(channels: shape[0], height: shape[1], width: shape[2],
                                   kernel: (pool.kernelSize, pool.kernelSize), stride: (pool.stride, pool.stride),
                                   padding: (pool.padding, pool.padding))
            return [shape[0], g.outputHeight, g.outputWidth]
        case let gap as GlobalAveragePool:
            return gap.keepSpatial ? [shape[0], 1, 1] : [shape[0]]
        case is Flatten:
            return [shape.reduce(1, *)]
        case let linear as Linear:
            flops += 2 * Double(linear.inFeatures * linear.outFeatures)
            return [linear.outFeatures]
        default:
            return shape
        }
    }

    /// One leaf layer of an inference snapshot, timed on its own (``layerProfile(_:clips:frames:size:iterations:threads:precision:)``).
    public struct LayerTiming: Sendable {
        /// Where the layer sits and what it is, e.g. `layer4.1.conv2 conv3x3/1 512→512 4×4 winograd2`.
        public var name: String
        /// Median seconds per call over the whole batch.
        public var seconds: Double
        /// Direct-convolution (or linear) FLOPs per call over the whole batch.
        public var flops: Double
    }

    /// Times each layer of the inference snapshot of `description` (BatchNorm folded, fused) on its
    /// own, over `clips × frames` frames: where the encoder's time goes.
    public static func layerProfile(_ description: ModelDescription, clips: Int = 1, frames: Int = 16, size: Int = 112,
                                    iterations: Int = 5, threads: Int = 2,
                                    precision: InferencePrecision = .float32) -> [LayerTiming] {
        BLASThreads.count = threads
        let model = LRCNInference(LRCN(description, seed: 1), precision: precision)
        var rng = SplitMix64(seed: 2)
        let x = Tensor.normal(shape: [clips * frames, description.inputChannels, size, size], using: &rng)
        var timings: [LayerTiming] = []
        func median(_ body: () -> Void) -> Double {
            let s = time(iterations: iterations, warmup: 1, body).sorted()
            return s[s.count / 2]
        }
        func convName(_ conv: Conv2d, _ input: Tensor) -> String {
            let h = input.shape[2], w = input.shape[3]
            let g = WindowGeometry(channels: input.shape[1], height: h, width: w, kernel: conv.kernelSize, stride: conv.stride,
                                   padding: conv.padding, dilation: conv.dilation)
            let kind = conv.winogradTile(for: input).map { "winograd\($0)" }
                ?? (conv.isDepthwise ? "depthwise" : conv.usesDirectConvolution(g) ? "direct" : conv.kernelSize == (1, 1) ? "gemm" : "im2col")
            return "conv\(conv.kernelSize.0)x\(conv.kernelSize.1)/\(conv.stride.0) \(conv.inChannels)→\(conv.outChannels) "
                + "\(h)×\(w) \(kind)\(conv.fusedMaxPool ? "+pool" : "")"
        }
        func convFLOPs(_ conv: Conv2d, _ input: Tensor, _ output: Tensor) -> Double {
            let outHW = Double(conv.fusedMaxPool ? output.shape[2] * output.shape[3] * 4 : output.shape[2] * output.shape[3])
            return 2 * Double(input.shape[0]) * outHW * Double(conv.outChannels * conv.inChannels / conv.groups
                                                                * conv.kernelSize.0 * conv.kernelSize.1)
        }
        func walk(_ layer: any Layer, _ name: String, _ input: Tensor) -> Tensor {
            switch layer {
            case let seq as Sequential:
                return seq.layers.reduce(input) { walk($1.layer, name.isEmpty ? $1.name : "\(name).\($1.name)", $0) }
            case let block as FusedBasicBlock:
                var shortcut = input
                if let ds = block.downsample {
                    let t = median { shortcut = input; shortcut = ds.forward(input, mode: .inference) }
                    timings.append(LayerTiming(name: "\(name).downsample \(convName(ds, input))", seconds: t,
                                               flops: convFLOPs(ds, input, shortcut)))
                }
                var mid = input
                let t1 = median { mid = input; mid = block.conv1.forward(input, mode: .inference) }
                timings.append(LayerTiming(name: "\(name).conv1 \(convName(block.conv1, input))", seconds: t1,
                                           flops: convFLOPs(block.conv1, input, mid)))
                var out = mid
                let t2 = median { out = input; out = block.conv2.convolve(mid, residual: shortcut) }
                timings.append(LayerTiming(name: "\(name).conv2 \(convName(block.conv2, mid))", seconds: t2,
                                           flops: convFLOPs(block.conv2, mid, out)))
                return out
            case let encoder as ChannelsLastEncoder:
                // One pass through the whole encoder (its operations interleave across frames and
                // threads), timed operation by operation.
                let times = ChannelsLastEncoder.OperationTimes()
                encoder.operationTimes = times
                var out = input
                _ = median { out = encoder.forward(input, mode: .inference) }
                encoder.operationTimes = nil
                let runs = Double(iterations + 1)
                for entry in times.all {
                    timings.append(LayerTiming(name: name.isEmpty ? entry.name : "\(name).\(entry.name)", seconds: entry.seconds / runs,
                                               flops: entry.flops / runs))
                }
                return out
            case let block as FusedResidualBlock:
                var x = input
                for (i, leaf) in block.leading.enumerated() { x = walk(leaf, "\(name).\(i)", x) }
                guard let last = block.last else { return block.forward(input, mode: .inference) }
                let residual = block.hasResidual ? (block.shortcut?.forward(input, mode: .inference) ?? input) : nil
                var out = x
                let t = median { out = input; out = last.convolve(x, residual: residual) }
                timings.append(LayerTiming(name: "\(name).\(block.leading.count) \(convName(last, x))", seconds: t,
                                           flops: convFLOPs(last, x, out)))
                return out
            default:
                var out = input
                let t = median { out = input; out = layer.forward(input, mode: .inference) }
                if let conv = layer as? Conv2d {
                    timings.append(LayerTiming(name: "\(name) \(convName(conv, input))", seconds: t,
                                               flops: convFLOPs(conv, input, out)))
                } else {
                    timings.append(LayerTiming(name: "\(name) \(type(of: layer))", seconds: t, flops: 0))
                }
                return out
            }
        }
        _ = walk(model.encoder, "", x)
        return timings
    }

    private static func time(iterations: Int, warmup: Int, _ body: () -> Void) -> [Double] {
        let clock = ContinuousClock()
        for _ in 0..<warmup { body() }
        return (0..<iterations).map { _ in
            let elapsed = clock.measure { body() }
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }
    }
}

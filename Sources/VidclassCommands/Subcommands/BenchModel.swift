import ArgumentParser
import Foundation
import NeuralNetwork
import VideoClassification
import Tensors

/// `vidclass bench model`: the peer harness's B1 (inference), B2 (training) and B4 (GEMM)
/// protocols (`../shared/bench/bench_infer.py`, `bench_train.py`, `bench_gemm.py`) with the same
/// reference models and shapes, seeded random weights and inputs.
struct BenchModel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Inference and training benchmark of the reference models (lrcn-small, lrcn-resnet18) and the other encoders.")

    @Option(help: "What to run: any of gemm, infer, train, layers (per-layer inference times; not run by default).")
    var tasks = CommaSeparated<BenchModelTask>([.gemm, .infer, .train])

    @Option(help: "Models for inference: any of lrcn-small, lrcn-resnet18, lrcn-resnet34, lrcn-resnet50, lrcn-mobilenet-v2, lrcn-mobilenet-v3-small, lrcn-mobilenet-v3-large, lrcn-efficientnet-b0 (or torchvision's names).")
    var models = CommaSeparated<ModelDescription.Backbone>([.small, .resnet18])

    @Option(help: "Frame sizes for inference (square, pixels).")
    var sizes = CommaSeparated<Int>([112])

    @Option(help: "Precisions for inference: any of fp32, bf16 (the convolutions in bfloat16; see `classify --help`). Each shape runs in each, one after the other.")
    var precisions = CommaSeparated<InferencePrecision>([.float32])

    @Option(help: "Batch shapes for inference, as clips x frames.")
    var batches = CommaSeparated<BatchShape>([BatchShape(clips: 1, frames: 16), BatchShape(clips: 8, frames: 16)])

    @Option(help: "Timed repetitions (after warm-up).")
    var repetitions = 7

    @Option(help: "Timed training repetitions (each of --train-steps steps).")
    var trainRepetitions = 3

    @Option(help: "Training steps per timed repetition.")
    var trainSteps = 5

    @Option(help: "Threads.")
    var threads = 2

    @Option(help: "Write the results as JSON here.")
    var json: String?

    struct Row: Codable {
        var task: String
        var model: String
        var size: Int = 112
        var precision = InferencePrecision.float32.rawValue
        var clips: Int
        var frames: Int
        var secondsPerCall: [Double]
        var medianSeconds: Double
        var itemsPerSecond: Double
        var framesPerSecond: Double
        var gflopsPerSecond: Double
    }

    func run() async throws {
        var rows: [Row] = []
        let wanted = tasks
        print("vidclass bench model: \(threads) threads")
        var gemmRate: Double?
        if wanted.contains(.gemm) {
            for n in [1024, 2048] {
                let t = ModelBenchmark.gemm(n: n, iterations: repetitions, warmup: 2, threads: threads)
                gemmRate = t.gflopsPerSecond
                rows.append(row("gemm", "sgemm-\(n)", 1, 1, t, frames: 0))
                print(t)
            }
            if WeightMatrices.packingAvailable {
                let t = ModelBenchmark.gemm(n: 2048, iterations: repetitions, warmup: 2, threads: threads, packed: true)
                rows.append(row("gemm", "packed-2048", 1, 1, t, frames: 0))
                print(t.description + (gemmRate.map { String(format: ", %.0f %% of sgemm", 100 * t.gflopsPerSecond / $0) } ?? ""))
            }
        }
        let shapes = try benchmarkShapes()
        if wanted.contains(.infer) {
            if precisions.contains(.bfloat16) {
                print("bf16: \(InferencePrecision.bfloat16IsNative ? "AVX-512 BF16 instructions" : "emulated in fp32 (this CPU has no AVX-512 BF16, or the kernels are capped below AVX-512)")")
            }
            for (name, description, clips, frames) in shapes {
              for size in sizes.values {
                for precision in precisions.values {
                  let t = ModelBenchmark.inference(description, clips: clips, frames: frames, size: size,
                                                   iterations: repetitions, warmup: 2, threads: threads, precision: precision)
                  var r = row("infer", name, clips, frames, t, frames: clips * frames)
                  r.size = size
                  r.precision = precision.rawValue
                  rows.append(r)
                  print(t.description + (gemmRate.map { String(format: ", %.0f %% of sgemm", 100 * t.gflopsPerSecond / $0) } ?? ""))
                }
              }
            }
        }
        if wanted.contains(.layers) {
            for (name, description, clips, frames) in shapes {
              for precision in precisions.values {
                let layers = ModelBenchmark.layerProfile(description, clips: clips, frames: frames, size: sizes.values[0],
                                                         iterations: repetitions, threads: threads, precision: precision)
                let total = layers.reduce(0) { $0 + $1.seconds }
                print("\(name) \(clips)x\(frames) \(precision.rawValue) per layer (ms per frame, GFLOP/s, share):")
                for layer in layers {
                    print(String(format: "  %-58@ %7.3f  %6.1f  %5.1f %%", layer.name as NSString,
                                 1000 * layer.seconds / Double(clips * frames),
                                 layer.flops / layer.seconds / 1e9, 100 * layer.seconds / total))
                }
                print(String(format: "  total %.3f ms per frame", 1000 * total / Double(clips * frames)))
              }
            }
        }
        if wanted.contains(.train) {
            let description = ModelDescription.lrcnSmall()
            var perStep: [Double] = []
            var last: BenchmarkTimings?
            for _ in 0..<trainRepetitions {
                let t = ModelBenchmark.training(description, clips: 8, frames: 16, size: 112,
                                                iterations: trainSteps, warmup: 1, threads: threads)
                perStep.append(t.median)
                last = t
            }
            if var t = last {
                t.seconds = perStep
                rows.append(row("train", "lrcn-small", 8, 16, t, frames: 8 * 16))
                print("lrcn-small training 8×16 (Adam): median step \(String(format: "%.3f", t.median)) s, "
                      + String(format: "%.2f clips/s, %.1f GFLOP/s", t.itemsPerSecond, t.gflopsPerSecond))
            }
        }
        if let json {
            struct Report: Codable { var bench: String; var threads: Int; var results: [Row] }
            try JSONEncoder().encode(Report(bench: "vidclass_model", threads: threads, results: rows))
                .write(to: URL(fileURLWithPath: json))
            print("-> \(json)")
        }
    }

    private func row(_ task: String, _ model: String, _ clips: Int, _ frames: Int, _ t: BenchmarkTimings, frames total: Int) -> Row {
        Row(task: task, model: model, clips: clips, frames: frames, secondsPerCall: t.seconds, medianSeconds: t.median,
            itemsPerSecond: t.itemsPerSecond, framesPerSecond: total > 0 ? Double(total) / t.median : 0,
            gflopsPerSecond: t.gflopsPerSecond)
    }

    /// Every model of `--models` with every shape of `--batches` (CLIPSxFRAMES).
    private func benchmarkShapes() throws -> [(name: String, description: ModelDescription, clips: Int, frames: Int)] {
        models.values.flatMap { backbone in
            batches.values.map { (backbone.rawValue, Self.description(backbone), $0.clips, $0.frames) }
        }
    }

    static func description(_ backbone: ModelDescription.Backbone) -> ModelDescription {
        ModelDescription(backbone: backbone)
    }
}

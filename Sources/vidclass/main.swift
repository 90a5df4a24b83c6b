// LOCAL BENCH DRIVER — not committed.
import NeuralNetwork
import Foundation
let args = CommandLine.arguments
let what = args.count > 1 ? args[1] : "infer"
let threads = 2
switch what {
case "gemm":
    print(ModelBenchmark.gemm(n: 2048, iterations: 5, threads: threads))
    print(ModelBenchmark.gemm(n: 1024, iterations: 5, threads: threads))
case "infer":
    let clips = args.count > 2 ? Int(args[2])! : 1
    print(ModelBenchmark.inference(.lrcnSmall(), clips: clips, frames: 16, iterations: 5, threads: threads))
    print(ModelBenchmark.inference(.lrcnResNet18(), clips: clips, frames: 16, iterations: 5, threads: threads))
case "infer-small":
    let clips = args.count > 2 ? Int(args[2])! : 1
    print(ModelBenchmark.inference(.lrcnSmall(), clips: clips, frames: 16, iterations: 7, threads: threads))
case "infer-resnet":
    let clips = args.count > 2 ? Int(args[2])! : 1
    print(ModelBenchmark.inference(.lrcnResNet18(), clips: clips, frames: 16, iterations: 5, threads: threads))
case "train":
    print(ModelBenchmark.training(.lrcnSmall(), clips: 8, frames: 16, iterations: 3, threads: threads))
default: break
}

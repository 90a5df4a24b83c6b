// LOCAL BENCH DRIVER — not committed.
import NeuralNetwork
import Tensors
let args = CommandLine.arguments
let what = args.count > 1 ? args[1] : "infer"
let clips = args.count > 2 ? Int(args[2])! : 1
BLASThreads.count = 2
func infer(_ d: ModelDescription, winograd: Bool, iterations: Int = 7) {
    let model = LRCNInference(LRCN(d, seed: 1), winograd: winograd)
    var rng = SplitMix64(seed: 2)
    let x = Tensor.normal(shape: [clips, 16, 3, 112, 112], using: &rng)
    let clock = ContinuousClock()
    _ = model.logits(x)
    var ts: [Double] = []
    for _ in 0..<iterations {
        let e = clock.measure { _ = model.logits(x) }
        ts.append(Double(e.components.attoseconds) * 1e-18 + Double(e.components.seconds))
    }
    ts.sort()
    let med = ts[ts.count / 2]
    let flops = Double(clips * 16) * (ModelBenchmark.encoderFLOPs(d, size: 112) + ModelBenchmark.recurrentFLOPs(d))
    print("\(d.backbone.rawValue) \(clips)x16 winograd=\(winograd): \(Int(med * 1000)) ms [\(Int(ts.first! * 1000))-\(Int(ts.last! * 1000))], \(Int(Double(clips * 16) / med)) frames/s, \(Int(flops / med / 1e9)) eff. GFLOP/s")
}
switch what {
case "gemm":
    print(ModelBenchmark.gemm(n: 2048, iterations: 5, threads: 2))
case "infer":
    infer(.lrcnSmall(), winograd: false); infer(.lrcnSmall(), winograd: true)
    infer(.lrcnResNet18(), winograd: false, iterations: 5); infer(.lrcnResNet18(), winograd: true, iterations: 5)
case "small": infer(.lrcnSmall(), winograd: true)
case "resnet": infer(.lrcnResNet18(), winograd: true, iterations: 5)
case "train":
    print(ModelBenchmark.training(.lrcnSmall(), clips: 8, frames: 16, iterations: 3, warmup: 1, threads: 2))
default: break
}

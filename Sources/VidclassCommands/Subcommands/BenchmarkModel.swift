import Foundation
import NeuralNetwork
import VideoClassification

/// The reference model of the peer harness's end-to-end benchmark (`bench_e2e.py`): lrcn-small,
/// 10 classes, 16 RGB frames of 112×112, seeded random weights.
func benchmarkModel() -> VideoModel {
    let card = ModelCard(name: "lrcn-small-bench", architecture: .lrcnSmall(numClasses: 10),
                         labels: (0..<10).map { "class\($0)" },
                         input: InputSpecification(representation: .rgb, framesPerClip: 16, size: 112, shortSide: 112))
    return VideoModel(card: card, seed: 1)
}

/// A temporary folder holding ``benchmarkModel()`` as a model file (remove it when done).
func benchmarkWorkspace() throws -> (folder: URL, modelPath: String) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vidclass-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let modelPath = folder.appendingPathComponent("lrcn-small.safetensors").path
    try benchmarkModel().save(to: modelPath)
    return (folder, modelPath)
}

import Foundation
import NeuralNetwork
import Tensors
import Testing

/// Access to the PyTorch goldens written by `Tools/make_nn_goldens.py`.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/Golden")

    static func file(_ name: String) throws -> SafeTensorsFile {
        try SafeTensorsFile(path: directory.appendingPathComponent("\(name).safetensors").path)
    }

    /// Full-size goldens (not committed) written by the same script to `~/.cache/vidclass-bench/goldens`.
    static let fullSizeDirectory = FileManager.default.homeDirectoryForCurrentUser
        .appendingPathComponent(".cache/vidclass-bench/goldens")
}

/// `max|a − b| / max|b|`: error relative to the scale of the reference tensor.
func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.count == b.count, "compared tensors differ in size: \(a.shape) vs \(b.shape)")
    let scale = max(b.scalars.map(abs).max() ?? 0, 1e-6)
    return a.maxAbsDifference(b) / scale
}

/// Expects `a` to match the reference `b` in shape and within `tolerance` relative error.
func expectClose(_ a: Tensor, _ b: Tensor, _ tolerance: Float, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.shape == b.shape, "\(what): shape \(a.shape) vs \(b.shape)", sourceLocation: sourceLocation)
    guard a.count == b.count else { return }
    let err = relativeError(a, b)
    #expect(err <= tolerance, "\(what): relative error \(err)", sourceLocation: sourceLocation)
}

let forwardTolerance: Float = 1e-4
let gradientTolerance: Float = 1e-3

import Foundation
import NeuralNetwork
import VideoClassification
import VideoIO

/// The bodies of the libFuzzer targets (`Tools/fuzz.sh`): each takes arbitrary bytes and must
/// return, whatever they are, without crashing, hanging or allocating without bound. The same
/// functions replay the committed corpora and every crash ever found in the tests
/// (`FuzzRegressionTests`).
public enum FuzzTargets {
    /// The targets by name (the executables are `fuzz-<name>`).
    public static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "safetensors": safetensors,
        "modelcard": modelCard,
        "decode": decode,
    ]

    /// The safetensors parser: header, JSON, offsets, dtypes; then every tensor read and converted.
    public static func safetensors(_ bytes: [UInt8]) {
        guard let file = try? SafeTensorsFile(bytes: bytes) else { return }
        for name in file.names { _ = try? file.tensor(named: name) }
        _ = file.metadata.count
    }

    /// The model file: a safetensors file with the model card in its metadata, or, when the bytes
    /// are not one, the bytes as the card's JSON on their own (so the fuzzer reaches the card's
    /// validation directly). A card that validates builds its network, which must stay small.
    public static func modelCard(_ bytes: [UInt8]) {
        if (try? VideoModel(bytes: bytes, path: "<fuzz>")) != nil { return }
        guard let card = try? JSONDecoder().decode(ModelCard.self, from: Data(bytes)), card.problem() == nil else { return }
        let model = VideoModel(card: card)
        _ = model.network.namedParameters().count
    }

    /// Decoding: the bytes as a video through a custom AVIO reader (no file), sampled sparsely and
    /// then read whole, scaled to a small size, with a time limit.
    public static func decode(_ bytes: [UInt8]) {
        for sampling in [FrameSampling.uniform(4), .all] {
            var options = DecodeOptions(sampling: sampling, format: FrameFormat(size: FrameSize(16)), threads: 1)
            options.timeout = 5
            guard let reader = try? VideoReader(bytes: bytes, name: "<fuzz>", options: options) else { return }
            var count = 0
            while count < 300, let frame = try? reader.next() {
                precondition(frame.pixels.count == frame.width * frame.height * 3, "frame buffer does not match its size")
                count += 1
            }
        }
    }

    /// Runs `target` over files and folders of inputs (what a fuzz executable does when it is built
    /// without libFuzzer); returns how many inputs ran.
    @discardableResult
    public static func replay(_ target: ([UInt8]) -> Void, paths: [String]) -> Int {
        var count = 0
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 } : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                target([UInt8](data))
                count += 1
            }
        }
        return count
    }
}

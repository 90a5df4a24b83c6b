import Foundation
import FuzzTargets
import Testing
import VidclassTestSupport

/// Every fuzz seed and every input a fuzzer ever crashed on (Fuzz/regressions, committed) runs
/// through its target again; plus the corruption corpus through the decode target. A crash here
/// is a crash in the product.
struct FuzzRegressionTests {
    static let fuzz = TestPaths.repositoryRoot.appendingPathComponent("Fuzz").path

    @Test(arguments: ["safetensors", "modelcard", "decode"])
    func seedsAndRegressionsRunClean(target: String) throws {
        let body = try #require(FuzzTargets.all[target])
        let ran = FuzzTargets.replay(body, paths: ["\(Self.fuzz)/seeds/\(target)", "\(Self.fuzz)/regressions/\(target)"])
        #expect(ran >= 0)
        if target == "modelcard" { #expect(ran >= 2, "the card seeds ran") }
    }

    @Test func fixturesAndDamagedFixturesThroughEveryTarget() throws {
        let corpus = try CorruptionCorpus(sources: CorruptionCorpus.fixtureSources(), seed: 11)
        let damaged = (0..<48).map { corpus.input($0).bytes }
        for bytes in damaged { FuzzTargets.decode(bytes) }
        let models = ["pytorch/tiny_lstm_rgb.safetensors", "pytorch/tiny_gru_rgbdiff_bidir.safetensors"].map {
            [UInt8](FileManager.default.contents(atPath: TestPaths.fixture($0)) ?? Data())
        }
        for model in models {
            FuzzTargets.safetensors(model)
            FuzzTargets.modelCard(model)
            // Truncations and bit flips of a real model file.
            for cut in stride(from: 0, to: model.count, by: max(1, model.count / 40)) {
                FuzzTargets.safetensors(Array(model.prefix(cut)))
                FuzzTargets.modelCard(Array(model.prefix(cut)))
            }
            var flipped = model
            for i in stride(from: 8, to: min(flipped.count, 2000), by: 37) {
                flipped[i] ^= 0x5A
                FuzzTargets.modelCard(flipped)
            }
        }
    }
}

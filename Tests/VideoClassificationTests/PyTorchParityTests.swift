import Foundation
import NeuralNetwork
import Testing
import VideoClassification
import VidclassTestSupport

/// Models trained in PyTorch: `Tools/import_pytorch.py --make-parity-fixtures Fixtures/pytorch` builds
/// two tiny seeded PyTorch LRCNs (LSTM on RGB; 2-layer bidirectional GRU on RGB+differences),
/// converts them with the same code a user runs, and records PyTorch's probabilities for two clips.
struct PyTorchParityTests {
    @Test(arguments: ["tiny_lstm_rgb", "tiny_gru_rgbdiff_bidir"])
    func sameProbabilitiesAsPyTorch(_ name: String) throws {
        let model = try VideoModel(contentsOf: TestPaths.fixture("pytorch/\(name).safetensors"))
        let io = try SafeTensorsFile(path: TestPaths.fixture("pytorch/\(name)_io.safetensors"))
        let input = try io.tensor(named: "input")
        let expected = try io.tensor(named: "probabilities")
        let classes = model.card.labels.count
        let got = VideoClassifier(model: model).probabilities(input)
        expected.withUnsafeBufferPointer { p in
            for clip in 0..<input.shape[0] {
                let want = (0..<classes).map { Double(p[clip * classes + $0]) }
                let maxError = zip(got[clip], want).map { abs($0 - $1) }.max() ?? 1
                #expect(maxError < 1e-4, "clip \(clip): \(got[clip]) vs PyTorch \(want)")
                let order = { (row: [Double]) in row.indices.sorted { row[$0] > row[$1] } }
                #expect(order(got[clip]) == order(want), "same ranking")
            }
        }
    }

    @Test func importedCardDescribesTheNetwork() throws {
        let model = try VideoModel(contentsOf: TestPaths.fixture("pytorch/tiny_gru_rgbdiff_bidir.safetensors"))
        let a = model.card.architecture
        #expect(a.sequenceKind == .gru && a.sequenceLayers == 2 && a.bidirectional)
        #expect(a.smallChannels == [8, 16] && a.inputChannels == 6)
        #expect(model.card.input.representation == .rgbDiff && model.card.labels == ["class0", "class1", "class2"])
    }
}

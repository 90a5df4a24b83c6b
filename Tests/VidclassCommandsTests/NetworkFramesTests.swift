import Foundation
import Testing
@testable import VidclassCommands
import VideoClassification
import VideoIO
import VidclassTestSupport

/// What a person sees is what the model sees: `vidclass frames --model M` writes the pixels the
/// network's input tensor is made of, bit for bit, on scaled, cropped, rotated, odd-sized and
/// 4:2:0 clips.
struct NetworkFramesTests {
    static let clips = ["h264_bframes_gop30.mp4", "h264_rotate90.mp4", "vp9_odd_161x121.webm", "mjpeg.avi", "h264_10bit.mp4"]

    /// A model whose decode size (short side 36) and window (28) both differ from every clip's size.
    static func modelFile() throws -> (path: String, card: ModelCard) {
        let card = ModelCard(name: "window-test",
                             architecture: ModelDescription(backbone: .small, numClasses: 2, smallChannels: [4, 8], hiddenSize: 8,
                                                            inputChannels: 3),
                             labels: ["a", "b"], input: InputSpecification(representation: .rgb, framesPerClip: 5, size: 28, shortSide: 36))
        let path = try TestPaths.temporaryDirectory("window-model").appendingPathComponent("m.safetensors").path
        try VideoModel(card: card, seed: 1).save(to: path)
        return (path, card)
    }

    @Test func theTensorIsMadeOfTheNetworkFrames() throws {
        let (_, card) = try Self.modelFile()
        let preprocessor = Preprocessor(card.input)
        for clip in Self.clips {
            let decoded = try VideoReader(path: TestPaths.fixture("videos/" + clip), options: preprocessor.decodeOptions()).readAll()
            let frames = preprocessor.networkFrames(decoded)
            #expect(frames.count == 5 && frames.allSatisfy { $0.width == 28 && $0.height == 28 }, "\(clip)")
            let tensor = preprocessor.tensor(decoded).scalars
            var mismatches = 0
            for (t, frame) in frames.enumerated() {
                for c in 0..<3 {
                    let mean = card.input.mean[c], invStd = 1 / card.input.std[c]
                    for i in 0..<(28 * 28) {
                        // The classifier's arithmetic, without augmentation (gain 1, bias 0).
                        let value = Float(frame.pixels[i * 3 + c]) * (1 / Float(255))
                        let v = (value - 0.5) * 1 + 0.5 + 0
                        if tensor[((t * 3) + c) * 28 * 28 + i] != (v - mean) * invStd { mismatches += 1 }
                    }
                }
            }
            #expect(mismatches == 0, "\(clip): \(mismatches) tensor values differ from the network frames")
        }
    }

    @Test func framesWithAModelWritesThosePixels() throws {
        let (model, card) = try Self.modelFile()
        let preprocessor = Preprocessor(card.input)
        for clip in Self.clips {
            let path = TestPaths.fixture("videos/" + clip)
            let folder = try TestPaths.temporaryDirectory("network-frames").appendingPathComponent("out").path + "/"
            let result = try runVidclass(["frames", path, "--model", model, "--output", folder])
            #expect(result.status == 0, "\(clip): \(result.stderr)")
            let expected = preprocessor.networkFrames(try VideoReader(path: path, options: preprocessor.decodeOptions()).readAll())
            let written = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
            #expect(written.count == Set(expected.map(\.index)).count, "\(clip): \(written)")
            for frame in expected {
                let png = folder + String(format: "frame_%06d.png", frame.index)
                let read = try #require(try VideoReader(path: png).readAll().first, "\(png)")
                #expect(read.width == 28 && read.height == 28 && read.pixels == frame.pixels, "\(clip) frame \(frame.index): the PNG holds the network's pixels")
            }
        }
    }
}

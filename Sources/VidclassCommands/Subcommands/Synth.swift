import ArgumentParser
import Foundation
import VideoClassification
import VideoIO

extension VidclassCommand {
    /// `vidclass synth OUTPUT --clips-per-class N --seed S`.
    struct Synth: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a synthetic dataset only a model that reads frame order can solve (10 classes, 5 time-reversed pairs).")

        @Argument(help: "Output directory (one folder per class).")
        var output: String

        @Option(help: "Clips per class.")
        var clipsPerClass = 50

        @Option(help: "Random seed (the same seed writes the same clips).")
        var seed: UInt64 = 1

        @Option(help: "Codecs to draw from: any of h264, mpeg4, vp9, mjpeg.")
        var codecs = "h264,mpeg4,vp9,mjpeg"

        @Flag(help: "Plain scenes: a still camera, one solid object, even light and one compression level (no moving camera, whole-picture motion, lighting changes, striped or hollow objects or drifting distractors).")
        var plain = false

        func validate() throws {
            if clipsPerClass <= 0 { throw ValidationError("--clips-per-class must be positive") }
            if try codecList().isEmpty { throw ValidationError("--codecs names no codec") }
        }

        func codecList() throws -> [VideoCodec] {
            try codecs.split(separator: ",").map { name in
                guard let codec = VideoCodec(rawValue: String(name)) else { throw ValidationError("unknown codec '\(name)' (use h264, mpeg4, vp9, mjpeg)") }
                return codec
            }
        }

        func run() async throws {
            var options = SyntheticMotion.Options()
            options.codecs = try codecList()
            options.variety = !plain
            let truths = try SyntheticMotion.generate(into: output, clipsPerClass: clipsPerClass, seed: seed, options: options) { done, total in
                if done % 50 == 0 || done == total { printError("synth: \(done)/\(total) clips") }
            }
            print("wrote \(truths.count) clips in \(SyntheticMotion.classes.count) classes to \(output) (labels.csv lists them)")
        }
    }
}

import ArgumentParser
import Foundation
import VideoClassification

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

        func validate() throws {
            if clipsPerClass <= 0 { throw ValidationError("--clips-per-class must be positive") }
        }

        func run() async throws {
            let truths = try SyntheticMotion.generate(into: output, clipsPerClass: clipsPerClass, seed: seed) { done, total in
                if done % 50 == 0 || done == total { printError("synth: \(done)/\(total) clips") }
            }
            print("wrote \(truths.count) clips in \(SyntheticMotion.classes.count) classes to \(output) (labels.csv lists them)")
        }
    }
}

import ArgumentParser
import Foundation
import VideoClassification

extension VidclassCommand {
    /// `vidclass merge -o OUTPUT INPUT...`: shard outputs into one, duplicates dropped.
    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge JSON Lines outputs of `label` (for example one per shard): one record per file, duplicates dropped, unusable lines reported.",
            discussion: "Exit status: 0 merged; 1 some lines could not be used (each is named); 2 an input cannot be read, the inputs come from different models, or the output is one of the inputs.")

        @Option(name: .shortAndLong, help: "The merged output (JSON Lines).")
        var output: String

        @Argument(help: "Outputs of `vidclass label`.")
        var inputs: [String]

        func run() async throws {
            if inputs.contains(where: { FileKey.canonicalPath($0) == FileKey.canonicalPath(output) }) {
                printError("vidclass: \(output): the output is one of the inputs; refusing to write over it")
                throw Label.fatal
            }
            let merged: LabelMerge.Result
            do {
                merged = try LabelMerge.merge(inputs)
            } catch {
                printError("vidclass: \(error)")
                throw Label.fatal
            }
            for line in merged.unusable { printError("merge: \(line)") }
            if merged.modelHashes.count > 1 {
                printError("vidclass: the inputs were written by different models (\(merged.modelHashes.sorted().joined(separator: ", ")))")
                throw Label.fatal
            }
            let lines = merged.lines
            try AtomicFile.write(Array((lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).utf8), to: output, durable: false)
            print("merged \(lines.count) records from \(inputs.count) files into \(output); \(merged.superseded) duplicate(s) dropped")
            if !merged.unusable.isEmpty {
                printError("merge: \(merged.unusable.count) line(s) could not be used (listed above)")
                throw ExitStatus.someFailed
            }
        }
    }
}

import Foundation
import Testing
import VidclassTestSupport

/// The CI slice of the hardening run (`Tools/corruption_run.sh` does 10,000): damaged fixtures of
/// every kind through `probe`, `classify` and `label` on the built binary.
struct CorruptionTests {
    static let model = TestPaths.fixture("pytorch/tiny_lstm_rgb.safetensors")

    @Test func damagedInputsGiveErrorsOrResultsNeverCrashes() throws {
        let corpus = try CorruptionCorpus(sources: CorruptionCorpus.fixtureSources(), seed: 2026)
        let directory = try TestPaths.temporaryDirectory("corrupt").path
        let count = 6 * CorruptionCorpus.Kind.allCases.count
        let files = try corpus.write(0..<count, into: directory)
        #expect(Set(files.map { (($0 as NSString).lastPathComponent as NSString).pathExtension }).isSuperset(of: ["mp4", "txt"]))

        let probe = try runVidclass(["probe", "--format", "json"] + files)
        #expect(!probe.crashed && [0, 1].contains(probe.status), "probe: status \(probe.status)\n\(probe.stderr.suffix(800))")

        let classify = try runVidclass(["classify", "--model", Self.model, "--format", "json", "--top", "1"] + files)
        #expect(!classify.crashed && [0, 1].contains(classify.status), "classify: status \(classify.status)\n\(classify.stderr.suffix(800))")
        let errorLines = classify.stderr.split(separator: "\n")
        for line in errorLines {
            #expect(files.contains { line.contains($0) }, "an error line names its file: \(line)")
        }
        let results = try #require(try JSONSerialization.jsonObject(with: Data(classify.stdout.utf8)) as? [[String: Any]])
        #expect(results.count + errorLines.count == files.count, "each input gives a result or one error line")

        let list = directory + ".list"
        try files.joined(separator: "\n").write(toFile: list, atomically: true, encoding: .utf8)
        let output = directory + ".jsonl"
        let label = try runVidclass(["label", "--files-from", list, "-o", output, "--model", Self.model, "--timeout", "20"])
        #expect(!label.crashed && [0, 1].contains(label.status), "label: status \(label.status)\n\(label.stderr.suffix(800))")
        let records = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let paths = records.compactMap { $0["path"] as? String }
        #expect(paths.count == files.count && Set(paths) == Set(files), "every input recorded exactly once")
        for record in records where record["status"] as? String != "ok" {
            #expect((record["error"] as? String)?.isEmpty == false, "\(record["path"] ?? "?"): an error says why")
        }
        // Damage that leaves nothing to decode is an error, never a made-up result.
        for record in records where (record["path"] as? String)?.contains("-empty-") == true || (record["path"] as? String)?.contains("-randomBytes-") == true {
            #expect(record["status"] as? String == "error", "\(record["path"] ?? "?")")
        }
    }
}

// vidclass-corpus: writes the seeded corruption corpus (see CorruptionCorpus in
// Sources/VidclassTestSupport) for Tools/corruption_run.sh.
//
//   vidclass-corpus OUTPUT [--count N] [--seed S] [--start I] [SOURCE.mp4 ...]
//
// Without sources it damages the repository's fixtures (Fixtures/videos, Fixtures/synthetic).
import Foundation
import VidclassTestSupport

var arguments = Array(CommandLine.arguments.dropFirst())
@MainActor func option(_ name: String, default value: Int) -> Int {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let n = Int(arguments[i + 1]) else { return value }
    arguments.removeSubrange(i...(i + 1))
    return n
}
let count = option("--count", default: 10_000)
let seed = option("--seed", default: 1)
let start = option("--start", default: 0)
guard let output = arguments.first, !output.hasPrefix("-") else {
    FileHandle.standardError.write(Data("usage: vidclass-corpus OUTPUT [--count N] [--seed S] [--start I] [SOURCE ...]\n".utf8))
    exit(2)
}
let sources = arguments.count > 1 ? Array(arguments.dropFirst()) : CorruptionCorpus.fixtureSources()
do {
    let corpus = try CorruptionCorpus(sources: sources, seed: UInt64(seed))
    try corpus.write(start..<(start + count), into: output)
    print("wrote \(count) damaged inputs (\(CorruptionCorpus.Kind.allCases.count) kinds, seed \(seed), \(sources.count) sources) to \(output)")
} catch {
    FileHandle.standardError.write(Data("vidclass-corpus: \(error)\n".utf8))
    exit(1)
}

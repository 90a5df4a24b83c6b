// vidclass-corpus: writes the seeded corruption corpus (see CorruptionCorpus in
// Sources/VidclassTestSupport) for Tools/corruption_run.sh.
//
//   vidclass-corpus OUTPUT [--count N] [--seed S] [--start I] [SOURCE.mp4 ...]
//   vidclass-corpus --memory-check ROUNDS
//
// Without sources it damages the repository's fixtures (Fixtures/videos, Fixtures/synthetic).
// `--memory-check` decodes the fixtures (whole, sampled, from memory, probed) and 32 damaged
// inputs ROUNDS times after two settling rounds, then prints the resident-memory growth: the leak
// check of MemoryTests, in a process of its own so that concurrent tests cannot move the number.
import Foundation
import VideoIO
import VidclassTestSupport

func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func decodeRound(_ sources: [(String, [UInt8])], damaged: [[UInt8]]) {
    let small = FrameFormat(size: FrameSize(32))
    for (path, bytes) in sources {
        _ = try? VideoReader(path: path, options: DecodeOptions(sampling: .all, format: small)).readAll()
        _ = try? VideoReader(path: path, options: DecodeOptions(sampling: .uniform(4), format: small)).readAll()
        _ = try? VideoReader(bytes: bytes, name: path, options: DecodeOptions(sampling: .uniform(3), format: small)).readAll()
        _ = try? VideoFile.probe(path: path)
    }
    for bytes in damaged { _ = try? VideoReader(bytes: bytes, options: DecodeOptions(sampling: .all, format: small)).readAll() }
}

if CommandLine.arguments.count == 3, CommandLine.arguments[1] == "--memory-check", let rounds = Int(CommandLine.arguments[2]) {
    do {
        let paths = CorruptionCorpus.fixtureSources()
        let sources = paths.map { ($0, [UInt8](FileManager.default.contents(atPath: $0) ?? Data())) }
        let corpus = try CorruptionCorpus(sources: paths, seed: 5)
        let damaged = (0..<32).map { corpus.input($0).bytes }
        // Two rounds to reach a steady state (allocator arenas, FFmpeg's static tables), then the rest.
        decodeRound(sources, damaged: damaged)
        decodeRound(sources, damaged: damaged)
        let settled = residentBytes()
        for _ in 0..<rounds { decodeRound(sources, damaged: damaged) }
        let growth = Double(residentBytes() - settled) / 1_048_576
        print("operations \(rounds * (sources.count * 4 + damaged.count)) growth_mb \(growth)")
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("vidclass-corpus: \(error)\n".utf8))
        exit(1)
    }
}

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

import Foundation
import Testing
import VideoIO
import VidclassTestSupport

/// The FFmpeg wrappers free what they allocate: after many files, decoded whole, sampled, from
/// memory and damaged, the process's resident memory is back near where it was after the first
/// round.
struct MemoryTests {
    /// Resident set size in bytes (from /proc/self/statm).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func decodeRound(_ sources: [(String, [UInt8])], damaged: [[UInt8]]) {
        let small = FrameFormat(size: FrameSize(32))
        for (path, bytes) in sources {
            _ = try? VideoReader(path: path, options: DecodeOptions(sampling: .all, format: small)).readAll()
            _ = try? VideoReader(path: path, options: DecodeOptions(sampling: .uniform(4), format: small)).readAll()
            _ = try? VideoReader(bytes: bytes, name: path, options: DecodeOptions(sampling: .uniform(3), format: small)).readAll()
            _ = try? VideoFile.probe(path: path)
        }
        for bytes in damaged { _ = try? VideoReader(bytes: bytes, options: DecodeOptions(sampling: .all, format: small)).readAll() }
    }

    @Test func memoryReturnsAfterThousandsOfDecodes() throws {
        let paths = CorruptionCorpus.fixtureSources()
        let sources = paths.map { ($0, [UInt8](FileManager.default.contents(atPath: $0) ?? Data())) }
        let corpus = try CorruptionCorpus(sources: paths, seed: 5)
        let damaged = (0..<32).map { corpus.input($0).bytes }
        // Two rounds to reach a steady state (allocator arenas, FFmpeg's static tables), then many more.
        Self.decodeRound(sources, damaged: damaged)
        Self.decodeRound(sources, damaged: damaged)
        let settled = Self.residentBytes()
        let rounds = 12
        for _ in 0..<rounds { Self.decodeRound(sources, damaged: damaged) }
        let after = Self.residentBytes()
        let operations = rounds * (sources.count * 4 + damaged.count)
        let growth = Double(after - settled) / 1_048_576
        #expect(operations >= 1000)
        #expect(growth < 8, "resident memory grew \(growth) MB over \(operations) opens and decodes")
    }
}

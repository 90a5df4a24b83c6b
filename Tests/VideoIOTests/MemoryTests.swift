import Foundation
import Testing
import VidclassTestSupport

/// The FFmpeg wrappers free what they allocate: after many files, decoded whole, sampled, from
/// memory and damaged, the process's resident memory is back near where it was after the first
/// rounds. The decoding runs in `vidclass-corpus --memory-check`, a process of its own: in this
/// one, tests running at the same time would move the resident size.
struct MemoryTests {
    @Test func memoryReturnsAfterThousandsOfDecodes() throws {
        let tool = TestPaths.builtProduct("vidclass-corpus")
        try #require(FileManager.default.isExecutableFile(atPath: tool.path), "build vidclass-corpus first (swift build)")
        let result = try runVidclass(["--memory-check", "12"], executable: tool)
        #expect(result.status == 0 && !result.crashed, "\(result.stderr)")
        let fields = result.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
        let operations = fields.firstIndex(of: "operations").flatMap { Int(fields[$0 + 1]) } ?? 0
        let growth = try #require(fields.firstIndex(of: "growth_mb").flatMap { Double(fields[$0 + 1]) }, "\(result.stdout)")
        #expect(operations >= 1000)
        #expect(growth < 8, "resident memory grew \(growth) MB over \(operations) opens and decodes")
    }
}

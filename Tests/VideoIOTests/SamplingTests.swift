import Foundation
import Testing
import VideoIO
import VidclassTestSupport

/// Sparse sampling seeks to keyframes and skips disposable pictures; it must still return
/// exactly the frames sequential decoding returns, for every file of the real-world corpus.
struct SamplingTests {
    static let files: [String] = CorpusTests.decodable.map(\.file)

    /// A deterministic generator so failures reproduce (SplitMix64).
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test(.enabled(if: TestPaths.hasSharedData), arguments: files)
    func sampledFramesEqualSequentialFrames(_ file: String) throws {
        let path = CorpusTests.path(file)
        let size = FrameFormat(size: FrameSize(width: 48, height: 32))
        // Plain sequential decoding is the reference (no table, no seeks, no parts).
        let sequential = try VideoReader(path: path, options: DecodeOptions(format: size, threads: 2, allowSeeking: false)).readAll()
        let count = sequential.count
        // Every frame with two threads: in parts at once where the file allows, the same frames.
        let all = try VideoReader(path: path, options: DecodeOptions(format: size, threads: 2)).readAll()
        #expect(all.map(\.index) == sequential.map(\.index))
        #expect(all.map(\.timestamp) == sequential.map(\.timestamp))
        #expect(all.map(\.pixels) == sequential.map(\.pixels), "every frame, decoded in parts, equals sequential decoding")
        var generator = SplitMix64(state: UInt64(truncatingIfNeeded: file.hashValue & 0xffff) &+ 7)
        var sets: [[Int]] = [[0], [count - 1], Array(Set((0..<min(5, count)).map { _ in Int.random(in: 0..<count, using: &generator) })).sorted()]
        sets.append(Array(Set((0..<min(12, count)).map { _ in Int.random(in: 0..<count, using: &generator) })).sorted())
        for wanted in sets {
            let reader = try VideoReader(path: path, options: DecodeOptions(sampling: .indices(wanted), format: size, threads: 2))
            let sampled = try reader.readAll()
            #expect(sampled.map(\.index) == wanted, "indices for \(wanted)")
            for frame in sampled where frame.index < count {
                #expect(frame.pixels == sequential[frame.index].pixels, "frame \(frame.index) differs from sequential decoding")
                #expect(frame.timestamp == sequential[frame.index].timestamp)
            }
        }
        let uniform = try VideoReader(path: path, options: DecodeOptions(sampling: .uniform(16), format: size, threads: 2)).readAll()
        let expected = Set((0..<16).map { Int((Double($0) * Double(count - 1) / 15).rounded(.toNearestOrEven)) })
        #expect(uniform.map(\.index) == expected.sorted())
        for frame in uniform { #expect(frame.pixels == sequential[frame.index].pixels) }
    }

    @Test func spellingsParse() {
        #expect(FrameSampling.parse("all") == .all)
        #expect(FrameSampling.parse("every:3") == .everyNth(3))
        #expect(FrameSampling.parse("fps:2.5") == .framesPerSecond(2.5))
        #expect(FrameSampling.parse("uniform:16") == .uniform(16))
        #expect(FrameSampling.parse("uniform:4@1-2.5") == .uniformInTime(count: 4, start: 1, end: 2.5))
        #expect(FrameSampling.parse("indices:3,1,2") == .indices([3, 1, 2]))
        #expect(FrameSampling.parse("times:0.5,1") == .times([0.5, 1]))
        for bad in ["", "every:0", "fps:-1", "uniform:x", "indices:", "indices:-1", "bogus:1", "all:1", "uniform:2@3-1"] {
            #expect(FrameSampling.parse(bad) == nil, "\(bad) should not parse")
        }
    }

    @Test func resolvesAgainstFrameTimes() throws {
        // 10 frames at 0.1 s intervals.
        let times = (0..<10).map { Double($0) / 10 }
        #expect(try FrameSampling.uniform(4).resolveForTesting(times) == [0, 3, 6, 9])
        #expect(try FrameSampling.everyNth(4).resolveForTesting(times) == [0, 4, 8])
        #expect(try FrameSampling.framesPerSecond(5).resolveForTesting(times) == [0, 2, 4, 6, 8])
        #expect(try FrameSampling.times([0.25, 0.3, 5]).resolveForTesting(times) == [3])
        #expect(try FrameSampling.uniformInTime(count: 3, start: 0.2, end: 0.6).resolveForTesting(times) == [2, 4, 6])
        #expect(throws: VideoIOError.self) { try FrameSampling.indices([10]).resolveForTesting(times) }
    }
}

import Foundation
import Testing
import VideoIO
import VidclassTestSupport

/// The real-world corpus `../shared/data/decoder-samples`: 77 files of many codecs and
/// containers. `Fixtures/corpus-framemd5.tsv` holds what the ffmpeg 5.1 CLI outputs for each
/// (made by `Tools/make_corpus_hashes.sh`): we must output the same frames, bit for bit.
struct CorpusTests {
    struct Expectation: Sendable, CustomTestStringConvertible {
        var file: String
        /// nil: ffmpeg fails on this file.
        var hashes: [String]?
        var testDescription: String { file }
    }

    static let expectations: [Expectation] = {
        guard let text = try? String(contentsOfFile: TestPaths.fixture("corpus-framemd5.tsv"), encoding: .utf8) else {
            return []
        }
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if fields[1] == "fail" { return Expectation(file: fields[0], hashes: nil) }
            return Expectation(file: fields[0], hashes: fields[2].isEmpty ? [] : fields[2].split(separator: ",").map(String.init))
        }
    }()

    static var decodable: [Expectation] { expectations.filter { $0.hashes != nil } }
    static var failing: [Expectation] { expectations.filter { $0.hashes == nil } }

    static func path(_ file: String) -> String {
        TestPaths.sharedData.appendingPathComponent("decoder-samples").appendingPathComponent(file).path
    }

    @Test func manifestIsComplete() {
        #expect(Self.expectations.count == 77)
        #expect(Self.failing.count >= 6)
    }

    @Test(.enabled(if: TestPaths.hasSharedData), arguments: decodable)
    func framesMatchFFmpeg(_ expectation: Expectation) throws {
        let frames = try VideoReader(path: Self.path(expectation.file), options: DecodeOptions(threads: 2)).readAll()
        let expected = expectation.hashes ?? []
        #expect(frames.count == expected.count, "frame count")
        let mismatched = zip(frames, expected).filter { $0.0.md5 != $0.1 }.map(\.0.index)
        #expect(mismatched.isEmpty, "frames whose RGB differs from ffmpeg: \(mismatched.prefix(10))")
        #expect(frames.map(\.index) == Array(0..<frames.count))
    }

    /// Every file ffmpeg decodes can be probed without decoding, with a frame count.
    @Test(.enabled(if: TestPaths.hasSharedData), arguments: decodable)
    func probeWithoutDecodingGivesAFrameCount(_ expectation: Expectation) throws {
        let metadata = try VideoFile.probe(path: Self.path(expectation.file))
        #expect((metadata.frameCount ?? 0) > 0)
    }

    /// The demuxer's count is every packet of the stream, timed or not: raw H.264 and HEVC carry no
    /// times, AVI keeps no pts for MPEG-4 Part 2 with B-frames, MPEG-PS and TS leave some out.
    /// (Counting timed packets only gave 54, 23, no count, 170 and 8; ffmpeg decodes these.)
    @Test(.enabled(if: TestPaths.hasSharedData),
          arguments: [("mmaction2/test.avi", 164), ("qtmultimedia/container.mpeg", 25), ("openh264/Static.264", 10),
                      ("mp4ff/hevc.265", 50), ("lpms/skip_1.ts", 171), ("lpms/missing-sei-and-pes.ts", 12)])
    func demuxedFrameCountsIncludeUntimedPackets(file: String, frames: Int) throws {
        let metadata = try VideoFile.probe(path: Self.path(file))
        #expect(metadata.frameCountSource == .demuxed)
        #expect(metadata.frameCount == frames)
    }

    @Test(.enabled(if: TestPaths.hasSharedData), arguments: failing)
    func failuresAreTypedErrors(_ expectation: Expectation) throws {
        do {
            let frames = try VideoReader(path: Self.path(expectation.file), options: DecodeOptions(threads: 2)).readAll()
            Issue.record("expected an error, got \(frames.count) frames")
        } catch let error as VideoIOError {
            #expect(error.path.hasSuffix(expectation.file))
            #expect(!error.message.isEmpty)
        }
    }
}

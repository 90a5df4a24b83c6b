import Foundation
import Testing
import VideoIO
import VidclassTestSupport

/// Decoding in parts at once: a reader with several threads hands later runs of the wanted
/// frames (each from its own clean keyframe) to readers on threads of their own, and returns the
/// frames in order. The frames must be exactly those of plain sequential decoding.
struct PartsTests {
    static let threeGroups = TestPaths.fixture("videos/h264_bframes_gop30.mp4")  // 90 frames, keyframes every 30

    static func sequential(_ path: String, _ format: FrameFormat) throws -> [VideoFrame] {
        try VideoReader(path: path, options: DecodeOptions(format: format, threads: 1, allowSeeking: false)).readAll()
    }

    static func expectSameFrames(_ frames: [VideoFrame], _ reference: [VideoFrame], _ note: String) {
        #expect(frames.map(\.index) == reference.map(\.index), "\(note): indices")
        #expect(frames.map(\.timestamp) == reference.map(\.timestamp), "\(note): timestamps")
        let differing = zip(frames, reference).filter { $0.pixels != $1.pixels }.map { $0.0.index }
        #expect(differing.isEmpty, "\(note): the pixels of frames \(differing.prefix(10)) differ")
    }

    @Test(arguments: [FrameFormat(size: FrameSize(48)), FrameFormat.native])
    func everyFrameInTwoPartsEqualsSequentialDecoding(_ format: FrameFormat) throws {
        let reference = try Self.sequential(Self.threeGroups, format)
        #expect(reference.count == 90)
        let reader = try VideoReader(path: Self.threeGroups, options: DecodeOptions(format: format, threads: 2))
        #expect(reader.partCount == 2)
        let frames = try reader.readAll()
        Self.expectSameFrames(frames, reference, "all frames")
        #expect(reader.statistics.framesConverted == 90, "each frame converted once, by one of the parts")
    }

    @Test func sparseSamplingAcrossGroupsDecodesInParts() throws {
        let format = FrameFormat(size: FrameSize(32))
        let reference = try Self.sequential(Self.threeGroups, format)
        for threads in [2, 3, 8] {
            let reader = try VideoReader(path: Self.threeGroups,
                                         options: DecodeOptions(sampling: .uniform(16), format: format, threads: threads))
            #expect(reader.partCount >= 2 && reader.partCount <= min(threads, 3))
            let frames = try reader.readAll()
            let expected = Set((0..<16).map { Int((Double($0) * 89 / 15).rounded(.toNearestOrEven)) }).sorted()
            Self.expectSameFrames(frames, expected.map { reference[$0] }, "uniform 16, \(threads) threads")
        }
    }

    @Test func oneThreadOrOneGroupDecodesInOnePart() throws {
        let one = try VideoReader(path: Self.threeGroups, options: DecodeOptions(format: FrameFormat(size: FrameSize(32)), threads: 1))
        #expect(one.partCount == 1)
        // Frames from one group of pictures only: nothing to split.
        let early = try VideoReader(path: Self.threeGroups,
                                    options: DecodeOptions(sampling: .indices([3, 10, 20]), format: FrameFormat(size: FrameSize(32)), threads: 2))
        #expect(early.partCount == 1)
        #expect(try early.readAll().map(\.index) == [3, 10, 20])
        // A file held in memory is read by one reader.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.threeGroups)))
        let memory = try VideoReader(bytes: bytes, options: DecodeOptions(format: FrameFormat(size: FrameSize(32)), threads: 2))
        #expect(memory.partCount == 1)
    }

    @Test(.enabled(if: TestPaths.hasSharedData))
    func largePicturesInPartsEqualSequentialDecoding() throws {
        // 1920x1080 H.264 with several groups of pictures: parts that keep their frame threads.
        let path = CorpusTests.path("qtmultimedia/multitrack.mkv")
        let format = FrameFormat(size: FrameSize(32))
        let reference = try Self.sequential(path, format)
        let reader = try VideoReader(path: path, options: DecodeOptions(sampling: .uniform(8), format: format, threads: 2))
        let frames = try reader.readAll()
        let expected = Set((0..<8).map { Int((Double($0) * Double(reference.count - 1) / 7).rounded(.toNearestOrEven)) }).sorted()
        Self.expectSameFrames(frames, expected.map { reference[$0] }, "uniform 8 of 1080p, \(reader.partCount) parts")
        let all = try VideoReader(path: path, options: DecodeOptions(format: format, threads: 2))
        Self.expectSameFrames(try all.readAll(), reference, "every frame of 1080p, \(all.partCount) parts")
    }

    @Test func droppingAReaderMidwayStopsItsParts() throws {
        // The parts' threads must neither hang nor crash when nobody reads their frames.
        for round in 0..<20 {
            let reader = try VideoReader(path: Self.threeGroups, options: DecodeOptions(format: FrameFormat(size: FrameSize(16)), threads: 2))
            #expect(reader.partCount == 2)
            for _ in 0..<(round % 3) * 20 { _ = try reader.next() }
        }
        // A later reader of the same file still gets every frame.
        #expect(try VideoReader(path: Self.threeGroups, options: DecodeOptions(format: FrameFormat(size: FrameSize(16)), threads: 2)).readAll().count == 90)
    }

    // MARK: A decoder that disagrees with the table

    /// An MJPEG AVI of 90 frames (every one a keyframe) whose packets `damaged` are zeroed, so the
    /// decoder rejects them and outputs no frame there: plain decoding then numbers every later
    /// frame one lower than the table does.
    static func damagedMJPEG(_ damaged: [Int], in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("damaged.avi").path
        let made = try runVidclass(["-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc2=size=128x96:rate=30",
                                    "-t", "3", "-c:v", "mjpeg", "-y", path], executable: URL(fileURLWithPath: "/usr/bin/ffmpeg"))
        try #require(made.status == 0, "ffmpeg: \(made.stderr)")
        let probe = try runVidclass(["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pos,size", "-of", "compact=p=0", path],
                                    executable: URL(fileURLWithPath: "/usr/bin/ffprobe"))
        // Lines of "size=…|pos=…".
        let packets: [[Int]] = probe.stdout.split(separator: "\n").map { line in
            var fields: [String: Int] = [:]
            for pair in line.split(separator: "|") {
                let kv = pair.split(separator: "=")
                if kv.count == 2 { fields[String(kv[0])] = Int(kv[1]) }
            }
            return [fields["pos"] ?? -1, fields["size"] ?? -1]
        }
        try #require(packets.count == 90 && packets.allSatisfy { $0[0] >= 0 && $0[1] > 0 })
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        for k in damaged {
            let position = packets[k][0], size = packets[k][1]
            // AVI packets' positions point at their chunk header (8 bytes) or at their data.
            let start = bytes[position..<position + 4] == [0x30, 0x30, 0x64, 0x63] ? position + 8 : position
            for i in start..<start + size { bytes[i] = 0 }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(.enabled(if: ResamplerTests.hasFFmpeg), arguments: [(2, [10]), (2, [60]), (3, [40]), (3, [10, 70])])
    func aFallbackHandsTheLaterRunsToTheReaderThatFellBack(_ threads: Int, _ damaged: [Int]) throws {
        let directory = try TestPaths.temporaryDirectory("parts")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Self.damagedMJPEG(damaged, in: directory)
        let format = FrameFormat(size: FrameSize(24))
        let reference = try Self.sequential(path, format)
        #expect(reference.count == 90 - damaged.count, "plain decoding outputs no frame for a rejected packet")
        let reader = try VideoReader(path: path, options: DecodeOptions(format: format, threads: threads))
        #expect(reader.partCount == threads)
        Self.expectSameFrames(try reader.readAll(), reference, "\(threads) parts, packets \(damaged) damaged")
        #expect(reader.statistics.fallbacks >= 1)
    }

    @Test(.enabled(if: ResamplerTests.hasFFmpeg))
    func anErrorInALaterRunEndsTheReader() throws {
        let directory = try TestPaths.temporaryDirectory("parts")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Self.damagedMJPEG([70], in: directory)
        let reader = try VideoReader(path: path, options: DecodeOptions(format: FrameFormat(size: FrameSize(24)), threads: 2,
                                                                       corruptFrames: .fail))
        #expect(reader.partCount == 2)
        var returned: [Int] = []
        #expect(throws: VideoIOError.self) { while let frame = try reader.next() { returned.append(frame.index) } }
        #expect(returned == Array(0..<returned.count) && returned.count <= 70, "the frames before the damage, in order")
        #expect(throws: VideoIOError.self, "the error is thrown again, not skipped over") { _ = try reader.next() }
    }

    @Test func aPartOpensTheFileBeforeTheReaderReturns() throws {
        // A file removed right after the reader was made is still read whole: every part holds it open.
        let directory = try TestPaths.temporaryDirectory("parts")
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("copy.mp4")
        try FileManager.default.copyItem(atPath: Self.threeGroups, toPath: copy.path)
        let reader = try VideoReader(path: copy.path, options: DecodeOptions(format: FrameFormat(size: FrameSize(16)), threads: 2))
        #expect(reader.partCount == 2)
        try FileManager.default.removeItem(at: copy)
        #expect(try reader.readAll().count == 90)
    }
}

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
        #expect(frames.map(\.pixels) == reference.map(\.pixels), "\(note): pixels")
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
    func largePicturesKeepTheDecodersOwnThreads() throws {
        // 1920x1080: the decoder's frame threads already use both cores well.
        let path = CorpusTests.path("qtmultimedia/multitrack.mkv")
        let reader = try VideoReader(path: path, options: DecodeOptions(sampling: .uniform(8), format: FrameFormat(size: FrameSize(32)), threads: 2))
        #expect(reader.partCount == 1)
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
}

import Foundation
import Testing
import VideoIO
import VidclassTestSupport

/// Bad input gets a typed error naming the file and the cause; never a crash or a hang.
struct ErrorTests {
    static func write(_ bytes: [UInt8], name: String) throws -> String {
        let path = try TestPaths.temporaryDirectory().appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func expectError(_ path: String, code: VideoIOError.Code? = nil, sampling: FrameSampling = .all) {
        do {
            let frames = try VideoReader(path: path, options: DecodeOptions(sampling: sampling)).readAll()
            Issue.record("expected an error for \(path), got \(frames.count) frames")
        } catch let error as VideoIOError {
            if let code { #expect(error.code == code, "\(error)") }
            #expect(error.path == path)
            #expect(error.description.hasPrefix(path + ": cannot "))
        } catch {
            Issue.record("untyped error \(error)")
        }
    }

    @Test func memoryInputDecodesLikeTheFileAndFailsCleanly() throws {
        for name in ["h264_bframes_gop30.mp4", "vp9_odd_161x121.webm", "mjpeg.avi", "h264_vfr.mkv"] {
            let path = TestPaths.fixture("videos/" + name)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            for sampling in [FrameSampling.all, .uniform(5)] {
                let options = DecodeOptions(sampling: sampling, format: FrameFormat(size: FrameSize(32)))
                let fromFile = try VideoReader(path: path, options: options).readAll().map(\.md5)
                let fromMemory = try VideoReader(bytes: bytes, name: name, options: options).readAll().map(\.md5)
                #expect(!fromFile.isEmpty && fromMemory == fromFile, "\(name) \(sampling)")
            }
            for damaged in [Array(bytes.prefix(bytes.count / 3)), Array(bytes.prefix(40)), [], Array(repeating: 0x47, count: 5000)] {
                do {
                    _ = try VideoReader(bytes: damaged, name: "damaged-" + name).readAll()
                } catch let error as VideoIOError {
                    #expect(error.path == "damaged-" + name)
                }
            }
        }
    }

    @Test func missingFile() {
        Self.expectError("/nonexistent/clip.mp4", code: .notFound)
        #expect(throws: VideoIOError.self) { try VideoFile.probe(path: "/nonexistent/clip.mp4") }
    }

    @Test func directory() throws {
        Self.expectError(try TestPaths.temporaryDirectory().path)
    }

    @Test func emptyTextAndRandomFiles() throws {
        Self.expectError(try Self.write([], name: "empty.mp4"), code: .notAVideo)
        Self.expectError(try Self.write(Array("this is a text file, not a video\n".utf8), name: "text.mp4"), code: .notAVideo)
        var generator = SamplingTests.SplitMix64(state: 42)
        let noise = (0..<50_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        Self.expectError(try Self.write(noise, name: "noise.mp4"))
    }

    @Test func truncatedFiles() throws {
        let mp4 = try [UInt8](Data(contentsOf: URL(fileURLWithPath: FixtureTests.video("h264_bframes_gop30.mp4"))))
        // The index (moov) is at the end: without it the file cannot be opened.
        Self.expectError(try Self.write(Array(mp4.prefix(mp4.count / 2)), name: "half.mp4"))
        Self.expectError(try Self.write(Array(mp4.prefix(100)), name: "head.mp4"))
        // A WebM cut in the middle of a frame decodes up to the cut.
        let webm = try [UInt8](Data(contentsOf: URL(fileURLWithPath: FixtureTests.video("vp9_odd_161x121.webm"))))
        for fraction in [0.3, 0.6, 0.9] {
            let path = try Self.write(Array(webm.prefix(Int(Double(webm.count) * fraction))), name: "cut.webm")
            let frames = try VideoReader(path: path).readAll()
            #expect(frames.count < 24 && frames.count > 0)
            #expect(frames.map(\.index) == Array(0..<frames.count))
            let sampled = try VideoReader(path: path, options: DecodeOptions(sampling: .uniform(4))).readAll()
            #expect(sampled.count <= 4)
        }
    }

    @Test func outOfRangeIndices() {
        Self.expectError(FixtureTests.video("mjpeg.avi"), code: .invalidArgument, sampling: .indices([3, 15]))
    }

    @Test(.enabled(if: TestPaths.hasSharedData))
    func corruptFramePolicies() throws {
        let path = CorpusTests.path("openh264/Error_I_P.264")
        let delivered = try VideoReader(path: path, options: DecodeOptions(corruptFrames: .deliver)).readAll()
        #expect(delivered.count == 6)
        #expect(delivered.contains { $0.isCorrupt })
        let skipped = try VideoReader(path: path, options: DecodeOptions(corruptFrames: .skip)).readAll()
        #expect(skipped.allSatisfy { !$0.isCorrupt })
        #expect(skipped.map(\.index) == delivered.filter { !$0.isCorrupt }.map(\.index), "skipping never renumbers or duplicates")
        #expect(throws: VideoIOError.self) {
            _ = try VideoReader(path: path, options: DecodeOptions(corruptFrames: .fail)).readAll()
        }
    }

    @Test(.enabled(if: TestPaths.hasSharedData))
    func absurdDeclaredSizeFailsWithoutAllocating() {
        // A VP9 stream declaring 12336x12336 and then invalid data.
        Self.expectError(CorpusTests.path("libwebm/invalid_vp9_bitstream-bug_1416.webm"))
    }

    @Test(.enabled(if: getuid() != 0))
    func unreadableFile() throws {
        let path = try Self.write([0, 1, 2], name: "locked.mp4")
        chmod(path, 0)
        Self.expectError(path, code: .permissionDenied)
    }

    @Test func writerRoundTrip() throws {
        let directory = try TestPaths.temporaryDirectory()
        for (name, codec) in [("a.mp4", VideoCodec.h264), ("b.webm", .vp9), ("c.avi", .mjpeg), ("d.mp4", .mpeg4)] {
            let path = directory.appendingPathComponent(name).path
            let writer = try VideoWriter(path: path, width: 64, height: 48, frameRate: 20, codec: codec, quality: 10)
            #expect(writer.codec == codec)
            for n in 0..<12 {
                // A bright square moving right on a dark background.
                var pixels = [UInt8](repeating: 16, count: 64 * 48 * 3)
                for y in 16..<32 { for x in (n * 3)..<(n * 3 + 16) { for c in 0..<3 { pixels[(y * 64 + x) * 3 + c] = 230 } } }
                try writer.write(rgb: pixels)
            }
            try writer.finish()
            let metadata = try VideoFile.probe(path: path, countFrames: true)
            #expect(metadata.frameCount == 12, "\(name)")
            #expect(metadata.width == 64 && metadata.height == 48)
            let frames = try VideoReader(path: path).readAll()
            #expect(frames.count == 12)
            if let last = frames.last {
                // The square's center is bright, the far corner dark.
                let center = last.pixels[(24 * 64 + 33 + 8) * 3]
                let corner = last.pixels[(47 * 64 + 0) * 3]
                #expect(center > 180 && corner < 60, "\(name): center \(center), corner \(corner)")
            }
        }
        #expect(throws: VideoIOError.self) { try VideoWriter(path: directory.appendingPathComponent("x.unknownext").path, width: 64, height: 48, frameRate: 20) }
        #expect(throws: VideoIOError.self) { try VideoWriter(path: "/nonexistent-dir/x.mp4", width: 64, height: 48, frameRate: 20) }
        #expect(throws: VideoIOError.self) { try VideoWriter(path: directory.appendingPathComponent("odd.mp4").path, width: 63, height: 48, frameRate: 20) }
    }
}

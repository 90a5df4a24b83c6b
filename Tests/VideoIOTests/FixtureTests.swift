import Foundation
import Testing
import VideoIO
import VidclassTestSupport

/// The committed fixtures (`Fixtures/videos`, made by `Tools/make_fixtures.sh`): frame-exact
/// decoding, metadata, and the sampler's use of seeks and skips.
struct FixtureTests {
    static let expectations: [CorpusTests.Expectation] = {
        guard let text = try? String(contentsOfFile: TestPaths.fixture("videos.framemd5.tsv"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return CorpusTests.Expectation(file: fields[0], hashes: fields[2].split(separator: ",").map(String.init))
        }
    }()

    static func video(_ name: String) -> String { TestPaths.fixture("videos/\(name)") }

    @Test func everyFixtureIsListed() {
        #expect(Self.expectations.count == 8)
    }

    @Test(arguments: expectations)
    func framesMatchFFmpeg(_ expectation: CorpusTests.Expectation) throws {
        let frames = try VideoReader(path: TestPaths.fixture(expectation.file)).readAll()
        #expect(frames.map(\.md5) == expectation.hashes)
    }

    @Test func metadata() throws {
        let rotated = try VideoFile.probe(path: Self.video("h264_rotate90.mp4"))
        #expect(rotated.rotation == 270, "the tag turns the picture a quarter turn counter-clockwise for display")
        #expect(rotated.codedWidth == 160 && rotated.codedHeight == 96)
        #expect(rotated.width == 96 && rotated.height == 160)
        let frames = try VideoReader(path: Self.video("h264_rotate90.mp4")).readAll()
        #expect(frames.allSatisfy { $0.width == 96 && $0.height == 160 })

        let long = try VideoFile.probe(path: Self.video("h264_bframes_gop30.mp4"))
        #expect(long.codec == "h264" && long.frameCount == 90 && long.frameCountSource == .container)
        #expect(!long.isVariableFrameRate && !long.hasAudio)
        #expect(abs((long.averageFrameRate ?? 0) - 30) < 0.01)
        #expect(abs((long.duration ?? 0) - 3) < 0.05)

        let vfr = try VideoFile.probe(path: Self.video("h264_vfr.mkv"))
        #expect(vfr.isVariableFrameRate)
        #expect(vfr.frameCount == 20 && vfr.frameCountSource == .demuxed)
        #expect(try VideoFile.probe(path: Self.video("h264_vfr.mkv"), countFrames: true).frameCount == 20)

        #expect(try VideoFile.probe(path: Self.video("h264_with_audio.mp4")).hasAudio)
        #expect(try VideoFile.probe(path: Self.video("h264_10bit.mp4")).pixelFormat == "yuv420p10le")
        let odd = try VideoFile.probe(path: Self.video("vp9_odd_161x121.webm"))
        #expect(odd.codec == "vp9" && odd.width == 161 && odd.height == 121)
    }

    @Test func timesFollowTimestampsForVariableFrameRate() throws {
        let frames = try VideoReader(path: Self.video("h264_vfr.mkv")).readAll()
        let ticks: [Int] = (0..<20).map { (n: Int) -> Int in n < 10 ? 2 * n : n + 9 }
        let expected: [Double] = ticks.map { Double($0) / 30 }
        #expect(zip(frames.map(\.time), expected).allSatisfy { abs($0 - $1) < 0.002 })
        // 5 frames per second: ticks at 0, 0.2, 0.4, ... pick the first frame at or after each.
        let sampled = try VideoReader(path: Self.video("h264_vfr.mkv"),
                                      options: DecodeOptions(sampling: .framesPerSecond(5))).readAll()
        #expect(sampled.map(\.index) == [0, 3, 6, 9, 15])
        let at = try VideoReader(path: Self.video("h264_vfr.mkv"), options: DecodeOptions(sampling: .times([0.5, 0.9]))).readAll()
        #expect(at.map(\.index) == [8, 18])
    }

    @Test func sparseSamplingSeeksAndSkipsButMatchesSequential() throws {
        let path = Self.video("h264_bframes_gop30.mp4")
        let format = FrameFormat(size: FrameSize(width: 64, height: 48))
        let all = try VideoReader(path: path, options: DecodeOptions(format: format)).readAll()
        let reader = try VideoReader(path: path, options: DecodeOptions(sampling: .indices([1, 62, 89]), format: format))
        let sampled = try reader.readAll()
        #expect(reader.usesFrameTable)
        #expect(sampled.map(\.index) == [1, 62, 89])
        #expect(sampled.map(\.pixels) == [all[1].pixels, all[62].pixels, all[89].pixels])
        let stats = reader.statistics
        #expect(stats.seeks >= 2, "seeks to frame 0's and frame 60's keyframes")
        #expect(stats.packetsSkipped > 0, "disposable B-frames are never decoded")
        #expect(stats.packetsDecoded < 50)
        #expect(stats.fallbacks == 0)
        #expect(stats.framesConverted == 3)
    }

    @Test func resizeModes() throws {
        let path = Self.video("h264_bframes_gop30.mp4")  // 160x120
        let native = try VideoReader(path: path, options: DecodeOptions(sampling: .indices([5]))).readAll()[0]
        func first(_ format: FrameFormat) throws -> VideoFrame {
            try VideoReader(path: path, options: DecodeOptions(sampling: .indices([5]), format: format)).readAll()[0]
        }
        let stretched = try first(FrameFormat(size: FrameSize(width: 50, height: 70)))
        #expect(stretched.width == 50 && stretched.height == 70 && stretched.pixels.count == 50 * 70 * 3)

        // Short side 120 = the native height: the crop is an unscaled 80x80 window at (40, 20),
        // the same pixels as the whole picture resized to its own size (both interpolate the
        // chroma, the window's edges from their neighbours outside it).
        let cropped = try first(FrameFormat(size: FrameSize(80), resize: .crop, shortSide: 120))
        #expect(cropped.width == 80 && cropped.height == 80)
        let whole = try first(FrameFormat(size: FrameSize(width: 160, height: 120)))
        var maxDifference = 0
        for y in 0..<80 {
            for x in 0..<80 {
                for c in 0..<3 {
                    let a = Int(cropped.pixels[(y * 80 + x) * 3 + c])
                    maxDifference = max(maxDifference, abs(a - Int(whole.pixels[((y + 20) * 160 + x + 40) * 3 + c])))
                }
            }
        }
        #expect(maxDifference <= 1, "the crop window is the picture's center")
        // Native size (libswscale, as ffmpeg converts) repeats each chroma sample instead of
        // interpolating, so the two differ at colour edges; the window still lines up with it
        // better than any window a pixel or two off.
        func meanDifference(dx: Int, dy: Int) -> Double {
            var total = 0
            for y in 0..<80 {
                for x in 0..<80 {
                    for c in 0..<3 {
                        total += abs(Int(cropped.pixels[(y * 80 + x) * 3 + c]) - Int(native.pixels[((y + 20 + dy) * 160 + x + 40 + dx) * 3 + c]))
                    }
                }
            }
            return Double(total) / Double(80 * 80 * 3)
        }
        let aligned = meanDifference(dx: 0, dy: 0)
        #expect(aligned < 8, "the crop window is the native frame's center")
        for (dx, dy) in [(1, 0), (-1, 0), (0, 1), (0, -1), (2, 2), (-2, -2)] {
            #expect(meanDifference(dx: dx, dy: dy) > aligned, "a window moved by (\(dx), \(dy)) matches better")
        }

        // Letterbox 160x120 into 100x100: a 100x75 picture with 12 black rows above and 13 below.
        let boxed = try first(FrameFormat(size: FrameSize(100), resize: .letterbox))
        #expect(boxed.width == 100 && boxed.height == 100)
        #expect(boxed.pixels[0..<(12 * 100 * 3)].allSatisfy { $0 == 0 })
        #expect(boxed.pixels[((100 - 13) * 100 * 3)...].allSatisfy { $0 == 0 })
        #expect(boxed.pixels[(50 * 100 * 3)..<(51 * 100 * 3)].contains { $0 > 40 })

        // Rotated input: the requested size is in display orientation.
        let rotated = try VideoReader(path: Self.video("h264_rotate90.mp4"),
                                      options: DecodeOptions(sampling: .uniform(2), format: FrameFormat(size: FrameSize(width: 30, height: 50), resize: .crop))).readAll()
        #expect(rotated.allSatisfy { $0.width == 30 && $0.height == 50 })
    }

    @Test func planarFloatsAreNormalized() throws {
        let frame = try VideoReader(path: Self.video("mjpeg.avi"), options: DecodeOptions(sampling: .indices([0]), format: FrameFormat(size: FrameSize(8)))).readAll()[0]
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        let planar = frame.planar(mean: mean, std: std)
        #expect(planar.count == 3 * 64)
        for c in 0..<3 {
            for i in [0, 17, 63] {
                let expected = (Float(frame.pixels[i * 3 + c]) / 255 - mean[c]) / std[c]
                #expect(abs(planar[c * 64 + i] - expected) < 1e-5)
            }
        }
    }

    @Test func asyncSequenceYieldsTheSameFrames() async throws {
        let options = DecodeOptions(sampling: .everyNth(7), format: FrameFormat(size: FrameSize(16)))
        var indices: [Int] = []
        for try await frame in VideoFrames(path: Self.video("h264_bframes_gop30.mp4"), options: options) {
            indices.append(frame.index)
        }
        #expect(indices == Array(stride(from: 0, to: 90, by: 7)))
        #expect(try VideoFrames(path: Self.video("h264_bframes_gop30.mp4"), options: options).collect().map(\.index) == indices)
    }

    @Test func severalFilesDecodeAtOnce() async throws {
        let names = ["h264_bframes_gop30.mp4", "vp9_odd_161x121.webm", "mjpeg.avi", "mpeg4_bframes.avi"]
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for name in names {
                group.addTask { try VideoFrames(path: Self.video(name), options: DecodeOptions(format: FrameFormat(size: FrameSize(32)), threads: 1)).collect().count }
            }
            return try await group.reduce(0, +)
        }
        #expect(counts == 90 + 24 + 15 + 25)
    }
}

import Foundation
import Testing
import VideoClassification
import VideoIO
import VidclassTestSupport

struct SyntheticMotionTests {
    static func distance(_ frame: VideoFrame, _ point: [Int], _ color: [UInt8]) -> Double {
        // Mean colour of a 3x3 patch, compared with the object's colour.
        var sum = [0.0, 0.0, 0.0], n = 0.0
        for dy in -1...1 {
            for dx in -1...1 {
                let x = min(max(point[0] + dx, 0), frame.width - 1), y = min(max(point[1] + dy, 0), frame.height - 1)
                for c in 0..<3 { sum[c] += Double(frame.pixels[(y * frame.width + x) * 3 + c]) }
                n += 1
            }
        }
        return (0..<3).map { (sum[$0] / n - Double(color[$0])) * (sum[$0] / n - Double(color[$0])) }.reduce(0, +).squareRoot()
    }

    @Test func clipsDecodeAndShowTheirLabel() throws {
        let directory = try TestPaths.temporaryDirectory("synth").path
        var options = SyntheticMotion.Options()
        options.sizes = [FrameSize(width: 96, height: 96), FrameSize(width: 128, height: 96)]
        options.maxFrames = 30
        let truths = try SyntheticMotion.generate(into: directory, clipsPerClass: 2, seed: 7, options: options)
        #expect(truths.count == 20)
        let csv = try String(contentsOfFile: directory + "/labels.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 21)
        for truth in truths {
            let path = directory + "/" + truth.path
            #expect(truth.path.hasPrefix(truth.label + "/"))
            let frames = try VideoReader(path: path).readAll()
            #expect(frames.count == truth.frameCount, "\(truth.path)")
            guard let first = frames.first, let last = frames.last else { continue }
            #expect(first.width == truth.width && first.height == truth.height)
            // The object is where the truth says, at both ends (invisible at the start of a fade-in).
            if truth.start.alpha > 0.5 {
                #expect(Self.distance(first, truth.startProbe, truth.start.color) < 70, "\(truth.path) first frame")
            } else {
                #expect(Self.distance(first, truth.startProbe, truth.start.color) > 60, "\(truth.path) first frame")
            }
            if truth.end.alpha > 0.5 {
                #expect(Self.distance(last, truth.endProbe, truth.end.color) < 70, "\(truth.path) last frame")
            } else {
                #expect(Self.distance(last, truth.endProbe, truth.end.color) > 60, "\(truth.path) last frame")
            }
            // The motion is the label's.
            switch truth.label {
            case "move_right": #expect(truth.end.x - truth.start.x > 10)
            case "move_left": #expect(truth.start.x - truth.end.x > 10)
            case "move_down": #expect(truth.end.y - truth.start.y > 10)
            case "move_up": #expect(truth.start.y - truth.end.y > 10)
            case "rotate_clockwise": #expect(truth.end.angle > truth.start.angle + 1)
            case "rotate_counterclockwise": #expect(truth.start.angle > truth.end.angle + 1)
            case "grow": #expect(truth.end.size > 1.8 * truth.start.size)
            case "shrink": #expect(truth.start.size > 1.8 * truth.end.size)
            case "fade_in": #expect(truth.start.alpha == 0 && truth.end.alpha == 1)
            case "fade_out": #expect(truth.start.alpha == 1 && truth.end.alpha == 0)
            default: Issue.record("unknown label \(truth.label)")
            }
        }
        // The same seed writes the same clips.
        let again = try SyntheticMotion.generate(into: directory + "-again", clipsPerClass: 2, seed: 7, options: options)
        #expect(again.map(\.path) == truths.map(\.path))
        let a = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + truths[3].path))
        let b = try Data(contentsOf: URL(fileURLWithPath: directory + "-again/" + truths[3].path))
        #expect(VideoIO.MD5.hex(of: [UInt8](a)) == VideoIO.MD5.hex(of: [UInt8](b)) || truths[3].codec == "vp9")
    }
}

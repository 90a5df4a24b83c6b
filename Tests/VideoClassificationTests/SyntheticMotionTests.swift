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

    /// Whether the truth's motion, on screen from the first frame to the last, is the label's.
    static func showsItsLabel(_ truth: SyntheticMotion.Truth) -> Bool {
        switch truth.label {
        case "move_right": return truth.end.x - truth.start.x > 10
        case "move_left": return truth.start.x - truth.end.x > 10
        case "move_down": return truth.end.y - truth.start.y > 10
        case "move_up": return truth.start.y - truth.end.y > 10
        case "rotate_clockwise": return truth.end.angle > truth.start.angle + 1
        case "rotate_counterclockwise": return truth.start.angle > truth.end.angle + 1
        case "grow": return truth.end.size > 1.6 * truth.start.size
        case "shrink": return truth.start.size > 1.6 * truth.end.size
        case "fade_in": return truth.start.alpha == 0 && truth.end.alpha == 1
        case "fade_out": return truth.start.alpha == 1 && truth.end.alpha == 0
        default: return false
        }
    }

    /// How well each shift (within `xs` and `ys` pixels) maps `a` onto `b`: the mean absolute
    /// difference of their luma over the overlap, by shift (`[dy][dx]`, from the ranges' lower bounds).
    static func shiftCosts(from a: VideoFrame, to b: VideoFrame, xs: ClosedRange<Int>, ys: ClosedRange<Int>) -> [[Double]] {
        func luma(_ f: VideoFrame, _ x: Int, _ y: Int) -> Int {
            let i = (y * f.width + x) * 3
            return Int(f.pixels[i]) + 2 * Int(f.pixels[i + 1]) + Int(f.pixels[i + 2])
        }
        var costs = [[Double]](repeating: [Double](repeating: .infinity, count: xs.count), count: ys.count)
        for dy in ys {
            for dx in xs {
                var cost = 0, n = 0
                for y in stride(from: max(0, dy), to: min(a.height, a.height + dy), by: 2) {
                    for x in stride(from: max(0, dx), to: min(a.width, a.width + dx), by: 2) {
                        cost += abs(luma(b, x, y) - luma(a, x - dx, y - dy)); n += 1
                    }
                }
                if n > 0 { costs[dy - ys.lowerBound][dx - xs.lowerBound] = Double(cost) / Double(n) }
            }
        }
        return costs
    }

    @Test func clipsDecodeAndShowTheirLabel() throws {
        let directory = try TestPaths.temporaryDirectory("synth").path
        var options = SyntheticMotion.Options()
        options.sizes = [FrameSize(width: 96, height: 96), FrameSize(width: 128, height: 96)]
        options.maxFrames = 30
        options.variety = false
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
            // The motion is the label's, and a plain clip has none of the variety.
            #expect(Self.showsItsLabel(truth), "\(truth.path): \(truth.start) → \(truth.end)")
            #expect(truth.camera == "still" && truth.fill == "solid" && !truth.lighting, "\(truth.path)")
        }
        // The same seed writes the same clips.
        let again = try SyntheticMotion.generate(into: directory + "-again", clipsPerClass: 2, seed: 7, options: options)
        #expect(again.map(\.path) == truths.map(\.path))
        let a = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + truths[3].path))
        let b = try Data(contentsOf: URL(fileURLWithPath: directory + "-again/" + truths[3].path))
        #expect(VideoIO.MD5.hex(of: [UInt8](a)) == VideoIO.MD5.hex(of: [UInt8](b)) || truths[3].codec == "vp9")
    }

    /// With variety (the default), the camera moves, the whole picture sometimes makes the motion,
    /// and objects are striped or hollow; every clip still shows its label on screen.
    @Test func variedClipsShowTheirLabelOnScreen() throws {
        let directory = try TestPaths.temporaryDirectory("synth-varied").path
        var options = SyntheticMotion.Options()
        options.sizes = [FrameSize(width: 128, height: 96), FrameSize(width: 96, height: 128)]
        options.minFrames = 16
        options.maxFrames = 24
        let truths = try SyntheticMotion.generate(into: directory, clipsPerClass: 6, seed: 3, options: options)
        #expect(truths.count == 60)
        #expect(Set(truths.map(\.camera)).isSuperset(of: ["still", "scene"]), "\(Set(truths.map(\.camera)))")
        #expect(Set(truths.map(\.camera)).count >= 4, "cameras: \(Set(truths.map(\.camera)))")
        #expect(Set(truths.map(\.fill)).count >= 2 && truths.contains(where: \.lighting))
        var pans = 0
        for truth in truths {
            #expect(Self.showsItsLabel(truth), "\(truth.path) (\(truth.camera)): \(truth.start) → \(truth.end)")
            let frames = try VideoReader(path: directory + "/" + truth.path).readAll()
            #expect(frames.count == truth.frameCount, "\(truth.path)")
            guard let first = frames.first, let last = frames.last else { continue }
            // An object seen through a moving camera is still where the truth says.
            if truth.fill == "solid", !truth.lighting, truth.camera != "scene", truth.start.alpha == 1, truth.end.alpha == 1 {
                #expect(Self.distance(first, truth.startProbe, truth.start.color) < 70, "\(truth.path) first frame \(truth)")
                #expect(Self.distance(last, truth.endProbe, truth.end.color) < 70, "\(truth.path) last frame")
            }
            // When the camera pans (in even light), the whole picture moves as far as the truth's
            // object does.
            if truth.camera == "scene", truth.label.hasPrefix("move_"), !truth.lighting {
                let horizontal = truth.label == "move_right" || truth.label == "move_left"
                let length = horizontal ? first.width : first.height
                let along = -length * 3 / 4...length * 3 / 4, across = -3...3
                let xs = horizontal ? along : across, ys = horizontal ? across : along
                let costs = Self.shiftCosts(from: first, to: last, xs: xs, ys: ys)
                let expected = (Int((truth.end.x - truth.start.x).rounded()), Int((truth.end.y - truth.start.y).rounded()))
                // The truth's shift fits as well as any (a periodic texture fits at other shifts
                // too), and better than no shift at all.
                let best = costs.joined().min()!
                var atTruth = Double.infinity
                for dy in -2...2 { for dx in -2...2 where ys.contains(expected.1 + dy) && xs.contains(expected.0 + dx) {
                    atTruth = min(atTruth, costs[expected.1 + dy - ys.lowerBound][expected.0 + dx - xs.lowerBound])
                } }
                let still = costs[-ys.lowerBound][-xs.lowerBound]
                #expect(atTruth <= best * 1.15 + 2 && atTruth < still,
                        "\(truth.path): fit at the truth's shift \(expected) \(atTruth), best \(best), unmoved \(still); \(truth)")
                pans += 1
            }
        }
        #expect(pans >= 1, "no panning clip among \(truths.count)")
    }

    /// Without variety the generator draws exactly the clips it drew before variety existed: the
    /// committed `Fixtures/synthetic` (`vidclass synth --seed 2024 --codecs h264,vp9`, made then)
    /// come out frame for frame the same, so the README's earlier recipes still reproduce.
    @Test func plainScenesAreTheEarlierGenerators() throws {
        let directory = try TestPaths.temporaryDirectory("synth-plain").path
        var options = SyntheticMotion.Options()
        options.variety = false
        options.codecs = [.h264, .vp9]
        let truths = try SyntheticMotion.generate(into: directory, clipsPerClass: 1, seed: 2024, options: options)
        let committed = try VideoDataset.load(TestPaths.fixture("synthetic"))
        #expect(Set(truths.map(\.path)) == Set(committed.clips.map { String($0.path.dropFirst(TestPaths.fixture("synthetic").count + 1)) }))
        for truth in truths {
            let made = try VideoReader(path: directory + "/" + truth.path).readAll()
            let before = try VideoReader(path: TestPaths.fixture("synthetic") + "/" + truth.path).readAll()
            #expect(made.count == before.count, "\(truth.path)")
            // The same pictures, up to the encoder: H.264 encoding on several threads, and the
            // writer's settings since the fixtures were made, move a few levels here and there
            // (another clip would differ by tens of levels).
            for (a, b) in zip(made, before) {
                #expect(a.width == b.width && a.meanAbsoluteDifference(from: b) < 3, "\(truth.path) frame \(a.index)")
            }
        }
    }
}

import Foundation
import Tensors
import VideoIO

/// A synthetic dataset that only a model which reads frame order can solve: ten classes in five
/// time-reversed pairs (move left/right, move up/down, rotate clockwise/counter-clockwise,
/// grow/shrink, fade in/out). The second class of each pair is the first one's clip played
/// backwards, so single frames (and any order-free summary of them) carry no label information.
///
/// Shape, colour, size, speed, start position, textured and noisy backgrounds, static distractor
/// shapes, clip length (24–64 frames), frame rate (15–30), frame size (96×96 to 320×240) and codec
/// (H.264, MPEG-4, VP9, MJPEG) are all random, from one seed.
public enum SyntheticMotion {
    /// The class names, pairs adjacent: the odd one of each pair is the even one reversed.
    public static let classes = ["move_right", "move_left", "move_down", "move_up", "rotate_clockwise",
                                 "rotate_counterclockwise", "grow", "shrink", "fade_in", "fade_out"]

    /// Where the object is at the clip's first and last frame (for tests: what the label claims).
    public struct Truth: Sendable, Codable {
        /// The clip's class, one of ``SyntheticMotion/classes``.
        public var label: String
        /// The clip's file, relative to the output directory (`<class>/<class>_NNNN.<ext>`).
        public var path: String
        /// Frame width in pixels.
        public var width: Int
        /// Frame height in pixels.
        public var height: Int
        /// Frames in the clip.
        public var frameCount: Int
        /// Frames per second.
        public var frameRate: Int
        /// The codec the clip was encoded with (`h264`, `mpeg4`, `vp9` or `mjpeg`).
        public var codec: String
        /// The object (center, size, angle, opacity) at the first frame.
        public var start: ObjectState
        /// The object at the last frame.
        public var end: ObjectState
        /// The object's shape (`disk`, `square`, `triangle`, `cross`, `ring` or `bar`).
        public var shape: String
        /// A pixel `[x, y]` inside the object at the first frame.
        public var startProbe: [Int]
        /// A pixel `[x, y]` inside the object at the last frame.
        public var endProbe: [Int]
    }

    /// The moving object at one frame.
    public struct ObjectState: Sendable, Codable {
        /// Center, in pixels from the left edge.
        public var x: Double
        /// Center, in pixels from the top edge.
        public var y: Double
        /// Extent (diameter) in pixels.
        public var size: Double
        /// Rotation in radians; it grows clockwise on screen (image y points down).
        public var angle: Double
        /// Opacity, 0 (invisible) to 1.
        public var alpha: Double
        /// The object's colour.
        public var color: [UInt8]
    }

    /// Options for ``generate(into:clipsPerClass:seed:options:progress:)``.
    public struct Options: Sendable {
        /// The range of clip lengths, in frames (default 24–64).
        public var minFrames = 24, maxFrames = 64
        /// The range of frame rates, in frames per second (default 15–30).
        public var minFrameRate = 15, maxFrameRate = 30
        /// Frame sizes to draw from (default 96×96 to 320×240).
        public var sizes: [FrameSize] = [FrameSize(width: 96, height: 96), FrameSize(width: 128, height: 96),
                                         FrameSize(width: 160, height: 120), FrameSize(width: 192, height: 144),
                                         FrameSize(width: 240, height: 180), FrameSize(width: 320, height: 240)]
        /// Codecs to draw from; VP9 clips are WebM, MPEG-4 and MJPEG are AVI, H.264 is MP4.
        public var codecs: [VideoCodec] = [.h264, .mpeg4, .vp9, .mjpeg]
        /// The default options.
        public init() {}
    }

    /// Writes `clipsPerClass` clips of every class as `DIRECTORY/<class>/<class>_NNNN.<ext>` and a
    /// `labels.csv` (`path,label`); returns what each clip shows.
    /// - Throws: `VideoIOError` when a file cannot be written.
    @discardableResult
    public static func generate(into directory: String, clipsPerClass: Int, seed: UInt64, options: Options = Options(),
                                progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> [Truth] {
        precondition(clipsPerClass > 0, "clipsPerClass must be positive")
        let total = clipsPerClass * classes.count
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for label in classes {
            try FileManager.default.createDirectory(atPath: directory + "/" + label, withIntermediateDirectories: true)
        }
        // Clips are independent (each has its own generator), so they are rendered and encoded in parallel.
        let results = ParallelResults<Result<Truth, any Error>>(count: total)
        DispatchQueue.concurrentPerform(iterations: total) { job in
            let classIndex = job / clipsPerClass, n = job % clipsPerClass
            let label = classes[classIndex]
            var rng = SplitMix64(seed: seed &* 0x9E37_79B9 &+ UInt64(classIndex * 1_000_003 + n))
            let clip = render(classIndex: classIndex, options: options, rng: &rng)
            let codec = options.codecs[Int(rng.next() % UInt64(options.codecs.count))]
            let ext = codec == .vp9 ? "webm" : codec == .mjpeg || codec == .mpeg4 ? "avi" : "mp4"
            let relative = "\(label)/\(label)_\(String(format: "%04d", n)).\(ext)"
            do {
                let writer = try VideoWriter(path: directory + "/" + relative, width: clip.width, height: clip.height,
                                             frameRate: clip.frameRate, codec: codec, quality: 25)
                for frame in clip.frames { try writer.write(rgb: frame) }
                try writer.finish()
                results.set(job, .success(Truth(label: label, path: relative, width: clip.width, height: clip.height,
                                                frameCount: clip.frames.count, frameRate: clip.frameRate, codec: writer.codec.rawValue,
                                                start: clip.start, end: clip.end, shape: "\(clip.shape)",
                                                startProbe: probe(clip.shape, clip.start), endProbe: probe(clip.shape, clip.end))))
            } catch {
                results.set(job, .failure(error))
            }
            progress?(results.done, total)
        }
        var truths: [Truth] = []
        for result in results.values {
            switch result {
            case .success(let truth): truths.append(truth)
            case .failure(let error): throw error
            case nil: break
            }
        }
        let csv = "path,label\n" + truths.map { "\($0.path),\($0.label)" }.joined(separator: "\n") + "\n"
        try csv.write(toFile: directory + "/labels.csv", atomically: true, encoding: .utf8)
        return truths
    }


    struct Clip {
        var frames: [[UInt8]]
        var width: Int, height: Int, frameRate: Int
        var start: ObjectState, end: ObjectState
        var shape: Shape
    }

    /// A pixel well inside the shape (the ring's center is a hole, so it probes the ring itself).
    static func probe(_ shape: Shape, _ s: ObjectState) -> [Int] {
        let u = shape == .ring ? 0.8 : 0.0
        let r = s.size / 2
        return [Int(s.x + cos(s.angle) * u * r), Int(s.y + sin(s.angle) * u * r)]
    }

    enum Shape: CaseIterable { case disk, square, triangle, cross, ring, bar }

    /// Renders one clip of class `classIndex`.
    static func render(classIndex: Int, options: Options, rng: inout SplitMix64) -> Clip {
        let size = options.sizes[Int(rng.next() % UInt64(options.sizes.count))]
        let width = size.width, height = size.height
        let frameCount = options.minFrames + Int(rng.next() % UInt64(options.maxFrames - options.minFrames + 1))
        let frameRate = options.minFrameRate + Int(rng.next() % UInt64(options.maxFrameRate - options.minFrameRate + 1))
        let pair = classIndex / 2, reversed = classIndex % 2 == 1
        let background = Background(width: width, height: height, rng: &rng)
        let short = Double(min(width, height))

        // The object: rotation classes need a shape whose turning shows and whose direction cannot
        // alias (no near-symmetric cross; a bar repeats every half turn, a triangle never).
        let shapes: [Shape] = pair == 2 ? [.triangle, .bar] : Shape.allCases
        let shape = shapes[Int(rng.next() % UInt64(shapes.count))]
        let color = contrastingColor(to: background.meanColor, rng: &rng)
        // Turning objects are larger, so that a step of a few degrees still moves their edges by
        // pixels once a clip is scaled down to a model's input.
        var objectSize = short * Double(pair == 2 ? rng.nextFloat(in: 0.3, 0.42) : rng.nextFloat(in: 0.18, 0.3))
        var start = ObjectState(x: Double(width) / 2, y: Double(height) / 2, size: objectSize,
                                angle: Double(rng.nextFloat(in: 0, 6.283)), alpha: 1, color: color)
        var end = start
        let margin = objectSize * 0.75
        switch pair {
        case 0, 1:  // move right / move down (forward); reversed: left / up
            let length = pair == 0 ? Double(width) : Double(height)
            let travel = (length - 2 * margin) * Double(rng.nextFloat(in: 0.45, 1))
            let from = margin + Double(rng.nextFloat(in: 0, 1)) * (length - 2 * margin - travel)
            let across = pair == 0 ? Double(height) : Double(width)
            let fixed = margin + Double(rng.nextFloat(in: 0, 1)) * (across - 2 * margin)
            if pair == 0 { start.x = from; end.x = from + travel; start.y = fixed; end.y = fixed }
            else { start.y = from; end.y = from + travel; start.x = fixed; end.x = fixed }
        case 2:  // rotate clockwise (image y points down, so the angle grows)
            start.x = margin * 1.3 + Double(rng.nextFloat(in: 0, 1)) * (Double(width) - 2.6 * margin)
            start.y = margin * 1.3 + Double(rng.nextFloat(in: 0, 1)) * (Double(height) - 2.6 * margin)
            end.x = start.x; end.y = start.y
            // A total turn of 90 to 170 degrees, whatever the clip's length, so that even 8 sampled
            // frames see steps well under a quarter of the bar's half-turn symmetry.
            end.angle = start.angle + Double(rng.nextFloat(in: 1.6, 3.0))
        case 3:  // grow
            objectSize = short * Double(rng.nextFloat(in: 0.1, 0.16))
            start.size = objectSize
            end.size = objectSize * Double(rng.nextFloat(in: 2, 3.2))
            let m = end.size * 0.75
            start.x = m + Double(rng.nextFloat(in: 0, 1)) * max(0, Double(width) - 2 * m)
            start.y = m + Double(rng.nextFloat(in: 0, 1)) * max(0, Double(height) - 2 * m)
            end.x = start.x; end.y = start.y
        default:  // fade in
            start.x = margin + Double(rng.nextFloat(in: 0, 1)) * (Double(width) - 2 * margin)
            start.y = margin + Double(rng.nextFloat(in: 0, 1)) * (Double(height) - 2 * margin)
            end.x = start.x; end.y = start.y
            start.alpha = 0
        }
        // Static distractors.
        var distractors: [(Shape, ObjectState)] = []
        for _ in 0..<Int(rng.next() % 4) {
            let d = ObjectState(x: Double(rng.nextFloat(in: 0, Float(width))), y: Double(rng.nextFloat(in: 0, Float(height))),
                                size: short * Double(rng.nextFloat(in: 0.06, 0.16)), angle: Double(rng.nextFloat(in: 0, 6.283)),
                                alpha: 1, color: contrastingColor(to: background.meanColor, rng: &rng))
            distractors.append((Shape.allCases[Int(rng.next() % UInt64(Shape.allCases.count))], d))
        }
        let noise = Double(rng.nextFloat(in: 2, 9))
        var frames: [[UInt8]] = []
        frames.reserveCapacity(frameCount)
        for f in 0..<frameCount {
            let t = frameCount == 1 ? 0 : Double(f) / Double(frameCount - 1)
            var pixels = background.pixels
            for (shape, state) in distractors { draw(shape, state, into: &pixels, width: width, height: height) }
            draw(shape, interpolate(start, end, t), into: &pixels, width: width, height: height)
            for i in pixels.indices {
                let v = Double(pixels[i]) + noise * Double(rng.nextNormal())
                pixels[i] = UInt8(max(0, min(255, v.rounded())))
            }
            frames.append(pixels)
        }
        if reversed {
            frames.reverse()
            swap(&start, &end)
        }
        return Clip(frames: frames, width: width, height: height, frameRate: frameRate, start: start, end: end, shape: shape)
    }

    static func interpolate(_ a: ObjectState, _ b: ObjectState, _ t: Double) -> ObjectState {
        ObjectState(x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t, size: a.size + (b.size - a.size) * t,
                    angle: a.angle + (b.angle - a.angle) * t, alpha: a.alpha + (b.alpha - a.alpha) * t, color: a.color)
    }

    static func contrastingColor(to mean: [Double], rng: inout SplitMix64) -> [UInt8] {
        while true {
            let c = (0..<3).map { _ in UInt8(rng.next() % 256) }
            let distance = zip(c, mean).map { (Double($0) - $1) * (Double($0) - $1) }.reduce(0, +).squareRoot()
            if distance > 150 { return c }
        }
    }

    /// Whether the point (u, v), in the shape's own frame scaled so the shape spans [-1, 1], is inside.
    static func inside(_ shape: Shape, _ u: Double, _ v: Double) -> Bool {
        switch shape {
        case .disk: return u * u + v * v <= 1
        case .square: return abs(u) <= 0.8 && abs(v) <= 0.8
        case .triangle: return v >= -0.9 && v <= 0.9 && abs(u) <= (0.9 - v) * 0.6  // apex up, wide base
        case .cross: return (abs(u) <= 0.95 && abs(v) <= 0.28) || (abs(u) <= 0.28 && v <= 0.95 && v >= -0.5)
        case .ring: let r = u * u + v * v; return r <= 1 && r >= 0.36
        case .bar: return abs(u) <= 1 && abs(v) <= 0.3
        }
    }

    static func draw(_ shape: Shape, _ s: ObjectState, into pixels: inout [UInt8], width: Int, height: Int) {
        guard s.alpha > 0.001 else { return }
        let radius = s.size / 2
        let cosA = cos(s.angle), sinA = sin(s.angle)
        let x0 = max(0, Int(s.x - radius * 1.5)), x1 = min(width - 1, Int(s.x + radius * 1.5))
        let y0 = max(0, Int(s.y - radius * 1.5)), y1 = min(height - 1, Int(s.y + radius * 1.5))
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            for x in x0...x1 {
                let dx = (Double(x) + 0.5 - s.x) / radius, dy = (Double(y) + 0.5 - s.y) / radius
                let u = cosA * dx + sinA * dy, v = -sinA * dx + cosA * dy
                guard inside(shape, u, v) else { continue }
                let i = (y * width + x) * 3
                for c in 0..<3 {
                    pixels[i + c] = UInt8((Double(pixels[i + c]) * (1 - s.alpha) + Double(s.color[c]) * s.alpha).rounded())
                }
            }
        }
    }

    /// A textured background: a gradient plus one of stripes, a checkerboard or smooth blobs.
    struct Background {
        var pixels: [UInt8]
        var meanColor: [Double]

        init(width: Int, height: Int, rng: inout SplitMix64) {
            let base = (0..<3).map { _ in Double(rng.nextFloat(in: 30, 200)) }
            let gradient = (0..<3).map { _ in Double(rng.nextFloat(in: -40, 40)) }
            let texture = rng.next() % 3
            let amplitude = Double(rng.nextFloat(in: 8, 30))
            let period = Double(rng.nextFloat(in: 6, 24))
            let phase = Double(rng.nextFloat(in: 0, 6.283))
            let blobs = (0..<4).map { _ in (Double(rng.nextFloat(in: 0, Float(width))), Double(rng.nextFloat(in: 0, Float(height))),
                                            Double(rng.nextFloat(in: 10, 40)), Double(rng.nextFloat(in: -1, 1))) }
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            var sum = [0.0, 0.0, 0.0]
            for y in 0..<height {
                for x in 0..<width {
                    let g = Double(x) / Double(width) - 0.5
                    var tex: Double
                    switch texture {
                    case 0: tex = sin(Double(x + y) / period * 6.283 + phase)
                    case 1: tex = ((x / Int(period)) + (y / Int(period))) % 2 == 0 ? 1 : -1
                    default:
                        tex = 0
                        for b in blobs {
                            let d = ((Double(x) - b.0) * (Double(x) - b.0) + (Double(y) - b.1) * (Double(y) - b.1)) / (b.2 * b.2)
                            tex += b.3 * exp(-d)
                        }
                    }
                    for c in 0..<3 {
                        let v = base[c] + gradient[c] * g + amplitude * tex
                        let byte = UInt8(max(0, min(255, v.rounded())))
                        pixels[(y * width + x) * 3 + c] = byte
                        sum[c] += Double(byte)
                    }
                }
            }
            self.pixels = pixels
            self.meanColor = sum.map { $0 / Double(width * height) }
        }
    }
}

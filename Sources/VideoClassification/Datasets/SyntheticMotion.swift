import Foundation
import Tensors
import VideoIO

/// A synthetic dataset that only a model which reads frame order can solve: ten classes in five
/// time-reversed pairs (move left/right, move up/down, rotate clockwise/counter-clockwise,
/// grow/shrink, fade in/out). The second class of each pair is the first one's clip played
/// backwards, so single frames (and any order-free summary of them) carry no label information.
///
/// Shape, colour, fill, size, speed and easing, start position, textured and noisy backgrounds,
/// distractor shapes (still or drifting), clip length (24–64 frames), frame rate (15–30), frame size
/// (96×96 to 426×240, landscape, square and portrait), codec (H.264, MPEG-4, VP9, MJPEG) and its
/// compression are all random, from one seed. So is the camera, as in real footage
/// (``Options/variety``): it may sway, shake, drift or zoom a little while the object moves (never
/// as much as the object), and in a quarter of the clips the whole picture makes the class's motion
/// instead of one object (a pan, a roll, a zoom, a fade of the frame from a flat colour). The light
/// may brighten, dim or flicker.
///
/// Labels describe motion on screen: `move_right` is a clip in which what is seen moves right,
/// whether an object crosses a still scene or the camera pans left.
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
        /// How the camera moved: `still`, `sway`, `shake`, `drift` or `zoom` while the object made
        /// the motion, or `scene` when the whole picture made it (then ``start`` and ``end`` are a
        /// still object of the scene, seen through the moving camera).
        public var camera: String = "still"
        /// How the object is filled: `solid`, `stripes` (two colours, turning with it) or `hollow`.
        public var fill: String = "solid"
        /// Whether the light changes during the clip (brightening, dimming or flicker).
        public var lighting = false
    }

    /// The moving object at one frame, in pixels of the picture (after the camera).
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
        /// Frame sizes to draw from; `nil` (the default) draws from ``plainSizes``, and with
        /// ``variety`` also from ``variedSizes``.
        public var sizes: [FrameSize]? = nil
        /// The plain generator's frame sizes, 96×96 to 320×240, all 4:3 or square.
        public static let plainSizes = [FrameSize(width: 96, height: 96), FrameSize(width: 128, height: 96),
                                        FrameSize(width: 160, height: 120), FrameSize(width: 192, height: 144),
                                        FrameSize(width: 240, height: 180), FrameSize(width: 320, height: 240)]
        /// The frame shapes variety adds: wide (16:9), portrait and square.
        public static let variedSizes = [FrameSize(width: 256, height: 144), FrameSize(width: 320, height: 180),
                                         FrameSize(width: 426, height: 240), FrameSize(width: 144, height: 192),
                                         FrameSize(width: 224, height: 224)]
        /// Codecs to draw from; VP9 clips are WebM, MPEG-4 and MJPEG are AVI, H.264 is MP4.
        public var codecs: [VideoCodec] = [.h264, .mpeg4, .vp9, .mjpeg]
        /// Whether clips have real footage's variety (default): a moving camera and whole-picture
        /// motion, changing light, striped and hollow objects and more shapes, drifting distractors,
        /// eased motion and varied compression. Without it, a still camera films one solid object
        /// over a still, evenly lit scene, encoded at one quality: the clips of the generator
        /// before variety, the same ones for the same seed.
        public var variety = true
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
                                             frameRate: clip.frameRate, codec: codec, quality: clip.quality)
                for frame in clip.frames { try writer.write(rgb: frame) }
                try writer.finish()
                results.set(job, .success(Truth(label: label, path: relative, width: clip.width, height: clip.height,
                                                frameCount: clip.frames.count, frameRate: clip.frameRate, codec: writer.codec.rawValue,
                                                start: clip.start, end: clip.end, shape: "\(clip.shape)",
                                                startProbe: probe(clip.shape, clip.start), endProbe: probe(clip.shape, clip.end),
                                                camera: clip.camera.rawValue, fill: clip.fill.kind.rawValue, lighting: clip.lighting)))
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
        var fill: Fill
        var camera: Camera
        var lighting: Bool
        var quality: Int
    }

    /// A pixel well inside the shape (the ring's and the frame's centers are holes, so it probes
    /// the middle of their band).
    static func probe(_ shape: Shape, _ s: ObjectState) -> [Int] {
        let u = shape == .ring ? 0.8 : shape == .frame ? 0.62 : 0.0
        let r = s.size / 2
        return [Int(s.x + cos(s.angle) * u * r), Int(s.y + sin(s.angle) * u * r)]
    }

    enum Shape: CaseIterable {
        case disk, square, triangle, cross, ring, bar, ellipse, diamond, frame
        /// The shapes of the plain generator.
        static let plain: [Shape] = [.disk, .square, .triangle, .cross, .ring, .bar]
        /// Shapes whose turning shows and cannot alias within a clip's turn (no near-symmetric
        /// cross; a bar or an ellipse repeats every half turn, a triangle never).
        static let turning: [Shape] = [.triangle, .bar]
        static let turningVaried: [Shape] = [.triangle, .bar, .ellipse]
    }

    /// How an object is filled.
    struct Fill {
        enum Kind: String { case solid, stripes, hollow }
        var kind = Kind.solid
        /// The stripes' second colour and how many stripes span the object.
        var second: [UInt8] = [0, 0, 0]
        var stripes = 4.0
    }

    /// How the camera moves.
    enum Camera: String { case still, sway, shake, drift, zoom, scene }

    /// Where the camera looks at one frame: the world point at the picture's center, the zoom
    /// (picture pixels per world pixel) and the roll (radians; the picture turns clockwise).
    struct Pose {
        var x: Double, y: Double, zoom = 1.0, roll = 0.0
    }

    /// Renders one clip of class `classIndex`.
    static func render(classIndex: Int, options: Options, rng: inout SplitMix64) -> Clip {
        let sizes = options.sizes ?? (options.variety ? Options.plainSizes + Options.variedSizes : Options.plainSizes)
        let size = sizes[Int(rng.next() % UInt64(sizes.count))]
        let width = size.width, height = size.height
        let frameCount = options.minFrames + Int(rng.next() % UInt64(options.maxFrames - options.minFrames + 1))
        let frameRate = options.minFrameRate + Int(rng.next() % UInt64(options.maxFrameRate - options.minFrameRate + 1))
        let pair = classIndex / 2, reversed = classIndex % 2 == 1
        let varied = options.variety
        // In a quarter of the varied clips the whole picture makes the motion (the camera pans,
        // rolls, zooms or the frame fades), over a world large enough for the camera to travel.
        let scene = varied && rng.nextUnitFloat() < 0.25
        let pad = scene ? 0.45 : varied ? 0.15 : 0
        let offsetX = (Double(width) * pad).rounded(), offsetY = (Double(height) * pad).rounded()
        let worldWidth = width + 2 * Int(offsetX), worldHeight = height + 2 * Int(offsetY)
        let background = Background(width: worldWidth, height: worldHeight, textures: varied ? 7 : 3, rng: &rng)
        let short = Double(min(width, height))

        let shapes: [Shape] = pair == 2 && !scene ? (varied ? Shape.turningVaried : Shape.turning) : (varied ? Shape.allCases : Shape.plain)
        let shape = shapes[Int(rng.next() % UInt64(shapes.count))]
        let color = contrastingColor(to: background.meanColor, rng: &rng)
        var fill = Fill()
        if varied {
            let r = rng.nextUnitFloat()
            if r < 0.25 {
                fill.kind = .stripes
                fill.second = contrastingColor(to: color.map(Double.init), rng: &rng)
                fill.stripes = Double(rng.nextFloat(in: 2, 6))
            } else if r < 0.4, shape != .ring, shape != .frame, shape != .bar {
                fill.kind = .hollow
            }
        }
        // Turning objects are larger, so that a step of a few degrees still moves their edges by
        // pixels once a clip is scaled down to a model's input.
        var objectSize = short * Double(pair == 2 && !scene ? rng.nextFloat(in: 0.3, 0.42) : rng.nextFloat(in: 0.18, 0.3))
        // The object's states in picture coordinates of a still camera; the world adds the offset.
        var start = ObjectState(x: Double(width) / 2, y: Double(height) / 2, size: objectSize,
                                angle: Double(rng.nextFloat(in: 0, 6.283)), alpha: 1, color: color)
        var end = start
        let margin = objectSize * 0.75
        var travel = 0.0
        if scene {
            // A still object somewhere near the middle; the camera makes the motion.
            start.x = Double(width) * Double(rng.nextFloat(in: 0.3, 0.7))
            start.y = Double(height) * Double(rng.nextFloat(in: 0.3, 0.7))
            end = start
        } else {
            switch pair {
            case 0, 1:  // move right / move down (forward); reversed: left / up
                let length = pair == 0 ? Double(width) : Double(height)
                travel = (length - 2 * margin) * Double(rng.nextFloat(in: 0.45, 1))
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
        }
        // Into world coordinates: a still camera sees the world's middle.
        start.x += offsetX; start.y += offsetY; end.x += offsetX; end.y += offsetY

        // The camera.
        let center = Pose(x: Double(worldWidth) / 2, y: Double(worldHeight) / 2)
        var camera = Camera.still
        var sceneAmount = 0.0, fadeColor: [Double] = [0, 0, 0]
        var swayAmplitude = (0.0, 0.0), swayCycles = 1.0, swayPhase = 0.0
        var drift = (0.0, 0.0), zoomTo = 1.0
        var shake: [(Double, Double)] = []
        if scene {
            camera = .scene
            switch pair {
            case 0: sceneAmount = Double(width) * Double(rng.nextFloat(in: 0.3, 0.6))   // content moves right
            case 1: sceneAmount = Double(height) * Double(rng.nextFloat(in: 0.3, 0.6))  // content moves down
            case 2: sceneAmount = Double(rng.nextFloat(in: 1.6, 3.0))                     // content turns clockwise
            case 3: sceneAmount = Double(rng.nextFloat(in: 1.8, 3.0))                     // content grows
            default:                                                                      // the frame fades in
                fadeColor = rng.nextUnitFloat() < 0.6 ? [0, 0, 0] : (0..<3).map { _ in Double(rng.nextFloat(in: 0, 255)) }
            }
        } else if varied {
            let r = rng.nextUnitFloat()
            let most = pair < 2 ? travel / 3 : short * 0.08  // never as much as the object moves
            if r < 0.35 {
                camera = .still
            } else if r < 0.55 {
                camera = .sway
                let a = min(offsetX, offsetY, most) * Double(rng.nextFloat(in: 0.3, 0.8))
                swayAmplitude = (a, a * Double(rng.nextFloat(in: 0, 1)))
                swayCycles = Double(rng.nextFloat(in: 0.5, 2))
                swayPhase = Double(rng.nextFloat(in: 0, 6.283))
            } else if r < 0.7 {
                camera = .shake
                let a = Double(rng.nextFloat(in: 0.5, 2.5))
                shake = (0..<frameCount).map { _ in (a * Double(rng.nextNormal()), a * Double(rng.nextNormal())) }
            } else if r < 0.9 {
                camera = .drift
                let distance = min(most, offsetX, offsetY) * Double(rng.nextFloat(in: 0.3, 1))
                let direction = Double(rng.nextFloat(in: 0, 6.283))
                drift = (distance * cos(direction), distance * sin(direction))
            } else {
                camera = .zoom
                zoomTo = 1 + Double(rng.nextFloat(in: -0.1, 0.1))
            }
        }
        func pose(_ t: Double, frame: Int) -> Pose {
            var p = center
            switch camera {
            case .still: break
            case .sway:
                p.x += swayAmplitude.0 * sin(2 * .pi * swayCycles * t + swayPhase)
                p.y += swayAmplitude.1 * cos(2 * .pi * swayCycles * t + swayPhase)
            case .shake: p.x += shake[frame].0; p.y += shake[frame].1
            case .drift: p.x += drift.0 * (t - 0.5); p.y += drift.1 * (t - 0.5)
            case .zoom: p.zoom = 1 + (zoomTo - 1) * t
            case .scene:
                switch pair {
                case 0: p.x -= sceneAmount * (t - 0.5)
                case 1: p.y -= sceneAmount * (t - 0.5)
                case 2: p.roll = sceneAmount * t
                case 3: p.zoom = 1 + (sceneAmount - 1) * t
                default: break
                }
            }
            return p
        }

        // Distractors: still, or (in varied clips, half of them) drifting a little.
        var distractors: [(Shape, ObjectState, ObjectState)] = []
        let distractorShapes = varied ? Shape.allCases : Shape.plain
        for _ in 0..<Int(rng.next() % UInt64(varied ? 5 : 4)) {
            let d = ObjectState(x: Double(rng.nextFloat(in: 0, Float(worldWidth))), y: Double(rng.nextFloat(in: 0, Float(worldHeight))),
                                size: short * Double(rng.nextFloat(in: 0.06, 0.16)), angle: Double(rng.nextFloat(in: 0, 6.283)),
                                alpha: 1, color: contrastingColor(to: background.meanColor, rng: &rng))
            let kind = distractorShapes[Int(rng.next() % UInt64(distractorShapes.count))]
            var e = d
            if varied, rng.nextUnitFloat() < 0.5 {
                let distance = short * Double(rng.nextFloat(in: 0.02, 0.12)), direction = Double(rng.nextFloat(in: 0, 6.283))
                e.x += distance * cos(direction); e.y += distance * sin(direction)
            }
            distractors.append((kind, d, e))
        }
        // Light: brightening or dimming through the clip, or a flicker.
        let lighting = varied && rng.nextUnitFloat() < 0.35
        let gainStart = lighting ? Double(rng.nextFloat(in: 0.85, 1.15)) : 1
        let gainEnd = lighting ? Double(rng.nextFloat(in: 0.85, 1.15)) : 1
        let flicker = lighting && rng.nextUnitFloat() < 0.3 ? Double(rng.nextFloat(in: 0.02, 0.06)) : 0
        let eased = varied && rng.nextUnitFloat() < 0.25
        let quality = varied ? 18 + Int(rng.next() % 20) : 25
        let noise = Double(rng.nextFloat(in: 2, 9))

        var frames: [[UInt8]] = []
        frames.reserveCapacity(frameCount)
        var screenStart = start, screenEnd = end
        for f in 0..<frameCount {
            let t = frameCount == 1 ? 0 : Double(f) / Double(frameCount - 1)
            let p = pose(t, frame: f)
            var pixels = background.view(width: width, height: height, pose: p)
            for (kind, a, b) in distractors {
                draw(kind, project(interpolate(a, b, t), p, width: width, height: height), fill: Fill(),
                     into: &pixels, width: width, height: height)
            }
            let object = project(interpolate(start, end, eased ? t * t * (3 - 2 * t) : t), p, width: width, height: height)
            draw(shape, object, fill: fill, into: &pixels, width: width, height: height)
            if f == 0 { screenStart = object }
            if f == frameCount - 1 { screenEnd = object }
            let gain = gainStart + (gainEnd - gainStart) * t + (flicker > 0 ? flicker * Double(rng.nextNormal()) : 0)
            let fade = camera == .scene && pair == 4 ? t : 1
            for i in pixels.indices {
                var v = Double(pixels[i]) * gain
                if fade < 1 { v = fadeColor[i % 3] + (v - fadeColor[i % 3]) * fade }
                v += noise * Double(rng.nextNormal())
                pixels[i] = UInt8(max(0, min(255, v.rounded())))
            }
            frames.append(pixels)
        }
        if camera == .scene && pair == 4 { screenStart.alpha = 0 }
        if reversed {
            frames.reverse()
            swap(&screenStart, &screenEnd)
        }
        return Clip(frames: frames, width: width, height: height, frameRate: frameRate, start: screenStart, end: screenEnd,
                    shape: shape, fill: fill, camera: camera, lighting: lighting, quality: quality)
    }

    /// Where a world object appears in the picture under the camera's pose.
    static func project(_ s: ObjectState, _ p: Pose, width: Int, height: Int) -> ObjectState {
        let dx = s.x - p.x, dy = s.y - p.y
        let c = cos(p.roll), n = sin(p.roll)
        var out = s
        out.x = Double(width) / 2 + p.zoom * (c * dx - n * dy)
        out.y = Double(height) / 2 + p.zoom * (n * dx + c * dy)
        out.size = s.size * p.zoom
        out.angle = s.angle + p.roll
        return out
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
        case .ellipse: return u * u + (v / 0.5) * (v / 0.5) <= 1
        case .diamond: return abs(u) + abs(v) <= 1
        case .frame: return max(abs(u), abs(v)) <= 0.8 && max(abs(u), abs(v)) >= 0.45
        }
    }

    static func draw(_ shape: Shape, _ s: ObjectState, fill: Fill, into pixels: inout [UInt8], width: Int, height: Int) {
        guard s.alpha > 0.001, s.size > 0.5 else { return }
        let radius = s.size / 2
        let cosA = cos(s.angle), sinA = sin(s.angle)
        let x0 = max(0, Int((s.x - radius * 1.5).rounded(.down))), x1 = min(width - 1, Int((s.x + radius * 1.5).rounded(.up)))
        let y0 = max(0, Int((s.y - radius * 1.5).rounded(.down))), y1 = min(height - 1, Int((s.y + radius * 1.5).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            for x in x0...x1 {
                let dx = (Double(x) + 0.5 - s.x) / radius, dy = (Double(y) + 0.5 - s.y) / radius
                let u = cosA * dx + sinA * dy, v = -sinA * dx + cosA * dy
                guard inside(shape, u, v) else { continue }
                var color = s.color
                switch fill.kind {
                case .solid: break
                case .hollow: if inside(shape, u / 0.6, v / 0.6) { continue }
                case .stripes: if Int(((u + 1) * fill.stripes).rounded(.down)) % 2 == 1 { color = fill.second }
                }
                let i = (y * width + x) * 3
                for c in 0..<3 {
                    pixels[i + c] = UInt8((Double(pixels[i + c]) * (1 - s.alpha) + Double(color[c]) * s.alpha).rounded())
                }
            }
        }
    }

    /// A textured background: a gradient plus one of stripes, a checkerboard or smooth blobs, and
    /// with variety also a sine grid, value noise, colour bars or concentric rings.
    struct Background {
        var pixels: [UInt8]
        var width: Int, height: Int
        var meanColor: [Double]

        init(width: Int, height: Int, textures: Int, rng: inout SplitMix64) {
            let base = (0..<3).map { _ in Double(rng.nextFloat(in: 30, 200)) }
            let gradient = (0..<3).map { _ in Double(rng.nextFloat(in: -40, 40)) }
            let texture = rng.next() % UInt64(textures)
            let amplitude = Double(rng.nextFloat(in: 8, 30))
            let period = Double(rng.nextFloat(in: 6, 24))
            let phase = Double(rng.nextFloat(in: 0, 6.283))
            let blobs = (0..<4).map { _ in (Double(rng.nextFloat(in: 0, Float(width))), Double(rng.nextFloat(in: 0, Float(height))),
                                            Double(rng.nextFloat(in: 10, 40)), Double(rng.nextFloat(in: -1, 1))) }
            // Value noise: a coarse grid of random values, smoothly interpolated.
            // (Drawn only with the textures variety adds, so plain scenes stay those of before.)
            let cell = max(4, Int(period))
            let gridW = width / cell + 2, gridH = height / cell + 2
            let grid = textures > 3 ? (0..<(gridW * gridH)).map { _ in Double(rng.nextFloat(in: -1, 1)) } : []
            let bars = textures > 3 ? (0..<8).map { _ in (0..<3).map { _ in Double(rng.nextFloat(in: -60, 60)) } } : []
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            var sum = [0.0, 0.0, 0.0]
            for y in 0..<height {
                for x in 0..<width {
                    let g = Double(x) / Double(width) - 0.5
                    var tex: Double, shift: [Double]? = nil
                    switch texture {
                    case 0: tex = sin(Double(x + y) / period * 6.283 + phase)
                    case 1: tex = ((x / Int(period)) + (y / Int(period))) % 2 == 0 ? 1 : -1
                    case 2:
                        tex = 0
                        for b in blobs {
                            let d = ((Double(x) - b.0) * (Double(x) - b.0) + (Double(y) - b.1) * (Double(y) - b.1)) / (b.2 * b.2)
                            tex += b.3 * exp(-d)
                        }
                    case 3: tex = sin(Double(x) / period * 3.1 + phase) * cos(Double(y) / period * 3.1)
                    case 4:
                        let gx = Double(x) / Double(cell), gy = Double(y) / Double(cell)
                        let ix = Int(gx), iy = Int(gy)
                        let fx = gx - Double(ix), fy = gy - Double(iy)
                        let sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy)
                        let a = grid[iy * gridW + ix], b = grid[iy * gridW + ix + 1]
                        let c = grid[(iy + 1) * gridW + ix], d = grid[(iy + 1) * gridW + ix + 1]
                        tex = (a + (b - a) * sx) * (1 - sy) + (c + (d - c) * sx) * sy
                    case 5:
                        tex = 0
                        shift = bars[min(7, x * 8 / width)]
                    default:
                        let r = ((Double(x) - Double(width) / 2) * (Double(x) - Double(width) / 2)
                                 + (Double(y) - Double(height) / 2) * (Double(y) - Double(height) / 2)).squareRoot()
                        tex = sin(r / period * 6.283 + phase)
                    }
                    for c in 0..<3 {
                        let v = base[c] + gradient[c] * g + amplitude * tex + (shift?[c] ?? 0)
                        let byte = UInt8(max(0, min(255, v.rounded())))
                        pixels[(y * width + x) * 3 + c] = byte
                        sum[c] += Double(byte)
                    }
                }
            }
            self.pixels = pixels
            self.width = width
            self.height = height
            self.meanColor = sum.map { $0 / Double(width * height) }
        }

        /// The picture a camera at `pose` sees: copied when it looks straight at whole pixels,
        /// resampled bilinearly otherwise (edges extended).
        func view(width w: Int, height h: Int, pose: Pose) -> [UInt8] {
            let left = pose.x - Double(w) / 2, top = pose.y - Double(h) / 2
            if pose.zoom == 1, pose.roll == 0, left == left.rounded(), top == top.rounded(),
               left >= 0, top >= 0, Int(left) + w <= width, Int(top) + h <= height {
                var out = [UInt8](repeating: 0, count: w * h * 3)
                for y in 0..<h {
                    let from = ((Int(top) + y) * width + Int(left)) * 3
                    out.replaceSubrange(y * w * 3..<(y + 1) * w * 3, with: pixels[from..<from + w * 3])
                }
                return out
            }
            var out = [UInt8](repeating: 0, count: w * h * 3)
            let c = cos(pose.roll), s = sin(pose.roll)
            for y in 0..<h {
                for x in 0..<w {
                    let px = (Double(x) + 0.5 - Double(w) / 2) / pose.zoom, py = (Double(y) + 0.5 - Double(h) / 2) / pose.zoom
                    let wx = pose.x + c * px + s * py - 0.5, wy = pose.y - s * px + c * py - 0.5
                    let fx = min(max(wx, 0), Double(width - 1)), fy = min(max(wy, 0), Double(height - 1))
                    let x0 = min(Int(fx), max(0, width - 2)), y0 = min(Int(fy), max(0, height - 2))
                    let x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1)
                    let ax = fx - Double(x0), ay = fy - Double(y0)
                    for k in 0..<3 {
                        let p00 = Double(pixels[(y0 * width + x0) * 3 + k]), p01 = Double(pixels[(y0 * width + x1) * 3 + k])
                        let p10 = Double(pixels[(y1 * width + x0) * 3 + k]), p11 = Double(pixels[(y1 * width + x1) * 3 + k])
                        let v = (p00 + (p01 - p00) * ax) * (1 - ay) + (p10 + (p11 - p10) * ax) * ay
                        out[(y * w + x) * 3 + k] = UInt8(v.rounded())
                    }
                }
            }
            return out
        }
    }
}

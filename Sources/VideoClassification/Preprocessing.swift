import Tensors
import VideoIO

/// The one place where frames become tensors.
///
/// Frames are decoded square at ``InputSpecification/shortSide`` (short side scaled, centered
/// square cut, inside libswscale). Then a `size × size` window is taken — the center one for
/// inference, a random one (with small scale, brightness and contrast jitter, and horizontal
/// flips only when asked) for training — and written as `[T, C, size, size]` floats:
/// RGB as `(x/255 - mean)/std`, differences of consecutive sampled frames as `(Δx/255)/std`.
public struct Preprocessor: Sendable {
    /// The model's input: representation, time steps, sizes, mean and standard deviation.
    public let input: InputSpecification

    /// A preprocessor for a model with this input (usually `model.card.input`).
    public init(_ input: InputSpecification) { self.input = input }

    /// How to decode a clip for this model: uniformly sampled frames at the decode size; with
    /// `clips` above 1, the frames of that many interleaved clips for test-time averaging
    /// (`FrameSampling.uniformClips(count:clips:)`, split again by ``clips(_:count:)``).
    public func decodeOptions(threads: Int = 0, clips: Int = 1) -> DecodeOptions {
        switch input.sampling {
        case .uniform:
            DecodeOptions(sampling: clips > 1 ? .uniformClips(count: input.sampledFrames, clips: clips) : .uniform(input.sampledFrames),
                          format: input.decodeFormat, threads: threads)
        }
    }

    /// Splits the frames decoded with ``decodeOptions(threads:clips:)`` into its `count` clips
    /// (`FrameSampling.uniformClipIndices(count:clips:frameCount:)`; the video's last frame is taken
    /// to be the last frame decoded, so a video whose end could not be decoded is split over the
    /// part that was). A frame missing from `frames` (the decoder skipped it) is replaced by the
    /// nearest earlier one. A clip of a video shorter than the sampling lists each frame once, like
    /// the one-clip sampling (``fitted(_:)`` then repeats the last). One clip is `frames` as they are.
    public func clips(_ frames: [VideoFrame], count: Int) -> [[VideoFrame]] {
        guard count > 1, let last = frames.last else { return [frames] }
        let indices = FrameSampling.uniformClipIndices(count: input.sampledFrames, clips: count, frameCount: last.index + 1)
        return indices.map { clip in
            var seen = Set<Int>()
            return clip.filter { seen.insert($0).inserted }.map { wanted in
                // The last frame whose index is at most `wanted` (frames are in increasing order).
                var low = 0, high = frames.count
                while low < high {
                    let mid = (low + high) / 2
                    if frames[mid].index <= wanted { low = mid + 1 } else { high = mid }
                }
                return frames[max(low - 1, 0)]
            }
        }
    }

    /// Random changes applied to a clip in training (the same for all its frames).
    public struct Augmentation: Sendable {
        /// The window's side in decoded pixels (≤ short side), scaled to `size × size`.
        public var cropSide: Int
        /// Left edge of the window, in decoded pixels from the left.
        public var cropX: Int
        /// Top edge of the window, in decoded pixels from the top.
        public var cropY: Int
        /// Whether the window is mirrored left to right.
        public var flip: Bool
        /// Added to every RGB value in 0–1 units (drawn from −0.08 to 0.08); differences are unchanged.
        public var brightness: Float
        /// Gain around mid-grey for RGB, and on differences (drawn from 0.9 to 1.1).
        public var contrast: Float

        /// Draws a random augmentation.
        public static func random(for input: InputSpecification, flips: Bool, using rng: inout SplitMix64) -> Augmentation {
            let low = Float(input.size) * 0.85, high = Float(input.shortSide)
            let side = min(input.shortSide, max(1, Int(rng.nextFloat(in: min(low, high), high).rounded())))
            let room = input.shortSide - side
            return Augmentation(cropSide: side, cropX: room > 0 ? Int(rng.next() % UInt64(room + 1)) : 0,
                                cropY: room > 0 ? Int(rng.next() % UInt64(room + 1)) : 0,
                                flip: flips && rng.next() % 2 == 0,
                                brightness: rng.nextFloat(in: -0.08, 0.08), contrast: rng.nextFloat(in: 0.9, 1.1))
        }
    }

    /// Floats per clip: `framesPerClip × channels × size × size`.
    public var clipElementCount: Int { input.framesPerClip * input.representation.channels * input.size * input.size }

    /// Pads or trims decoded frames to exactly ``InputSpecification/sampledFrames`` (a short video
    /// repeats its last frame).
    public func fitted(_ frames: [VideoFrame]) -> [VideoFrame] {
        guard let last = frames.last else { return [] }
        var out = Array(frames.prefix(input.sampledFrames))
        while out.count < input.sampledFrames { out.append(last) }
        return out
    }

    /// Writes one clip into `destination` (``clipElementCount`` floats).
    public func write(_ frames: [VideoFrame], augmentation: Augmentation? = nil, into destination: UnsafeMutableBufferPointer<Float>) {
        // Frames from elsewhere (not decoded with ``decodeOptions(threads:)``) are brought to the decode size first.
        let frames = fitted(frames).map(resampledIfNeeded)
        precondition(!frames.isEmpty, "no frames to preprocess")
        precondition(destination.count >= clipElementCount, "destination too small")
        let s = input.size, plane = s * s
        let channels = input.representation.channels
        let steps = input.framesPerClip
        let offset = input.representation.usesDifferences ? 1 : 0
        let gain = augmentation?.contrast ?? 1, bias = augmentation?.brightness ?? 0
        let (mapX, mapY) = windowMap(width: frames[0].width, height: frames[0].height, augmentation: augmentation)
        let inverse255: Float = 1 / 255
        for t in 0..<steps {
            let current = frames[t + offset]
            let previous = offset == 1 ? frames[t] : current
            let base = destination.baseAddress! + t * channels * plane
            current.pixels.withUnsafeBufferPointer { cur in
                previous.pixels.withUnsafeBufferPointer { prev in
                    let width = current.width
                    for c in 0..<3 {
                        let mean = input.mean[c], invStd = 1 / input.std[c]
                        let rgbPlane: UnsafeMutablePointer<Float>? = input.representation == .diff ? nil : base + c * plane
                        let diffPlane: UnsafeMutablePointer<Float>? = switch input.representation {
                        case .rgb: nil
                        case .diff: base + c * plane
                        case .rgbDiff: base + (3 + c) * plane
                        }
                        for y in 0..<s {
                            let row = mapY[y] * width
                            for x in 0..<s {
                                let i = (row + mapX[x]) * 3 + c
                                let value = Float(cur[i]) * inverse255
                                if let rgbPlane {
                                    let v = (value - 0.5) * gain + 0.5 + bias
                                    rgbPlane[y * s + x] = (v - mean) * invStd
                                }
                                if let diffPlane {
                                    diffPlane[y * s + x] = (value - Float(prev[i]) * inverse255) * gain * invStd
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Where each pixel of the `size × size` window comes from in a decoded frame: column and row
    /// maps (the centered window at inference; the augmentation's window, scale and flip in
    /// training). ``write(_:augmentation:into:)`` and ``networkFrames(_:)`` share it.
    func windowMap(width: Int, height: Int, augmentation: Augmentation?) -> (x: [Int], y: [Int]) {
        let s = input.size
        let side = augmentation?.cropSide ?? s
        let x0 = augmentation?.cropX ?? (width - s) / 2
        let y0 = augmentation?.cropY ?? (height - s) / 2
        let flip = augmentation?.flip ?? false
        // Nearest-sample map from output to source coordinates (identity without scale jitter).
        let scale = Float(side) / Float(s)
        let mapX = (0..<s).map { x -> Int in
            let xs = flip ? s - 1 - x : x
            return min(width - 1, x0 + Int((Float(xs) + 0.5) * scale))
        }
        let mapY = (0..<s).map { y in min(height - 1, y0 + Int((Float(y) + 0.5) * scale)) }
        return (mapX, mapY)
    }

    /// The frames the network sees, as `size × size` RGB pictures: each sampled frame after the
    /// same steps as ``write(_:augmentation:into:)`` (short clips padded, frames from elsewhere
    /// brought to the decode size, the centered window). The tensor's RGB values are exactly
    /// `(pixel/255 − mean)/std` of these; `vidclass frames --model` and `classify --explain-sheet`
    /// draw them.
    public func networkFrames(_ frames: [VideoFrame]) -> [VideoFrame] {
        let decoded = fitted(frames).map(resampledIfNeeded)
        guard let first = decoded.first else { return [] }
        let s = input.size
        let (mapX, mapY) = windowMap(width: first.width, height: first.height, augmentation: nil)
        return decoded.map { frame in
            var out = [UInt8](repeating: 0, count: s * s * 3)
            frame.pixels.withUnsafeBufferPointer { src in
                for y in 0..<s {
                    for x in 0..<s {
                        let i = (mapY[y] * frame.width + mapX[x]) * 3, o = (y * s + x) * 3
                        out[o] = src[i]; out[o + 1] = src[i + 1]; out[o + 2] = src[i + 2]
                    }
                }
            }
            return VideoFrame(index: frame.index, time: frame.time, timestamp: frame.timestamp, width: s, height: s,
                              pixels: out, isCorrupt: frame.isCorrupt, isKeyframe: frame.isKeyframe)
        }
    }

    /// One time step (`[C, size, size]` floats) from a frame already at the decode size and the
    /// frame before it (used for differences; pass the same frame for RGB input).
    public func writeStep(current: VideoFrame, previous: VideoFrame, into destination: UnsafeMutableBufferPointer<Float>) {
        var one = input
        one.framesPerClip = 1
        let single = Preprocessor(one)
        single.write(input.representation.usesDifferences ? [previous, current] : [current], into: destination)
    }

    /// The frame itself when it is at the decode size, otherwise ``resampled(_:)``.
    public func resampledIfNeeded(_ frame: VideoFrame) -> VideoFrame {
        frame.width == input.shortSide && frame.height == input.shortSide ? frame : resampled(frame)
    }

    /// A frame of any size brought to the decode size: the centered square (the whole frame for
    /// ``InputSpecification/Resize/stretch``), scaled (bilinear) to ``InputSpecification/shortSide``.
    /// Frames already that size are returned as they are.
    public func resampled(_ frame: VideoFrame) -> VideoFrame {
        let side = input.shortSide
        if frame.width == side && frame.height == side { return frame }
        let square = min(frame.width, frame.height)
        let stretch = input.resize == .stretch
        let x0 = stretch ? 0 : Double(frame.width - square) / 2, y0 = stretch ? 0 : Double(frame.height - square) / 2
        let scaleX = Double(stretch ? frame.width : square) / Double(side), scaleY = Double(stretch ? frame.height : square) / Double(side)
        var out = [UInt8](repeating: 0, count: side * side * 3)
        frame.pixels.withUnsafeBufferPointer { src in
            for y in 0..<side {
                let sy = max(0, min(Double(frame.height - 1), y0 + (Double(y) + 0.5) * scaleY - 0.5))
                let iy = Int(sy), fy = sy - Double(iy), iy1 = min(iy + 1, frame.height - 1)
                for x in 0..<side {
                    let sx = max(0, min(Double(frame.width - 1), x0 + (Double(x) + 0.5) * scaleX - 0.5))
                    let ix = Int(sx), fx = sx - Double(ix), ix1 = min(ix + 1, frame.width - 1)
                    for c in 0..<3 {
                        let a = Double(src[(iy * frame.width + ix) * 3 + c]), b = Double(src[(iy * frame.width + ix1) * 3 + c])
                        let d = Double(src[(iy1 * frame.width + ix) * 3 + c]), e = Double(src[(iy1 * frame.width + ix1) * 3 + c])
                        let v = (a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy
                        out[(y * side + x) * 3 + c] = UInt8(max(0, min(255, v.rounded())))
                    }
                }
            }
        }
        return VideoFrame(index: frame.index, time: frame.time, timestamp: frame.timestamp, width: side, height: side,
                          pixels: out, isCorrupt: frame.isCorrupt, isKeyframe: frame.isKeyframe)
    }

    /// One clip as a tensor `[1, T, C, size, size]`.
    public func tensor(_ frames: [VideoFrame], augmentation: Augmentation? = nil) -> Tensor {
        batch([frames], augmentations: [augmentation])
    }

    /// Clips as one batch `[B, T, C, size, size]`: the one place where decoded frames become the
    /// network's input (classify, label, evaluate and training all build their batches here).
    /// - Parameters:
    ///   - clips: per clip, its decoded frames (short clips repeat their last frame).
    ///   - augmentations: one per clip (nil entries or a nil array: none).
    public func batch(_ clips: [[VideoFrame]], augmentations: [Augmentation?]? = nil) -> Tensor {
        precondition(augmentations == nil || augmentations!.count == clips.count, "one augmentation per clip")
        var tensor = Tensor(shape: [clips.count, input.framesPerClip, input.representation.channels, input.size, input.size])
        let stride = clipElementCount
        tensor.withUnsafeMutableBufferPointer { buffer in
            for (n, frames) in clips.enumerated() {
                write(frames, augmentation: augmentations?[n] ?? nil,
                      into: UnsafeMutableBufferPointer(rebasing: buffer[(n * stride)..<((n + 1) * stride)]))
            }
        }
        return tensor
    }
}

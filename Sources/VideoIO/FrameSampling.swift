/// Which frames of a video a reader returns.
///
/// Index-based strategies count frames in presentation order from 0, as `ffmpeg` numbers its
/// output. Time-based strategies use presentation timestamps, so they are right for variable
/// frame rate; "the frame at time t" is the first frame whose time is at or after t (what
/// `ffmpeg -ss t` returns). A frame is returned at most once, in presentation order.
public enum FrameSampling: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Every frame.
    case all
    /// Frames 0, k, 2k, ...
    case everyNth(Int)
    /// About `fps` frames per second of video, chosen by timestamp: the frames at times
    /// `0, 1/fps, 2/fps, ...`.
    case framesPerSecond(Double)
    /// `count` frames spread uniformly over the whole video by index:
    /// `round(linspace(0, frameCount - 1, count))`.
    case uniform(Int)
    /// The frames of `clips` phase-shifted copies of ``uniform(_:)``, for test-time averaging
    /// (each frame once): see ``uniformClipIndices(count:clips:frameCount:)``. One clip is ``uniform(_:)``.
    case uniformClips(count: Int, clips: Int)
    /// `count` frames at uniformly spaced times from `start` to `end` seconds (both included).
    case uniformInTime(count: Int, start: Double, end: Double)
    /// The frames with these indices (out-of-range indices are an error).
    case indices([Int])
    /// The frames at these times in seconds.
    case times([Double])

    /// The strategy in the command line's syntax, e.g. `all`, `every:5`, `fps:2`, `uniform:16`.
    public var description: String {
        switch self {
        case .all: return "all"
        case .everyNth(let k): return "every:\(k)"
        case .framesPerSecond(let fps): return "fps:\(fps)"
        case .uniform(let n): return "uniform:\(n)"
        case .uniformClips(let n, let clips): return "uniform:\(n)x\(clips)"
        case .uniformInTime(let n, let a, let b): return "uniform:\(n)@\(a)-\(b)"
        case .indices(let list): return "indices:" + list.map(String.init).joined(separator: ",")
        case .times(let list): return "times:" + list.map { String($0) }.joined(separator: ",")
        }
    }

    /// Parses the command-line spelling: `all`, `every:K`, `fps:R`, `uniform:N`,
    /// `uniform:N@START-END` (seconds), `uniform:NxCLIPS`, `indices:I,J,...`, `times:T,U,...`; nil if malformed.
    public static func parse(_ argument: String) -> FrameSampling? {
        FrameSampling(spelling: argument)
    }

    private init?(spelling argument: String) {
        let parts = argument.split(separator: ":", maxSplits: 1).map(String.init)
        guard !parts.isEmpty else { return nil }
        let name = parts[0], value = parts.count > 1 ? parts[1] : ""
        switch name {
        case "all" where parts.count == 1: self = .all
        case "every": guard let k = Int(value), k > 0 else { return nil }; self = .everyNth(k)
        case "fps": guard let r = Double(value), r > 0, r.isFinite else { return nil }; self = .framesPerSecond(r)
        case "uniform":
            if let at = value.firstIndex(of: "@") {
                let range = value[value.index(after: at)...].split(separator: "-").compactMap { Double($0) }
                guard let n = Int(value[..<at]), n > 0, range.count == 2, range[0] >= 0, range[1] >= range[0] else { return nil }
                self = .uniformInTime(count: n, start: range[0], end: range[1])
            } else if let x = value.firstIndex(of: "x") {
                guard let n = Int(value[..<x]), let clips = Int(value[value.index(after: x)...]), n > 0, clips > 0 else { return nil }
                self = .uniformClips(count: n, clips: clips)
            } else {
                guard let n = Int(value), n > 0 else { return nil }
                self = .uniform(n)
            }
        case "indices":
            let list = value.split(separator: ",").map { Int($0) }
            guard !list.isEmpty, list.allSatisfy({ ($0 ?? -1) >= 0 }) else { return nil }
            self = .indices(list.compactMap { $0 })
        case "times":
            let list = value.split(separator: ",").map { Double($0) }
            guard !list.isEmpty, list.allSatisfy({ ($0 ?? -1) >= 0 }) else { return nil }
            self = .times(list.compactMap { $0 })
        default: return nil
        }
    }

    /// Whether every frame up to the last one wanted must be decoded anyway.
    var isDense: Bool {
        switch self {
        case .all: return true
        case .everyNth(let k): return k == 1
        default: return false
        }
    }

    /// The wanted frame indices given every frame's time (seconds, presentation order).
    /// Throws for indices beyond the end.
    func resolve(frameTimes: [Double], path: String) throws -> [Int] {
        let count = frameTimes.count
        var wanted: [Int]
        switch self {
        case .all: wanted = Array(0..<count)
        case .everyNth(let k): wanted = Array(stride(from: 0, to: count, by: k))
        case .uniform(let n):
            guard count > 0 else { return [] }
            wanted = Self.uniformIndices(count: n, frameCount: count)
        case .uniformClips(let n, let clips):
            guard count > 0 else { return [] }
            wanted = Self.uniformClipIndices(count: n, clips: clips, frameCount: count).flatMap { $0 }
        case .indices(let list):
            if let bad = list.first(where: { $0 >= count }) {
                throw VideoIOError(.invalidArgument, path: path, operation: "sample",
                                   message: "frame \(bad) requested but the video has \(count) frames")
            }
            wanted = list
        case .framesPerSecond(let fps):
            guard let last = frameTimes.last, last >= 0 else { return frameTimes.isEmpty ? [] : [0] }
            let ticks = Int((last * fps).rounded(.down)) + 1
            wanted = Self.firstAtOrAfter((0..<ticks).map { Double($0) / fps }, in: frameTimes)
        case .uniformInTime(let n, let start, let end):
            let times = n == 1 ? [start] : (0..<n).map { start + (end - start) * Double($0) / Double(n - 1) }
            wanted = Self.firstAtOrAfter(times, in: frameTimes)
        case .times(let list):
            wanted = Self.firstAtOrAfter(list, in: frameTimes)
        }
        return Array(Set(wanted)).sorted()
    }

    /// `round(linspace(0, frameCount - 1, count))` (half to even), the indices ``uniform(_:)``
    /// picks; repeated when `count` exceeds `frameCount`.
    public static func uniformIndices(count: Int, frameCount: Int) -> [Int] {
        count == 1 ? [0] : (0..<count).map { i in
            Int((Double(i) * Double(frameCount - 1) / Double(count - 1)).rounded(.toNearestOrEven))
        }
    }

    /// The indices of `clips` clips of `count` frames each, spread over `frameCount` frames for
    /// test-time averaging (MMAction2's multi-clip testing, for a whole-video sampling).
    ///
    /// ``uniform(_:)`` takes frames `g = (frameCount − 1)/(count − 1)` apart from the first frame to
    /// the last. Clip `j` of `N` starts `j·g/N` frames later and keeps `count` evenly spaced frames
    /// up to `frameCount − 1 − (N − 1 − j)·g/N`, so the clips interleave, the first begins at frame 0
    /// and the last ends on the last frame; rounded half to even. One clip is ``uniformIndices(count:frameCount:)``.
    public static func uniformClipIndices(count: Int, clips: Int, frameCount: Int) -> [[Int]] {
        guard clips > 1 else { return [uniformIndices(count: count, frameCount: frameCount)] }
        let last = Double(max(frameCount - 1, 0))
        guard count > 1 else {
            return (0..<clips).map { j in [Int((Double(j) * last / Double(clips - 1)).rounded(.toNearestOrEven))] }
        }
        let shift = last / Double(count - 1) / Double(clips)
        let span = last - Double(clips - 1) * shift
        return (0..<clips).map { j in
            (0..<count).map { k in Int((Double(j) * shift + Double(k) * span / Double(count - 1)).rounded(.toNearestOrEven)) }
        }
    }

    /// The wanted indices for frames at `frameTimes` (seconds): for tests and tools.
    public func resolveForTesting(_ frameTimes: [Double]) throws -> [Int] {
        try resolve(frameTimes: frameTimes, path: "<times>")
    }

    /// For each time, the first frame at or after it (with a tolerance of a microsecond);
    /// times past the last frame select nothing.
    public static func firstAtOrAfter(_ times: [Double], in frameTimes: [Double]) -> [Int] {
        times.compactMap { t in
            var low = 0, high = frameTimes.count
            while low < high {
                let mid = (low + high) / 2
                if frameTimes[mid] < t - 1e-6 { low = mid + 1 } else { high = mid }
            }
            return low < frameTimes.count ? low : nil
        }
    }
}

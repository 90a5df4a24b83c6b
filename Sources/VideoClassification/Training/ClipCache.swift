import Foundation
import VideoIO

/// Decoded frames of every clip, decoded once (in parallel) and kept in memory, so epochs after
/// the first never decode again. Clips that fail to decode are listed, not fatal.
public struct DecodedClips: Sendable {
    /// Frames per clip index; nil for clips that failed.
    public var frames: [[VideoFrame]?]
    /// Failures: clip index and the reason in one line.
    public var failures: [(index: Int, reason: String)]

    /// Decodes `clips` with `options`, `jobs` files at a time.
    public static func decode(_ clips: [LabeledClip], options: DecodeOptions, jobs: Int = 2,
                              progress: (@Sendable (Int, Int) -> Void)? = nil) -> DecodedClips {
        let results = ParallelResults<Outcome>(count: clips.count)
        let next = AtomicCounter()
        DispatchQueue.concurrentPerform(iterations: max(1, jobs)) { _ in
            while true {
                let i = next.increment()
                guard i < clips.count else { return }
                do {
                    let frames = try VideoReader(path: clips[i].path, options: options).readAll()
                    if frames.isEmpty {
                        results.set(i, .failure("\(clips[i].path): no frames"))
                    } else {
                        results.set(i, .success(frames))
                    }
                } catch {
                    results.set(i, .failure("\(error)"))
                }
                progress?(results.done, clips.count)
            }
        }
        var frames: [[VideoFrame]?] = []
        var failures: [(Int, String)] = []
        for (i, result) in results.values.enumerated() {
            switch result {
            case .success(let f): frames.append(f)
            case .failure(let reason): frames.append(nil); failures.append((i, reason))
            case nil: frames.append(nil); failures.append((i, "not decoded"))
            }
        }
        return DecodedClips(frames: frames, failures: failures)
    }

    enum Outcome { case success([VideoFrame]), failure(String) }

}

/// Results that parallel workers fill in by index.
final class ParallelResults<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Value?]
    private(set) var done = 0

    init(count: Int) { values = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Value) {
        lock.withLock {
            values[index] = value
            done += 1
        }
    }
}

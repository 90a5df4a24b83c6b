import VidclassConcurrency
import Foundation
import VideoIO

/// Decoded frames of every clip, decoded once (in parallel) and kept in memory, so epochs after
/// the first never decode again; with a cache directory, runs after the first do not decode
/// either. Clips that fail to decode are listed, not fatal.
public struct DecodedClips: Sendable {
    /// Frames per clip index; nil for clips that failed.
    public var frames: [[VideoFrame]?]
    /// Failures: clip index and the reason in one line.
    public var failures: [(index: Int, reason: String)]
    /// How many clips came from the cache directory instead of the decoder.
    public var fromCache = 0

    /// Decodes `clips` with `options`, `jobs` files at a time, reading and filling `cache` when given.
    /// - Parameters:
    ///   - clips: the clips to decode; results keep their order.
    ///   - options: how to decode and sample each clip (usually ``Preprocessor/decodeOptions(threads:clips:)``).
    ///   - jobs: clips decoded at the same time.
    ///   - cache: a directory of previously decoded frames, read first and filled with new ones.
    ///   - stop: polled between clips; when it returns true, the remaining clips are not
    ///     decoded (they are listed as failures).
    ///   - progress: called with the clips done so far and the total, from the decoding threads.
    public static func decode(_ clips: [LabeledClip], options: DecodeOptions, jobs: Int = 2, cache: FrameCacheDirectory? = nil,
                              stop: (@Sendable () -> Bool)? = nil,
                              progress: (@Sendable (Int, Int) -> Void)? = nil) -> DecodedClips {
        let results = ParallelResults<Outcome>(count: clips.count)
        let next = AtomicCounter()
        let hits = AtomicCounter()
        DispatchQueue.concurrentPerform(iterations: max(1, jobs)) { _ in
            while true {
                let i = next.increment()
                guard i < clips.count, stop?() != true else { return }
                let options = clips[i].decodeOptions(options)
                do {
                    if let cached = cache?.frames(for: clips[i].path, options: options) {
                        results.set(i, .success(cached))
                        _ = hits.increment()
                        progress?(results.done, clips.count)
                        continue
                    }
                    let frames = try VideoReader(path: clips[i].path, options: options).readAll()
                    if !frames.isEmpty { cache?.store(frames, for: clips[i].path, options: options) }
                    if frames.isEmpty {
                        results.set(i, .failure("\(clips[i].name): no frames"))
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
        return DecodedClips(frames: frames, failures: failures, fromCache: hits.current)
    }

    enum Outcome { case success([VideoFrame]), failure(String) }

}

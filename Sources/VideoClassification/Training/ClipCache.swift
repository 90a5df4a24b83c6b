import Foundation
import Synchronization
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
    /// - Parameter stop: polled between clips; when it returns true, the remaining clips are not
    ///   decoded (they are listed as failures).
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
        return DecodedClips(frames: frames, failures: failures, fromCache: hits.current)
    }

    enum Outcome { case success([VideoFrame]), failure(String) }

}

/// Decoded frames kept on disk between runs, one file per clip and decode setting, named by a
/// hash of the clip's path, size and modification time and of the sampling and frame format, so a
/// changed file or setting is decoded afresh. Unreadable or damaged entries are ignored (decoded
/// again); failures to write are not errors (the cache is an optimisation).
public struct FrameCacheDirectory: Sendable {
    public let path: String
    static let magic: [UInt8] = Array("VCFRAMES1".utf8)

    /// Creates the directory if needed.
    public init(path: String) throws {
        self.path = path
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw VideoClassificationError(.invalidDataset, path: path, message: "cannot create the cache directory: \(error.localizedDescription)")
        }
    }

    /// The entry's file for a clip decoded with `options`, or nil when the clip cannot be stat'ed.
    func entry(for clip: String, options: DecodeOptions) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: clip),
              let size = attributes[.size] as? Int, let modified = attributes[.modificationDate] as? Date else { return nil }
        let absolute = clip.hasPrefix("/") ? clip : FileManager.default.currentDirectoryPath + "/" + clip
        let key = "\(absolute)\n\(size)\n\(modified.timeIntervalSince1970)\n\(options.sampling)\n\(options.format)"
        return path + "/" + MD5.hex(of: Array(key.utf8)) + ".frames"
    }

    /// The cached frames, or nil when there is no valid entry.
    public func frames(for clip: String, options: DecodeOptions) -> [VideoFrame]? {
        guard let file = entry(for: clip, options: options), let data = FileManager.default.contents(atPath: file) else { return nil }
        return data.withUnsafeBytes { raw -> [VideoFrame]? in
            var reader = ByteReader(raw)
            guard reader.bytes(Self.magic.count).map(Array.init) == Self.magic, let count = reader.integer(), count > 0, count < 1 << 20 else { return nil }
            var frames: [VideoFrame] = []
            for _ in 0..<count {
                guard let index = reader.integer(), let timestamp = reader.integer(), let timeBits = reader.integer(),
                      let width = reader.integer(), let height = reader.integer(), let flags = reader.integer(),
                      width > 0, height > 0, width * height < 1 << 28, let pixels = reader.bytes(width * height * 3) else { return nil }
                frames.append(VideoFrame(index: index, time: Double(bitPattern: UInt64(bitPattern: Int64(timeBits))),
                                         timestamp: Int64(timestamp), width: width, height: height, pixels: Array(pixels),
                                         isCorrupt: flags & 1 != 0, isKeyframe: flags & 2 != 0))
            }
            return reader.atEnd ? frames : nil
        }
    }

    /// Writes an entry (atomically: a temporary file renamed into place).
    public func store(_ frames: [VideoFrame], for clip: String, options: DecodeOptions) {
        guard let file = entry(for: clip, options: options) else { return }
        var bytes = Self.magic
        func append(_ value: Int) { withUnsafeBytes(of: Int64(value).littleEndian) { bytes.append(contentsOf: $0) } }
        append(frames.count)
        for f in frames {
            append(f.index); append(Int(f.timestamp)); append(Int(Int64(bitPattern: f.time.bitPattern)))
            append(f.width); append(f.height); append((f.isCorrupt ? 1 : 0) | (f.isKeyframe ? 2 : 0))
            bytes.append(contentsOf: f.pixels)
        }
        try? AtomicFile.write(bytes, to: file, durable: false)  // a cache: losing an entry only costs a decode
    }
}

/// Reads little-endian integers and byte runs from a buffer, nil past the end.
struct ByteReader {
    let raw: UnsafeRawBufferPointer
    var offset = 0
    init(_ raw: UnsafeRawBufferPointer) { self.raw = raw }
    var atEnd: Bool { offset == raw.count }
    mutating func bytes(_ n: Int) -> UnsafeRawBufferPointer? {
        guard n >= 0, n <= raw.count - offset else { return nil }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + n)])
    }
    mutating func integer() -> Int? {
        guard let b = bytes(8) else { return nil }
        return Int(Int64(littleEndian: b.loadUnaligned(as: Int64.self)))
    }
}

/// Results that parallel workers fill in by index.
final class ParallelResults<Value: Sendable>: Sendable {
    private struct State {
        var values: [Value?]
        var finished = 0
    }
    private let state: Mutex<State>

    init(count: Int) { state = Mutex(State(values: Array(repeating: nil, count: count))) }

    /// The values so far.
    var values: [Value?] { state.withLock { $0.values } }
    /// How many values are set.
    var done: Int { state.withLock { $0.finished } }

    func set(_ index: Int, _ value: Value) {
        state.withLock {
            $0.values[index] = value
            $0.finished += 1
        }
    }
}

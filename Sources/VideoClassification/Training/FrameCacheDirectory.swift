import Foundation
import VideoIO

/// Decoded frames kept on disk between runs, one file per clip and decode setting, named by a
/// hash of the clip's path, size and modification time, of the sampling and frame format and of
/// `FrameFormat.conversionRevision` (VideoIO), so a changed file, setting or conversion is decoded
/// afresh. Unreadable or damaged entries are ignored (decoded again); failures to write are not
/// errors (the cache is an optimisation).
public struct FrameCacheDirectory: Sendable {
    /// The cache directory.
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
            + "\nconversion \(FrameFormat.conversionRevision)"
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

import Foundation

/// A synchronous frame reader over one video file.
///
/// ```swift
/// let reader = try VideoReader(path: "clip.mp4",
///                              options: DecodeOptions(sampling: .uniform(16), format: FrameFormat(size: FrameSize(112))))
/// while let frame = try reader.next() { ... }
/// ```
/// Opening the file happens in `init` (errors name the file and the cause). Not `Sendable`:
/// use one reader per task; several readers may decode different files at once.
public final class VideoReader {
    private let engine: FrameReader

    /// Opens `path` and prepares to return the frames `options` select.
    /// - Throws: ``VideoIOError`` when the file cannot be opened or has no decodable video.
    public init(path: String, options: DecodeOptions = DecodeOptions()) throws {
        engine = try FrameReader(path: path, options: options)
    }

    /// Reads a video held in memory (through a custom FFmpeg I/O context, no file); `name` names it
    /// in errors.
    public init(bytes: [UInt8], name: String = "<memory>", options: DecodeOptions = DecodeOptions()) throws {
        engine = try FrameReader(path: name, options: options, bytes: bytes)
    }

    /// The next selected frame in presentation order, or nil at the end.
    /// - Throws: ``VideoIOError`` for damaged data when the policy says so, or I/O failures.
    public func next() throws -> VideoFrame? { try engine.next() }

    /// Reads all remaining selected frames.
    public func readAll() throws -> [VideoFrame] {
        var frames: [VideoFrame] = []
        while let frame = try next() { frames.append(frame) }
        return frames
    }

    /// How many frames the decoder flagged as damaged so far.
    public var corruptFrameCount: Int { engine.corruptFrameCount }
    /// The container's duration in seconds, when it declares one.
    public var duration: Double? { engine.duration }

    /// What the reader has done so far.
    public var statistics: DecodeStatistics { engine.statistics }
    /// Whether sparse sampling uses the frame table (seeks and skips) rather than reading on.
    public var usesFrameTable: Bool { engine.isPlanned }
    /// How many packets the decoder rejected so far.
    public var rejectedPacketCount: Int { engine.rejectedPacketCount }
}

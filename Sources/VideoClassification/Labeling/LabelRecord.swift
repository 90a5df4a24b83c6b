import Foundation
import VideoIO

/// One line of `vidclass label`'s output: everything about one file, self-contained, so outputs
/// can be concatenated, merged and resumed.
public struct LabelRecord: Codable, Sendable, Equatable {
    /// `ok` (labelled), `error` (could not be read or classified) or `timeout` (gave up after
    /// ``BatchOptions/timeout``).
    public enum Status: String, Codable, Sendable { case ok, error, timeout }

    /// The file, as it was given.
    public var path: String
    /// Whether the file was labelled, failed, or timed out.
    public var status: Status
    /// The most probable label; nil unless `ok`.
    public var label: String?
    /// The top label's probability (0 to 1); nil unless `ok`.
    public var score: Double?
    /// The ``BatchOptions/top`` most probable labels with their probabilities, most probable first.
    public var top: [LabelScore]?
    /// Duration of the video in seconds, when known.
    public var duration: Double?
    /// The frames the model used (index, and time in seconds).
    public var frames: [UsedFrame]?
    /// With test-time averaging (`--clips N`), each clip's frame indices (``Prediction/clips``);
    /// nil for one clip. JSON only (CSV lists the frames).
    public var clips: [[Int]]?
    /// Per-window predictions, with ``BatchOptions/timeline``; nil otherwise.
    public var timeline: [TimelineWindow]?
    /// The model's name (``ModelCard/name``).
    public var model: String
    /// The model file's identity (``VideoModel/hash``); a resumed output must match it.
    public var modelHash: String
    /// The arithmetic of the network's convolutions when it was not single precision (`bf16`);
    /// nil for single precision. JSON only; a resumed JSON Lines output must match it.
    public var inferencePrecision: String?
    /// File size in bytes (−1 when it could not be read): with the path and ``mtime``, the
    /// identity `--resume` uses.
    public var size: Int
    /// The file's modification time, in seconds since 1970.
    public var mtime: Double
    /// For errors: the reason in one line.
    public var error: String?

    /// The key `--resume` skips by: the file's canonical path (links resolved, absolute), size and
    /// modification time, so another spelling of the same path or a link to it matches.
    public var key: FileKey { FileKey(path: FileKey.canonicalPath(path), size: size, mtime: mtime) }

    /// A record; every parameter sets the property of the same name.
    public init(path: String, status: Status, label: String? = nil, score: Double? = nil, top: [LabelScore]? = nil,
                duration: Double? = nil, frames: [UsedFrame]? = nil, clips: [[Int]]? = nil, timeline: [TimelineWindow]? = nil,
                model: String, modelHash: String, inferencePrecision: String? = nil, size: Int, mtime: Double, error: String? = nil) {
        self.path = path
        self.status = status
        self.label = label
        self.score = score
        self.top = top
        self.duration = duration
        self.frames = frames
        self.clips = clips
        self.timeline = timeline
        self.model = model
        self.modelHash = modelHash
        self.inferencePrecision = inferencePrecision
        self.size = size
        self.mtime = mtime
        self.error = error
    }

    /// The CSV columns.
    public static let csvHeader = "path,status,label,score,top,duration,frames,model,model_hash,size,mtime,error"

    /// One CSV line (RFC 4180 quoting).
    public var csvLine: String {
        let q = CSV.field
        let topText = (top ?? []).map { "\($0.label):\(String(format: "%.6f", $0.score))" }.joined(separator: ";")
        let frameText = (frames ?? []).map { "\($0.index)@\(String(format: "%.3f", $0.time))" }.joined(separator: ";")
        return [q(path), status.rawValue, q(label ?? ""), score.map { String(format: "%.6f", $0) } ?? "", q(topText),
                duration.map { String(format: "%.3f", $0) } ?? "", frameText, q(model), modelHash, "\(size)",
                String(format: "%.6f", mtime), q(error ?? "")].joined(separator: ",")
    }

    /// Parses a CSV line written by ``csvLine`` (everything but the timeline, which CSV does not carry).
    public static func parseCSV(_ line: String) -> LabelRecord? {
        CSV.records(line).first.flatMap(Self.init(csvFields:))
    }

    /// A record from the fields of one CSV record written by ``csvLine``.
    init?(csvFields fields: [String]) {
        guard fields.count == 12, let status = Status(rawValue: fields[1]), let size = Int(fields[9]), let mtime = Double(fields[10]) else {
            return nil
        }
        // `label:score;label:score` (a label may hold ':'; the score follows the last one).
        let top = fields[4].split(separator: ";").compactMap { item -> LabelScore? in
            guard let colon = item.lastIndex(of: ":"), let score = Double(item[item.index(after: colon)...]) else { return nil }
            return LabelScore(label: String(item[..<colon]), score: score)
        }
        // `index@time;index@time`.
        let frames = fields[6].split(separator: ";").compactMap { item -> UsedFrame? in
            let parts = item.split(separator: "@")
            guard parts.count == 2, let index = Int(parts[0]), let time = Double(parts[1]) else { return nil }
            return UsedFrame(index: index, time: time)
        }
        self.init(path: fields[0], status: status, label: fields[2].isEmpty ? nil : fields[2], score: Double(fields[3]),
                  top: top.isEmpty ? nil : top, duration: Double(fields[5]), frames: frames.isEmpty ? nil : frames,
                  model: fields[7], modelHash: fields[8], size: size, mtime: mtime,
                  error: fields[11].isEmpty ? nil : fields[11])
    }
}

/// A file's identity for resuming: path, size and modification time.
public struct FileKey: Hashable, Sendable {
    /// The file's canonical path (links resolved, absolute), for keys made with ``of(_:)``.
    public var path: String
    /// File size in bytes; −1 when it could not be read.
    public var size: Int
    /// Modification time in seconds since 1970, rounded to microseconds.
    public var mtime: Double

    /// A key; `mtime` is rounded to microseconds so keys read back from text compare equal.
    public init(path: String, size: Int, mtime: Double) {
        self.path = path
        self.size = size
        self.mtime = (mtime * 1e6).rounded() / 1e6
    }

    /// The key of a file on disk, under its canonical path (size −1 when it cannot be read).
    public static func of(_ path: String) -> FileKey {
        var status = stat()
        guard FileNameBytes.withFileSystemPath(path, { stat($0, &status) }) == 0 else {
            return FileKey(path: canonicalPath(path), size: -1, mtime: 0)
        }
        let mtime = Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) * 1e-9
        return FileKey(path: canonicalPath(path), size: Int(status.st_size), mtime: mtime)
    }

    /// `path` with links resolved and made absolute (`realpath(3)`); for a path that does not
    /// exist, the absolute path as written.
    public static func canonicalPath(_ path: String) -> String {
        if let resolved = FileNameBytes.withFileSystemPath(path, { realpath($0, nil) }) {
            defer { free(resolved) }
            return FileNameBytes.string(UnsafeRawBufferPointer(start: resolved, count: strlen(resolved)))
        }
        if path.hasPrefix("/") { return (path as NSString).standardizingPath }
        return ((FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path) as NSString).standardizingPath
    }
}

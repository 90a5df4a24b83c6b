import Foundation
import Tensors
import VideoIO

/// One labelled clip of a dataset.
public struct LabeledClip: Sendable, Codable, Hashable {
    /// The file (absolute, or relative to the working directory).
    public var path: String
    /// The clip's class name (its folder's name, or the CSV's `label` column).
    public var label: String
    /// `train`, `validation` or `test` when the dataset says so.
    public var split: String?
    /// Extra CSV columns by header name (for `--group-by COLUMN`).
    public var columns: [String: String] = [:]
    /// For a stretch of a longer video (an annotated interval): where it starts, in seconds.
    /// The clip's frames are then taken from `start` to ``end`` instead of the whole file.
    public var start: Double?
    /// Where the stretch ends, in seconds.
    public var end: Double?

    /// A clip; every parameter sets the property of the same name.
    public init(path: String, label: String, split: String? = nil, columns: [String: String] = [:],
                start: Double? = nil, end: Double? = nil) {
        self.path = path
        self.label = label
        self.split = split
        self.columns = columns
        self.start = start
        self.end = end
    }

    /// `options` for this clip: for a stretch of a video, frames spread over the stretch instead
    /// of the whole file (`FrameSampling.uniformInTime(count:start:end:)`; one clip, also when
    /// `options` asks for several).
    public func decodeOptions(_ options: DecodeOptions) -> DecodeOptions {
        guard let start, let end else { return options }
        var options = options
        switch options.sampling {
        case .uniform(let n), .uniformClips(let n, _): options.sampling = .uniformInTime(count: n, start: start, end: end)
        default: break
        }
        return options
    }

    /// The path, with the stretch when there is one (`video.mp4@12.00-14.00`): names the clip in messages.
    public var name: String {
        guard let start, let end else { return path }
        return path + String(format: "@%.2f-%.2f", start, end)
    }
}

/// A labelled set of clips: a folder per class (`DATASET/<label>/*.mp4`, any container FFmpeg
/// reads), a CSV of `path,label[,split]` (paths relative to the CSV's folder), or the output of
/// `vidclass label` (its `ok` records, labelled as the model said; see ``LabelCorrections``), or an
/// annotation CSV of intervals of long videos (``Annotations``). A CSV whose first
/// line is a header naming a `path` column may order its columns freely and carry others (a
/// `split` column is read as the split; any column can name groups for ``groups(by:)``).
public struct VideoDataset: Sendable {
    /// The dataset folder, or the folder of the CSV file (CSV paths are relative to it).
    public var root: String
    /// Every clip, sorted by path for a folder dataset, in file order for a CSV.
    public var clips: [LabeledClip]
    /// The class names, sorted.
    public var labels: [String]
    /// Files in class folders that were not read, their extensions not being video ones (paths).
    public var ignoredFiles: [String] = []
    /// For an annotation CSV: its intervals (the clips are cut from them); empty otherwise.
    public var intervals: [AnnotatedInterval] = []

    /// File extensions read from class folders (and by `label`): the containers and raw streams
    /// FFmpeg reads that hold video. Files with other extensions are counted in ``ignoredFiles``.
    public static let videoExtensions: Set<String> = [
        "mp4", "m4v", "mov", "qt", "mkv", "webm", "avi", "divx", "mpg", "mpeg", "m2v", "vob", "ts", "mts", "m2ts",
        "flv", "f4v", "wmv", "asf", "ogv", "ogg", "3gp", "3g2", "mxf", "dv", "nut", "y4m", "gif", "ivf", "obu",
        "h264", "264", "h265", "265", "hevc", "mjpeg", "mjpg", "rm", "rmvb",
    ]

    /// A dataset of `clips`; ``labels`` are the distinct labels of the clips, sorted.
    public init(root: String, clips: [LabeledClip]) {
        self.root = root
        self.clips = clips
        self.labels = Array(Set(clips.map(\.label))).sorted()
    }

    /// Reads a dataset folder or CSV.
    /// - Throws: ``VideoClassificationError`` (`invalidDataset`) for a missing path, no classes, a single
    ///   class, an empty class folder, or CSV rows whose files do not exist.
    public static func load(_ path: String, annotations: AnnotationOptions = AnnotationOptions()) throws -> VideoDataset {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw VideoClassificationError(.invalidDataset, path: path, message: "no such file or folder")
        }
        var dataset: VideoDataset
        if isDirectory.boolValue {
            dataset = try loadFolder(path)
        } else if LabelResults.isLabelOutput(path) {
            dataset = try loadLabelOutput(path)
        } else if isAnnotationFile(path) {
            let intervals = try Annotations.read(path)
            dataset = VideoDataset(root: (path as NSString).deletingLastPathComponent,
                                   clips: try Annotations.clips(intervals, options: annotations))
            dataset.intervals = intervals
        } else {
            dataset = try loadCSV(path)
        }
        try dataset.checkClasses(path)
        return dataset
    }

    /// Whether `path` is an annotation CSV (its header names `start` and `end` columns).
    static func isAnnotationFile(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = String(decoding: handle.readData(ofLength: 4096), as: UTF8.self)
        guard let line = head.split(separator: "\n", maxSplits: 1).first else { return false }
        return Annotations.isHeader(CSV.records(String(line)).first?.map { $0.trimmingCharacters(in: .whitespaces) } ?? [])
    }

    /// Throws unless the dataset has at least two classes.
    func checkClasses(_ path: String) throws {
        let dataset = self
        if dataset.labels.count < 2 {
            throw VideoClassificationError(.invalidDataset, path: path,
                                           message: "needs at least two classes, found \(dataset.labels.count) (\(dataset.labels.joined(separator: ", ")))")
        }
    }

    /// The `ok` records of a `vidclass label` output, each labelled with the model's label.
    static func loadLabelOutput(_ path: String) throws -> VideoDataset {
        let results = try LabelResults(contentsOf: path)
        var clips: [LabeledClip] = [], missing: [String] = []
        for record in results.records where record.status == .ok {
            guard let label = record.label else { continue }
            let file = results.resolvedPath(record)
            if FileNameBytes.withFileSystemPath(file, { access($0, F_OK) }) != 0 { missing.append(record.path) }
            clips.append(LabeledClip(path: file, label: label))
        }
        if !missing.isEmpty {
            throw VideoClassificationError(.invalidDataset, path: path,
                                           message: "\(missing.count) labelled file(s) do not exist: \(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? ", ..." : "")")
        }
        return VideoDataset(root: (path as NSString).deletingLastPathComponent, clips: clips)
    }

    static func loadFolder(_ root: String) throws -> VideoDataset {
        let manager = FileManager.default
        // Every sub-folder is a class (a labels.csv beside them, as `vidclass synth` writes, is
        // for readers that want a CSV; the folders say the same).
        let classFolders = try manager.contentsOfDirectory(atPath: root).filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".") && manager.fileExists(atPath: root + "/" + name, isDirectory: &isDirectory) && isDirectory.boolValue
        }.sorted()
        var clips: [LabeledClip] = []
        var empty: [String] = []
        var ignored: [String] = []
        for label in classFolders {
            let folder = root + "/" + label
            guard let enumerator = manager.enumerator(atPath: folder) else { continue }
            var found = 0
            for case let relative as String in enumerator {
                let ext = (relative as NSString).pathExtension.lowercased()
                guard !(relative as NSString).lastPathComponent.hasPrefix(".") else { continue }
                var isDirectory: ObjCBool = false
                guard videoExtensions.contains(ext) else {
                    if manager.fileExists(atPath: folder + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                        ignored.append(folder + "/" + relative)
                    }
                    continue
                }
                clips.append(LabeledClip(path: folder + "/" + relative, label: label, split: nil))
                found += 1
            }
            if found == 0 { empty.append(label) }
        }
        if !empty.isEmpty {
            throw VideoClassificationError(.invalidDataset, path: root,
                                           message: "class folder\(empty.count > 1 ? "s" : "") with no videos: \(empty.joined(separator: ", "))")
        }
        clips.sort { $0.path < $1.path }
        var dataset = VideoDataset(root: root, clips: clips)
        dataset.ignoredFiles = ignored.sorted()
        return dataset
    }

    static func loadCSV(_ path: String) throws -> VideoDataset {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw VideoClassificationError(.invalidDataset, path: path, message: "cannot read the CSV file")
        }
        var clips: [LabeledClip] = []
        var missing: [String] = []
        let table = CSVTable(text)
        for row in table.rows {
            guard let name = row.field("path", position: 0), let label = row.field("label", position: 1) else {
                throw VideoClassificationError(.invalidDataset, path: path, message: "record \(row.number) is not 'path,label[,split]'")
            }
            let file = CSVTable.path(name, inFileAt: path)
            if !FileManager.default.fileExists(atPath: file) { missing.append(name) }
            var columns: [String: String] = [:]
            if let header = table.header {
                for (i, key) in header.enumerated() where i < row.fields.count { columns[key] = row.fields[i] }
            }
            clips.append(LabeledClip(path: file, label: label, split: row.field("split", position: 2), columns: columns))
        }
        if !missing.isEmpty {
            throw VideoClassificationError(.invalidDataset, path: path,
                                           message: "\(missing.count) listed file(s) do not exist: \(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? ", ..." : "")")
        }
        return VideoDataset(root: (path as NSString).deletingLastPathComponent, clips: clips)
    }

    /// A hash of the clip list (paths relative to the root, labels, sizes): the dataset's identity.
    public var hash: String {
        let lines = clips.map { clip -> String in
            let size = (try? FileManager.default.attributesOfItem(atPath: clip.path)[.size] as? Int) ?? -1
            let relative = clip.path.hasPrefix(root + "/") ? String(clip.path.dropFirst(root.count + 1)) : clip.path
            let stretch = clip.start.map { String(format: "\t%.3f-%.3f", $0, clip.end ?? 0) } ?? ""
            return "\(relative)\t\(clip.label)\t\(size)" + stretch
        }.sorted()
        return String(MD5.hex(of: Array(lines.joined(separator: "\n").utf8)).prefix(16))
    }

    /// The group of each clip: the value of the CSV column named `pattern` when the dataset's CSV
    /// has one (e.g. `source_video_index`), otherwise the first match of the regular expression
    /// `pattern` in its path (its first capture group when it has one), or the path itself when
    /// nothing matches. Without a pattern, each clip is its own group, except the stretches of an
    /// annotation CSV: their row's `group`, or their video.
    public func groups(by pattern: String?) throws -> [String] {
        // Stretches of long videos: the annotation's group column, else the video.
        guard let pattern else { return clips.map { $0.start != nil ? $0.columns["group"] ?? $0.path : $0.path } }
        let column = pattern.lowercased()
        if !clips.isEmpty, clips.allSatisfy({ $0.columns[column] != nil }) {
            return clips.map { "\(column)=\($0.columns[column]!)" }
        }
        let regex: NSRegularExpression
        do { regex = try NSRegularExpression(pattern: pattern) } catch {
            throw VideoClassificationError(.invalidDataset, path: pattern, message: "not a valid regular expression")
        }
        return clips.map { clip in
            let range = NSRange(clip.path.startIndex..., in: clip.path)
            guard let match = regex.firstMatch(in: clip.path, range: range) else { return clip.path }
            let r = match.numberOfRanges > 1 && match.range(at: 1).location != NSNotFound ? match.range(at: 1) : match.range
            return Range(r, in: clip.path).map { String(clip.path[$0]) } ?? clip.path
        }
    }

    /// Splits clip indices into `k` folds, stratified by label and keeping each group in one fold.
    /// Groups are dealt to folds largest first, each to the fold with the fewest clips of its label.
    public func folds(_ k: Int, seed: UInt64, groupBy pattern: String? = nil) throws -> [[Int]] {
        precondition(k >= 2, "at least two folds")
        let groupOf = try groups(by: pattern)
        var members: [String: [Int]] = [:]
        for (i, g) in groupOf.enumerated() { members[g, default: []].append(i) }
        var rng = SplitMix64(seed: seed)
        var keys = members.keys.sorted()
        keys.shuffle(using: &rng)
        keys.sort { members[$0]!.count > members[$1]!.count }  // stable: equal sizes keep the shuffled order
        var folds = Array(repeating: [Int](), count: k)
        var perLabel = Array(repeating: [String: Int](), count: k)
        for key in keys {
            let items = members[key]!
            let label = clips[items[0]].label
            let target = (0..<k).min { a, b in
                let ca = perLabel[a][label, default: 0], cb = perLabel[b][label, default: 0]
                return ca != cb ? ca < cb : folds[a].count < folds[b].count
            }!
            folds[target].append(contentsOf: items)
            for i in items { perLabel[target][clips[i].label, default: 0] += 1 }
        }
        return folds.map { $0.sorted() }
    }

    /// The split names a CSV's `split` column (or a list given to ``assignSplits(validationList:testList:)``)
    /// may use: empty or `train` trains, `validation` chooses the epoch, `test` is only evaluated at the end.
    public enum Split: String, Sendable, CaseIterable {
        case train, validation, test

        init?(name: String) {
            switch name.lowercased() {
            case "", "train", "training": self = .train
            case "validation", "val", "valid", "dev": self = .validation
            case "test", "testing": self = .test
            default: return nil
            }
        }
    }

    /// Train, validation and test indices. Clips marked by a `split` column (or by
    /// ``assignSplits(validationList:testList:)``) keep their split; when none is marked
    /// `validation`, a stratified, group-aware `validationFraction` of the training clips is held
    /// out for it (none when the fraction is 0). Test clips are only ever marked.
    /// - Throws: ``VideoClassificationError`` (`invalidDataset`) for a split name that is none of
    ///   train, validation and test.
    public func split(validationFraction: Double, seed: UInt64, groupBy pattern: String? = nil) throws
        -> (train: [Int], validation: [Int], test: [Int]) {
        var parts: [Split: [Int]] = [:]
        for (i, clip) in clips.enumerated() {
            guard let split = Split(name: clip.split ?? "") else {
                throw VideoClassificationError(.invalidDataset, path: clip.path,
                                               message: "split '\(clip.split ?? "")' is not train, validation or test")
            }
            parts[split, default: []].append(i)
        }
        var train = parts[.train] ?? [], validation = parts[.validation] ?? []
        if validation.isEmpty && validationFraction > 0 && !train.isEmpty {
            let k = max(2, Int((1 / max(validationFraction, 0.01)).rounded()))
            let folds = try subset(train).folds(k, seed: seed, groupBy: pattern)
            validation = folds[0].map { train[$0] }
            train = folds.dropFirst().flatMap { $0 }.map { train[$0] }.sorted()
        }
        return (train, validation, parts[.test] ?? [])
    }

    /// The clips at `indices`, as a dataset of their own (same root; labels of those clips only).
    public func subset(_ indices: [Int]) -> VideoDataset {
        VideoDataset(root: root, clips: indices.map { clips[$0] })
    }

    /// The indices of the clips not marked `test`: what cross-validation may train and score on.
    public var nonTestIndices: [Int] {
        clips.indices.filter { Split(name: clips[$0].split ?? "") != .test }
    }

    /// Marks the clips listed in `validationList` and `testList` (files with one path per line,
    /// relative to the dataset's folder or absolute; a CSV's first column; `#` comments) as
    /// validation and test clips. Clips in neither list keep the split their CSV gave them, or train.
    /// - Throws: ``VideoClassificationError`` (`invalidDataset`) naming the list for a list that cannot
    ///   be read, a path that is not in the dataset, or a clip in both lists.
    public mutating func assignSplits(validationList: String?, testList: String?) throws {
        guard validationList != nil || testList != nil else { return }
        let index = Dictionary(clips.enumerated().map { (Self.absolute($1.path), $0) }, uniquingKeysWith: { a, _ in a })
        var assigned: [Int: Split] = [:]
        for (list, split) in [(validationList, Split.validation), (testList, .test)] {
            guard let list else { continue }
            guard let text = try? String(contentsOfFile: list, encoding: .utf8) else {
                throw VideoClassificationError(.invalidDataset, path: list, message: "cannot read the \(split.rawValue) list")
            }
            for (number, line) in text.components(separatedBy: "\n").enumerated() {
                let entry = String(line.split(separator: ",", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                if entry.isEmpty || entry.hasPrefix("#") || (number == 0 && entry.lowercased() == "path") { continue }
                let path = entry.hasPrefix("/") || root.isEmpty ? entry : root + "/" + entry
                guard let i = index[Self.absolute(path)] else {
                    throw VideoClassificationError(.invalidDataset, path: list, message: "line \(number + 1): '\(entry)' is not a clip of the dataset")
                }
                if let other = assigned[i], other != split {
                    throw VideoClassificationError(.invalidDataset, path: list, message: "line \(number + 1): '\(entry)' is in both the \(other.rawValue) and the test list")
                }
                assigned[i] = split
            }
        }
        for i in clips.indices { clips[i].split = assigned[i]?.rawValue ?? clips[i].split ?? Split.train.rawValue }
    }

    /// An absolute, standardized form of a path (relative paths are taken from the working directory).
    private static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
}

import Foundation
import VideoIO

/// A person's corrections to labels: `path,label` rows (the CSV rules of ``VideoDataset``: an
/// optional header, RFC 4180 quoting, paths relative to the file's folder), as the page of
/// `vidclass report` downloads them. The label ``exclude`` takes a clip out.
///
/// ```swift
/// var data = try VideoDataset.load("labels.jsonl")       // the model's labels
/// let corrections = try LabelCorrections(contentsOf: "corrections.csv")
/// let outcome = try corrections.apply(to: data)            // a person's labels on top
/// data = outcome.dataset
/// ```
public struct LabelCorrections: Sendable {
    /// The label that removes a clip from the dataset instead of relabelling it.
    public static let exclude = "exclude"

    /// The file the corrections came from.
    public var path: String
    /// The corrected label (or ``exclude``) by canonical path (``FileKey/canonicalPath(_:)``).
    public var labels: [String: String]

    /// Reads a corrections file.
    /// - Throws: ``VideoClassificationError`` (`invalidDataset`) when it cannot be read or a row
    ///   is not `path,label`; a path listed twice with different labels is an error too.
    public init(contentsOf path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw VideoClassificationError(.invalidDataset, path: path, message: "cannot read the corrections file")
        }
        var labels: [String: String] = [:]
        for row in CSVTable(text).rows where !row.isBlank {
            guard let name = row.field("path", position: 0), let label = row.field("label", position: 1) else {
                throw VideoClassificationError(.invalidDataset, path: path, message: "record \(row.number) is not 'path,label'")
            }
            // A path with leading or trailing spaces is quoted in the CSV: try it untrimmed first.
            let exact = CSVTable.path(row.field("path", position: 0, trimmed: false) ?? name, inFileAt: path)
            let file = FileKey.canonicalPath(FileManager.default.fileExists(atPath: exact) ? exact : CSVTable.path(name, inFileAt: path))
            if let earlier = labels[file], earlier != label {
                throw VideoClassificationError(.invalidDataset, path: path,
                                               message: "record \(row.number): \(name) is corrected twice, to \(earlier) and to \(label)")
            }
            labels[file] = label
        }
        self.path = path
        self.labels = labels
    }

    /// Corrections from a dictionary of paths to labels (``exclude`` to remove a clip).
    public init(labels: [String: String], path: String = "<corrections>") {
        self.path = path
        self.labels = Dictionary(labels.map { (FileKey.canonicalPath($0.key), $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// What ``apply(to:)`` did.
    public struct Outcome: Sendable {
        /// The dataset with the corrections applied.
        public var dataset: VideoDataset
        /// Clips whose label changed.
        public var relabelled: Int
        /// Clips taken out (``exclude``).
        public var excluded: Int
        /// Corrected paths that are not in the dataset (canonical paths), sorted.
        public var unmatched: [String]
        /// The corrections file.
        public var path: String

        /// One line for a person: what changed, and the corrections that matched nothing.
        public var summary: String {
            var text = "\(path): \(relabelled) clip(s) relabelled, \(excluded) excluded"
            if !unmatched.isEmpty {
                text += "; \(unmatched.count) correction(s) name files not in the dataset (e.g. \(unmatched[0]))"
            }
            return text
        }
    }

    /// The dataset with every listed clip relabelled or excluded; clips are matched by canonical
    /// path, so `a/../b.mp4` and a link to it are the same clip.
    /// - Throws: ``VideoClassificationError`` (`invalidDataset`) when fewer than two classes remain.
    public func apply(to dataset: VideoDataset) throws -> Outcome {
        var clips: [LabeledClip] = [], matched = Set<String>(), relabelled = 0, excluded = 0
        for var clip in dataset.clips {
            let key = FileKey.canonicalPath(clip.path)
            guard let label = labels[key] else { clips.append(clip); continue }
            matched.insert(key)
            if label == Self.exclude { excluded += 1; continue }
            if label != clip.label { relabelled += 1 }
            clip.label = label
            clips.append(clip)
        }
        var corrected = VideoDataset(root: dataset.root, clips: clips)
        corrected.ignoredFiles = dataset.ignoredFiles
        try corrected.checkClasses(path)
        return Outcome(dataset: corrected, relabelled: relabelled, excluded: excluded,
                       unmatched: labels.keys.filter { !matched.contains($0) }.sorted(), path: path)
    }
}

import Foundation
import VideoIO

/// Something found while looking for inputs that is not labelled: a special file that would
/// block, a folder that cannot be read, a second name of a file already found.
public struct InputProblem: Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem it is; the raw value reads in messages.
    public enum Kind: String, Sendable {
        /// A FIFO, socket or device: opening it could block for ever, so it is skipped.
        case specialFile = "special file"
        /// A folder (or a named path) that cannot be read.
        case unreadable
        /// A folder reached again through a link: walked once, so loops end.
        case repeatedFolder = "folder seen before"
        /// Another name (a link, another spelling) of a file already in the list: labelled once.
        case duplicate = "same file as"
    }

    /// The path the problem concerns.
    public var path: String
    /// What kind of problem it is.
    public var kind: Kind
    /// The cause, in a few words.
    public var reason: String

    /// Whether the problem means some input was not labelled (the exit status says so); loops and
    /// second names are not.
    public var isFailure: Bool { kind == .specialFile || kind == .unreadable }

    /// `path: reason`, in one line.
    public var description: String { "\(path): \(reason)" }
}

/// The videos under some paths, and what was passed over.
public struct DiscoveredInputs: Sendable {
    /// Files to label, sorted, each real file (device and inode) once.
    public var files: [String]
    /// What was passed over, and why.
    public var problems: [InputProblem]
    /// Device and inode of every file found (to refuse an output that is one of them).
    var identities: Set<FileIdentity>

    /// Whether `path` is one of the inputs (the same file, by device and inode).
    public func contains(_ path: String) -> Bool {
        FileIdentity(path: path).map { identities.contains($0) } ?? false
    }
}

/// A file's device and inode: its identity whatever name it is reached by.
struct FileIdentity: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64

    /// The identity of what `path` names (links followed), or nil when it cannot be read.
    init?(path: String) {
        var status = stat()
        guard FileNameBytes.withFileSystemPath(path, { stat($0, &status) }) == 0 else { return nil }
        self.init(status)
    }

    init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
    }
}

/// Finds the videos under some paths.
public enum InputDiscovery {
    /// Common video file extensions.
    public static let defaultExtensions: Set<String> = VideoDataset.videoExtensions

    /// Files under `roots` (directories recursively, files as given) whose extension is in
    /// `extensions`, sorted. Hidden files and folders are skipped unless `includeHidden`.
    ///
    /// The walk is safe on real filesystems: symbolic links are followed, but each real folder
    /// (device and inode) is walked once, so loops end; each real file is listed once, under the
    /// first of its names in sorted order; FIFOs, sockets and devices are never opened (they are
    /// reported and skipped); unreadable folders are reported. A path named explicitly is listed
    /// whatever its extension (a missing one too: labelling reports it).
    public static func discover(_ roots: [String], extensions: Set<String> = defaultExtensions,
                                includeHidden: Bool = false) -> DiscoveredInputs {
        var found: [(path: String, identity: FileIdentity?)] = []
        var problems: [InputProblem] = []
        var folders = Set<FileIdentity>()
        func isVideo(_ name: String) -> Bool { extensions.contains((name as NSString).pathExtension.lowercased()) }
        func visit(_ path: String, explicit: Bool) {
            var status = stat()
            guard FileNameBytes.withFileSystemPath(path, { stat($0, &status) }) == 0 else {
                // Missing, a dangling link, or not permitted: a named path or a video name gets a
                // record that says why; anything else found in a folder is no video of ours.
                if explicit || isVideo(path) { found.append((path, nil)) }
                return
            }
            if (status.st_mode & S_IFMT) == S_IFDIR {
                walk(path, status)
            } else if let special = SpecialFile.kind(mode: status.st_mode) {
                if explicit || isVideo(path) {
                    problems.append(InputProblem(path: path, kind: .specialFile, reason: "is \(special): skipped (reading it could block)"))
                }
            } else if explicit || isVideo(path) {
                found.append((path, FileIdentity(status)))
            }
        }
        func walk(_ folder: String, _ status: stat) {
            guard folders.insert(FileIdentity(status)).inserted else {
                problems.append(InputProblem(path: folder, kind: .repeatedFolder, reason: "a folder already walked (a link loop or a second link): not walked again"))
                return
            }
            // The names as the filesystem has them (FileNameBytes keeps bytes that are not UTF-8).
            guard let directory = FileNameBytes.withFileSystemPath(folder, { opendir($0) }) else {
                problems.append(InputProblem(path: folder, kind: .unreadable, reason: "cannot read the folder: \(String(cString: strerror(errno)))"))
                return
            }
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String in
                    let bytes = raw.prefix { $0 != 0 }
                    return FileNameBytes.string(bytes)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(directory)
            for name in names.sorted() where includeHidden || !name.hasPrefix(".") {
                visit(folder.hasSuffix("/") ? folder + name : folder + "/" + name, explicit: false)
            }
        }
        for root in roots { visit(root, explicit: true) }
        // Each real file once: the first of its names in sorted order.
        var files: [String] = [], seenPaths = Set<String>(), identities: [FileIdentity: String] = [:]
        for entry in found.sorted(by: { $0.path < $1.path }) where seenPaths.insert(entry.path).inserted {
            if let identity = entry.identity {
                if let first = identities[identity] {
                    problems.append(InputProblem(path: entry.path, kind: .duplicate, reason: "the same file as \(first): labelled once"))
                    continue
                }
                identities[identity] = entry.path
            }
            files.append(entry.path)
        }
        return DiscoveredInputs(files: files, problems: problems, identities: Set(identities.keys))
    }

    /// The files of ``discover(_:extensions:includeHidden:)``, its problems dropped.
    public static func files(_ roots: [String], extensions: Set<String> = defaultExtensions, includeHidden: Bool = false) throws -> [String] {
        discover(roots, extensions: extensions, includeHidden: includeHidden).files
    }
}

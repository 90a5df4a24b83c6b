#if canImport(Glibc)
import Glibc
#endif

/// FIFOs, sockets and devices: paths that must not be opened as video files (opening a FIFO waits
/// for a writer for ever).
package enum SpecialFile {
    /// What kind of special file `path` names (links followed), or nil for a regular file, a
    /// folder, a path that does not exist, or a URL.
    package static func kind(of path: String) -> String? {
        var status = stat()
        guard FileNameBytes.withFileSystemPath(path, { stat($0, &status) }) == 0 else { return nil }
        return kind(mode: status.st_mode)
    }

    /// What kind of special file a `stat` mode says, or nil for a regular file or a folder.
    package static func kind(mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        default: return nil
        }
    }
}

import Foundation

/// Where tests find the repository's fixtures, the shared real-world data and the built binary.
public enum TestPaths {
    /// The repository root (this file is `Sources/VidclassTestSupport/TestPaths.swift`).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Fixtures/` in the repository.
    public static let fixtures = repositoryRoot.appendingPathComponent("Fixtures")

    /// A file under `Fixtures/`.
    public static func fixture(_ name: String) -> String {
        fixtures.appendingPathComponent(name).path
    }

    /// `../shared/data` beside the repository (`VIDCLASS_SHARED_DATA` overrides it).
    public static let sharedData: URL = {
        if let override = ProcessInfo.processInfo.environment["VIDCLASS_SHARED_DATA"] {
            return URL(fileURLWithPath: override)
        }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
    }()

    /// Whether the shared data is present.
    public static var hasSharedData: Bool {
        FileManager.default.fileExists(atPath: sharedData.appendingPathComponent("decoder-samples/manifest.csv").path)
    }

    /// The `vidclass` binary the command-line tests run: `VIDCLASS_TEST_BINARY` when set (the
    /// test command points it at the release build, the binary that gets installed), otherwise
    /// the one of the current build configuration, next to the test bundle.
    public static var vidclassBinary: URL {
        if let override = ProcessInfo.processInfo.environment["VIDCLASS_TEST_BINARY"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        return builtProduct("vidclass")
    }

    /// An executable product of the current build configuration (`vidclass`, `vidclass-corpus`),
    /// next to the test bundle.
    public static func builtProduct(_ name: String) -> URL {
        var directory = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
            directory = directory.deletingLastPathComponent()
        }
        return repositoryRoot.appendingPathComponent(".build/debug/" + name)
    }

    /// A fresh temporary directory, inside this test process's own folder under the system's
    /// temporary directory (`vidclass-tests-PID`), which is deleted when the process exits, as
    /// are the folders of earlier test processes that are no longer running (one killed before it
    /// could clean up). `VIDCLASS_KEEP_TEST_FILES=1` keeps them, to look at after a failure.
    public static func temporaryDirectory(_ prefix: String = "vidclass-test") throws -> URL {
        let url = runFolder.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// This process's folder of temporary directories, made (and its deletion at exit arranged)
    /// on first use.
    public static let runFolder: URL = {
        let system = FileManager.default.temporaryDirectory
        let keep = ProcessInfo.processInfo.environment["VIDCLASS_KEEP_TEST_FILES"] == "1"
        if !keep {
            // Folders of test processes that ended without deleting theirs.
            let names = (try? FileManager.default.contentsOfDirectory(atPath: system.path)) ?? []
            for name in names where name.hasPrefix(runFolderPrefix) {
                guard let pid = Int32(name.dropFirst(runFolderPrefix.count)), pid != getpid(),
                      kill(pid, 0) != 0, errno == ESRCH else { continue }
                try? FileManager.default.removeItem(at: system.appendingPathComponent(name))
            }
        }
        let folder = system.appendingPathComponent(runFolderPrefix + String(getpid()))
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if !keep {
            runFolderPath = folder.path
            atexit {
                if let path = TestPaths.runFolderPath { try? FileManager.default.removeItem(atPath: path) }
            }
        }
        return folder
    }()

    private static let runFolderPrefix = "vidclass-tests-"
    nonisolated(unsafe) private static var runFolderPath: String?
}

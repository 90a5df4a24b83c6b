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
    /// temporary directory (`vidclass-tests-PID-RANDOM`), which is deleted when the process
    /// exits. `VIDCLASS_KEEP_TEST_FILES=1` keeps it (named `vidclass-kept-tests-…`), to look at
    /// after a failure.
    public static func temporaryDirectory(_ prefix: String = "vidclass-test") throws -> URL {
        let url = runFolder.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// This process's folder of temporary directories, made (and its deletion at exit arranged)
    /// on first use. Folders that test processes killed before they could clean up left behind
    /// are deleted then: this user's, an hour old, of a process that is gone.
    public static let runFolder: URL = {
        let manager = FileManager.default, system = manager.temporaryDirectory
        let keep = ProcessInfo.processInfo.environment["VIDCLASS_KEEP_TEST_FILES"] == "1"
        for name in (try? manager.contentsOfDirectory(atPath: system.path)) ?? [] where name.hasPrefix(runFolderPrefix) {
            let path = system.appendingPathComponent(name).path
            guard let pid = Int32(name.dropFirst(runFolderPrefix.count).prefix { $0.isNumber }), pid != getpid(),
                  kill(pid, 0) != 0, errno == ESRCH,
                  let attributes = try? manager.attributesOfItem(atPath: path),
                  (attributes[.ownerAccountID] as? NSNumber)?.uint32Value == getuid(),
                  let modified = attributes[.modificationDate] as? Date, modified.timeIntervalSinceNow < -3600
            else { continue }
            try? manager.removeItem(atPath: path)
        }
        // A name no other process can hold (a bare PID could be another machine's sharing this
        // folder), made afresh: an existing folder is never taken over.
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let folder = system.appendingPathComponent((keep ? "vidclass-kept-tests-" : runFolderPrefix) + "\(getpid())-\(random)")
        do {
            try manager.createDirectory(at: folder, withIntermediateDirectories: false)
        } catch {
            return system  // each test's directory then directly under the system's, as it was
        }
        if !keep {
            atexit { try? FileManager.default.removeItem(at: TestPaths.runFolder) }
        }
        return folder
    }()

    private static let runFolderPrefix = "vidclass-tests-"
}

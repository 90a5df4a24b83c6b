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

    /// A fresh temporary directory.
    public static func temporaryDirectory(_ prefix: String = "vidclass-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

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

    /// The `vidclass` binary of the current build configuration, next to the test bundle.
    public static var vidclassBinary: URL {
        let bundle = Bundle.main.bundleURL
        var directory = bundle
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("vidclass")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
            directory = directory.deletingLastPathComponent()
        }
        return repositoryRoot.appendingPathComponent(".build/debug/vidclass")
    }

    /// A fresh temporary directory.
    public static func temporaryDirectory(_ prefix: String = "vidclass-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

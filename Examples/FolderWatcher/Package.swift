// swift-tools-version:6.0
//
// An example of depending on vidclass the way users do: by URL and version. CI points the URL at
// a tagged local clone (scripts/test-examples.sh), since it cannot reach the internet.
import PackageDescription

let package = Package(
    name: "FolderWatcher",
    dependencies: [
        .package(url: "https://github.com/vidclass/vidclass", from: "0.1.0"),
    ],
    targets: [
        .executableTarget(
            name: "folder-watcher",
            dependencies: [.product(name: "VideoClassification", package: "vidclass")]
        ),
    ]
)

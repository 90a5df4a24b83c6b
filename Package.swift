// swift-tools-version:6.0
//
// vidclass: video clip classification on Linux, in Swift.
// Architecture and module boundaries: DESIGN.md (one direction of dependency, no cycles).
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "vidclass",
    products: [
        .executable(name: "vidclass", targets: ["vidclass"]),
        .library(name: "VideoIO", targets: ["VideoIO"]),
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "NeuralNetwork", targets: ["NeuralNetwork"]),
        .library(name: "VideoClassification", targets: ["VideoClassification"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: - C libraries (system packages, found with pkg-config)
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat libavcodec libavutil libswscale",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev"])]
        ),
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),

        // MARK: - Libraries
        .target(name: "VideoIO", dependencies: ["CFFmpeg"], swiftSettings: swiftSettings),
        .target(name: "Tensors", dependencies: ["COpenBLAS"], swiftSettings: swiftSettings),
        .target(name: "NeuralNetwork", dependencies: ["Tensors"], swiftSettings: swiftSettings),
        .target(name: "VideoClassification", dependencies: ["VideoIO", "NeuralNetwork", "Tensors"],
                resources: [.copy("Resources")], swiftSettings: swiftSettings),
        .target(
            name: "VidclassCommands",
            dependencies: [
                "VideoIO",
                "Tensors",
                "NeuralNetwork",
                "VideoClassification",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Executable (entry point only)
        .executableTarget(name: "vidclass", dependencies: ["VidclassCommands"], swiftSettings: swiftSettings),

        // MARK: - Tests
        .target(name: "VidclassTestSupport", path: "Sources/VidclassTestSupport"),
        .testTarget(name: "VideoIOTests", dependencies: ["VideoIO", "VidclassTestSupport"]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "VidclassTestSupport"]),
        .testTarget(name: "NeuralNetworkTests", dependencies: ["NeuralNetwork", "Tensors", "VidclassTestSupport"]),
        .testTarget(name: "VideoClassificationTests", dependencies: ["VideoClassification", "VideoIO", "VidclassTestSupport"]),
        .testTarget(name: "VidclassCommandsTests", dependencies: ["VidclassCommands", "VideoIO", "VidclassTestSupport"]),
    ]
)

// swift-tools-version:6.0
//
// vidclass: video clip classification on Linux, in Swift.
// Architecture and module boundaries: DESIGN.md (one direction of dependency, no cycles).
import PackageDescription

// No unsafe flags in any target: SwiftPM refuses packages with them as versioned dependencies.
// Speed comes from the code (unchecked arithmetic and pointer access in the hot loops, inlinable
// kernels); release builds use SwiftPM's `-O` (Swift) and `-O2` (C). Debug builds of the C
// kernels are slow at `-O0`: scripts/test.sh passes `-Xcc -O2` to keep the test suite quick.

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
        // `swift package generate-documentation` (scripts/build-docs.sh); a plugin, not linked.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // MARK: - C libraries (system packages, found with pkg-config)
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat libavcodec libavutil libswscale",
            providers: [.apt(["libavformat-dev", "libavdevice-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev"])]
        ),
        // OpenBLAS's GEMM, opened with dlopen on first use (see include/COpenBLAS.h); the
        // runtime library comes from Debian's libopenblas0 (scripts/install-deps.sh).
        .target(name: "COpenBLAS", linkerSettings: [.linkedLibrary("dl")]),
        // vidclass's own GEMM for weights packed once (AVX2/FMA, chosen at run time; see
        // include/CKernels.h).
        .target(name: "CKernels"),
        // The default model's bytes, linked into the binary (`.incbin` from `model/`).
        .target(name: "CDefaultModel", exclude: ["model"], cSettings: [.headerSearchPath("model")]),

        // Lock annotations for ThreadSanitizer (no-ops in normal builds; see the header).
        .target(name: "CThreadSanitizer"),

        // MARK: - Libraries
        // Synchronisation helpers on Synchronization (Mutex, Atomic) and the hand-over from threads
        // of our own to async code (BoundedChannel, onOwnThread) that every module shares.
        .target(name: "VidclassConcurrency", dependencies: ["CThreadSanitizer"]),
        .target(name: "VideoIO", dependencies: ["CFFmpeg", "CKernels", "VidclassConcurrency"]),
        .target(name: "Tensors", dependencies: ["COpenBLAS", "CKernels", "VidclassConcurrency"]),
        .target(name: "NeuralNetwork", dependencies: ["Tensors", "CKernels"]),
        .target(name: "VideoClassification", dependencies: ["VideoIO", "NeuralNetwork", "Tensors", "CDefaultModel"]),
        .target(
            name: "VidclassCommands",
            dependencies: [
                "VideoIO",
                "Tensors",
                "NeuralNetwork",
                "VideoClassification",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Executable (entry point only)
        // Release builds (scripts/quickstart.sh, README) use `--static-swift-stdlib`: resolving the
        // Swift runtime's and Foundation's symbols against FFmpeg's ~140 shared libraries at every
        // start costs ~25 ms otherwise.
        .executableTarget(name: "vidclass", dependencies: ["VidclassCommands", "VideoIO", "CProcessStart"]),
        // What the executable does first: stop the threads of the OpenBLAS that FFmpeg's dependencies load.
        .target(name: "CProcessStart"),

        // The corruption corpus writer for Tools/corruption_run.sh (hardening).
        .executableTarget(name: "vidclass-corpus", dependencies: ["VidclassTestSupport", "VideoIO"], path: "Tools/CorruptionCorpus"),

        // Fuzzing (Tools/fuzz.sh): the targets' bodies, and one libFuzzer executable for them.
        .target(name: "FuzzTargets", dependencies: ["NeuralNetwork", "VideoClassification", "VideoIO"], path: "Tools/Fuzz/FuzzTargets"),
        .executableTarget(name: "vidclass-fuzz", dependencies: ["FuzzTargets"], path: "Tools/Fuzz/vidclass-fuzz"),

        // MARK: - Tests
        .target(name: "VidclassTestSupport", path: "Sources/VidclassTestSupport"),
        .testTarget(name: "VideoIOTests", dependencies: ["VideoIO", "VidclassTestSupport"]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "VidclassTestSupport"]),
        // (The model-level tests here build LRCN models, which live in VideoClassification.)
        .testTarget(name: "NeuralNetworkTests", dependencies: ["NeuralNetwork", "Tensors", "VideoClassification", "VidclassTestSupport"]),
        .testTarget(name: "VideoClassificationTests", dependencies: ["VideoClassification", "VideoIO", "Tensors", "NeuralNetwork", "VidclassTestSupport"]),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzTargets", "VidclassTestSupport"]),
        .testTarget(name: "VidclassCommandsTests", dependencies: ["VidclassCommands", "VideoIO", "VidclassTestSupport", "CProcessStart"]),
    ]
)

import ArgumentParser
import Foundation
import VideoIO

extension VidclassCommand {
    /// `vidclass probe FILE...`: metadata as a table or JSON.
    struct Probe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a video's metadata: container, codec, size, rotation, frame rate, frame count, duration.")

        @Argument(help: "Video files.")
        var files: [String]

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        @Flag(help: "Count frames by decoding them all (exact for any file; slower).")
        var countFrames = false

        func run() async throws {
            var results: [VideoMetadata] = []
            var failures = 0
            for file in files {
                do {
                    results.append(try VideoFile.probe(path: file, countFrames: countFrames))
                } catch {
                    failures += 1
                    printError("vidclass: \(error)")
                }
            }
            switch format {
            case .json:
                print(try jsonString(results))
            case .text:
                for (n, m) in results.enumerated() {
                    if n > 0 { print("") }
                    print(Self.table(m))
                }
            }
            if failures > 0 { throw ExitStatus.someFailed }
        }

        static func table(_ m: VideoMetadata) -> String {
            func rate(_ r: Double?) -> String { r.map { String(format: "%.3f fps", $0) } ?? "unknown" }
            var rows: [(String, String)] = [
                ("file", m.path),
                ("container", m.container),
                ("codec", m.codec + (m.profile.map { " (\($0))" } ?? "")),
                ("pixel format", m.pixelFormat),
                ("size", "\(m.width)x\(m.height)" + (m.rotation != 0 ? " (coded \(m.codedWidth)x\(m.codedHeight), rotated \(Int(m.rotation))°)" : "")),
                ("frame rate", rate(m.averageFrameRate) + " average, " + rate(m.realFrameRate) + " base"
                    + (m.isVariableFrameRate ? ", variable" : "")),
                ("frames", m.frameCount.map { "\($0) (\(m.frameCountSource?.rawValue ?? "?"))" } ?? "unknown"),
                ("duration", m.duration.map { String(format: "%.3f s", $0) } ?? "unknown"),
                ("audio", m.hasAudio ? "yes" : "no"),
            ]
            if let sar = m.sampleAspectRatio { rows.append(("pixel aspect", sar)) }
            if let bitRate = m.bitRate { rows.append(("bit rate", "\(bitRate / 1000) kb/s")) }
            let width = rows.map(\.0.count).max() ?? 0
            return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }
                .joined(separator: "\n")
        }
    }
}

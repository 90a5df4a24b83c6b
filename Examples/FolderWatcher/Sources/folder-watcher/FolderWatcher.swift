import Foundation
import VideoClassification

/// Watches a folder and labels every video that appears in it, one JSON line per file on standard
/// output, with vidclass's embedded default model (or `--model M`).
///
///     folder-watcher INCOMING [--model M] [--once] [--interval SECONDS]
///
/// A file is classified once its size has stopped changing between two looks (it is no longer
/// being written). `--once` labels what is there and exits. Ctrl-C or SIGTERM ends the watch.
@main
struct FolderWatcher {
    struct Line: Encodable {
        var path: String
        var label: String?
        var score: Double?
        var error: String?
    }

    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        func option(_ name: String) -> String? {
            guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
            defer { arguments.removeSubrange(i...(i + 1)) }
            return arguments[i + 1]
        }
        let modelPath = option("--model")
        let interval = option("--interval").flatMap(Double.init) ?? 1
        let once = arguments.contains("--once")
        arguments.removeAll { $0 == "--once" }
        guard arguments.count == 1, interval > 0, interval.isFinite else {
            FileHandle.standardError.write(Data("usage: folder-watcher FOLDER [--model M] [--once] [--interval SECONDS]\n".utf8))
            exit(2)
        }
        let folder = arguments[0]
        let classifier: VideoClassifier
        do {
            classifier = try VideoClassifier(modelPath: modelPath)
        } catch {
            FileHandle.standardError.write(Data("folder-watcher: \(error)\n".utf8))
            exit(2)
        }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var done: Set<String> = []
        var lastSizes: [String: Int] = [:]
        while true {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            var ready: [String] = []
            for name in names.sorted() where !name.hasPrefix(".") {
                let path = folder + "/" + name
                guard !done.contains(path), VideoDataset.videoExtensions.contains((name as NSString).pathExtension.lowercased()),
                      let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int else { continue }
                if once || lastSizes[path] == size { ready.append(path) }
                lastSizes[path] = size
            }
            // The files found together are classified at once; the library's async API keeps
            // the decoding and the network off Swift's concurrency threads.
            let lines = await withTaskGroup(of: Line.self) { group in
                for path in ready {
                    group.addTask {
                        do {
                            let prediction = try await classifier.classify(path: path)
                            return Line(path: path, label: prediction.top.label, score: prediction.top.score)
                        } catch {
                            return Line(path: path, error: "\(error)")
                        }
                    }
                }
                var lines: [Line] = []
                for await line in group { lines.append(line) }
                return lines
            }
            for line in lines.sorted(by: { $0.path < $1.path }) {
                done.insert(line.path)
                if let data = try? encoder.encode(line) {
                    FileHandle.standardOutput.write(data + Data("\n".utf8))
                }
            }
            if once { return }
            try? await Task.sleep(for: .seconds(interval))
        }
    }
}

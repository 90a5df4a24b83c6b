import Foundation
import Testing
import VidclassConcurrency
import VideoClassification
import VidclassTestSupport

/// `vidclass report` as a library call: what the folder holds, thumbnails of exactly the recorded
/// frames, refusals, and the corrections that flow back into a dataset.
struct ReportTests {
    static func video(_ name: String) -> String { TestPaths.fixture("videos/" + name) }

    static func record(_ path: String, status: LabelRecord.Status = .ok, label: String? = "a", frames: [Int]? = [0, 3, 6],
                       error: String? = nil) -> LabelRecord {
        LabelRecord(path: path, status: status, label: status == .ok ? label : nil, score: status == .ok ? 0.75 : nil,
                    top: status == .ok ? [LabelScore(label: label ?? "a", score: 0.75), LabelScore(label: "b", score: 0.25)] : nil,
                    frames: frames.map { $0.map { UsedFrame(index: $0, time: Double($0) / 30) } },
                    model: "m", modelHash: "h", size: 1, mtime: 0, error: error)
    }

    static func writeLines(_ records: [LabelRecord], to path: String) throws {
        let encoder = JSONEncoder()
        let lines = try records.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// The page's data, read back from `data.js`.
    static func pageData(_ directory: String) throws -> [String: Any] {
        let text = try String(contentsOfFile: directory + "/data.js", encoding: .utf8)
        #expect(text.hasPrefix("window.VIDCLASS_REPORT = "))
        let json = text.dropFirst("window.VIDCLASS_REPORT = ".count).dropLast(2)
        return try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
    }

    @Test func labelsEvaluationAndTimelineMakeOneSelfContainedSite() throws {
        let root = try TestPaths.temporaryDirectory("report").path
        let gop = Self.video("h264_bframes_gop30.mp4"), odd = Self.video("vp9_odd_161x121.webm")
        try Self.writeLines([Self.record(gop), Self.record(odd, label: "b", frames: [0, 1]),
                             Self.record(root + "/gone.mp4", status: .error, frames: nil, error: "cannot open: No such file")],
                            to: root + "/labels.jsonl")
        let frames = [[UsedFrame(index: 0, time: 0), UsedFrame(index: 2, time: 0.07)], [UsedFrame(index: 1, time: 0.04)]]
        let evaluation = ClassificationReport(labels: ["a", "b"], truths: [0, 1], probabilities: [[0.9, 0.1], [0.8, 0.2]],
                                              paths: [gop, Self.video("h264_rotate90.mp4")], frames: frames)
        try JSONEncoder().encode(evaluation).write(to: URL(fileURLWithPath: root + "/eval.json"))
        let timeline = [TimelineResult(path: gop, model: "m", modelHash: "h", window: 1, stride: 0.5, windows: [
            TimelineWindow(start: 0, end: 1, scores: [LabelScore(label: "a", score: 0.9), LabelScore(label: "b", score: 0.1)]),
            TimelineWindow(start: 0.5, end: 1.5, scores: [LabelScore(label: "b", score: 0.6), LabelScore(label: "a", score: 0.4)]),
        ])]
        try JSONEncoder().encode(timeline).write(to: URL(fileURLWithPath: root + "/timeline.json"))

        let out = root + "/report"
        let summary = try Report.build(inputs: [root + "/labels.jsonl", root + "/eval.json", root + "/timeline.json"], to: out)
        #expect(summary.labelledFiles == 3 && summary.evaluations == 1 && summary.timelines == 1)
        #expect(summary.thumbnails == 4, "one strip per distinct file and frame list")
        #expect(summary.thumbnailFailures.isEmpty)

        // Everything the page loads is in the folder: no server, no network.
        let html = try String(contentsOfFile: out + "/index.html", encoding: .utf8)
        for asset in ["data.js", "report.js", "report.css"] {
            #expect(html.contains("\"\(asset)\""))
            #expect(FileManager.default.fileExists(atPath: out + "/" + asset))
        }
        let script = try String(contentsOfFile: out + "/report.js", encoding: .utf8)
        for text in [html, script, try String(contentsOfFile: out + "/report.css", encoding: .utf8)] {
            #expect(!text.contains("src=\"http") && !text.contains("href=\"http") && !text.contains("fetch(") && !text.contains("@import"))
        }

        let data = try Self.pageData(out)
        let items = data["items"] as! [[String: Any]]
        #expect(items.map { $0["status"] as! String } == ["ok", "ok", "error"])
        #expect(items[2]["thumb"] == nil && (items[2]["error"] as? String)?.contains("No such file") == true)
        #expect(Set(data["classes"] as! [String]) == ["a", "b"])
        // The strip holds exactly the recorded frames, side by side at the video's aspect.
        let thumb = out + "/" + (items[0]["thumb"] as! String)
        let picture = try VideoReader(path: thumb).readAll()
        let info = try VideoFile.probe(path: gop)
        let tile = Int((64 * Double(info.width) / Double(info.height) / 2).rounded()) * 2
        #expect(picture.count == 1 && picture[0].width == 3 * tile + 4 * 4)
        let evaluations = data["evaluations"] as! [[String: Any]]
        let clips = evaluations[0]["clips"] as! [[String: Any]]
        #expect(clips.count == 2 && clips[1]["predicted"] as? String == "a" && clips[1]["thumb"] != nil)
        let svg = try String(contentsOfFile: out + "/" + (evaluations[0]["picture"] as! String), encoding: .utf8)
        #expect(svg.contains("[0] a") && svg.contains("[1] b"), "the confusion matrix names its classes")
        let timelines = data["timelines"] as! [[String: Any]]
        #expect((timelines[0]["windows"] as! [[Any]]).map { $0[2] as! String } == ["a", "b"])
    }

    @Test func anExistingReportIsReplacedOnlyWhenAsked() throws {
        let root = try TestPaths.temporaryDirectory("report-again").path
        try Self.writeLines([Self.record(Self.video("mjpeg.avi"), frames: [0])], to: root + "/labels.jsonl")
        var options = ReportOptions()
        options.thumbnails = false
        let out = root + "/report"
        _ = try Report.build(inputs: [root + "/labels.jsonl"], to: out, options: options)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: out + "/notes.txt"))
        #expect(throws: VideoClassificationError.self) { try Report.build(inputs: [root + "/labels.jsonl"], to: out, options: options) }
        #expect(FileManager.default.fileExists(atPath: out + "/notes.txt"), "a refused build touches nothing")
        options.overwrite = true
        _ = try Report.build(inputs: [root + "/labels.jsonl"], to: out, options: options)
        #expect(!FileManager.default.fileExists(atPath: out + "/notes.txt"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).sorted() == ["labels.jsonl", "report"], "no staging folder left")
        // --overwrite replaces a report, not any other folder.
        try FileManager.default.createDirectory(atPath: root + "/photos", withIntermediateDirectories: true)
        try Data("precious".utf8).write(to: URL(fileURLWithPath: root + "/photos/a.jpg"))
        #expect { try Report.build(inputs: [root + "/labels.jsonl"], to: root + "/photos/", options: options) } throws: {
            "\($0)".contains("is not a report folder")
        }
        #expect(FileManager.default.fileExists(atPath: root + "/photos/a.jpg"))
    }

    /// A file that changed since it was labelled shows no frames (they would be another video's)
    /// and says why; it counts as a thumbnail failure.
    @Test func aFileChangedSinceLabellingSaysSo() throws {
        let root = try TestPaths.temporaryDirectory("report-changed").path
        let clip = root + "/clip.mp4"
        try FileManager.default.copyItem(atPath: Self.video("h264_bframes_gop30.mp4"), toPath: clip)
        let key = FileKey.of(clip)
        var record = Self.record(clip, frames: [0, 1])
        record.size = key.size
        record.mtime = key.mtime
        try Self.writeLines([record], to: root + "/labels.jsonl")
        #expect(try Report.build(inputs: [root + "/labels.jsonl"], to: root + "/before").thumbnailFailures.isEmpty)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: clip))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(repeating: 0, count: 100))
        try handle.close()
        let summary = try Report.build(inputs: [root + "/labels.jsonl"], to: root + "/after")
        #expect(summary.thumbnailFailures.count == 1 && summary.thumbnailFailures[0].reason.contains("changed since it was labelled"))
        let items = try Self.pageData(root + "/after")["items"] as! [[String: Any]]
        #expect(items[0]["thumb"] == nil && (items[0]["thumbError"] as? String)?.contains("changed") == true)
    }

    @Test func framesThatAreGoneAreReportedPerRowAndAStopLeavesNothing() throws {
        let root = try TestPaths.temporaryDirectory("report-missing").path
        try Self.writeLines([Self.record(Self.video("mjpeg.avi"), frames: [0, 99_999]), Self.record(Self.video("h264_vfr.mkv"), frames: [1])],
                            to: root + "/labels.jsonl")
        let summary = try Report.build(inputs: [root + "/labels.jsonl"], to: root + "/report")
        #expect(summary.thumbnailFailures.count == 1 && summary.thumbnailFailures[0].path.hasSuffix("mjpeg.avi"))
        let items = try Self.pageData(root + "/report")["items"] as! [[String: Any]]
        #expect(items[0]["thumb"] == nil && items[0]["thumbError"] != nil && items[1]["thumb"] != nil)

        let stop = StopFlag()
        stop.set()
        #expect(throws: VideoClassificationError.self) { try Report.build(inputs: [root + "/labels.jsonl"], to: root + "/stopped", stop: stop) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).sorted() == ["labels.jsonl", "report"])
    }

    @Test func somethingElseIsNamedAsNotAResult() throws {
        let root = try TestPaths.temporaryDirectory("report-bad").path
        try "hello\nworld\n".write(toFile: root + "/notes.txt", atomically: true, encoding: .utf8)
        do {
            _ = try Report.build(inputs: [root + "/notes.txt"], to: root + "/report")
            Issue.record("a text file made a report")
        } catch let error as VideoClassificationError {
            #expect("\(error)".contains(root + "/notes.txt") && "\(error)".contains("not a vidclass result"))
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/report"))
    }

    /// `label` output read as a dataset (JSONL and CSV), with a person's corrections on top:
    /// relabelled clips, an excluded one, one named through a link, one that matches nothing.
    @Test func labelOutputWithCorrectionsIsATrainingSet() throws {
        let root = try TestPaths.temporaryDirectory("corrections").path
        let classes = ["move_left", "move_right"]
        var records: [LabelRecord] = []
        for label in classes {
            let folder = TestPaths.fixture("synthetic/" + label)
            let clip = folder + "/" + (try FileManager.default.contentsOfDirectory(atPath: folder).first!)
            for n in 0..<3 {  // three copies of one clip per class
                try FileManager.default.copyItem(atPath: clip, toPath: "\(root)/\(label)_\(n).webm")
                records.append(Self.record("\(root)/\(label)_\(n).webm", label: label, frames: [0, 1]))
            }
        }
        records.append(Self.record(root + "/broken.mp4", status: .error, frames: nil, error: "not a video"))
        try Self.writeLines(records, to: root + "/labels.jsonl")
        try (LabelRecord.csvHeader + "\n" + records.map(\.csvLine).joined(separator: "\n") + "\n")
            .write(toFile: root + "/labels.csv", atomically: true, encoding: .utf8)
        let fromJSONL = try VideoDataset.load(root + "/labels.jsonl")
        let fromCSV = try VideoDataset.load(root + "/labels.csv")
        #expect(fromJSONL.clips.count == 6 && fromJSONL.labels == classes, "errors are not clips")
        #expect(fromCSV.clips.map(\.path) == fromJSONL.clips.map(\.path) && fromCSV.clips.map(\.label) == fromJSONL.clips.map(\.label))
        let back = try LabelResults(contentsOf: root + "/labels.csv").records
        #expect(back.map(\.top) == records.map(\.top), "CSV keeps the top labels")
        #expect(back.map { $0.frames?.map(\.index) } == records.map { $0.frames?.map(\.index) }, "and the frames")

        try FileManager.default.createSymbolicLink(atPath: root + "/link.mp4", withDestinationPath: records[1].path)
        let csv = """
            path,label
            \(records[0].path),move_right
            \(root)/link.mp4,move_right
            "\(records[3].path)",exclude
            \(root)/not-in-the-data.mp4,move_left
            """
        try csv.write(toFile: root + "/corrections.csv", atomically: true, encoding: .utf8)
        let outcome = try LabelCorrections(contentsOf: root + "/corrections.csv").apply(to: fromJSONL)
        #expect(outcome.relabelled == 2 && outcome.excluded == 1 && outcome.unmatched == [root + "/not-in-the-data.mp4"])
        let labels = Dictionary(uniqueKeysWithValues: outcome.dataset.clips.map { ($0.path, $0.label) })
        #expect(outcome.dataset.clips.count == 5 && labels[records[0].path] == "move_right" && labels[records[1].path] == "move_right")
        #expect(labels[records[3].path] == nil && labels[records[4].path] == "move_right")
        #expect(outcome.summary.contains("2 clip(s) relabelled, 1 excluded") && outcome.summary.contains("not-in-the-data.mp4"))

        try "path,label\n\(records[0].path),move_right\n\(records[0].path),move_left\n".write(toFile: root + "/twice.csv", atomically: true, encoding: .utf8)
        #expect(throws: VideoClassificationError.self) { try LabelCorrections(contentsOf: root + "/twice.csv") }
        let all = Dictionary(uniqueKeysWithValues: records.prefix(6).map { ($0.path, "move_left") })
        #expect(throws: VideoClassificationError.self, "one class left is not a training set") {
            try LabelCorrections(labels: all).apply(to: fromJSONL)
        }
    }

    @Test func jpegThumbnailsDecodeToTheirPicture() throws {
        let width = 32, height = 16
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height { for x in 0..<width { pixels[(y * width + x) * 3 + (x < width / 2 ? 0 : 2)] = 220 } }
        let jpeg = try ImageWriter.jpegData(pixels: pixels, width: width, height: height)
        #expect(jpeg.prefix(2) == [0xFF, 0xD8] && jpeg.count < pixels.count)
        let frame = try VideoReader(bytes: jpeg, name: "x.jpg").readAll()[0]
        #expect(frame.width == width && frame.height == height)
        let left = Int(frame.pixels[(8 * width + 4) * 3]), right = Int(frame.pixels[(8 * width + 28) * 3 + 2])
        #expect(left > 180 && right > 180 && Int(frame.pixels[(8 * width + 4) * 3 + 2]) < 60)
    }
}

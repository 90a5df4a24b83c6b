import Foundation
import Testing
import VideoClassification
import VidclassTestSupport

/// Long videos with annotated intervals: reading annotation CSVs, cutting intervals into clips,
/// training from them, and scoring timelines against them.
struct AnnotationTests {
    static let classes = ["move_right", "grow", "rotate_clockwise", "move_left", "shrink", "move_up"]
    static let rate = 15

    /// One long video: a synthetic clip of each class in turn, with `gap` seconds of a still,
    /// textured picture before each, all at 160×120 and 15 frames/s; and its annotation CSV
    /// (times as `HH:MM:SS.mmm` every other row). Returns the CSV's path and the intervals.
    static func makeLongVideo(in root: String, gap: Double = 2, name: String = "long") throws -> (csv: String, intervals: [AnnotatedInterval]) {
        let path = root + "/\(name).mp4"
        let writer = try VideoWriter(path: path, width: 160, height: 120, frameRate: rate, quality: 20)
        var still = [UInt8](repeating: 0, count: 160 * 120 * 3)
        for i in still.indices { still[i] = UInt8(90 + (i * 7919 % 37)) }
        var frame = 0, rows = ["path,start,end,label"]
        var intervals: [AnnotatedInterval] = []
        for (n, label) in classes.enumerated() {
            for _ in 0..<Int(gap * Double(rate)) { try writer.write(rgb: still); frame += 1 }
            let folder = TestPaths.fixture("synthetic/" + label)
            let clip = folder + "/" + (try FileManager.default.contentsOfDirectory(atPath: folder).first!)
            let frames = try VideoReader(path: clip, options: DecodeOptions(format: FrameFormat(size: FrameSize(width: 160, height: 120), resize: .letterbox))).readAll()
            let start = Double(frame) / Double(rate)
            for f in frames { try writer.write(f); frame += 1 }
            let end = Double(frame) / Double(rate)
            intervals.append(AnnotatedInterval(path: path, start: start, end: end, label: label))
            func clock(_ t: Double) -> String {
                let ms = Int((t * 1000).rounded())
                return String(format: "%02d:%02d:%02d.%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
            }
            rows.append("\(name).mp4," + (n % 2 == 0 ? String(format: "%.3f,%.3f", start, end) : "\(clock(start)),\(clock(end))") + ",\(label)")
        }
        for _ in 0..<Int(gap * Double(rate)) { try writer.write(rgb: still); frame += 1 }
        try writer.finish()
        let csv = root + "/\(name).csv"
        try (rows.joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        return (csv, intervals)
    }

    @Test func timesAndRowsAreReadOrRefusedByName() throws {
        #expect(Annotations.seconds("12.5") == 12.5 && Annotations.seconds("00:01:15.250") == 75.25)
        #expect(Annotations.seconds("1:02:03.5") == 3723.5 && Annotations.seconds("1:15") == 75)
        for bad in ["", "x", "-1", "1:75", "1::2", "1:2:3:4", "nan"] { #expect(Annotations.seconds(bad) == nil, "\(bad)") }
        let root = try TestPaths.temporaryDirectory("annotations").path
        let video = TestPaths.fixture("videos/h264_bframes_gop30.mp4")
        try "path,start,end,label\n\(video),2,1,a\n".write(toFile: root + "/backwards.csv", atomically: true, encoding: .utf8)
        #expect { try Annotations.read(root + "/backwards.csv") } throws: { "\($0)".contains("record 2") && "\($0)".contains("must end after it starts") }
        try "path,start,end,label\n\(video),0:99,3,a\n".write(toFile: root + "/clock.csv", atomically: true, encoding: .utf8)
        #expect { try Annotations.read(root + "/clock.csv") } throws: { "\($0)".contains("0:99") }
        try "path,start,end,label\nnothere.mp4,0,1,a\n".write(toFile: root + "/missing.csv", atomically: true, encoding: .utf8)
        #expect { try Annotations.read(root + "/missing.csv") } throws: { "\($0)".contains("nothere.mp4") }
    }

    /// Intervals become clips of the clip length (evenly tiled; a short one whole); the
    /// background is the unannotated time; every clip of a video is in one group.
    @Test func intervalsBecomeClipsGroupedByVideo() throws {
        let root = try TestPaths.temporaryDirectory("annotations-clips").path
        let (csv, intervals) = try Self.makeLongVideo(in: root)
        let dataset = try VideoDataset.load(csv, annotations: AnnotationOptions(clipLength: 1, background: "none"))
        // The CSV keeps milliseconds.
        #expect(dataset.intervals.map(\.label) == intervals.map(\.label))
        #expect(zip(dataset.intervals, intervals).allSatisfy { abs($0.start - $1.start) < 1e-3 && abs($0.end - $1.end) < 1e-3 })
        #expect(dataset.labels == (Self.classes + ["none"]).sorted())
        for interval in dataset.intervals {
            let clips = dataset.clips.filter { $0.label == interval.label }
            #expect(clips.count == max(1, Int((interval.end - interval.start - 1e-6).rounded(.up))), "\(interval.label)")
            #expect(abs(clips.first!.start! - interval.start) < 1e-9 && abs(clips.last!.end! - interval.end) < 1e-9, "the whole interval is covered")
            #expect(clips.allSatisfy { $0.start! >= interval.start - 1e-9 && $0.end! <= interval.end + 1e-9 && abs($0.end! - $0.start! - 1) < 1e-9 })
        }
        let background = dataset.clips.filter { $0.label == "none" }
        #expect(background.count == 7 * 2, "seven 2-second gaps, two 1-second clips each")
        #expect(background.allSatisfy { clip in !dataset.intervals.contains { $0.start < clip.end! - 1e-9 && clip.start! < $0.end - 1e-9 } })
        #expect(Set(try dataset.groups(by: nil)).count == 1, "one video, one group")
        // Sampling inside the stretch: the clip's frames are all within it.
        let clip = dataset.clips[3]
        let frames = try VideoReader(path: clip.path, options: clip.decodeOptions(DecodeOptions(sampling: .uniform(5)))).readAll()
        #expect(frames.count == 5 && frames.allSatisfy { $0.time >= clip.start! - 1e-6 && $0.time <= clip.end! + 0.07 })
        // The decoded-frame cache keeps stretches apart and serves them the second time.
        let cache = try FrameCacheDirectory(path: root + "/cache")
        let options = DecodeOptions(sampling: .uniform(4), format: FrameFormat(size: FrameSize(32), resize: .crop), threads: 1)
        let first = DecodedClips.decode(dataset.clips, options: options, cache: cache)
        let second = DecodedClips.decode(dataset.clips, options: options, cache: cache)
        #expect(first.fromCache == 0 && second.fromCache == dataset.clips.count && first.failures.isEmpty)
        #expect(zip(first.frames, second.frames).allSatisfy { $0!.map(\.index) == $1!.map(\.index) })
        #expect(Set(first.frames.map { $0!.map(\.index) }).count > dataset.clips.count / 2, "stretches of one file decode to different frames")
    }

    /// Rows may name a group (clips of one group stay on one side of a split; default: the video).
    @Test func theGroupColumnGroups() throws {
        let root = try TestPaths.temporaryDirectory("annotations-groups").path
        let a = TestPaths.fixture("videos/h264_bframes_gop30.mp4"), b = root + "/b.mp4"
        try FileManager.default.copyItem(atPath: a, toPath: b)
        try "path,start,end,label,group\n\(a),0,1,x,g1\n\(a),1.5,2.5,y,g2\n\(b),0,1,x,\n\(b),1,2,y,\n"
            .write(toFile: root + "/groups.csv", atomically: true, encoding: .utf8)
        let dataset = try VideoDataset.load(root + "/groups.csv", annotations: AnnotationOptions(clipLength: 1))
        #expect(try dataset.groups(by: nil) == ["g1", "g2", b, b])
        // A row past the end of its video is named; one ending after it is cut at the end.
        try "path,start,end,label\n\(a),1,9,x\n\(a),0,1,y\n".write(toFile: root + "/long.csv", atomically: true, encoding: .utf8)
        #expect(try Annotations.read(root + "/long.csv")[0].end == 3)
        try "path,start,end,label\n\(a),0,1,y\n\(a),4,5,x\n".write(toFile: root + "/past.csv", atomically: true, encoding: .utf8)
        #expect { try Annotations.read(root + "/past.csv") } throws: { "\($0)".contains("interval 2 (x) starts at 4.0 s, after the end") }
    }

    @Test func segmentScoring() {
        typealias S = TimelineScore.Segment
        #expect(S(start: 0, end: 4, label: "a").iou(S(start: 2, end: 6, label: "a")) == 2.0 / 6.0)
        let labels: [String?] = ["bg", "a", "a", "a", "bg", "b", "b", nil, "a"]
        #expect(TimelineEvaluation.segments(labels, background: "bg") == [S(start: 1, end: 4, label: "a"), S(start: 5, end: 7, label: "b"), S(start: 8, end: 9, label: "a")])
        let truth = [S(start: 1, end: 4, label: "a"), S(start: 5, end: 8, label: "b")]
        #expect(TimelineEvaluation.matches(predicted: TimelineEvaluation.segments(labels, background: "bg"), truth: truth, threshold: 0.5) == 2)
        #expect(TimelineEvaluation.matches(predicted: [S(start: 1, end: 4, label: "b")], truth: truth, threshold: 0.5) == 0, "labels must agree")
        let windows = [TimelineWindow(start: 0, end: 2, scores: [LabelScore(label: "a", score: 1)]),
                       TimelineWindow(start: 1, end: 3, scores: [LabelScore(label: "b", score: 1)])]
        #expect(TimelineEvaluation.secondLabels(windows, duration: 3) == ["a", "a", "b"], "a tie goes to the earlier window")
        #expect(TimelineEvaluation.secondLabels(windows, duration: 2.6) == ["a", "a", "b"], "the partial last second counts")
        // Touching intervals of one label are one true segment: a perfect prediction matches it.
        let video = "v.mp4"
        let truth2 = [AnnotatedInterval(path: video, start: 0, end: 2, label: "a"), AnnotatedInterval(path: video, start: 2, end: 4, label: "a")]
        let perfect = [TimelineWindow(start: 0, end: 4, scores: [LabelScore(label: "a", score: 1)])]
        let scored = TimelineEvaluation.score(path: video, windows: perfect, intervals: truth2, duration: 4, background: nil)
        #expect(scored.truthSegments == 1 && scored.matchedSegments == 1 && scored.correctSeconds == 4)
    }

    /// The test: a long video of synthetic clips with gaps, its annotation CSV; a small
    /// model trained from it with a background class; `evaluate --timeline` finds the segments.
    @Test func trainFromAnnotationsThenFindTheSegments() throws {
        let root = try TestPaths.temporaryDirectory("annotations-train").path
        let (csv, intervals) = try Self.makeLongVideo(in: root)
        let model = root + "/m.safetensors"
        let train = try runVidclass(["train", csv, "-o", model, "--background", "none", "--clip-length", "1.5s",
                                     "--input", "diff", "--frames", "6", "--size", "24", "--short-side", "27", "--hidden", "32",
                                     "--epochs", "30", "--batch-size", "8", "--validation-fraction", "0", "--seed", "2"])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("classes (grow, move_left, move_right, move_up, none, rotate_clockwise, shrink)"), "\(train.stderr)")
        let vtt = root + "/vtt"
        let evaluation = try runVidclass(["evaluate", csv, "--timeline", "--model", model, "--background", "none",
                                          "--window", "1.5s", "--stride", "500ms", "--output-dir", vtt, "--format", "json"])
        #expect(evaluation.status == 0, "\(evaluation.stderr)")
        let score = try JSONDecoder().decode(TimelineScore.self, from: Data(evaluation.stdout.utf8))
        print("timeline evaluation: per-second accuracy \(score.secondAccuracy), precision \(score.precision), recall \(score.recall), F1 \(score.f1)")
        #expect(score.videos.count == 1 && score.videos[0].truthSegments == intervals.count)
        #expect(score.f1 >= 0.6 && score.secondAccuracy >= 0.7, "segments found: \(score.videos[0].predicted)")
        let written = try String(contentsOfFile: vtt + "/long.vtt", encoding: .utf8)
        #expect(written.hasPrefix("WEBVTT") && score.videos[0].webVTT == vtt + "/long.vtt")
    }
}

import Foundation
import Testing
import VideoClassification
import VideoIO
import VidclassTestSupport

/// End to end on the built `vidclass` binary.
struct CLITests {
    static func video(_ name: String) -> String { TestPaths.fixture("videos/\(name)") }

    @Test func probeJSON() throws {
        let result = try runVidclass(["probe", "--format", "json", Self.video("h264_rotate90.mp4"), Self.video("h264_vfr.mkv")])
        #expect(result.status == 0, "\(result.stderr)")
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(objects.count == 2)
        #expect(objects[0]["width"] as? Int == 96 && objects[0]["height"] as? Int == 160)
        #expect(objects[0]["codec"] as? String == "h264")
        #expect(objects[1]["isVariableFrameRate"] as? Bool == true)
        #expect(objects[1]["frameCount"] as? Int == 20)
    }

    @Test func probeTextAndFailures() throws {
        let result = try runVidclass(["probe", Self.video("h264_bframes_gop30.mp4"), "/nonexistent/x.mp4"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("160x120"))
        #expect(result.stdout.contains("90 (container)"))
        #expect(result.stderr.contains("/nonexistent/x.mp4: cannot open: "))
        #expect(result.stderr.split(separator: "\n").count == 1, "one line per failure")
    }

    @Test func contactSheet() throws {
        let directory = try TestPaths.temporaryDirectory()
        let sheet = directory.appendingPathComponent("sheet.png").path
        let result = try runVidclass(["frames", Self.video("h264_bframes_gop30.mp4"), "--sample", "uniform:6", "--size", "40x30",
                                      "--columns", "3", "--output", sheet])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("frame     89  t=    2.967s"))
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: sheet)))
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // FFmpeg reads PNG too: 3 columns x 2 rows of 40x(30 + label) tiles with 4-pixel gaps.
        let image = try VideoReader(path: sheet).readAll()
        #expect(image.count == 1)
        #expect(image.first?.width == 3 * 40 + 4 * 4)
        #expect(image.first?.height == 2 * (30 + 11) + 3 * 4)
    }

    /// `frames --model M --overview N`: frames spread over the whole video, the model's marked in
    /// orange (a frame around the tile, an orange label); the others unmarked.
    @Test func overviewMarksTheFramesTheModelUses() throws {
        let directory = try TestPaths.temporaryDirectory()
        let sheet = directory.appendingPathComponent("overview.png").path
        let video = Self.video("h264_bframes_gop30.mp4")
        let result = try runVidclass(["frames", video, "--model", "default", "--overview", "24", "--columns", "6", "--output", sheet])
        #expect(result.status == 0, "\(result.stderr)")
        let card = try DefaultModel.load().card
        let used = try VideoReader(path: video, options: Preprocessor(card.input).decodeOptions()).readAll().map(\.index)
        #expect(result.stdout.contains("the \(used.count) the model uses marked in orange"), "\(result.stdout)")
        let printed = result.stdout.split(separator: "\n").filter { $0.hasPrefix("frame ") }.compactMap { Int($0.split(separator: " ")[1]) }
        #expect(Set(used).isSubset(of: printed) && printed.count > used.count && printed == printed.sorted())
        let image = try VideoReader(path: sheet).readAll()[0]
        func isOrange(_ x: Int, _ y: Int) -> Bool {
            let i = (y * image.width + x) * 3
            return image.pixels[i] > 200 && image.pixels[i + 1] > 100 && image.pixels[i + 1] < 200 && image.pixels[i + 2] < 60
        }
        // Tile n of the first row starts at x = 4 + n * (w + 4), y = 4; its frame is in the gap above it.
        let w = (image.width - 7 * 4) / 6
        for (n, index) in printed.enumerated() where n < 6 {
            #expect(isOrange(4 + n * (w + 4) + w / 2, 2) == used.contains(index), "tile \(n) (frame \(index))")
        }
        let rejected = try runVidclass(["frames", video, "--overview", "5", "--output", sheet])
        #expect(rejected.status != 0 && rejected.stderr.contains("--overview needs --model"))
    }

    @Test func framesToDirectoryAndMD5() throws {
        let directory = try TestPaths.temporaryDirectory().appendingPathComponent("out").path + "/"
        let result = try runVidclass(["frames", Self.video("mjpeg.avi"), "--sample", "all", "--md5", "--output", directory])
        #expect(result.status == 0, "\(result.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files.count == 15 && files.first == "frame_000000.png")
        let expected = FixtureTests_expectedHashes("videos/mjpeg.avi")
        let printed = result.stdout.split(separator: "\n").filter { $0.hasPrefix("frame ") }.compactMap { $0.split(separator: " ").last.map(String.init) }
        #expect(printed == expected)
    }

    @Test func badArguments() throws {
        let bad = try runVidclass(["frames", Self.video("mjpeg.avi"), "--sample", "sometimes", "--output", "/tmp/x.png"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--sample"))
        let size = try runVidclass(["frames", Self.video("mjpeg.avi"), "--size", "0x5", "--output", "/tmp/x.png"])
        #expect(size.status != 0 && size.stderr.contains("--size"))
        let missing = try runVidclass(["frames", "/nonexistent/clip.mp4", "--output", "/tmp/x.png"])
        #expect(missing.status == 1 && missing.stderr.contains("/nonexistent/clip.mp4: cannot open: No such file or directory"))
        let version = try runVidclass(["--version"])
        #expect(version.status == 0 && !version.stdout.isEmpty)
    }
}

/// The ffmpeg hashes recorded for a fixture (see `Tools/make_fixtures.sh`).
func FixtureTests_expectedHashes(_ file: String) -> [String] {
    guard let text = try? String(contentsOfFile: TestPaths.fixture("videos.framemd5.tsv"), encoding: .utf8) else { return [] }
    for line in text.split(separator: "\n") where line.hasPrefix(file + "\t") {
        return line.split(separator: "\t")[2].split(separator: ",").map(String.init)
    }
    return []
}

/// The GEMM kernels: vidclass's own (AVX2/FMA, the default where the CPU has it) and OpenBLAS (the
/// fallback, forced with `VIDCLASS_GEMM=openblas`) give the embedded model the same scores.
struct GEMMBackendTests {
    @Test func ownKernelAndOpenBLASAgree() throws {
        let clip = TestPaths.fixture("synthetic") + "/move_right/move_right_0000.webm"
        func scores(_ environment: [String: String]) throws -> [String: Double] {
            let result = try runVidclass(["classify", clip, "--format", "json", "--top", "10"], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            let objects = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
            let labels = try #require(objects.first?["labels"] as? [[String: Any]])
            return Dictionary(uniqueKeysWithValues: labels.compactMap { entry in
                (entry["label"] as? String).flatMap { label in (entry["score"] as? Double).map { (label, $0) } }
            })
        }
        let own = try scores([:]), openBLAS = try scores(["VIDCLASS_GEMM": "openblas"])
        #expect(own.count == 10 && Set(own.keys) == Set(openBLAS.keys))
        for (label, score) in own { #expect(abs(score - openBLAS[label, default: -1]) < 1e-4, "\(label)") }
        #expect(own.max { $0.value < $1.value }?.key == "move_right")
    }

    /// Several inputs with `--format vtt` write one WebVTT file per input into `--output-dir`
    /// (concatenated documents are not WebVTT); without it they are refused. CSV carries the path.
    @Test func timelinesOfSeveralInputsGoToOneFileEach() throws {
        let clips = ["move_right", "move_left"].map { name in
            TestPaths.fixture("synthetic/\(name)") + "/" + ((try? FileManager.default.contentsOfDirectory(atPath: TestPaths.fixture("synthetic/\(name)")))?.first ?? "")
        }
        let refused = try runVidclass(["classify", "--timeline", "--format", "vtt", "--window", "500ms", "--stride", "0.25s"] + clips)
        #expect(refused.status == 64 && refused.stderr.contains("--output-dir"), "\(refused.stderr)")
        let folder = try TestPaths.temporaryDirectory("vtt-dir").appendingPathComponent("out").path
        let written = try runVidclass(["classify", "--timeline", "--format", "vtt", "--window", "500ms", "--stride", "0.25s",
                                       "--output-dir", folder] + clips)
        #expect(written.status == 0, "\(written.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(files == ["move_left_0000.vtt", "move_right_0000.vtt"])
        for file in files {
            let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
            #expect(text.hasPrefix("WEBVTT\n") && text.components(separatedBy: "WEBVTT").count == 2, "one document per file")
        }
        let again = try runVidclass(["classify", "--timeline", "--format", "vtt", "--output-dir", folder] + clips)
        #expect(again.status == 1 && again.stderr.contains("already exists"), "timelines never replace a file: \(again.stderr)")
        let csv = try runVidclass(["classify", "--timeline", "--format", "csv", "--window", "0.5", "--stride", "0.5", clips[0]])
        #expect(csv.status == 0 && csv.stdout.hasPrefix("path,start,end,label,score\n" + clips[0] + ","), "\(csv.stdout.prefix(200))")
        let badWindow = try runVidclass(["classify", "--timeline", "--window", "nan", clips[0]])
        #expect(badWindow.status == 64 && badWindow.stderr.contains("--window"), "\(badWindow.stderr)")
    }
}

/// `--clips N` in `classify`, `label` and `evaluate`: the JSON says which frames each clip used,
/// the three commands agree on a file's scores, and bad values are refused.
struct ClipsOptionTests {
    static let synthetic = TestPaths.fixture("synthetic")

    @Test func classifyLabelAndEvaluateAverageTheSameClips() throws {
        let clip = Self.synthetic + "/move_right/move_right_0000.webm"
        let classify = try runVidclass(["classify", clip, "--clips", "3", "--format", "json", "--top", "10"])
        #expect(classify.status == 0, "\(classify.stderr)")
        let object = try #require((try JSONSerialization.jsonObject(with: Data(classify.stdout.utf8)) as? [[String: Any]])?.first)
        let clips = try #require(object["clips"] as? [[Int]])
        let frames = try #require(object["frames"] as? [[String: Any]]).compactMap { $0["index"] as? Int }
        #expect(clips.count == 3 && Set(clips.map(\.count)).count == 1 && Set(clips.flatMap { $0 }) == Set(frames))
        let labels = try #require(object["labels"] as? [[String: Any]])
        let score = try #require(labels.first { $0["label"] as? String == "move_right" }?["score"] as? Double)
        let one = try runVidclass(["classify", clip, "--format", "json"])
        #expect(!one.stdout.contains("\"clips\""), "one clip records no clips")

        let folder = try TestPaths.temporaryDirectory("clips")
        let out = folder.appendingPathComponent("labels.jsonl").path
        let label = try runVidclass(["label", clip, "-o", out, "--clips", "3"])
        #expect(label.status == 0, "\(label.stderr)")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        #expect(record["clips"] as? [[Int]] == clips)
        #expect(abs((record["score"] as? Double ?? -1) - score) < 1e-5, "label and classify agree")
        let mixed = try runVidclass(["label", clip, "-o", out, "--resume", "--clips", "2"])
        #expect(mixed.status != 0 && mixed.stderr.contains("labelled with 3 clip(s) a file, this run averages 2"), "\(mixed.stderr)")
        let same = try runVidclass(["label", clip, "-o", out, "--resume", "--clips", "3"])
        #expect(same.status == 0, "\(same.stderr)")

        let evaluate = try runVidclass(["evaluate", Self.synthetic + "/labels.csv", "--clips", "3", "--format", "json"])
        #expect(evaluate.status == 0, "\(evaluate.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(evaluate.stdout.utf8)) as? [String: Any])
        let scored = try #require(report["clips"] as? [[String: Any]])
        let entry = try #require(scored.first { ($0["path"] as? String)?.hasSuffix("move_right_0000.webm") == true })
        #expect(entry["clips"] as? [[Int]] == clips)
        #expect(scored.allSatisfy { ($0["clips"] as? [[Int]])?.count == 3 })

        for bad in [["classify", clip, "--clips", "0"], ["label", clip, "-o", out + "2", "--clips", "-1"],
                    ["classify", clip, "--timeline", "--clips", "2"]] {
            let refused = try runVidclass(bad)
            #expect(refused.status != 0 && refused.stderr.contains("--clips"), "\(bad): \(refused.stderr)")
        }
    }
}

/// `--precision bf16` (the convolutions in bfloat16) through the installed binary: `classify`
/// gives the embedded model's scores to within a hundredth and says so in its JSON, `label` records
/// it and will not resume an output written in the other precision, `evaluate` names it, and an
/// unknown precision is refused.
struct PrecisionOptionTests {
    static let clip = TestPaths.fixture("synthetic") + "/move_right/move_right_0000.webm"

    func scores(_ arguments: [String]) throws -> (scores: [String: Double], object: [String: Any]) {
        let result = try runVidclass(["classify", Self.clip, "--format", "json", "--top", "10"] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require((try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])?.first)
        let labels = try #require(object["labels"] as? [[String: Any]])
        return (Dictionary(uniqueKeysWithValues: labels.compactMap { entry in
            (entry["label"] as? String).flatMap { label in (entry["score"] as? Double).map { (label, $0) } }
        }), object)
    }

    @Test func bfloat16ScoresLikeSinglePrecisionAndIsRecorded() throws {
        let (single, singleObject) = try scores([])
        let (rounded, roundedObject) = try scores(["--precision", "bf16"])
        #expect(singleObject["inferencePrecision"] == nil, "fp32 records nothing")
        #expect(roundedObject["inferencePrecision"] as? String == "bf16")
        #expect(single.count == 10 && Set(single.keys) == Set(rounded.keys))
        for (label, score) in single { #expect(abs(score - rounded[label, default: -1]) < 0.01, "\(label): \(score) vs \(rounded[label] ?? -1)") }
        #expect(single.contains { abs($0.value - rounded[$0.key, default: -1]) > 1e-7 }, "bf16 gave fp32's scores exactly: it did not run")
        #expect(rounded.max { $0.value < $1.value }?.key == "move_right")

        let out = try TestPaths.temporaryDirectory("precision").appendingPathComponent("labels.jsonl").path
        let label = try runVidclass(["label", Self.clip, "-o", out, "--precision", "bf16"])
        #expect(label.status == 0, "\(label.stderr)")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        #expect(record["inferencePrecision"] as? String == "bf16")
        #expect(abs((record["score"] as? Double ?? -1) - rounded["move_right", default: 0]) < 1e-5, "label and classify agree in bf16")
        let mixed = try runVidclass(["label", Self.clip, "-o", out, "--resume"])
        #expect(mixed.status != 0 && mixed.stderr.contains("was labelled in bf16, this run computes in fp32") && mixed.stderr.contains(out),
                "\(mixed.stderr)")
        let same = try runVidclass(["label", Self.clip, "-o", out, "--resume", "--precision", "bf16"])
        #expect(same.status == 0 && same.stderr.contains("skipped 1 already recorded"), "\(same.stderr)")

        let evaluate = try runVidclass(["evaluate", TestPaths.fixture("synthetic") + "/labels.csv", "--precision", "bf16"])
        #expect(evaluate.status == 0 && evaluate.stdout.contains("(convolutions in bf16)"), "\(evaluate.stdout)\(evaluate.stderr)")
        let refused = try runVidclass(["classify", Self.clip, "--precision", "fp16"])
        #expect(refused.status == 64 && refused.stderr.contains("--precision"), "\(refused.stderr)")
    }
}

import Foundation
import Testing
import VideoClassification
import VidclassTestSupport

/// `vidclass label` and `vidclass merge` end to end on the built binary.
struct LabelCommandTests {
    static let model = TestPaths.fixture("pytorch/tiny_lstm_rgb.safetensors")

    /// Good clips mixed with corrupt, truncated, empty, text and (when the corpus is there) audio-only files.
    static func makeDirectory(copies: Int = 3) throws -> (root: String, good: Int, bad: [String: String]) {
        let root = try TestPaths.temporaryDirectory("label").path
        let manager = FileManager.default
        try manager.createDirectory(atPath: root + "/nested/deeper", withIntermediateDirectories: true)
        let sources = ["h264_bframes_gop30.mp4", "vp9_odd_161x121.webm", "mjpeg.avi", "h264_vfr.mkv"]
        var good = 0
        for n in 0..<copies {
            for (i, name) in sources.enumerated() {
                let folder = i % 2 == 0 ? root : root + "/nested/deeper"
                try manager.copyItem(atPath: TestPaths.fixture("videos/\(name)"), toPath: "\(folder)/\(n)_\(name)")
                good += 1
            }
        }
        var bad: [String: String] = [:]
        _ = manager.createFile(atPath: root + "/empty.mp4", contents: Data())
        bad[root + "/empty.mp4"] = "error"
        try Data("just text".utf8).write(to: URL(fileURLWithPath: root + "/nested/text.mp4"))
        bad[root + "/nested/text.mp4"] = "error"
        let whole = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("videos/h264_bframes_gop30.mp4")))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: root + "/truncated.mp4"))
        bad[root + "/truncated.mp4"] = "error"
        if TestPaths.hasSharedData {
            try manager.copyItem(atPath: TestPaths.sharedData.path + "/decoder-samples/qtmultimedia/nokia-tune.mkv", toPath: root + "/audio-only.mkv")
            bad[root + "/audio-only.mkv"] = "error"
        }
        _ = manager.createFile(atPath: root + "/.hidden.mp4", contents: Data())      // skipped: hidden
        _ = manager.createFile(atPath: root + "/notes.txt", contents: Data("x".utf8))  // skipped: not a video extension
        return (root, good, bad)
    }

    static func records(_ path: String) throws -> [LabelRecord] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.isEmpty || text.hasSuffix("\n"), "no torn last line")
        return try text.split(separator: "\n").map { try JSONDecoder().decode(LabelRecord.self, from: Data($0.utf8)) }
    }

    @Test func everyFileGetsExactlyOneRecordAndResumeAddsNothing() throws {
        let (root, good, bad) = try Self.makeDirectory()
        let out = root + ".jsonl"
        let first = try runVidclass(["label", root, "-o", out, "--model", Self.model, "--jobs", "2"])
        #expect(first.status == 1, "some files failed: \(first.stderr)")
        #expect(first.stderr.contains("labelled \(good), failed \(bad.count)"))
        let records = try Self.records(out)
        #expect(records.count == good + bad.count)
        #expect(Set(records.map(\.path)).count == records.count, "one record per file")
        for record in records {
            if let expected = bad[record.path] {
                #expect(record.status.rawValue == expected, "\(record.path)")
                #expect(record.error?.contains(record.path) == true && record.error?.contains("\n") == false)
            } else {
                #expect(record.status == .ok && record.label != nil && record.top?.count == 4 && record.frames?.count == 5)
                #expect(record.duration != nil && record.size > 0)
            }
        }
        // Resume: nothing new, nothing duplicated.
        let again = try runVidclass(["label", root, "-o", out, "--model", Self.model, "--resume"])
        #expect(again.stderr.contains("skipped \(good + bad.count) already recorded"))
        #expect(try Self.records(out).count == records.count)
        // A torn last line (a crash mid-write) is repaired and that file labelled again.
        var text = try String(contentsOfFile: out, encoding: .utf8)
        let lines = text.split(separator: "\n")
        text = lines.dropLast().joined(separator: "\n") + "\n" + lines.last!.prefix(30)
        try text.write(toFile: out, atomically: true, encoding: .utf8)
        _ = try runVidclass(["label", root, "-o", out, "--model", Self.model, "--resume"])
        let repaired = try Self.records(out)
        #expect(repaired.count == records.count && Set(repaired.map(\.path)) == Set(records.map(\.path)))
        // Another model on the same output is refused.
        let other = try runVidclass(["label", root, "-o", out, "--model", TestPaths.fixture("pytorch/tiny_gru_rgbdiff_bidir.safetensors"), "--resume"])
        #expect(other.status == 2 && other.stderr.contains("refusing to mix models"))
    }

    @Test func shardsPartitionTheInputAndMergeBack() throws {
        let (root, good, bad) = try Self.makeDirectory(copies: 2)
        var outputs: [String] = []
        for i in 0..<3 {
            let out = "\(root)-shard\(i).jsonl"
            outputs.append(out)
            _ = try runVidclass(["label", root, "-o", out, "--model", Self.model, "--shard", "\(i)/3"])
        }
        let parts = try outputs.map { Set(try Self.records($0).map(\.path)) }
        #expect(parts[0].isDisjoint(with: parts[1]) && parts[1].isDisjoint(with: parts[2]) && parts[0].isDisjoint(with: parts[2]))
        #expect(parts.map(\.count).reduce(0, +) == good + bad.count)
        let merged = root + "-merged.jsonl"
        let merge = try runVidclass(["merge", "-o", merged] + outputs + [outputs[0]])
        #expect(merge.status == 0)
        #expect(merge.stdout.contains("\(parts[0].count) duplicate(s) dropped"))
        #expect(try Self.records(merged).count == good + bad.count)
    }

    @Test func csvTimeoutsAndFilesFrom() throws {
        let (root, good, bad) = try Self.makeDirectory(copies: 1)
        let csv = root + ".csv"
        let result = try runVidclass(["label", root, "-o", csv, "--format", "csv", "--model", Self.model])
        #expect(result.status == 1)
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.first.map(String.init) == LabelRecord.csvHeader)
        let parsed = lines.dropFirst().compactMap { LabelRecord.parseCSV(String($0)) }
        #expect(parsed.count == good + bad.count)
        // Files named on standard input; a timeout far too short for any file.
        let list = [root + "/0_h264_bframes_gop30.mp4", root + "/0_mjpeg.avi"].joined(separator: "\n")
        let out = root + "-timeout.jsonl"
        let timed = try runVidclass(["label", "--files-from", "-", "-o", out, "--model", Self.model, "--timeout", "0.000001"],
                                    stdin: Data(list.utf8))
        #expect(timed.status == 1)
        #expect(try Self.records(out).map(\.status) == [.timeout, .timeout])
    }

    @Test func fatalSetupErrors() throws {
        let (root, _, _) = try Self.makeDirectory(copies: 1)
        let badModel = try runVidclass(["label", root, "-o", root + ".jsonl", "--model", "/nonexistent.safetensors"])
        #expect(badModel.status == 2 && badModel.stderr.contains("/nonexistent.safetensors"))
        let unwritable = try runVidclass(["label", root, "-o", "/nonexistent-dir/out.jsonl", "--model", Self.model])
        #expect(unwritable.status == 2 && unwritable.stderr.contains("/nonexistent-dir/out.jsonl"))
    }

    @Test func fullDiskIsFatalAndResumeCompletes() throws {
        let (root, good, bad) = try Self.makeDirectory(copies: 3)
        let out = root + ".jsonl"
        // A file-size limit of 2 KiB stands in for a full disk: write(2) fails (EFBIG) after a few records.
        let limited = try runVidclass(["-c", "ulimit -f 2; exec \"$0\" \"$@\"", TestPaths.vidclassBinary.path,
                                       "label", root, "-o", out, "--model", Self.model, "--jobs", "1"],
                                      executable: URL(fileURLWithPath: "/bin/bash"))
        // A sanitizer's runtime (ThreadSanitizer's shadow memory) cannot start under a 2 KiB file-size
        // limit; that says nothing about vidclass, so such a build skips this one check.
        if limited.stderr.contains("Sanitizer:DEADLYSIGNAL") { return }
        #expect(!limited.crashed && limited.status == 2, "status \(limited.status): \(limited.stderr)")
        #expect(limited.stderr.contains(out) && limited.stderr.contains("write failed"), "\(limited.stderr)")
        let partial = try Self.records(out)
        #expect(partial.count < good + bad.count)
        let resumed = try runVidclass(["label", root, "-o", out, "--model", Self.model, "--resume"])
        #expect(resumed.status == 1, "\(resumed.stderr)")
        let records = try Self.records(out)
        #expect(records.count == good + bad.count && Set(records.map(\.path)).count == records.count, "every file once")
    }

    @Test func filesReplacedOrDeletedWhileLabellingGetOneRecordEach() throws {
        let (root, _, _) = try Self.makeDirectory(copies: 6)
        let out = root + ".jsonl"
        let files = try InputDiscovery.files([root])
        let stop = StopFlag()
        // Meanwhile, files are truncated in place, replaced by renames and deleted, over and over.
        let vandal = Thread {
            var n = 0
            while !stop.isSet {
                let file = files[n % files.count]
                switch n % 3 {
                case 0: if let handle = FileHandle(forWritingAtPath: file) { try? handle.truncate(atOffset: 100); try? handle.close() }
                case 1: try? FileManager.default.copyItem(atPath: TestPaths.fixture("videos/mjpeg.avi"), toPath: file + ".new")
                        _ = rename(file + ".new", file)
                default: unlink(file)
                }
                n += 1
                usleep(2000)
            }
        }
        let list = root + ".list"
        try files.joined(separator: "\n").write(toFile: list, atomically: true, encoding: .utf8)
        vandal.start()
        // Listed, so that files deleted before label gets to them are still its to record (as errors).
        let result = try runVidclass(["label", "--files-from", list, "-o", out, "--model", Self.model, "--jobs", "2"])
        stop.set()
        #expect(!result.crashed && [0, 1].contains(result.status), "status \(result.status): \(result.stderr.suffix(500))")
        let records = try Self.records(out)
        #expect(records.count == files.count && Set(records.map(\.path)).count == records.count, "every file once")
    }

    @Test func killedRunsLoseNothing() throws {
        let (root, good, bad) = try Self.makeDirectory(copies: 8)
        let out = root + ".jsonl"
        // Kills land at random points of a run whatever the binary's speed: a whole run is timed
        // first (the release binary labels these files in a fifth of a second, the debug one in
        // several seconds).
        let started = Date()
        let timing = try runVidclass(["label", root, "-o", root + "-timing.jsonl", "--model", Self.model, "--jobs", "2"])
        #expect(!timing.crashed)
        let whole = Date().timeIntervalSince(started)
        var generator = SystemRandomNumberGenerator()
        for round in 0..<4 {
            let process = Process()
            process.executableURL = TestPaths.vidclassBinary
            process.arguments = ["label", root, "-o", out, "--model", Self.model, "--resume", "--jobs", "2"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: whole * Double.random(in: 0.1...0.5, using: &generator) * Double(round + 1) / 2)
            kill(process.processIdentifier, round % 2 == 0 ? SIGKILL : SIGTERM)
            process.waitUntilExit()
            if FileManager.default.fileExists(atPath: out) { _ = try Self.records(out) }  // every line parses after a kill
        }
        _ = try runVidclass(["label", root, "-o", out, "--model", Self.model, "--resume"])
        let records = try Self.records(out)
        #expect(records.count == good + bad.count)
        #expect(Set(records.map(\.path)).count == records.count, "every file recorded exactly once")
    }
}

/// `vidclass classify` output formats and options on the built binary.
struct ClassifyCommandTests {
    static let model = LabelCommandTests.model
    static let clip = TestPaths.fixture("videos/h264_bframes_gop30.mp4")

    @Test func timelineFormats() throws {
        let vtt = try runVidclass(["classify", Self.clip, "--model", Self.model, "--timeline", "--window", "1s", "--stride", "0.5s", "--format", "vtt"])
        #expect(vtt.status == 0, "\(vtt.stderr)")
        #expect(vtt.stdout.hasPrefix("WEBVTT\n"))
        #expect(vtt.stdout.components(separatedBy: " --> ").count - 1 == 5)
        #expect(vtt.stdout.contains("00:00:02.000 --> 00:00:03.000"))
        let csv = try runVidclass(["classify", Self.clip, "--model", Self.model, "--timeline", "--window", "1", "--stride", "1", "--format", "csv"])
        #expect(csv.stdout.split(separator: "\n").count == 4, "header and 3 windows")
        let json = try runVidclass(["classify", Self.clip, "--model", Self.model, "--timeline", "--window", "1", "--stride", "1", "--format", "json"])
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect((objects.first?["windows"] as? [Any])?.count == 3)
        let bad = try runVidclass(["classify", Self.clip, "--model", Self.model, "--format", "vtt"])
        #expect(bad.status != 0 && bad.stderr.contains("--timeline"))
    }

    @Test func explainAndStandardInput() throws {
        let sheet = try TestPaths.temporaryDirectory().appendingPathComponent("seen.png").path
        let explained = try runVidclass(["classify", Self.clip, "--model", Self.model, "--explain", "--explain-sheet", sheet])
        #expect(explained.status == 0)
        #expect(explained.stderr.contains("5 frames sampled uniformly by index over 90"))
        #expect(explained.stderr.contains("#89@2.97s"))
        #expect(FileManager.default.fileExists(atPath: sheet))
        let piped = try runVidclass(["classify", "-", "--model", Self.model, "--format", "json"],
                                    stdin: try Data(contentsOf: URL(fileURLWithPath: Self.clip)))
        let direct = try runVidclass(["classify", Self.clip, "--model", Self.model, "--format", "json"])
        func labels(_ text: String) throws -> [String] {
            let objects = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
            return (objects.first?["labels"] as? [[String: Any]] ?? []).compactMap { $0["label"] as? String }
        }
        #expect(piped.status == 0)
        let pipedLabels = try labels(piped.stdout), directLabels = try labels(direct.stdout)
        #expect(pipedLabels == directLabels && !pipedLabels.isEmpty)
    }
}

import ArgumentParser
import Foundation
import VideoIO

/// `vidclass bench decode`: the peer harness's B3 protocol (`../shared/bench/bench_decode.py`)
/// on the same videos: per video, `all` frames and 16 uniformly sampled frames, each to
/// 112×112 RGB, timing the whole job including opening the file.
struct BenchDecode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode benchmark on the peer harness's videos (a: 640x360 H.264, b: 1080p H.264, c: 640x360 VP9).")

    @Option(help: "Videos to run: any of a, b, c.")
    var videos = CommaSeparated<BenchVideo>(BenchVideo.allCases)

    @Option(help: "Tasks: all (every frame) and/or s16 (16 uniform frames).")
    var tasks = CommaSeparated<BenchDecodeTask>(BenchDecodeTask.allCases)

    @Option(help: "Timed repetitions (after one warm-up).")
    var repetitions = 5

    @Option(help: "Decoder threads.")
    var threads = 2

    @Option(help: "Output size (square).")
    var size = 112

    @Option(help: "Directory of the peer harness's videos (default: $BENCH_VIDEOS or ~/.cache/vidclass-bench/videos).")
    var videoDirectory: String?

    @Option(help: "Write the results as JSON here.")
    var json: String?

    @Option(help: "Also measure peak memory sampling 16 frames from this (long) file, in a fresh process.")
    var memoryFile: String?

    static let files = ["a": "a_640x360_h264.mp4", "b": "b_1920x1080_h264.mp4", "c": "c_640x360_vp9.webm"]

    struct Row: Codable {
        var video: String
        var file: String
        var method: String
        var task: String
        var outFrames: Int
        var msPerVideo: Double
        var outFPS: Double
        var sec: TimingSummary
        var framesDecoded: Int
        var packetsSkipped: Int
        var seeks: Int
    }

    func run() async throws {
        let directory = videoDirectory ?? benchVideosDirectory()
        var rows: [Row] = []
        print("vidclass bench decode: \(threads) threads, \(repetitions) reps after 1 warm-up, output \(size)x\(size) RGB24")
        for video in videos.values.map(\.rawValue) {
            guard let name = Self.files[video] else { throw ValidationError("unknown video '\(video)' (use a, b, c)") }
            let path = (directory as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("\(path) is missing: run `bash ../shared/bench/make_videos.sh` first")
            }
            for task in tasks.values.map(\.rawValue) {
                let sampling: FrameSampling
                switch task {
                case "all": sampling = .all
                case "s16": sampling = .uniform(16)
                default: throw ValidationError("unknown task '\(task)' (use all, s16)")
                }
                let options = DecodeOptions(sampling: sampling, format: FrameFormat(size: FrameSize(size)), threads: threads)
                var frames = 0
                var statistics = DecodeStatistics()
                let timing = try TimingSummary.measure(repetitions: repetitions, warmup: 1) {
                    let reader = try VideoReader(path: path, options: options)
                    frames = 0
                    while try reader.next() != nil { frames += 1 }
                    statistics = reader.statistics
                }
                let row = Row(video: video, file: name, method: "vidclass", task: task, outFrames: frames,
                              msPerVideo: timing.median * 1e3, outFPS: Double(frames) / timing.median, sec: timing,
                              framesDecoded: statistics.framesDecoded, packetsSkipped: statistics.packetsSkipped,
                              seeks: statistics.seeks)
                rows.append(row)
                print(String(format: "%@ vidclass %-3@ %8.1f ms/video (%.1f-%.1f) %7.1f out-frames/s  decoded %d, skipped %d packets, %d seeks [load %.2f]",
                             video, task, row.msPerVideo, timing.min * 1e3, timing.max * 1e3, row.outFPS,
                             statistics.framesDecoded, statistics.packetsSkipped, statistics.seeks, timing.loadavgAfter))
            }
        }
        var memory: [String: Int]?
        if let memoryFile {
            memory = try measureMemory(memoryFile)
        }
        if let json {
            struct Report: Codable { var bench: String; var threads: Int; var results: [Row]; var memory: [String: Int]? }
            let data = try JSONEncoder().encode(Report(bench: "vidclass_decode", threads: threads, results: rows, memory: memory))
            try data.write(to: URL(fileURLWithPath: json))
            print("-> \(json)")
        }
    }

    /// Peak RSS of a fresh `vidclass frames --sample uniform:16` process on `file`.
    private func measureMemory(_ file: String) throws -> [String: Int] {
        func peak(_ arguments: [String]) throws -> Int {
            let output = try runThisExecutable(arguments + ["--print-peak-memory"], captureOutput: true)
            let line = output.split(separator: "\n").last { $0.hasPrefix("peak-memory-bytes ") } ?? ""
            return Int(line.split(separator: " ").last ?? "") ?? -1
        }
        let sampled = try peak(["frames", file, "--sample", "uniform:16", "--size", "\(size)", "--threads", "\(threads)"])
        let metadata = try VideoFile.probe(path: file)
        print(String(format: "peak memory sampling 16 frames from %@ (%.0f s, %dx%d): %.1f MB", file,
                     metadata.duration ?? 0, metadata.width, metadata.height, Double(sampled) / 1e6))
        return ["uniform16PeakBytes": sampled, "durationSeconds": Int(metadata.duration ?? 0)]
    }
}

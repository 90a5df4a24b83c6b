import Foundation

/// Wall-clock timing with the peer harness's protocol (`../shared/bench/common.py`): warm-up
/// calls first, then `repetitions` timed calls; the median and the range are reported.
struct TimingSummary: Codable {
    var median: Double
    var min: Double
    var max: Double
    var n: Int
    var samples: [Double]
    var loadavgAfter: Double

    static func measure(repetitions: Int, warmup: Int, _ body: () throws -> Void) rethrows -> TimingSummary {
        for _ in 0..<warmup { try body() }
        var samples: [Double] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let sorted = samples.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2]
            : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        return TimingSummary(median: median, min: sorted.first ?? 0, max: sorted.last ?? 0, n: samples.count,
                             samples: samples, loadavgAfter: loadAverage())
    }

    /// The 1-minute load average (0 where unavailable).
    static func loadAverage() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first, let value = Double(first) else { return 0 }
        return value
    }
}

/// Peak resident memory of this process so far, in bytes (`VmHWM`).
func peakResidentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kilobytes * 1024
    }
    return 0
}

/// The directory the peer harness writes its videos to (`$BENCH_VIDEOS`).
func benchVideosDirectory() -> String {
    if let override = ProcessInfo.processInfo.environment["BENCH_VIDEOS"] { return override }
    let cache = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
    return cache + "/vidclass-bench/videos"
}

/// Runs this `vidclass` binary with `arguments` as a fresh process and returns its standard output.
@discardableResult
func runThisExecutable(_ arguments: [String], captureOutput: Bool = false) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = captureOutput ? pipe : FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    let output = captureOutput ? String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) : ""
    process.waitUntilExit()
    return output
}

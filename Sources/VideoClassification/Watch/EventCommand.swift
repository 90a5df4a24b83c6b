import Foundation

/// A shell command run for watch events (`vidclass watch --exec 'CMD'`): alerts without writing
/// code. The command runs under `/bin/sh -c` with the event in its environment
/// (`VIDCLASS_EVENT`, `VIDCLASS_LABEL`, `VIDCLASS_SCORE`, `VIDCLASS_TIME`, `VIDCLASS_WALL`,
/// `VIDCLASS_SOURCE`) and its JSON line on standard input. It runs beside the watch, which never
/// waits for it; one whose previous run has not ended is skipped (and counted), so a slow command
/// cannot pile up processes.
public final class EventCommand: @unchecked Sendable {
    /// The shell command.
    public let command: String
    /// The events it runs for (default: `started`).
    public let kinds: Set<WatchEvent.Kind>
    private let lock = NSLock()
    private var running: Process?
    private var skippedCount = 0

    /// A command for events of `kinds`.
    public init(_ command: String, for kinds: Set<WatchEvent.Kind> = [.started]) {
        self.command = command
        self.kinds = kinds
    }

    /// Runs the command for `event` if it is one of ``kinds``; returns at once.
    /// - Returns: false when it was skipped because the previous run is still going, or could not start.
    @discardableResult
    public func run(for event: WatchEvent) -> Bool {
        guard kinds.contains(event.event) else { return true }
        lock.lock()
        defer { lock.unlock() }
        if let running, running.isRunning {
            skippedCount += 1
            return false
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        var environment = ProcessInfo.processInfo.environment
        environment["VIDCLASS_EVENT"] = event.event.rawValue
        environment["VIDCLASS_LABEL"] = event.label ?? ""
        environment["VIDCLASS_SCORE"] = event.score.map { String(format: "%.4f", $0) } ?? ""
        environment["VIDCLASS_TIME"] = event.time.map { String(format: "%.3f", $0) } ?? ""
        environment["VIDCLASS_WALL"] = event.wall
        environment["VIDCLASS_SOURCE"] = event.source
        process.environment = environment
        let input = Pipe()
        process.standardInput = input
        // The watch's standard output carries its events: the command writes to standard error.
        process.standardOutput = FileHandle.standardError
        do {
            try process.run()
        } catch {
            return false
        }
        running = process
        let line = Data((event.jsonLine + "\n").utf8)
        // The pipe is written and closed off the watch's thread: a command that does not read
        // its input must not block the watch.
        DispatchQueue.global().async {
            try? input.fileHandleForWriting.write(contentsOf: line)
            try? input.fileHandleForWriting.close()
        }
        return true
    }

    /// Runs skipped because the previous one had not ended.
    public var skipped: Int { lock.lock(); defer { lock.unlock() }; return skippedCount }

    /// Waits up to `seconds` for the last run to end (at the end of a watch).
    public func waitForLast(seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            lock.lock()
            let busy = running?.isRunning ?? false
            lock.unlock()
            if !busy { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }
}

import Foundation

/// The outcome of running a command.
public struct CommandResult: Sendable {
    /// The exit status, or the signal's number when ``crashed``.
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// Whether a signal ended the process (a crash, an abort, or a kill).
    public var crashed = false
}

/// Runs the built `vidclass` binary (or any executable) with arguments, waiting for it to exit;
/// `environment` adds to (or overrides) this process's variables.
public func runVidclass(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:],
                        executable: URL = TestPaths.vidclassBinary) throws -> CommandResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = input
    // A child that exits before reading all of `stdin` must not kill the test process with SIGPIPE:
    // the write then fails with EPIPE, which is ignored (the child's status tells the story).
    signal(SIGPIPE, SIG_IGN)
    try process.run()
    if let stdin { try? input.fileHandleForWriting.write(contentsOf: stdin) }
    try? input.fileHandleForWriting.close()
    // Read both pipes concurrently so neither fills up and blocks the child.
    let group = DispatchGroup()
    nonisolated(unsafe) var outData = Data(), errData = Data()
    group.enter()
    DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter()
    DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    process.waitUntilExit()
    group.wait()
    return CommandResult(status: process.terminationStatus,
                         stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self),
                         crashed: process.terminationReason == .uncaughtSignal)
}

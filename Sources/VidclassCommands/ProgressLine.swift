import Foundation
import VideoClassification

/// Progress on stderr: a line redrawn in place on a terminal, plain lines (one per epoch) otherwise.
final class ProgressLine: @unchecked Sendable {
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let lock = NSLock()
    private var drawn = false
    private var lastPlain = Date.distantPast

    func update(_ text: String) {
        lock.withLock {
            if isTerminal {
                FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text).utf8))
                drawn = true
            } else if Date().timeIntervalSince(lastPlain) > 10 {
                FileHandle.standardError.write(Data((text + "\n").utf8))
                lastPlain = Date()
            }
        }
    }

    func finish() {
        lock.withLock {
            if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
            drawn = false
        }
    }

    func show(_ event: TrainingEvent, prefix: String = "") {
        switch event {
        case .batch(let epoch, let batch, let batches, let loss, let accuracy, let rate):
            guard isTerminal else { return }
            update(prefix + String(format: "epoch %d batch %d/%d  loss %.4f  acc %.1f%%  %.1f clips/s", epoch, batch, batches,
                                   loss, accuracy * 100, rate))
        case .epoch(let s, let epochs):
            let remaining = Double(epochs - s.epoch) * s.seconds
            let validation = s.validationAccuracy.map { String(format: "  val %.1f%%", $0 * 100) } ?? ""
            let line = prefix + String(format: "epoch %d/%d  loss %.4f  acc %.1f%%%@  lr %.2g  %.1f clips/s  %.0fs  ETA %@",
                                       s.epoch, epochs, s.loss, s.trainAccuracy * 100, validation, s.learningRate,
                                       s.clipsPerSecond, s.seconds, Self.duration(remaining))
            finish()
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}

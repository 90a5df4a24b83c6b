import Foundation
import VidclassConcurrency
import VideoClassification

/// Progress on stderr: a line redrawn in place on a terminal, plain lines (one per epoch) otherwise.
final class ProgressLine: @unchecked Sendable {
    private let isTerminal: Bool
    private let write: (String) -> Void
    private struct State {
        var drawn = false
        var lastPlain = Date.distantPast
    }
    private let state = Locked(State())

    /// - Parameters:
    ///   - isTerminal: redraw one line in place (default: whether stderr is a terminal).
    ///   - write: where the text goes (default: stderr).
    init(isTerminal: Bool = isatty(STDERR_FILENO) != 0,
         write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.isTerminal = isTerminal
        self.write = write
    }

    func update(_ text: String) {
        state.withLock { s in
            if isTerminal {
                write("\r\u{1B}[2K" + text)
                s.drawn = true
            } else if Date().timeIntervalSince(s.lastPlain) > 10 {
                write(text + "\n")
                s.lastPlain = Date()
            }
        }
    }

    func finish() {
        state.withLock { s in
            if s.drawn { write("\n") }
            s.drawn = false
        }
    }

    func show(_ event: TrainingEvent, prefix: String = "") {
        switch event {
        case .batch(let epoch, let epochs, let batch, let batches, let loss, let accuracy, let rate, let seconds):
            guard isTerminal else { return }
            // The rest of this epoch and the epochs after it, at this epoch's pace so far.
            let remaining = seconds / Double(batch) * Double((batches - batch) + (epochs - epoch) * batches)
            update(prefix + String(format: "epoch %d/%d batch %d/%d  loss %.4f  acc %.1f%%  %.1f clips/s  ETA %@", epoch, epochs,
                                   batch, batches, loss, accuracy * 100, rate, Self.duration(remaining)))
        case .epoch(let s, let epochs):
            let remaining = Double(epochs - s.epoch) * s.seconds
            let validation = s.validationAccuracy.map { String(format: "  val %.1f%%", $0 * 100) } ?? ""
            let line = prefix + String(format: "epoch %d/%d  loss %.4f  acc %.1f%%%@  lr %.2g  %.1f clips/s  %.0fs  ETA %@",
                                       s.epoch, epochs, s.loss, s.trainAccuracy * 100, validation, s.learningRate,
                                       s.clipsPerSecond, s.seconds, Self.duration(remaining))
            finish()
            write(line + "\n")
        }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}

import Foundation

/// One line of `vidclass watch`'s output: what happened, when in the source and when on the
/// clock. Fields that do not apply to an event are left out of its JSON.
public struct WatchEvent: Sendable, Codable, Equatable {
    /// What happened.
    public enum Kind: String, Sendable, Codable {
        /// The source was opened (``width``, ``height``, and ``reason`` says how frames are taken).
        case opened
        /// The model's probabilities now (``label``, ``score``, ``scores``).
        case prediction
        /// A label's smoothed probability reached the threshold (``label``, ``score``).
        case started
        /// The active label's smoothed probability fell below the threshold, or the source went away.
        case ended
        /// The network fell behind a live source: ``dropped`` frames from ``skippedFrom`` to
        /// ``skippedTo`` (source seconds) were left out.
        case dropped
        /// The source ended or failed (``reason``); with reconnection, the state is reset.
        case disconnected
        /// Opening failed; another attempt follows in ``delay`` seconds.
        case retrying
        /// The source is back after ``attempt`` attempts.
        case reconnected
        /// The watch is over (the source ended, or it was stopped).
        case finished
    }

    /// What happened.
    public var event: Kind
    /// The source, as given.
    public var source: String
    /// Wall-clock time of the event, ISO 8601 with milliseconds (UTC).
    public var wall: String
    /// The source's timestamp in seconds (of the frame behind the event).
    public var time: Double?
    /// The frame's index since the source was (re)opened.
    public var frame: Int?
    /// The label (top label for predictions).
    public var label: String?
    /// Its smoothed probability (0–1).
    public var score: Double?
    /// The three most probable labels, for predictions.
    public var scores: [LabelScore]?
    /// Frames dropped: in a `dropped` event, how many; in predictions and `finished`, the total so far.
    public var dropped: Int?
    /// First source time left out, for `dropped`.
    public var skippedFrom: Double?
    /// Last source time left out, for `dropped`.
    public var skippedTo: Double?
    /// Seconds from the frame's arrival from the decoder to this event.
    public var latency: Double?
    /// Why (disconnections, retries, how frames are taken).
    public var reason: String?
    /// Reconnection attempt number.
    public var attempt: Int?
    /// Seconds until the next attempt, for `retrying`.
    public var delay: Double?
    /// Frame width as decoded for the model (its short side scaled), for `opened`.
    public var width: Int?
    /// Frame height as decoded for the model, for `opened`.
    public var height: Int?
    /// Frames the network processed, for `finished`.
    public var frames: Int?

    /// An event of `kind` from `source` now; set the other fields as they apply.
    public init(_ kind: Kind, source: String, wall: Date = Date()) {
        self.event = kind
        self.source = source
        self.wall = WatchEvent.format(wall)
    }

    /// The event as one line of JSON.
    public var jsonLine: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

import ArgumentParser

/// A duration argument: `2`, `2s`, `1.5s`, `500ms`, `2m`; finite and above zero.
struct Seconds: ExpressibleByArgument, Equatable, CustomStringConvertible {
    /// The duration in seconds.
    var value: Double

    init(_ value: Double) { self.value = value }

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(suffix: String, scale: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("", 1)]
        guard let unit = units.first(where: { text.hasSuffix($0.suffix) }),
              let number = Double(text.dropLast(unit.suffix.count)) else { return nil }
        let seconds = number * unit.scale
        guard seconds.isFinite, seconds > 0 else { return nil }
        value = seconds
    }

    var description: String { "\(value)s" }
    static var defaultCompletionKind: CompletionKind { .default }
}

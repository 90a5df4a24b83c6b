import ArgumentParser

/// An option that takes a comma-separated list of values of a fixed set (`--tasks gemm,infer`):
/// every element is parsed and checked, so a typo is an error naming the option.
struct CommaSeparated<Element: ExpressibleByArgument & Hashable>: ExpressibleByArgument {
    var values: [Element]

    init(_ values: [Element]) { self.values = values }

    init?(argument: String) {
        var values: [Element] = []
        for part in argument.split(separator: ",") {
            guard let value = Element(argument: part.trimmingCharacters(in: .whitespaces)) else { return nil }
            values.append(value)
        }
        guard !values.isEmpty else { return nil }
        self.values = values
    }

    var defaultValueDescription: String {
        values.map { value in (value as? any RawRepresentable).map { "\($0.rawValue)" } ?? "\(value)" }.joined(separator: ",")
    }

    func contains(_ value: Element) -> Bool { values.contains(value) }
}

/// What `bench model` runs.
enum BenchModelTask: String, ExpressibleByArgument, CaseIterable {
    case gemm, infer, train, layers
}

/// What `bench decode` runs per video.
enum BenchDecodeTask: String, ExpressibleByArgument, CaseIterable {
    case all, s16
}

/// The peer harness's videos.
enum BenchVideo: String, ExpressibleByArgument, CaseIterable {
    case a, b, c
}

/// A batch shape, `CLIPSxFRAMES`.
struct BatchShape: ExpressibleByArgument, Hashable, CustomStringConvertible {
    var clips: Int
    var frames: Int

    init(clips: Int, frames: Int) {
        self.clips = clips
        self.frames = frames
    }

    init?(argument: String) {
        let parts = argument.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { return nil }
        clips = parts[0]
        frames = parts[1]
    }

    var description: String { "\(clips)x\(frames)" }
}

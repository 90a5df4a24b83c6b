import ArgumentParser
import VideoIO

extension FrameSampling: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(parsing: argument)
    }
}

extension FrameSampling {
    init?(parsing argument: String) {
        // Forwarded to the library's parser (which `ExpressibleByArgument` would otherwise shadow).
        guard let value = FrameSampling.parse(argument) else { return nil }
        self = value
    }
}

extension ResizeMode: ExpressibleByArgument {}
extension Interpolation: ExpressibleByArgument {}
extension CorruptFramePolicy: ExpressibleByArgument {}

/// Output formats shared by the commands.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// How frames are picked, sized and decoded.
struct FrameOptions: ParsableArguments {
    @Option(help: "Which frames: all, every:K, fps:R, uniform:N, uniform:N@START-END (seconds), uniform:NxCLIPS (interleaved clips, their union), indices:I,J,..., times:T,U,...")
    var sample: FrameSampling = .uniform(16)

    @Option(help: "Output size: S (square) or WxH; omit for the display size.")
    var size: String?

    @Option(help: "How frames are fitted to --size: \(ResizeMode.allCases.map(\.rawValue).joined(separator: ", ")).")
    var resize: ResizeMode = .stretch

    @Option(help: "For --resize crop: scale the short side to this before the center crop.")
    var shortSide: Int?

    @Option(help: "Scaling filter: \(Interpolation.allCases.map(\.rawValue).joined(separator: ", ")).")
    var interpolation: Interpolation = .bilinear

    @Option(help: "Decoder threads (0: one per core).")
    var threads: Int = 0

    @Option(help: "Damaged frames: \(CorruptFramePolicy.allCases.map(\.rawValue).joined(separator: ", ")).")
    var corruptFrames: CorruptFramePolicy = .deliver

    func validate() throws {
        _ = try frameSize()
        if threads < 0 { throw ValidationError("--threads must be 0 or more") }
        if let shortSide, shortSide <= 0 { throw ValidationError("--short-side must be positive") }
    }

    func frameSize() throws -> FrameSize? {
        guard let size else { return nil }
        let parts = size.lowercased().split(separator: "x").map { Int($0) }
        switch parts.count {
        case 1: if let s = parts[0], s > 0, s <= 8192 { return FrameSize(s) }
        case 2: if let w = parts[0], let h = parts[1], w > 0, h > 0, w <= 8192, h <= 8192 { return FrameSize(width: w, height: h) }
        default: break
        }
        throw ValidationError("--size must be S or WxH with positive sizes up to 8192, got '\(size)'")
    }

    func decodeOptions() throws -> DecodeOptions {
        DecodeOptions(sampling: sample,
                      format: FrameFormat(size: try frameSize(), resize: resize, shortSide: shortSide,
                                          interpolation: interpolation),
                      threads: threads, corruptFrames: corruptFrames)
    }
}

import ArgumentParser
import VideoClassification

/// The `vidclass` command tree. Each subcommand lives in its own file and delegates to the libraries.
public struct VidclassCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vidclass",
        abstract: "Classify video clips: FFmpeg decoding, a CNN per frame, a recurrent layer over time.",
        version: vidclassVersion,
        subcommands: [Classify.self, Label.self, Watch.self, Merge.self, Report.self, Train.self, Evaluate.self, Info.self, Probe.self, Frames.self, Synth.self, Bench.self]
    )

    public init() {}
}

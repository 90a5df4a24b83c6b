import ArgumentParser

extension VidclassCommand {
    /// `vidclass bench ...`: release-build benchmarks side by side with the peers.
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Benchmarks (build with -c release).",
            subcommands: [BenchDecode.self, BenchModel.self, BenchE2E.self, BenchStream.self, BenchLabel.self])
    }
}

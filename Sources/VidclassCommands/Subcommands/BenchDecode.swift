import ArgumentParser
struct BenchDecode: AsyncParsableCommand { static let configuration = CommandConfiguration(commandName: "decode"); func run() async throws {} }

// The libFuzzer executable for the targets in FuzzTargets (see Tools/fuzz.sh, which builds it
// with -sanitize=fuzzer and -DFUZZING and picks the target with VIDCLASS_FUZZ_TARGET).
// Built normally it replays inputs instead: `vidclass-fuzz TARGET FILE_OR_DIR...`.
import Foundation
import FuzzTargets

#if FUZZING
let target: @Sendable ([UInt8]) -> Void = {
    let name = ProcessInfo.processInfo.environment["VIDCLASS_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTargets.all[name] else {
        fatalError("set VIDCLASS_FUZZ_TARGET to one of \(FuzzTargets.all.keys.sorted())")
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    target(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM links an executable's entry point under this name (`main` is defined to it); it
/// hands control to libFuzzer's driver.
@_cdecl("vidclass_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzOne(data, size) }
}
#else
@main
struct Replay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let name = arguments.first, let target = FuzzTargets.all[name] else {
            print("usage: vidclass-fuzz \(FuzzTargets.all.keys.sorted().joined(separator: "|")) FILE_OR_DIR...")
            exit(2)
        }
        print("\(name): replayed \(FuzzTargets.replay(target, paths: Array(arguments.dropFirst()))) inputs")
    }
}
#endif

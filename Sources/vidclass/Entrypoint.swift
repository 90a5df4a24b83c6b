import CProcessStart
import Glibc
import VidclassCommands
import VideoIO

@main
struct Entrypoint {
    static func main() async {
        // The threads OpenBLAS started spin for 0.1 s on one of the cores the first passes need.
        vc_process_start_quiet_openblas()
        // A file-size limit (ulimit -f) reached while writing makes write(2) fail with EFBIG, which
        // the commands report like a full disk, instead of the default SIGXFSZ killing the process.
        signal(SIGXFSZ, SIG_IGN)
        // The arguments as the process got them: a file name that is not UTF-8 keeps its bytes
        // (FileNameBytes), where CommandLine.arguments would replace them.
        let arguments = (1..<Int(CommandLine.argc)).map { i -> String in
            guard let argument = CommandLine.unsafeArgv[i] else { return "" }
            return FileNameBytes.string(UnsafeRawBufferPointer(start: argument, count: strlen(argument)))
        }
        await VidclassCommand.main(arguments)
    }
}

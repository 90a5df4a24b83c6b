import Glibc
import VidclassCommands
import VideoIO

@main
struct Entrypoint {
    static func main() async {
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

import Glibc
import VidclassCommands

@main
struct Entrypoint {
    static func main() async {
        // A file-size limit (ulimit -f) reached while writing makes write(2) fail with EFBIG, which
        // the commands report like a full disk, instead of the default SIGXFSZ killing the process.
        signal(SIGXFSZ, SIG_IGN)
        await VidclassCommand.main()
    }
}

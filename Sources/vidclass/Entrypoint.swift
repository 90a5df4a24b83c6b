import VidclassCommands

@main
struct Entrypoint {
    static func main() async {
        await VidclassCommand.main()
    }
}

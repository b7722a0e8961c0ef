import ArgumentParser
import Linux
import Runtime

struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a signal (default SIGTERM) to a container's init, or with --all to all its processes.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.customShort("a"), .long], help: "Signal every process of the container.")
    var all = false
    @Argument(help: "The container id.") var id: String
    @Argument(help: "Signal by name (TERM, SIGKILL) or number (9).") var signal: String = "SIGTERM"

    func run() throws {
        try global.perform { runtime in
            guard let sig = Linux.Signal(parsing: signal) else {
                throw RuntimeError("unknown signal \"\(signal)\"")
            }
            try runtime.kill(id: id, signal: sig, all: all)
        }
    }
}

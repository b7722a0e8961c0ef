import ArgumentParser
import Runtime

/// Flags shared by `create` and `run`.
struct CreateFlags: ParsableArguments {
    @Option(name: [.customShort("b"), .long], help: "Path to the bundle directory.")
    var bundle: String = "."

    @Option(name: .customLong("pid-file"), help: "Write the container init's pid to this file.")
    var pidFile: String?

    @Option(name: .customLong("console-socket"), help: "Unix socket that receives the pty master when process.terminal is true.")
    var consoleSocket: String?

    @Flag(name: .customLong("no-pivot"), help: "Use MS_MOVE and chroot instead of pivot_root (for ramdisk roots).")
    var noPivot = false

    @Flag(name: .customLong("no-new-keyring"), help: "Keep the caller's session keyring instead of a new one.")
    var noNewKeyring = false

    @Option(name: .customLong("preserve-fds"), help: "Pass N extra descriptors (3..3+N-1) into the container.")
    var preserveFds: Int = 0

    var options: CreateOptions {
        CreateOptions(bundle: bundle, pidFile: pidFile, consoleSocket: consoleSocket,
                      noPivot: noPivot, noNewKeyring: noNewKeyring, preserveFds: preserveFds)
    }
}

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a container; its process waits until `start`.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var flags: CreateFlags
    @Argument(help: "The container id.") var id: String

    func run() throws {
        try global.perform { try $0.create(id: id, options: flags.options) }
    }
}

struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start the process of a created container.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The container id.") var id: String

    func run() throws {
        try global.perform { try $0.start(id: id) }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create and start a container; without --detach, wait and exit with its status.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var flags: CreateFlags
    @Flag(name: [.customShort("d"), .long], help: "Return once the container started.")
    var detach = false
    @Flag(help: "Do not delete the container after it exits (it stays, stopped, until delete).")
    var keep = false
    @Flag(name: .customLong("no-subreaper"), help: "Do not reap the container's orphaned processes (they go to the host's reaper); kept where the init is a grandchild (user namespace).")
    var noSubreaper = false
    @Argument(help: "The container id.") var id: String

    func run() throws {
        let code = try global.perform {
            try $0.run(id: id, options: flags.options, detach: detach, keep: keep, subreaper: !noSubreaper)
        }
        if code != 0 { throw ExitCode(code) }
    }
}

struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a stopped container (with --force, any container).")
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.customShort("f"), .long], help: "Kill the container first if it is running.")
    var force = false
    @Argument(help: "The container id.") var id: String

    func run() throws {
        try global.perform { try $0.delete(id: id, force: force) }
    }
}

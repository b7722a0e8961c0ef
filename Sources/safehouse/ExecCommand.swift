import ArgumentParser
import Linux
import Runtime

struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run another process in a created or running container.",
        discussion: "Give the command after the id, or a process.json with --process. Attached, exits with the process's status.")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.customShort("p"), .long], help: "A process.json (the OCI process object) to run.")
    var process: String?
    @Flag(name: [.customShort("t"), .long], help: "Allocate a pseudo-terminal.")
    var tty = false
    @Option(name: .customLong("console-socket"), help: "Unix socket that receives the pty master.")
    var consoleSocket: String?
    @Option(name: .long, help: "Working directory in the container.")
    var cwd: String?
    @Option(name: [.customShort("e"), .long], help: "Set an environment variable (KEY=VALUE); repeatable.")
    var env: [String] = []
    @Option(name: [.customShort("u"), .long], help: "uid[:gid] to run as.")
    var user: String?
    @Option(name: [.customShort("g"), .customLong("additional-gids")], help: "An additional gid; repeatable.")
    var additionalGids: [UInt32] = []
    @Option(name: [.customShort("c"), .long], help: "Add a capability (CAP_...); repeatable.")
    var cap: [String] = []
    @Flag(name: .customLong("no-new-privs"), help: "Set no_new_privs for the process.")
    var noNewPrivs = false
    @Flag(name: [.customShort("d"), .long], help: "Return once the process started.")
    var detach = false
    @Option(name: .customLong("pid-file"), help: "Write the process's pid to this file.")
    var pidFile: String?
    @Option(name: .customLong("preserve-fds"), help: "Pass N extra descriptors (3..3+N-1) to the process.")
    var preserveFds: Int = 0
    @Option(name: .customLong("cgroup"), help: "Run the process in an existing sub-cgroup: [controller[,controller]:]path, relative to the container's cgroup; repeatable.")
    var cgroup: [String] = []
    @Flag(name: .customLong("ignore-paused"), help: "Allow exec in a paused container (the process starts frozen).")
    var ignorePaused = false
    @Option(name: .customLong("apparmor"), help: "AppArmor profile for the process (refused: safehouse applies no AppArmor profiles).")
    var apparmor: String?
    @Option(name: .customLong("process-label"), help: "SELinux label for the process (refused: safehouse applies no SELinux labels).")
    var processLabel: String?
    @Argument(help: "The container id.") var id: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    func run() throws {
        var o = ExecOptions()
        o.processFile = process
        o.args = command.first == "--" ? Array(command.dropFirst()) : command
        o.tty = tty
        o.consoleSocket = consoleSocket
        o.cwd = cwd
        o.env = env
        o.user = user
        o.additionalGids = additionalGids
        o.caps = cap
        o.noNewPrivileges = noNewPrivs
        o.detach = detach
        o.pidFile = pidFile
        o.preserveFds = preserveFds
        o.subCgroups = cgroup
        o.ignorePaused = ignorePaused
        // runc exits 255 when exec itself fails (fatalWithCode(err, 255)), and callers
        // tell that apart from the process's own status: a paused container, a pid file
        // that cannot be written, a process that could not be started.
        let code: Int32
        do {
            code = try global.perform { runtime in
                // runc's flags, refused in runc's place: a process that asked for a
                // profile or label must not run without it.
                if let apparmor {
                    throw RuntimeError("--apparmor \(apparmor): \(HostSecurityModules.appArmorEnabled ? "safehouse does not apply AppArmor profiles" : "AppArmor is not enabled on this host")")
                }
                if let processLabel {
                    throw RuntimeError("--process-label \(processLabel): \(HostSecurityModules.selinuxEnabled ? "safehouse does not apply SELinux labels" : "SELinux is not enabled on this host")")
                }
                return try runtime.exec(id: id, options: o)
            }
        } catch let exit as ExitCode where exit.rawValue == 1 {
            throw ExitCode(255)
        }
        if code != 0 { throw ExitCode(code) }
    }
}

/// Which Linux security modules the host runs (runc checks the same files).
enum HostSecurityModules {
    static var appArmorEnabled: Bool {
        ((try? Files.readString("/sys/module/apparmor/parameters/enabled")) ?? "").hasPrefix("Y")
    }
    static var selinuxEnabled: Bool { Files.exists("/sys/fs/selinux/enforce") }
}

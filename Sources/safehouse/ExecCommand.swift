import Flags
import Linux
import Runtime

struct Exec: Command {
    let global: GlobalSettings
    let process: String?
    let tty: Bool
    let consoleSocket: String?
    let cwd: String?
    let env: [String]
    let user: String?
    let additionalGids: [UInt32]
    let cap: [String]
    let noNewPrivs: Bool
    let detach: Bool
    let pidFile: String?
    let preserveFds: Int
    let cgroup: [String]
    let ignorePaused: Bool
    let apparmor: String?
    let processLabel: String?
    let id: String
    let command: [String]

    init(_ a: ParsedArguments) throws {
        global = try GlobalSettings(a)
        process = a.string("--process")
        tty = a.isSet("--tty")
        consoleSocket = a.string("--console-socket")
        cwd = a.string("--cwd")
        env = a.strings("--env")
        user = a.string("--user")
        additionalGids = try a.integers("--additional-gids")
        cap = a.strings("--cap")
        noNewPrivs = a.isSet("--no-new-privs")
        detach = a.isSet("--detach")
        pidFile = a.string("--pid-file")
        preserveFds = try a.integer("--preserve-fds") ?? 0
        cgroup = a.strings("--cgroup")
        ignorePaused = a.isSet("--ignore-paused")
        apparmor = a.string("--apparmor")
        processLabel = a.string("--process-label")
        id = a.arguments[0]
        command = a.trailing
    }

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

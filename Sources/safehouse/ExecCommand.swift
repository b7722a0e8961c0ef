import Flags
import Linux
import Runtime

extension ExecOptions {
    /// runc's exec flags; the command is what follows the id (a leading `--` dropped).
    init(_ a: ParsedArguments) throws {
        self.init()
        processFile = a.string("--process")
        args = a.trailing.first == "--" ? Array(a.trailing.dropFirst()) : a.trailing
        tty = a.isSet("--tty")
        consoleSocket = a.string("--console-socket")
        cwd = a.string("--cwd")
        env = a.strings("--env")
        user = a.string("--user")
        additionalGids = try a.integers("--additional-gids")
        caps = a.strings("--cap")
        noNewPrivileges = a.isSet("--no-new-privs")
        detach = a.isSet("--detach")
        pidFile = a.string("--pid-file")
        preserveFds = try a.integer("--preserve-fds") ?? 0
        subCgroups = a.strings("--cgroup")
        ignorePaused = a.isSet("--ignore-paused")
    }
}

struct Exec {
    let global: GlobalSettings
    let options: ExecOptions
    let apparmor: String?
    let processLabel: String?
    let id: String

    init(_ a: ParsedArguments) throws {
        global = try GlobalSettings(a)
        options = try ExecOptions(a)
        apparmor = a.string("--apparmor")
        processLabel = a.string("--process-label")
        id = a.arguments[0]
    }

    func run() throws {
        // runc exits 255 when exec itself fails (fatalWithCode(err, 255)), and callers
        // tell that apart from the process's own status: a paused container, a pid file
        // that cannot be written, a process that could not be started.
        let code: Int32
        do {
            code = try global.perform { runtime in
                // runc's flags, refused in runc's place: a process that asked for a
                // profile or label must not run without it.
                if let apparmor {
                    throw RuntimeError("--apparmor \(apparmor): \(Self.appArmorEnabled ? "safehouse does not apply AppArmor profiles" : "AppArmor is not enabled on this host")")
                }
                if let processLabel {
                    throw RuntimeError("--process-label \(processLabel): \(Self.selinuxEnabled ? "safehouse does not apply SELinux labels" : "SELinux is not enabled on this host")")
                }
                return try runtime.exec(id: id, options: options)
            }
        } catch let exit as ExitCode where exit.rawValue == 1 {
            throw ExitCode(255)
        }
        if code != 0 { throw ExitCode(code) }
    }

    /// Which Linux security modules the host runs (runc checks the same files).
    static var appArmorEnabled: Bool {
        ((try? Files.readString("/sys/module/apparmor/parameters/enabled")) ?? "").hasPrefix("Y")
    }
    static var selinuxEnabled: Bool { Files.exists("/sys/fs/selinux/enforce") }
}

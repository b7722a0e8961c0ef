import Agent
import Flags
import Runtime
#if canImport(Glibc)
import Glibc
#endif

extension GlobalSettings {
    /// runc's global flags as a command line gives them (declared in Verbs.global).
    /// An unknown --log-format fails here, before any command runs, in the words the
    /// runtime's log uses for it (makeLog).
    init(_ a: ParsedArguments) throws {
        self.init(root: a.value("--root"), log: a.string("--log"), logFormat: a.value("--log-format"),
                  debug: a.isSet("--debug"), systemdCgroup: a.isSet("--systemd-cgroup"), backend: a.string("--backend"),
                  criu: a.string("--criu"), rootless: a.string("--rootless"))
        guard RuntimeLog.Format(rawValue: logFormat) != nil else {
            throw CLIError("--log-format: unknown format \"\(logFormat)\" (use text or json)")
        }
    }
}

/// runc's global settings as plain values.
struct GlobalSettings: Equatable {
    var root = "/run/safehouse"
    var log: String?
    var logFormat = "text"
    var debug = false
    var systemdCgroup = false
    /// --backend, checked when the runtime is made (an unknown name fails every command).
    var backend: String?
    /// runc's --criu: accepted wherever runc accepts it; only checkpoint/restore use it.
    var criu: String?
    /// runc's --rootless (true, false, auto), checked when the runtime is made.
    var rootless: String?

    /// The runtime bound to --root, logging where --log says.
    func runtime() throws -> ContainerRuntime {
        if let rootless {
            // auto is false for root, the only way safehouse runs; true (ignore cgroup
            // permission errors) would hide failures safehouse must report.
            guard ["true", "false", "auto"].contains(rootless) else {
                throw RuntimeError("--rootless: \"\(rootless)\" is not true, false or auto")
            }
            guard rootless != "true" || getuid() != 0 else {
                throw RuntimeError("--rootless true: safehouse runs as root and does not ignore cgroup errors; use auto or false")
            }
        }
        // Without systemd the driver's "slice:prefix:name" paths are laid out as systemd
        // would (SystemdCgroupPath); with systemd running, units would have to be asked
        // for over D-Bus, which safehouse does not speak.
        if systemdCgroup && Self.systemdRuns {
            throw RuntimeError("--systemd-cgroup: systemd runs this host and safehouse does not register units over D-Bus; drop the flag to use cgroupfs")
        }
        let runtimeLog = try makeLog()
        if debug {
            // runc's --debug: debug records go to --log (stderr without it), in its format.
            PhaseTrace.debugLog = runtimeLog
            runtimeLog.debug("safehouse \(BuildInfo.version): root \(root), pid \(getpid())")
        }
        let runtime = ContainerRuntime(root: root, log: runtimeLog, systemdCgroup: systemdCgroup)
        runtime.backendFlag = try backend.map { try Backend.parse($0, field: "--backend") }
        runtime.logPath = log
        runtime.logFormatName = logFormat
        // A spec naming a policy (io.safehouse.policy) gets the sandbox treatment:
        // the ephemeral root and a warden (SandboxConfig, from the annotations).
        runtime.sandboxes = PolicySandboxes(root: root)
        // A sandbox's lifecycle goes to its audit log (AuditSink); a plain container's
        // does not go anywhere.
        runtime.observer = AuditSink()
        AuditSink.root = root
        return runtime
    }

    /// systemd is PID 1 when /run/systemd/system exists (sd_booted's test).
    static var systemdRuns: Bool {
        var st = stat()
        return lstat("/run/systemd/system", &st) == 0
    }

    func makeLog() throws -> RuntimeLog {
        guard let format = RuntimeLog.Format(rawValue: logFormat) else {
            throw RuntimeError("--log-format: unknown format \"\(logFormat)\" (use text or json)")
        }
        return try RuntimeLog(path: log, format: format, debug: debug)
    }

    /// Runs a command body: any failure becomes one line on stderr (and the last
    /// `error` record of the log) and exit status 1, as runc does.
    func perform<T>(_ body: (ContainerRuntime) throws -> T) throws -> T {
        do {
            return try body(try runtime())
        } catch let exit as ExitCode {
            throw exit
        } catch {
            report(error)
            throw ExitCode(1)
        }
    }

    func report(_ error: any Error) {
        let message = "\(error)"
        let log = try? makeLog()
        let json = logFormat == "json"
        if let log, log.writesToFile || json {
            log.log(.error, message)
        }
        // The plain line goes to stderr unless stderr already got the JSON record.
        if log == nil || log?.writesToFile == true || !json {
            writeStderr("safehouse: \(message)\n")
        }
    }
}

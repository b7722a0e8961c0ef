import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The one way safehouse talks to `safehouse-audit`, the executable that owns the
/// hash-chained audit log (its hashing is swift-crypto, which brings Foundation, so it
/// lives in its own binary and neither the runtime nor the warden links it). The CLI
/// appends a sandbox's lifecycle records and checks a log before a sandbox starts;
/// the warden appends its egress decisions and the init's exit.
public struct AuditClient: Sendable {
    /// `safehouse-audit`, or nil when there is none next to the running executable.
    public let executable: String?

    public init(executable: String? = Processes.siblingExecutable("safehouse-audit")) {
        self.executable = executable
    }

    /// One record to append: its kind and its details (a canonical JSON object).
    public struct Record: Equatable, Sendable {
        public var kind: String
        public var details: String
        public init(kind: String, details: String) {
            self.kind = kind
            self.details = details
        }
    }

    /// Why safehouse-audit could not be run, or what it said when it refused.
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// The descriptor a locked append reads its lock from.
    public static let lockedDescriptor: Int32 = 3

    /// `safehouse-audit audit append LOG --id ID [--locked-fd 3] (--kind K --details D)... [--key FILE]`.
    static func appendArguments(_ records: [Record], to log: AuditDestination, locked: Bool) -> [String] {
        var args = ["safehouse-audit", "audit", "append", log.path, "--id", log.id]
        if locked { args += ["--locked-fd", String(lockedDescriptor)] }
        for r in records { args += ["--kind", r.kind, "--details", r.details] }
        if let key = log.key { args += ["--key", key] }
        return args
    }

    /// Appends `records` and waits; safehouse-audit takes the log's lock itself. For a
    /// threaded caller (the warden): posix_spawn, none of its descriptors past stderr.
    public func append(_ records: [Record], to log: AuditDestination) -> Failure? {
        guard let executable else { return Failure("no safehouse-audit") }
        return run(executable, Self.appendArguments(records, to: log, locked: false))
    }

    /// Starts an append under the log's exclusive lock, which the caller took on
    /// `lockedFD` (it becomes the appender's descriptor 3), and returns its pid without
    /// waiting: the hashing and the write overlap with whatever the caller does next.
    ///
    /// A plain fork, not posix_spawn: posix_spawn's vfork waits until the child has
    /// exec'd the 85 MB appender; a fork of the small, single-threaded CLI returns at
    /// once. Not for threaded callers.
    public func startLockedAppend(_ records: [Record], to log: AuditDestination, lockedFD: Int32) -> Result<pid_t, Failure> {
        guard let executable else { return .failure(Failure("no safehouse-audit")) }
        let args = Self.appendArguments(records, to: log, locked: true)
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
        defer { for p in cArgs + cEnv { free(p) } }
        // dup2 onto 3 must not be a no-op (it clears close-on-exec only on a copy).
        let source = lockedFD == Self.lockedDescriptor ? dup(lockedFD) : lockedFD
        defer { if source != lockedFD { close(source) } }
        let pid = fork()
        if pid < 0 { return .failure(Failure("fork: \(SystemError.message(for: errno))")) }
        if pid == 0 {
            // Plain system calls only. `run` blocks the signals it forwards: unblock.
            var none = sigset_t()
            sigemptyset(&none)
            sigprocmask(SIG_SETMASK, &none, nil)
            if dup2(source, Self.lockedDescriptor) < 0 { _exit(126) }
            execve(executable, &cArgs, &cEnv)
            _exit(127)
        }
        return .success(pid)
    }

    /// `safehouse-audit audit check LOG --id ID [--key FILE]`: whether every append of
    /// sandbox `id` would be accepted (the head's MAC, the key). Nil when it would.
    public func check(_ log: AuditDestination) -> Failure? {
        guard let executable else { return Failure("no safehouse-audit") }
        var args = ["safehouse-audit", "audit", "check", log.path, "--id", log.id]
        if let key = log.key { args += ["--key", key] }
        return run(executable, args)
    }

    /// Runs `args` and waits; nil on success, else the appender's first error line
    /// (or why it did not run).
    func run(_ executable: String, _ args: [String]) -> Failure? {
        let errorEnds: (FileDescriptor, FileDescriptor)
        do { errorEnds = try FileDescriptor.pipe() } catch { return Failure("\(error)") }
        defer { errorEnds.0.close() }
        let started = Spawn.start(executable, args, stdio: .quiet(stderr: errorEnds.1.rawValue))
        errorEnds.1.close()
        let pid: pid_t
        switch started {
        case .success(let p): pid = p
        case .failure(let e): return Failure("spawn \(executable): \(SystemError.message(for: e.errno))")
        }
        var errorText: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1024)
        while errorText.count < 4096 {
            let n = buf.withUnsafeMutableBytes { read(errorEnds.0.rawValue, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            errorText += buf[0..<n]
        }
        let status: Int32
        switch Spawn.wait(pid) {
        case .success(let s): status = s
        case .failure(let e): return Failure("waitpid: \(SystemError.message(for: e.errno))")
        }
        if status == 0 { return nil }
        let line = String(decoding: errorText, as: UTF8.self).split(separator: "\n").first.map(String.init)
        return Failure(line ?? "safehouse-audit exited with status \(status >> 8)")
    }
}

import Agent
import AuditChain
import Linux
import OCI
import Runtime
import SandboxInterface
#if canImport(Glibc)
import Glibc
#endif

/// The CLI's lifecycle observer: a sandbox's records go to the audit log its policy
/// names, through `safehouse-audit audit append`: the hashing (swift-crypto)
/// lives in that executable, so the runtime binary stays small. A container without
/// the io.safehouse.policy annotation returns at the first line: no record, no work.
struct AuditSink: LifecycleObserver {
    /// `safehouse-audit` next to the running executable (for `safehouse audit|hook`
    /// and `agent spec --hooks`; the records themselves are appended here, AuditChain).
    static var executable: String? { AuditClient().executable }

    /// Records made by a `--hooks` spec's own hooks when safehouse runs it.
    static let hookKinds: Set<String> = ["create", "start", "delete"]
    /// The state root of this command (GlobalSettings.runtime): whose safehouse.conf
    /// names the policy directory an annotation's policy is looked up in.
    nonisolated(unsafe) static var root = "/run/safehouse"

    /// Records of what happened rather than of what someone asked for.
    static let observed: Set<String> = ["exit", "limit", "changes", "egress"]

    /// One record bound for a log: where, under which key, and what.
    struct Entry {
        var log: AuditDestination
        var record: AuditClient.Record
    }

    func record(_ annotations: [String: String]?, _ id: String, _ kind: String, _ details: () -> [String: AuditValue]) {
        var entries = Self.entry(annotations, id, kind, details).map { [$0] } ?? []
        // The delete is a sandbox's last record but for its close: written with it, in
        // the same append, so nothing of this sandbox can land between the two. (With a
        // `--hooks` spec the poststop hook wrote the delete; the close follows the
        // record of that hook's run, which precedes this call.)
        if kind == "delete", let close = Self.closeEntry(annotations, id) { entries.append(close) }
        Self.write(entries)
    }

    /// The close record that seals sandbox `id`'s records (AuditHead, AuditVerdict):
    /// after it the log refuses any record of `id` but a new sandbox's create.
    static func closeEntry(_ annotations: [String: String]?, _ id: String) -> Entry? {
        entry(annotations, id, "close") { [:] }
    }

    /// Logs locked ahead of records (`reserve`), by path, with the number of records
    /// still to come: appends to one use the lock already held instead of queueing
    /// behind the sandboxes' own, and it is let go after the last of them (several
    /// sandboxes may share a log).
    nonisolated(unsafe) static var reserved: [String: (fd: Int32, pending: Int)] = [:]

    /// Takes the lock of sandbox `id`'s log now, for a record written later by this
    /// process (LifecycleObserver.reserve): the emergency stop signals a sandbox
    /// before its stop record is written, and the sandbox's own last append (its
    /// close) must queue behind that record, not overtake it.
    func reserve(_ annotations: [String: String]?, _ id: String) {
        guard let annotations, let policyName = annotations[SandboxAnnotation.policy] else { return }
        let path = Self.destination(annotations, id, policyName: policyName).path
        if let held = Self.reserved[path] {
            Self.reserved[path] = (held.fd, held.pending + 1)
            return
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { return }
        // Bounded: an appender stuck on the log must not hold up an emergency stop (the
        // record is then written after the signal, as without a reservation).
        for _ in 0..<100 {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                Self.reserved[path] = (fd, 1)
                return
            }
            guard errno == EWOULDBLOCK || errno == EINTR else { break }
            usleep(2_000)
        }
        close(fd)
    }

    /// Nil for a plain container (and for what a `--hooks` spec's hooks record).
    static func entry(_ annotations: [String: String]?, _ id: String, _ kind: String, _ details: () -> [String: AuditValue]) -> Entry? {
        guard let annotations, let policyName = annotations[SandboxAnnotation.policy] else { return nil }
        if annotations[SandboxAnnotation.auditHooks] != nil, hookKinds.contains(kind) { return nil }
        var d = details()
        // Requests say who asked; what merely happened (exit, limits, changes) does not.
        if !observed.contains(kind) { d["by"] = .json(requester()) }
        // The create record says which policy made the sandbox (the command is the
        // runtime's detail: ContainerRuntime.recordCreate).
        if kind == "create", d["policy"] == nil { d["policy"] = .string(policyName) }
        return Entry(log: destination(annotations, id, policyName: policyName), record: AuditClient.Record(kind: kind, details: render(d)))
    }

    /// The log (and HMAC key file) of sandbox `id`: the annotations', else the policy's
    /// when an engine set only io.safehouse.policy (a spec from `agent spec` carries
    /// them, and the disk limit, in annotations), else `defaultLog(id)`. The warden is
    /// given the same (SandboxConfig.auditLog).
    static func destination(_ annotations: [String: String], _ id: String, policyName: String) -> AuditDestination {
        let audit = SandboxConfig.auditLog(of: annotations) { try? PolicyLibrary.configured(root: root).resolve(policyName, from: .annotation) }
        return AuditDestination(path: audit.log ?? defaultLog(id), key: audit.key, id: id)
    }

    /// Where a sandbox's records go when neither its spec nor its policy names a log.
    static func defaultLog(_ id: String) -> String { AuditLog.defaultPath(id: id) }

    /// Appends entries of one sandbox (same log, key and id) in one write.
    /// `wait`: return once the lines are written (the default: whoever reads the log
    /// after this command sees them, lock or no lock); `agent run` passes false for its
    /// first burst, which a child of this process then writes while the sandbox's
    /// command runs; its last burst waits, and takes the lock only after the first has
    /// let go, so both are in the log, in order, when `agent run` returns.
    ///
    /// The append is AuditChain's, in this process (or its fork): no executable is
    /// started, so a sandbox's records cost the runtime microseconds of hashing and the
    /// log's own writes, not the 3 ms of CPU a Foundation-linked appender takes to start.
    static func write(_ entries: [Entry], wait: Bool = true) {
        guard let log = entries.first?.log else { return }
        func warn(_ why: String) {
            let kinds = entries.map(\.record.kind).joined(separator: ", ")
            writeStderr("safehouse: warning: audit \(log.path): \(kinds) not recorded: \(why)\n")
        }
        // The append itself, through the one audit client, on `lockedFD` (closed there,
        // which lets the lock go unless another descriptor of the same open file still
        // holds it); false, said on stderr, when it was not written.
        @discardableResult
        func append(lockedFD: Int32) -> Bool {
            guard let failure = AuditClient.append(entries.map(\.record), to: log, lockedFD: lockedFD) else { return true }
            warn(failure.description)
            return false
        }
        // The lock is taken here, before any child: appends of this process keep their
        // order (a later one queues behind the child holding the lock), and readers
        // (`audit verify|show`) take a shared lock, so they see an append whole once
        // this command has returned.
        let fd: Int32
        if let held = reserved[log.path] {
            // A copy of the locked descriptor (a flock belongs to the open file, not to
            // one descriptor); ours keeps the lock while reserved records are still to
            // come, and goes with the last.
            fd = dup(held.fd)
            if held.pending > 1 {
                reserved[log.path] = (held.fd, held.pending - 1)
            } else {
                reserved[log.path] = nil
                close(held.fd)
            }
            guard fd >= 0 else { return warn("dup: \(SystemError.message(for: errno))") }
        } else {
            let dir = log.path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
            if !dir.isEmpty, !Files.isDirectory(dir) { try? Files.makeDirectories(dir) }
            fd = open(log.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
            guard fd >= 0 else { return warn(SystemError.message(for: errno)) }
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    close(fd)
                    return warn("flock: \(SystemError.message(for: errno))")
                }
            }
        }
        if !wait {
            // Not waited for: a plain fork (this process has one thread) writes it and
            // exits; a foreground `run` reaps it, otherwise init does.
            let pid = fork()
            if pid == 0 {
                // `run` blocks the signals it forwards: unblock. Only the log's descriptor
                // is kept: the child must not hold the container's sockets or fifo open.
                var none = sigset_t()
                sigemptyset(&none)
                sigprocmask(SIG_SETMASK, &none, nil)
                if dup2(fd, 3) < 0 { _exit(126) }
                try? FileDescriptor.closeAll(from: 4, except: [])
                _exit(append(lockedFD: 3) ? 0 : 1)
            }
            if pid > 0 {
                close(fd)
                return
            }
            // No child: write it now rather than not at all.
        }
        append(lockedFD: fd)
    }

    /// Who asked: the caller's uid, login uid (the user behind sudo), pid and parent.
    static func requester() -> String {
        var w = FlatJSONWriter()
        w.add("uid", Int64(getuid()))
        if let login = try? Files.read("/proc/self/loginuid", limit: 32), let text = String(validating: login, as: UTF8.self),
           let n = UInt32(text.trimmed("\n ")), n != UInt32.max {
            w.add("loginuid", Int64(n))
        }
        if let user = getenv("SUDO_USER") { w.add("sudoUser", String(cString: user)) }
        w.add("pid", Int64(getpid()))
        w.add("ppid", Int64(getppid()))
        if let cmd = try? Files.read("/proc/\(getppid())/comm", limit: 64) {
            w.add("parent", String(decoding: cmd, as: UTF8.self).trimmed("\n"))
        }
        return w.string
    }

    static func render(_ d: [String: AuditValue]) -> String {
        "{" + d.keys.sorted().map { key -> String in
            let v: String
            switch d[key]! {
            case .string(let s): v = FlatJSONWriter.quoted(s)
            case .int(let n): v = String(n)
            case .json(let j): v = j
            }
            return FlatJSONWriter.quoted(key) + ":" + v
        }.joined(separator: ",") + "}"
    }

}

extension String {
    func trimmed(_ set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

extension AuditSink {
    /// Replaces this process with `safehouse-audit` and the same arguments.
    static func execAuditCommand(_ arguments: [String]) -> Never {
        let command = arguments.first ?? "audit"
        guard let exe = executable else {
            writeStderr("safehouse: \(command): no safehouse-audit next to safehouse\n")
            exit(1)
        }
        var cArgs: [UnsafeMutablePointer<CChar>?] = (["safehouse"] + arguments).map { strdup($0) } + [nil]
        execv(exe, &cArgs)
        writeStderr("safehouse: \(command): exec \(exe): \(SystemError.message(for: errno))\n")
        exit(1)
    }
}

/// `agent run`'s records come in two bursts a few milliseconds long: create and start,
/// then (after the command) exit, delete, limits and changes. Each burst is held and
/// appended in one write, one safehouse-audit run instead of two and four or more;
/// the first is written as soon as the sandbox has started, before the command's
/// output is waited for. An emergency stop (another process) lands in between.
final class AuditBatch: LifecycleObserver {
    private var held: [AuditSink.Entry] = []
    /// The close record, once the delete is held: it goes last, after the limits and
    /// the change set that `agent run` records after the delete.
    private var close: AuditSink.Entry?

    func record(_ annotations: [String: String]?, _ id: String, _ kind: String, _ details: () -> [String: AuditValue]) {
        if kind == "delete" { close = AuditSink.closeEntry(annotations, id) }
        guard let entry = AuditSink.entry(annotations, id, kind, details) else { return }
        held.append(entry)
        if kind == "start" { flush(wait: false) }
    }

    func reserve(_ annotations: [String: String]?, _ id: String) {
        AuditSink().reserve(annotations, id)
    }

    func flush(wait: Bool = true) {
        if let close { held.append(close) }
        close = nil
        AuditSink.write(held, wait: wait)
        held.removeAll()
    }
}

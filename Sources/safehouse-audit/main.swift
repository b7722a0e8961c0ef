import ArgumentParser
import Audit
import AuditChain
import Foundation
import OCI
#if canImport(Glibc)
import Glibc
#endif

// `safehouse audit ...` and `safehouse hook ...`: the runtime executable execs this
// one with its own arguments (Sources/safehouse/main.swift), so that the Foundation
// that reading a log uses (AuditRecord, AuditVerdict) stays out of the runtime binary.

struct Root: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "safehouse",
        abstract: "A sandbox's audit log (hash-chained JSON lines) and the OCI hooks that write it.",
        subcommands: [AuditCommand.self, HookCommand.self])
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check, read or append to a sandbox's audit log.",
        subcommands: [Verify.self, Show.self, Append.self, Check.self])
}

func fail(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("safehouse: \(message)\n".utf8))
    exit(code)
}

/// The whole log, read under a shared flock: an append handed off by the runtime
/// (AuditSink) holds the exclusive lock until its line is written, so a reader that
/// starts after the runtime returned sees that append whole.
func readFile(_ path: String) -> [UInt8] { readFile(path, alsoUnderLock: {}) }

/// The same, running `also` before the lock is let go (the head is read with the log).
func readFile(_ path: String, alsoUnderLock also: () -> Void) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { fail("\(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    while flock(fd, LOCK_SH) != 0 && errno == EINTR {}
    defer { also() }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n < 0 { if errno == EINTR { continue }; fail("\(path): \(String(cString: strerror(errno)))") }
        if n == 0 { break }
        bytes.append(contentsOf: buffer[0..<n])
    }
    return bytes
}

/// ID or FILE: a path when it names a file or holds a slash, else the sandbox's default log.
func logPath(_ target: String) -> String {
    if target.contains("/") || FileManager.default.fileExists(atPath: target) { return target }
    return AuditLog.defaultPath(id: target)
}

func loadKey(_ path: String?) -> AuditKey? {
    guard let path else { return nil }
    do { return try AuditLog.readKey(path) } catch { fail("\(error)") }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a log's chain, its head and its close records: exit 0 and the record count when intact (closed, or open: a sandbox still running), 1 naming the first bad line or the cut.",
        discussion: """
            A log keeps a head beside it (FILE.head: the record count and the last line's hash, MACed with the key) and each \
            sandbox's records end with a close record written at its delete. With --key, a log cut at a line boundary fails \
            (its head says more records); without the key the head is only a checksum that whoever can write the log can \
            rewrite. A log from before heads were kept verifies with its tail unproven.
            """)
    @Argument(help: "The log file, or a sandbox id (\(AuditLog.defaultDirectory)/ID.audit.jsonl).") var log: String
    @Option(help: "The HMAC key file: every line's MAC is checked too.") var key: String?

    func run() throws {
        let path = logPath(log)
        var head: Result<AuditHead?, AuditError> = .success(nil)
        let bytes = readFile(path) { head = AuditHead.readResult(log: path) }
        let verdict = AuditVerdict(log: path, bytes: bytes, head: head, key: loadKey(key))
        if let failure = verdict.failure {
            fail("audit verify \(path): \(failure)")
        }
        print("\(path): \(verdict.summary)")
        for note in verdict.notes {
            FileHandle.standardError.write(Data("safehouse: note: \(note)\n".utf8))
        }
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a log's records (text or the JSON lines).")
    @Argument(help: "The log file, or a sandbox id (\(AuditLog.defaultDirectory)/ID.audit.jsonl).") var log: String
    @Option(help: "Only records of this kind (create, start, kill, exit, limit, changes, stop, ...).") var kind: String?
    @Option(help: "text or json (the lines as stored).") var format: String = "text"
    @Flag(help: "Keep printing records as they are appended (until interrupted).") var follow = false

    func run() throws {
        guard format == "text" || format == "json" else { fail("--format: \"\(format)\" is not one of text, json") }
        let path = logPath(log)
        var offset = 0
        var pending: [UInt8] = []
        while true {
            let bytes = readFile(path)
            if bytes.count > offset {
                pending += bytes[offset...]
                offset = bytes.count
                while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    emit(Array(pending[..<nl]))
                    pending.removeFirst(nl + 1)
                }
                fflush(nil)
            }
            if !follow { break }
            usleep(200_000)
        }
        if !pending.isEmpty {
            FileHandle.standardError.write(Data("safehouse: \(path): the last line is torn (no newline at its end)\n".utf8))
            throw ExitCode(1)
        }
    }

    func emit(_ line: [UInt8]) {
        guard let r = AuditRecord(line: line) else {
            print("?? " + AuditRecord.terminalSafe(String(decoding: line, as: UTF8.self)))
            return
        }
        if let kind, r.kind != kind { return }
        if format == "json" {
            print(String(decoding: line, as: UTF8.self))
        } else {
            print(AuditRecord.terminalSafe("\(r.time) #\(r.seq) \(r.id) \(r.kind)") + (r.details.isEmpty ? "" : " " + r.detailsText))
        }
    }
}

struct Append: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Append records of one sandbox in one write (what the runtime and the hooks use).", shouldDisplay: false)
    @Argument var log: String
    @Option var id: String
    @Option(help: "A record's kind; repeat --kind/--details for several records.") var kind: [String]
    @Option(help: "A JSON object, the details of the --kind before it.") var details: [String] = []
    @Option var key: String?
    /// Set by the fast path only (`--locked-fd N`): the log, already locked for us.
    var lockedFD: Int32?

    enum CodingKeys: String, CodingKey { case log, id, kind, details, key }

    func run() throws {
        Self.perform(log: log, id: id, kinds: kind, details: details, key: key, lockedFD: lockedFD)
    }

    /// The append itself, shared with the fast path (which never builds this command:
    /// its property wrappers alone cost argument-parser's metadata set-up).
    static func perform(log: String, id: String, kinds: [String], details: [String], key: String?, lockedFD: Int32?) {
        guard details.isEmpty || details.count == kinds.count else { fail("--details: one per --kind, or none") }
        let records = kinds.enumerated().map { i, k in
            let text = details.isEmpty ? "{}" : details[i]
            guard let canonical = CanonicalJSON.object(Array(text.utf8)) else { fail("--details: not a JSON object: \(text)") }
            return (kind: k, details: canonical)
        }
        do { try AuditLog(path: log, key: loadKey(key)).append(id: id, canonicalDetails: records, lockedFD: lockedFD) } catch { fail("audit: \(error)") }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Exit 0 when a record of sandbox --id could be appended to the log now (what the runtime asks before it starts a sandbox).",
        shouldDisplay: false)
    @Argument var log: String
    @Option var id: String
    @Option var kind = "create"
    @Option var key: String?

    func run() throws {
        do { try AuditLog(path: log, key: loadKey(key)).checkAppendable(id: id, kind: kind) } catch { fail("\(error)") }
    }
}

/// The agent-aware OCI hooks: any runtime runs them with the container's state on
/// stdin; each appends the lifecycle record to the log the spec's annotations name.
struct HookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook",
        abstract: "OCI hook entry point (createRuntime, poststart, poststop): append the lifecycle record to the sandbox's audit log.")
    @Argument(help: "createRuntime, poststart or poststop.") var stage: String
    @Option(help: "The log (default: the io.safehouse.audit annotation, else \(AuditLog.defaultDirectory)/ID.audit.jsonl).") var audit: String?
    @Option(help: "The HMAC key file (default: the io.safehouse.audit.key annotation).") var key: String?

    static let kinds = ["createRuntime": "create", "poststart": "start", "poststop": "delete"]

    func run() throws {
        guard let kind = Self.kinds[stage] else { fail("hook: \"\(stage)\" is not one of createRuntime, poststart, poststop") }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        guard let state = try? JSONSerialization.jsonObject(with: input) as? [String: Any], let id = state["id"] as? String else {
            fail("hook \(stage): stdin is not the container's state (JSON with an id)")
        }
        let annotations = state["annotations"] as? [String: String] ?? [:]
        let path = audit ?? annotations["io.safehouse.audit"] ?? AuditLog.defaultPath(id: id)
        var details: [String: Any] = ["via": "hook " + stage]
        if let pid = state["pid"] as? Int, pid > 0 { details["pid"] = pid }
        if let bundle = state["bundle"] as? String { details["bundle"] = bundle }
        if let status = state["status"] as? String { details["status"] = status }
        if let policy = annotations["io.safehouse.policy"] { details["policy"] = policy }
        // The create record says what runs, as the runtime's own does: the process's
        // args from the bundle's config.json (the state names the bundle).
        if kind == "create", let bundle = state["bundle"] as? String,
           let data = FileManager.default.contents(atPath: bundle + "/config.json"),
           let spec = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let process = spec["process"] as? [String: Any], let args = process["args"] as? [String] {
            details["command"] = args
        }
        var records: [(kind: String, details: [String: Any])] = [(kind, details)]
        // The poststop hook is the sandbox's last word under runc or crun: it closes the
        // log. safehouse records each hook's run after it, so it closes the log itself.
        if kind == "delete" && !Self.runBySafehouse() { records.append((kind: "close", details: ["via": "hook " + stage])) }
        do {
            try AuditLog(path: path, key: loadKey(key ?? annotations["io.safehouse.audit.key"])).append(id: id, records: records)
        } catch {
            fail("hook \(stage): \(error)")
        }
    }
}

extension HookCommand {
    /// Whether the runtime running this hook is the safehouse next to this executable.
    static func runBySafehouse() -> Bool {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/\(getppid())/exe", &buf, buf.count - 1)
        guard n > 0 else { return false }
        let parent = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let mine = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return false }
        return parent == (mine as NSString).deletingLastPathComponent + "/safehouse"
    }
}

/// `audit append FILE --id ID --kind K [--details JSON] [--key FILE]`, parsed by hand:
/// the runtime runs it once per record of a sandbox, and argument-parser's reflection
/// is most of a short command's start-up (FastPath.swift in the runtime says the same).
func fastAppend(_ args: [String]) -> Bool {
    guard args.count >= 3, args[0] == "audit", args[1] == "append", !args[2].hasPrefix("-") else { return false }
    // Plain variables, no Dictionary: a [String: String]'s first use costs ~375K
    // instructions of metadata in this one-shot process.
    var id: String?, key: String?, locked: String?
    var kinds: [String] = [], details: [String] = []
    var i = 3
    while i + 1 < args.count {
        switch args[i] {
        case "--id": id = args[i + 1]
        case "--key": key = args[i + 1]
        case "--locked-fd": locked = args[i + 1]
        case "--kind": kinds.append(args[i + 1]); details.append("{}")
        case "--details":
            guard !kinds.isEmpty else { return false }
            details[details.count - 1] = args[i + 1]
        default: return false
        }
        i += 2
    }
    guard i == args.count, let id, !kinds.isEmpty else { return false }
    var lockedFD: Int32?
    if let locked {
        guard let fd = Int32(locked), fd > 2 else { return false }
        lockedFD = fd
    }
    Append.perform(log: args[2], id: id, kinds: kinds, details: details, key: key, lockedFD: lockedFD)
    return true
}

if !fastAppend(Array(CommandLine.arguments.dropFirst())) {
    Root.main()
}

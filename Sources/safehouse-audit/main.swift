import Audit
import AuditChain
import Flags
import Foundation
import OCI
#if canImport(Glibc)
import Glibc
#endif

// `safehouse audit ...` and `safehouse hook ...`: the runtime executable execs this
// one with its own arguments (Sources/safehouse/main.swift), so that the Foundation
// that reading a log uses (AuditRecord, AuditVerdict) stays out of the runtime binary.

// Every command line is parsed by the table-driven parser the runtime uses, against
// the declarations in Sources/Flags/Verbs+Audit.swift.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("safehouse: \(message)\n".utf8))
    exit(1)
}

/// The whole log, read under a shared flock: an append handed off by the runtime
/// (AuditSink) holds the exclusive lock until its line is written, so a reader that
/// starts after the runtime returned sees that append whole. `also` runs before the
/// lock is let go (the head is read with the log).
func readFile(_ path: String, alsoUnderLock also: () -> Void = {}) -> [UInt8] {
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

/// `audit verify ID|FILE [--key FILE]`.
func verify(_ a: ParsedArguments) {
    let path = logPath(a.arguments[0])
    var head: Result<AuditHead?, AuditError> = .success(nil)
    let bytes = readFile(path) { head = AuditHead.readResult(log: path) }
    let verdict = AuditVerdict(log: path, bytes: bytes, head: head, key: loadKey(a.string("--key")))
    if let failure = verdict.failure {
        fail("audit verify \(path): \(failure)")
    }
    print("\(path): \(verdict.summary)")
    for note in verdict.notes {
        FileHandle.standardError.write(Data("safehouse: note: \(note)\n".utf8))
    }
}

/// `audit show ID|FILE [--kind K] [--format text|json] [--follow]`.
func show(_ a: ParsedArguments) {
    let kind = a.string("--kind")
    let format = a.value("--format")
    guard format == "text" || format == "json" else { fail("--format: \"\(format)\" is not one of text, json") }
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
    let path = logPath(a.arguments[0])
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
        if !a.isSet("--follow") { break }
        usleep(200_000)
    }
    if !pending.isEmpty {
        fail("\(path): the last line is torn (no newline at its end)")
    }
}

/// `audit append FILE --id ID --kind K [--details JSON] [--key FILE]`: the warden runs
/// it once per burst of a sandbox's egress records. Each --details belongs to
/// the --kind before it; a --kind without one has no details. `--locked-fd N`: the
/// log, already locked for us.
func append(_ a: ParsedArguments) throws {
    var records: [(kind: String, details: String)] = []
    for (flag, text) in a.given {
        if flag == "--kind" {
            records.append((kind: text ?? "", details: "{}"))
        } else if flag == "--details" {
            guard !records.isEmpty else { throw UsageError(verb: a.verb.path, "--details: follows the --kind it belongs to") }
            records[records.count - 1].details = text ?? "{}"
        }
    }
    var lockedFD: Int32?
    if let locked = a.string("--locked-fd") {
        guard let fd = Int32(locked), fd > 2 else { throw UsageError(verb: a.verb.path, "--locked-fd: \"\(locked)\" is not a descriptor above 2") }
        lockedFD = fd
    }
    let canonical = records.map { r in
        guard let details = CanonicalJSON.object(Array(r.details.utf8)) else { fail("--details: not a JSON object: \(r.details)") }
        return (kind: r.kind, details: details)
    }
    let log = AuditLog(path: a.arguments[0], key: loadKey(a.string("--key")))
    do { try log.append(id: a.value("--id"), canonicalDetails: canonical, lockedFD: lockedFD) } catch { fail("audit: \(error)") }
}

/// `audit check FILE --id ID [--kind K] [--key FILE]`.
func check(_ a: ParsedArguments) {
    let log = AuditLog(path: a.arguments[0], key: loadKey(a.string("--key")))
    do { try log.checkAppendable(id: a.value("--id"), kind: a.value("--kind")) } catch { fail("\(error)") }
}

/// The agent-aware OCI hooks: any runtime runs them with the container's state on
/// stdin; each appends the lifecycle record to the log the spec's annotations name.
func hook(_ a: ParsedArguments) {
    let stage = a.arguments[0]
    let kinds = ["createRuntime": "create", "poststart": "start", "poststop": "delete"]
    guard let kind = kinds[stage] else { fail("hook: \"\(stage)\" is not one of createRuntime, poststart, poststop") }
    let input = FileHandle.standardInput.readDataToEndOfFile()
    guard let state = try? JSONSerialization.jsonObject(with: input) as? [String: Any], let id = state["id"] as? String else {
        fail("hook \(stage): stdin is not the container's state (JSON with an id)")
    }
    let annotations = state["annotations"] as? [String: String] ?? [:]
    let path = a.string("--audit") ?? annotations["io.safehouse.audit"] ?? AuditLog.defaultPath(id: id)
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
    if kind == "delete" && !runBySafehouse() { records.append((kind: "close", details: ["via": "hook " + stage])) }
    do {
        try AuditLog(path: path, key: loadKey(a.string("--key") ?? annotations["io.safehouse.audit.key"])).append(id: id, records: records)
    } catch {
        fail("hook \(stage): \(error)")
    }
}

/// Whether the runtime running this hook is the safehouse next to this executable.
func runBySafehouse() -> Bool {
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/\(getppid())/exe", &buf, buf.count - 1)
    guard n > 0 else { return false }
    let parent = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard let mine = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return false }
    return parent == (mine as NSString).deletingLastPathComponent + "/safehouse"
}

let arguments = Array(CommandLine.arguments.dropFirst())

/// A usage error: one line, and 64 (EX_USAGE), this executable's status for one.
func usageFailure(_ error: UsageError) -> Never {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(64)
}

guard let (verb, next) = CommandLineParser.verb(in: arguments) else {
    if arguments.first == "audit", arguments.count == 1 || arguments[1] == "-h" || arguments[1] == "--help" {
        print(HelpText.group("audit"), terminator: "")
        exit(0)
    }
    usageFailure(UsageError(verb: arguments.first ?? "", "unknown command \"\(arguments.dropFirst().first ?? "")\""))
}
do {
    let parsed = try CommandLineParser.parse(arguments, from: next, as: verb)
    if parsed.helpRequested {
        print(HelpText.verb(verb), terminator: "")
        exit(0)
    }
    switch verb.path {
    case "audit verify": verify(parsed)
    case "audit show": show(parsed)
    case "audit append": try append(parsed)
    case "audit check": check(parsed)
    case "hook": hook(parsed)
    default: usageFailure(UsageError(verb: verb.path, "is a verb of the runtime, not of safehouse-audit"))
    }
} catch let error as UsageError {
    usageFailure(error)
} catch {
    fail("\(error)")
}

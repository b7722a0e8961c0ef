import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// The control channel of a sandbox's warden: how `safehouse agent allow|deny|rules`
/// (and later a live view) change and read the allowlist of a running sandbox.
///
/// A Unix stream socket, `<state dir>/egress.sock`, made by the warden for a sandbox
/// with egress, mode 0600 in the root-only state directory: only root on the host
/// reaches it, never the sandbox (it is in no mount of the sandbox's, and the sandbox's
/// network namespace has no path to it). Who asked is the kernel's word (SO_PEERCRED:
/// uid and pid; the command is the pid's /proc cmdline), not the client's.
///
/// One JSON object per line each way: a request, then its answer; a client may send
/// several requests on one connection.
///
///     {"op":"allow","rules":["other.test","*.pkg.test:443"]}
///     {"op":"deny","rules":["other.test"],"onBehalfOf":"api unix uid 1000 pid 4242"}
///     {"op":"rules"}
///     {"op":"stats"}
///
/// Answers: `{"ok":true,...}` or `{"ok":false,"error":"one line"}`. `allow` and `deny`
/// answer `changes` (["added allow other.test", "removed deny other.test", ...]) and
/// the `rules` after the change; `rules` answers `rules`, each
/// `{"rule":"www.test","effect":"allow","source":"policy"}`; `stats` answers
/// `allowed`, `denied`, `failed` (decisions so far), `bytesUp`, `bytesDown` (all
/// connections, each way) and `connections` (open now).
///
/// `onBehalfOf` (allow and deny, optional): whom a relaying client (the sandbox service)
/// asks for, in its own words. Recorded beside the kernel's word on the relay, never
/// instead of it: only root reaches the socket, so the claim is root's.
public enum EgressControl {
    public static let socketName = "egress.sock"
    /// A request line longer than this is refused (and the connection closed).
    public static let maximumRequestLength = 64 << 10

    public enum Operation: String, Sendable, CaseIterable {
        case allow, deny, rules, stats
    }

    public struct Request: Equatable, Sendable {
        public var operation: Operation
        /// The rules of `allow` and `deny` (at least one); empty otherwise.
        public var rules: [String]
        /// Whom the asker relays the request for (at most 200 characters); nil: itself.
        public var onBehalfOf: String?

        public init(_ operation: Operation, rules: [String] = [], onBehalfOf: String? = nil) {
            self.operation = operation
            self.rules = rules
            self.onBehalfOf = onBehalfOf
        }

        /// One line, without its newline.
        public var line: String {
            var w = FlatJSONWriter()
            w.add("op", operation.rawValue)
            if operation == .allow || operation == .deny {
                w.add("rules", rules)
                if let onBehalfOf { w.add("onBehalfOf", onBehalfOf) }
            }
            return w.string
        }

        /// Reads one request line; the error names the field.
        public init(line: [UInt8]) throws {
            guard let o = FlatJSONObject(parsing: line) else { throw EgressControlError("a request is one JSON object on a line") }
            guard let op = o.string("op") else { throw EgressControlError("op: missing (one of allow, deny, rules, stats)") }
            guard let operation = Operation(rawValue: op) else {
                throw EgressControlError("op: \"\(op)\" is not one of allow, deny, rules, stats")
            }
            self.operation = operation
            rules = []
            if operation == .allow || operation == .deny {
                guard let list = o.stringArray("rules"), !list.isEmpty else {
                    throw EgressControlError("rules: \(op) needs a list of at least one rule")
                }
                rules = list
                if o.contains("onBehalfOf") {
                    guard let who = o.string("onBehalfOf"), !who.isEmpty, who.count <= 200,
                          !who.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                        throw EgressControlError("onBehalfOf: a line of 1 to 200 characters without control characters")
                    }
                    onBehalfOf = who
                }
            }
        }
    }

    /// One rule of the allowlist as it stands, with where it came from.
    public struct Rule: Equatable, Sendable {
        public var rule: String
        /// `allow` or `deny`.
        public var effect: String
        /// `policy`, or who added it: `uid 0 pid 4242: safehouse agent allow ID other.test`.
        public var source: String

        public init(rule: String, effect: String, source: String) {
            self.rule = rule
            self.effect = effect
            self.source = source
        }

        /// How `agent rules` prints it: `allow www.test (policy)`.
        public var line: String { "\(effect) \(rule) (\(source))" }
    }

    public struct Stats: Equatable, Sendable {
        public var allowed: UInt64 = 0
        public var denied: UInt64 = 0
        public var failed: UInt64 = 0
        public var bytesUp: UInt64 = 0
        public var bytesDown: UInt64 = 0
        public var connections: UInt64 = 0
        public init() {}

        /// The answer's members, in the order they are written.
        static var members: [(String, WritableKeyPath<Stats, UInt64>)] {
            [("allowed", \.allowed), ("denied", \.denied), ("failed", \.failed),
             ("bytesUp", \.bytesUp), ("bytesDown", \.bytesDown), ("connections", \.connections)]
        }
    }

    public struct Answer: Equatable, Sendable {
        public var error: String?
        public var changes: [String] = []
        public var rules: [Rule]?
        public var stats: Stats?

        public init(error: String? = nil) { self.error = error }

        /// One line, without its newline.
        public var line: String {
            var w = FlatJSONWriter()
            w.add("ok", error == nil)
            if let error { w.add("error", error); return w.string }
            if !changes.isEmpty { w.add("changes", changes) }
            if let rules {
                w.add("rules", objects: rules.map { r in
                    var o = FlatJSONWriter()
                    o.add("rule", r.rule)
                    o.add("effect", r.effect)
                    o.add("source", r.source)
                    return o
                })
            }
            if let s = stats {
                for (key, field) in Stats.members { w.add(key, s[keyPath: field]) }
            }
            return w.string
        }

        public init(line: [UInt8]) throws {
            guard let o = FlatJSONObject(parsing: line), let ok = o.bool("ok") else {
                throw EgressControlError("the warden's answer is not a JSON object with ok")
            }
            if !ok {
                error = o.string("error") ?? "the warden refused without a reason"
                return
            }
            changes = o.stringArray("changes") ?? []
            if let list = o.objects("rules") {
                rules = try list.map { r in
                    guard let rule = r.string("rule"), let effect = r.string("effect"), let source = r.string("source") else {
                        throw EgressControlError("rules: an entry without rule, effect and source")
                    }
                    return Rule(rule: rule, effect: effect, source: source)
                }
            }
            if o.contains("allowed") {
                var s = Stats()
                for (key, field) in Stats.members { s[keyPath: field] = o.uint64(key) ?? 0 }
                stats = s
            }
        }
    }

    /// A Unix socket's address holds 107 bytes of path; a state directory may be
    /// deeper (ids run to 1024 characters). `body` gets a path to `path` that fits:
    /// `path` itself, or `/proc/self/fd/N/NAME` through a descriptor of its directory,
    /// held open while `body` runs (binding or connecting through it is the same file).
    public static func withShortPath<T>(_ path: String, _ body: (String) throws -> T) throws -> T {
        guard path.utf8.count > 100, let slash = path.lastIndex(of: "/") else { return try body(path) }
        let directory = String(path[..<slash])
        let fd = try FileDescriptor.openPath(directory: directory.isEmpty ? "/" : directory)
        defer { fd.close() }
        return try body("/proc/self/fd/\(fd.rawValue)/" + path[path.index(after: slash)...])
    }

    /// Sends `request` to the warden listening at `socket` and reads its answer (at
    /// most `timeout` seconds for each): the CLI's side. An answer with an error is
    /// returned, not thrown; a socket that cannot be reached throws.
    public static func ask(_ request: Request, socket path: String, timeout: Int = 10) throws -> Answer {
        let fd = try withShortPath(path) { try Sockets.connect(unixPath: $0) }
        defer { fd.close() }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        _ = setsockopt(fd.rawValue, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd.rawValue, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        try fd.write(request.line + "\n")
        var answer: [UInt8] = []
        while !answer.contains(UInt8(ascii: "\n")) {
            let chunk = try fd.read(upTo: 65536)
            if chunk.isEmpty { break }
            answer += chunk
            if answer.count > 16 << 20 { throw EgressControlError("the warden's answer is over 16 MiB") }
        }
        guard let end = answer.firstIndex(of: UInt8(ascii: "\n")) else {
            throw EgressControlError("the warden closed the channel without an answer")
        }
        return try Answer(line: Array(answer[..<end]))
    }
}

/// A control request or answer that cannot be used, in one line.
public struct EgressControlError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

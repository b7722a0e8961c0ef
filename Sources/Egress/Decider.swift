/// A policy's `network.decider`: who is asked about a destination no rule covers
/// (no allow rule and no refusal names its host or address, on any port).
///
/// - `exec:/path/prog`: the warden runs `prog HOST PORT` (no shell, standard input
///   /dev/null, PATH only in its environment) and reads the first line of its
///   standard output: `allow` or `deny`, optionally followed by a space and a reason.
///   Exit status 0 is required.
/// - `http://127.0.0.1:PORT/PATH` (or `http://[::1]:PORT/PATH`): the warden sends
///   `POST PATH` with `{"host":"other.test","port":443}` and reads a 200 answer whose
///   body is `{"allow":true,"reason":"..."}` (reason optional). Loopback literals only:
///   the decider runs on the host, and a name could be made to point elsewhere.
/// - `unix:/path/decider.sock`: the same HTTP request (`POST /decide`) over a Unix
///   socket on the host: a decider only root reaches when the socket's directory is
///   root's (the sandbox service's client deciders, one socket per sandbox).
///
/// Port 0 in a question means a name lookup (the sandbox's DNS, before any port is
/// known): an answer about port 0 stands for the name on every port.
///
/// Anything else (no answer by the deadline, a crash, another exit status or HTTP
/// status, an unreadable answer) is a refusal.
public enum DeciderTarget: Equatable, Sendable, CustomStringConvertible {
    case exec(path: String)
    case http(address: IPAddress, port: UInt16, path: String)
    case unix(socket: String)

    /// The request path of a `unix:` decider.
    public static let unixRequestPath = "/decide"

    public init(_ text: String) throws {
        func fail(_ why: String) -> EgressPolicyError { EgressPolicyError("\"\(text)\": \(why)") }
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard path.hasPrefix("/"), !path.contains("\0"), path.count > 1, !path.hasSuffix("/") else {
                throw fail("unix: needs an absolute path to a socket (unix:/path/decider.sock)")
            }
            self = .unix(socket: path)
            return
        }
        if text.hasPrefix("exec:") {
            let path = String(text.dropFirst(5))
            guard path.hasPrefix("/"), !path.contains("\0"), path.count > 1 else {
                throw fail("exec: needs an absolute path (exec:/path/prog)")
            }
            self = .exec(path: path)
            return
        }
        guard text.hasPrefix("http://") else {
            throw fail("not exec:/path/prog, http://127.0.0.1:PORT/PATH or unix:/path/decider.sock")
        }
        let rest = text.dropFirst(7)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        guard !path.isEmpty else { throw fail("needs a path after the port (http://127.0.0.1:PORT/decide)") }
        guard path.allSatisfy({ $0.isASCII && $0 > " " && $0 != "\u{7F}" }) else { throw fail("the path has spaces or control characters") }
        let hostText: Substring, portText: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]"), authority[authority.index(after: close)...].hasPrefix(":") else {
                throw fail("needs a port (http://[::1]:PORT/PATH)")
            }
            hostText = authority[authority.index(after: authority.startIndex)..<close]
            portText = authority[authority.index(close, offsetBy: 2)...]
        } else {
            guard let colon = authority.lastIndex(of: ":") else { throw fail("needs a port (http://127.0.0.1:PORT/PATH)") }
            hostText = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        }
        guard let address = IPAddress(String(hostText)), AddressPolicy.reservedRange(of: address)?.kind == "loopback" else {
            throw fail("the host must be a loopback address (127.0.0.1 or [::1]): the decider runs on this host")
        }
        guard let port = PortSet(portText), port.ranges.count == 1, port.ranges[0].count == 1 else {
            throw fail("bad port \"\(portText)\" (a number 1-65535)")
        }
        self = .http(address: address, port: port.ranges[0].lowerBound, path: String(path))
    }

    public var description: String {
        switch self {
        case .exec(let path): return "exec:" + path
        case .http(let a, let port, let path): return "http://\(a.family == .v6 ? "[\(a)]" : "\(a)"):\(port)\(path)"
        case .unix(let socket): return "unix:" + socket
        }
    }
}

/// A decider's answer, or why there is none (a refusal either way).
public struct DeciderVerdict: Equatable, Sendable {
    public var allowed: Bool
    /// The decider's reason, or what went wrong (a timeout, a crash).
    public var reason: String
    /// False when the decider gave no answer: such a refusal is not remembered, so the
    /// next connection asks again.
    public var answered: Bool

    public init(allowed: Bool, reason: String, answered: Bool = true) {
        self.allowed = allowed
        self.reason = reason
        self.answered = answered
    }

    public static func failure(_ why: String) -> DeciderVerdict { DeciderVerdict(allowed: false, reason: why, answered: false) }

    /// An exec decider's standard output: its first line, `allow` or `deny` then an
    /// optional reason.
    public static func parse(execOutput bytes: [UInt8]) -> DeciderVerdict {
        let line = String(decoding: bytes.prefix { $0 != UInt8(ascii: "\n") }.prefix(1000), as: UTF8.self)
        let word = line.prefix { $0 != " " && $0 != "\t" && $0 != "\r" }
        let reason = String(line.dropFirst(word.count).drop { $0 == " " || $0 == "\t" }).trimmingCharacters(in: "\r ")
        switch word {
        case "allow": return DeciderVerdict(allowed: true, reason: reason)
        case "deny": return DeciderVerdict(allowed: false, reason: reason)
        default: return .failure("the decider's answer is not allow or deny: \"\(line.prefix(100))\"")
        }
    }
}

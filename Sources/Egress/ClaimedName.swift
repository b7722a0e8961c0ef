/// The host a connection's first bytes ask for, whatever address it was sent to: the
/// `Host` header of a plain HTTP request (port 80) or the server name of a TLS
/// ClientHello (port 443). A captured connection (or a SOCKS one) to those ports is
/// judged by that name, as the explicit proxy judges a request's host, so an allowed
/// address cannot carry a request for another site (virtual hosting and CDNs serve
/// many names from one address). Other ports carry protocols that may have the
/// server speak first (ssh, SMTP): they are judged by address without waiting.
public enum ClaimedName {
    public enum Sniff: Equatable, Sendable {
        case needMoreBytes
        /// The name the bytes claim, or nil when they claim none (HTTP without Host,
        /// not HTTP on port 80, TLS without SNI).
        case claimed(String?)
        /// Port 443 that does not begin with TLS: refused, as the proxy refuses plain
        /// text through a CONNECT tunnel.
        case notTLS(String)
        /// An HTTP request the check cannot stand behind (a target of another scheme or
        /// port, in authority or asterisk form; a head that does not end within
        /// `maximumLength`): refused with this reason.
        case refused(String)
    }

    /// Ports whose first bytes are read before deciding.
    public static func sniffs(port: UInt16) -> Bool { port == 80 || port == 443 }

    /// Most bytes waited for: a request head or one TLS record.
    public static let maximumLength = ClientHello.maximumLength

    public static func sniff(_ bytes: [UInt8], port: UInt16) -> Sniff {
        switch port {
        case 443:
            switch ClientHello.parse(bytes) {
            case .needMoreBytes: return bytes.count > maximumLength ? .notTLS("ClientHello too large") : .needMoreBytes
            case .notTLS(let why): return .notTLS(why)
            case .serverName(let name): return .claimed(name)
            }
        case 80: return httpHost(bytes)
        default: return .claimed(nil)
        }
    }

    /// The host an HTTP/1 request head asks for; nil for anything that is not one.
    /// A server routes by the request target when it is absolute (RFC 9112 3.2.2:
    /// `GET http://other.test/ HTTP/1.1` goes to other.test whatever Host says), so
    /// an absolute target is the claim, and its Host, if any, must agree (checked by
    /// `originRequest`, which also rewrites it to origin form). An origin-form target
    /// claims its Host.
    static func httpHost(_ bytes: [UInt8]) -> Sniff {
        // A request whose head never ends within the limit is refused, not relayed as
        // it is: its Host, somewhere past the limit, would never have been read.
        guard let lineEnd = firstCRLF(bytes, from: 0) else {
            guard mayBeRequestLine(bytes) else { return .claimed(nil) }
            return bytes.count > maximumLength ? .refused("request line longer than \(maximumLength) bytes") : .needMoreBytes
        }
        let line = String(decoding: bytes[..<lineEnd], as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
        guard line.count == 3, line[2].hasPrefix("HTTP/1."), looksLikeMethod(Array(line[0].utf8)) else { return .claimed(nil) }
        guard let end = ProxyRequest.headEnd(bytes) else {
            return bytes.count > maximumLength ? .refused("request head larger than \(maximumLength) bytes") : .needMoreBytes
        }
        switch RequestTarget(String(line[1])) {
        case .origin: break
        case .absolute(let host, let port):
            guard port == 80 else { return .refused("request target \(printable(line[1])) names port \(port), not 80") }
            return .claimed(host)
        case .invalid(let why): return .refused(why)
        }
        let head = String(decoding: bytes[(lineEnd + 2)..<end], as: UTF8.self)
        for header in head.split(separator: "\r\n") {
            guard let colon = header.firstIndex(of: ":"), header[..<colon].lowercased() == "host" else { continue }
            let value = String(header[header.index(after: colon)...]).trimmingCharacters(in: " \t")
            guard let (host, _) = ProxyRequest.splitAuthority(value, defaultPort: 80) else { return .claimed(nil) }
            return .claimed(host)
        }
        return .claimed(nil)
    }

    /// The forms of a request target a captured port-80 connection may carry: origin
    /// form (`/path?q`) or absolute `http://` form. Authority form belongs to CONNECT
    /// and asterisk form to a server-wide OPTIONS: neither names a site the check
    /// could judge, and a server that proxies would act on the former.
    enum RequestTarget: Equatable {
        case origin
        case absolute(host: String, port: UInt16)
        case invalid(String)

        init(_ target: String) {
            if target.hasPrefix("/") { self = .origin; return }
            // scheme "://" (RFC 3986 3.1: a letter, then letters, digits, "+", "-", ".").
            let scheme = target.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") }
            guard !scheme.isEmpty, target[scheme.endIndex...].hasPrefix("://") else {
                self = .invalid("request target \(ClaimedName.printable(Substring(target))) is neither /path nor http://host/path")
                return
            }
            guard scheme.lowercased() == "http" else {
                self = .invalid("request target \(ClaimedName.printable(Substring(target))): scheme \(ClaimedName.printable(scheme)) is not http")
                return
            }
            let rest = target[target.index(scheme.endIndex, offsetBy: 3)...]
            let authority = String(rest[..<(rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex)])
            guard !authority.contains("@"), let (host, port) = ProxyRequest.splitAuthority(authority, defaultPort: 80) else {
                self = .invalid("bad host in request target \(ClaimedName.printable(Substring(target)))")
                return
            }
            self = .absolute(host: host, port: port)
        }
    }

    /// Client text quoted in a reason: printable ASCII only, at most 100 characters.
    static func printable(_ text: Substring) -> String {
        let shown = text.unicodeScalars.prefix(100).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f ? Character($0) : "?" }
        return "\"" + String(shown) + (text.unicodeScalars.count > 100 ? "...\"" : "\"")
    }

    /// An HTTP method is an upper-case token; checked on the first bytes so that a
    /// binary protocol on port 80 is not waited on for a line end.
    static func looksLikeMethod(_ bytes: [UInt8]) -> Bool {
        let token = bytes.prefix { $0 != 32 }
        return !token.isEmpty && token.count <= 16 && token.allSatisfy { (65...90).contains($0) }
    }

    /// Whether a line begun so far could still be a request line (nothing yet can).
    static func mayBeRequestLine(_ bytes: [UInt8]) -> Bool {
        let token = bytes.prefix { $0 != 32 }
        guard token.count <= 16, token.allSatisfy({ (65...90).contains($0) }) else { return false }
        return token.count < bytes.count ? !token.isEmpty : true
    }

    static func firstCRLF(_ b: [UInt8], from start: Int) -> Int? {
        guard b.count >= 2 else { return nil }
        for i in start..<(b.count - 1) where b[i] == 13 && b[i + 1] == 10 { return i }
        return nil
    }
}

extension ClaimedName {
    /// A plain HTTP request read from a captured (or SOCKS) connection, as it goes to
    /// the server: the proxy's own rewrite (ProxyRequest), so the same guards hold:
    /// one request per connection (`Connection: close`, then only `bodyLength` bytes
    /// of body: a pipelined second request, whose Host was never checked, is dropped),
    /// no chunked uploads, one Host.
    public struct OriginRequest: Equatable, Sendable {
        public let head: [UInt8]
        public let bodyLength: UInt64
        /// Bytes of the client's head; its body follows.
        public let headLength: Int
    }

    public enum Forward: Equatable, Sendable {
        case request(OriginRequest)
        case invalid(String)
        /// Not a complete HTTP/1 request head with a Host header: relayed as it is
        /// (it was judged by address).
        case notHTTP
    }

    /// `defaultAuthority`: the Host given to a request that has none (the destination
    /// it was judged by), so that it too goes upstream as one bounded request; without
    /// one such a request is `.notHTTP`.
    public static func originRequest(_ bytes: [UInt8], defaultAuthority: String? = nil) -> Forward {
        guard let lineEnd = firstCRLF(bytes, from: 0), let end = ProxyRequest.headEnd(bytes) else { return .notHTTP }
        let line = String(decoding: bytes[..<lineEnd], as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
        guard line.count == 3, line[2].hasPrefix("HTTP/1."), looksLikeMethod(Array(line[0].utf8)) else { return .notHTTP }
        var claimed: String?
        switch httpHost(bytes) {
        case .refused(let why): return .invalid(why)
        case .needMoreBytes, .notTLS: return .notHTTP
        case .claimed(let host): claimed = host
        }
        let hostHeader = String(decoding: bytes[(lineEnd + 2)..<end], as: UTF8.self).split(separator: "\r\n")
            .first { $0.lowercased().hasPrefix("host:") }.map { String($0.dropFirst(5)).trimmingCharacters(in: " \t") }
        if claimed == nil {
            guard let defaultAuthority else { return .notHTTP }
            if let hostHeader { return .invalid("Host \(printable(Substring(hostHeader))) is not a host[:port]") }
            claimed = defaultAuthority
        }
        guard line[1].hasPrefix("/") else {
            // Absolute form is what the proxy itself reads: its parser checks that Host
            // names the target's host and port, and rewrites the target to origin form.
            return forward(ProxyRequest.parse(Array(bytes[..<end])), headLength: end)
        }
        let hostValue = hostHeader ?? claimed ?? ""
        // As the proxy would have received it: absolute-form, then its parser.
        let absolute = Array("\(line[0]) http://\(hostValue)\(line[1]) \(line[2])".utf8) + Array(bytes[lineEnd..<end])
        return forward(ProxyRequest.parse(absolute), headLength: end)
    }

    static func forward(_ parsed: ProxyRequest.Parse, headLength: Int) -> Forward {
        switch parsed {
        case .request(let r):
            guard case .forward(let head, let bodyLength) = r.kind else { return .notHTTP }
            return .request(OriginRequest(head: head, bodyLength: bodyLength, headLength: headLength))
        case .invalid(_, let reason): return .invalid(reason)
        case .needMoreBytes: return .notHTTP
        }
    }
}

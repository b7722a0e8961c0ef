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

    /// The Host of an origin-form HTTP/1 request head; nil for anything else.
    static func httpHost(_ bytes: [UInt8]) -> Sniff {
        guard let lineEnd = firstCRLF(bytes, from: 0) else {
            return bytes.count > maximumLength || !mayBeRequestLine(bytes) ? .claimed(nil) : .needMoreBytes
        }
        let line = String(decoding: bytes[..<lineEnd], as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
        guard line.count == 3, line[2].hasPrefix("HTTP/1."), looksLikeMethod(Array(line[0].utf8)) else { return .claimed(nil) }
        guard let end = ProxyRequest.headEnd(bytes) else { return bytes.count > maximumLength ? .claimed(nil) : .needMoreBytes }
        let head = String(decoding: bytes[(lineEnd + 2)..<end], as: UTF8.self)
        for header in head.split(separator: "\r\n") {
            guard let colon = header.firstIndex(of: ":"), header[..<colon].lowercased() == "host" else { continue }
            let value = String(header[header.index(after: colon)...]).trimmingCharacters(in: " \t")
            guard let (host, _) = ProxyRequest.splitAuthority(value, defaultPort: 80) else { return .claimed(nil) }
            return .claimed(host)
        }
        return .claimed(nil)
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

    public static func originRequest(_ bytes: [UInt8]) -> Forward {
        guard let lineEnd = firstCRLF(bytes, from: 0), let end = ProxyRequest.headEnd(bytes) else { return .notHTTP }
        let line = String(decoding: bytes[..<lineEnd], as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
        guard line.count == 3, line[2].hasPrefix("HTTP/1."), looksLikeMethod(Array(line[0].utf8)), line[1].hasPrefix("/") else { return .notHTTP }
        guard case .claimed(let host?) = httpHost(bytes) else { return .notHTTP }
        let hostValue = String(decoding: bytes[(lineEnd + 2)..<end], as: UTF8.self).split(separator: "\r\n")
            .first { $0.lowercased().hasPrefix("host:") }.map { String($0.dropFirst(5)).trimmingCharacters(in: " \t") } ?? host
        // As the proxy would have received it: absolute-form, then its parser.
        let absolute = Array("\(line[0]) http://\(hostValue)\(line[1]) \(line[2])".utf8) + Array(bytes[lineEnd..<end])
        switch ProxyRequest.parse(absolute) {
        case .request(let r):
            guard case .forward(let head, let bodyLength) = r.kind else { return .notHTTP }
            return .request(OriginRequest(head: head, bodyLength: bodyLength, headLength: end))
        case .invalid(_, let reason): return .invalid(reason)
        case .needMoreBytes: return .notHTTP
        }
    }
}

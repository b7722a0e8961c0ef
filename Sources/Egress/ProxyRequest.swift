/// The head of a request a sandboxed client sends to its proxy, parsed and judged
/// before anything leaves: `CONNECT host:port` (a tunnel) or a forward request with an
/// absolute `http://` target whose `Host` header must name the same host and port.
public struct ProxyRequest: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case connect
        /// A plain HTTP request; `head` is what goes to the origin server: origin-form
        /// target, no `Proxy-*` headers, `Connection: close`. `bodyLength` bytes of body
        /// follow it (Content-Length; 0 without one) and nothing else: one request per
        /// upstream connection, so a pipelined second request, whose Host was never
        /// checked, never reaches the server through this checked connection.
        case forward(head: [UInt8], bodyLength: UInt64)
    }

    public let kind: Kind
    public let method: String
    public let host: String
    public let port: UInt16
    /// Bytes of the head, including the blank line: what follows belongs to the body
    /// or to the tunnel.
    public let headLength: Int

    /// Largest request head accepted.
    public static let maximumHeadLength = 32 * 1024

    public enum Parse: Equatable, Sendable {
        case needMoreBytes
        case request(ProxyRequest)
        /// Refused: status code and a one-line reason.
        case invalid(status: Int, reason: String)
    }

    public static func parse(_ bytes: [UInt8]) -> Parse {
        guard let end = headEnd(bytes) else {
            return bytes.count > maximumHeadLength ? .invalid(status: 431, reason: "request head too large") : .needMoreBytes
        }
        let text = String(decoding: bytes[..<end], as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        while lines.last == "" { lines.removeLast() }
        guard let requestLine = lines.first else { return .invalid(status: 400, reason: "empty request") }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else { return .invalid(status: 400, reason: "bad request line") }
        let method = parts[0], target = parts[1]
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":"), !line.hasPrefix(" "), !line.hasPrefix("\t") else {
                return .invalid(status: 400, reason: "bad header line")
            }
            // A field name is a token (RFC 9110 5.1): "Host :" or "Host\t:" is not Host
            // here, yet some server might read it as Host (RFC 9112 5.1 has it refused).
            guard isToken(line[..<colon]) else { return .invalid(status: 400, reason: "bad header name") }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: " \t")))
        }
        let hostHeaders = headers.filter { $0.name.lowercased() == "host" }
        guard hostHeaders.count <= 1 else { return .invalid(status: 400, reason: "more than one Host header") }

        if method == "CONNECT" {
            guard let (host, port) = splitAuthority(target, defaultPort: nil) else {
                return .invalid(status: 400, reason: "CONNECT target \"\(target)\" is not host:port")
            }
            return .request(ProxyRequest(kind: .connect, method: method, host: host, port: port, headLength: end))
        }
        guard target.lowercased().hasPrefix("http://") else {
            if target.lowercased().hasPrefix("https://") {
                return .invalid(status: 400, reason: "https:// targets go through CONNECT")
            }
            return .invalid(status: 400, reason: "a proxy request needs an absolute http:// target")
        }
        let rest = target.dropFirst(7)
        let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = String(rest[..<slash])
        var path = String(rest[slash...])
        if path.isEmpty { path = "/" } else if path.hasPrefix("?") { path = "/" + path }
        guard !authority.contains("@"), let (host, port) = splitAuthority(authority, defaultPort: 80) else {
            return .invalid(status: 400, reason: "bad host in \"\(target)\"")
        }
        // The Host header must name what the target names; the proxy checks the target.
        if let given = hostHeaders.first?.value {
            guard let (h, p) = splitAuthority(given, defaultPort: 80), h == host, p == port else {
                return .invalid(status: 403, reason: "Host \"\(given)\" does not match the request target \(authority)")
            }
        }
        // A chunked body's end is only known by parsing it; refusing it keeps the relay a
        // byte count (clients send Content-Length for uploads through a proxy).
        if headers.contains(where: { $0.name.lowercased() == "transfer-encoding" }) {
            return .invalid(status: 411, reason: "a request body needs Content-Length (Transfer-Encoding is not relayed)")
        }
        let lengths = headers.filter { $0.name.lowercased() == "content-length" }.map(\.value)
        guard Set(lengths).count <= 1 else { return .invalid(status: 400, reason: "conflicting Content-Length headers") }
        var bodyLength: UInt64 = 0
        if let text = lengths.first {
            guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let n = UInt64(text) else {
                return .invalid(status: 400, reason: "bad Content-Length \"\(text)\"")
            }
            bodyLength = n
        }
        var out = "\(method) \(path) \(parts[2])\r\n"
        out += "Host: \(hostHeaders.first?.value ?? authority)\r\n"
        for h in headers {
            let n = h.name.lowercased()
            if n == "host" || n == "connection" || n == "keep-alive" || n.hasPrefix("proxy-") { continue }
            out += "\(h.name): \(h.value)\r\n"
        }
        out += "Connection: close\r\n\r\n"
        return .request(ProxyRequest(kind: .forward(head: Array(out.utf8), bodyLength: bodyLength), method: method, host: host,
                                     port: port, headLength: end))
    }

    /// `host:port`, `[v6]:port`, or `host` (with a default port); host lower-cased.
    static func splitAuthority(_ text: String, defaultPort: UInt16?) -> (String, UInt16)? {
        var host = Substring(text), portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.startIndex...close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty { guard after.hasPrefix(":") else { return nil }; portText = after.dropFirst() }
        } else if let colon = text.lastIndex(of: ":") {
            guard text.filter({ $0 == ":" }).count == 1 else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        let port: UInt16
        if let portText {
            guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let p = UInt16(portText), p > 0 else { return nil }
            port = p
        } else {
            guard let d = defaultPort else { return nil }
            port = d
        }
        guard !host.isEmpty else { return nil }
        return (host.lowercased(), port)
    }

    /// RFC 9110 5.6.2 tchar: ALPHA / DIGIT / "!#$%&'*+-.^_`|~".
    static func isToken(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || "!#$%&'*+-.^_`|~".utf8.contains(c)
        }
    }

    static func headEnd(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i + 4 }
        return nil
    }
}

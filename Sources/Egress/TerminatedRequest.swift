/// A request read from inside TLS the proxy terminated for a secret's host, judged as
/// the proxy judges a plain HTTP one (ProxyRequest): one request per connection
/// (`Connection: close`, then only `bodyLength` bytes of body; a pipelined second
/// request is dropped), no chunked uploads, one Host, and that Host must be the
/// server name the connection was made for: the secret was admitted for that host,
/// and a server picks its site by Host (a request naming another would front for it).
public enum TerminatedRequest {
    public enum Parse: Equatable, Sendable {
        case needMoreBytes
        /// Answered inside the TLS session with this status and one-line reason.
        case invalid(status: Int, reason: String)
        /// `head` is what goes to the server (origin form, no `Proxy-*`, `Connection:
        /// close`); `headLength` bytes of the client's were the head, its body follows.
        case request(head: [UInt8], bodyLength: UInt64, headLength: Int)
    }

    /// `serverName`: the TLS server name (SNI) the client asked for, lower case.
    public static func parse(_ bytes: [UInt8], serverName: String) -> Parse {
        guard let end = ProxyRequest.headEnd(bytes) else {
            return bytes.count > ProxyRequest.maximumHeadLength ? .invalid(status: 431, reason: "request head too large") : .needMoreBytes
        }
        guard let lineEnd = ClaimedName.firstCRLF(bytes, from: 0) else { return .invalid(status: 400, reason: "bad request line") }
        let line = String(decoding: bytes[..<lineEnd], as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
        guard line.count == 3, line[2].hasPrefix("HTTP/1."), ClaimedName.looksLikeMethod(Array(line[0].utf8)) else {
            return .invalid(status: 400, reason: "bad request line")
        }
        guard line[1].hasPrefix("/") else { return .invalid(status: 400, reason: "the request target is not a path") }
        let hosts = String(decoding: bytes[(lineEnd + 2)..<end], as: UTF8.self).split(separator: "\r\n")
            .filter { $0.lowercased().hasPrefix("host:") }.map { String($0.dropFirst(5)).trimmingCharacters(in: " \t") }
        guard hosts.count == 1, let host = hosts.first, !host.isEmpty else {
            return .invalid(status: 400, reason: "the request needs one Host header")
        }
        // As the proxy would have received it: absolute form, then its own parser, which
        // checks the headers and makes the head that goes upstream.
        let absolute = Array("\(line[0]) http://\(host)\(line[1]) \(line[2])".utf8) + Array(bytes[lineEnd..<end])
        switch ProxyRequest.parse(absolute) {
        case .needMoreBytes: return .invalid(status: 400, reason: "bad request head")
        case .invalid(let status, let reason): return .invalid(status: status, reason: reason)
        case .request(let request):
            guard request.host == serverName else {
                return .invalid(status: 421, reason: "Host \(ClaimedName.printable(Substring(host))) is not \(serverName), the server this connection was made for")
            }
            guard case .forward(let head, let bodyLength) = request.kind else { return .invalid(status: 400, reason: "bad request") }
            return .request(head: head, bodyLength: bodyLength, headLength: end)
        }
    }
}

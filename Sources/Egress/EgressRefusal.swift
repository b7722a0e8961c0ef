/// The status line the proxy answers a refused request with. Clients of a proxy show
/// the status line of a failed CONNECT and never its body (pip, requests, curl: "Tunnel
/// connection failed: 403 ..."), so the reason travels in the reason phrase:
/// `HTTP/1.1 403 safehouse: example.com matches no rule of network.allow`.
public enum EgressRefusal {
    /// Longest reason phrase sent; longer reasons are cut (the audit record keeps all).
    public static let maximumPhraseLength = 300

    /// `HTTP/1.1 STATUS safehouse: REASON` and its CRLF.
    public static func statusLine(status: Int, reason: String) -> String {
        "HTTP/1.1 \(status) safehouse: \(reasonPhrase(reason))\r\n"
    }

    /// The whole answer: the status line, and one line naming the reason as its body.
    public static func response(status: Int, reason: String) -> String {
        let body = "safehouse egress: \(reasonPhrase(reason))\n"
        return statusLine(status: status, reason: reason)
            + "Content-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
    }

    /// `reason` as RFC 9112 allows a reason phrase (HTAB, SP, visible ASCII): parts of
    /// it come from the client (a host, a target), and a CR or LF there would end the
    /// status line and let the client write the proxy's answer. Control characters,
    /// DEL and non-ASCII become "?", tabs a space.
    public static func reasonPhrase(_ reason: String) -> String {
        var out = ""
        for scalar in reason.unicodeScalars {
            if out.unicodeScalars.count >= maximumPhraseLength { out += "..."; break }
            switch scalar.value {
            case 0x09: out += " "
            case 0x20..<0x7f: out.unicodeScalars.append(scalar)
            default: out += "?"
            }
        }
        return out
    }
}

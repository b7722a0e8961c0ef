/// SOCKS version 5 (RFC 1928), the part tools need to reach a host through the
/// warden: no authentication, `CONNECT` only, with an IPv4 or IPv6 address or a
/// domain name (the warden resolves names itself, as for `CONNECT`, so a client using
/// `socks5h://` never needs DNS). BIND and UDP ASSOCIATE are refused: a sandbox gets
/// no listening port outside and no UDP.
public enum Socks5 {
    public static let version: UInt8 = 5
    public static let noAuthentication: UInt8 = 0
    public static let noAcceptableMethod: UInt8 = 0xFF

    public enum Greeting: Equatable, Sendable {
        case needMoreBytes
        /// The methods the client offers; `length` bytes were read.
        case methods([UInt8], length: Int)
        case invalid(String)
    }

    /// `VER NMETHODS METHODS...`
    public static func parseGreeting(_ b: [UInt8]) -> Greeting {
        guard let v = b.first else { return .needMoreBytes }
        guard v == version else { return .invalid("not SOCKS 5 (version \(v))") }
        guard b.count >= 2 else { return .needMoreBytes }
        let n = Int(b[1])
        guard n > 0 else { return .invalid("no authentication methods offered") }
        guard b.count >= 2 + n else { return .needMoreBytes }
        return .methods(Array(b[2..<(2 + n)]), length: 2 + n)
    }

    /// The answer to a greeting: no authentication if offered, else none acceptable.
    public static func choose(_ methods: [UInt8]) -> [UInt8] {
        [version, methods.contains(noAuthentication) ? noAuthentication : noAcceptableMethod]
    }

    public enum Request: Equatable, Sendable {
        case needMoreBytes
        /// CONNECT to `host` (a name, or an address in its text form) and `port`.
        case connect(host: String, port: UInt16, length: Int)
        /// A command other than CONNECT.
        case unsupported(command: UInt8)
        case invalid(String, reply: Reply)
    }

    /// `VER CMD RSV ATYP DST.ADDR DST.PORT`
    public static func parseRequest(_ b: [UInt8]) -> Request {
        guard b.count >= 4 else { return .needMoreBytes }
        guard b[0] == version else { return .invalid("not SOCKS 5 (version \(b[0]))", reply: .generalFailure) }
        let command = b[1]
        let host: String
        let at: Int
        switch b[3] {
        case 1, 4:
            // An IPv4 or an IPv6 address.
            let length = b[3] == 1 ? 4 : 16
            guard b.count >= 4 + length + 2 else { return .needMoreBytes }
            host = IPAddress(bytes: Array(b[4..<(4 + length)]))?.description ?? ""
            at = 4 + length
        case 3:
            guard b.count >= 5 else { return .needMoreBytes }
            let n = Int(b[4])
            guard n > 0 else { return .invalid("empty domain name", reply: .generalFailure) }
            guard b.count >= 5 + n + 2 else { return .needMoreBytes }
            host = String(decoding: b[5..<(5 + n)], as: UTF8.self)
            at = 5 + n
        default:
            return .invalid("address type \(b[3])", reply: .addressTypeNotSupported)
        }
        guard command == 1 else { return .unsupported(command: command) }
        let port = UInt16(b[at]) << 8 | UInt16(b[at + 1])
        guard port > 0 else { return .invalid("port 0", reply: .generalFailure) }
        return .connect(host: host, port: port, length: at + 2)
    }

    /// Reply codes (RFC 1928 6).
    public enum Reply: UInt8, Sendable {
        case succeeded = 0, generalFailure = 1, notAllowed = 2, networkUnreachable = 3, hostUnreachable = 4,
             connectionRefused = 5, commandNotSupported = 7, addressTypeNotSupported = 8
    }

    /// A reply; the bound address is always 0.0.0.0:0 (the client has no use for the
    /// warden's own address, and it is not the sandbox's business).
    public static func reply(_ r: Reply) -> [UInt8] { [version, r.rawValue, 0, 1, 0, 0, 0, 0, 0, 0] }
}

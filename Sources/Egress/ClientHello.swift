/// Reads the server name (SNI) from the first TLS record a client sends through a
/// `CONNECT` tunnel, so the proxy can refuse a tunnel to an allowed host that asks the
/// server for another one (domain fronting). Only what the check needs is parsed: one
/// handshake record holding a ClientHello (RFC 8446 4.1.2, RFC 6066 3).
public enum ClientHello {
    public enum Parse: Equatable, Sendable {
        /// Not enough bytes yet for the whole ClientHello.
        case needMoreBytes
        /// The ClientHello's server name (lower case), nil if it names none.
        case serverName(String?)
        /// Not a TLS ClientHello.
        case notTLS(String)
    }

    /// Largest ClientHello read: one record (2^14 bytes plus slack).
    public static let maximumLength = 16 * 1024 + 5

    public static func parse(_ bytes: [UInt8]) -> Parse {
        var r = Reader(bytes)
        guard let type = r.u8() else { return .needMoreBytes }
        guard type == 22 else { return .notTLS("first record is not a handshake (type \(type))") }
        guard let major = r.u8(), let _ = r.u8(), let length = r.u16() else { return .needMoreBytes }
        guard major == 3 else { return .notTLS("not TLS (version \(major))") }
        guard r.remaining >= Int(length) else { return .needMoreBytes }
        var h = Reader(Array(r.take(Int(length)) ?? []))
        guard let hsType = h.u8(), hsType == 1 else { return .notTLS("first handshake message is not a ClientHello") }
        // A ClientHello split over several records is legal but rare; refuse it rather than
        // reassemble (no browser or TLS library in practice sends one).
        guard let hsLength = h.u24(), h.remaining >= hsLength else { return .notTLS("ClientHello spans several records") }
        guard h.skip(2 + 32),                                  // version, random
              let sessionLength = h.u8(), h.skip(Int(sessionLength)),
              let suitesLength = h.u16(), h.skip(Int(suitesLength)),
              let compressionLength = h.u8(), h.skip(Int(compressionLength))
        else { return .notTLS("truncated ClientHello") }
        if h.remaining == 0 { return .serverName(nil) }
        guard let extensionsLength = h.u16(), let extensions = h.take(Int(extensionsLength)) else {
            return .notTLS("truncated extensions")
        }
        var e = Reader(Array(extensions))
        while e.remaining > 0 {
            guard let extType = e.u16(), let extLength = e.u16(), let body = e.take(Int(extLength)) else {
                return .notTLS("truncated extension")
            }
            guard extType == 0 else { continue }
            var s = Reader(Array(body))
            guard let listLength = s.u16(), let list = s.take(Int(listLength)) else { return .notTLS("bad server_name") }
            var l = Reader(Array(list))
            var names: [String] = []
            while l.remaining > 0 {
                guard let nameType = l.u8(), let nameLength = l.u16(), let name = l.take(Int(nameLength)) else {
                    return .notTLS("bad server_name entry")
                }
                if nameType == 0 {
                    guard name.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else { return .notTLS("server name is not ASCII") }
                    names.append(String(decoding: name, as: UTF8.self).lowercased())
                }
            }
            // RFC 6066: at most one host_name. Two would let the check read one and the
            // server the other.
            guard names.count <= 1 else { return .notTLS("more than one server name") }
            return .serverName(names.first)
        }
        return .serverName(nil)
    }

    struct Reader {
        let bytes: [UInt8]
        var at = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        var remaining: Int { bytes.count - at }
        mutating func u8() -> UInt8? { guard remaining >= 1 else { return nil }; at += 1; return bytes[at - 1] }
        mutating func u16() -> UInt16? {
            guard remaining >= 2 else { return nil }
            defer { at += 2 }
            return UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])
        }
        mutating func u24() -> Int? {
            guard remaining >= 3 else { return nil }
            defer { at += 3 }
            return Int(bytes[at]) << 16 | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2])
        }
        mutating func skip(_ n: Int) -> Bool { guard remaining >= n else { return false }; at += n; return true }
        mutating func take(_ n: Int) -> ArraySlice<UInt8>? {
            guard remaining >= n else { return nil }
            defer { at += n }
            return bytes[at..<(at + n)]
        }
    }
}

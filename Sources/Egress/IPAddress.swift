/// An IPv4 or IPv6 address as its bytes (4 or 16), parsed without the C library so the
/// policy stays a pure value type that tests can drive without a network.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Family: Sendable { case v4, v6 }
    /// Network byte order: 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]
    public var family: Family { bytes.count == 4 ? .v4 : .v6 }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses dotted-quad IPv4 (`192.0.2.1`) or IPv6 (`2001:db8::1`, `::ffff:192.0.2.1`,
    /// optionally in brackets). Zone ids (`%eth0`) are refused: they name a host link.
    public init?(_ text: String) {
        var t = Substring(text)
        if t.hasPrefix("["), t.hasSuffix("]") { t = t.dropFirst().dropLast() }
        if let v4 = Self.parseV4(t) { bytes = v4; return }
        if let v6 = Self.parseV6(t) { bytes = v6; return }
        return nil
    }

    static func parseV4(_ t: Substring) -> [UInt8]? {
        let parts = t.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            // Decimal only, no leading zeros (inet_aton's octal forms are a classic bypass).
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }),
                  p == "0" || !p.hasPrefix("0"), let v = UInt8(p) else { return nil }
            out.append(v)
        }
        return out
    }

    static func parseV6(_ t: Substring) -> [UInt8]? {
        guard t.contains(":"), !t.contains("%") else { return nil }
        // Split at the one "::" allowed, without Foundation.
        var halves: [String] = [String(t)]
        let chars = Array(t)
        var found: [Int] = []
        var k = 0
        while k + 1 < chars.count { if chars[k] == ":", chars[k + 1] == ":" { found.append(k); k += 2 } else { k += 1 } }
        guard found.count <= 1 else { return nil }
        if let at = found.first { halves = [String(chars[..<at]), String(chars[(at + 2)...])] }
        func groups(_ s: String) -> [UInt8]? {
            if s.isEmpty { return [] }
            var out: [UInt8] = []
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            for (i, p) in parts.enumerated() {
                if i == parts.count - 1, p.contains(".") {
                    guard let v4 = parseV4(p) else { return nil }
                    out += v4
                    continue
                }
                guard (1...4).contains(p.count), let v = UInt16(p, radix: 16) else { return nil }
                out += [UInt8(v >> 8), UInt8(v & 0xff)]
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    /// The embedded IPv4 address of an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`).
    public var unmappedV4: IPAddress? {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff else { return nil }
        return IPAddress(bytes: Array(bytes[12..<16]))
    }

    public var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        let words: [UInt16] = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        // Longest run of zero words (length >= 2) becomes "::" (RFC 5952).
        var best = (start: -1, length: 0), i = 0
        while i < 8 {
            if words[i] == 0 {
                var j = i
                while j < 8, words[j] == 0 { j += 1 }
                if j - i > best.length, j - i >= 2 { best = (i, j - i) }
                i = j
            } else { i += 1 }
        }
        func hex(_ ws: ArraySlice<UInt16>) -> String { ws.map { String($0, radix: 16) }.joined(separator: ":") }
        if best.start < 0 { return hex(words[...]) }
        return hex(words[0..<best.start]) + "::" + hex(words[(best.start + best.length)...])
    }
}

/// A network prefix: `10.0.0.0/8`, `fd00::/8`, or one address (`/32`, `/128`).
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int

    public init?(network: IPAddress, prefixLength: Int) {
        guard prefixLength >= 0, prefixLength <= network.bytes.count * 8 else { return nil }
        self.network = network
        self.prefixLength = prefixLength
    }

    /// `ADDRESS/LENGTH` or a bare address (the whole address).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else { return nil }
        var length = address.bytes.count * 8
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let l = Int(parts[1]) else { return nil }
            length = l
        }
        self.init(network: address, prefixLength: length)
    }

    public func contains(_ address: IPAddress) -> Bool {
        guard address.family == network.family else { return false }
        var left = prefixLength
        for i in 0..<network.bytes.count where left > 0 {
            let bits = min(8, left)
            let mask: UInt8 = bits == 8 ? 0xff : ~(0xff >> UInt8(bits))
            if address.bytes[i] & mask != network.bytes[i] & mask { return false }
            left -= bits
        }
        return true
    }

    /// True when the prefix names one address.
    public var isSingleAddress: Bool { prefixLength == network.bytes.count * 8 }

    public var description: String { "\(network)/\(prefixLength)" }
}

/// SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), in plain Swift.
///
/// Why not swift-crypto: it brings Foundation, and the runtime binary must not link
/// Foundation (its start-up is measured against crun's). With the chain's two hashes
/// here, the runtime appends a sandbox's records itself instead of starting the
/// 85 MB `safehouse-audit` (3 ms of CPU, twice per `agent run`). The digests are
/// checked against the FIPS/RFC test vectors and against swift-crypto on random
/// input (AuditTests: `SHA256Tests`). MACs are only compared in constant time
/// (`constantTimeEqual`).
public struct SHA256Digest {
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19)
    private var pending: [UInt8] = []
    /// Bytes compressed so far (whole blocks).
    private var length: UInt64 = 0

    public init() { pending.reserveCapacity(64) }

    /// The digest of `bytes` in one call.
    public static func hash<B: Sequence>(_ bytes: B) -> [UInt8] where B.Element == UInt8 {
        var h = SHA256Digest()
        h.update(bytes)
        return h.finish()
    }

    public mutating func update<B: Sequence>(_ bytes: B) where B.Element == UInt8 {
        for b in bytes {
            pending.append(b)
            if pending.count == 64 {
                compress(pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
    }

    public mutating func finish() -> [UInt8] {
        let bits = (length + UInt64(pending.count)) &* 8
        var tail = pending
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        for i in (0..<8).reversed() { tail.append(UInt8(truncatingIfNeeded: bits >> (UInt64(i) * 8))) }
        for i in stride(from: 0, to: tail.count, by: 64) {
            compress(tail[i..<i + 64])
        }
        let (a, b, c, d, e, f, g, h) = state
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for word in [a, b, c, d, e, f, g, h] {
            for shift in stride(from: 24, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: word >> shift))
            }
        }
        return out
    }

    private static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    private mutating func compress<C: Collection>(_ block: C) where C.Element == UInt8, C.Index == Int {
        var w = [UInt32](repeating: 0, count: 64)
        let s = block.startIndex
        for t in 0..<16 {
            w[t] = UInt32(block[s + 4 * t]) << 24 | UInt32(block[s + 4 * t + 1]) << 16
                | UInt32(block[s + 4 * t + 2]) << 8 | UInt32(block[s + 4 * t + 3])
        }
        for t in 16..<64 {
            let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
            let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
            w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, h) = state
        for t in 0..<64 {
            let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let ch = (e & f) ^ (~e & g)
            let t1 = h &+ s1 &+ ch &+ Self.k[t] &+ w[t]
            let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let maj = (a & b) ^ (a & c) ^ (b & c)
            let t2 = s0 &+ maj
            h = g; g = f; f = e; e = d &+ t1
            d = c; c = b; b = a; a = t1 &+ t2
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d,
                 state.4 &+ e, state.5 &+ f, state.6 &+ g, state.7 &+ h)
        length &+= 64
    }

    @inline(__always) private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
}

/// HMAC-SHA-256 (RFC 2104) and the key it is made with.
public struct AuditKey: Sendable, Equatable {
    /// The key's bytes, as read from its file (trailing newline kept: a key is bytes).
    public let bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// HMAC-SHA-256 of `message` under this key.
    public func authenticationCode<B: Sequence>(for message: B) -> [UInt8] where B.Element == UInt8 {
        var key = bytes.count > 64 ? SHA256Digest.hash(bytes) : bytes
        key += [UInt8](repeating: 0, count: 64 - key.count)
        var inner = SHA256Digest()
        inner.update(key.map { $0 ^ 0x36 })
        inner.update(message)
        var outer = SHA256Digest()
        outer.update(key.map { $0 ^ 0x5c })
        outer.update(inner.finish())
        return outer.finish()
    }
}

/// Whether two byte strings are equal, in time that depends only on their lengths:
/// a MAC compared byte by byte with an early exit tells a forger how much was right.
public func constantTimeEqual<A: Collection, B: Collection>(_ a: A, _ b: B) -> Bool
where A.Element == UInt8, B.Element == UInt8 {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}

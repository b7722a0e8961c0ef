/// The DNS wire format, as far as the sandbox's resolver needs it (RFC 1035 4.1): one
/// question in, an answer of A or AAAA records (or an error code) out. The warden is
/// the only resolver a transparent sandbox has, and every query is hostile input, so
/// the parser is strict: a standard query with exactly one question, no compression
/// in the question, no label over 63 bytes, no name over 255 bytes on the wire.
public enum DNSMessage {
    public enum RecordType {
        public static let a: UInt16 = 1
        public static let null: UInt16 = 10
        public static let txt: UInt16 = 16
        public static let aaaa: UInt16 = 28
        public static let any: UInt16 = 255
    }

    /// Response codes (RFC 1035 4.1.1).
    public enum ResponseCode: UInt8, Sendable {
        case noError = 0, formatError = 1, serverFailure = 2, nameError = 3, notImplemented = 4, refused = 5
    }

    public struct Question: Equatable, Sendable {
        /// Lower case, without the trailing dot ("" is the root).
        public var name: String
        public var type: UInt16
        public var `class`: UInt16
    }

    public struct Query: Equatable, Sendable {
        public var id: UInt16
        public var recursionDesired: Bool
        public var question: Question
        /// The question as it came (echoed in the answer, case and all: RFC 5452 clients
        /// may check the 0x20 bits).
        public var questionBytes: [UInt8]
    }

    public enum Parse: Equatable, Sendable {
        case query(Query)
        /// Not a query we answer: the id (when there were two bytes of one) and why.
        /// `oversized` marks names built past the limits, the shape of DNS tunnelling.
        case invalid(id: UInt16?, reason: String, oversized: Bool)
    }

    /// Largest query read (a UDP query with EDNS fits in far less).
    public static let maximumQueryLength = 4096

    public static func parseQuery(_ bytes: [UInt8]) -> Parse {
        guard bytes.count >= 2 else { return .invalid(id: nil, reason: "shorter than a DNS header", oversized: false) }
        let id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        func invalid(_ why: String, oversized: Bool = false) -> Parse { .invalid(id: id, reason: why, oversized: oversized) }
        guard bytes.count >= 12 else { return invalid("shorter than a DNS header") }
        guard bytes.count <= maximumQueryLength else { return invalid("query of \(bytes.count) bytes", oversized: true) }
        let flags = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        guard flags & 0x8000 == 0 else { return invalid("a response, not a query") }
        guard (flags >> 11) & 0xF == 0 else { return invalid("opcode \((flags >> 11) & 0xF) is not a standard query") }
        let counts = stride(from: 4, to: 12, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        guard counts[0] == 1 else { return invalid("\(counts[0]) questions (one is answered)") }
        guard counts[1] == 0, counts[2] == 0 else { return invalid("a query with answer or authority records") }
        // Additional records (an EDNS OPT) are allowed and ignored.
        var at = 12
        var labels: [String] = []
        var wireLength = 0
        while true {
            guard at < bytes.count else { return invalid("truncated question") }
            let length = Int(bytes[at])
            if length == 0 { at += 1; wireLength += 1; break }
            if length & 0xC0 == 0xC0 { return invalid("compressed name in the question") }
            guard length <= 63 else { return invalid("label of \(length) bytes (at most 63)", oversized: true) }
            guard at + 1 + length <= bytes.count else { return invalid("truncated question") }
            wireLength += 1 + length
            guard wireLength < 255 else { return invalid("name longer than 255 bytes", oversized: true) }
            labels.append(String(decoding: bytes[(at + 1)...(at + length)], as: UTF8.self).lowercased())
            at += 1 + length
        }
        guard at + 4 <= bytes.count else { return invalid("truncated question") }
        let type = UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])
        let klass = UInt16(bytes[at + 2]) << 8 | UInt16(bytes[at + 3])
        let question = Question(name: labels.joined(separator: "."), type: type, class: klass)
        return .query(Query(id: id, recursionDesired: flags & 0x0100 != 0, question: question,
                            questionBytes: Array(bytes[12..<(at + 4)])))
    }

    /// The answer to `query`: the addresses of the asked family (A: IPv4, AAAA: IPv6;
    /// any other type gets none, a "no data" answer), each valid for `ttl` seconds.
    public static func answer(_ query: Query, addresses: [IPAddress], ttl: UInt32) -> [UInt8] {
        let records = addresses.filter {
            (query.question.type == RecordType.a && $0.family == .v4) || (query.question.type == RecordType.aaaa && $0.family == .v6)
        }
        var out = header(id: query.id, recursionDesired: query.recursionDesired, code: .noError,
                         questions: 1, answers: UInt16(records.count))
        out += query.questionBytes
        for address in records {
            out += [0xC0, 12]  // the name: a pointer to the question's
            out += be16(query.question.type) + be16(1)
            out += [UInt8(ttl >> 24), UInt8(ttl >> 16 & 0xFF), UInt8(ttl >> 8 & 0xFF), UInt8(ttl & 0xFF)]
            out += be16(UInt16(address.bytes.count)) + address.bytes
        }
        return out
    }

    /// An error answer (NXDOMAIN, REFUSED, FORMERR...). The question is echoed when it
    /// was read; a message that was not read gets a bare header with its id.
    public static func error(_ code: ResponseCode, to query: Query) -> [UInt8] {
        header(id: query.id, recursionDesired: query.recursionDesired, code: code, questions: 1, answers: 0) + query.questionBytes
    }

    public static func error(_ code: ResponseCode, id: UInt16) -> [UInt8] {
        header(id: id, recursionDesired: false, code: code, questions: 0, answers: 0)
    }

    static func header(id: UInt16, recursionDesired: Bool, code: ResponseCode, questions: UInt16, answers: UInt16) -> [UInt8] {
        // QR=1, opcode 0, AA=0, TC=0, RD as asked, RA=1 (the warden recurses for it).
        let flags: UInt16 = 0x8000 | (recursionDesired ? 0x0100 : 0) | 0x0080 | UInt16(code.rawValue)
        return be16(id) + be16(flags) + be16(questions) + be16(answers) + be16(0) + be16(0)
    }

    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }

    /// A query for `name` (tests and the benchmark build queries with it).
    public static func query(id: UInt16, name: String, type: UInt16) -> [UInt8] {
        var out = be16(id) + be16(0x0100) + be16(1) + be16(0) + be16(0) + be16(0)
        for label in name.split(separator: ".") {
            out.append(UInt8(truncatingIfNeeded: label.utf8.count))
            out += Array(label.utf8)
        }
        return out + [0] + be16(type) + be16(1)
    }
}

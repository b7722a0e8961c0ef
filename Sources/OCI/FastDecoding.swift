// Tracks the OCI runtime-spec v1.2.0.
//
// The fast path of `Spec.decode`. A cold (first in the process) JSONDecoder decode of a
// 3 KB config.json costs ~3.4M instructions (~0.8 ms), mostly the Swift runtime's generic
// metadata and protocol-conformance lookups inside JSONDecoderImpl, and every container
// start pays it. Measured with callgrind on bundles/busybox/config.json in a fresh
// process: 3.65M instructions through JSONDecoder, 0.47M through this path. This path parses with `JSONTreeParser` and maps the tree to `Spec` with
// concrete, hand-written code: no Codable, no generics over Decodable, no protocol casts.
//
// It must agree with JSONDecoder on every document JSONDecoder accepts, so it is
// deliberately narrow: on anything it is not sure of (a syntax error, a wrong type, an
// integer out of range or written as "1.0" or "1e3", a missing required field, an
// unknown enum value, a duplicate key) it gives up, and `Spec.decode` falls back to
// JSONDecoder, which accepts or produces the usual error message. Error messages
// therefore never come from here.

import FoundationEssentials

/// The fast path declined the document; JSONDecoder decides instead.
struct FastDecodingGiveUp: Error {}

/// Entry point of the fast path.
enum FastDecoding {
    /// The configuration in `bytes`, or nil when the fast path gives up.
    static func spec(from bytes: [UInt8]) -> Spec? {
        guard let tree = try? JSONTreeParser.parse(bytes, strict: true),
              case .object(let members) = tree else { return nil }
        return try? spec(FastObject(members))
    }
}

/// A JSON object being mapped to a struct. Unknown keys are simply never looked at;
/// a `null` member counts as absent, as JSONDecoder's `decodeIfPresent` has it.
struct FastObject {
    let members: JSONObject

    init(_ members: JSONObject) {
        self.members = members
    }

    /// The member `key`, nil when it is absent or null.
    func value(_ key: String) -> JSONTree? {
        guard let value = members[key] else { return nil }
        if case .null = value { return nil }
        return value
    }

    /// A required member: absent or null gives up (JSONDecoder reports it).
    func required<T>(_ key: String, _ convert: (JSONTree) throws -> T) throws -> T {
        guard let value = value(key) else { throw FastDecodingGiveUp() }
        return try convert(value)
    }

    /// An optional member: absent or null is nil.
    func optional<T>(_ key: String, _ convert: (JSONTree) throws -> T) throws -> T? {
        guard let value = value(key) else { return nil }
        return try convert(value)
    }
}

/// Conversions of one JSON value to one Swift type; each gives up on a mismatch.
enum Fast {
    static func object(_ tree: JSONTree) throws -> FastObject {
        guard case .object(let members) = tree else { throw FastDecodingGiveUp() }
        return FastObject(members)
    }

    static func string(_ tree: JSONTree) throws -> String {
        guard case .string(let text) = tree else { throw FastDecodingGiveUp() }
        return text
    }

    static func bool(_ tree: JSONTree) throws -> Bool {
        guard case .bool(let flag) = tree else { throw FastDecodingGiveUp() }
        return flag
    }

    /// Elements of an array; a null element gives up (JSONDecoder refuses it too).
    static func array<T>(_ tree: JSONTree, _ convert: (JSONTree) throws -> T) throws -> [T] {
        guard case .array(let elements) = tree else { throw FastDecodingGiveUp() }
        var result: [T] = []
        result.reserveCapacity(elements.count)
        for element in elements { result.append(try convert(element)) }
        return result
    }

    /// Values of a string-keyed map; a null value gives up.
    static func map<T>(_ tree: JSONTree, _ convert: (JSONTree) throws -> T) throws -> [String: T] {
        guard case .object(let members) = tree else { throw FastDecodingGiveUp() }
        var result: [String: T] = [:]
        result.reserveCapacity(members.count)
        for position in 0..<members.count {
            result[members.keys[position]] = try convert(members.values[position])
        }
        return result
    }

    static func strings(_ tree: JSONTree) throws -> [String] {
        try array(tree, string)
    }

    static func stringMap(_ tree: JSONTree) throws -> [String: String] {
        try map(tree, string)
    }

    /// Sign and magnitude of a plain integer literal. Fractions and exponents ("1.0",
    /// "1e3") and "-0" give up: JSONDecoder's treatment of them is its own business.
    private static func integer(_ tree: JSONTree) throws -> (negative: Bool, magnitude: UInt64) {
        guard case .number(let text) = tree else { throw FastDecodingGiveUp() }
        var negative = false
        var magnitude: UInt64 = 0
        var digits = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "-"), digits == 0, !negative {
                negative = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw FastDecodingGiveUp() }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw FastDecodingGiveUp() }
            magnitude = sum
            digits += 1
        }
        guard digits > 0, !(negative && magnitude == 0) else { throw FastDecodingGiveUp() }
        return (negative, magnitude)
    }

    static func uint64(_ tree: JSONTree) throws -> UInt64 {
        let (negative, magnitude) = try integer(tree)
        guard !negative else { throw FastDecodingGiveUp() }
        return magnitude
    }

    static func int64(_ tree: JSONTree) throws -> Int64 {
        let (negative, magnitude) = try integer(tree)
        if !negative {
            guard let value = Int64(exactly: magnitude) else { throw FastDecodingGiveUp() }
            return value
        }
        if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
        guard let value = Int64(exactly: magnitude) else { throw FastDecodingGiveUp() }
        return -value
    }

    static func uint32(_ tree: JSONTree) throws -> UInt32 {
        guard let value = UInt32(exactly: try uint64(tree)) else { throw FastDecodingGiveUp() }
        return value
    }

    static func uint16(_ tree: JSONTree) throws -> UInt16 {
        guard let value = UInt16(exactly: try uint64(tree)) else { throw FastDecodingGiveUp() }
        return value
    }

    static func uint(_ tree: JSONTree) throws -> UInt {
        guard let value = UInt(exactly: try uint64(tree)) else { throw FastDecodingGiveUp() }
        return value
    }

    static func int32(_ tree: JSONTree) throws -> Int32 {
        guard let value = Int32(exactly: try int64(tree)) else { throw FastDecodingGiveUp() }
        return value
    }

    static func int(_ tree: JSONTree) throws -> Int {
        guard let value = Int(exactly: try int64(tree)) else { throw FastDecodingGiveUp() }
        return value
    }

    static func uint32s(_ tree: JSONTree) throws -> [UInt32] {
        try array(tree, uint32)
    }
}

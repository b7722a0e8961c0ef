// A small public reader and writer for flat JSON objects (strings, integers, booleans,
// string maps and string arrays), for documents on a hot path that are simple enough
// not to need Codable: the runtime's own state file. JSONDecoder's first use in a
// process costs ~1-2M instructions of metadata and conformance lookups; this parser
// (the one the spec decoder uses) costs a few thousand for such a document. The
// writer's public `add`s write one flat object key by key in the order given, which is
// all the state file needs; the spec's encoder (FastEncoding.swift) writes its nested
// objects with the same writer.

/// A parsed top-level JSON object with typed accessors; a missing key or a value of
/// another type reads as nil.
public struct FlatJSONObject {
    private let object: JSONObject

    /// Parses `bytes`; nil when they are not a JSON object.
    public init?(parsing bytes: [UInt8]) {
        guard case .object(let object)? = try? JSONTreeParser.parse(bytes) else { return nil }
        self.object = object
    }

    private func value(_ key: String) -> JSONTree? {
        object.position(of: key).map { object.values[$0] }
    }

    // Strings, booleans, lists and maps read as the spec decoder reads them (`Fast`),
    // an error there being nil here; integers stay plain digits ("1.0" is no Int64).
    public func string(_ key: String) -> String? {
        value(key).flatMap { try? Fast.string($0) }
    }

    public func int64(_ key: String) -> Int64? {
        if case .number(let n)? = value(key) { return Int64(n) }
        return nil
    }

    public func uint64(_ key: String) -> UInt64? {
        if case .number(let n)? = value(key) { return UInt64(n) }
        return nil
    }

    /// A number with a fraction or exponent allowed (seconds, a timeout).
    public func double(_ key: String) -> Double? {
        if case .number(let n)? = value(key) { return Double(n) }
        return nil
    }

    public func int64Array(_ key: String) -> [Int64]? {
        guard case .array(let items)? = value(key) else { return nil }
        var result: [Int64] = []
        for item in items {
            guard case .number(let n) = item, let v = Int64(n) else { return nil }
            result.append(v)
        }
        return result
    }

    /// Whether the object has `key` at all (of any type): a field present but of the
    /// wrong type is an error to name, not a field left out.
    public func contains(_ key: String) -> Bool { value(key) != nil }

    /// A list of objects; nil when the value is not a list or one item is no object.
    public func objects(_ key: String) -> [FlatJSONObject]? {
        value(key).flatMap { try? Fast.objects($0) { FlatJSONObject(object: $0.members) } }
    }

    private init(object: JSONObject) { self.object = object }

    public func bool(_ key: String) -> Bool? {
        value(key).flatMap { try? Fast.bool($0) }
    }

    public func stringArray(_ key: String) -> [String]? {
        value(key).flatMap { try? Fast.strings($0) }
    }

    public func stringMap(_ key: String) -> [String: String]? {
        value(key).flatMap { try? Fast.stringMap($0) }
    }

    /// A member that is an object itself, with the same accessors (an audit record's
    /// `details`).
    public func object(_ key: String) -> FlatJSONObject? {
        value(key).flatMap { try? FlatJSONObject(object: Fast.members($0)) }
    }
}

/// Writes a JSON object, key by key, in the order given.
public struct FlatJSONWriter {
    /// What is written so far: the top-level object, still open.
    var text = "{"
    /// No member is written yet in the object being written.
    var first = true
    private let pretty: Bool

    /// `pretty`: one key per line, indented (as `runc state` prints).
    public init(pretty: Bool = false) { self.pretty = pretty }

    mutating func key(_ k: String) {
        text += first ? "" : ","
        first = false
        text += (pretty ? "\n  " : "") + Self.quoted(k) + (pretty ? ": " : ":")
    }

    // The member writers are the spec encoder's (FastEncoding.swift).
    public mutating func add(_ k: String, _ value: String) { string(k, value) }
    public mutating func add(_ k: String, _ value: Int64) { number(k, value) }
    public mutating func add(_ k: String, _ value: UInt64) { number(k, value) }
    public mutating func add(_ k: String, _ value: Bool) { bool(k, value) }
    /// A finite number (the caller checks): JSON has no infinity or NaN.
    public mutating func add(_ k: String, _ value: Double) { scalar(k, String(value)) }
    public mutating func add(_ k: String, _ values: [Int64]) { numbers(k, values) }
    public mutating func add(_ k: String, _ values: [String]) { strings(k, values) }
    /// A list of objects, each written by its own writer (an answer's list of rules).
    public mutating func add(_ k: String, objects: [FlatJSONWriter]) { array(k, objects) { $0.text += $1.string } }
    public mutating func add(_ k: String, _ map: [String: String]) { stringMap(k, map) }

    public var bytes: [UInt8] { Array(string.utf8) }
    public var string: String { text + (pretty && !first ? "\n}" : "}") }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    public static func quoted(_ s: String) -> String {
        // Most strings need no escape: one pass over the bytes, then a plain copy.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + s + "\""
        }
        return quoted(s, escaping: { scalar in
            guard scalar.value < 0x20 else { return nil }
            let hex = String(scalar.value, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        })
    }

    /// `s` in double quotes with quotes, backslashes, \n, \r and \t escaped, and each
    /// other scalar for which `escape` has text replaced by that text.
    static func quoted(_ s: String, escaping escape: (Unicode.Scalar) -> String?) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if let escaped = escape(scalar) {
                    out += escaped
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

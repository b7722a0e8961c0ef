import OCI

/// Compact JSON in the order Go's encoding/json writes it, for the documents scripts
/// match on byte for byte (`list --format json`, `events` lines): struct members in
/// declaration order (the order `encode(to:)` visits them), map keys sorted, and
/// `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u003c`... as Go does by default.
/// JSONEncoder keeps no member order unless told to sort every key, which is not
/// runc's order (`{"type":..,"id":..,"data":..}` would come out data, id, type).
enum OrderedJSON {
    /// `indent`: Go's json.MarshalIndent(v, "", indent) layout (`runc features` uses
    /// four spaces): one member per line, `"key": value`, `{}` and `[]` when empty.
    static func encode<T: Encodable>(_ value: T, indent: String? = nil) throws -> String {
        let root = Node()
        try value.encode(to: NodeEncoder(node: root, codingPath: []))
        var out = ""
        root.render(into: &out, indent: indent, depth: 0)
        return out
    }

    /// One value of the document being built; containers are filled in place.
    final class Node {
        enum Kind { case unset, literal(String), object, array }
        var kind: Kind = .unset
        var keys: [String] = []
        var members: [Node] = []
        /// A Swift dictionary's members: written in sorted key order, as Go writes maps.
        var sortedKeys = false

        func child(_ key: String?) -> Node {
            let node = Node()
            if let key { keys.append(key) }
            members.append(node)
            return node
        }

        func render(into out: inout String, indent: String? = nil, depth: Int = 0) {
            // Before each member: a newline and the member's depth of indentation.
            func newline(_ level: Int) {
                guard let indent else { return }
                out += "\n" + String(repeating: indent, count: level)
            }
            switch kind {
            case .unset: out += "null"
            case .literal(let text): out += text
            case .array, .object:
                // An object's members are its keys' (sorted for a dictionary); an
                // array's are all of them, in order.
                let object: Bool
                if case .object = kind { object = true } else { object = false }
                var order = Array(object ? keys.indices : members.indices)
                if object && sortedKeys { order.sort { keys[$0] < keys[$1] } }
                out += object ? "{" : "["
                for (n, i) in order.enumerated() {
                    if n > 0 { out += "," }
                    newline(depth + 1)
                    if object { out += OrderedJSON.quoted(keys[i]) + (indent == nil ? ":" : ": ") }
                    members[i].render(into: &out, indent: indent, depth: depth + 1)
                }
                if !order.isEmpty { newline(depth) }
                out += object ? "}" : "]"
            }
        }
    }

    /// A JSON string as Go's encoder writes it (HTML-safe escapes included).
    static func quoted(_ s: String) -> String {
        var out = FlatJSONWriter.quoted(s)
        if out.unicodeScalars.contains(where: { $0 == "<" || $0 == ">" || $0 == "&" || $0 == "\u{2028}" || $0 == "\u{2029}" }) {
            var escaped = String.UnicodeScalarView()
            for scalar in out.unicodeScalars {
                switch scalar {
                case "<": escaped.append(contentsOf: "\\u003c".unicodeScalars)
                case ">": escaped.append(contentsOf: "\\u003e".unicodeScalars)
                case "&": escaped.append(contentsOf: "\\u0026".unicodeScalars)
                case "\u{2028}": escaped.append(contentsOf: "\\u2028".unicodeScalars)
                case "\u{2029}": escaped.append(contentsOf: "\\u2029".unicodeScalars)
                default: escaped.append(scalar)
                }
            }
            out = String(escaped)
        }
        return out
    }
}

/// Dictionaries mark their node so that their keys come out sorted.
private protocol SortedJSONMap {}
extension Dictionary: SortedJSONMap {}

private struct NodeEncoder: Encoder {
    let node: OrderedJSON.Node
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .unset = node.kind { node.kind = .object }
        return KeyedEncodingContainer(KeyedNodeContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .unset = node.kind { node.kind = .array }
        return UnkeyedNodeContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleNodeContainer(node: node, codingPath: codingPath)
    }
}

/// Encodes `value` into `node` (a dictionary's node sorts its keys).
private func encodeValue<T: Encodable>(_ value: T, into node: OrderedJSON.Node, path: [any CodingKey]) throws {
    try value.encode(to: NodeEncoder(node: node, codingPath: path))
    if value is SortedJSONMap { node.sortedKeys = true }
}

private struct KeyedNodeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: OrderedJSON.Node
    var codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.child(key.stringValue).kind = .literal("null") }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try encodeValue(value, into: node.child(key.stringValue), path: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        superEncoder(forKey: key).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        superEncoder(forKey: key).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { NodeEncoder(node: node.child("super"), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        NodeEncoder(node: node.child(key.stringValue), codingPath: codingPath + [key])
    }
}

private struct IndexKey: CodingKey {
    var stringValue: String { String(intValue ?? 0) }
    var intValue: Int?
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedNodeContainer: UnkeyedEncodingContainer {
    let node: OrderedJSON.Node
    var codingPath: [any CodingKey]
    var count: Int { node.members.count }

    mutating func encodeNil() throws { node.child(nil).kind = .literal("null") }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try encodeValue(value, into: node.child(nil), path: codingPath + [IndexKey(count)])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        element().container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        element().unkeyedContainer()
    }
    /// The encoder of a new element, at its index.
    private func element() -> NodeEncoder {
        let child = node.child(nil)
        return NodeEncoder(node: child, codingPath: codingPath + [IndexKey(count - 1)])
    }
    mutating func superEncoder() -> any Encoder { NodeEncoder(node: node.child(nil), codingPath: codingPath) }
}

private struct SingleNodeContainer: SingleValueEncodingContainer {
    let node: OrderedJSON.Node
    var codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.kind = .literal("null") }
    // The keyed and unkeyed containers' scalars arrive here too: their generic `encode`
    // also stands for every scalar overload, and a scalar encodes itself through a
    // single-value container.
    mutating func encode<T: Encodable>(_ value: T) throws {
        if let text = literal(value) {
            node.kind = .literal(text)
        } else {
            try encodeValue(value, into: node, path: codingPath)
        }
    }
}

/// A scalar written as JSON text; nil for anything else.
private func literal(_ value: Any) -> String? {
    switch value {
    case let flag as Bool: return flag ? "true" : "false"
    case let text as String: return OrderedJSON.quoted(text)
    case let number as Float: return literal(Double(number))
    case let number as Double:
        // Whole numbers as Go prints them (no ".0"); others in Swift's shortest form.
        if number.isFinite, number == number.rounded(), abs(number) < 9e18 {
            return String(Int64(exactly: number) ?? 0)
        }
        return "\(number)"
    case let number as any BinaryInteger: return String(number)
    default: return nil
    }
}

// A Decoder over a `JSONTree` whose only job is to explain a failure: every error it
// throws is an `OCIError` naming the field ("process.user.uid: expected an integer
// between 0 and 4294967295, found -1"). The fast path still uses JSONDecoder; this one
// runs only after JSONDecoder has refused a document.

/// Decodes `Decodable` values from a `JSONTree`, throwing `OCIError`s.
struct DiagnosticDecoder: Decoder {
    let tree: JSONTree
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = tree else {
            throw Self.mismatch(expected: "an object", found: tree, at: codingPath)
        }
        return KeyedDecodingContainer(KeyedTreeContainer<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = tree else {
            throw Self.mismatch(expected: "an array", found: tree, at: codingPath)
        }
        return UnkeyedTreeContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleTreeContainer(tree: tree, codingPath: codingPath)
    }

    /// Decodes one value of any type at `path`: scalars here, everything else through
    /// its own `init(from:)`.
    static func value<T: Decodable>(_ type: T.Type, from tree: JSONTree, at path: [any CodingKey]) throws -> T {
        if T.self == String.self {
            guard case .string(let text) = tree, let result = text as? T else {
                throw mismatch(expected: "a string", found: tree, at: path)
            }
            return result
        }
        if T.self == Bool.self {
            guard case .bool(let flag) = tree, let result = flag as? T else {
                throw mismatch(expected: "true or false", found: tree, at: path)
            }
            return result
        }
        if let integer = T.self as? any FixedWidthInteger.Type {
            guard let result = try Self.integer(integer, from: tree, at: path) as? T else {
                throw mismatch(expected: "an integer", found: tree, at: path)
            }
            return result
        }
        if T.self == Double.self || T.self == Float.self {
            guard case .number(let text) = tree, let number = Double(text) else {
                throw mismatch(expected: "a number", found: tree, at: path)
            }
            if let result = number as? T { return result }
            if let result = Float(number) as? T { return result }
            throw mismatch(expected: "a number", found: tree, at: path)
        }
        return try T(from: DiagnosticDecoder(tree: tree, codingPath: path))
    }

    private static func integer<I: FixedWidthInteger>(_ type: I.Type, from tree: JSONTree, at path: [any CodingKey]) throws -> I {
        let range = "between \(I.min) and \(I.max)"
        guard case .number(let text) = tree else {
            throw mismatch(expected: "an integer \(range)", found: tree, at: path)
        }
        if let value = I(text) { return value }
        // JSON allows 1.0 and 1e3 for whole numbers; accept them when exact.
        if let real = Double(text), real.rounded() == real, let value = I(exactly: real) { return value }
        throw OCIError(field: FieldPath.render(path), message: "expected an integer \(range), found \(text)")
    }

    static func mismatch(expected: String, found tree: JSONTree, at path: [any CodingKey]) -> OCIError {
        OCIError(field: FieldPath.render(path), message: "expected \(expected), found \(tree.kindDescription)")
    }
}

/// A position in an array, as the coding path records it: rendered as `[n]`.
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct KeyedTreeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: JSONObject
    let codingPath: [any CodingKey]

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let member = members[key.stringValue] else { return true }
        if case .null = member { return true }
        return false
    }

    private func member(_ key: Key) throws -> JSONTree {
        guard let member = members[key.stringValue] else {
            throw OCIError(field: FieldPath.render(codingPath + [key]), message: "is required")
        }
        if case .null = member {
            throw OCIError(field: FieldPath.render(codingPath + [key]), message: "must not be null")
        }
        return member
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try DiagnosticDecoder.value(T.self, from: member(key), at: codingPath + [key])
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decodeValue(Bool.self, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decodeValue(String.self, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decodeValue(Double.self, key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decodeValue(Float.self, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeValue(Int.self, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decodeValue(Int8.self, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decodeValue(Int16.self, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decodeValue(Int32.self, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decodeValue(Int64.self, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decodeValue(UInt.self, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decodeValue(UInt8.self, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decodeValue(UInt16.self, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decodeValue(UInt32.self, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decodeValue(UInt64.self, key) }

    /// The one funnel the typed overloads share.
    private func decodeValue<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        try DiagnosticDecoder.value(T.self, from: member(key), at: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try DiagnosticDecoder(tree: member(key), codingPath: codingPath + [key]).container(keyedBy: NestedKey.self)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try DiagnosticDecoder(tree: member(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        DiagnosticDecoder(tree: .object(members), codingPath: codingPath)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        DiagnosticDecoder(tree: members[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }
}

private struct UnkeyedTreeContainer: UnkeyedDecodingContainer {
    let elements: [JSONTree]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    init(elements: [JSONTree], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private var currentPath: [any CodingKey] { codingPath + [IndexKey(currentIndex)] }

    private func current() throws -> JSONTree {
        guard !isAtEnd else {
            throw OCIError(field: FieldPath.render(codingPath), message: "has too few elements")
        }
        let element = elements[currentIndex]
        if case .null = element {
            throw OCIError(field: FieldPath.render(currentPath), message: "must not be null")
        }
        return element
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, case .null = elements[currentIndex] else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let value = try DiagnosticDecoder.value(T.self, from: current(), at: currentPath)
        currentIndex += 1
        return value
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let container = try DiagnosticDecoder(tree: current(), codingPath: currentPath).container(keyedBy: NestedKey.self)
        currentIndex += 1
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let container = try DiagnosticDecoder(tree: current(), codingPath: currentPath).unkeyedContainer()
        currentIndex += 1
        return container
    }

    mutating func superDecoder() throws -> any Decoder {
        let decoder = DiagnosticDecoder(tree: try current(), codingPath: currentPath)
        currentIndex += 1
        return decoder
    }
}

private struct SingleTreeContainer: SingleValueDecodingContainer {
    let tree: JSONTree
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool {
        if case .null = tree { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decodeValue(T.self)
    }

    /// The one funnel the typed overloads share.
    private func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if case .null = tree {
            throw OCIError(field: FieldPath.render(codingPath), message: "must not be null")
        }
        return try DiagnosticDecoder.value(T.self, from: tree, at: codingPath)
    }

    func decode(_ type: Bool.Type) throws -> Bool { try decodeValue(Bool.self) }
    func decode(_ type: String.Type) throws -> String { try decodeValue(String.self) }
    func decode(_ type: Double.Type) throws -> Double { try decodeValue(Double.self) }
    func decode(_ type: Float.Type) throws -> Float { try decodeValue(Float.self) }
    func decode(_ type: Int.Type) throws -> Int { try decodeValue(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeValue(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeValue(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeValue(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeValue(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeValue(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeValue(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeValue(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeValue(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeValue(UInt64.self) }
}

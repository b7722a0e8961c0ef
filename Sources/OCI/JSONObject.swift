// The members of a parsed JSON object (`JSONTree.object`).

/// A JSON object's members in document order, looked up by key.
///
/// Two arrays rather than a Dictionary: `Spec.decode` runs once per process,
/// and instantiating `Dictionary<String, JSONTree>`'s metadata costs a cold process some
/// 250K instructions (demangling plus a `String: Hashable` conformance lookup), as much
/// as parsing the whole config.json. `[String]` and `[JSONTree]` are already there.
/// Objects with more than `indexThreshold` members also get a hash index, so that a
/// hostile document with a huge object costs linear, not quadratic, time.
///
/// Keys compare as Swift Strings (canonical equivalence), exactly as Dictionary keys do,
/// and a repeated key replaces the earlier value in place, as `updateValue` does.
struct JSONObject {
    private(set) var keys: [String] = []
    private(set) var values: [JSONTree] = []
    private var index: [String: Int]?
    /// A key held a lone surrogate or invalid UTF-8 (`JSONTreeParser.Mode.decoding`).
    var hasUnreadableKey = false

    /// Above this many members, lookups go through a hash index.
    static let indexThreshold = 32

    var count: Int { keys.count }

    /// The position of `key`, if present.
    func position(of key: String) -> Int? {
        if let index { return index[key] }
        var position = 0
        while position < keys.count {
            if keys[position] == key { return position }
            position += 1
        }
        return nil
    }

    /// Sets `key` to `value`; true when the key was already present (its value is
    /// replaced where it stands).
    @discardableResult
    mutating func updateValue(_ value: JSONTree, forKey key: String) -> Bool {
        if let position = position(of: key) {
            values[position] = value
            return true
        }
        keys.append(key)
        values.append(value)
        if index != nil {
            index?[key] = keys.count - 1
        } else if keys.count > Self.indexThreshold {
            var built: [String: Int] = [:]
            built.reserveCapacity(keys.count * 2)
            for (position, existing) in keys.enumerated() { built[existing] = position }
            index = built
        }
        return false
    }

    /// The value of `key`; setting nil removes the member.
    subscript(key: String) -> JSONTree? {
        get { position(of: key).map { values[$0] } }
        set {
            if let newValue {
                updateValue(newValue, forKey: key)
            } else if let position = position(of: key) {
                keys.remove(at: position)
                values.remove(at: position)
                if index != nil {
                    var rebuilt: [String: Int] = [:]
                    for (position, existing) in keys.enumerated() { rebuilt[existing] = position }
                    index = rebuilt
                }
            }
        }
    }
}

extension JSONObject: Sequence {
    /// Members in document order.
    func makeIterator() -> Iterator {
        Iterator(object: self)
    }

    struct Iterator: IteratorProtocol {
        let object: JSONObject
        var position = 0

        mutating func next() -> (key: String, value: JSONTree)? {
            guard position < object.keys.count else { return nil }
            defer { position += 1 }
            return (object.keys[position], object.values[position])
        }
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    init(dictionaryLiteral elements: (String, JSONTree)...) {
        for (key, value) in elements { updateValue(value, forKey: key) }
    }
}

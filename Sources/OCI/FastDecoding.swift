// Tracks the OCI runtime-spec v1.2.0.
//
// The one decoder of a config.json and of the process and resources documents the
// runtime reads: `JSONTreeParser` makes a tree, and concrete, hand-written code maps it
// to the spec's types. A cold (first in the process) JSONDecoder decode of a 3 KB
// config.json costs ~3.4M instructions (~0.8 ms), mostly the Swift runtime's generic
// metadata and protocol-conformance lookups inside JSONDecoderImpl, and every container
// start pays it; measured with callgrind on bundles/busybox/config.json in a fresh
// process: 3.65M instructions through JSONDecoder, 0.47M through this path. So: no
// Codable, no generics over Decodable, no protocol casts, no Foundation.
//
// It accepts exactly what JSONDecoder accepts, with equal values (the tests hold
// JSONDecoder as the oracle): a null member counts as absent, unknown members are
// ignored, the first of repeated keys wins, whole numbers may be written 1.0 or 1e3.
// What it refuses it names: `process.user.uid: expected an integer between 0 and
// 4294967295, found -1`. The field path is built only on failure, as the error travels
// up through `FastObject.required` and friends, so a valid document pays nothing for it.

/// A refusal, with the path from the failing value up to the document root.
struct FieldFailure: Error {
    enum Step {
        case key(String)
        case index(Int)
    }

    /// Innermost step first: each level appends its own as the failure passes.
    var steps: [Step] = []
    let message: String

    /// `error`, a failure inside the member or element `step`, with `step` added.
    static func within(_ step: Step, _ error: any Error) -> any Error {
        guard var failure = error as? FieldFailure else { return error }
        failure.steps.append(step)
        return failure
    }

    var ociError: OCIError {
        var path = ""
        for step in steps.reversed() {
            switch step {
            case .key(let name): path = FieldPath.appending(name, to: path)
            case .index(let index): path += "[\(index)]"
            }
        }
        return OCIError(field: path, message: message)
    }
}

/// Entry points: one document in, one value or one `OCIError` out.
enum FastDecoding {
    /// The top-level object of `bytes`, read by `convert`; `document` names the whole
    /// document in errors ("config.json is not valid JSON: ...").
    static func document<T>(_ bytes: [UInt8], _ document: String, _ convert: (FastObject) throws -> T) throws -> T {
        guard bytes.count <= Spec.maximumDocumentSize else {
            throw OCIError(field: "", message: "\(document) is larger than 16 MiB")
        }
        let tree: JSONTree
        do {
            tree = try JSONTreeParser.parse(bytes, mode: .decoding)
        } catch {
            throw OCIError(field: "", message: "\(document) is not valid JSON: \(error.message)")
        }
        guard case .object(let members) = tree else {
            throw OCIError(field: "", message: "\(document) must be a JSON object, found \(tree.kindDescription)")
        }
        if members.hasUnreadableKey {
            throw OCIError(field: "", message: "\(document) has a property name that \(Fast.unreadable)")
        }
        do {
            return try convert(FastObject(members: members))
        } catch let failure as FieldFailure {
            throw failure.ociError
        }
    }
}

/// A JSON object being mapped to a struct. Unknown keys are simply never looked at;
/// a `null` member counts as absent, as JSONDecoder's `decodeIfPresent` has it.
struct FastObject {
    let members: JSONObject

    /// A required member: absent is "is required", null "must not be null".
    func required<T>(_ key: String, _ convert: (JSONTree) throws -> T) throws -> T {
        guard let value = members[key] else { throw FieldFailure.within(.key(key), FieldFailure(message: "is required")) }
        if case .null = value { throw FieldFailure.within(.key(key), FieldFailure(message: "must not be null")) }
        do { return try convert(value) } catch { throw FieldFailure.within(.key(key), error) }
    }

    /// An optional member: absent or null is nil.
    func optional<T>(_ key: String, _ convert: (JSONTree) throws -> T) throws -> T? {
        guard let value = members[key] else { return nil }
        if case .null = value { return nil }
        do { return try convert(value) } catch { throw FieldFailure.within(.key(key), error) }
    }

    /// An optional member that must be an object, read by `convert`.
    func optionalObject<T>(_ key: String, _ convert: (FastObject) throws -> T) throws -> T? {
        try optional(key) { try convert(Fast.object($0)) }
    }
}

/// Conversions of one JSON value to one Swift type, with JSONDecoder's rules and the
/// messages that say what was expected and what was found.
enum Fast {
    static func mismatch(_ expected: String, _ tree: JSONTree) -> FieldFailure {
        FieldFailure(message: "expected \(expected), found \(tree.kindDescription)")
    }

    /// Why JSONDecoder refuses a string, or an object for one of its keys.
    static let unreadable = "is not valid Unicode (a lone surrogate or invalid UTF-8)"

    /// The members of an object; JSONDecoder reads every key of an object it decodes.
    static func members(_ tree: JSONTree) throws -> JSONObject {
        guard case .object(let members) = tree else { throw mismatch("an object", tree) }
        if members.hasUnreadableKey { throw FieldFailure(message: "has a property name that \(unreadable)") }
        return members
    }

    static func object(_ tree: JSONTree) throws -> FastObject {
        FastObject(members: try members(tree))
    }

    static func string(_ tree: JSONTree) throws -> String {
        if case .unreadableString = tree { throw FieldFailure(message: unreadable) }
        guard case .string(let text) = tree else { throw mismatch("a string", tree) }
        return text
    }

    static func bool(_ tree: JSONTree) throws -> Bool {
        guard case .bool(let flag) = tree else { throw mismatch("true or false", tree) }
        return flag
    }

    /// A value of a closed vocabulary (namespace types, seccomp actions, ...).
    static func term<V: SpecVocabulary>(_ tree: JSONTree) throws -> V {
        let raw = try string(tree)
        guard let value = V(rawValue: raw) else { throw FieldFailure(message: V.unknownValueMessage(raw)) }
        return value
    }

    /// Elements of an array; a null element is refused (JSONDecoder refuses it too).
    static func array<T>(_ tree: JSONTree, _ convert: (JSONTree) throws -> T) throws -> [T] {
        guard case .array(let elements) = tree else { throw mismatch("an array", tree) }
        var result: [T] = []
        result.reserveCapacity(elements.count)
        for position in 0..<elements.count {
            let element = elements[position]
            if case .null = element { throw FieldFailure.within(.index(position), FieldFailure(message: "must not be null")) }
            do { result.append(try convert(element)) } catch { throw FieldFailure.within(.index(position), error) }
        }
        return result
    }

    /// Elements of an array that must be objects, each read by `convert`.
    static func objects<T>(_ tree: JSONTree, _ convert: (FastObject) throws -> T) throws -> [T] {
        try array(tree) { try convert(object($0)) }
    }

    /// Values of a string-keyed map, in document order; a null value is refused.
    static func map<T>(_ tree: JSONTree, _ convert: (JSONTree) throws -> T) throws -> [String: T] {
        let members = try members(tree)
        var result: [String: T] = [:]
        result.reserveCapacity(members.count)
        for position in 0..<members.count {
            let key = members.keys[position]
            let value = members.values[position]
            if case .null = value { throw FieldFailure.within(.key(key), FieldFailure(message: "must not be null")) }
            do { result[key] = try convert(value) } catch { throw FieldFailure.within(.key(key), error) }
        }
        return result
    }

    /// Values of a map that must be objects, each read by `convert`.
    static func objectMap<T>(_ tree: JSONTree, _ convert: (FastObject) throws -> T) throws -> [String: T] {
        try map(tree) { try convert(object($0)) }
    }

    static func strings(_ tree: JSONTree) throws -> [String] {
        try array(tree, string)
    }

    static func stringMap(_ tree: JSONTree) throws -> [String: String] {
        try map(tree, string)
    }

    /// An integer of type `I`, as JSONDecoder reads one: plain digits exactly ("-0" is
    /// 0); a fraction or exponent through Double, when that makes a whole number of the
    /// type ("1.0", "1e3"). `I` is the type of the field it is read into.
    static func integer<I: FixedWidthInteger>(_ tree: JSONTree) throws -> I {
        guard case .number(let text) = tree else { throw mismatch("an integer between \(I.min) and \(I.max)", tree) }
        if let value = I(text) { return value }
        if text == "-0" { return 0 }
        if text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
           let real = Double(text), real.rounded() == real, let value = I(exactly: real) {
            return value
        }
        throw FieldFailure(message: "expected an integer between \(I.min) and \(I.max), found \(text)")
    }
}

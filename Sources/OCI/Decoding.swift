// Tracks the OCI runtime-spec v1.2.0.
//
// Reading and writing the spec's JSON documents. Errors are one line that names the
// field; unknown properties are ignored, as config.md requires ("Runtimes MUST ignore
// unknown properties"), which is what synthesized Codable does.

import FoundationEssentials

extension Spec {
    /// The largest config.json accepted. Real configs are a few KiB; the cap keeps a
    /// hostile bundle from making the runtime allocate without bound.
    public static let maximumDocumentSize = 16 * 1024 * 1024

    /// Reads a config.json.
    ///
    /// - Throws: `OCIError` naming the field, e.g. `process.args[0]: expected a string,
    ///   found a number`, or the whole document (too large, not JSON).
    public static func decode(from data: Data) throws -> Spec {
        guard data.count <= maximumDocumentSize else {
            throw OCIError(field: "", message: "config.json is larger than 16 MiB")
        }
        // The hand-written fast path avoids JSONDecoder's cold-start cost (see
        // FastDecoding.swift); it gives up on anything unusual, and JSONDecoder then
        // decides, with its usual error messages.
        if let spec = FastDecoding.spec(from: Array(data)) {
            return spec
        }
        return try DocumentDecoding.decode(Spec.self, from: data, document: "config.json")
    }

    /// Reads a config.json from raw bytes.
    public static func decode(from bytes: [UInt8]) throws -> Spec {
        try decode(from: Data(bytes))
    }
}

/// Shared decoding for config, state and features documents.
enum DocumentDecoding {
    /// Decodes `type` from `data`, turning every failure into one `OCIError`.
    ///
    /// JSONDecoder does the work; when it refuses a document, the document is decoded
    /// again by `DiagnosticDecoder`, which knows the line and column of a syntax error
    /// and the field of a bad value (JSONDecoder reports both as "not valid JSON").
    static func decode<T: Decodable>(_ type: T.Type, from data: Data, document: String) throws -> T {
        guard data.count <= Spec.maximumDocumentSize else {
            throw OCIError(field: "", message: "\(document) is larger than 16 MiB")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as OCIError {
            throw error
        } catch let error as DecodingError {
            throw diagnose(T.self, data: data, document: document) ?? translate(error, document: document)
        } catch {
            throw OCIError(field: "", message: "\(document) cannot be read: \(error)")
        }
    }

    /// The precise error for a document JSONDecoder refused, or nil if the diagnostic
    /// pass unexpectedly accepts it.
    private static func diagnose<T: Decodable>(_ type: T.Type, data: Data, document: String) -> OCIError? {
        let tree: JSONTree
        do {
            tree = try JSONTreeParser.parse(Array(data))
        } catch {
            return OCIError(field: "", message: "\(document) is not valid JSON: \(error.message)")
        }
        guard case .object = tree else {
            return OCIError(field: "", message: "\(document) must be a JSON object, found \(tree.kindDescription)")
        }
        do {
            _ = try DiagnosticDecoder.value(T.self, from: tree, at: [])
            return nil
        } catch let error as OCIError {
            return error
        } catch {
            return OCIError(field: "", message: "\(document) cannot be read: \(error)")
        }
    }

    /// A fallback rendering of JSONDecoder's own error.
    static func translate(_ error: DecodingError, document: String) -> OCIError {
        switch error {
        case .typeMismatch(let type, let context):
            return OCIError(field: FieldPath.render(context.codingPath), message: "expected \(describe(type))")
        case .valueNotFound(_, let context):
            return OCIError(field: FieldPath.render(context.codingPath), message: "must not be null")
        case .keyNotFound(let key, let context):
            return OCIError(field: FieldPath.render(context.codingPath + [key]), message: "is required")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return OCIError(field: "", message: "\(document) is not valid JSON: \(context.debugDescription)")
            }
            return OCIError(field: FieldPath.render(context.codingPath), message: context.debugDescription)
        @unknown default:
            return OCIError(field: "", message: "\(document) cannot be read: \(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is any FixedWidthInteger.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is [Any].Type: return "an array"
        default: return "an object"
        }
    }
}

/// Encoding of the state and features documents; a config and its parts have their
/// own encoder (FastEncoding.swift).
enum DocumentEncoding {
    /// Sorted keys make the output stable across runs; slashes stay unescaped so paths
    /// read as paths ("/proc", not "\/proc"), as runc writes them.
    static func encode<T: Encodable>(_ value: T, pretty: Bool) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty
            ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            : [.sortedKeys, .withoutEscapingSlashes]
        // The spec types hold only strings, integers, booleans, arrays and string-keyed
        // maps, which JSONEncoder always encodes; there is no failure to report.
        return (try? encoder.encode(value)) ?? Data()
    }
}

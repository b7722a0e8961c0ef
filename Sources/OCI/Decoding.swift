// Tracks the OCI runtime-spec v1.2.0.
//
// Reading the spec's JSON documents. Errors are one line that names the field;
// unknown properties are ignored, as config.md requires ("Runtimes MUST ignore unknown
// properties"). The decoder is FastDecoding.swift's.

import FoundationEssentials

extension Spec {
    /// The largest document accepted. Real configs are a few KiB; the cap keeps a
    /// hostile bundle from making the runtime allocate without bound.
    public static let maximumDocumentSize = 16 * 1024 * 1024

    /// Reads a config.json.
    ///
    /// - Throws: `OCIError` naming the field, e.g. `process.args[0]: expected a string,
    ///   found a number`, or the whole document (too large, not JSON).
    public static func decode(from bytes: [UInt8]) throws -> Spec {
        try FastDecoding.document(bytes, "config.json", FastDecoding.spec)
    }

    /// Reads a config.json.
    public static func decode(from data: Data) throws -> Spec {
        try decode(from: Array(data))
    }
}

extension Process {
    /// Reads a process document (`exec --process`). `defaultUser` stands in for an
    /// absent `user`: runc reads the file into Go's specs.Process, where an absent user
    /// is the zero value, and shims write process.json without it.
    public static func decode(from bytes: [UInt8], defaultUser: User? = nil) throws -> Process {
        try FastDecoding.document(bytes, "process") { object in
            try FastDecoding.process(object, defaultUser: defaultUser)
        }
    }
}

extension LinuxResources {
    /// Reads a `linux.resources` document (`update --resources`).
    public static func decode(from bytes: [UInt8]) throws -> LinuxResources {
        try FastDecoding.document(bytes, "resources", FastDecoding.resources)
    }
}

extension State {
    /// Reads a state document, with the same one-line, field-naming errors as config.json.
    public static func decode(from data: Data) throws -> State {
        try FastDecoding.document(Array(data), "state") { object in
            State(
                ociVersion: try object.required("ociVersion", Fast.string),
                id: try object.required("id", Fast.string),
                status: try object.required("status", Fast.term),
                pid: try object.optional("pid", Fast.int32),
                bundle: try object.required("bundle", Fast.string),
                annotations: try object.optional("annotations", Fast.stringMap)
            )
        }
    }
}

/// Reading the features document, which the runtime writes and never reads on a
/// command's path, so Codable serves; the spec's types have their own decoder.
enum DocumentDecoding {
    /// Decodes `type` from `data`, turning every failure into one `OCIError`.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data, document: String) throws -> T {
        guard data.count <= Spec.maximumDocumentSize else {
            throw OCIError(field: "", message: "\(document) is larger than 16 MiB")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as OCIError {
            throw error
        } catch let error as DecodingError {
            throw translate(error, document: document)
        } catch {
            throw OCIError(field: "", message: "\(document) cannot be read: \(error)")
        }
    }

    /// JSONDecoder's error as one line that names the field.
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
        // The documents hold only strings, integers, booleans, arrays and string-keyed
        // maps, which JSONEncoder always encodes; there is no failure to report.
        return (try? encoder.encode(value)) ?? Data()
    }
}

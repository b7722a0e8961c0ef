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
                pid: try object.optional("pid", Fast.integer),
                bundle: try object.required("bundle", Fast.string),
                annotations: try object.optional("annotations", Fast.stringMap)
            )
        }
    }
}

import Foundation

/// A create request's `policy` given as a document (a JSON object with the fields of a
/// policy file, docs/policy.md) rather than a name. The service writes it to a file in
/// the sandbox's own directory (0600, root's) and hands that path to `agent spec`, so
/// the document is read, checked and laid over its base exactly as `agent run --policy
/// FILE` would: one reader, one set of rules.
struct InlinePolicy {
    /// The document, re-serialized by the service (never the client's bytes verbatim).
    let document: Data

    /// What the record, the events and the metrics show for an inline policy: a policy
    /// file has no name field, and a client-chosen label would pass for a profile's name.
    static let recordName = "inline"
    static let fileName = "policy.json"

    static let refused = APIError(status: .forbidden, code: "forbidden",
                                  message: "policy: inline policies are refused by this service (--no-inline-policy); name a profile or a policy in the policy directory")

    /// The request's `policy` field: nil when it is absent or a string (a name, which
    /// Routes checks), the document when it is an object; anything else is a 400.
    static func from(_ body: JSONObject, allowed: Bool) throws -> InlinePolicy? {
        guard let value = body.values["policy"], !(value is NSNull), !(value is String) else { return nil }
        guard let object = value as? [String: Any], !JSONObject.isBool(value) else {
            throw APIError.badRequest(field: "policy", "must be a policy name (a string) or a policy document (an object)")
        }
        guard allowed else { throw refused }
        try checkHostFields(object)
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            throw APIError.badRequest(field: "policy", "not a JSON document")
        }
        return InlinePolicy(document: data)
    }

    /// The fields a client may set, by section (nil: every field of it). The rest reach
    /// the host as the service's root: a host directory mounted (filesystem.input,
    /// output), a host file or variable read (secrets), a host program run
    /// (network.decider), a log written anywhere (audit), ids, capabilities and syscalls
    /// the sandbox keeps; and the backend, which the service pins (--backend) and its
    /// record and routes follow. Those stay with the operator: a policy in the policy directory,
    /// which an inline document may name in `extends`. Unknown keys pass through to the
    /// policy reader, which names them.
    static let clientFields: [String: Set<String>?] = [
        "description": nil, "extends": nil, "limits": nil, "env": nil, "workdir": nil,
        "filesystem": ["scratch", "readonlyRoot", "outputSize"],
        "network": ["allow", "mode", "maxConnections", "maxBytes", "idleTimeout"],
    ]
    static let hostFields: Set<String> = ["backend", "user", "secrets", "audit", "auditKey", "auditMode", "capabilities", "syscalls",
                                          "filesystem.input", "filesystem.output", "network.decider", "network.deciderTimeout",
                                          "network.upstreamCA"]

    static func checkHostFields(_ object: [String: Any]) throws {
        for key in object.keys.sorted() {
            if hostFields.contains(key) { throw hostField(key) }
            guard let section = object[key] as? [String: Any], let allowed = clientFields[key] ?? nil else { continue }
            for sub in section.keys.sorted() where !allowed.contains(sub) && hostFields.contains(key + "." + sub) {
                throw hostField(key + "." + sub)
            }
        }
    }

    static func hostField(_ field: String) -> APIError {
        APIError(status: .badRequest, code: "invalid_argument",
                 message: "policy.\(field): not allowed in an inline policy (a field the operator sets: it reaches the host or the service's backend); put it in a policy in the policy directory and name that policy, or extend it")
    }

    /// Writes the document into `directory` (0600, created exclusively) and returns its path.
    func save(in directory: String) throws -> String {
        let path = directory + "/" + Self.fileName
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw APIError.internalError("policy: cannot write \(Self.fileName): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = document.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == document.count else { throw APIError.internalError("policy: short write of \(Self.fileName)") }
        return path
    }

    /// `agent spec`'s error about the file, as the client's field: "policy PATH:
    /// limits.memory: not a size ..." becomes "policy.limits.memory: not a size ...".
    /// The reader never quotes the document, and the path (the service's state
    /// directory) is dropped.
    static func error(_ line: String, path: String) -> APIError {
        var text = line.hasPrefix("agent spec: ") ? String(line.dropFirst("agent spec: ".count)) : line
        let prefix = "policy \(path): "
        if text.hasPrefix(prefix) { text = String(text.dropFirst(prefix.count)) }
        text = text.replacingOccurrences(of: path, with: "the inline policy")
        // A field path ("limits.memory") before the first ": " names a field of the document.
        if let colon = text.range(of: ": "), !text[..<colon.lowerBound].isEmpty,
           text[..<colon.lowerBound].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "[" || $0 == "]" }) {
            return APIError(status: .badRequest, code: "invalid_argument", message: "policy." + text)
        }
        return APIError.badRequest(field: "policy", text)
    }
}

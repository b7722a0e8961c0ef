// Tracks the OCI runtime-spec v1.2.0.

/// A config.json, state or features document that cannot be read or is not acceptable.
///
/// Every error names one field, as a dotted path with indexes (`linux.namespaces[1].type`,
/// `linux.sysctl["net.ipv4.ip_forward"]`), so that the one line the CLI prints tells the
/// user exactly what to fix. `field` is empty when the whole document is at fault.
public struct OCIError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The path of the offending field, or "" for the whole document.
    public let field: String
    /// What is wrong with it, written to be read after the field name.
    public let message: String

    /// `field: message`, or the bare message when the error is about the whole document.
    public var description: String {
        field.isEmpty ? message : "\(field): \(message)"
    }
}

/// Builds the field paths that `OCIError` reports.
///
/// Identifier-like keys are joined with dots; indexes become `[n]`; map keys that are not
/// identifiers (sysctl names, annotation keys, clock names) are quoted in brackets, so the
/// path stays unambiguous even when the key itself holds dots.
enum FieldPath {
    /// Renders a Codable coding path as a field path.
    static func render(_ codingPath: [any CodingKey]) -> String {
        var path = ""
        for key in codingPath {
            if let index = key.intValue {
                path += "[\(index)]"
            } else {
                path = appending(key.stringValue, to: path)
            }
        }
        return path
    }

    /// `base.name`, or `base["na.me"]` when `name` is not a plain identifier.
    static func appending(_ name: String, to base: String) -> String {
        if isIdentifier(name) {
            return base.isEmpty ? name : "\(base).\(name)"
        }
        return "\(base)[\(quoted(name))]"
    }

    /// `base["key"]`: how validation names an entry of a map (sysctl, timeOffsets), so
    /// that every map key reads the same whatever its spelling.
    static func appending(mapKey key: String, to base: String) -> String {
        "\(base)[\(quoted(key))]"
    }

    /// The string in double quotes, with quotes, backslashes and control characters escaped,
    /// so that a hostile value cannot forge a second line in the error output.
    static func quoted(_ text: String) -> String {
        FlatJSONWriter.quoted(text) { scalar in
            scalar.value < 0x20 || scalar.value == 0x7F ? "\\u{\(String(scalar.value, radix: 16))}" : nil
        }
    }

    private static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) else {
            return false
        }
        return name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "_")
        }
    }
}

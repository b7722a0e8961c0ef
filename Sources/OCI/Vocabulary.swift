// Tracks the OCI runtime-spec v1.2.0.

/// A closed set of strings the spec defines (namespace types, seccomp actions, ...),
/// modelled as an enum whose raw values are the spec's strings.
///
/// Decoding an unknown value fails with an `OCIError` that names the field and lists
/// the accepted values, instead of Codable's generic "cannot initialize" message.
public protocol SpecVocabulary: RawRepresentable, CaseIterable, Codable, Sendable, Hashable
where RawValue == String {
    /// What one value is called in error messages, e.g. "namespace type".
    static var vocabularyName: String { get }
}

extension SpecVocabulary {
    /// Decodes a spec string, refusing values outside the vocabulary with a message that
    /// names the allowed ones.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = Self(rawValue: raw) else {
            throw OCIError(field: FieldPath.render(decoder.codingPath), message: Self.unknownValueMessage(raw))
        }
        self = value
    }

    /// "unknown namespace type "foo" (expected one of pid, network, ...)".
    static func unknownValueMessage(_ raw: String) -> String {
        let allowed = allCases.map(\.rawValue).joined(separator: ", ")
        return "unknown \(vocabularyName) \(FieldPath.quoted(raw)) (expected one of \(allowed))"
    }
}

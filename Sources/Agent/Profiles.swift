import Linux

/// Named profiles and policy files: `--policy NAME|FILE` and the io.safehouse.policy
/// annotation both go through `resolve`.
public enum Profiles {
    /// The shipped profile names, sorted.
    public static var names: [String] { texts.keys.sorted() }

    /// The text of a shipped profile, as in bundles/policies/NAME.yaml.
    public static func text(of name: String) -> String? { texts[name].map { $0 + "\n" } }

    /// A profile name ("default") or a path to a YAML or JSON file. A word without a
    /// slash or a file extension is a profile name; anything else is a file.
    public static func resolve(_ nameOrPath: String) throws -> Policy {
        if let text = text(of: nameOrPath) { return try PolicyReader.parse(text, source: nameOrPath) }
        let looksLikeFile = nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml") || nameOrPath.hasSuffix(".json")
        guard looksLikeFile else {
            throw PolicyError("policy \"\(nameOrPath)\": no such profile (profiles: \(names.joined(separator: ", ")); or give a file path)")
        }
        let text: String
        do {
            let bytes = try Files.read(nameOrPath, limit: 1 << 20)
            text = String(decoding: bytes, as: UTF8.self)
        } catch {
            throw PolicyError("policy \(nameOrPath): \(error)")
        }
        return try PolicyReader.parse(text, source: nameOrPath)
    }
}

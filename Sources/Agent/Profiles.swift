import Linux

/// Named profiles and policy files: `--policy NAME|FILE` and the io.safehouse.policy
/// annotation both go through `resolve`.
public enum Profiles {
    /// The text of a shipped profile, as in bundles/policies/NAME.yaml.
    public static func text(of name: String) -> String? { literal(name).map { $0 + "\n" } }

    /// A profile name ("default"), a name in the default policy directory, or a path
    /// to a YAML or JSON file, as the command line gives it (PolicyLibrary). A word
    /// without a slash or a file extension is a name; anything else is a file.
    public static func resolve(_ nameOrPath: String) throws -> Policy {
        try PolicyLibrary(directories: [PolicyLibrary.defaultDirectory]).resolve(nameOrPath, from: .commandLine)
    }
}

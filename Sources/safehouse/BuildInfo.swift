import Runtime

enum BuildInfo {
    static let version = "0.1.0"
    static let commit = "unreleased"
    /// runc's three-line shape: name and version, commit, spec version.
    static var versionText: String {
        "safehouse version \(version)\ncommit: \(commit)\nspec: \(specVersion)"
    }
}

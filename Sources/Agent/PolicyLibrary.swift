import Linux
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Where policies come from, and what a policy is laid over.
///
/// - The shipped profiles (bundles/policies, compiled in), by name.
/// - The policy directories: `policies = DIR` in the root's safehouse.conf (else
///   /etc/safehouse/safehouse.conf), else /etc/safehouse/policies. A name `team`
///   finds DIR/team.yaml, team.yml or team.json.
/// - A file path, only on the command line (`agent run|spec --policy PATH`): the
///   caller names a file of their own. A path in the io.safehouse.policy annotation,
///   which whoever writes a container's config.json controls and root then reads,
///   must name a file directly in a policy directory, opened without following links.
///
/// Every policy but the default profile is laid over another: the one `extends:`
/// names (a profile or a policy directory name), else `default`.
public struct PolicyLibrary: Sendable {
    public var directories: [String]

    public static let defaultDirectory = BackendConfig.systemDirectory + "/policies"
    /// Deep enough for any real layering; a loop fails long before it.
    static let maximumDepth = 8

    public init(directories: [String]) { self.directories = directories }

    /// The policy directory configured for the state root `root`.
    public static func configured(root: String) throws -> PolicyLibrary {
        let config = try BackendConfig.load(root: root)
        return PolicyLibrary(directories: [config?.policyDirectory ?? defaultDirectory])
    }

    /// Who named the policy: the caller on the command line may name any file of
    /// theirs; an annotation only a profile or a policy directory's file.
    public enum Origin: Sendable { case commandLine, annotation }

    /// The policy `reference` names: a profile, a policy directory name, or a path.
    public func resolve(_ reference: String, from origin: Origin) throws -> Policy {
        if Profiles.text(of: reference) != nil || Self.isName(reference) && (origin == .annotation || !Self.looksLikeFile(reference)) {
            return try named(reference, chain: [])
        }
        switch origin {
        case .commandLine:
            guard Self.looksLikeFile(reference) else { throw noSuchPolicy(reference) }
            let text = try PolicyFile.read(reference, followLinks: true, shownAs: reference)
            return try parse(text, source: reference, chain: [reference])
        case .annotation:
            let slash = reference.lastIndex(of: "/")
            let directory = slash.map { String(reference[..<$0]) } ?? ""
            let file = slash.map { String(reference[reference.index(after: $0)...]) } ?? reference
            guard reference.hasPrefix("/"), directories.contains(directory), Self.isName(file) else {
                throw PolicyError("policy \"\(reference)\": an annotation may name only a profile (\(Profiles.names.joined(separator: ", "))) or a policy in \(directoriesText)")
            }
            guard let (text, shown) = try find(file, in: directory) else { throw noSuchPolicy(reference) }
            return try parse(text, source: shown, chain: [shown])
        }
    }

    /// A profile or a policy directory's policy, by name; `chain` holds the names
    /// being resolved above it, to refuse a loop of `extends:`.
    func named(_ name: String, chain: [String]) throws -> Policy {
        guard !chain.contains(name) else {
            throw PolicyError("policy \(chain.last ?? name): extends: \"\(name)\" extends itself (\((chain + [name]).joined(separator: " -> ")))")
        }
        guard chain.count < Self.maximumDepth else {
            throw PolicyError("policy \(chain.last ?? name): extends: more than \(Self.maximumDepth) policies deep")
        }
        if let text = Profiles.text(of: name) { return try parse(text, source: name, chain: chain + [name]) }
        for directory in directories {
            if let (text, shown) = try find(name, in: directory) { return try parse(text, source: shown, chain: chain + [name]) }
        }
        throw noSuchPolicy(name)
    }

    /// Parses a document over its base: `extends:`, else the default profile (the
    /// default profile itself over the built-in values of `Policy`).
    func parse(_ text: String, source: String, chain: [String]) throws -> Policy {
        // Only the shipped profile is shown as plain "default" (a directory policy
        // shows as its path): it alone stands on the built-in values.
        let isDefaultProfile = chain.last == "default" && source == "default"
        var baseName: String?
        var policy = try PolicyReader.parse(text, source: source) { extends in
            if let extends {
                guard Self.isName(extends) else {
                    throw PolicyError("policy \(source): extends: must name a profile (\(Profiles.names.joined(separator: ", "))) or a policy in \(directoriesText)")
                }
                baseName = extends
                do { return try named(extends, chain: chain) } catch let e as PolicyError where e == noSuchPolicy(extends) {
                    // The name is the document's text: not repeated.
                    throw PolicyError("policy \(source): extends: no such profile (profiles: \(Profiles.names.joined(separator: ", ")); or a policy in \(directoriesText))")
                }
            }
            if isDefaultProfile { return Policy(source: source) }
            baseName = "default"
            return try named("default", chain: chain)
        }
        policy.extends = baseName
        return policy
    }

    /// The text of policy `name` in `directory` (name, or name.yaml, .yml, .json),
    /// and how to show it; nil when there is none.
    func find(_ name: String, in directory: String) throws -> (String, String)? {
        let dir: FileDescriptor
        do { dir = try FileDescriptor.open(directory, O_RDONLY | O_DIRECTORY) } catch let e as SystemError where e.errno == ENOENT || e.errno == ENOTDIR {
            return nil
        } catch let e as SystemError {
            throw PolicyError("policy directory \(directory): \(SystemError.message(for: e.errno))")
        }
        let candidates = Self.looksLikeFile(name) ? [name] : [name + ".yaml", name + ".yml", name + ".json"]
        for file in candidates {
            let shown = directory + "/" + file
            // ENOENT: try the next spelling; a link or a FIFO is an error, not a miss.
            var st = stat()
            guard fstatat(dir.rawValue, file, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            return (try PolicyFile.read(file, in: dir, followLinks: false, shownAs: shown), shown)
        }
        return nil
    }

    var directoriesText: String {
        directories.isEmpty ? "no policy directory" : directories.joined(separator: ", ") + " (the policy directory)"
    }

    func noSuchPolicy(_ name: String) -> PolicyError {
        PolicyError("policy \"\(name)\": no such profile (profiles: \(Profiles.names.joined(separator: ", ")); or a policy in \(directoriesText); or give a file path)")
    }

    /// A policy name: letters, digits, '.', '_', '-', not starting with '.'.
    static func isName(_ text: String) -> Bool {
        guard let first = text.utf8.first, first != UInt8(ascii: "."), text.utf8.count <= 255 else { return false }
        return text.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
        }
    }

    static func looksLikeFile(_ text: String) -> Bool {
        text.contains("/") || text.hasSuffix(".yaml") || text.hasSuffix(".yml") || text.hasSuffix(".json")
    }
}

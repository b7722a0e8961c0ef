// Tracks the OCI runtime-spec v1.2.0.

/// A runtime-spec version number: SemVer 2.0 (`MAJOR.MINOR.PATCH[-pre][+build]`).
public struct SpecVersion: Sendable, Equatable, CustomStringConvertible {
    /// Incompatible changes.
    public var major: Int
    /// Compatible additions.
    public var minor: Int
    /// Fixes.
    public var patch: Int
    /// The pre-release part ("rc5", "dev"), if any.
    public var prerelease: String?

    /// The oldest version this package accepts.
    public static let oldestSupported = SpecVersion(major: 1, minor: 0, patch: 0)
    /// The newest version this package models; any 1.2.x patch release is accepted.
    public static let newestSupported = SpecVersion(major: 1, minor: 2, patch: 0)
}

extension SpecVersion {
    /// Parses "1.2.0", "1.0.0-rc5", "1.0.2-dev", "1.2.1+dev"; nil when `text` is not SemVer.
    public init?(_ text: String) {
        var core = Substring(text)
        if let plus = core.firstIndex(of: "+") {
            guard Self.isDottedIdentifiers(core[core.index(after: plus)...]) else { return nil }
            core = core[..<plus]
        }
        var prerelease: String?
        if let dash = core.firstIndex(of: "-") {
            let tail = core[core.index(after: dash)...]
            guard Self.isDottedIdentifiers(tail) else { return nil }
            prerelease = String(tail)
            core = core[..<dash]
        }
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  let number = Int(part) else { return nil }
            numbers.append(number)
        }
        self.init(major: numbers[0], minor: numbers[1], patch: numbers[2], prerelease: prerelease)
    }

    /// "1.2.0" or "1.0.0-rc5".
    public var description: String {
        "\(major).\(minor).\(patch)" + (prerelease.map { "-\($0)" } ?? "")
    }

    /// True for 1.0.0 (and its pre-releases, which older engines still write) through
    /// any 1.2.x: a later minor version may carry fields this runtime would silently
    /// ignore, and a new major version may change meanings.
    public var isSupported: Bool {
        major == Self.newestSupported.major && minor <= Self.newestSupported.minor
    }

    private static func isDottedIdentifiers(_ text: Substring) -> Bool {
        let identifiers = text.split(separator: ".", omittingEmptySubsequences: false)
        return !identifiers.isEmpty && identifiers.allSatisfy { identifier in
            !identifier.isEmpty && identifier.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || byte == UInt8(ascii: "-")
            }
        }
    }
}

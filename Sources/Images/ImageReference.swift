/// What `--image` names: an image to fetch through one of skopeo's transports, or an
/// image already in the store by its name (a committed one).
public enum ImageReference: Equatable, Sendable {
    /// A transport reference, normalised (archive and layout paths made absolute):
    /// the store's name for it and what skopeo is given.
    case remote(String)
    /// A name in the store (`agent commit ID NAME` made it).
    case local(String)

    /// The transports `--image` takes, as skopeo spells them.
    public static let transports = ["oci:", "oci-archive:", "docker-archive:", "containers-storage:", "docker://"]

    /// Parses REF; `cwd` makes relative paths of oci:, oci-archive: and
    /// docker-archive: absolute.
    public static func parse(_ ref: String, cwd: String) throws -> ImageReference {
        guard !ref.isEmpty else { throw ImageError("--image: the reference is empty") }
        guard !ref.contains("\0"), !ref.contains("\n") else { throw ImageError("--image: \(ref.debugDescription) has a control character") }
        for transport in transports where ref.hasPrefix(transport) {
            var rest = String(ref.dropFirst(transport.count))
            guard !rest.isEmpty else { throw ImageError("--image: \"\(ref)\" names nothing after \(transport)") }
            switch transport {
            case "oci:", "oci-archive:", "docker-archive:":
                if !rest.hasPrefix("/") { rest = cwd + "/" + rest }
            case "docker://":
                // HOST/NAME:TAG or HOST/NAME@sha256:DIGEST; skopeo checks the rest.
                guard rest.contains("/") else { throw ImageError("--image: \"\(ref)\" is not docker://HOST/NAME:TAG") }
            default: break
            }
            return .remote(transport + rest)
        }
        try checkName(ref, field: "--image")
        return .local(ref)
    }

    /// A name `agent commit` may give an image: letters, digits and `._-/:`, not
    /// starting with a transport (it would read as one).
    public static func checkName(_ name: String, field: String) throws {
        let allowed = name.utf8.allSatisfy { b in
            (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57) || b == 46 || b == 95 || b == 45 || b == 47 || b == 58
        }
        guard !name.isEmpty, name.utf8.count <= 255, allowed, name.first != "-", name.first != "." else {
            throw ImageError("\(field): \"\(name)\" is not an image name (letters, digits and ._-/: only) or a reference (\(transports.joined(separator: ", ")))")
        }
        // "docker:" too: skopeo would read docker:NAME as its docker transport.
        for transport in transports + ["docker:"] where name.hasPrefix(transport) {
            throw ImageError("\(field): \"\(name)\" starts with the transport \(transport)")
        }
    }

    /// The store's name of the image.
    public var name: String {
        switch self {
        case .remote(let r): return r
        case .local(let n): return n
        }
    }
}
